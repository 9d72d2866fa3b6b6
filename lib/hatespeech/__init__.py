"""Hate-speech detection (DualHeadBERT) and anticipation from partial input: a reproducible study."""

__version__ = "0.1.0"
