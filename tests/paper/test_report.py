"""python -m lstm_viz analyse: the n-gram beside the model, figures, report.json and report.md."""

import json

import pytest
import torch

from lstm_viz import CharLSTM, Config, Vocab, cli
from lstm_viz.io import checkpoint
from lstm_viz.paper import ngram
from tests.conftest import make_corpus


@pytest.fixture(scope="module")
def analysed(tmp_path_factory):
    root = tmp_path_factory.mktemp("analyse")
    text = make_corpus(1200).replace("(quickly)", "{quickly}")
    (root / "corpus.txt").write_text(text)
    torch.manual_seed(0)
    vocab = Vocab.from_text(text)
    checkpoint.save(CharLSTM(Config(len(vocab), layers=2, hidden=16, embed=8), vocab).eval(), root / "model", {})
    code = cli.main(
        [
            "analyse",
            "--model",
            str(root / "model"),
            "--corpus",
            str(root / "corpus.txt"),
            "--out",
            str(root / "out"),
            "--train-ngram",
            "--max-chars",
            "3000",
        ]
    )
    assert code == 0
    return root


@pytest.mark.slow
def test_it_writes_every_figure_as_png_and_svg_and_both_reports(analysed):
    names = {p.name for p in (analysed / "out").iterdir()}
    figures = ("gate_saturation", "error_breakdown", "closing_distance", "character_advantage")
    assert names == {f"{f}.{ext}" for f in figures for ext in ("png", "svg")} | {"report.json", "report.md"}


def test_the_ngram_is_saved_beside_the_model_with_its_test_loss_on_the_card(analysed):
    card = checkpoint.read_card(analysed / "model")
    assert (analysed / "model" / "ngram.npz").is_file()
    assert card["ngram"]["order"] == 20 and card["ngram"]["test"]["nats"] > 0
    assert card["ngram"]["min_count"] == 1  # a small corpus needs no pruning to fit
    assert [t["min_count"] for t in card["ngram"]["pruning_trials"]] == [1, 2, 3, 4, 5, 6, 8, 10]


def test_an_ngram_from_a_sample_counts_only_the_first_characters_of_the_training_split(analysed, tmp_path):
    text = (analysed / "corpus.txt").read_text()
    checkpoint.save(checkpoint.load(analysed / "model"), tmp_path / "model", {})
    built = ngram.build_for_model(tmp_path / "model", analysed / "corpus.txt", train_chars=5000)
    alone = ngram.train(text[:5000], Vocab(list(checkpoint.read_card(tmp_path / "model")["alphabet"])))
    assert built["train_chars"] == 5000 and checkpoint.read_card(tmp_path / "model")["ngram"]["train_chars"] == 5000
    assert built["entries"] == alone.entries()


def test_the_json_report_holds_losses_and_every_analysis(analysed):
    report = json.loads((analysed / "out" / "report.json").read_text())
    assert report["chars"] == 3000 and report["corpus"]["split"] == "test"
    assert report["loss"]["lstm"] > report["loss"]["ngram"] > 0  # a random LSTM against a trained n-gram
    assert [r["oracle"] for r in report["error_breakdown"]][-1] == "unexplained"
    assert {r["kind"] for r in report["closing_bins"]} == {"brace", "quote"}
    assert len(report["saturation_summary"]) == 2 * 3


def test_the_markdown_report_links_its_figures(analysed):
    md = (analysed / "out" / "report.md").read_text()
    for figure in ("gate_saturation", "error_breakdown", "closing_distance", "character_advantage"):
        assert f"![]({figure}.svg)" in md


def test_a_model_without_an_ngram_is_told_how_to_make_one(tmp_path, capsys, analysed):
    torch.manual_seed(0)
    vocab = Vocab(list("ab"))
    checkpoint.save(CharLSTM(Config(len(vocab), layers=1, hidden=4, embed=2), vocab), tmp_path / "bare", {})
    code = cli.main(
        [
            "analyse",
            "--model",
            str(tmp_path / "bare"),
            "--corpus",
            str(analysed / "corpus.txt"),
            "--out",
            str(tmp_path / "out"),
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and "has no ngram.npz" in err and "--train-ngram" in err and err.count("\n") == 1
