"""python -m lstm_viz table: the paper's Table 1 from a folder of finished runs."""

from pathlib import Path

import pytest
import torch

import lstm_viz
from lstm_viz import cli
from lstm_viz.paper import runs

VOCAB = lstm_viz.Vocab(sorted(set("abcdefgh .,\n")))
# (kind, layers, hidden) -> test loss of a fake finished run
LOSSES = {
    ("lstm", 1, 8): 1.50,
    ("lstm", 2, 8): 1.40,
    ("lstm", 1, 16): 1.30,
    ("gru", 1, 8): 1.55,
    ("gru", 2, 16): 1.35,
    ("rnn", 1, 8): 1.90,
    ("rnn", 1, 16): 1.80,
}


@pytest.fixture(scope="module")
def grid(tmp_path_factory):
    """Run folders as training leaves them: finished ones (cards with a test loss), one still
    training (no test loss yet), one with a broken card, and a folder that is no run."""
    root = tmp_path_factory.mktemp("runs")
    for (kind, layers, hidden), test in LOSSES.items():
        torch.manual_seed(0)
        model = lstm_viz.CharLSTM(lstm_viz.Config(len(VOCAB), layers, hidden, 4, kind=kind), VOCAB)
        loss = {"val": {"nats": test - 0.05}, "test": {"nats": test}}
        card = {"loss": loss, "corpus": {"name": "warpeace_input.txt", "sha256": "0" * 64}}
        lstm_viz.save(model, root / f"wp_{kind}_{layers}x{hidden}", card)
    torch.manual_seed(0)
    lstm_viz.save(
        lstm_viz.CharLSTM(lstm_viz.Config(len(VOCAB), 3, 8, 4, kind="gru"), VOCAB),
        root / "wp_gru_3x8",
        {"loss": {"val": {"nats": 2.0}}},
    )
    lstm_viz.save(lstm_viz.CharLSTM(lstm_viz.Config(len(VOCAB), 1, 8, 4), VOCAB), root / "broken", {})
    (root / "broken" / "card.json").write_text("{not json")
    (root / "frozen").mkdir()  # no card: not a run
    (root / "grid.out").write_text("log")
    return root


def test_every_finished_run_is_one_row_with_its_kind_size_parameters_and_losses(grid):
    table = runs.read_runs(grid)
    assert len(table) == len(LOSSES)
    assert table[["kind", "layers", "hidden"]].values.tolist() == [
        ["lstm", 1, 8],
        ["lstm", 1, 16],
        ["lstm", 2, 8],
        ["rnn", 1, 8],
        ["rnn", 1, 16],
        ["gru", 1, 8],
        ["gru", 2, 16],
    ]
    for row in table.itertuples():
        assert row.test == LOSSES[row.kind, row.layers, row.hidden]
        assert row.val == pytest.approx(row.test - 0.05)
        model = lstm_viz.load(grid / row.run)
        assert row.parameters == sum(p.numel() for p in model.parameters())
    assert table.attrs["unfinished"] == ["wp_gru_3x8"] and table.attrs["unreadable"] == ["broken"]


def test_the_paper_layout_has_a_row_per_depth_and_a_column_per_kind_and_size(grid):
    layout = runs.paper_layout(runs.read_runs(grid))
    assert layout.index.tolist() == [1, 2]
    assert layout.columns.tolist() == [("lstm", 8), ("lstm", 16), ("rnn", 8), ("rnn", 16), ("gru", 8), ("gru", 16)]
    assert layout.loc[2, ("gru", 16)] == 1.35 and layout.loc[1, ("rnn", 16)] == 1.80
    assert layout[("gru", 8)].isna().tolist() == [False, True]  # no 2-layer GRU of 8 cells finished


def test_the_table_command_prints_the_markdown_and_writes_it(grid, tmp_path, capsys):
    out = tmp_path / "table1.md"
    assert cli.main(["table", "--runs", str(grid), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert out.read_text() == printed
    lines = printed.splitlines()
    assert "| layers | LSTM 8 | LSTM 16 | RNN 8 | RNN 16 | GRU 8 | GRU 16 |" in lines
    assert "| 1 | 1.500 | 1.300 | 1.900 | 1.800 | 1.550 | - |" in lines
    assert "| 2 | 1.400 | - | - | - | - | 1.350 |" in lines
    rows = [line for line in lines if line.endswith(" |") and line.startswith("| gru | 2 | 16 |")]
    assert len(rows) == 1 and "| 1.3500 | 1.3000 | wp_gru_2x16 |" in rows[0]
    assert "Unfinished: wp_gru_3x8." in lines and "Unreadable: broken." in lines
    assert not any(line.startswith("Beside the paper") for line in lines)  # only with --paper


def test_with_paper_the_best_finished_run_of_war_and_peace_stands_beside_the_papers_figures(grid, capsys):
    assert cli.main(["table", "--runs", str(grid), "--paper"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "| War and Peace | lstm 1 x 16 (wp_lstm_1x16) | 1.300 | 1.077 | 1.195 |" in lines
    assert lines.index("| War and Peace | lstm 1 x 16 (wp_lstm_1x16) | 1.300 | 1.077 | 1.195 |") < lines.index(
        "Unfinished: wp_gru_3x8."
    )
    table = runs.read_runs(grid)
    assert set(table["corpus"]) == {"warpeace_input.txt"}
    table.loc[table["run"] == "wp_lstm_1x16", "corpus"] = "linux_large_input.txt"  # another corpus: not compared
    best = runs.beside_paper(table)
    assert best[["run", "test", "paper_best", "paper_ngram"]].values.tolist() == [["wp_gru_2x16", 1.35, 1.077, 1.195]]
    elsewhere = table.assign(corpus="linux_large_input.txt")
    assert runs.beside_paper(elsewhere).empty
    assert "No finished run of a corpus the paper reports (warpeace_input.txt)." in runs.markdown(elsewhere, paper=True)


def test_a_folder_without_finished_runs_says_so_and_a_missing_one_is_refused(tmp_path, capsys):
    assert cli.main(["table", "--runs", str(tmp_path)]) == 0
    assert "No finished run" in capsys.readouterr().out
    assert cli.main(["table", "--runs", str(tmp_path / "nowhere")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no such folder of runs" in err[0]


def markdown_rows(lines: list[str], header: str) -> list[list[str]]:
    """The cells of each row of the markdown table whose header row starts with `header`."""
    start = next(i for i, line in enumerate(lines) if line.startswith(header))
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows


def test_the_shipped_table_lists_every_finished_grid_run_once_and_its_grid_agrees():
    """docs/analyses/table1.md, as `python -m lstm_viz table --paper` wrote it: at least 18 runs of
    the War and Peace grid, each (kind, layers, cells) once, with its test loss in the grid above."""
    lines = (Path(__file__).resolve().parents[2] / "docs" / "analyses" / "table1.md").read_text().splitlines()
    listed = markdown_rows(lines, "| kind | layers | hidden |")
    assert len(listed) >= 18
    keys = [(kind, int(layers), int(hidden)) for kind, layers, hidden, *_ in listed]
    assert len(set(keys)) == len(keys) and {k for k, _, _ in keys} == {"lstm", "gru", "rnn"}
    grid = markdown_rows(lines, "| layers |")
    header = next(line for line in lines if line.startswith("| layers |"))
    columns = [c.strip() for c in header.strip("|").split("|")][1:]  # "LSTM 64", "LSTM 128", ...
    for (kind, layers, hidden), row in zip(keys, listed):
        test = float(row[4])
        assert 1.0 < test < 2.5  # nats per character
        assert grid[layers - 1][1 + columns.index(f"{kind.upper()} {hidden}")] == f"{test:.3f}"
