"""Chhanni: content vs boilerplate spans in Bengali and Hindi news articles."""

__version__ = "0.1.0"
