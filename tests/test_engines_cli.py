"""The real CLI against the loopback LibreTranslate: killed with SIGKILL mid-translation, resumed, compared.

One Prefect server (``prefect server start`` on loopback, its database in a
temporary home) serves every run here. The scenario, run once:

1. the LibreTranslate key is saved as the Prefect Secret block
   ``tarjama-libre-api-key`` (the runs get it from there: no variable);
2. ``tarjama run --engine libre`` (two sentences per request) is killed with
   SIGKILL while the server holds its 4th request, after 3 were answered;
3. the same command is run again: it must ask only for the sentences the
   translation memory does not have;
4. an uninterrupted run with a fresh memory, its key from ``LIBRE_API_KEY``
   and ``--rate-limit 50``, gives the TSV the resumed run must equal.

Then no key may appear in any output, log line, artifact, file or database.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import time
from contextlib import closing
from pathlib import Path

import pytest
from conftest import CORPUS, PYTHON, TARJAMA, cli_env, prefect_server
from loopback_services import LoopbackServices

from tarjama.corpus.schema import read_tsv
from tarjama.text.article import load_document

SEED = CORPUS / "morocco-us-counterterrorism.ar.txt"
UNITS = [unit.text for unit in load_document(SEED, "ar").units]  # what a run sends: its clause units
KEY_BLOCK = "libre-block-key-5e1f0c2a77"
KEY_ENV = "libre-env-key-93d4b6a1e8"
DEEPL_BLOCK = "deepl-block-key-0a9b8c7d:fx"
PER_REQUEST = 2
ANSWERED_BEFORE_KILL = 3


def base_env(home: Path) -> dict[str, str]:
    return cli_env(home, COLUMNS="200")


def stored_sources(home: Path) -> list[str]:
    """What is kept so far: in the translation memory, or in the journal a killed run's worker wrote (which
    the next run reads and merges)."""
    found: list[str] = []
    for database in [home / "memory.sqlite", *sorted((home / "journals").rglob("*.sqlite"))]:
        with closing(sqlite3.connect(database)) as db:
            query = "SELECT source FROM translations WHERE engine='libre' ORDER BY rowid"
            found += [row[0] for row in db.execute(query)]
    return found


pytestmark = pytest.mark.slow  # a real Prefect server, model or browser: not in `make test-fast`

POST_CHECK = """
import asyncio, json
from prefect.client.orchestration import get_client

async def main():
    async with get_client() as client:
        logs, offset = [], 0
        while True:
            page = await client.read_logs(limit=200, offset=offset)
            logs += [log.message for log in page]
            offset += len(page)
            if len(page) < 200:
                break
        limits = [l.model_dump(mode="json") for l in await client.read_global_concurrency_limits(limit=100)]
        artifacts = [a.model_dump(mode="json") for a in await client.read_artifacts()]
        runs = [r.model_dump(mode="json") for r in await client.read_flow_runs()]
        print(json.dumps({"logs": logs, "limits": limits, "artifacts": artifacts, "runs": runs}))

asyncio.run(main())
"""


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    base = tmp_path_factory.mktemp("engines-cli")
    home, out = base / "home", base / "output"
    article = base / "articles" / SEED.name  # no reference beside it: translate and align only
    article.parent.mkdir()
    shutil.copy(SEED, article)
    results: dict = {"base": base, "home": home, "out": out, "outputs": []}
    with (
        LoopbackServices(keys=(KEY_BLOCK, KEY_ENV), lifetime=1200) as services,
        prefect_server(home, base / "server.log") as api,
    ):
        env = base_env(home) | {
            "PREFECT_API_URL": api,
            "TARJAMA_LIBRE_URL": services.url("libre"),
            "TARJAMA_LIBRE_MAX_ITEMS": str(PER_REQUEST),
        }

        def cli(*args: str, extra: dict | None = None) -> subprocess.CompletedProcess:
            done = subprocess.run(
                [TARJAMA, *args], capture_output=True, text=True, env=env | (extra or {}), timeout=600
            )
            results["outputs"].append(done.stdout + done.stderr)
            return done

        saved = subprocess.run(
            [
                PYTHON,
                "-c",
                "import os\nfrom prefect.blocks.system import Secret\n"
                "Secret(value=os.environ['VALUE']).save('tarjama-libre-api-key', overwrite=True)\n"
                "Secret(value=os.environ['DEEPL']).save('tarjama-deepl-api-key', overwrite=True)",
            ],
            capture_output=True,
            text=True,
            env=env | {"VALUE": KEY_BLOCK, "DEEPL": DEEPL_BLOCK},
            timeout=300,
        )
        assert saved.returncode == 0, saved.stderr[-3000:]

        # 1. killed in the middle of translating
        services.hold_after(ANSWERED_BEFORE_KILL)
        killed_log = base / "killed.log"
        with open(killed_log, "w") as log:
            run = subprocess.Popen(
                [TARJAMA, "run", str(article), "--engine", "libre", "--out", str(out), "--name", "killed"],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 400
        while services.held < 1 and run.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
        run.wait(timeout=60)
        results["killed_exit"] = run.returncode
        results["killed_output"] = killed_log.read_text()
        results["outputs"].append(results["killed_output"])
        results["killed_requests"] = services.requests()
        results["stored_after_kill"] = stored_sources(home)
        services.release()
        services.clear()

        # 2. the same run again
        results["resumed"] = cli("run", str(article), "--engine", "libre", "--out", str(out), "--name", "resumed")
        results["resumed_requests"] = services.requests()
        services.clear()

        # 3. uninterrupted, key from the environment, explicit rate limit; a fresh memory, home (no journals)
        # and output folder (no article built before), so nothing is reused
        results["clean"] = cli(
            "run",
            str(article),
            "--engine",
            "libre",
            "--out",
            str(base / "clean-output"),
            "--name",
            "clean",
            "--memory",
            str(base / "clean-memory.sqlite"),
            "--rate-limit",
            "50",
            extra={"LIBRE_API_KEY": KEY_ENV, "TARJAMA_HOME": str(base / "clean-home")},
        )
        results["clean_requests"] = services.requests()

        # DeepL's service is the loopback one: readiness is about the key, whatever this machine's network
        results["listing"] = cli("engines", "--check-secrets", extra={"TARJAMA_DEEPL_URL": services.url("deepl")})

        check = subprocess.run([PYTHON, "-c", POST_CHECK], capture_output=True, text=True, env=env, timeout=300)
        assert check.returncode == 0, check.stderr[-3000:]
        results["prefect"] = json.loads(check.stdout.strip().splitlines()[-1])
    return results


def test_killed_run_leaves_a_batch_boundary_in_the_memory_and_no_output(scenario):
    assert scenario["killed_exit"] == -signal.SIGKILL, scenario["killed_output"][-3000:]
    requests = scenario["killed_requests"]
    answered = [r for r in requests if r.status == 200]
    assert len(answered) == ANSWERED_BEFORE_KILL and requests[-1].status is None  # killed while waiting
    first = UNITS[: ANSWERED_BEFORE_KILL * PER_REQUEST]
    assert [s for r in answered for s in r.segments] == first
    assert scenario["stored_after_kill"] == first  # each batch stored as soon as it arrived
    assert not (scenario["out"] / "killed").exists()


def test_rerun_requests_only_what_the_memory_lacks(scenario):
    resumed = scenario["resumed"]
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    sent = [s for r in scenario["resumed_requests"] for s in r.segments]
    stored = scenario["stored_after_kill"]
    assert sent == [s for s in UNITS if s not in stored]
    assert not set(sent) & set(stored)
    assert len(scenario["resumed_requests"]) == -(-len(sent) // PER_REQUEST)
    summary = json.loads((scenario["out"] / "resumed" / "scores.json").read_text())
    assert summary["articles"][0]["from_memory"] == len(stored)


def test_resumed_tsv_equals_an_uninterrupted_run(scenario):
    clean = scenario["clean"]
    assert clean.returncode == 0, clean.stderr[-3000:]
    assert len(scenario["clean_requests"]) == -(-len(UNITS) // PER_REQUEST)
    resumed = read_tsv(scenario["out"] / "resumed" / "aligned.tsv")
    clean_tsv = scenario["base"] / "clean-output" / "clean" / "aligned.tsv"
    assert resumed.equals(read_tsv(clean_tsv))
    assert (scenario["out"] / "resumed" / "aligned.tsv").read_bytes() == clean_tsv.read_bytes()
    assert set(resumed["engine"]) == {"libre"} and set(resumed["model"]) == {"libretranslate"}
    assert resumed.height == len(UNITS)


def test_each_key_reached_the_service_from_its_source(scenario):
    bodies = [json.loads(r.body) for key in ("killed_requests", "resumed_requests") for r in scenario[key]]
    assert bodies and all(body["api_key"] == KEY_BLOCK for body in bodies)  # from the Secret block
    assert all(json.loads(r.body)["api_key"] == KEY_ENV for r in scenario["clean_requests"])  # from LIBRE_API_KEY
    assert all("api_key" not in r.query for r in scenario["clean_requests"])  # never in the URL


def test_no_key_in_any_output_log_artifact_or_file(scenario):
    texts = list(scenario["outputs"]) + [json.dumps(scenario["prefect"])]
    for key in (KEY_BLOCK, KEY_ENV, DEEPL_BLOCK):
        assert all(key not in text for text in texts)
        for path in scenario["base"].rglob("*"):  # outputs, memory, Prefect's database and logs
            if path.is_file():
                assert key.encode() not in path.read_bytes(), path
    logs = "\n".join(scenario["prefect"]["logs"])
    assert "engine libre, model libretranslate" in logs
    assert scenario["prefect"]["artifacts"], "the runs published artifacts"


def test_rate_limit_is_a_prefect_global_concurrency_limit(scenario):
    limits = {l["name"]: l for l in scenario["prefect"]["limits"]}
    limit = limits["tarjama-engine-libre"]
    assert limit["active"] and limit["slot_decay_per_second"] == 50.0 and limit["limit"] == 50  # --rate-limit 50
    logs = "\n".join(scenario["prefect"]["logs"])
    assert "rate limit tarjama-engine-libre: 5 requests/s (default)" in logs  # the killed and resumed runs
    assert "rate limit tarjama-engine-libre: 50 requests/s (--rate-limit)" in logs  # where it came from


def test_engines_listing_finds_keys_in_secret_blocks(scenario):
    listing = scenario["listing"]
    assert listing.returncode == 0, listing.stderr[-3000:]
    rows = {line.split("│")[1].strip(): line for line in listing.stdout.splitlines() if line.count("│") >= 5}
    assert "yes (key from a Prefect Secret block)" in rows["deepl"]
    assert "no:" in rows["microsoft"]
    assert DEEPL_BLOCK not in listing.stdout + listing.stderr


def test_every_database_is_intact_after_the_kill(scenario):
    """The translation memories, the killed run's journal and Prefect's database pass SQLite's integrity check."""
    home = scenario["home"]
    databases = [home / "memory.sqlite", scenario["base"] / "clean-memory.sqlite", home / "prefect" / "prefect.db"]
    databases += sorted((home / "journals").rglob("*.sqlite"))
    for database in databases:
        with closing(sqlite3.connect(database)) as db:
            assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok", database
