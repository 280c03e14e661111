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


@pytest.mark.slow
def test_train_on_a_missing_corpus(tmp_path):
    assert_one_line_error(
        cli("train", "--corpus", tmp_path / "nope.txt", "--out", tmp_path / "m"), "nope.txt: no such corpus file"
    )


@pytest.mark.slow
def test_train_on_an_empty_corpus(tmp_path):
    (tmp_path / "empty.txt").write_text("")
    assert_one_line_error(
        cli("train", "--corpus", tmp_path / "empty.txt", "--out", tmp_path / "m"), "corpus is empty or too short"
    )


@pytest.mark.slow
def test_an_unknown_model(corpus_file):
    assert_one_line_error(
        cli("eval", "--model", "no-such-model", "--corpus", corpus_file),
        "no-such-model: no such model folder",
        "shipped models:",
    )


@pytest.mark.slow
def test_eval_prints_validation_and_test_loss(model_dir, corpus_file):
    done = cli("eval", "--model", model_dir, "--corpus", corpus_file)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("val: ") and lines[1].startswith("test: ")
    assert "nats/char" in lines[0] and "bits/char" in lines[0]


@pytest.mark.slow
def test_sample_prints_the_prime_and_generated_text(model_dir):
    done = cli("sample", "--model", model_dir, "--prime", "the ", "-n", "40", "--seed", "1")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("the ") and len(done.stdout.rstrip("\n")) >= 40
    assert done.stdout == cli("sample", "--model", model_dir, "--prime", "the ", "-n", "40", "--seed", "1").stdout


@pytest.mark.slow
def test_sample_refuses_a_bad_temperature(model_dir):
    assert_one_line_error(cli("sample", "--model", model_dir, "--temperature", "0"), "temperature")


@pytest.mark.slow
def test_bench_prints_every_figure(model_dir):
    done = cli("bench", "--model", model_dir, "--quick")
    assert done.returncode == 0, done.stderr
    for figure in ("1,000 chars", "10,000 chars", "step-by-step reference loop", "MiB", "chars/s"):
        assert figure in done.stdout


@pytest.mark.parametrize(
    "args, message",
    [
        (["train", "--corpus", "c.txt", "--out", "m", "--max-chars", "-5"], "--max-chars must be at least 0, not -5"),
        (["train", "--corpus", "c.txt", "--out", "m", "--lr", "0"], "--lr must be more than 0, not 0"),
        (["train", "--corpus", "c.txt", "--out", "m", "--dropout", "1.5"], "--dropout must be at most 1, not 1.5"),
        (["train", "--corpus", "c.txt", "--out", "m", "--snapshots", "-1"], "--snapshots must be at least 0"),
        (["sample", "--model", "m", "-n", "-1"], "-n must be at least 0, not -1"),
        (["sample", "--model", "m", "--temperature", "inf"], "argument --temperature: not a finite number: 'inf'"),
        (["bench", "--batch", "0"], "--batch must be at least 1, not 0"),
        (["sweep", "--corpus", "c", "--out", "o", "--config", "a:", "--epochs", "0"], "--epochs must be at least 1"),
        (["find", "--model", "m", "--text-file", "t", "--top", "-3"], "--top must be at least 1, not -3"),
        (["explain", "--model", "m", "--corpus", "c", "--max-chars", "99"], "--max-chars must be at least 100"),
        (["explain", "--model", "m", "--corpus", "c", "--threads", "0"], "--threads must be at least 1, not 0"),
        (["analyse", "--model", "m", "--corpus", "c", "--out", "o", "--ngram-chars", "0"], "--ngram-chars must be"),
        (["app", "--port", "70000"], "--port must be at most 65,535, not 70,000"),
        (["sample", "--model", "m", "-n", "9" * 5_000], "argument -n: not a whole number: '9999"),
        (["train", "--corpus", "c", "--out", "m", "--epochs", "1e3"], "argument --epochs: not a whole number: '1e3'"),
    ],
)
@pytest.mark.slow
def test_every_number_of_every_command_is_checked_before_any_work_in_one_line(args, message):
    done = cli(*args, timeout=60)
    assert_one_line_error(done, message)
    assert len(done.stderr) < 200


def test_every_number_option_has_a_range():
    from lstm_viz import cli as command_line

    def numbers(p):
        for action in p._actions:
            if hasattr(action, "choices") and isinstance(action.choices, dict):
                for sub in action.choices.values():
                    yield from numbers(sub)
            elif action.type is not None and action.type not in (str,):
                yield action

    found = list(numbers(command_line.parser()))
    assert len(found) > 30 and all(a.type in (command_line.whole, command_line.real) for a in found)
    assert all(a.dest in command_line.NUMBERS for a in found)
