"""Past ``tarjama-run`` flow runs, for ``tarjama runs`` and ``tarjama download``.

The Prefect API used is, in order: ``$PREFECT_API_URL``, the server of a running ``tarjama
serve`` for this home (``<home>/serve.json``), else Prefect's ephemeral server on the home's
database.

A run's output folder is its flow-run label ``tarjama.output`` (set by the run once its files are
written); for runs without it, the folder ``<out>/<run_name>`` or the one under ``<out>`` whose
``scores.json`` names the flow run. ``tarjama download`` also takes an output folder's name or
``latest`` directly, with no Prefect at all.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from tarjama.errors import TarjamaError
from tarjama.outputs import LATEST, pid_alive
from tarjama.results import RunSummary
from tarjama.serve import FLOW, served_api_url
from tarjama.settings import Settings

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

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "state": self.state,
            "start": self.start.isoformat() if self.start else None,
            "articles": self.articles,
            "engine": self.engine,
            "bleu": self.bleu,
            "output": str(self.output) if self.output else None,
        }


@contextmanager
def prefect_api(settings: Settings) -> Iterator[str | None]:
    """Point Prefect's client at the served API when there is one; yields its URL (None: ephemeral)."""
    url = os.environ.get("PREFECT_API_URL") or served_api_url(settings.home)
    if not url:
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


def _engine(summary: RunSummary | None, parameters: dict[str, Any]) -> str:
    """The engine actually used (from ``scores.json``), else the one requested."""
    if summary is not None:
        return ",".join(summary.engines())
    settings = parameters.get("settings") or {}
    return str(settings.get("engine", "auto")) if isinstance(settings, dict) else "auto"


def describe(flow_run: Any) -> RunInfo:
    folder = output_folder(flow_run)
    parameters = flow_run.parameters or {}
    summary = RunSummary.read(folder) if folder else None
    return RunInfo(
        id=str(flow_run.id),
        name=flow_run.name,
        state=flow_run.state.name if flow_run.state else "?",
        start=flow_run.start_time or flow_run.expected_start_time,
        articles=[Path(a).name.removesuffix(".ar.txt") for a in parameters.get("sources") or []],
        engine=_engine(summary, parameters),
        bleu=summary.bleu() if summary else None,
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
    """By full id, then by name (the newest), then by a unique id prefix or output folder name among recent runs."""
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
    prefixed = [r for r in recent if str(r.id).startswith(run.lower())] if len(run) >= 4 else []
    if len(prefixed) > 1:
        raise TarjamaError(f"run id prefix {run!r} is ambiguous: {', '.join(str(r.id)[:12] for r in prefixed[:5])}")
    if prefixed:
        return prefixed[0]
    return next((r for r in recent if (folder := output_folder(r)) is not None and folder.name == run), None)


def recent_runs(settings: Settings, limit: int = 20) -> list[RunInfo]:
    with prefect_api(settings) as url:
        if url is None and not _database_exists():
            return []  # nothing ever ran with this home: starting a Prefect server to learn it took 16-27 s
        crash_abandoned_runs(settings.home)
        return [describe(r) for r in asyncio.run(_recent(limit))]


def _database_exists() -> bool:
    """Whether the ephemeral Prefect server has a database to read (one is made by the first run)."""
    if os.environ.get("PREFECT_API_DATABASE_CONNECTION_URL"):
        return True
    return (Path(os.environ.get("PREFECT_HOME") or "~/.prefect").expanduser() / "prefect.db").exists()


def find_run(settings: Settings, run: str) -> Any:
    """The ``tarjama-run`` flow run with this id (or unique prefix), name, or output folder name."""
    with prefect_api(settings) as url:
        found = asyncio.run(_find(run)) if url is not None or _database_exists() else None
    if found is None:
        raise TarjamaError(f"no tarjama run with id or name {run!r} (see `tarjama runs`)")
    return found


def mark_stopped(run_name: str, reason: str) -> None:
    """Record in Prefect that the named run was stopped (a signal ended the process under it).

    Without this the run's thread is abandoned mid-flow and the run stays "Running" in the UI for
    ever. Best effort and quick: the process is about to exit, and its outputs never depend on it.
    """
    try:
        asyncio.run(asyncio.wait_for(_mark_ended([run_name], "Cancelled", reason), timeout=10))
    except Exception:  # an unreachable or dying API: the run is stopped anyway
        pass


async def _mark_ended(run_names: list[str], state: str, reason: str) -> None:
    from prefect import states
    from prefect.client.orchestration import get_client

    async with get_client() as client:
        for run_name in run_names:
            for flow_run in await _read_runs(client, 5, name=run_name):
                if flow_run.state is None or not flow_run.state.is_final():
                    await client.set_flow_run_state(flow_run.id, getattr(states, state)(message=reason), force=True)


RUNNING = "running"
"""``<home>/running/<run>.json``: the ``tarjama run`` processes under way, each with its host and process id."""


@contextmanager
def recorded_while_running(home: Path, run_name: str) -> Iterator[None]:
    """Note this process as the one running ``run_name`` for as long as the block lasts, so that if it is
    killed outright (SIGKILL, power loss) the next command can tell the run died (:func:`crash_abandoned_runs`)."""
    record = home / RUNNING / f"{run_name}.json"
    record.parent.mkdir(parents=True, exist_ok=True)
    record.write_text(json.dumps({"host": socket.gethostname(), "pid": os.getpid()}))
    try:
        yield
    finally:
        record.unlink(missing_ok=True)


def crash_abandoned_runs(home: Path) -> list[str]:
    """Mark Crashed in Prefect each run whose ``tarjama run`` process is gone without ending it (killed),
    which would stay "Running" for ever otherwise; return their names. Only reads a folder when none is."""
    folder = home / RUNNING
    dead = []
    for record in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            owner = json.loads(record.read_text())
            host, pid = owner["host"], int(owner["pid"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if host == socket.gethostname() and not pid_alive(pid):
            dead.append(record)
    if not dead:
        return []
    names = [record.stem for record in dead]
    try:
        asyncio.run(asyncio.wait_for(_mark_ended(names, "Crashed", "its tarjama run process was killed"), timeout=30))
    except Exception:  # the API is unreachable: asked again by the next command
        return []
    for record in dead:
        record.unlink(missing_ok=True)
    return names


def _local_folder(run: str, out: Path) -> Path | None:
    """``latest`` or an output folder's name under ``out``, found without Prefect."""
    if "/" in run or run.startswith("."):
        return None
    folder = out / run
    if run == LATEST and folder.is_symlink():
        folder = out / os.readlink(folder)
    return folder if (folder / "scores.json").is_file() else None


def _newest_run(settings: Settings) -> Path | None:
    """The newest run, wherever it was started from: the ``latest`` of the folder the running ``tarjama
    serve`` offers, else the newest run with outputs that Prefect knows for this home."""
    from tarjama.serve import served_output_folder

    served = served_output_folder(settings.home)
    if served is not None and (folder := _local_folder(LATEST, served)) is not None:
        return folder
    from tarjama.flows.environment import configure_prefect

    configure_prefect(settings.home)
    return next((info.output for info in recent_runs(settings) if info.output is not None), None)


def check_output_name(file: str) -> str:
    """``file`` if it names a file inside a run folder (``aligned.jsonl``, ``plots/chrf.png``), as the
    download server allows; a path leaving the folder or a hidden one is a one-line error."""
    from urllib.parse import quote

    from tarjama.download import DownloadNotFound, DownloadRefused, safe_relative

    try:
        return safe_relative(quote(file, safe="/"))
    except (DownloadRefused, DownloadNotFound) as problem:
        raise TarjamaError(f"--file {file!r}: not a file of a run folder ({problem})") from None


def download(settings: Settings, run: str, target: Path | None, file: str, out: Path) -> tuple[str, Path | None]:
    """Copy one output ``file`` of ``run`` (any file its folder holds) to ``target`` (default
    ``./<folder>-<file>``; ``-``: stdout).

    Returns a label for the run and the path written (None for stdout).
    """
    from urllib.parse import quote

    from tarjama.download import DownloadNotFound, DownloadRefused, resolve_download

    folder = _local_folder(run, out) or (_newest_run(settings) if run == LATEST else None)
    label = folder.name if folder else run
    if folder is None:
        if run == LATEST:
            raise TarjamaError(
                f"{out / LATEST}: no such run link, and no finished run known (give --from, the output folder of your runs)"
            )
        from tarjama.flows.environment import configure_prefect

        configure_prefect(settings.home)
        flow_run = find_run(settings, run)
        folder = output_folder(flow_run)
        label = f"{flow_run.name} ({flow_run.id})"
        if folder is None:
            state = flow_run.state.name if flow_run.state else "unknown"
            what = "wrote no outputs" if state.upper() in {"FAILED", "CRASHED", "CANCELLED"} else "has no outputs (yet)"
            raise TarjamaError(f"run {label} is {state} and {what}")
    try:
        source = resolve_download(folder, quote(check_output_name(file), safe="/")).path
    except (DownloadRefused, DownloadNotFound):
        held = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
        raise TarjamaError(f"{folder / file}: no such output file in run {label} (it has {', '.join(held)})") from None
    if target is not None and str(target) == "-":
        with source.open("rb") as handle:
            shutil.copyfileobj(handle, sys.stdout.buffer)
        sys.stdout.buffer.flush()
        return label, None
    name = f"{folder.name}-{file.replace('/', '-')}"
    target = target or Path(name)
    if target.is_dir():
        target = target / name
    from tarjama.parallel_corpus import copy_file

    copy_file(source, target)
    return label, target
