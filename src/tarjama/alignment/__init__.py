"""Aligning source, machine translation and reference: costs, search and traceback."""
