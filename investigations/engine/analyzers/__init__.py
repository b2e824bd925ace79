"""Deterministic analyzers, one module per family of taxonomy categories (see analysis.py)."""
