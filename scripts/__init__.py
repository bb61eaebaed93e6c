"""Evaluations and one-off data tools, importable by the tests (``from scripts import eval_splitter``); not part of the ``tarjama`` library."""
