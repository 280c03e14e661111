"""The Glossary page (pages/3_Glossary.py) and the main page's "What am I looking at?" panel:
the words of ui/widgets/glossary.py, plain words first and the equations after them."""

from __future__ import annotations

import streamlit as st

from ..widgets import glossary

GLOSSARY = "pages/3_Glossary.py"
EQUATIONS = r"""
\begin{aligned}
i_t &= \sigma(W_i x_t + U_i h_{t-1} + b_i) && \text{input gate: how much to write} \\
f_t &= \sigma(W_f x_t + U_f h_{t-1} + b_f) && \text{forget gate: how much to keep} \\
o_t &= \sigma(W_o x_t + U_o h_{t-1} + b_o) && \text{output gate: how much to show} \\
g_t &= \tanh(W_g x_t + U_g h_{t-1} + b_g) && \text{candidate: what could be written} \\
c_t &= f_t \odot c_{t-1} + i_t \odot g_t && \text{cell state: the long-term memory} \\
h_t &= o_t \odot \tanh(c_t) && \text{hidden state: the working state}
\end{aligned}
"""
OTHER_KINDS = r"""
\begin{aligned}
&\text{GRU:} & r_t &= \sigma(W_r x_t + U_r h_{t-1} + b_r) && \text{reset gate: how much of h the candidate sees} \\
&& z_t &= \sigma(W_z x_t + U_z h_{t-1} + b_z) && \text{update gate: how much of h to keep} \\
&& n_t &= \tanh(W_n x_t + r_t \odot (U_n h_{t-1} + b_{hn}) + b_n) && \text{candidate: what h could become} \\
&& h_t &= (1 - z_t) \odot n_t + z_t \odot h_{t-1} && \text{its one state} \\
&\text{vanilla RNN:} & h_t &= \tanh(W x_t + U h_{t-1} + b) && \text{its one state, no gates}
\end{aligned}
"""


def looking_at() -> None:
    """A short answer, in plain words, beside the coloured text; the glossary for the rest."""
    with st.expander("What am I looking at?"):
        st.markdown(
            "Every character of the text is coloured by **one cell** of the model, as the model reads the "
            "text left to right: **red** where the cell is at -1, **white** at 0, **blue** at +1.\n\n"
            "A cell keeps two numbers. Its **cell state c** is a long-term memory: gates decide at every "
            "character how much of it to keep (the forget gate) and how much new to write (the input gate). "
            "Its **hidden state h** is the working state it shows the rest of the network. The colours are "
            "**tanh(c)**, the memory squeezed between -1 and +1.\n\n"
            "A cell that turns blue inside every quotation and red outside has learned to remember whether "
            "a quote is open. Pick the model, layer and cell in the sidebar, or step through the cells with "
            "Previous cell and Next cell (or j and k) and pin the ones to compare; hover a "
            "character for its values and the model's five best guesses of what comes next, click it to "
            "select it for the tabs below. **Find cells** ranks every cell against an idea such as "
            "\u201cinside quotes\u201d; **Intervene** holds a cell at a value to see what changes."
        )
        st.page_link(GLOSSARY, label="Every word, and the LSTM's equations: the Glossary", icon=":material/menu_book:")


def page(title: str) -> None:
    """The Glossary page under its sidebar name `title`."""
    st.title(title)
    st.caption(
        "The app's words in plain words. A character-level LSTM reads a text one character at a time and, "
        "after each, guesses the next; what it remembers on the way lives in its cells."
    )
    st.subheader("The LSTM in six lines")
    st.markdown(
        "At every character t the model reads its input x (the character, or the layer below's h) and its own "
        "previous h, and updates each cell like this (each line is done for all the cells of a layer at once; "
        r"$\sigma$ is the sigmoid, between 0 and 1; $\odot$ multiplies cell by cell):"
    )
    st.latex(EQUATIONS)
    st.subheader("The GRU and the vanilla RNN: one state instead of two")
    st.markdown(
        "A GRU and a vanilla RNN keep one state per cell, h, where the LSTM keeps two (c and h): the app colours "
        "the text by h for them. The GRU has two gates, reset and update, and a candidate; the RNN none "
        "(PyTorch's nn.GRU and nn.RNN, as the models here are built):"
    )
    st.latex(OTHER_KINDS)
    for group, terms in glossary.GROUPS.items():
        st.subheader(group)
        for term in terms:
            st.markdown(f"**{term.name}**: {term.short}" + (f" {term.more}" if term.more else ""))
            if term.latex:
                st.latex(term.latex)
