"""Translation engines: one protocol, one module per family, one registry.

Importing this package registers every built-in engine, in the order
``tarjama engines`` lists them: ``auto`` and ``local`` (offline), then the
web engines, which share one transport (:mod:`~tarjama.engines.transport`:
timeouts, retries, redaction) and one batcher
(:mod:`~tarjama.engines.batching`).
"""

# isort: off
from tarjama.engines import auto, local  # noqa: F401  (registration side effects)
from tarjama.engines import google, mymemory, libre, deepl, microsoft, qcri, yandex, baidu  # noqa: F401
from tarjama.engines import openai_compat  # noqa: F401

# isort: on
from tarjama.engines.base import REGISTRY, Credential, Engine, EngineSpec, create_engine, register

__all__ = ["REGISTRY", "Credential", "Engine", "EngineSpec", "create_engine", "register"]
