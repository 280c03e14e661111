"""attribution: which earlier characters a next-character prediction depends on."""

import numpy as np
import pytest
import torch

from lstm_viz import CharLSTM, Config, Vocab, attribution

TEXT = 'the cat said "hello (there)" [quickly]\nand ran.\n'


@pytest.fixture(scope="module")
def memoryless():
    """A model that forgets everything at once: each prediction depends on the last character only."""
    torch.manual_seed(2)
    vocab = Vocab(sorted(set(TEXT)))
    model = CharLSTM(Config(len(vocab), layers=2, hidden=16, embed=8), vocab).eval()
    with torch.no_grad():
        for layer in range(2):
            model.lstm.get_parameter(f"weight_hh_l{layer}").zero_()
            model.lstm.get_parameter(f"bias_ih_l{layer}")[16:32] = -200.0  # forget gate shut
    return model


@pytest.mark.parametrize("method", ["gradient_x_input", "integrated_gradients"])
def test_only_the_character_the_prediction_depends_on_is_credited(memoryless, method):
    credit = attribution(memoryless, TEXT, 20, method)
    assert credit.shape == (21,)
    assert np.all(credit[:20] == 0) and credit[20] != 0


@pytest.mark.parametrize("method", ["gradient_x_input", "integrated_gradients"])
def test_a_character_far_back_is_credited_when_the_state_carries_it(tiny_model, method):
    credit = attribution(tiny_model, TEXT, 20, method)
    assert np.all(np.isfinite(credit)) and np.abs(credit[:10]).max() > 0


@torch.no_grad()
def test_integrated_gradients_add_up_to_the_change_from_a_blank_input(tiny_model):
    ids = torch.as_tensor(tiny_model.vocab.encode(TEXT[:21]))
    x = tiny_model.embedding(ids)[None]

    def log_p(inputs):
        out, _ = tiny_model.lstm(inputs)
        return torch.log_softmax(tiny_model.head(out[0, -1]), -1)[tiny_model.vocab.encode(TEXT[21])[0]].item()

    credit = attribution(tiny_model, TEXT, 20, "integrated_gradients", steps=128)
    assert credit.sum() == pytest.approx(log_p(x) - log_p(torch.zeros_like(x)), abs=2e-3)


def test_gradient_x_input_is_the_gradient_dotted_with_the_embedding(tiny_model):
    ids = torch.as_tensor(tiny_model.vocab.encode(TEXT[:6]))
    x = tiny_model.embedding(ids).detach().requires_grad_()
    out, _ = tiny_model.lstm(x[None])
    torch.log_softmax(tiny_model.head(out[0, -1]), -1)[tiny_model.vocab.encode(TEXT[6])[0]].backward()
    np.testing.assert_allclose(attribution(tiny_model, TEXT, 5), (x.grad * x).sum(1).detach().numpy(), atol=1e-6)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"t": len(TEXT) - 1}, "no next character"),
        ({"t": -1}, "no next character"),
        ({"t": 3, "method": "saliency"}, "unknown attribution method"),
        ({"t": 3, "method": "integrated_gradients", "steps": 0}, "steps"),
    ],
)
def test_bad_requests_get_a_one_line_error(tiny_model, kwargs, message):
    with pytest.raises(ValueError, match=message):
        attribution(tiny_model, TEXT, **kwargs)
