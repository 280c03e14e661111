"""Causal tools: interventions and their effect, attribution, the ablation ranking."""
