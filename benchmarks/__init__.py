"""Benchmark data tools and scripts; kept out of the ``tarjama`` library on purpose."""
