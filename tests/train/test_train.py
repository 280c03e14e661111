"""Training: the loss falls, --resume continues exactly, and torchrun trains with DDP."""

import json
import os
import subprocess
import sys

import pytest
import torch

import lstm_viz
from lstm_viz.train.loop import Progress, TrainArgs, train

SMALL = dict(layers=2, hidden=32, embed=8, dropout=0.0, batch=8, seq_len=32, lr=3e-3, min_count=2)


@pytest.mark.slow
def test_validation_loss_falls_and_the_best_model_is_kept(corpus_file, tmp_path):
    out = tmp_path / "m"
    result = train(TrainArgs(str(corpus_file), str(out), epochs=3, **SMALL), quiet=True)
    vals = [h["val"] for h in result["history"]]
    assert vals[-1] < vals[0] - 0.3
    card = json.loads((out / "card.json").read_text())
    assert set(card["loss"]) == {"train", "val", "test"}
    assert card["loss"]["val"]["nats"] == pytest.approx(min(vals), abs=1e-4)
    assert card["loss"]["val"]["bits"] == pytest.approx(card["loss"]["val"]["nats"] / 0.6931471805599453, abs=1e-4)
    assert card["corpus"]["name"] == "tiny.txt" and len(card["corpus"]["sha256"]) == 64
    assert card["epochs"] == 3 and card["wall_time_s"] > 0 and card["hardware"]
    assert lstm_viz.load(out).trace("the cat").shape == (2, 7, 32)


@pytest.mark.slow
def test_resume_continues_where_training_stopped(corpus_file, tmp_path):
    straight = train(TrainArgs(str(corpus_file), str(tmp_path / "a"), epochs=3, **SMALL), quiet=True)
    train(TrainArgs(str(corpus_file), str(tmp_path / "b"), epochs=2, **SMALL), quiet=True)
    resumed = train(TrainArgs(str(corpus_file), str(tmp_path / "b"), epochs=3, resume=True, **SMALL), quiet=True)
    assert [h["epoch"] for h in resumed["history"]] == [1, 2, 3]
    assert resumed["loss"]["val"]["nats"] == pytest.approx(straight["loss"]["val"]["nats"], rel=1e-4)


@pytest.mark.slow
def test_early_stopping_ends_a_run_that_stops_improving(corpus_file, tmp_path):
    result = train(
        TrainArgs(str(corpus_file), str(tmp_path / "m"), epochs=50, patience=1, **{**SMALL, "lr": 0.5}), quiet=True
    )
    assert result["epochs"] < 50


@pytest.mark.slow
def test_torchrun_trains_with_two_processes(corpus_file, tmp_path):
    out = tmp_path / "ddp"
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node",
        "2",
        "-m",
        "lstm_viz",
        "train",
        "--corpus",
        str(corpus_file),
        "--out",
        str(out),
        "--epochs",
        "2",
        "--hidden",
        "16",
        "--embed",
        "8",
        "--batch",
        "4",
        "--seq-len",
        "32",
        "--min-count",
        "2",
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    card = json.loads((out / "card.json").read_text())
    assert card["processes"] == 2 and card["epochs"] == 2
    assert card["history"][1]["val"] < card["history"][0]["val"]


def weights(out):
    from safetensors.torch import load_file

    return load_file(str(out / "resume" / "model.safetensors"))


@pytest.mark.slow
def test_a_run_stopped_mid_epoch_and_resumed_ends_with_the_weights_of_a_straight_run(corpus_file, tmp_path):
    """A character budget stops mid-epoch; --resume carries on with the same state, RNG and position."""
    args = dict(SMALL, dropout=0.2, epochs=2, val_chars=2000, val_every=3000)  # dropout: the RNG must be restored
    steps_per_epoch = len(corpus_file.read_text()) * 0.8 // (8 * 32)
    budget = int(steps_per_epoch * 1.5) * 8 * 32  # half way through the second epoch
    straight = train(TrainArgs(str(corpus_file), str(tmp_path / "straight"), max_chars=budget, **args), quiet=True)
    first = train(TrainArgs(str(corpus_file), str(tmp_path / "halves"), max_chars=budget // 2, **args), quiet=True)
    assert first["epochs"] == 0  # stopped inside the first epoch
    resumed = train(
        TrainArgs(str(corpus_file), str(tmp_path / "halves"), max_chars=budget, resume=True, **args), quiet=True
    )
    assert resumed["history"][-1]["chars"] == straight["history"][-1]["chars"] >= budget
    a, b = weights(tmp_path / "straight"), weights(tmp_path / "halves")
    assert a.keys() == b.keys()
    for name in a:
        torch.testing.assert_close(a[name], b[name], rtol=0, atol=1e-6)  # same code path: equal up to 1e-6


@pytest.mark.slow
def test_a_validation_on_the_last_step_of_an_epoch_is_that_epochs_only_entry(corpus_file, tmp_path):
    """No second entry for the same weights (it had no training characters: a train loss of 0)."""
    once = train(TrainArgs(str(corpus_file), str(tmp_path / "a"), epochs=1, **SMALL), quiet=True)
    epoch_chars = once["history"][-1]["chars"]
    run = train(TrainArgs(str(corpus_file), str(tmp_path / "b"), epochs=1, val_every=epoch_chars, **SMALL), quiet=True)
    assert [(h["epoch"], h["chars"]) for h in run["history"]] == [(1, epoch_chars)]
    assert run["history"][0]["train"] > 0 and run["epochs"] == run["best_epoch"] == 1


@pytest.mark.slow
def test_a_resume_state_without_the_later_counters_starts_them_at_their_defaults(corpus_file, tmp_path):
    """A state.json written before the step and snapshot counters were kept still resumes."""
    out = tmp_path / "m"
    train(TrainArgs(str(corpus_file), str(out), epochs=1, **SMALL), quiet=True)
    path = out / "resume" / "state.json"
    saved = json.loads(path.read_text())
    assert {"epoch", "step", "global_step", "chars", "best_val", "history", "snapshot_loss"} <= set(saved)
    path.write_text(json.dumps({k: v for k, v in saved.items() if k not in ("global_step", "snapshot_loss")}))
    resumed = train(TrainArgs(str(corpus_file), str(out), epochs=2, resume=True, **SMALL), quiet=True)
    assert [h["epoch"] for h in resumed["history"]] == [1, 2]
    assert Progress.of({"epoch": 1, "chars": 10}) == Progress(epoch=1, chars=10)


def test_the_learning_rate_falls_linearly_over_the_last_characters_of_the_budget():
    from lstm_viz.train.loop import learning_rate

    args = TrainArgs("c", "o", lr=1e-3, max_chars=1000, decay_chars=400, final_lr=0.1, decay_after=5)
    assert learning_rate(args, 0, 0) == learning_rate(args, 0, 600) == 1e-3
    assert learning_rate(args, 0, 800) == pytest.approx(1e-3 * (1 - 0.9 * 0.5))
    assert learning_rate(args, 0, 1000) == pytest.approx(1e-4)
    assert learning_rate(args, 6, 0) == pytest.approx(1e-3 * 0.9**2)  # epochs 5 and 6 decayed


def test_a_fixed_validation_sample_is_evenly_spaced_runs_of_the_split():
    from lstm_viz.train.data import sample

    ids = torch.arange(10_000)
    s = sample(ids, 640, pieces=32)
    assert len(s) == 640 and s[0] == 0 and s[-1] == 9_999
    assert torch.equal(sample(ids, 640, pieces=32), s)  # fixed: the same every call
    assert sample(ids, 0) is ids and sample(ids, 20_000) is ids
