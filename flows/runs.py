"""Past ``tarjama-run`` flow runs, for ``tarjama runs`` and ``tarjama download``.

The Prefect API used is, in order: ``$PREFECT_API_URL``, the server of a
running ``tarjama serve`` for this home (``$TARJAMA_HOME/serve.json``), else
Prefect's ephemeral server on the same project-local database.

A run's output folder is its flow-run label ``tarjama.output`` (set by the
run once its files are written); for runs without it, the folder
``<out>/<run_name>`` or the one under ``<out>`` whose ``scores.json`` names
the flow run.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from flows.environment import prepare_home
from flows.serve import FLOW, served_api_url
from tarjama.errors import TarjamaError

OUTPUT_LABEL = "tarjama.output"
SCAN_RECENT = 200


@dataclass
class RunInfo:
    id: str
    name: str
    state: str
    start: datetime | None
    articles: list[str]
    engine: str
    bleu: float | None
    output: Path | None  # the run's output folder, if it was written and is still there


@contextmanager
def prefect_api() -> Iterator[str | None]:
    """Point Prefect's client at the served API when there is one; yields its URL (None: ephemeral)."""
    url = os.environ.get("PREFECT_API_URL") or served_api_url()
    if not url:
        prepare_home()  # the ephemeral server cannot create its database's folder
        yield None
        return
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings(updates={PREFECT_API_URL: url}):
        yield url


def output_folder(flow_run: Any) -> Path | None:
    """Where ``flow_run`` wrote its outputs, if they are there."""
    labelled = (flow_run.labels or {}).get(OUTPUT_LABEL)
    candidates: list[Path] = [Path(labelled)] if labelled else []
    parameters = flow_run.parameters or {}
    out = Path(parameters.get("out") or "output")
    if parameters.get("run_name"):
        candidates.append(out / parameters["run_name"])
    for folder in candidates:
        if (folder / "aligned.tsv").is_file():
            return folder
    completed = flow_run.state is not None and flow_run.state.is_completed()
    if completed and out.is_dir():  # an older run without the label (a failed run writes nothing)
        for scores in sorted(out.glob("*/scores.json"), reverse=True):
            try:
                if json.loads(scores.read_text()).get("flow_run_id") == str(flow_run.id):
                    return scores.parent
            except (OSError, ValueError):
                continue
    return None


def _bleu(folder: Path | None) -> float | None:
    """The run's BLEU: over all articles if it had several, else the article's against its first reference."""
    if folder is None:
        return None
    try:
        summary = json.loads((folder / "scores.json").read_text())
    except (OSError, ValueError):
        return None
    scores = summary.get("overall") or next(
        (
            ref.get("scores")
            for a in summary.get("articles", [])
            for ref in a.get("references", [])
            if ref.get("scores")
        ),
        None,
    )
    return next((s["score"] for s in scores or [] if s.get("metric") == "BLEU"), None)


def _engine(folder: Path | None, parameters: dict[str, Any]) -> str:
    """The engine actually used (from ``scores.json``), else the one requested."""
    requested = str(parameters.get("engine", "auto"))
    if folder is None:
        return requested
    try:
        return ",".join(sorted({a["engine"] for a in json.loads((folder / "scores.json").read_text())["articles"]}))
    except (OSError, ValueError, KeyError, TypeError):
        return requested


def describe(flow_run: Any) -> RunInfo:
    folder = output_folder(flow_run)
    parameters = flow_run.parameters or {}
    return RunInfo(
        id=str(flow_run.id),
        name=flow_run.name,
        state=flow_run.state.name if flow_run.state else "?",
        start=flow_run.start_time or flow_run.expected_start_time,
        articles=[Path(a).name.removesuffix(".ar.txt") for a in parameters.get("articles") or []],
        engine=_engine(folder, parameters),
        bleu=_bleu(folder),
        output=folder,
    )


async def _read_runs(client: Any, limit: int, name: str | None = None) -> list[Any]:
    from prefect.client.schemas.filters import FlowFilter, FlowFilterName, FlowRunFilter, FlowRunFilterName
    from prefect.client.schemas.sorting import FlowRunSort

    return await client.read_flow_runs(
        flow_filter=FlowFilter(name=FlowFilterName(any_=[FLOW])),
        flow_run_filter=FlowRunFilter(name=FlowRunFilterName(any_=[name])) if name else None,
        sort=FlowRunSort.EXPECTED_START_TIME_DESC,
        limit=limit,
    )


async def _recent(limit: int) -> list[Any]:
    from prefect.client.orchestration import get_client

    async with get_client() as client:
        return await _read_runs(client, limit)


async def _find(run: str) -> Any | None:
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    async with get_client() as client:
        try:
            flow_run = await client.read_flow_run(uuid.UUID(run))
            if (await client.read_flow(flow_run.flow_id)).name == FLOW:
                return flow_run
        except (ValueError, ObjectNotFound):
            pass
        named = await _read_runs(client, 1, name=run)
        if named:
            return named[0]
        recent = await _read_runs(client, SCAN_RECENT)
    return next((r for r in recent if (folder := output_folder(r)) is not None and folder.name == run), None)


def recent_runs(limit: int = 20) -> list[RunInfo]:
    with prefect_api():
        return [describe(r) for r in asyncio.run(_recent(limit))]


def find_run(run: str) -> Any:
    """The ``tarjama-run`` flow run with this id, name (the newest of that name) or output folder name."""
    with prefect_api():
        found = asyncio.run(_find(run))
    if found is None:
        raise TarjamaError(f"no tarjama run with id or name {run!r} (see `tarjama runs`)")
    return found


def download(run: str, target: Path | None) -> tuple[Any, Path | None]:
    """Copy the run's ``aligned.tsv`` to ``target`` (default ``./<folder>-aligned.tsv``; ``-``: stdout)."""
    flow_run = find_run(run)
    folder = output_folder(flow_run)
    if folder is None:
        state = flow_run.state.name if flow_run.state else "unknown"
        what = (
            "wrote no aligned TSV"
            if state.upper() in {"FAILED", "CRASHED", "CANCELLED"}
            else "has no aligned TSV (yet)"
        )
        raise TarjamaError(f"run {flow_run.name} ({flow_run.id}) is {state} and {what}")
    source = folder / "aligned.tsv"
    if target is not None and str(target) == "-":
        with source.open("rb") as handle:
            shutil.copyfileobj(handle, sys.stdout.buffer)
        sys.stdout.buffer.flush()
        return flow_run, None
    target = target or Path(f"{folder.name}-aligned.tsv")
    if target.is_dir():
        target = target / f"{folder.name}-aligned.tsv"
    from tarjama.parallel_corpus import atomic_path

    with atomic_path(target) as tmp:
        shutil.copyfile(source, tmp)
    return flow_run, target
