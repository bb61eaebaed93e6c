"""Past ``tarjama-run`` flow runs, for ``tarjama runs`` and ``tarjama download``.

Where they are read, without ever starting a Prefect server (which took 6-27 s): the API at
``$PREFECT_API_URL`` or of a running ``tarjama serve`` for this home (``<home>/serve.json``); else
Prefect's SQLite database for the home, read-only (the home's shared server,
:mod:`tarjama.app.prefect_server`, writes the same file); else there are none. Both are read with plain
HTTP or SQL: the Prefect client alone takes seconds to import. A database laid out otherwise than expected
(another Prefect version) gives a one-line note and the finished runs of the output folders instead.
Whether a Secret block exists (:func:`secret_block_exists`, for ``tarjama run``'s check of a key before it
starts) is read the same way.

A run's output folder is its flow-run label ``tarjama.output`` (set by the run once its files are
written); for runs without it, the folder ``<out>/<run_name>`` or another under ``<out>``; either counts
only while its ``scores.json`` names the flow run (a later run of the same name writes the same folder:
:func:`output_folder`). ``tarjama download`` also takes an output folder's name or ``latest`` directly,
with no Prefect at all.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import socket
import sqlite3
import sys
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tarjama.app.prefect_server import running_api_url
from tarjama.corpus.outputs import LATEST, pid_alive
from tarjama.errors import TarjamaError, printable
from tarjama.private_files import make_private_dir
from tarjama.settings import Settings

if TYPE_CHECKING:
    from tarjama.corpus.results import RunSummary  # imports numpy: a tenth of `tarjama runs`

FLOW = "tarjama-run"  # the flow's name (tarjama.flows.pipeline.run)
OUTPUT_LABEL = "tarjama.output"
SCAN_RECENT = 200
SERVE_STATE = "serve.json"  # written by a running `tarjama serve` (importing tarjama.app.serve takes 3 s)


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


@dataclass(frozen=True)
class FlowRun:
    """What ``runs`` and ``download`` need of a flow run, as the API or the database has it."""

    id: str
    name: str
    state: str  # its name: "Completed", "Failed", ...
    state_type: str  # "COMPLETED", "FAILED", ...
    start: datetime | None
    parameters: dict[str, Any] = field(default_factory=dict)
    labels: dict[str, Any] = field(default_factory=dict)

    @property
    def completed(self) -> bool:
        return self.state_type == "COMPLETED"


def _when(raw: str | None) -> datetime | None:
    """A timestamp of the API (ISO, with zone) or the database (UTC, without one)."""
    if not raw:
        return None
    moment = datetime.fromisoformat(raw)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _json(raw: Any) -> dict[str, Any]:
    value = json.loads(raw) if isinstance(raw, str) else raw
    return value if isinstance(value, dict) else {}


def _served(home: Path, key: str) -> str | None:
    """One value of :func:`_served_values`."""
    found = _served_values(home, key)
    return found[0] if found else None


def _served_values(home: Path, *keys: str) -> tuple[str, ...] | None:
    """``keys`` of the running ``tarjama serve`` for this home (``<home>/serve.json``), if its API answers."""
    try:
        state = json.loads((home / SERVE_STATE).read_text())
        api_url, values = str(state["api_url"]).rstrip("/"), [state[key] for key in keys]
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    if not all(isinstance(value, str) for value in values):
        return None
    try:
        answers = _http("GET", f"{api_url}/health", timeout=2.0)[0] == 200
    except HttpProblem:
        return None
    return tuple(value.rstrip("/") for value in values) if answers else None


class HttpProblem(Exception):
    """A request that got no answer."""


def _http(
    method: str, url: str, body: Any = None, headers: dict[str, str] | None = None, timeout: float = 30.0
) -> tuple[int, bytes]:
    """``(status, body)`` of one request, with the standard library's client: importing httpx
    took a fifth of a second, most of what `tarjama runs` spends with a ``serve`` running."""
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    client = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = client(parts.hostname or "", parts.port, timeout=timeout)
    payload = None if body is None else json.dumps(body).encode()
    sent = (headers or {}) | ({"Content-Type": "application/json"} if payload is not None else {})
    try:
        connection.request(method, parts.path + (f"?{parts.query}" if parts.query else ""), payload, sent)
        response = connection.getresponse()
        return response.status, response.read()
    except (OSError, http.client.HTTPException) as problem:
        raise HttpProblem(str(problem) or type(problem).__name__) from None
    finally:
        connection.close()


def served_api_url(home: Path) -> str | None:
    """The API of a running ``tarjama serve`` for this home, if it answers."""
    return _served(home, "api_url")


def with_served_links(settings: Settings, out: Path) -> tuple[Settings, str | None]:
    """``settings`` whose download URL is where the running ``tarjama serve`` for this home offers files
    (its ``--download-port`` need not be the default), so a ``tarjama run``'s links and plots work; a
    ``TARJAMA_DOWNLOAD_URL`` of the user's own (anything but the default) is kept.

    When that ``serve`` offers another folder than ``out``, links to it would lead nowhere, or to another
    run of the same name: the run then gets no links (``download_url`` None) and a warning saying why.
    """
    from tarjama.settings import DEFAULT_DOWNLOAD_URL

    served = _served_values(settings.home, "download_url", "out")
    if served is None or settings.download_url != DEFAULT_DOWNLOAD_URL:
        return settings, None
    download_url, served_out = served
    if Path(served_out).resolve() != out.resolve():
        note = (
            f"tarjama serve offers {printable(served_out)}, not {printable(str(out))}: this run's page in the "
            f"Prefect UI has no download or viewer links (`tarjama serve --out {printable(str(out))}` serves it)"
        )
        return settings.model_copy(update={"download_url": None}), note
    return settings.model_copy(update={"download_url": download_url}), None


def _from_api(api_url: str, limit: int, name: str | None, run_id: str | None) -> list[FlowRun]:
    query: dict[str, Any] = {
        "flows": {"name": {"any_": [FLOW]}},
        "sort": "EXPECTED_START_TIME_DESC",
        "limit": limit,
    }
    if name is not None:
        query["flow_runs"] = {"name": {"any_": [name]}}
    if run_id is not None:
        query["flow_runs"] = {"id": {"any_": [run_id]}}
    try:
        status, token = _http("GET", f"{api_url}/csrf-token?client=tarjama-runs")
        headers = {}
        if status == 200:  # a server with CSRF protection (serve's) wants it with a POST
            headers = {"Prefect-Csrf-Token": str(json.loads(token)["token"]), "Prefect-Csrf-Client": "tarjama-runs"}
        status, answer = _http("POST", f"{api_url}/flow_runs/filter", query, headers)
        found = json.loads(answer) if status == 200 else None
    except (HttpProblem, ValueError, KeyError, TypeError) as problem:
        raise TarjamaError(f"the Prefect API at {api_url} did not answer: {problem}") from None
    if not isinstance(found, list):
        raise TarjamaError(f"the Prefect API at {api_url} did not list the flow runs (status {status})")
    return [
        FlowRun(
            id=str(run["id"]),
            name=run["name"],
            state=(run.get("state") or {}).get("name") or "?",
            state_type=(run.get("state") or {}).get("type") or "",
            start=_when(run.get("start_time") or run.get("expected_start_time")),
            parameters=_json(run.get("parameters")),
            labels=_json(run.get("labels")),
        )
        for run in found
    ]


DATABASE_QUERY = """
SELECT fr.id, fr.name, fr.state_name, fr.state_type, COALESCE(fr.start_time, fr.expected_start_time),
       fr.parameters, fr.labels
FROM flow_run AS fr JOIN flow AS f ON fr.flow_id = f.id
WHERE f.name = ? {where}
ORDER BY fr.expected_start_time DESC LIMIT ?
"""


class UnexpectedSchema(TarjamaError):
    """Prefect's database has tables or columns other than those :data:`DATABASE_QUERY` reads (another
    Prefect version): the runs are then listed from their output folders (:func:`_from_output_folders`)."""


def _from_database(database: Path, limit: int, name: str | None, run_id: str | None) -> list[FlowRun]:
    """The runs in Prefect's SQLite database, opened read-only (a server may be writing it)."""
    where, values = "", [FLOW]
    if name is not None:
        where, values = "AND fr.name = ?", [FLOW, name]
    if run_id is not None:
        where, values = "AND fr.id = ?", [FLOW, run_id]
    try:
        with sqlite3.connect(f"{database.resolve().as_uri()}?mode=ro", uri=True, timeout=10) as connection:
            rows = connection.execute(DATABASE_QUERY.format(where=where), [*values, limit]).fetchall()
        return [
            FlowRun(str(i), str(n), state or "?", kind or "", _when(start), _json(params), _json(labels))
            for i, n, state, kind, start, params, labels in rows
        ]
    except sqlite3.OperationalError as problem:
        if not str(problem).startswith(("no such table", "no such column")):
            raise TarjamaError(f"{database}: cannot read the runs from Prefect's database ({problem})") from None
        raise UnexpectedSchema(
            f"{database}: not the layout of Prefect's database that tarjama reads ({problem})"
        ) from None
    except (ValueError, TypeError) as problem:  # a column of another type: an unparsable date or JSON
        raise UnexpectedSchema(
            f"{database}: not the layout of Prefect's database that tarjama reads ({problem})"
        ) from None
    except sqlite3.Error as problem:
        raise TarjamaError(f"{database}: cannot read the runs from Prefect's database ({problem})") from None


def _output_folders(home: Path) -> list[Path]:
    """The output folders known without Prefect: the one the running ``tarjama serve`` offers, and
    ``./output`` (``tarjama run``'s default)."""
    served = _served(home, "out")
    return list(dict.fromkeys(p.absolute() for p in [*([Path(served)] if served else []), Path("output")]))


def _from_output_folders(home: Path, limit: int, name: str | None, run_id: str | None) -> list[FlowRun]:
    """The finished runs whose ``scores.json`` is in an output folder (:func:`_output_folders`), newest first."""
    found = []
    for out in _output_folders(home):
        for scores in out.glob("*/scores.json") if out.is_dir() else []:
            if scores.parent.is_symlink():  # `latest`: the same run again
                continue
            try:
                summary = json.loads(scores.read_bytes())
                run = FlowRun(
                    id=str(summary["flow_run_id"] or ""),
                    name=str(summary["run"]),
                    state="Completed",  # scores.json is written last
                    state_type="COMPLETED",
                    start=datetime.fromtimestamp(scores.stat().st_mtime, UTC),
                    parameters={"sources": [str(a["path"]) for a in summary["articles"]]},
                    labels={OUTPUT_LABEL: str(scores.parent)},
                )
            except (OSError, ValueError, KeyError, TypeError):
                continue
            if (name is None or run.name == name) and (run_id is None or run.id == run_id):
                found.append(run)
    return sorted(found, key=lambda r: r.start or datetime.min.replace(tzinfo=UTC), reverse=True)[:limit]


def _database(home: Path) -> Path | None:
    """Prefect's SQLite database for this home, if it exists (``PREFECT_HOME`` as the command set it)."""
    configured = os.environ.get("PREFECT_API_DATABASE_CONNECTION_URL", "")
    if configured:
        path = configured.split("///", 1)[1] if configured.startswith("sqlite") and "///" in configured else ""
        database = Path(path).expanduser() if path else None
    else:
        database = Path(os.environ.get("PREFECT_HOME") or home / "prefect").expanduser() / "prefect.db"
    return database if database is not None and database.is_file() else None


@dataclass(frozen=True)
class Found:
    """Flow runs, and a line for the user when they come from somewhere else than Prefect."""

    runs: list[FlowRun]
    note: str | None = None


def _flow_runs(home: Path, limit: int, name: str | None = None, run_id: str | None = None) -> Found:
    """From the API the user or ``tarjama serve`` chose; else from the home's database, which the shared
    server (if it runs) writes too, read directly (a request costs the server's time too); from
    the output folders if that database is not laid out as expected."""
    api = (os.environ.get("PREFECT_API_URL") or "").rstrip("/") or served_api_url(home)
    if api:
        return Found(_from_api(api, limit, name, run_id))
    database = _database(home)
    if database is not None:
        try:
            return Found(_from_database(database, limit, name, run_id))
        except UnexpectedSchema as problem:
            folders = ", ".join(str(folder) for folder in _output_folders(home))
            runs = _from_output_folders(home, limit, name, run_id)
            return Found(runs, f"{problem}; showing the finished runs found in {folders}")
    shared = running_api_url(home)  # a shared server on a database that is not a local file
    return Found(_from_api(shared, limit, name, run_id) if shared else [])


def prefect_at_hand(home: Path) -> bool:
    """Whether this home has a Prefect to ask (for Secret blocks, say): an API the user set, a running
    ``tarjama serve`` or shared server, or at least Prefect's database on disk. Starts nothing."""
    return bool(
        os.environ.get("PREFECT_API_URL")
        or _database(home) is not None
        or served_api_url(home)
        or running_api_url(home)
    )


SECRET_BLOCK_QUERY = """
SELECT 1 FROM block_document AS d JOIN block_type AS t ON d.block_type_id = t.id
WHERE t.slug = 'secret' AND d.name = ? LIMIT 1
"""


def secret_block_exists(home: Path, name: str) -> bool | None:
    """Whether this home's Prefect holds the Secret block ``name``; None when that cannot be told (no answer,
    a database of another layout, an API that wants credentials). Asked where :func:`_flow_runs` asks, with
    plain HTTP or SQL (the Prefect client alone takes seconds to import) and starting nothing: no Prefect at
    all holds no block."""
    return secret_blocks_exist(home, [name])[name]


def secret_blocks_exist(home: Path, names: Sequence[str]) -> dict[str, bool | None]:
    """:func:`secret_block_exists` for each of ``names``, the Prefect to ask found once. Only whether each
    block is there is asked: no value is read."""
    api = (os.environ.get("PREFECT_API_URL") or "").rstrip("/") or served_api_url(home)
    if api:
        return {name: _secret_block_in_api(api, name) for name in names}
    database = _database(home)
    if database is not None:
        return {name: _secret_block_in_database(database, name) for name in names}
    shared = running_api_url(home)  # a shared server on a database that is not a local file
    return {name: _secret_block_in_api(shared, name) if shared else False for name in names}


def with_served_download_url(settings: Settings) -> Settings:
    """``settings`` as a ``tarjama run`` for this home sees them while ``tarjama serve`` runs: its download URL
    is the one ``serve`` offers files at (:func:`with_served_links`), said so in ``sources``. Only for runs
    into the folder ``serve`` offers, which the source names; a run into another has no links."""
    from tarjama.settings import DEFAULT_DOWNLOAD_URL

    served = _served_values(settings.home, "download_url", "out")
    if served is None or settings.download_url != DEFAULT_DOWNLOAD_URL:
        return settings
    download_url, served_out = served
    source = f"running tarjama serve (runs into {served_out}; runs into another folder get no links)"
    return settings.model_copy(
        update={"download_url": download_url, "sources": {**settings.sources, "download_url": source}}
    )


def _secret_block_in_api(api_url: str, name: str) -> bool | None:
    """Prefect 3's answer to ``GET /block_types/slug/secret/block_documents/name/<name>``: the block, or
    404 ``Block document not found``; a GET needs no CSRF token."""
    from urllib.parse import quote

    try:
        status, body = _http(
            "GET", f"{api_url}/block_types/slug/secret/block_documents/name/{quote(name, safe='')}", timeout=10.0
        )
        answer = json.loads(body)
    except (HttpProblem, ValueError):
        return None
    if status == 200 and isinstance(answer, dict) and answer.get("name") == name:
        return True
    if status == 404 and isinstance(answer, dict) and answer.get("detail") == "Block document not found":
        return False
    return None  # 401 or 403 (an API with credentials), another route (another version): cannot tell


def _secret_block_in_database(database: Path, name: str) -> bool | None:
    """Whether Prefect's SQLite database, opened read-only as :func:`_from_database` does, holds the block."""
    try:
        with sqlite3.connect(f"{database.resolve().as_uri()}?mode=ro", uri=True, timeout=10) as connection:
            return connection.execute(SECRET_BLOCK_QUERY, [name]).fetchone() is not None
    except sqlite3.Error:  # locked, damaged, or laid out otherwise (no such table or column)
        return None


def output_folder(flow_run: FlowRun) -> Path | None:
    """Where ``flow_run`` wrote its outputs, if they are still there: a folder whose ``scores.json`` names
    this flow run's id.

    The folder is looked for by the run's label, its name (``<out>/<run_name>``) and, for a completed run
    without either, among ``<out>``'s folders. A later run of the same name writes the same folder, so a run
    killed, failed or cancelled before writing, or one whose folder a later run replaced, would otherwise be
    shown (and downloaded) the later run's files. ``scores.json`` is written last, by the run itself, with its
    flow run id: the one rule that holds whatever state Prefect records (a run can be marked Crashed after its
    outputs were written) and needs neither clocks nor the order of runs.
    """
    labelled = flow_run.labels.get(OUTPUT_LABEL)
    out = Path(flow_run.parameters.get("out") or "output")
    candidates = [Path(labelled)] if labelled else []
    if flow_run.parameters.get("run_name"):
        candidates.append(out / flow_run.parameters["run_name"])
    for folder in candidates:
        if _written_by(folder, flow_run):
            return folder
    if flow_run.completed and out.is_dir():  # an older run without the label (a failed run writes nothing)
        for scores in sorted(out.glob("*/scores.json"), reverse=True):
            if _written_by(scores.parent, flow_run):
                return scores.parent
    return None


_FLOW_RUN_ID = re.compile(rb'^  "flow_run_id": "([0-9a-f-]*)",$', re.MULTILINE)


def _written_by(folder: Path, flow_run: FlowRun) -> bool:
    """Whether run folder ``folder`` holds the outputs ``flow_run`` wrote (its ``scores.json`` names the run).

    The id is among the first lines of the file as runs write it, so those are read first: a run of
    10,000 articles writes megabytes, and ``tarjama runs`` asks this of every run it lists."""
    try:
        with (folder / "scores.json").open("rb") as scores:
            found = _FLOW_RUN_ID.search(scores.read(4096))
            if found is not None:
                return found[1].decode() == flow_run.id
            scores.seek(0)
            summary = json.loads(scores.read())
    except (OSError, ValueError):
        return False
    return isinstance(summary, dict) and summary.get("flow_run_id") == flow_run.id


@dataclass(frozen=True)
class Scores:
    """The engines and BLEU of a run, from its ``scores.json`` read as plain JSON: the typed summary
    (:class:`tarjama.corpus.results.RunSummary`, same meaning) imports numpy and sacrebleu, most of a second."""

    engines: list[str]
    bleu: float | None

    @classmethod
    def read(cls, folder: Path) -> Scores | None:
        try:
            summary = json.loads((folder / "scores.json").read_bytes())
            articles = summary["articles"]
            engines = sorted({str(article["engine"]) for article in articles})
            first: list[dict[str, Any]] = next(
                (r["scores"] for a in articles for r in a["references"] if r["scores"]), []
            )
            bleu = next((s["score"] for s in summary.get("overall") or first if s["metric"] == "BLEU"), None)
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return cls(engines, float(bleu) if isinstance(bleu, int | float) else None)


def _engine(scores: Scores | None, parameters: dict[str, Any]) -> str:
    """The engine actually used (from ``scores.json``), else the one requested."""
    if scores is not None:
        return ",".join(scores.engines)
    if isinstance(parameters.get("engine"), str):  # a run started from the UI's form
        return str(parameters["engine"])
    settings = parameters.get("settings") or {}
    return str(settings.get("engine", "auto")) if isinstance(settings, dict) else "auto"


def describe(flow_run: FlowRun) -> RunInfo:
    folder = output_folder(flow_run)
    scores = Scores.read(folder) if folder else None
    return RunInfo(
        id=flow_run.id,
        name=flow_run.name,
        state=flow_run.state,
        start=flow_run.start,
        articles=[Path(a).name.removesuffix(".ar.txt") for a in flow_run.parameters.get("sources") or []],
        engine=_engine(scores, flow_run.parameters),
        bleu=scores.bleu if scores else None,
        output=folder,
    )


@dataclass(frozen=True)
class RecentRuns:
    runs: list[RunInfo]
    note: str | None = None  # where they were found, when that is not Prefect


def recent_runs(home: Path, limit: int = 20) -> RecentRuns:
    """The newest ``limit`` runs made with this tarjama home; a run whose process was killed is shown
    Crashed at once (the next ``tarjama run`` records it so in Prefect)."""
    dead = {record.run for record in _abandoned_records(home)}
    api = os.environ.get("PREFECT_API_URL") or (served_api_url(home) if dead else None)
    if dead and api:  # a server is there anyway: record them Crashed in Prefect too, as `tarjama run` would
        with _prefect_api(api):
            crash_abandoned_runs(home)
    found = _flow_runs(home, limit)
    return RecentRuns(
        [
            dataclasses.replace(info, state="Crashed")
            if info.name in dead and info.state in ("Running", "Pending")
            else info
            for info in map(describe, found.runs)
        ],
        found.note,
    )


def find_run(home: Path, run: str) -> FlowRun:
    """The ``tarjama-run`` flow run with this id (or unique prefix), name, or output folder name:
    by full id, then by name (the newest), then by id prefix or folder name among recent runs."""
    try:
        by_id = _flow_runs(home, 1, run_id=str(uuid.UUID(run))).runs
    except ValueError:
        by_id = []
    found = by_id or _flow_runs(home, 1, name=run).runs
    if found:
        return found[0]
    recent = _flow_runs(home, SCAN_RECENT).runs
    prefixed = [r for r in recent if r.id.startswith(run.lower())] if len(run) >= 4 else []
    if len(prefixed) > 1:
        raise TarjamaError(f"run id prefix {run!r} is ambiguous: {', '.join(r.id[:12] for r in prefixed[:5])}")
    if prefixed:
        return prefixed[0]
    named = next((r for r in recent if (folder := output_folder(r)) is not None and folder.name == run), None)
    if named is None:
        short = len(run) < 4 and any(r.id.startswith(run.lower()) for r in recent)
        raise TarjamaError(
            f"no tarjama run with id or name {run!r} "
            f"({'an id prefix needs 4 characters or more; ' if short else ''}see `tarjama runs`)"
        )
    return named


async def _read_runs(client: Any, limit: int, name: str | None = None) -> list[Any]:
    from prefect.client.schemas.filters import FlowFilter, FlowFilterName, FlowRunFilter, FlowRunFilterName
    from prefect.client.schemas.sorting import FlowRunSort

    return await client.read_flow_runs(
        flow_filter=FlowFilter(name=FlowFilterName(any_=[FLOW])),
        flow_run_filter=FlowRunFilter(name=FlowRunFilterName(any_=[name])) if name else None,
        sort=FlowRunSort.EXPECTED_START_TIME_DESC,
        limit=limit,
    )


def mark_stopped(run_name: str, reason: str, state: str = "Cancelled") -> None:
    """Record in Prefect that the named run was stopped (a signal ended the process under it): Cancelled,
    or Completed if its output was written before.

    Without this the run's thread is abandoned mid-flow and the run stays "Running" in the UI for
    ever. Best effort and quick: the process is about to exit, and its outputs never depend on it.
    """
    import asyncio  # here: its import is a tenth of `tarjama runs`, which never needs it

    try:
        asyncio.run(asyncio.wait_for(_mark_ended([run_name], state, reason), timeout=10))
    except Exception:  # an unreachable or dying API: the run is stopped anyway
        pass


@dataclass(frozen=True)
class StoppedRun:
    """What a run stopped by a signal leaves: its output if that was written whole before the signal, and
    where the translations it paid for are (its memory, or the journals its next run merges into it)."""

    summary: RunSummary | None
    kept_in: Path


def written_output(target: Path, wait: bool = True) -> RunSummary | None:
    """Stop this process writing (:func:`tarjama.corpus.outputs.stop_writing`, waiting for the writes under
    way or not) and return the summary of the run folder ``target`` if the process renamed it into place,
    complete; None if it did not, and never will.

    A signal can come at any step of a run, even after its output was renamed into place, and a second
    one while the first is being handled: what the command says is decided by what was written, not
    by the step it was stopped at."""
    from tarjama.corpus.outputs import stop_writing
    from tarjama.corpus.results import RunSummary

    if target.absolute() not in [folder.absolute() for folder in stop_writing(wait)]:
        return None
    try:
        summary = RunSummary.model_validate_json((target / "scores.json").read_bytes())
    except (OSError, ValueError):
        return None
    return summary.model_copy(update={"output_dir": str(target)})


def stop_run(settings: Settings, target: Path, reason: str) -> StoppedRun:
    """End a run whose process got a signal: its writes finish or are abandoned (nothing half-written is
    left, :func:`tarjama.corpus.outputs.stop_writing`), Prefect records how it ended, and what its
    workers translated goes from the journals into its memory, where the message says it is."""
    from tarjama.translation.memory import journal_folder, save_journals

    summary = written_output(target)
    written = summary is not None
    mark_stopped(
        target.name,
        f"{reason} after its output was written" if written else reason,
        "Completed" if written else "Cancelled",
    )
    try:
        save_journals(settings.home, settings.memory_path)
    except Exception:  # a locked or vanished memory: the next run with it merges them
        return StoppedRun(summary, journal_folder(settings.home, settings.memory_path))
    return StoppedRun(summary, settings.memory_path)


async def _mark_ended(run_names: list[str], state: str, reason: str) -> None:
    from prefect import states
    from prefect.client.orchestration import get_client

    async with get_client() as client:
        for run_name in run_names:
            for flow_run in await _read_runs(client, 5, name=run_name):
                if flow_run.state is None or not flow_run.state.is_final():
                    await client.set_flow_run_state(flow_run.id, getattr(states, state)(message=reason), force=True)


RUNNING = "running"
"""``<home>/running/<host>-<pid>.json``: the ``tarjama run`` processes under way, each with the run's name
and its translation memory."""


@contextmanager
def recorded_while_running(home: Path, run_name: str, memory: Path | None = None) -> Iterator[RunningRecord]:
    """Note this process as the one running ``run_name`` for as long as the block lasts, so that if it is
    killed outright (SIGKILL, power loss) the next command can tell the run died (:func:`crash_abandoned_runs`).
    Keyed by the process: a run resumed under the same name leaves the killed one's record to be found.
    The record stays when the block ends while ``settled`` is false (stopped before Prefect was told how)."""
    host, pid = socket.gethostname(), os.getpid()
    record = RunningRecord(home / RUNNING / f"{host}-{pid}.json")
    make_private_dir(record.path.parent)
    owner: dict[str, object] = {"host": host, "pid": pid, "run": run_name}
    if memory is not None:
        owner["memory"] = str(memory.resolve())
    record.path.write_text(json.dumps(owner))
    try:
        yield record
    finally:
        if record.settled:
            record.path.unlink(missing_ok=True)


@dataclass
class RunningRecord:
    """A run's process record; ``settled`` is false while a stopped run is being ended (a second Ctrl-C
    then leaves the record, and the next command marks the run Crashed rather than Running for ever)."""

    path: Path
    settled: bool = True


@dataclass(frozen=True)
class _Record:
    path: Path
    run: str
    alive: bool
    pid: int = 0
    memory: str | None = None


def _records(home: Path) -> list[_Record]:
    """The records of this host's ``tarjama run`` processes (a record of another host cannot be checked).
    One from before records were keyed by process is named after its run and holds no ``run``."""
    folder = home / RUNNING
    found = []
    for record in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            owner = json.loads(record.read_text())
            host, pid, run = owner["host"], int(owner["pid"]), str(owner.get("run", record.stem))
            memory = owner.get("memory")
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            continue
        if host == socket.gethostname():
            found.append(_Record(record, run, pid_alive(pid), pid, memory if isinstance(memory, str) else None))
    return found


def runs_sharing_memory(home: Path, memory: Path) -> list[tuple[str, int]]:
    """The other live ``tarjama run`` processes of this home and host using the translation memory ``memory``:
    (run name, pid). Each run reads the memory before it translates, so the sentences two runs both need and
    neither had are translated, and paid for, by both (called once this run's own record is written: of two
    runs starting together, at least the second sees the first)."""
    memory_path = str(memory.resolve())
    return [
        (record.run, record.pid)
        for record in _records(home)
        if record.alive and record.pid != os.getpid() and record.memory == memory_path
    ]


def _abandoned_records(home: Path) -> list[_Record]:
    """The records of runs whose ``tarjama run`` process is gone without ending them. One whose name a live
    process runs again waits for it to end: Prefect's runs are found by name, and the live one is not crashed."""
    records = _records(home)
    live = {record.run for record in records if record.alive}
    return [record for record in records if not record.alive and record.run not in live]


@contextmanager
def _prefect_api(api: str) -> Iterator[None]:
    """Prefect's client reads its server from ``PREFECT_API_URL``: set for the block if it was not."""
    given = os.environ.get("PREFECT_API_URL")
    os.environ["PREFECT_API_URL"] = given or api
    try:
        yield
    finally:
        if given is None:
            os.environ.pop("PREFECT_API_URL", None)


def crash_abandoned_runs(home: Path) -> list[str]:
    """Mark Crashed in Prefect each run whose ``tarjama run`` process is gone without ending it (killed),
    which would stay "Running" for ever otherwise; return their names. Needs the Prefect API."""
    dead = _abandoned_records(home)
    if not dead:
        return []
    names = sorted({record.run for record in dead})
    import asyncio

    try:
        asyncio.run(asyncio.wait_for(_mark_ended(names, "Crashed", "its tarjama run process was killed"), timeout=30))
    except Exception:  # the API is unreachable: asked again by the next command
        return []
    for record in dead:
        record.path.unlink(missing_ok=True)
    return names


def _local_folder(run: str, out: Path) -> Path | None:
    """``latest`` or an output folder's name under ``out``, found without Prefect."""
    if "/" in run or run.startswith("."):
        return None
    folder = out / run
    if run == LATEST and folder.is_symlink():
        folder = out / os.readlink(folder)
    from tarjama.app.download import is_run_folder

    return folder if is_run_folder(folder) else None


def _newest_run(settings: Settings) -> Path | None:
    """The newest run, wherever it was started from: the ``latest`` of the folder the running ``tarjama
    serve`` offers, else the newest run with outputs that Prefect knows for this home."""
    served = _served(settings.home, "out")
    if served and (folder := _local_folder(LATEST, Path(served))) is not None:
        return folder
    return next((info.output for info in recent_runs(settings.home).runs if info.output is not None), None)


def check_output_name(file: str) -> str:
    """``file`` if it names a file inside a run folder (``aligned.jsonl``, ``plots/row-chrf.png``), as the
    download server allows; a path leaving the folder or a hidden one is a one-line error."""
    from urllib.parse import quote

    from tarjama.app.download import DownloadNotFound, DownloadRefused, safe_relative

    try:
        return safe_relative(quote(file, safe="/"))
    except (DownloadRefused, DownloadNotFound) as problem:
        raise TarjamaError(f"--file {file!r}: not a file of a run folder ({problem})") from None


def download(
    settings: Settings, run: str, target: Path | None, file: str, out: Path, into_folder: bool = False
) -> tuple[str, Path | None]:
    """Copy one output ``file`` of ``run`` (any file its folder holds) to ``target`` (default
    ``./<folder>-<file>``; ``-``: stdout; a folder, made first when ``into_folder``).

    Returns a label for the run and the path written (None for stdout).
    """
    from urllib.parse import quote

    from tarjama.app.download import (
        DownloadIsFolder,
        DownloadNotFound,
        DownloadRefused,
        download_filename,
        resolve_download,
        served_files,
    )

    folder = _local_folder(run, out) or (_newest_run(settings) if run == LATEST else None)
    label = folder.name if folder else run
    if folder is None:
        if run == LATEST:
            raise TarjamaError(
                f"{out / LATEST}: no such run link, and no finished run known (give --from, the output folder of your runs)"
            )
        from tarjama.flows.environment import configure_prefect

        configure_prefect(settings.home)
        flow_run = find_run(settings.home, run)
        folder = output_folder(flow_run)
        label = f"{flow_run.name} ({flow_run.id})"
        if folder is None:
            state = flow_run.state
            what = "wrote no outputs" if state.upper() in {"FAILED", "CRASHED", "CANCELLED"} else "has no outputs (yet)"
            if flow_run.completed:  # a later run of the same name writes the same folder
                what = f"its outputs are no longer there (removed, or replaced by a later run named {flow_run.name})"
            raise TarjamaError(f"run {label} is {state} and {what}")
    try:
        source = resolve_download(folder, quote(check_output_name(file), safe="/")).path
    except DownloadRefused:
        raise TarjamaError(
            f"{folder / file}: not served: a link leading outside the run's folder, or a loop of links "
            "(the download server refuses it too)"
        ) from None
    except DownloadNotFound as problem:
        what = "a folder, not a file" if isinstance(problem, DownloadIsFolder) else "no such output file"
        held = ", ".join(served_files(folder))
        raise TarjamaError(f"{folder / file}: {what} in run {label} (it has {held}; choose one with --file)") from None
    if target is not None and str(target) == "-":
        with source.open("rb") as handle:
            shutil.copyfileobj(handle, sys.stdout.buffer)
        sys.stdout.buffer.flush()
        return label, None
    name = download_filename(f"{folder.name}/{file}")  # as the download server names it
    target = target or Path(name)
    if into_folder:
        try:
            target.mkdir(parents=True, exist_ok=True)
        except OSError as problem:
            raise TarjamaError(f"{target}: cannot make the folder to write into ({problem.strerror})") from None
    if target.is_dir():
        target = target / name
    from tarjama.corpus.schema import copy_file

    copy_file(source, target)
    return label, target
