"""CharLSTM's eval_mode(): every library function that switches a model to eval gives its mode back."""

import pytest
import torch

from lstm_viz import CharLSTM, Config, Vocab, attribution
from lstm_viz.core.model import eval_mode
from lstm_viz.train.evaluate import evaluate

TEXT = 'the cat said "hello (there)" [quickly]\nand ran.\n'


class Broken(torch.nn.Linear):
    """A head that fails on its first use."""

    def forward(self, x):
        raise RuntimeError("broken head")


@pytest.fixture
def training_model():
    torch.manual_seed(0)
    vocab = Vocab(sorted(set(TEXT)))
    return CharLSTM(Config(len(vocab), layers=2, hidden=16, embed=8, dropout=0.5), vocab).train()


def test_eval_mode_switches_dropout_off_inside_and_gives_the_mode_back_after_an_error(training_model):
    with pytest.raises(KeyError), eval_mode(training_model):
        assert not training_model.training and not training_model.drop.training
        raise KeyError("an error inside")
    assert training_model.training and training_model.drop.training
    with eval_mode(training_model.eval()):
        pass
    assert not training_model.training


@pytest.mark.parametrize(
    "run",
    [
        lambda model: evaluate(model, torch.as_tensor(model.vocab.encode(TEXT * 5))),
        lambda model: attribution(model, TEXT, 10),
    ],
    ids=["evaluate", "attribution"],
)
def test_a_failing_evaluation_leaves_a_training_model_in_training(training_model, run):
    run(training_model)
    assert training_model.training
    training_model.head = Broken(16, len(training_model.vocab))
    with pytest.raises(RuntimeError, match="broken head"):
        run(training_model)
    assert training_model.training and training_model.drop.training
