"""The generated family of hypotheses: what the text yields, and exact values on hand-made texts."""

import numpy as np
import pytest

from lstm_viz.find import hypotheses

C_CODE = "".join(
    f"\tif (x{i} > 0) {{\n\t\ty = f(x{i});\n\t}}\n\twhile (k < {i}) k++;\n\treturn y;\n" for i in range(12)
)


def keys(text, alphabet=None):
    return {h.key for h in hypotheses.generate(text, alphabet)}


def test_a_delimiter_pair_seen_in_the_text_yields_inside_and_depth_hypotheses():
    text = "a (b [c] d) e " * 20 + "\u00abguillemets\u00bb " * 12
    found = keys(text)
    for opener, closer in ("()", "[]", "\u00ab\u00bb"):
        assert f"inside:{opener}|{closer}|None" in found
        assert f"inside:{opener}|{closer}|blank" in found
        assert f"depth:{opener}|{closer}|None" in found
    assert not any(k.startswith(("inside:{", "depth:{")) for k in found)  # no braces in the text


def test_quote_marks_toggle_and_rare_delimiters_are_left_out():
    found = keys('he said "yes" and "no" ' * 10 + "one (paren)")
    assert 'inside:"|"|None' in found and 'inside:"|"|newline' in found
    assert not any(k.startswith("inside:(") for k in found)  # seen once: fewer than MIN_DELIMITERS


def test_a_keyword_found_in_code_yields_its_parenthesis_and_body_hypotheses():
    found = keys(C_CODE)
    assert {"cond:if", "body:if", "cond:while", "body:while", "stmt:return"} <= found
    assert "cond:f" not in found  # a call, written f( without a space
    assert not any(k.startswith(("cond:", "stmt:")) for k in keys("the cat (sat) on while (mat) " * 30))  # prose


def test_frequent_characters_give_current_previous_next_and_since_hypotheses():
    text = "ab\ncd\n" * 50
    found = keys(text)
    for c in "abcd\n":
        assert {f"is:{c}", f"prev:{c}", f"next:{c}", f"since:{c}", f"logsince:{c}"} <= found
    assert "is:a" not in keys(text, alphabet=list("bcd\n"))  # only the model's alphabet


def test_labels_are_plain_words_and_keys_unique():
    family = hypotheses.generate(C_CODE + 'said "so" (well) ' * 20)
    assert len({h.key for h in family}) == len(family)
    labels = {h.key: h.label for h in family}
    assert labels["since:\n"] == "characters since the last newline"
    assert labels['since:"'] == "characters since the last double quote"  # not the last \"\"\"
    assert labels['is:"'] == "the current character is a double quote"
    assert labels["next: "] == "the next character is a space"
    assert labels['inside:"|"|blank'] == 'inside "..." (a blank line ends it)'
    assert labels["depth:(|)|None"] == "depth of ( )"
    assert labels["cond:if"] == "inside the ( ) after if"


def test_nesting_counts_openers_from_themselves_and_closers_as_outside():
    assert hypotheses.nesting("a(b(c)d)e)", "(", ")").tolist() == [0, 1, 1, 2, 2, 1, 1, 0, 0, 0]
    assert hypotheses.inside('x"ab"y"c', '"', '"').tolist() == [0, 1, 1, 1, 0, 0, 1, 1]
    assert hypotheses.nesting("(a\n\nb)c", "(", ")", "blank").tolist() == [1, 1, 1, 0, 0, 0, 0]
    assert hypotheses.nesting("(a\nb)c", "(", ")", "newline").tolist() == [1, 1, 0, 0, 0, 0]
    assert hypotheses.inside("a/*b*/c", "/*", "*/").tolist() == [0, 0, 1, 1, 1, 0, 0]


def test_counts_and_character_tests():
    assert hypotheses.since("ab\ncd\n", "\n").tolist() == [1, 2, 0, 1, 2, 0]
    assert hypotheses.since("ab", "\n", log=True) == pytest.approx(np.log1p([1, 2]))
    assert hypotheses.is_char("abca", "a").tolist() == [True, False, False, True]
    assert hypotheses.is_char("abca", "a", 1).tolist() == [False, False, True, False]  # the next character
    assert hypotheses.is_char("abca", "a", -1).tolist() == [False, True, False, False]  # the previous one
    assert hypotheses.to_line_end("x // c\ny", "//").tolist() == [0, 0, 1, 1, 1, 1, 0, 0]
    assert hypotheses.word_mask("the other the", "the").tolist() == [1, 1, 1] + [0] * 7 + [1, 1, 1]


def test_keyword_programs_mark_condition_body_and_statement():
    text = "if (a) {b;} c; return d(e); f"
    cond = hypotheses.keyword_condition(text, "if")
    body = hypotheses.keyword_body(text, "if")
    stmt = hypotheses.statement_after(text, "return")
    assert "".join(c for c, on in zip(text, cond) if on) == "if (a)"
    assert "".join(c for c, on in zip(text, body) if on) == " {b;}"
    assert "".join(c for c, on in zip(text, stmt) if on) == "return d(e);"


def test_values_standardise_each_hypothesis_and_drop_constant_and_repeated_ones():
    family = hypotheses.generate("a (b) c\n" * 30)
    values = hypotheses.Table.of(family, "a (b) c\n" * 30)
    kept = [h.key for h in values.family]
    assert "inside:(|)|blank" not in kept  # no blank line: the same values as inside:(|)|None
    assert "bracket_depth" in kept  # no [ or {: paren_depth and depth of ( ) give its values, the first is kept
    assert "paren_depth" not in kept and "depth:(|)|None" not in kept
    block = values.block(0, 240)
    assert block.shape == (len(values), 240)
    assert np.allclose(block.mean(axis=1), 0, atol=1e-12) and np.allclose(block.std(axis=1), 1, atol=1e-12)
    constant = hypotheses.Hypothesis("zero", "always zero", "", lambda text: np.zeros(len(text)))
    assert not hypotheses.Table.of([constant], "a (b) c\n").family
