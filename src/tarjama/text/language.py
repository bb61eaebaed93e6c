"""Which language a text is in: py3langid's model (shipped in its package, so it works offline), shared by
the check of an input's language and the check of an MT's."""

from __future__ import annotations

import functools
import threading
from typing import Any

_LANGUAGE_MODEL_LOCK = threading.Lock()


def language_identifier() -> Any:
    """py3langid's identifier with normalised probabilities, loaded once per process on first use.

    Under a lock: a corpus run's threads reach their first language check together, and each would
    otherwise load a model of its own (2 s and 100 MB apiece: 8 threads took 0.8 GB).
    """
    with _LANGUAGE_MODEL_LOCK:
        return _load_language_identifier()


@functools.cache
def _load_language_identifier() -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
