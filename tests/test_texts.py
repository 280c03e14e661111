"""Own texts kept for links (ui/texts.py): by the hash of their content, read back exactly by any
process sharing the folder, never anything else, and bounded in number."""

from __future__ import annotations

import os
import time

from hypothesis import given, settings
from hypothesis import strategies as st

from ui import texts


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
