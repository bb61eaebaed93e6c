"""Translation engines: one protocol, one module per family, one registry.

Importing this package registers every built-in engine.
"""

from tarjama.engines import auto, local, web  # noqa: F401  (registration side effects)
from tarjama.engines.base import REGISTRY, Engine, EngineSpec, create_engine, register

__all__ = ["REGISTRY", "Engine", "EngineSpec", "create_engine", "register"]
