"""Preparing big training runs: packed corpora, float16 weights, configurations side by side."""

import json
import lzma
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

import lstm_viz
from lstm_viz.io import checkpoint
from lstm_viz.train import sweep
from lstm_viz.train.data import CorpusError, read_corpus, sha256

SMALL = "layers=1,hidden=16,embed=8,batch=4,seq_len=32,min_count=2"


def test_an_xz_corpus_reads_and_hashes_as_its_unpacked_text(corpus_file, tmp_path):
    packed = tmp_path / "tiny.txt.xz"
    packed.write_bytes(lzma.compress(corpus_file.read_bytes()))
    assert read_corpus(packed) == read_corpus(corpus_file)
    assert sha256(packed) == sha256(corpus_file)


def test_a_broken_xz_corpus_is_a_one_line_error(tmp_path):
    bad = tmp_path / "bad.txt.xz"
    bad.write_bytes(b"not xz at all")
    with pytest.raises(CorpusError, match="not a readable xz file"):
        read_corpus(bad)


def test_float16_storage_halves_the_file_and_the_trace_is_exact_to_the_loaded_weights(tiny_model, tmp_path):
    checkpoint.save(tiny_model, tmp_path / "f32", {})
    checkpoint.save(tiny_model, tmp_path / "f16", {}, storage="float16")

    def size(name):
        return (tmp_path / name / checkpoint.WEIGHTS).stat().st_size

    assert size("f16") < 0.6 * size("f32")
    half = lstm_viz.load(tmp_path / "f16")
    assert half.card["storage"] == "float16"
    for (key, w), (_, w16) in zip(tiny_model.state_dict().items(), half.state_dict().items()):
        assert w16.dtype == w.dtype
        np.testing.assert_array_equal(w16.numpy(), w.half().float().numpy(), err_msg=key)
    text = 'the cat said "yes" (quickly)'
    tr = half.trace(text)
    with torch.no_grad():
        logits, _ = half(torch.as_tensor(half.vocab.encode(text))[None])
    np.testing.assert_allclose(tr.log_probs, logits[0].log_softmax(-1).numpy(), atol=1e-5)


def test_unknown_storage_is_refused(tiny_model, tmp_path):
    with pytest.raises(ValueError, match="unknown storage 'int8'; choose one of float32, float16"):
        checkpoint.save(tiny_model, tmp_path / "m", {}, storage="int8")


@pytest.mark.parametrize(
    "spec, problem",
    [
        ("layers=3", "start with a name"),
        ("deep:layers", "is not key=value"),
        ("deep:colour=blue", "is not key=value"),
        ("deep:layers=three", "layers needs a int"),
    ],
)
def test_a_bad_configuration_names_what_is_wrong(spec, problem):
    with pytest.raises(ValueError, match=problem):
        sweep.parse_config(spec)


@pytest.mark.slow
def test_sweep_trains_configurations_side_by_side_and_picks_the_best_on_validation(corpus_file, tmp_path):
    out, dest = tmp_path / "runs", tmp_path / "pretrained" / "best"
    cmd = [
        sys.executable,
        "-m",
        "lstm_viz",
        "sweep",
        "--corpus",
        str(corpus_file),
        "--out",
        str(out),
        "--config",
        f"small:{SMALL},lr=0.003",
        "--config",
        f"frozen:{SMALL},lr=0.0000001",
        "--epochs",
        "2",
        "--pick",
        str(dest),
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}  # two trainings at once on a small machine
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    rows = [line for line in done.stdout.splitlines() if line.startswith("| small") or line.startswith("| frozen")]
    assert [row.split("|")[1].strip() for row in rows] == ["small", "frozen"]  # best first
    assert "best on validation: small" in done.stdout
    picked = json.loads((dest / "card.json").read_text())
    assert picked == json.loads((out / "small" / "card.json").read_text())
    assert not (dest / "resume").exists() and (out / "small" / "resume" / "state.json").is_file()
    assert lstm_viz.load(dest).config.hidden == 16


def test_a_run_that_cannot_start_stops_the_runs_already_started_and_closes_every_log(monkeypatch, tmp_path):
    real_popen, started, logs = subprocess.Popen, [], []

    def popen(cmd, stdout, stderr):
        logs.append(stdout)
        if started:
            raise OSError("cannot start another process")
        started.append(real_popen([sys.executable, "-c", "import time; time.sleep(120)"], stdout=stdout, stderr=stderr))
        return started[-1]

    monkeypatch.setattr(sweep.subprocess, "Popen", popen)
    with pytest.raises(OSError, match="cannot start another process"):
        sweep.run("corpus.txt", tmp_path, ["small:layers=1", "large:layers=3"], {})
    assert started[0].poll() is not None  # stopped, not left training
    assert len(logs) == 2 and all(log.closed for log in logs)
