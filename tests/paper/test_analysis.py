"""The paper's analyses on small texts with answers known by hand."""

import copy

import numpy as np
import pytest
import torch

from lstm_viz import analysis
from lstm_viz.core import reference
from lstm_viz.core.vocab import normalise
from lstm_viz.paper import ngram
from tests.conftest import make_corpus


@pytest.fixture(scope="module")
def saturated_model(tiny_model):
    """The tiny model with layer 1's forget gates pinned open and its input gates shut for
    cells 0-3 (zero weights, biases of +-40), and its output gate of cell 5 pinned open."""
    model = copy.deepcopy(tiny_model)
    H = model.config.hidden
    with torch.no_grad():
        for name in ("weight_ih_l1", "weight_hh_l1"):
            w = getattr(model.lstm, name)
            w[0:4] = 0  # input gate rows of cells 0-3
            w[H : H + 4] = 0  # forget gate rows
            w[3 * H + 5] = 0  # output gate row of cell 5
        model.lstm.bias_ih_l1[0:4] = -40
        model.lstm.bias_ih_l1[H : H + 4] = 40
        model.lstm.bias_ih_l1[3 * H + 5] = 40
        model.lstm.bias_hh_l1[[0, 1, 2, 3, H, H + 1, H + 2, H + 3, 3 * H + 5]] = 0
    return model


def test_gate_saturation_sees_gates_forced_saturated(saturated_model):
    tr = saturated_model.trace('the cat (sat) on a mat, "yes" he said.\n' * 3)
    table = analysis.gate_saturation(tr, 1)
    assert list(table.columns) == ["gate", "cell", "left", "right"]
    assert len(table) == 3 * saturated_model.config.hidden
    row = table.set_index(["gate", "cell"])
    for cell in range(4):
        assert tuple(row.loc[("forget", cell)]) == (0.0, 1.0)
        assert tuple(row.loc[("input", cell)]) == (1.0, 0.0)
    assert tuple(row.loc[("output", 5)]) == (0.0, 1.0)
    assert ((table["left"] >= 0) & (table["left"] + table["right"] <= 1)).all()


def test_gate_saturation_refuses_a_missing_layer(saturated_model):
    with pytest.raises(ValueError, match="layer 2 does not exist"):
        analysis.gate_saturation(saturated_model.trace("abc"), 2)


@pytest.fixture(scope="module")
def abab(tiny_model):
    return ngram.train("ab" * 500, tiny_model.vocab, order=4)


def test_closing_distance_of_one_brace_pair(tiny_model, abab):
    text = "if (a) {b = c;}\n" + "ab" * 4
    tr = tiny_model.trace(text)
    table = analysis.closing_distance(tr, abab)
    assert table[["kind", "open", "close", "distance"]].values.tolist() == [["brace", 7, 14, 7]]
    assert table["lstm"][0] == pytest.approx(np.exp(-tr.loss_per_char[13]))
    assert table["ngram"][0] == pytest.approx(np.exp(-abab.loss_per_char(text)[13]))


def test_closing_distance_of_nested_braces_and_quotes(tiny_model):
    text = '{a{b}c} "x" y "zz"'
    table = analysis.closing_distance(tiny_model.trace(text))
    assert table[["kind", "open", "close", "distance"]].values.tolist() == [
        ["brace", 0, 6, 6],
        ["brace", 2, 4, 2],
        ["quote", 8, 10, 2],
        ["quote", 14, 17, 3],
    ]
    assert table["ngram"].isna().all() and table["lstm"].between(0, 1).all()
    bins = analysis.distance_bins(table)
    assert bins[["kind", "low", "high", "pairs"]].values.tolist() == [
        ["brace", 1, 5, 1],
        ["brace", 5, 10, 1],
        ["quote", 1, 5, 2],
    ]


def test_a_blank_line_ends_an_open_quote(tiny_model):
    text = 'a "b\n\n"c" d "e'  # the first quote is left open; the paragraph's own pair counts; the last is open
    table = analysis.closing_distance(tiny_model.trace(text))
    assert table[["kind", "open", "close"]].values.tolist() == [["quote", 6, 8]]


def test_closing_distance_without_braces_says_so(tiny_model):
    with pytest.raises(ValueError, match="no matched"):
        analysis.closing_distance(tiny_model.trace("no braces here at all"))


def test_error_breakdown_gives_the_ngram_the_errors_it_gets_right(tiny_model, abab):
    tr = tiny_model.trace("ab" * 50)
    assert (np.exp(-tr.loss_per_char[:-1]) < 0.5).all()  # a random model errs everywhere
    table = analysis.error_breakdown(tr, abab)
    assert table["oracle"].tolist() == list(analysis.ORACLES) + ["unexplained"]
    assert dict(zip(table["oracle"], table["errors"]))["n-gram"] == 99
    assert table["errors"].sum() == table.attrs["errors"] == 99 and table["share"].sum() == pytest.approx(1)


def test_error_breakdown_oracles_take_errors_in_turn(tiny_model, abab):
    # "cd" is unknown to the n-gram; after the first 7 characters each next character repeats
    # a 6-gram already seen in the text (dynamic memory); the first 6 lie in one word never seen
    # in training (rare words); nothing is left for the later oracles.
    tr = tiny_model.trace("cd" * 50)
    errors = dict(zip(*analysis.error_breakdown(tr, abab)[["oracle", "errors"]].values.T))
    assert errors == {
        "n-gram": 0,
        "dynamic memory": 93,
        "rare words": 6,
        "word start": 0,
        "punctuation": 0,
        "boost": 0,
        "unexplained": 0,
    }


def test_error_breakdown_of_a_text_shorter_than_the_order_says_so(tiny_model, abab):
    with pytest.raises(ValueError, match="fewer than the n-gram's order"):
        analysis.error_breakdown(tiny_model.trace("ab"), abab)


def test_loss_difference_is_lstm_minus_ngram_loss_of_each_next_character(tiny_model, abab):
    text = "abab?abab"  # "?" is outside the alphabet: no loss for predicting it
    diff = analysis.loss_difference(tiny_model.trace(text), abab)
    log_probs = reference.run(tiny_model, text)["log_probs"]  # (T, V) the LSTM stepped by hand
    ids = tiny_model.vocab.encode(text)
    for t in range(len(text) - 1):
        if ids[t + 1] == 0:
            assert np.isnan(diff[t])
        else:  # the n-gram's whole distribution after the context, not its per-position path
            expected = -log_probs[t, ids[t + 1]] + np.log(abab.distribution(text[: t + 1])[ids[t + 1]])
            assert diff[t] == pytest.approx(expected, abs=1e-5), t
    assert np.isnan(diff[-1])


def test_the_ngram_oracle_asks_true_order_n_models_of_the_training_text(tiny_model):
    vocab = tiny_model.vocab
    train = normalise(make_corpus(400))
    model = ngram.train(train, vocab, order=12, min_count=2)
    text = normalise(make_corpus(40, seed=7))
    ids = vocab.encode(text)
    alone = [ngram.train(train, vocab, order=n, min_count=2).next_char_probs(text)[:-1] for n in range(1, 10)]
    expected = np.append(np.max(alone, axis=0) >= 0.5, False)  # each order trained on its own
    np.testing.assert_array_equal(analysis.oracle_masks(text, model)["n-gram"], expected)
    # the 12-gram's own lower orders (continuation counts below the top) would answer otherwise
    assert ((model.order_probs(ids)[1:10].max(axis=0) >= 0.5) != expected[:-1]).sum() > 20
