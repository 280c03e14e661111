"""The match: the one number that says how well a label explains a cell, wherever a cell is scored.

The shipped explanation table (`lstm_viz.find.explainer`, explain.json) measures it on held-out text;
the finder (`lstm_viz.find.finder`) measures it live, on the text being read. Both go through `match`.
"""

from __future__ import annotations

import numpy as np

NAME = "match"
MEANING = (
    "how closely the cell's tanh(c) follows the label, up to 1 (exactly) from 0 (not at all): the "
    "correlation between tanh(c) and the straight line w x label + b that predicts it best"
)
HELD_OUT = "on held-out text: the line is fitted on one half of text the model never trained on, measured on the other"
LIVE = "on your text: the line is fitted and measured on the text on the page"


def match(fitted_r, measured_r):
    """How closely a cell follows a label: 1 when the cell's tanh(c) moves exactly with it, 0 when
    it does not move with it at all.

    In plain words: the label predicts the cell by a straight line, w x label + b; the match is the
    correlation between that prediction and the cell. The line's direction (whether the cell rises
    or falls with the label, the sign of w) is fitted on one text and the correlation measured on
    another: `fitted_r` and `measured_r` are the Pearson r of the cell with the label on each
    (numbers or arrays of one shape). Measured on the text it was fitted on, the match is |r|.
    It is negative when the direction fitted on the first text does not hold on the second.
    (A label that is a pair of hypotheses predicts the cell by a line in both; its match is the
    same correlation, see `lstm_viz.find.explainer.best_pairs`.)
    """
    return np.sign(fitted_r) * np.asarray(measured_r)
