"""Training: the loss falls, --resume continues exactly, and torchrun trains with DDP."""
import json
import os
import subprocess
import sys

import pytest

import lstm_viz
from lstm_viz.train import TrainArgs, train

SMALL = dict(layers=2, hidden=32, embed=8, dropout=0.0, batch=8, seq_len=32, lr=3e-3, min_count=2)


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


def test_resume_continues_where_training_stopped(corpus_file, tmp_path):
    straight = train(TrainArgs(str(corpus_file), str(tmp_path / "a"), epochs=3, **SMALL), quiet=True)
    train(TrainArgs(str(corpus_file), str(tmp_path / "b"), epochs=2, **SMALL), quiet=True)
    resumed = train(TrainArgs(str(corpus_file), str(tmp_path / "b"), epochs=3, resume=True, **SMALL), quiet=True)
    assert [h["epoch"] for h in resumed["history"]] == [1, 2, 3]
    assert resumed["loss"]["val"]["nats"] == pytest.approx(straight["loss"]["val"]["nats"], rel=1e-4)


def test_early_stopping_ends_a_run_that_stops_improving(corpus_file, tmp_path):
    result = train(TrainArgs(str(corpus_file), str(tmp_path / "m"), epochs=50, patience=1,
                             **{**SMALL, "lr": 0.5}), quiet=True)
    assert result["epochs"] < 50


def test_torchrun_trains_with_two_processes(corpus_file, tmp_path):
    out = tmp_path / "ddp"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           "-m", "lstm_viz", "train", "--corpus", str(corpus_file), "--out", str(out), "--epochs", "2",
           "--hidden", "16", "--embed", "8", "--batch", "4", "--seq-len", "32", "--min-count", "2"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    card = json.loads((out / "card.json").read_text())
    assert card["processes"] == 2 and card["epochs"] == 2
    assert card["history"][1]["val"] < card["history"][0]["val"]
