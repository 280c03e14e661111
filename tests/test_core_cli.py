"""The command line: eval, sample, bench, and one clear line for bad arguments."""

import subprocess
import sys

import pytest

import lstm_viz


def cli(*args, timeout=300):
    return subprocess.run(
        [sys.executable, "-m", "lstm_viz", *map(str, args)], capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture(scope="module")
def model_dir(tiny_model, tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli") / "tiny"
    lstm_viz.save(tiny_model, folder, {})
    return folder


def assert_one_line_error(done, *fragments):
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    assert "Traceback" not in done.stderr
    for fragment in fragments:
        assert fragment in lines[0]


def test_train_on_a_missing_corpus(tmp_path):
    assert_one_line_error(
        cli("train", "--corpus", tmp_path / "nope.txt", "--out", tmp_path / "m"), "nope.txt: no such corpus file"
    )


def test_train_on_an_empty_corpus(tmp_path):
    (tmp_path / "empty.txt").write_text("")
    assert_one_line_error(
        cli("train", "--corpus", tmp_path / "empty.txt", "--out", tmp_path / "m"), "corpus is empty or too short"
    )


def test_an_unknown_model(corpus_file):
    assert_one_line_error(
        cli("eval", "--model", "no-such-model", "--corpus", corpus_file),
        "no-such-model: no such model folder",
        "shipped models:",
    )


def test_eval_prints_validation_and_test_loss(model_dir, corpus_file):
    done = cli("eval", "--model", model_dir, "--corpus", corpus_file)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("val: ") and lines[1].startswith("test: ")
    assert "nats/char" in lines[0] and "bits/char" in lines[0]


def test_sample_prints_the_prime_and_generated_text(model_dir):
    done = cli("sample", "--model", model_dir, "--prime", "the ", "-n", "40", "--seed", "1")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("the ") and len(done.stdout.rstrip("\n")) >= 40
    assert done.stdout == cli("sample", "--model", model_dir, "--prime", "the ", "-n", "40", "--seed", "1").stdout


def test_sample_refuses_a_bad_temperature(model_dir):
    assert_one_line_error(cli("sample", "--model", model_dir, "--temperature", "0"), "temperature")


def test_bench_prints_every_figure(model_dir):
    done = cli("bench", "--model", model_dir, "--quick")
    assert done.returncode == 0, done.stderr
    for figure in ("1,000 chars", "10,000 chars", "step-by-step reference loop", "MiB", "chars/s"):
        assert figure in done.stdout
