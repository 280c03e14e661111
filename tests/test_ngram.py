"""Character n-gram baselines: Kneser-Ney by hand, normalisation, alignment, pruning, files."""
import numpy as np
import pytest

from lstm_viz import Vocab, ngram
from tests.conftest import make_corpus

AB = Vocab(["a", "b"])  # ids: 0 unknown, 1 a, 2 b


def test_unigram_on_abab_by_hand():
    # counts a = b = 500 at the highest order, too few kinds of count for Chen & Goodman's
    # estimate, so D(3+) = 1.5: alpha = (500 - 1.5) / 1000, gamma = 2 * 1.5 / 1000, P_0 = 1/3
    model = ngram.train("ab" * 500, AB, order=1)
    assert model.distribution("") == pytest.approx([0.003 / 3, 0.4985 + 0.001, 0.4985 + 0.001])


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
@pytest.mark.parametrize("context", ["", "t", "the ca", "dogs ran over hi", "\u00e9\u00e9\u00e9 qqq", 'he said. "yes," he s'])
def test_every_distribution_sums_to_one(prose_models, context, min_count):
    p = prose_models[min_count].distribution(context)
    assert p.shape == (len(prose_models[min_count].vocab),) and (p > 0).all()
    assert p.sum() == pytest.approx(1.0, abs=1e-5)


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
            assert loss[t] == pytest.approx(-np.log(model.distribution(text[:t + 1])[ids[t + 1]]), rel=1e-5)
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
    card = lstm_viz.checkpoint.read_card(lstm_viz.checkpoint.resolve(name))
    assert model.order == 20 and model.vocab.chars == card["alphabet"]
    assert card["ngram"]["bytes"] <= 20_000_000 and card["ngram"]["test"]["nats"] > 0
    assert model.loss("static int main(void)\n{\n\treturn 0;\n}\n" if name == "linux" else
                      '"Well, Prince," said Anna Pavlovna.\n') < 3.0
