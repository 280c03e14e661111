"""Finding what cells do: hypotheses, the finder, the atlas, the explainer and the cell pages' data."""
