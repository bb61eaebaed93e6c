"""The flow ``tarjama serve`` deploys: the pipeline behind a short run form, within the server's
:class:`~tarjama.app.serve.UiRunPolicy`.

The pipeline's own signature takes a whole :class:`~tarjama.settings.Settings`, which the Prefect UI
renders as a field for every setting (home, memory, engine URLs ...), most of which a UI run may not
change anyway. The deployment's flow takes what a user chooses for a run instead (sources, references,
an engine from a drop-down, formats, rows), with the few other settings a UI run may change under one
optional ``advanced`` object. It builds the pipeline's parameters from the server's settings and the
form, applies the policy (a file outside the allowed folders fails the run before anything is read
or sent, with the reason on the run's page), and runs the pipeline's body in its own flow run, so the
run's page holds the pipeline's artifacts, name and labels as a ``tarjama run`` does.
"""

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, Any

from prefect import Flow
from prefect.utilities.annotations import quote
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, WithJsonSchema

from tarjama.app.serve import UiRunPolicy
from tarjama.corpus.build import DEFAULT_RUN_FORMATS
from tarjama.corpus.export import FORMATS, check_formats
from tarjama.flows.environment import log_user_errors_without_traceback, stopped_tasks_off_the_console
from tarjama.quality.checks import CHECKS
from tarjama.settings import Settings
from tarjama.text.article import Granularity, UnitTranslation
from tarjama.translation.engines.base import check_engine_name, engine_names


def _shown_as_choice(names: list[str]) -> WithJsonSchema:
    """A drop-down of ``names`` in the UI: they are known only when the program runs (plug-in engines), so
    no ``Literal`` can spell them, and our own check names a mistake in one line."""
    return WithJsonSchema({"type": "string", "enum": names})


def _check_name(name: str) -> str:
    if name not in CHECKS:
        raise ValueError(f"unknown check {name!r} (choose from {', '.join(CHECKS)})")
    return name


EngineName = Annotated[str, AfterValidator(check_engine_name), _shown_as_choice(engine_names())]
FormatName = Annotated[str, AfterValidator(lambda name: check_formats([name])[0]), _shown_as_choice(list(FORMATS))]
CheckName = Annotated[str, AfterValidator(_check_name), _shown_as_choice(list(CHECKS))]


class Advanced(BaseModel):
    """The settings a run from the UI may change beyond the form's first fields; the rest are the server's."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    checks: tuple[CheckName, ...] = Field(default=tuple(CHECKS), description="Reference-free checks run on every row.")
    translate: UnitTranslation = Field(
        default=UnitTranslation.UNITS,
        title="Translate",
        description="With rows=units: give the engine each unit alone, or each sentence whole.",
    )
    min_confidence: float = Field(
        default=0.0,
        ge=0.0,
        le=1.0,
        description="Also export a filtered corpus of the pairs (Arabic and a human reference) aligned at least "
        "this confidently; rows with an empty side or MT only are left out (0: no filtered corpus).",
    )
    filter_checks: tuple[CheckName, ...] = Field(
        default=(),
        description="Also export a filtered corpus of the pairs (Arabic and a human reference) that pass these "
        "checks; rows with an empty side or MT only are left out.",
    )
    dedupe: bool = Field(default=False, description="Drop repeated sentence pairs from the exports.")
    fail_fast: bool = Field(default=False, description="Stop at the first article that fails.")

    @classmethod
    def of(cls, settings: Settings) -> "Advanced":
        """The form's defaults for a server with ``settings``."""
        return cls(checks=settings.checks or tuple(CHECKS), translate=settings.translate)


DEFAULT_ADVANCED = Advanced()


def form_defaults(settings: Settings, articles: Sequence[Path]) -> dict[str, Any]:
    """The run form as a server with ``settings`` offers it: its articles (absolute paths), engine, rows, checks."""
    defaults: dict[str, Any] = {"sources": [str(a.resolve()) for a in articles]} if articles else {}
    return defaults | {
        "engine": settings.engine,
        "formats": list(DEFAULT_RUN_FORMATS),
        "rows": settings.rows,
        "advanced": Advanced.of(settings).model_dump(mode="json"),
    }


def pipeline_parameters(
    policy: UiRunPolicy,
    sources: Sequence[str],
    references: Sequence[str],
    engine: str,
    formats: Sequence[str],
    rows: Granularity,
    advanced: Advanced,
) -> dict[str, Any]:
    """The pipeline's parameters for a run form: the server's settings with the form's choices, as ``policy`` allows."""
    settings = policy.settings.model_copy(
        update={
            "engine": engine,
            "rows": rows,
            "translate": advanced.translate,
            "checks": None if advanced.checks == tuple(CHECKS) else advanced.checks,  # None: every check
        }
    )
    return policy.apply(
        {
            "sources": list(sources),
            "references": list(references),
            "settings": settings,
            "out": str(policy.out),
            "formats": list(formats),
            "dedupe": advanced.dedupe,
            "min_confidence": advanced.min_confidence or None,
            "fail_fast": advanced.fail_fast,
            "filter_checks": list(advanced.filter_checks),
        }
    )


def with_run_form(
    pipeline: Flow[..., quote], policy: UiRunPolicy, flow_run_name: Callable[[], str]
) -> Flow[..., quote]:
    """A flow of ``pipeline``'s name and task runner whose parameters are the run form; both return the run's
    :class:`~tarjama.corpus.results.RunSummary` quoted (see :func:`tarjama.flows.pipeline.run`)."""

    def run_form(
        sources: list[str],
        references: tuple[str, ...] = (),
        engine: EngineName = "auto",
        formats: tuple[FormatName, ...] = DEFAULT_RUN_FORMATS,
        rows: Granularity = "units",
        advanced: Advanced = DEFAULT_ADVANCED,
    ) -> quote:
        """Translate Arabic articles into English, align them with their references and score them.

        Args:
            sources: Articles (.ar.txt files), folders, globs or manifests; relative paths are read
                from where serve runs. An article's reference <id>.en.txt beside it is found by itself.
            references: More English reference files, matched to the articles by id.
            engine: The translation engine.
            formats: The export formats (the Parquet file is always written: the viewer reads it).
            rows: A row per clause unit (regrouped to the reference), or per whole Arabic sentence.
            advanced: The checks, the unit translation mode, filtered copies, deduplication; every other
                setting is the server's.
        """
        log_user_errors_without_traceback()  # a refused run form is one line on serve's console, not a traceback
        stopped_tasks_off_the_console()  # a stopped run is a line or two there, not two ERROR lines a task
        parameters = pipeline_parameters(policy, sources, references, engine, formats, rows, advanced)
        return pipeline.fn(**parameters)  # in this flow run: its page shows the pipeline's artifacts

    return Flow(run_form, name=pipeline.name, flow_run_name=flow_run_name, task_runner=pipeline.task_runner)
