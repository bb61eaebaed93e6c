"""The Prefect server shared by consecutive commands: started by the first `tarjama run`, reused by the next,
stopped after its idle time, replaced when its record is stale; `tarjama runs` never starts one."""

from __future__ import annotations

import json
import socket
import stat
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from conftest import ARTICLE, TARJAMA, alive, cli_env
from loopback_services import LoopbackServices

pytestmark = pytest.mark.slow  # a real Prefect server: not in `make test-fast`

IDLE_S = 20  # long enough for the second run to start within it on a busy machine, short for the test


def run(home: Path, out: Path, name: str, url: str) -> subprocess.CompletedProcess:
    env = cli_env(home, TARJAMA_LIBRE_URL=url, TARJAMA_PREFECT_SERVER_IDLE=str(IDLE_S))
    command = [TARJAMA, "run", str(ARTICLE), "-e", "libre", "-o", str(out), "--name", name]
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def record(home: Path) -> dict:
    return json.loads((home / "prefect-server.json").read_text())


def wait_until(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.5)


def test_consecutive_runs_share_one_server_that_stops_when_idle(tmp_path):
    home, out = tmp_path / "home", tmp_path / "out"
    with LoopbackServices(lifetime=3600) as services:
        url = services.url("libre")
        run(home, out, "first", url)
        first = record(home)
        assert alive(first["pid"])  # it outlived the command that started it
        # the home and its Prefect folder (the database, its Secret blocks), made by tarjama, are its user's
        # alone, and so is the record of the server's identity token
        modes = {p: stat.S_IMODE(p.stat().st_mode) for p in (home, home / "prefect", home / "prefect-server.json")}
        assert list(modes.values()) == [0o700, 0o700, 0o600], modes
        api = f"http://127.0.0.1:{first['port']}/api"
        assert httpx.get(f"{api}/health", timeout=10).status_code == 200
        # it answers only its own (loopback) host names
        assert httpx.get(f"{api}/health", headers={"Host": "evil.example"}, timeout=10).status_code == 421
        # and no page of another site: Prefect's own CORS here allows any origin, and a text/plain POST
        # needs no CORS preflight, so without the Origin check any page could list the runs
        foreign = {"Origin": "http://evil.example", "Content-Type": "text/plain"}
        listing = httpx.post(f"{api}/flow_runs/filter", content="{}", headers=foreign, timeout=10)
        assert listing.status_code == 403 and "access-control-allow-origin" not in listing.headers
        # a client that is no browser (no Origin) needs a CSRF token, as Prefect's client fetches: 200 before
        plain = httpx.post(f"{api}/flow_runs/filter", content="{}", headers={"Content-Type": "text/plain"}, timeout=10)
        assert plain.status_code == 403
        token = httpx.get(f"{api}/csrf-token", params={"client": "t"}, timeout=10).json()["token"]
        tokened = {"Prefect-Csrf-Token": token, "Prefect-Csrf-Client": "t"}
        assert httpx.post(f"{api}/flow_runs/filter", json={}, headers=tokened, timeout=10).status_code == 200
        # CORS names only its own origins (it was `*`)
        own = f"http://127.0.0.1:{first['port']}"
        allowed = httpx.get(f"{api}/health", headers={"Origin": own}, timeout=10).headers
        assert allowed.get("access-control-allow-origin") == own
        # the identity probe answers only its own host names and pages too (it answered before the checks)
        identity = f"http://127.0.0.1:{first['port']}/tarjama/identity"
        assert httpx.get(identity, timeout=10).text == first["token"]
        assert httpx.get(identity, headers={"Host": "evil.example"}, timeout=10).status_code == 421
        assert httpx.get(identity, headers={"Origin": "http://evil.example"}, timeout=10).status_code == 403

        run(home, out, "second", url)
        assert record(home) == first  # reused, not replaced
        assert not list((home / "prefect-server.users").iterdir())  # the runs' leases are gone with them

    wait_until(lambda: not alive(first["pid"]), IDLE_S + 120, "the shared server did not stop when idle")
    assert not (home / "prefect-server.json").exists()

    listed = subprocess.run([TARJAMA, "runs", "--json"], capture_output=True, text=True, env=cli_env(home), timeout=300)
    assert listed.returncode == 0, listed.stderr[-3000:]
    names = [json.loads(line)["name"] for line in listed.stdout.splitlines()]
    assert names == ["second", "first"]
    assert not (home / "prefect-server.json").exists()  # answered from the database on disk, no server started


def test_a_stale_record_is_replaced(tmp_path):
    home, out = tmp_path / "home", tmp_path / "out"
    home.mkdir()
    with socket.socket() as squatter, LoopbackServices(lifetime=3600) as services:
        squatter.bind(("127.0.0.1", 0))  # someone else's listener on the recorded port
        squatter.listen()
        port = squatter.getsockname()[1]
        stale = {
            "pid": 999_999_999,  # no such process
            "port": port,
            "token": "stale",
            "idle_s": IDLE_S,
        }
        (home / "prefect-server.json").write_text(json.dumps(stale))
        run(home, out, "after-stale", services.url("libre"))
        fresh = record(home)
        assert fresh["port"] != port and fresh["token"] != "stale" and alive(fresh["pid"])
        assert (out / "after-stale" / "aligned.tsv").is_file()
    wait_until(lambda: not alive(fresh["pid"]), IDLE_S + 120, "the shared server did not stop when idle")
