"""Translating sentences: engines, the translation memory, the offline model."""
