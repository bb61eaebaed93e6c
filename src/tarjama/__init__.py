"""tarjama: Arabic→English translation and bilingual sentence alignment.

The package is the pure core, in folders that follow the pipeline: ``text`` (reading and
splitting articles), ``translation`` (engines and the translation memory), ``alignment``,
``quality`` (scores and checks), ``corpus`` (building, reusing and writing the parallel corpus)
and ``app`` (the command line, ``tarjama serve`` and its web app). None of it imports Prefect;
``tarjama.flows`` wires it into Prefect flows.

The names below are the public API, imported on first use so that ``import tarjama`` stays cheap::

    import tarjama

    settings = tarjama.Settings.load(engine="local")
    run = tarjama.build_corpus(tarjama.CorpusRequest(sources=["news/"]), settings, tarjama.ThreadRunner(settings))
"""

from importlib import import_module
from importlib.metadata import version
from typing import TYPE_CHECKING, Any

__version__ = version("tarjama")
"""Defined once, in pyproject.toml; raised whenever a change can alter results (see CHANGELOG.md),
so the version inside every signature and reuse key means something."""

_PUBLIC = {
    # settings and errors
    "Settings": "tarjama.settings",
    "TarjamaError": "tarjama.errors",
    # text
    "Document": "tarjama.text.article",
    "load_document": "tarjama.text.article",
    "parse_document": "tarjama.text.article",
    "split_sentences": "tarjama.text.segment",
    # translation
    "Credential": "tarjama.translation.engines",
    "Engine": "tarjama.translation.engines",
    "EngineSpec": "tarjama.translation.engines",
    "Option": "tarjama.translation.engines",
    "create_engine": "tarjama.translation.engines",
    "engine_names": "tarjama.translation.engines",
    "TranslationMemory": "tarjama.translation.memory",
    # alignment
    "AlignmentConfig": "tarjama.alignment.align",
    "align_translation": "tarjama.alignment.align",
    "align_article": "tarjama.alignment.regroup",
    # quality
    "score_corpus": "tarjama.quality.score",
    "compare_systems": "tarjama.quality.compare",
    "check_rows": "tarjama.quality.checks",
    # the parallel corpus
    "SCHEMA": "tarjama.corpus.schema",
    "PipelineSignature": "tarjama.corpus.build",
    "pipeline_signature": "tarjama.corpus.build",
    "build_article": "tarjama.corpus.build",
    "align_files": "tarjama.corpus.build",
    "CorpusRequest": "tarjama.corpus.build",
    "ThreadRunner": "tarjama.corpus.build",
    "build_corpus": "tarjama.corpus.build",
    "export_corpus": "tarjama.corpus.export",
    "RunSummary": "tarjama.corpus.results",
}

__all__ = [
    "SCHEMA",
    "AlignmentConfig",
    "CorpusRequest",
    "Credential",
    "Document",
    "Engine",
    "EngineSpec",
    "Option",
    "PipelineSignature",
    "RunSummary",
    "Settings",
    "TarjamaError",
    "ThreadRunner",
    "TranslationMemory",
    "__version__",
    "align_article",
    "align_files",
    "align_translation",
    "build_article",
    "build_corpus",
    "check_rows",
    "compare_systems",
    "create_engine",
    "engine_names",
    "export_corpus",
    "load_document",
    "parse_document",
    "pipeline_signature",
    "score_corpus",
    "split_sentences",
]  # the names of _PUBLIC: one list ruff and type checkers can read


def __getattr__(name: str) -> Any:
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'tarjama' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value  # found once
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


if TYPE_CHECKING:
    from tarjama.alignment.align import AlignmentConfig, align_translation
    from tarjama.alignment.regroup import align_article
    from tarjama.corpus.build import (
        CorpusRequest,
        PipelineSignature,
        ThreadRunner,
        align_files,
        build_article,
        build_corpus,
        pipeline_signature,
    )
    from tarjama.corpus.export import export_corpus
    from tarjama.corpus.results import RunSummary
    from tarjama.corpus.schema import SCHEMA
    from tarjama.errors import TarjamaError
    from tarjama.quality.checks import check_rows
    from tarjama.quality.compare import compare_systems
    from tarjama.quality.score import score_corpus
    from tarjama.settings import Settings
    from tarjama.text.article import Document, load_document, parse_document
    from tarjama.text.segment import split_sentences
    from tarjama.translation.engines import Credential, Engine, EngineSpec, Option, create_engine, engine_names
    from tarjama.translation.memory import TranslationMemory
