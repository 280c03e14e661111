"""The tour of the lecture's four cells on the opening page (the steps: ui/session/tour.py): a row of
buttons, one per step and a last one for your own text, and the shown step's words."""

from __future__ import annotations

import streamlit as st

from ..session import tour

LEAD = "The lecture's cells, one click each:"


def buttons() -> None:
    """One button per step (the one shown marked) and the last step's; a click loads the step.
    (Buttons without keys: a click is an event, not a choice the session keeps.)"""
    session = st.session_state
    shown = tour.current(session)
    columns = st.columns([1.3] + [1] * (len(tour.STEPS) + 1), vertical_alignment="center")
    columns[0].markdown(f"**{LEAD}**")
    for column, (key, step) in zip(columns[1:], tour.STEPS.items()):
        column.button(
            step.button,
            on_click=tour.take,
            args=(session, key),
            type="primary" if key == shown else "secondary",
            help=f"Model {step.model}, layer {step.layer + 1}, cell {step.cell}",
            width="stretch",
        )
    columns[-1].button(tour.OWN, on_click=tour.own, args=(session,), width="stretch")


def words() -> None:
    """What the shown step's colours mean and how an LSTM can do it, while its cell is shown."""
    key = tour.current(st.session_state)
    if key is None:
        return
    step = tour.STEPS[key]
    number = list(tour.STEPS).index(key) + 1
    st.info(
        f"**{number} of {len(tour.STEPS)}: {step.button}, layer {step.layer + 1} cell {step.cell}.** "
        f"{step.colours} {step.how} {step.promise()}"
    )
