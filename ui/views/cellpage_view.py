"""The cell page (pages/2_Cell.py): everything known of one cell, at its own address
(`ui.session.cell_link`, e.g. Cell?model=warpeace&cell=2:429).

From the model's explain.json (`lstm_viz.find.cellpage`): the label, its score and runner-up, the
activation histogram, snippets of held-out text where the cell is highest, at its quantiles and
lowest (coloured like the main view), the most correlated cells and the causal check. From the
weights: what the cell writes and which inputs drive its gates. Steering (a button): what the
model writes with the cell held low, untouched and held high. Every other cell named is a link
to its own page. For a model with snapshots, the cell's match with its label over training.
"""

from __future__ import annotations

from typing import NamedTuple

import streamlit as st

import lstm_viz
from lstm_viz.core.vocab import UNKNOWN_SYMBOL
from lstm_viz.find import cellpage, hypotheses
from lstm_viz.views import glyphs, render

from ..backend import cache, own_model
from ..session import cell_link, state
from ..session.labels import MATCH_HELP, how_to_build, match_text, match_value, plain
from ..widgets import glossary
from . import training_view
from .finder_view import histogram_html

LABEL_CHARS = 90  # of a related cell's label in its link


def dims(name: str) -> tuple[int, int]:
    """(layers, cells per layer) of a model; ValueError (one line) if it cannot load."""
    try:
        model = cache.model(name)
    except lstm_viz.CheckpointError as e:
        raise ValueError(f"Cannot load model {plain(name)}: {plain(str(e))}") from None
    return model.config.layers, model.config.hidden


def _goto() -> None:
    """on_change of the box that opens another cell: the page's address names it."""
    typed = st.session_state["page_goto"].strip()
    st.session_state["page_goto"] = ""
    if typed:
        st.query_params["cell"] = typed
        st.query_params.pop("layer", None)


def goto_box() -> None:
    st.text_input("Open another cell", key="page_goto", placeholder="layer:cell, e.g. 2:429", on_change=_goto)


def short(label: str) -> str:
    return label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "\u2026"


def cell_link_to(name: str, record: dict, layer: int, cell: int, note: str) -> None:
    """A link to another cell's page: its number, `note` (plain markdown of numbers) and its label."""
    label = cellpage.entry(record, layer, cell)["label"]
    st.page_link(
        cell_link.PAGE,
        label=f"{layer + 1}:{cell} \u00b7 {note} \u00b7 {plain(short(label))}",
        query_params=cell_link.query(name, layer, cell),
    )


def navigation(name: str, layer: int, cell: int, hidden: int) -> None:
    """Previous and next cell of the layer, and the way back to the main page with this cell."""
    left, middle, right = st.columns([1, 1, 2])
    for column, step, text in ((left, -1, "\u2190 cell {}"), (middle, 1, "cell {} \u2192")):
        other = (cell + step) % hidden
        column.page_link(
            cell_link.PAGE,
            label=text.format(f"{layer + 1}:{other}"),
            query_params=cell_link.query(name, layer, other),
        )
    if right.button("Show this cell in the main view", key="page_to_main"):
        st.switch_page("app.py", query_params=state.show_in_main(st.session_state, name, layer, cell))


def number(value: float | None, spec: str) -> str:
    """A number of the record ("-" where it has none: not finite when it was built)."""
    return "-" if value is None else format(value, spec)


class Memory(NamedTuple):
    """How the page names a cell's states for one kind of model, each with its glossary term."""

    shown: str  # what colours the text
    held: str  # what steering holds
    shown_term: str
    held_term: str
    h_term: str


ONE_STATE = Memory("h", "h", "one state h", "one state h", "one state h")  # a GRU's or an RNN's
MEMORY = {"lstm": Memory("tanh(c)", "raw c", "tanh(c)", "raw c", "hidden state h"), "gru": ONE_STATE, "rnn": ONE_STATE}


def memory_words(name: str) -> Memory:
    return MEMORY[cache.kind(name)]


def summary(name: str, record: dict, entry: dict) -> None:
    """Label, score, runner-up and the numbers behind them."""
    corpus = record.get("corpus", {})
    held_out = f"{record['chars']:,} characters of the {corpus.get('split', 'held-out')} split of {corpus.get('name')}"
    if entry["score"] is None:
        st.markdown(f"**No label**: the cell is constant on {plain(held_out)} (it varies less than sd 0.001).")
    else:
        direction = "rises" if entry["sign"] > 0 else "falls"
        st.markdown(f"### {plain(entry['label'])}")
        st.markdown(
            f"The cell {direction} with it{' (a pair of hypotheses combined)' if entry['pair'] else ''}: "
            f"**{match_text(entry['score'], 'held_out')}** ({plain(held_out)}). "
            + (
                f"Runner-up: {plain(entry['runner_up'])} ({match_text(entry['runner_up_score'], 'held_out')})."
                if entry["runner_up_score"] is not None
                else "No runner-up."
            ),
            help=MATCH_HELP["held_out"],
        )
    words = memory_words(name)
    a, b, c, d = st.columns(4)
    a.metric("Match", match_value(entry["score"]), help=MATCH_HELP["held_out"])
    b.metric(
        f"Mean {words.shown}",
        number(entry["mean"], "+.3f"),
        help=f"Its average colour on held-out text (standard deviation {number(entry['sd'], '.3f')}). "
        + glossary.tip(words.shown_term),
    )
    c.metric(
        "Typical |h|",
        number(entry["h_rms"], ".3f"),
        help="How large its h typically is (root mean square over the held-out text). " + glossary.tip(words.h_term),
    )
    d.metric(
        f"{words.held[0].upper()}{words.held[1:]} low / high",
        f"{number(entry['c_low'], '+.1f')} / {number(entry['c_high'], '+.1f')}",
        help="Its 1st and 99th percentile: the values steering holds it at. "
        + glossary.tip(words.held_term, "percentile"),
    )


def char_words(char: str) -> str:
    """One character as the page names it: in words where it would not read alone (a double quote,
    an apostrophe, a backquote, a space, a newline, any other character) as the labels name them,
    else the character itself."""
    if char == UNKNOWN_SYMBOL:
        return glyphs.UNKNOWN_WORDS
    return hypotheses.NAMED.get(char, glyphs.label(char))


GATES_WORDS = {  # what a cell's incoming weights feed, by kind (lstm_viz.find.cellpage.weight_blocks)
    "lstm": "four gates",
    "gru": "three gates (reset, update and candidate)",
    "rnn": "state (a vanilla RNN has no gates)",
}


def gates_words(name: str) -> str:
    kind = cache.kind(name)
    return GATES_WORDS.get(kind, "gates")


def block_words(block: str) -> str:
    """One block of a cell's weights as `writes` names it: "its forget gate", or an RNN's "its state"."""
    return "its state" if block == "state" else f"its {block} gate"


def causal(record: dict, entry: dict) -> None:
    check = entry.get("causal")
    if not check:
        st.caption("No causal check: it is run for the 50 best-explained cells of the model.")
        return
    about = (
        "where it is one of " + ", ".join(plain(char_words(ch)) for ch in check["about"])
        if check["about"]
        else "at every position"
    )
    passage = record.get("causal_passage", {}).get("chars", 0)
    st.markdown(
        f"**Causal check: does the model use it?** Holding the cell low changes the log p of the next "
        f"character {about} by **{check['change_low']:+.3f}** nats, holding it high by "
        f"**{check['change_high']:+.3f}** (negative: the model guesses worse; untouched, the mean log p is "
        f"{check['plain']:.3f}; over {passage:,} characters of held-out text, {check['targets']:,} of them scored).",
        help=glossary.tip("log p", "nats and bits", "clamp"),
    )


def snippet_rows(shots: list, headings: list[str] | None = None) -> str:
    """Snippets (cellpage's [start, index, value, text, colours x 100]) as escaped HTML, one per line,
    each after its value (or heading) and with its place in the held-out text as its hover card."""
    rows = []
    for k, (start, at, value, text, colours) in enumerate(shots):
        head = headings[k] if headings else f"{value:+.2f}"
        line = render.snippet(text, [v / 100 for v in colours], outlined=at)
        rows.append(
            '<div style="display:flex;gap:10px;align-items:center" '
            f'title="character {start + at:,} of the held-out text">'
            f'<span style="font-family:monospace;width:7em;color:#555">{head}</span>{line}</div>'
        )
    return "".join(rows)


def snippets(record: dict, entry: dict) -> None:
    quantiles = record.get("quantiles", [])
    st.markdown(
        "**Held-out text** (each character coloured by the cell, the activating one outlined)",
        help=glossary.tip("held-out text"),
    )
    for kind, heading, headings in (
        ("top", "Where it is highest", None),
        (
            "quantiles",
            "Where it is at its quartiles (a quarter, half, three quarters of its values lie below)",
            [f"{q:.0%}: {s[2]:+.2f}" for q, s in zip(quantiles, entry["quantiles"])],
        ),
        ("bottom", "Where it is lowest", None),
    ):
        if entry.get(kind):
            st.caption(heading)
            st.markdown(snippet_rows(entry[kind], headings), unsafe_allow_html=True)


def writes(name: str, record: dict, layer: int, cell: int, layers: int) -> None:
    """What the cell writes at its typical h."""
    out = cache.cell_writes(name, layer, cell)
    if layer == layers - 1:
        st.markdown(
            "**What it writes**: the next characters it makes likelier (raises their logit) and less likely "
            "(lowers it) most, at its typical h",
            help=glossary.tip("logit"),
        )
        left, right = st.columns(2)
        for column, key, heading in ((left, "raises", "Raises"), (right, "lowers", "Lowers")):
            column.markdown(
                f"| {heading} | logit |\n|:-:|--:|\n"
                + "\n".join(f"| {plain(char_words(ch))} | {v:+.3f} |" for ch, v in out[key])
            )
        return
    st.markdown(
        f"**What it writes**: the cells of layer {layer + 2} it feeds most (the size of its weight into their "
        f"{gates_words(name)}, times its typical h)",
        help=glossary.tip("gate", "hidden state h"),
    )
    for other, amount, gates in out["feeds"]:
        strongest = max(gates, key=lambda g: abs(gates[g]))
        cell_link_to(name, record, layer + 1, other, f"{amount:.2f} (most on {block_words(strongest)})")


def related(name: str, record: dict, entry: dict, layer: int, cell: int) -> None:
    """The most correlated cells and the inputs that drive the cell's gates most."""
    left, right = st.columns(2)
    with left:
        st.markdown(
            "**Most correlated** on held-out text: the cells that rise and fall most with it (r)",
            help=glossary.tip("Pearson r"),
        )
        for other_layer, other, r in entry["related"]:
            cell_link_to(name, record, other_layer, other, f"r {r:+.2f}")
    with right:
        st.markdown(
            f"**Drives {'it' if cache.kind(name) == 'rnn' else 'its gates'} most**: the inputs with "
            "the largest weight into its "
            f"{gates_words(name)}, times how large they typically are",
            help=glossary.tip("gate"),
        )
        for source, index, amount, _ in cache.cell_drivers(name, layer, cell):
            if source == "character":
                st.markdown(f"reading {plain(char_words(index))} \u00b7 {amount:.2f}")
            else:
                source_layer = int(source.split()[-1])
                when = "at the previous character" if source_layer == layer else "in the layer below"
                cell_link_to(name, record, source_layer, index, f"{amount:.2f} ({when})")


def steering(name: str, layer: int, cell: int, entry: dict) -> None:
    """On a press: what the model writes with the cell held low, untouched and held high."""
    words = memory_words(name)
    st.markdown("**Steering**: what the model writes with this cell held low, untouched and held high")
    st.caption(
        f"{cache.STEER_CHARS} characters after the opening of the model's example text, at temperature "
        f"{cache.STEER_TEMPERATURE}, with the cell's {words.held} held at its low "
        f"({number(entry['c_low'], '+.2f')}) and high ({number(entry['c_high'], '+.2f')}) value over the opening "
        "and the whole generation, and untouched; "
        "one seed for all three.",
        help=glossary.tip("steering", words.held_term, "temperature", "seed"),
    )
    session = st.session_state
    left, right = st.columns([1, 3])
    seed = int(
        left.number_input(
            "Seed", min_value=0, max_value=2**31 - 1, step=1, key="steer_seed", help=glossary.TERMS["seed"].short
        )
    )
    wanted = (name, layer, cell, seed)
    if right.button(f"Write {cache.STEER_CHARS} characters three ways", key="steer_go"):
        session["steered"] = wanted
    if session["steered"] != wanted:
        return
    out = cache.steer(name, layer, cell, seed)
    with st.expander("The opening they continue"):
        st.code(cache.steer_prime(name), language=None, wrap_lines=True)
    for column, key, heading in zip(st.columns(3), ("low", "plain", "high"), ("Held low", "Untouched", "Held high")):
        column.markdown(f"**{heading}**")
        column.code(out[key], language=None, wrap_lines=True)


def page() -> None:
    session = st.session_state
    state.start_page(session)
    models = lstm_viz.available() + own_model.names(session)
    try:
        name, layer, cell = cell_link.read(st.query_params, models, dims)
    except ValueError as e:
        st.title("Cell page")
        st.error(str(e))
        goto_box()
        return
    layers, hidden = dims(name)
    st.query_params.from_dict(cell_link.query(name, layer, cell))  # the address bar names this cell, however reached
    st.title(f"Layer {layer + 1}, cell {cell}")
    st.caption(f"Model {plain(name)}: {layers} layers x {hidden} cells. Address: `{cell_link.url(name, layer, cell)}`")
    navigation(name, layer, cell, hidden)
    try:
        record = cache.explanation(name)
    except ValueError as e:
        st.error(f"Cannot read the cell labels: {plain(str(e))}")
        record = None
    if record is None:
        st.info(how_to_build(name))
        goto_box()
        return
    if record.get("stale"):
        st.warning(
            "These labels were built for other weights of this model: rebuild them with `python -m lstm_viz explain`."
        )
    entry = cellpage.entry(record, layer, cell)
    summary(name, record, entry)
    training_view.cell_curve(name, layer, cell)
    causal(record, entry)
    left, right = st.columns([1, 2])
    with left:
        shown = memory_words(name).shown
        st.markdown(f"**Activation histogram** ({shown} on held-out text)")
        st.markdown(histogram_html(entry["histogram"], shown), unsafe_allow_html=True)
    with right:
        snippets(record, entry)
    writes(name, record, layer, cell, layers)
    related(name, record, entry, layer, cell)
    steering(name, layer, cell, entry)
    goto_box()
