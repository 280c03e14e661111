"""Snapshots during training (`train --snapshots N`): on a schedule fixed by the arguments, loadable,
their cards complete, and the same whether or not the run was interrupted."""

import json

import pytest
import torch

import lstm_viz
from lstm_viz import CharLSTM, Config, Vocab
from lstm_viz.io import checkpoint
from lstm_viz.train import loop as train_module
from lstm_viz.train.loop import Stop, TrainArgs, snapshot_schedule, train

SMALL = dict(layers=1, hidden=16, embed=8, dropout=0.1, batch=8, seq_len=32, lr=3e-3, min_count=2, val_chars=2000)
PER_STEP = 8 * 32


def test_the_schedule_starts_untrained_is_denser_early_and_depends_on_the_arguments_alone():
    points = snapshot_schedule(16, 50_000_000, 8192)
    assert points == snapshot_schedule(16, 50_000_000, 8192) and len(points) == 16
    assert points[0] == 0 and points[1] == 8192 and points[-1] == 50_000_000
    gaps = [b - a for a, b in zip(points, points[1:], strict=False)]
    assert gaps == sorted(gaps) and gaps[-1] > 100 * gaps[1]  # geometric: denser early
    assert snapshot_schedule(0, 10**6, 100) == [] and snapshot_schedule(1, 10**6, 100) == [0]
    tight = snapshot_schedule(12, 20_000, 4096)  # more points than steps allow: one step apart at least
    assert all(b - a >= 4096 for a, b in zip(tight, tight[1:], strict=False))


@pytest.fixture(scope="module")
def straight(corpus_file, tmp_path_factory):
    out = tmp_path_factory.mktemp("snap") / "straight"
    result = train(TrainArgs(str(corpus_file), str(out), epochs=2, snapshots=8, seed=4, **SMALL), quiet=True)
    return out, result


def test_snapshots_are_written_on_the_schedule_and_load(straight, corpus_file):
    out, result = straight
    found = checkpoint.snapshots(out)
    card = json.loads((out / "card.json").read_text())
    schedule = json.loads((out / "snapshots" / "00" / "card.json").read_text())["schedule"]
    per_step = PER_STEP
    assert [s["index"] for s in found] == list(range(len(found))) and 6 <= len(found) <= 8
    for s, point in zip(found, schedule, strict=False):
        assert s["final"] or point <= s["chars_seen"] < point + per_step  # the first step that reaches its point
    assert found[-1]["chars_seen"] == result["history"][-1]["chars"] and card["history"]
    chars = [s["chars_seen"] for s in found]
    assert chars == sorted(set(chars)) and chars[0] == 0
    for s in found:
        snap = json.loads((s["path"] / "card.json").read_text())
        assert snap["step"] * per_step >= snap["chars_seen"] and (snap["step"] == 0) == (snap["chars_seen"] == 0)
        assert snap["loss"]["val"]["nats"] > 0 and snap["corpus"]["name"] == "tiny.txt"
        assert ("train" in snap["loss"]) == (s["index"] > 0)
        assert lstm_viz.load(out, snapshot=s["index"]).trace("the cat").shape == (1, 7, 16)
    vals = [s["loss"]["val"]["nats"] for s in found]
    assert vals[-1] < vals[0] - 0.5  # learnt between the first snapshot and the last


def test_snapshot_zero_holds_the_untrained_weights_and_the_last_the_final_ones(straight):
    out, _ = straight
    first = lstm_viz.load(out, snapshot=0)
    torch.manual_seed(4)
    fresh = CharLSTM(Config(**first.config.to_dict()), Vocab(first.vocab.chars))
    for (name, a), b in zip(fresh.state_dict().items(), first.state_dict().values(), strict=True):
        assert torch.equal(a, b), name
    last = lstm_viz.load(out, snapshot=-1).state_dict()
    from safetensors.torch import load_file

    for name, value in load_file(str(out / "resume" / "model.safetensors")).items():
        assert torch.equal(last[name], value), name


def test_a_snapshot_that_is_not_there_is_refused(straight, tmp_path):
    out, _ = straight
    with pytest.raises(lstm_viz.CheckpointError, match="no snapshot 99"):
        lstm_viz.load(out, snapshot=99)
    (tmp_path / "plain").mkdir()
    assert checkpoint.snapshots(tmp_path / "plain") == []


class StopAfter(Stop):
    """A SIGTERM that arrives after `steps` steps (the loop reads `asked` once a step)."""

    def __init__(self, steps: int):
        super().__init__()
        self.reads, self.steps, self.set = 0, steps, False

    @property
    def asked(self):
        self.reads += 1
        return self.set or self.reads > self.steps

    @asked.setter
    def asked(self, value):
        self.set = value


def test_a_resumed_run_ends_with_the_snapshots_of_an_uninterrupted_one(straight, corpus_file, tmp_path, monkeypatch):
    out, result = straight
    args = TrainArgs(str(corpus_file), str(tmp_path / "r"), epochs=2, snapshots=8, seed=4, **SMALL)
    for steps in (3, 150):  # stopped early in the first epoch, then again in the second
        monkeypatch.setattr(train_module, "Stop", lambda steps=steps: StopAfter(steps))
        assert train(args, quiet=True) == {}  # a signal only saves
        args.resume = True
    monkeypatch.undo()
    resumed = train(args, quiet=True)
    assert [h["chars"] for h in resumed["history"]] == [h["chars"] for h in result["history"]]
    got, want = checkpoint.snapshots(tmp_path / "r"), checkpoint.snapshots(out)
    assert [s["chars_seen"] for s in got] == [s["chars_seen"] for s in want]
    assert [s["step"] for s in got] == [s["step"] for s in want]
    for a, b in zip(got, want, strict=True):
        assert a["loss"]["val"]["nats"] == pytest.approx(b["loss"]["val"]["nats"], abs=1e-5)
        if "train" in b["loss"]:
            assert a["loss"]["train"]["nats"] == pytest.approx(b["loss"]["train"]["nats"], abs=1e-5)
