"""The tour of the lecture's four cells: the cells of Karpathy, Johnson & Fei-Fei (2015),
"Visualizing and Understanding Recurrent Networks", found in the shipped models.

Each step is one click: it loads a model, an example text (ui/session/examples.py) and a cell, and says
in plain words what the colours show and how an LSTM can do it. The steps live here and only
here; ui/views/tour_view.py draws them, and tests/app/test_tour.py checks that each cell follows its
hypothesis on its example at least as closely as the step says.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from lstm_viz.find.match import NAME

from .examples import CUSTOM, EXAMPLES


@dataclass(frozen=True)
class Step:
    button: str  # the button's words
    model: str
    example: str  # a key of ui.session.examples.EXAMPLES
    layer: int  # from 0, as in the session
    cell: int
    hypothesis: str  # the lstm_viz.core.features hypothesis the cell follows
    sign: int  # +1: the cell is higher (bluer) where the hypothesis is higher; -1: lower (redder)
    least: float  # the cell's match with `hypothesis` on the example is at least this
    colours: str  # what the colours show, in plain words
    how: str  # how an LSTM can do it, in plain words

    def promise(self) -> str:
        """The sentence a test holds the step to."""
        return (
            f"On this text its {NAME} with {self.hypothesis.replace('_', ' ')} is above {self.least:.2f} "
            "(1 would be perfect)."
        )


STEPS: dict[str, Step] = {
    "quotes": Step(
        "Inside quotes",
        "warpeace",
        "dialogue",
        1,
        429,
        "quotes",
        +1,
        0.95,
        'Blue from an opening " to its closing one, red everywhere else: the cell knows whether someone is speaking.',
        'A memory set and cleared by ": the opening quote makes the input gate write a high value into c, the '
        "forget gate keeps it through the quotation, and the closing quote writes it back down.",
    ),
    "line": Step(
        "Line position",
        "warpeace",
        "long",
        1,
        164,
        "line_position",
        +1,
        0.80,
        "Each line starts red, turns white about forty characters in and blue after sixty: the colour says how "
        "far along the line the model is (on very long lines it stays blue).",
        "A counter: every character adds a little to c, and each newline (\u21b5) makes the forget gate wipe "
        "it. The novel's lines wrap near 80 characters, so the count tells the model a newline is due.",
    ),
    "if": Step(
        "if conditions",
        "linux",
        "ifs",
        0,
        20,
        "if_condition",
        -1,
        0.75,
        "Red from the bracket after each if through its condition, blue in the rest of the code (and red "
        "again inside a string in quotes).",
        "The letters i and f and the ( after them set it; it holds whatever the brackets contain and is "
        "cleared when the next line begins: a memory that lasts as long as the condition.",
    ),
    "depth": Step(
        "Bracket depth",
        "linux",
        "c",
        0,
        425,
        "bracket_depth",
        -1,
        0.75,
        "Blue at the function's outer level, paler inside each { block, red in the innermost ones, and blue "
        "again as the } close them.",
        "A counter that goes both ways: each opening bracket takes a step off c, each closing one puts it "
        "back, and the forget gate keeps the count in between, so the model knows how many } are to come.",
    ),
}

OWN = "Your own text"  # the last step's button
OWN_WORDS = (
    "Type or paste some text above (Ctrl+Enter applies it) to see every character coloured by the "
    "chosen cell. Prose with dialogue suits the War and Peace model, C code the Linux one; Find cells "
    "then ranks every cell against quotes, line position, bracket depth or a pattern of yours, on your text."
)


def current(session: Mapping) -> str | None:
    """The key of the step the page shows now (its model, example, layer and cell), or None."""
    for key, step in STEPS.items():
        if (session["model"], session["example"], session["layer"], session["cell"]) == (
            step.model,
            step.example,
            step.layer,
            step.cell,
        ):
            return key
    return None


def take(session, key: str) -> None:
    """Show step `key`: its model, its example, its cell coloured by tanh(c), its hypothesis in
    the finder; the text view jumps to the cell."""
    step = STEPS[key]
    session.update(
        model=step.model,
        current_model=step.model,
        example=step.example,
        text=EXAMPLES[step.example].text,
        pos=0,
        layer=step.layer,
        cell=step.cell,
        signal="cell",
        hypothesis=step.hypothesis,
        suggest=False,
    )
    session["jump"] = session.get("jump", 0) + 1


def own(session) -> None:
    """The last step: an empty box for the visitor's own text, the model and cell kept."""
    session.update(example=CUSTOM, text="", pos=0)
