"""Drawings of a trace: colours, glyphs, static HTML, figures (SVG, PNG) and the notebook widget (assets/)."""
