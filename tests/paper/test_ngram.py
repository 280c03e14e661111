"""Character n-gram baselines: Kneser-Ney by hand, normalisation, alignment, pruning, files."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lstm_viz import Vocab
from lstm_viz.paper import ngram
from tests.conftest import make_corpus

AB = Vocab(["a", "b"])  # ids: 0 unknown, 1 a, 2 b
# Alphas are stored as float32 (relative error 6e-8); a back-off weight is 1 minus their sum,
# so a value computed by hand is matched to 1e-7 absolute.
BY_HAND = 1e-7


def test_unigram_on_abab_by_hand():
    # counts a = b = 500 at the highest order, too few kinds of count for Chen & Goodman's
    # estimate, so D(3+) = 1.5: alpha = (500 - 1.5) / 1000, gamma = 2 * 1.5 / 1000, P_0 = 1/3
    model = ngram.train("ab" * 500, AB, order=1)
    assert model.distribution("") == pytest.approx([0.003 / 3, 0.4985 + 0.001, 0.4985 + 0.001], abs=BY_HAND)


def test_bigram_whose_discounts_come_from_the_counts_of_counts_by_hand():
    # "aaaaabbbbcbcbde": 14 bigrams, aa 4, ab 1, bb 3, bc 2, cb 2, bd 1, de 1, so the counts of
    # counts are n1 = 3 (ab, bd, de), n2 = 2 (bc, cb), n3 = 1 (bb), n4 = 1 (aa), and Chen &
    # Goodman's discounts of the top order (not the defaults 0.5, 1, 1.5) are
    Y = 3 / (3 + 2 * 2)
    D1 = 1 - 2 * Y * 2 / 3  # 3/7
    D2 = 2 - 3 * Y * 1 / 2  # 19/14
    D3 = 3 - 4 * Y * 1 / 1  # 9/7
    # Order 2 after "b": b is followed 6 times (bb 3, bc 2, bd 1); the back-off weight is the
    # discounted mass, one D per kind of follower.
    alpha = {"b": (3 - D3) / 6, "c": (2 - D2) / 6, "d": (1 - D1) / 6}
    gamma = (D3 + D2 + D1) / 6
    # Order 1, continuation counts (distinct left neighbours): a {a}, b {a, b, c}, c {b}, d {b},
    # e {d}: 1, 3, 1, 1, 1 of 7; no count of 2, so the default discounts 0.5 and 1.5 apply.
    # P_0 is uniform over the 5 letters and the unknown slot.
    p1 = {"?": 0.0, "a": 0.5 / 7, "b": 1.5 / 7, "c": 0.5 / 7, "d": 0.5 / 7, "e": 0.5 / 7}
    gamma1 = (4 * 0.5 + 1.5) / 7
    p1 = {w: p + gamma1 / 6 for w, p in p1.items()}
    expected = [alpha.get(w, 0.0) + gamma * p1[w] for w in "?abcde"]
    assert expected[2] == pytest.approx(0.438067, abs=1e-6)  # P(b | b), 0.3988 with the default discounts
    model = ngram.train("aaaaabbbbcbcbde", Vocab(list("abcde")), order=2)
    assert model.info["discounts"][1] == pytest.approx([D1, D2, D3], abs=1e-4)
    assert model.distribution("b") == pytest.approx(expected, abs=BY_HAND)


def test_bigram_on_abab_by_hand():
    # order 2: "ab" seen 500 times after "a": alpha = 498.5 / 500, gamma = 1.5 / 500.
    # order 1 uses continuation counts: a and b each follow one kind of character (u = 1), so
    # alpha = (1 - 0.5) / 2 and gamma = 2 * 0.5 / 2, and P_1(b) = 0.25 + 0.5 / 3.
    model = ngram.train("ab" * 500, AB, order=2)
    p1 = 0.25 + 0.5 / 3
    assert model.distribution("a")[2] == pytest.approx(498.5 / 500 + 1.5 / 500 * p1)
    assert model.distribution("xyz a")[2] == pytest.approx(498.5 / 500 + 1.5 / 500 * p1)


def test_abab_text_is_predicted_almost_surely():
    model = ngram.train("ab" * 500, AB, order=5)
    loss = model.loss_per_char("abababababab")
    assert loss.shape == (12,) and np.isnan(loss[-1])
    assert (loss[3:-1] < 0.01).all()  # with a full context of 4 characters
    assert (loss[:-1] < np.log(3)).all()  # shorter contexts fall back on continuation counts
    assert model.distribution("abab").argmax() == 1 and model.distribution("abab")[1] > 0.99


@pytest.fixture(scope="module")
def vocab():
    return Vocab.from_text(make_corpus())


@pytest.fixture(scope="module")
def prose_models(vocab):
    return ngram.train_pruned(make_corpus(), vocab, order=8, min_counts=(1, 3))


@pytest.mark.parametrize("min_count", [1, 3])
@pytest.mark.parametrize(
    "context", ["", "t", "the ca", "dogs ran over hi", "\u00e9\u00e9\u00e9 qqq", 'he said. "yes," he s']
)
def test_every_distribution_sums_to_one(prose_models, context, min_count):
    p = prose_models[min_count].distribution(context)
    assert p.shape == (len(prose_models[min_count].vocab),) and (p > 0).all()
    assert p.sum() == pytest.approx(1.0, abs=1e-9)


@pytest.mark.parametrize("order", [5, 20])
def test_the_training_texts_own_start_is_a_distribution(order):
    # Regression: "Wqz!" occurs once, at the very start, so its n-grams have no continuation
    # count; the top order kept the first n-gram but not its context, and the context's back-off
    # weight was written into another context's slot: P(. | text[:order - 1]) summed to 1.5.
    text = "Wqz! " + "the cat sat on the mat. the dog sat on the log. " * 3
    model = ngram.train(text, Vocab.from_text(text), order=order, min_count=1)
    for end in range(len(text) + 1):
        assert model.distribution(text[:end]).sum() == pytest.approx(1.0, abs=1e-9), end


ALPHABET = "ab c.\né?"  # ? and é are left out of some alphabets: the unknown slot


@st.composite
def corpora(draw):
    """(text, vocab, order, min count): short texts, some repetitive so long n-grams recur."""
    order = draw(st.integers(1, 20))
    letters = st.text(alphabet=ALPHABET, min_size=1, max_size=12)
    text = draw(
        st.one_of(
            st.text(alphabet=ALPHABET, min_size=order + 1, max_size=120),
            st.builds(lambda unit, times, noise: unit * times + noise, letters, st.integers(1, 20), letters),
        )
    )
    text = text + "a" * max(order + 1 - len(text), 0)
    chars = draw(st.sets(st.sampled_from(ALPHABET), min_size=1))
    return text, Vocab(sorted(chars)), order, draw(st.integers(1, 6))


@pytest.mark.slow
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(corpora(), st.lists(st.text(alphabet=ALPHABET + "xyz", max_size=25), max_size=4))
def test_every_distribution_sums_to_one_whatever_the_text_order_and_pruning(corpus, contexts):
    text, vocab, order, min_count = corpus
    model = ngram.train(text, vocab, order=order, min_count=min_count)
    prefixes = [model.distribution(text[:end]) for end in range(len(text) + 1)]
    for context, p in zip(list(range(len(text) + 1)) + contexts, prefixes + [model.distribution(c) for c in contexts]):
        assert (p > 0).all() and abs(p.sum() - 1) < 1e-9, (context, p.sum())
    # the loss path (one next character per position) reads the same numbers
    ids = vocab.encode(text)
    nexts = [p[i] for p, i in zip(prefixes[1:], ids[1:])]
    np.testing.assert_allclose(model.order_probs(ids)[-1], nexts, rtol=1e-12)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(corpora())
def test_true_order_n_rows_are_the_order_n_models_of_the_text(corpus):
    text, vocab, order, min_count = corpus
    model = ngram.train(text, vocab, order=order, min_count=min_count)
    ids = vocab.encode(text)
    up_to = min(order, ngram.TRUE_ORDERS)
    rows = model.true_order_probs(ids, up_to)
    for n in range(1, up_to + 1):
        alone = ngram.train(text, vocab, order=n, min_count=min_count)  # trained on its own
        np.testing.assert_allclose(rows[n - 1], alone.order_probs(ids)[-1], rtol=1e-12, err_msg=f"order {n}")


def test_pruning_keeps_fewer_ngrams_and_still_predicts(prose_models):
    full, pruned = prose_models[1], prose_models[3]
    assert pruned.entries() < full.entries()
    text = make_corpus(60, seed=5).replace("\r\n", "\n")
    assert pruned.loss(text) < np.log(len(pruned.vocab))


def test_loss_per_char_is_aligned_with_the_next_character(prose_models, vocab):
    model = prose_models[1]
    text = 'the cat sat, "yes," he said. \u00e9 qq\n'
    loss = model.loss_per_char(text)
    ids = vocab.encode(text)
    for t in range(len(text) - 1):
        if ids[t + 1] == 0:
            assert np.isnan(loss[t])  # the next character is outside the alphabet
        else:
            assert loss[t] == pytest.approx(-np.log(model.distribution(text[: t + 1])[ids[t + 1]]), rel=1e-5)
    assert np.isnan(loss[-1])


def test_text_shorter_than_the_order_is_refused_with_a_message(prose_models):
    with pytest.raises(ValueError, match="fewer than the n-gram's order"):
        prose_models[1].loss_per_char("the")


def test_save_and_load_round_trip(prose_models, tmp_path):
    model = prose_models[3]
    path = model.save(tmp_path / "ngram.npz")
    again = ngram.load_file(path)
    text = make_corpus(20, seed=2)
    assert again.order == 8 and again.vocab == model.vocab and again.info["min_count"] == 3
    np.testing.assert_array_equal(again.loss_per_char(text), model.loss_per_char(text))


def test_files_holding_pickles_or_garbage_are_refused(tmp_path):
    pickled = tmp_path / "pickled.npz"
    np.savez(pickled, header=np.array([{"format": ngram.FORMAT}], dtype=object))
    with pytest.raises(ValueError, match="not a readable n-gram file"):
        ngram.load_file(pickled)
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"not a zip at all")
    with pytest.raises(ValueError, match="not a readable n-gram file"):
        ngram.load_file(garbage)


def test_the_training_split_keeps_frequent_words_for_the_rare_word_oracle(prose_models):
    words = set(prose_models[1].info["frequent_words"])
    assert {"the", "cat", "said"} <= words and "yes" in words


@pytest.mark.parametrize("name", ["warpeace", "linux"])
def test_shipped_ngrams_load_and_match_their_cards(name):
    import lstm_viz

    model = lstm_viz.load_ngram(name)
    card = lstm_viz.io.checkpoint.read_card(lstm_viz.io.checkpoint.resolve(name))
    assert model.order == 20 and model.vocab.chars == card["alphabet"]
    assert card["ngram"]["bytes"] <= 20_000_000 and card["ngram"]["test"]["nats"] > 0
    assert (
        model.loss(
            "static int main(void)\n{\n\treturn 0;\n}\n" if name == "linux" else '"Well, Prince," said Anna Pavlovna.\n'
        )
        < 3.0
    )
