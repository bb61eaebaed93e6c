"""tarjama: Arabic→English translation and bilingual sentence alignment.

The package is the pure core: every stage (normalise, segment, translate,
align, score, write) is a plain function or class that knows nothing of
Prefect. The ``flows`` package wires them into Prefect flows.
"""

__version__ = "0.1.0"
