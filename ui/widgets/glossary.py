"""The app's words in plain words: each term once, as the Glossary page shows it
(ui/views/glossary_view.py) and as the tooltips beside the places it appears (`tip`).

A term's `short` is one sentence that stands alone (a tooltip); its `more` and its equation are
for the Glossary page. Markdown is allowed in `more` only.
"""

from __future__ import annotations

from dataclasses import dataclass

from lstm_viz.find.match import MEANING, NAME

from ..session.signals import offered


@dataclass(frozen=True)
class Term:
    name: str
    short: str  # one sentence, for a tooltip
    more: str = ""  # what else a student needs, for the glossary page (markdown)
    latex: str = ""  # its equation, for the glossary page


GROUPS: dict[str, list[Term]] = {
    "The LSTM and its two memories": [
        Term(
            "cell",
            "One of the LSTM's memory slots (512 in each layer of the shipped models); at every character "
            "it holds one number of long-term memory, c, and one of working state, h.",
            "A layer of cells reads the text one character at a time. The app colours the text by one cell: "
            "pick it in the sidebar, or step through the cells with Previous cell and Next cell.",
        ),
        Term(
            "layer",
            "The shipped models stack two LSTMs: layer 1 reads the characters, layer 2 reads layer 1's h.",
            "The last layer's h is what the model's guess of the next character is made from.",
        ),
        Term(
            "cell state c",
            "The long-term memory: the number a cell carries from one character to the next, which the "
            "gates write, keep and forget.",
            "It can hold a value over hundreds of characters (the quote cell keeps its value through a "
            "whole quotation). Nothing bounds it: a cell's c may reach -6 or +20.",
            r"c_t = f_t \odot c_{t-1} + i_t \odot g_t",
        ),
        Term(
            "raw c",
            "The cell state c itself, before tanh squeezes it between -1 and +1; what an intervention holds fixed.",
        ),
        Term(
            "hidden state h",
            "The short-term working state: what the cell shows the rest of the network at this character "
            "(the layer above, the next-character guess, and the cell itself at the next character).",
            "h is c squeezed by tanh and let through by the output gate, so it lies between -1 and +1 too.",
            r"h_t = o_t \odot \tanh(c_t)",
        ),
        Term(
            "tanh(c)",
            "The cell state squeezed between -1 and +1, which colours the text: red at -1, white at 0, blue at +1.",
            "tanh is close to x for small x and flattens towards -1 and +1 for large ones, so a cell whose c "
            "is 3 or 30 looks the same deep blue. A cell that is blue in one place and red in another is "
            "telling the two places apart.",
            r"\tanh(x) = \frac{e^{x} - e^{-x}}{e^{x} + e^{-x}} \in (-1, 1)",
        ),
    ],
    "The gates": [
        Term(
            "gate",
            "A number between 0 (shut) and 1 (open), worked out afresh at every character from the "
            "character and the previous h, that decides how much passes.",
            r"A gate is a sigmoid, $\sigma(x) = 1 / (1 + e^{-x})$, of a weighted sum of the input $x_t$ "
            r"(the character, or the layer below's h) and the previous $h_{t-1}$: each gate has its own "
            r"weights $W$, $U$ and bias $b$, learned in training.",
        ),
        Term(
            "input gate i",
            "How much of the candidate is written into the cell state at this character (0: nothing, 1: all).",
            latex=r"i_t = \sigma(W_i x_t + U_i h_{t-1} + b_i)",
        ),
        Term(
            "forget gate f",
            "How much of the cell state is kept from the previous character (1: all of it, 0: wiped).",
            latex=r"f_t = \sigma(W_f x_t + U_f h_{t-1} + b_f)",
        ),
        Term(
            "output gate o",
            "How much of the cell state the cell shows as h at this character (0: hidden, 1: shown).",
            latex=r"o_t = \sigma(W_o x_t + U_o h_{t-1} + b_o)",
        ),
        Term(
            "candidate g",
            "The new value, between -1 and +1, that the cell could write at this character; the input gate "
            "says how much of it is written.",
            latex=r"g_t = \tanh(W_g x_t + U_g h_{t-1} + b_g)",
        ),
    ],
    "Other kinds of model: the GRU and the vanilla RNN": [
        Term(
            "kind",
            "Which recurrent network a model is: an LSTM (two states, c and h, three gates), a GRU (one "
            "state h, two gates) or a vanilla RNN (one state h, no gates).",
            "The paper compares the three (its Table 1 and Figure 3). For a GRU or an RNN the app colours "
            "the text by h, the one state it has, and the Compare tab shows one text under a model of each "
            "kind, each with its best cell for an idea such as \u201cinside quotes\u201d. Where something has no "
            "meaning for a kind (the output gate of a GRU, the gates of an RNN) the app says so.",
        ),
        Term(
            "one state h",
            "A GRU or a vanilla RNN keeps one number per cell, h, where an LSTM keeps two (the long-term c "
            "and the working h): its memory and what it shows the rest of the network are the same number.",
            "h lies between -1 and +1 and colours the text where an LSTM's tanh(c) would. Without a separate "
            "c that the gates can hold untouched, a value is harder to carry over hundreds of characters.",
        ),
        Term(
            "reset gate r",
            "A GRU's gate (0 to 1) deciding how much of the previous h the candidate looks at: 0 makes the "
            "candidate start afresh from the character alone.",
            latex=r"r_t = \sigma(W_r x_t + U_r h_{t-1} + b_r)",
        ),
        Term(
            "update gate z",
            "A GRU's gate (0 to 1) deciding how much of the previous h is kept (1: all of it) rather than "
            "replaced by the candidate; it does the work of an LSTM's forget and input gates at once.",
            latex=r"z_t = \sigma(W_z x_t + U_z h_{t-1} + b_z)",
        ),
        Term(
            "GRU candidate n",
            "The new value, between -1 and +1, a GRU's cell could take at this character, made from the "
            "character and the part of the previous h the reset gate lets through.",
            "The new h mixes it with the old one, in the proportions the update gate says (as PyTorch's "
            "nn.GRU computes it).",
            r"n_t = \tanh(W_n x_t + r_t \odot (U_n h_{t-1} + b_{hn}) + b_n), \quad "
            r"h_t = (1 - z_t) \odot n_t + z_t \odot h_{t-1}",
        ),
        Term(
            "vanilla RNN",
            "The simplest recurrent network: at every character each cell's h is a squeezed weighted sum of "
            "the input and the previous h, with no gates and no separate memory.",
            "Everything it remembers must survive being multiplied by the same weights and squeezed by tanh "
            "at every character, which is why the paper found it far behind the LSTM and the GRU on long "
            "memories such as an open quote.",
            r"h_t = \tanh(W x_t + U h_{t-1} + b)",
        ),
    ],
    "Guesses and surprise": [
        Term(
            "p (probability)",
            "How likely the model thinks a character is to come next, from 0 to 1; the five likeliest are "
            "shown for every position.",
        ),
        Term(
            "logit",
            "The model's raw score for a next character before it is turned into a probability: a higher "
            "logit makes that character likelier.",
            "The probabilities are the softmax of the logits: each is e to its logit, divided by the sum over "
            "all characters. A cell that raises the logit of e makes e likelier next.",
            r"p(\text{char}) = \frac{e^{\text{logit}(\text{char})}}{\sum_{k} e^{\text{logit}(k)}}",
        ),
        Term(
            "log p",
            "The logarithm of the probability the model gave the character that really came: 0 when it "
            "was sure, more and more negative the more it was surprised.",
            "log p = -1 means p = 0.37, -2.3 means p = 0.1, -4.6 means p = 0.01. A change of log p says "
            "whether an edit made the right character likelier (positive) or less likely (negative).",
        ),
        Term(
            "nats and bits",
            "How surprised the model is by the character that came, -log p: 0 when it was sure; nats count "
            "with the natural logarithm, bits with log base 2 (1 bit = 0.693 nats).",
            "One bit is the surprise of a fair coin toss; a model at 1.6 bits per character on held-out "
            "text is, on average, as unsure as choosing among 2^1.6, about 3, equally likely characters. "
            "Lower is better. The loss of the models is this surprise, averaged.",
            r"\text{surprise} = -\log p \ \text{(nats)} = -\log_2 p \ \text{(bits)}",
        ),
        Term(
            "KL",
            "How different two sets of guesses are (Kullback-Leibler divergence, in nats): 0 when the model "
            "guesses exactly the same, larger the more an edit changed its guesses.",
            latex=r"\mathrm{KL}(p \,\|\, q) = \sum_k p_k \log \frac{p_k}{q_k}",
        ),
        Term(
            "held-out text",
            "Text the model never saw in training (the test split of its corpus): what a cell does there is "
            "what it learned, not what it memorised.",
        ),
        Term(
            "n-gram",
            "A simple model that guesses the next character from the last n - 1 characters only, by counting "
            "how often each followed them; the 20-gram is the LSTM's yardstick on the Analyses page.",
        ),
    ],
    "Finding what a cell does": [
        Term(
            "hypothesis",
            "A guess at what a cell follows, computed from the text alone for every character: inside "
            "quotes or not, the position in the line, the depth of brackets.",
        ),
        Term(
            "label",
            "The hypothesis (or pair of them) that explains a cell best on held-out text, from the model's "
            "table of explanations.",
        ),
        Term(NAME, f"How well a label explains a cell: {MEANING}."),
        Term(
            "AUC",
            "For a yes/no hypothesis: the chance that a character where it is yes has a higher cell value "
            "than one where it is no; 0.5 is chance, 1 (or 0) a perfect split.",
        ),
        Term(
            "Pearson r",
            "The correlation of the cell with a hypothesis, from -1 (falls as it rises) through 0 (unrelated) "
            "to +1 (rises with it).",
            "The AUC only asks whether the cell puts the yes characters above the no ones; Pearson r also "
            "asks how far, and works for counts (line position, depth) as well as yes/no.",
        ),
        Term(
            "sign",
            "Whether the cell rises with the hypothesis (+1: bluer where it is higher) or falls (-1: redder).",
        ),
        Term(
            "percentile",
            "The value below which that share of a cell's values lie: its 1st percentile is lower than all "
            "but 1 in 100 of them.",
        ),
    ],
    "Changing cells": [
        Term(
            "clamp",
            "Hold a cell's raw c at a value you choose over a stretch of text, whatever the gates would write, "
            "and see what the model guesses and writes then.",
        ),
        Term("scale", "Multiply a cell's raw c by a factor over a stretch of text (0 silences it)."),
        Term(
            "steering",
            "Let the model write text with a cell held low, untouched and held high, to see what the cell "
            "does to what it writes.",
        ),
        Term(
            "temperature",
            "How adventurous the model's writing is: below 1 it keeps to its likeliest characters, above 1 "
            "it takes more chances.",
        ),
        Term("seed", "The number that fixes the random choices of the writing: the same seed writes the same text."),
        Term(
            "contributions",
            "How much each earlier character's writing into the cell (the input gate times the candidate, "
            "i x g) is still in c now, after what the forget gates have kept of it since.",
            latex=r"c_t = \sum_{s \le t} \Big(\prod_{s < u \le t} f_u\Big) \odot i_s \odot g_s",
        ),
    ],
}

TERMS: dict[str, Term] = {term.name: term for terms in GROUPS.values() for term in terms}
GATE_TERMS = {  # a gate's term, by its signal's name
    "input": "input gate i",
    "forget": "forget gate f",
    "output": "output gate o",
    "reset": "reset gate r",
    "update": "update gate z",
}


def signal_terms(kind: str) -> list[str]:
    """The terms for what a model of `kind` offers to colour the text by (`signals.offered`): an
    LSTM's tanh(c), h and gates; a GRU's or an RNN's one state h and a GRU's gates."""
    memory = ["tanh(c)", "hidden state h"] if kind == "lstm" else ["one state h"]
    return memory + [GATE_TERMS[name] for name in offered(kind) if name in GATE_TERMS]


def tip(*names: str) -> str:
    """A tooltip explaining `names` (terms of the glossary), one line each."""
    return "\n\n".join(f"**{name}**: {TERMS[name].short}" for name in names)
