"""The session as the page reads it: whatever a client left in it (keys missing, of another type,
not one of the choices), `state.start` hands the page a session of valid values."""

import math

from hypothesis import given
from hypothesis import strategies as st

from ui.session import session_check, state
from ui.session.examples import CUSTOM, EXAMPLES
from ui.session.signals import SIGNALS

MODELS = ["warpeace", "linux"]
JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.binary(max_size=5),
    st.lists(st.integers(), max_size=3),
    st.tuples(st.integers(), st.integers()),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
)


@given(st.dictionaries(st.sampled_from(sorted(state.DEFAULTS)), JUNK), st.booleans())
def test_any_session_is_mended_to_valid_values(junk, started):
    session = ({"notes": []} if started else {}) | junk
    state.start(session, {}, MODELS, lambda name: "lstm")
    for key, default in state.DEFAULTS.items():
        assert session_check.valid(key, session[key], default), (key, session[key])
    assert session["model"] in MODELS and session["signal"] in SIGNALS
    assert session["example"] in [*EXAMPLES, CUSTOM]


def test_valid_values_are_kept():
    session = dict(state.DEFAULTS, notes=[], layer=1, cell=429, text="own", iv_value=1.5, find_start=3)
    before = dict(session)
    assert session_check.repair(session, state.DEFAULTS) == []
    assert session == before


def test_what_is_mended_is_named_and_a_type_is_never_taken_for_another():
    session = dict(state.DEFAULTS, cell=True, iv_value=2, layer=1.0, text=b"x", dims=(2, 0), find_end=math.nan)
    del session["model"]
    mended = session_check.repair(session, state.DEFAULTS)
    assert sorted(mended) == ["cell", "dims", "find_end", "iv_value", "layer", "model", "text"]
    assert session["cell"] == 0 and session["iv_value"] == 0.0 and session["find_end"] is None


def test_a_number_past_any_model_or_text_is_not_valid():
    assert not session_check.valid("cell", 10**30, 0) and session_check.valid("cell", 10**6, 0)
    assert not session_check.valid("iv_value", math.inf, 0.0)


def test_a_choice_widget_gets_its_default_or_first_option():
    session = {"heatmap_order": "nonsense", "panel": ["list"]}
    state.choose(session, "heatmap_order", {"index": "", "variation": ""})
    state.choose(session, "panel", {"All cells": None})
    assert session == {"heatmap_order": "variation", "panel": "All cells"}
