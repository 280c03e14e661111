"""Hypotheses: each feature on small hand-written texts, including broken ones."""

import numpy as np
import pytest

from lstm_viz.core import features


def runs(name: str, text: str, **kw) -> list[str]:
    """The stretches of text where a binary feature is on, in order."""
    mask = features.compute(name, text, **kw)
    edges = np.flatnonzero(np.diff(np.concatenate([[0], mask.astype(int), [0]])))
    return [text[a:b] for a, b in zip(edges[::2], edges[1::2])]


# quotes


def test_quotes_mark_from_the_opening_quote_up_to_the_closing_one():
    assert runs("quotes", 'he said "no way" and "yes" left') == ['"no way', '"yes']


def test_quotes_span_lines():
    assert runs("quotes", 'a "one\ntwo" b') == ['"one\ntwo']


def test_an_unclosed_quote_runs_to_the_end_without_crashing():
    assert runs("quotes", 'x "never closed') == ['"never closed']


def test_a_blank_line_ends_an_unclosed_quote_so_later_quotes_are_not_inverted():
    assert runs("quotes", '"first paragraph\n\n"second" out') == ['"first paragraph\n', '"second']


def test_curly_quotes_open_and_close():
    assert runs("quotes", "say \u201chi\u201d now \u201cbye") == ["\u201chi", "\u201cbye"]


# line position


def test_line_position_counts_characters_read_on_the_line():
    assert features.compute("line_position", "ab\ncde\n\nf").tolist() == [1, 2, 0, 1, 2, 3, 0, 0, 1]


# bracket depth


def test_bracket_depth_counts_all_three_kinds_of_bracket():
    assert features.compute("bracket_depth", "f(a[b]{c})x").tolist() == [0, 1, 1, 2, 2, 1, 2, 2, 1, 0, 0]


def test_paren_depth_counts_parentheses_only():
    assert features.compute("paren_depth", "f(a[b]{c})x").tolist() == [0, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0]


def test_unbalanced_closers_never_make_depth_negative():
    assert features.compute("bracket_depth", "))]} (a)").tolist() == [0, 0, 0, 0, 0, 1, 1, 0]
    assert features.compute("paren_depth", "a)(b").tolist() == [0, 0, 1, 1]


def test_an_unclosed_opener_keeps_its_depth_to_the_end():
    assert features.compute("bracket_depth", "{ [x").tolist() == [1, 1, 2, 2]


# if condition and body


def test_if_condition_runs_from_if_through_the_matching_paren():
    code = "x; if (a && (b || c)) y(); z"
    assert runs("if_condition", code) == ["if (a && (b || c))"]


def test_if_body_is_the_braced_block_after_the_condition_with_nested_braces():
    code = "if (a) { b({1}); }\nc;"
    assert runs("if_body", code) == [" { b({1}); }"]


def test_if_body_without_braces_is_the_statement_through_its_semicolon():
    code = "if (a) for (i = 0; i < n; i++) f(i); g();"
    assert runs("if_body", code) == [" for (i = 0; i < n; i++) f(i);"]


def test_if_inside_words_preprocessor_lines_comments_and_strings_does_not_count():
    code = 'elif (a); #if (B)\n/* if (c) */ s = "if (d)"; gif (e);'
    assert not features.compute("if_condition", code).any()
    assert not features.compute("if_body", code).any()


def test_a_paren_inside_a_string_does_not_close_the_condition():
    code = 'if (c == ")") x;'
    assert runs("if_condition", code) == ['if (c == ")")']


def test_an_unclosed_if_condition_runs_to_the_end_without_crashing():
    assert runs("if_condition", "a; if (b && (c") == ["if (b && (c"]
    assert not features.compute("if_body", "a; if (b && (c").any()


def test_nested_ifs_mark_both_conditions():
    code = "if (a) { if (b) c; }"
    assert runs("if_condition", code) == ["if (a)", "if (b)"]
    assert runs("if_body", code) == [" { if (b) c; }"]


# comments


def test_block_and_line_comments_are_marked_with_their_delimiters():
    code = "a; /* one\ntwo */ b; // three\nc;"
    assert runs("comment", code) == ["/* one\ntwo */", "// three"]


def test_comment_markers_inside_strings_are_not_comments():
    code = 'url = "http://x/*y"; z;'
    assert not features.compute("comment", code).any()


def test_an_unclosed_block_comment_runs_to_the_end():
    assert runs("comment", "a /* open\nb") == ["/* open\nb"]


# words and sentences


def test_in_word_marks_letters_and_apostrophes_inside_words():
    assert runs("in_word", "don't stop_2 'x' \u00e9t\u00e9") == ["don't", "stop", "x", "\u00e9t\u00e9"]


def test_sentence_end_marks_final_punctuation_closing_quotes_and_the_space_after():
    text = 'He left. "Why?" she said. Pi is 3.14 now!'
    assert runs("sentence_end", text) == [". ", '?" ', ". ", "!"]


# regex


def test_regex_marks_every_character_of_every_match():
    assert runs("regex", "cat hat mat", regex="[ch]at") == ["cat", "hat"]


def test_regex_is_multiline():
    assert runs("regex", "ab\nac", regex="^a") == ["a", "a"]


def test_a_bad_regex_raises_one_clear_line():
    with pytest.raises(ValueError, match=r"bad regular expression '\(\[': ") as e:
        features.compute("regex", "text", regex="([")
    assert "\n" not in str(e.value)


def test_a_regex_that_backtracks_forever_is_stopped(monkeypatch):
    monkeypatch.setattr(features, "REGEX_TIMEOUT_S", 0.2)
    with pytest.raises(ValueError, match=r"ran for over 0.2 s on this text \(too much backtracking\)") as e:
        features.compute("regex", "a" * 40 + "!", regex=r"(a|aa)+$")  # exponentially many ways to fail
    assert "\n" not in str(e.value)


def test_the_regex_feature_needs_a_pattern():
    with pytest.raises(ValueError, match="needs a non-empty pattern"):
        features.compute("regex", "text")


def test_a_pattern_for_another_feature_is_refused():
    with pytest.raises(ValueError, match="only goes with the regex hypothesis"):
        features.compute("quotes", "text", regex="x")


# the registry


def test_registry_names_kinds_and_descriptions():
    assert list(features.FEATURES) == [
        "quotes",
        "line_position",
        "bracket_depth",
        "paren_depth",
        "if_condition",
        "if_body",
        "comment",
        "in_word",
        "sentence_end",
        "regex",
    ]
    counts = {n for n, f in features.FEATURES.items() if f.kind == features.COUNT}
    assert counts == {"line_position", "bracket_depth", "paren_depth"}
    assert all(
        f.kind in (features.BINARY, features.COUNT) and f.label and f.key == n for n, f in features.FEATURES.items()
    )


def test_unknown_feature_names_raise_listing_the_valid_ones():
    with pytest.raises(ValueError, match="unknown hypothesis 'quote'; choose one of quotes, line_position"):
        features.compute("quote", "text")


@pytest.mark.parametrize("text", ["", "x", 'if (a) { "q\n/* c */ } (( ]] \u201c\ud800'])
def test_every_feature_is_aligned_with_the_text_and_typed_by_kind(text):
    values = features.compute_all(text)
    assert list(values) == [n for n in features.FEATURES if n != "regex"]
    for name, v in values.items():
        assert v.shape == (len(text),)
        assert v.dtype == (bool if features.FEATURES[name].kind == features.BINARY else np.int64)


def test_features_of_a_long_text_match_those_of_its_parts():
    rng = np.random.default_rng(0)
    line = 'if (a[i] > (b + 1)) { s = "x y"; } /* c */ Word, "quoted".\n'
    text = "".join(line[: rng.integers(5, len(line))] + "\n" for _ in range(2000))
    values = features.compute_all(text)
    cut = text.index("\n", len(text) // 2) + 1  # a line that starts outside quotes, comments and brackets
    for name in ("line_position", "in_word", "comment"):
        assert np.array_equal(
            values[name], np.concatenate([features.compute(name, text[:cut]), features.compute(name, text[cut:])])
        )
