"""Cell labels as the app shows them (from a model's explain.json, `lstm_viz.find.cellpage`): the kind
of thing a label is about, for grouping and colouring cells, and labels made safe for markdown.

Plain functions over the explanation record and its table; no Streamlit here.
"""

from __future__ import annotations

import re

import pandas as pd

from lstm_viz.find.match import HELD_OUT, LIVE, MEANING, NAME
from lstm_viz.views import colour

# Kinds of label, in the order groups are shown, and the hypothesis keys (`key` up to its first
# ":", of the first hypothesis of a pair) that belong to each. A key of no kind is "other".
KINDS = {
    "span": (
        "inside quotes, brackets, comments or a statement",
        ("quotes", "inside", "line", "comment", "cond", "body", "stmt", "if_condition", "if_body"),
    ),
    "depth": ("depth of brackets", ("depth", "bracket_depth", "paren_depth")),
    "distance": (
        "characters since a character (line, word position)",
        ("since", "logsince", "since-not", "line_position"),
    ),
    "word": ("words and sentences", ("word", "in_word", "sentence_end")),
    "current": ("the current or previous character", ("is", "prev")),
    "next": ("the next character (predicts it)", ("next",)),
    "other": ("other", ()),
    "constant": ("constant: no label", ()),
}
COLOURS = dict(zip(KINDS, colour.CATEGORIES))
KIND_OF = {prefix: kind for kind, (_, prefixes) in KINDS.items() for prefix in prefixes}
HOW_TO_BUILD = (
    "This model has no cell labels (explain.json): build them with "
    "`python -m lstm_viz explain --model {model} --corpus CORPUS` (CORPUS: the text it was trained on; "
    "the labels are fitted on its held-out test split) and reload the page."
)
MARKDOWN = re.compile(r"([\\`*_{}\[\]<>()#+\-.!|~$:&^=])")  # the characters markdown (and Streamlit's) give a meaning


MATCH_HELP = {  # the tooltip of a match, by where it was measured
    "held_out": f"{NAME}: {MEANING}; measured {HELD_OUT}.",
    "live": f"{NAME}: {MEANING}; measured {LIVE}.",
}
MATCH_WHERE = {"held_out": "on held-out text", "live": "on your text", "example": "on this example"}


def match_value(value: float | None) -> str:
    """A match as the app shows it everywhere: two decimals ("-" where there is none)."""
    return "-" if value is None or value != value else f"{value:.2f}"


def match_text(value: float | None, where: str) -> str:
    """The words of a match, e.g. "match 0.82 on held-out text" (where: "held_out", the shipped table;
    "live", your text; "example")."""
    return f"{NAME} {match_value(value)} {MATCH_WHERE[where]}"


def primary(key: str) -> str:
    """The key of a label's first hypothesis ("quotes + is:i" -> "quotes")."""
    return key.split(" + ", 1)[0]


def kind(key: str | None) -> str:
    """The kind (a key of KINDS) of a label from its hypothesis key; "constant" for no key."""
    if not key:
        return "constant"
    return KIND_OF.get(primary(key).split(":", 1)[0], "other")


def how_to_build(model: str) -> str:
    """The line a panel shows for a model with no explain.json."""
    return HOW_TO_BUILD.format(model=model if re.fullmatch(r"[\w.-]+", model) else "FOLDER")


def plain(text: str) -> str:
    """Text for a markdown label (st.page_link, st.markdown) shown as typed: every character that
    means something to markdown escaped, so that no `*`, `[`, `:` or `$` in a label formats, links or draws."""
    return MARKDOWN.sub(r"\\\1", text.replace("\n", " "))


def with_kinds(table: pd.DataFrame) -> pd.DataFrame:
    """The explanation table (`cellpage.table`) with each cell's `kind`."""
    return table.assign(kind=[kind(k) for k in table["key"]])


def layer_labels(table: pd.DataFrame, layer: int, hidden: int) -> pd.DataFrame:
    """One layer's rows of the table, indexed by cell 0..hidden-1 (label, key, score, kind)."""
    rows = with_kinds(table[table["layer"] == layer]).set_index("cell").sort_index()
    return rows.reindex(range(hidden))


def group_by_label(cells: list[int], labels: pd.DataFrame) -> tuple[list[int], list[str]]:
    """`cells` regrouped so that cells whose label starts with the same hypothesis sit together:
    groups by kind (KINDS' order), then by their best score; within a group best score first.
    Also each row's group title (the first hypothesis' label). `labels` is `layer_labels`."""
    rows = labels.loc[cells]
    first = rows["label"].str.split(" + ", n=1, regex=False).str[0]
    frame = pd.DataFrame(
        {
            "cell": cells,
            "group": [primary(k) if isinstance(k, str) and k else "" for k in rows["key"]],
            "title": first.fillna("(no label)").tolist(),
            "kind": [list(KINDS).index(k) if isinstance(k, str) else len(KINDS) for k in rows["kind"]],
            "score": rows["score"].fillna(-1.0).tolist(),
        }
    )
    frame["best"] = frame.groupby("group")["score"].transform("max")
    frame = frame.sort_values(["kind", "best", "group", "score", "cell"], ascending=[True, False, True, False, True])
    return frame["cell"].tolist(), frame["title"].tolist()


def map_frame(table: pd.DataFrame, record: dict) -> pd.DataFrame:
    """Every cell's 2-D position on the cell map (the record's `map`), with its label, score and kind."""
    H = record["cells_per_layer"]
    xy = pd.DataFrame(
        [(c["layer"], c["cell"], *(c["map"] or (None, None))) for c in record["cells"]],
        columns=["layer", "cell", "x", "y"],
    )
    frame = xy.merge(with_kinds(table)[["layer", "cell", "label", "score", "kind"]], on=["layer", "cell"])
    return frame.assign(index=frame["layer"] * H + frame["cell"]).sort_values("index").reset_index(drop=True)
