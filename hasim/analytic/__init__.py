"""Exact and first-order answers computed from the model, without simulation."""
