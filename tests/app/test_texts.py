"""Own texts kept for links (ui/session/texts.py): by the hash of their content, read back exactly by any
process sharing the folder, never anything else, and bounded in number; the folder is the app's
user's alone, and nothing planted in it is written through, waited on or read past the limit."""

from __future__ import annotations

import os
import stat
import threading
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ui.session import state, texts
from ui.session.examples import EXAMPLES


def test_a_kept_text_comes_back_exactly_under_its_id():
    text = "My own words,\nwith a tab\tand \u00e9t\u00e9 \U0001f600."
    ident = texts.put(text)
    assert ident == texts.key(text) and len(ident) == 24
    assert texts.get(ident) == text
    assert texts.put(text) == ident  # kept once


@settings(max_examples=50, deadline=None)
@given(st.text(max_size=200))
def test_any_text_comes_back_exactly(text):
    assert texts.get(texts.put(text)) == text


def test_anything_else_in_a_link_is_no_text(kept_texts):
    assert texts.get("0" * 24) is None  # never kept
    for hostile in ("../../etc/passwd", "", "A" * 24, "0" * 23, "0" * 25, "0" * 24 + "/x", "x" * 1000):
        assert texts.get(hostile) is None
    ident = texts.put("the real text")
    (kept_texts / f"{ident}.txt").write_text("something else")  # damaged on disk
    assert texts.get(ident) is None


def test_past_the_limit_the_least_recently_used_are_dropped(tmp_path, monkeypatch):
    monkeypatch.setenv("LSTM_VIZ_TEXTS", str(tmp_path))
    idents = [texts.put(f"text {i}") for i in range(5)]
    for age, ident in enumerate(idents):  # text 0 the oldest
        when = time.time() - 100 + age
        os.utime(tmp_path / f"{ident}.txt", (when, when))
    assert texts.get(idents[0]) == "text 0"  # read: used again
    texts.prune(keep=3)
    assert [texts.get(i) is not None for i in idents] == [True, False, False, True, True]


def test_a_folder_that_cannot_be_written_keeps_nothing_and_says_so(tmp_path, monkeypatch):
    blocker = tmp_path / "a file"
    blocker.write_text("")
    monkeypatch.setenv("LSTM_VIZ_TEXTS", str(blocker / "texts"))
    assert texts.put("anything") is None


@pytest.fixture
def private(tmp_path, monkeypatch) -> Path:
    """LSTM_VIZ_TEXTS pointed at a folder not made yet."""
    monkeypatch.setenv("LSTM_VIZ_TEXTS", str(tmp_path / "texts"))
    return tmp_path / "texts"


@pytest.fixture
def outside(tmp_path) -> Path:
    """A file outside the folder, as a planted link would point at: its content and age must stay."""
    target = tmp_path / "outside"
    target.write_text("root's own file")
    os.utime(target, (1_000_000, 1_000_000))
    return target


def untouched(target: Path) -> bool:
    return target.read_text() == "root's own file" and target.stat().st_mtime == 1_000_000


def in_time(call, *args):
    """`call(*args)` in a thread given 5 seconds: (finished, its result)."""
    result = []
    worker = threading.Thread(target=lambda: result.append(call(*args)), daemon=True)
    worker.start()
    worker.join(5)
    return not worker.is_alive(), result[0] if result else "no result"


def test_the_folder_is_made_for_this_user_alone_and_each_text_for_it_alone(private):
    mask = os.umask(0)  # the modes are the module's own, not the umask's
    try:
        ident = texts.put("a private text")
    finally:
        os.umask(mask)
    assert stat.S_IMODE(private.stat().st_mode) == 0o700
    assert stat.S_IMODE((private / f"{ident}.txt").stat().st_mode) == 0o600
    assert [p.name for p in private.iterdir()] == [f"{ident}.txt"]  # no temporary left behind


def test_a_link_planted_under_a_texts_name_is_replaced_never_written_through(private, outside):
    text = "a visitor's text"
    private.mkdir(mode=0o700)
    (private / f"{texts.key(text)}.txt").symlink_to(outside)
    assert texts.get(texts.key(text)) is None
    assert texts.put(text) == texts.key(text)
    assert untouched(outside) and not (private / f"{texts.key(text)}.txt").is_symlink()
    assert texts.get(texts.key(text)) == text


def test_a_link_planted_where_a_temporary_might_go_is_never_written_through(private, outside, monkeypatch):
    text = "a visitor's text"
    private.mkdir(mode=0o700)
    guessed = "0" * 24
    monkeypatch.setattr(texts.secrets, "token_hex", lambda n: guessed)  # as if the name were guessed
    for name in (f".{guessed}.tmp", f".{texts.key(text)}.{os.getpid()}.tmp", f"{guessed}.tmp"):
        (private / name).symlink_to(outside)
    assert texts.put(text) is None  # the temporary could not be made new: nothing written
    assert untouched(outside)


def test_a_fifo_under_a_texts_name_is_no_text_and_never_waits(private):
    text = "a visitor's text"
    private.mkdir(mode=0o700)
    os.mkfifo(private / f"{texts.key(text)}.txt")  # no writer: a plain read would wait forever
    assert in_time(texts.get, texts.key(text)) == (True, None)
    assert in_time(texts.put, text) == (True, texts.key(text))  # replaced by the text
    assert texts.get(texts.key(text)) == text


def test_nothing_past_the_size_limit_is_read(private, monkeypatch):
    private.mkdir(mode=0o700)
    endless, big = "1" * 24, "2" * 24
    (private / f"{endless}.txt").symlink_to("/dev/zero")
    (private / f"{big}.txt").write_bytes(b"x" * (texts.MAX_BYTES + 1))
    read, real = [], os.read
    monkeypatch.setattr(os, "read", lambda fd, n: read.append(n) or real(fd, n))
    assert in_time(texts.get, endless) == (True, None)
    assert in_time(texts.get, big) == (True, None)
    assert sum(read) <= 2 * (texts.MAX_BYTES + 1)


def test_a_text_past_the_size_limit_is_not_kept(private):
    assert texts.put("\U0001f600" * (texts.MAX_BYTES // 4)) is not None  # 10,000 four-byte characters
    assert texts.put("x" * (texts.MAX_BYTES + 1)) is None


def someone_elses(path: Path, monkeypatch) -> None:
    """`path` as if another user owned it: chown as root, else this process posing as another user."""
    if os.geteuid() == 0:
        os.chown(path, 12345, 12345)
    else:
        uid = os.geteuid() + 1
        monkeypatch.setattr(os, "getuid", lambda: uid)


@pytest.mark.parametrize(
    "plant, why",
    [
        (lambda p, mp: someone_elses(p, mp), "its texts folder belongs to another user"),
        (lambda p, mp: p.chmod(0o755), "its texts folder is open to other users (mode 755)"),
        (lambda p, mp: p.chmod(0o770), "its texts folder is open to other users (mode 770)"),
    ],
)
def test_a_folder_not_this_users_alone_is_refused_and_the_link_opens_the_example_with_why(
    private, monkeypatch, plant, why
):
    private.mkdir(mode=0o700)
    planted = "planted by someone else"
    (private / f"{texts.key(planted)}.txt").write_text(planted)
    plant(private, monkeypatch)
    assert texts.problem() == why
    assert texts.put("a visitor's text") is None and texts.get(texts.key(planted)) is None
    assert sorted(p.name for p in private.iterdir()) == [f"{texts.key(planted)}.txt"]  # nothing written there
    shown, notes = state.from_query({"text": texts.key(planted)}, ["warpeace"], lambda name: "lstm")
    assert shown["text"] == EXAMPLES[shown["example"]].text
    assert notes == [f"Ignored `text='{texts.key(planted)}'` from the link: this server cannot keep texts ({why})."]


def test_a_link_or_a_file_in_the_folders_place_is_refused(private, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(mode=0o700)
    private.symlink_to(elsewhere)
    assert texts.put("a visitor's text") is None and texts.problem() == "its texts folder is a link"
    assert list(elsewhere.iterdir()) == []
    private.unlink()
    private.write_text("")
    assert texts.put("a visitor's text") is None and texts.problem() == "its texts folder is not a folder"


def test_writes_keep_at_most_max_texts_without_looking_at_every_texts_age_each_time(private, monkeypatch):
    monkeypatch.setattr(texts, "MAX_TEXTS", 20)
    monkeypatch.setattr(texts, "PRUNED_TO", 10)
    stats, real = [], os.stat
    monkeypatch.setattr(os, "stat", lambda *a, **k: stats.append(a[0]) or real(*a, **k))
    idents = []
    for i in range(60):
        idents.append(texts.put(f"text {i}"))
        when = 1_000_000 + i  # text 0 the oldest
        os.utime(private / f"{idents[-1]}.txt", (when, when))
        assert len(list(private.iterdir())) <= 20
    assert [texts.get(i) is not None for i in idents[-10:]] == [True] * 10  # the newest stay
    assert texts.get(idents[0]) is None
    assert len(stats) <= 2 * 60  # each put looks at every text's age: ~20 x 60
