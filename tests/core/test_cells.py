"""The one grammar for lists of cells ("2:429, 1:31" and "429"), as the app's boxes read it."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lstm_viz.core import cells

LAYERS, HIDDEN = 2, 512


def test_bare_cells_are_in_the_layer_in_view_and_layers_count_from_one():
    assert cells.parse("429", 1, LAYERS, HIDDEN) == [(1, 429)]
    assert cells.parse("2:429, 1:31", 0, LAYERS, HIDDEN) == [(1, 429), (0, 31)]


def test_commas_semicolons_and_spaces_all_separate_and_repeats_count_once():
    assert cells.parse(" 47, 3 3;210\n1:3 ", 0, LAYERS, HIDDEN) == [(0, 47), (0, 3), (0, 210)]


def test_anything_else_is_refused_with_one_line_naming_it():
    with pytest.raises(ValueError, match=r"^cannot read 'two': write cells as 429 or layer:cell, e\.g\. 2:429$"):
        cells.parse("1, two", 0, LAYERS, HIDDEN)
    with pytest.raises(ValueError, match=r"^no cell 3:5: layers are 1 to 2, cells 0 to 511$"):
        cells.parse("3:5, 2:999", 0, LAYERS, HIDDEN)
    for nothing in ("", " ,; "):
        with pytest.raises(ValueError, match="type at least one cell"):
            cells.parse(nothing, 0, LAYERS, HIDDEN)
    for bad in ("0:5", "512", "-1", "1:", ":4", "1:2:3", "4.5"):
        with pytest.raises(ValueError):
            cells.parse(bad, 0, LAYERS, HIDDEN)


def test_read_keeps_the_cells_and_lists_what_is_not_one():
    assert cells.read("1, two, 600, 2:5, x:1", 0, LAYERS, HIDDEN) == ([(0, 1), (1, 5)], ["two", "x:1"], ["600"])


def test_a_single_layer_view_keeps_its_own_layer_and_says_what_it_ignored():
    assert cells.of_layer("47, 3 3;210", 0, LAYERS, HIDDEN) == ([47, 3, 210], None)
    found, problem = cells.of_layer("1, two, 600, 2:7, 1:9", 0, LAYERS, HIDDEN)
    assert found == [1, 9]
    assert problem == (
        "Ignored not cells: two; no such cells (layers are 1 to 2, cells 0 to 511): 600; not in layer 1: 2:7."
    )


@given(
    st.lists(st.tuples(st.integers(0, LAYERS - 1), st.integers(0, HIDDEN - 1)), min_size=1, max_size=20),
    st.sampled_from([", ", ";", " ", "\n", " , "]),
)
def test_every_written_list_reads_back_as_written(pairs, sep):
    text = sep.join(f"{layer + 1}:{cell}" for layer, cell in pairs)
    assert cells.parse(text, 0, LAYERS, HIDDEN) == list(dict.fromkeys(pairs))


@given(st.text(max_size=40))
def test_any_text_gives_cells_of_the_model_or_one_line_reasons(text):
    pairs, _, _ = cells.read(text, 1, LAYERS, HIDDEN)
    assert all(0 <= at < LAYERS and 0 <= cell < HIDDEN for at, cell in pairs)
    found, problem = cells.of_layer(text, 1, LAYERS, HIDDEN)
    assert found == [cell for at, cell in pairs if at == 1] and (problem is None or "\n" not in problem)


@pytest.mark.parametrize("digits", ["9" * 5_000, "1:" + "7" * 5_000, "8" * 5_000 + ":1"])
def test_numbers_of_any_length_are_missing_cells_quoted_short(digits):
    with pytest.raises(ValueError, match=r"^no cell \S{19}\u2026: layers are 1 to 2, cells 0 to 511$"):
        cells.parse(digits, 0, LAYERS, HIDDEN)
    found, problem = cells.of_layer("3, " + digits, 0, LAYERS, HIDDEN)
    assert found == [3] and len(problem) < 100


@given(
    st.from_regex(r"[0-9:, ;x]{0,30}", fullmatch=True),
    st.integers(4_000, 5_000),
    st.text("0123456789:, ;", max_size=30),
)
def test_long_digit_runs_anywhere_give_reasons_not_exceptions(before, digits, after):
    pairs, unreadable, missing = cells.read(before + "9" * digits + after, 0, LAYERS, HIDDEN)
    assert all(len(item) <= 20 for item in unreadable + missing)
