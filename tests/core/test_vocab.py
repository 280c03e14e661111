"""The alphabet: normalised newlines, an unknown slot, and no character that can crash it."""

import numpy as np

from lstm_viz import Vocab, normalise
from lstm_viz.core.vocab import UNKNOWN, UNKNOWN_SYMBOL

HOSTILE = "emoji 😀 CJK 漢字 RTL שלום combining é NUL \x00 bell \x07 lone \ud800 tab \t end"


def test_windows_and_old_mac_line_endings_become_newlines():
    assert normalise("a\r\nb\rc\n") == "a\nb\nc\n"


def test_alphabet_keeps_characters_seen_often_enough():
    vocab = Vocab.from_text("aaaaab" * 3 + "z", min_count=3)
    assert vocab.chars == ["a", "b"]
    assert len(vocab) == 3  # the unknown slot comes first


def test_alphabet_is_built_from_normalised_text():
    vocab = Vocab.from_text("ab\r\n" * 10, min_count=1)
    assert "\r" not in vocab.chars and "\n" in vocab.chars


def test_known_text_round_trips():
    vocab = Vocab.from_text("hello world\n", min_count=1)
    ids = vocab.encode("hello\nworld")
    assert vocab.decode(ids) == "hello\nworld"
    assert (ids != UNKNOWN).all()


def test_characters_outside_the_alphabet_map_to_the_unknown_slot():
    vocab = Vocab.from_text("abc", min_count=1)
    ids = vocab.encode("abxc")
    assert ids.tolist()[2] == UNKNOWN
    assert vocab.decode(ids) == f"ab{UNKNOWN_SYMBOL}c"


def test_hostile_characters_encode_one_id_per_code_point():
    vocab = Vocab.from_text("abcdefghijklmnopqrstuvwxyz ", min_count=1)
    ids = vocab.encode(HOSTILE)
    assert len(ids) == len(HOSTILE)
    for ch in "😀漢ש\x00\x07\ud800\t":
        assert ids[HOSTILE.index(ch)] == UNKNOWN
    assert ids.dtype == np.int64


def test_empty_text_encodes_to_nothing():
    assert len(Vocab(["a"]).encode("")) == 0
