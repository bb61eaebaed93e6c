"""Translation engines: one base class, one module per family, one table of names.

``auto`` and ``local`` run offline; the web engines share one transport
(:mod:`~tarjama.translation.engines.transport`: timeouts, retries, redaction) and one batcher
(:mod:`~tarjama.translation.engines.batching`). Importing this package imports no engine module:
:func:`get_spec` loads one when it is first asked for.
"""

from tarjama.translation.engines.base import (
    ENTRY_POINT_GROUP,
    Credential,
    Engine,
    EngineSpec,
    EngineStats,
    Option,
    all_specs,
    broken_engines,
    check_engine_name,
    create_engine,
    engine_names,
    engine_signature,
    get_spec,
)

__all__ = [
    "ENTRY_POINT_GROUP",
    "Credential",
    "Engine",
    "EngineSpec",
    "EngineStats",
    "Option",
    "all_specs",
    "broken_engines",
    "check_engine_name",
    "create_engine",
    "engine_names",
    "engine_signature",
    "get_spec",
]
