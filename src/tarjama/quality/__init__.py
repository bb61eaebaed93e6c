"""Scoring and checking translations: sacrebleu metrics, significance tests, reference-free checks."""
