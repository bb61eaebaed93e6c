"""The flow ``tarjama serve`` deploys: the pipeline's flow behind a short run form, with the server's
:class:`~tarjama.serve.UiRunPolicy` applied to each run's parameters before the run starts.

The pipeline's own signature takes a whole :class:`~tarjama.settings.Settings`, which the Prefect UI
would render as a field for every setting (home, memory, engine URLs ...) that a UI run may not change
anyway. The deployment shows :class:`RunForm` instead: what a user chooses for a run, with the few
settings a UI run may change under one optional ``advanced`` object. Prefect's engine validates a
run's parameters before calling the flow; :class:`FormFlow` turns the form into the pipeline's
parameters there (the server's settings plus the form's choices) and applies the policy, so a run
asking for a file outside the allowed folders fails before anything is read or sent, with the reason
on the run's page. The run itself is the pipeline's flow, unchanged (name, task runner, artifacts).
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

from prefect import Flow
from prefect.utilities.callables import parameter_schema
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, WithJsonSchema

from tarjama.article import Granularity, UnitTranslation
from tarjama.checks import CHECKS
from tarjama.engines.base import check_engine_name, engine_names
from tarjama.export import FORMATS, check_formats
from tarjama.serve import UiRunPolicy
from tarjama.settings import Settings


def _shown_as_choice(names: list[str]) -> WithJsonSchema:
    """A drop-down of ``names`` in the UI: they are known only when the program runs (plug-in engines), so
    no ``Literal`` can spell them, and our own check names the mistake in one line."""
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

    model_config = ConfigDict(extra="forbid", title="Advanced")

    checks: list[CheckName] = Field(default=list(CHECKS), description="Reference-free checks run on every row.")
    translate: UnitTranslation = Field(
        default=UnitTranslation.UNITS,
        description="With rows=units: give the engine each unit alone, or each sentence whole.",
    )
    min_confidence: float = Field(
        default=0.0,
        ge=0.0,
        le=1.0,
        description="Also export the rows aligned at least this confidently (0: no filtered copy).",
    )
    filter_checks: list[CheckName] = Field(default=[], description="Also export the rows that pass these checks.")
    dedupe: bool = Field(default=False, description="Drop repeated sentence pairs from the exports.")
    fail_fast: bool = Field(default=False, description="Stop at the first article that fails.")

    @classmethod
    def of(cls, settings: Settings) -> Advanced:
        """The form's defaults for a server with ``settings``."""
        return cls(checks=list(settings.checks or CHECKS), translate=settings.translate)


class RunForm(BaseModel):
    """The deployment's run form: what to translate, against which references, how, and into what."""

    model_config = ConfigDict(extra="forbid")

    sources: list[str] = Field(
        description="Articles (.ar.txt), folders, globs or manifests; relative paths are read from where serve runs."
    )
    references: list[str] = Field(
        default=[],
        description="More English references, matched to articles by id (<id>.en.txt beside an article is found anyway).",
    )
    engine: EngineName = Field(default="auto", description="The translation engine.")
    formats: list[FormatName] = Field(
        default=["tsv", "parquet"], description="Export formats (the Parquet is always written)."
    )
    rows: Granularity = Field(default="units", description="Rows of clause units, or of whole Arabic sentences.")
    advanced: Advanced = Field(default=Advanced(), description="Checks, filtered copies and the like.")

    @classmethod
    def defaults(cls, settings: Settings, articles: Sequence[Path]) -> dict[str, Any]:
        """The form as a server with ``settings`` offers it: its articles (absolute paths), engine, rows and checks."""
        sources = [str(a.resolve()) for a in articles]
        form = cls(sources=sources, engine=settings.engine, rows=settings.rows, advanced=Advanced.of(settings))
        return form.model_dump(mode="json", exclude={"sources"} if not sources else None)

    def run_parameters(self, settings: Settings, out: str) -> dict[str, Any]:
        """The pipeline flow's parameters: the server's ``settings`` with the form's choices."""
        advanced = self.advanced
        chosen = settings.model_copy(
            update={
                "engine": self.engine,
                "rows": self.rows,
                "translate": advanced.translate,
                "checks": None if advanced.checks == list(CHECKS) else tuple(advanced.checks),  # None: all
            }
        )
        return {
            "sources": self.sources,
            "references": self.references,
            "settings": chosen,
            "out": out,
            "formats": self.formats,
            "dedupe": advanced.dedupe,
            "min_confidence": advanced.min_confidence or None,
            "fail_fast": advanced.fail_fast,
            "filter_checks": advanced.filter_checks,
        }


FORM_SIGNATURE = inspect.Signature(
    [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=field, annotation=field.rebuild_annotation())
        for name, field in RunForm.model_fields.items()
    ]
)
""":class:`RunForm` as a signature: Prefect reads a deployment's parameter schema from its flow's signature."""


class FormFlow(Flow[Any, Any]):
    """The pipeline's flow, taking :class:`RunForm`'s parameters and the server's policy."""

    policy: UiRunPolicy

    def validate_parameters(self, parameters: dict[str, Any]) -> dict[str, Any]:
        form = RunForm.model_validate(parameters)
        full = form.run_parameters(self.policy.settings, str(self.policy.out))
        return self.policy.apply(super().validate_parameters(full))


def with_run_form(flow: Flow[Any, Any], policy: UiRunPolicy) -> FormFlow:
    """``flow`` (the pipeline's) behind :class:`RunForm` and ``policy``; its options, task runner and name are kept."""
    form_flow = copy.copy(flow)
    form_flow.__class__ = FormFlow
    assert isinstance(form_flow, FormFlow)
    form_flow.policy = policy
    form_flow.__signature__ = FORM_SIGNATURE  # type: ignore[attr-defined]
    form_flow.parameters = parameter_schema(form_flow)
    return form_flow
