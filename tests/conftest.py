"""Shared test fixtures: repository paths, the ``tarjama`` executable, free ports, ``tarjama serve``, the browser's
helpers, the real offline engine."""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from loopback_services import LoopbackServices

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
PYTHON = sys.executable
TARJAMA = str(Path(sys.executable).with_name("tarjama"))


NTREX = CORPUS / "ntrex128-dev"
ARTICLE = NTREX / "euronews-en.153835.ar.txt"
"""A short article (4 sentences) with its reference: what the tests that start Prefect or a browser run."""
READY = "Press Ctrl-C to stop."
"""What ``tarjama serve`` prints once everything it started answers."""
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
UI_WAIT_S = 120


def copy_articles(folder: Path, ids: list[str]) -> Path:
    """The ntrex128-dev articles ``ids`` with their references, copied into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for article in ids:
        for path in NTREX.glob(f"{article}.*.txt"):
            shutil.copy(path, folder / path.name)
    return folder


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def descendants(pid: int) -> set[int]:
    """Every process below ``pid`` (Linux /proc)."""
    found: set[int] = set()
    todo = [pid]
    while todo:
        current = todo.pop()
        for children in Path(f"/proc/{current}/task").glob("*/children"):
            try:
                kids = {int(k) for k in children.read_text().split()}
            except OSError:
                continue
            todo += list(kids - found)
            found |= kids
    return found


def alive(pid: int) -> bool:
    """Running and not a zombie."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def cli_env(home: Path, **extra: str) -> dict[str, str]:
    """A minimal environment for running the CLI: its own tarjama home, a wide terminal, a shared
    Prefect server that stops a minute after the test's last command (not the default ten), and no warm
    process left behind by runs (``tests/test_preload.py`` tests that one, with ``TARJAMA_PRELOAD=on``).

    ``PYTHONPATH`` passes through (it is unset in CI), so a worktree's code is what the CLI runs.
    """
    passed = {k: v for k, v in os.environ.items() if k == "PYTHONPATH"}
    return (
        {
            "PATH": "/usr/bin:/bin",
            "HOME": str(Path.home()),
            "TARJAMA_HOME": str(home),
            "COLUMNS": "250",
            "TARJAMA_PREFECT_SERVER_IDLE": "60",
            "TARJAMA_PRELOAD": "off",
        }
        | passed
        | extra
    )


@contextmanager
def prefect_server(home: Path, logs: Path):
    """A Prefect API server for this module's runs; stopped (its process group) on exit."""
    port = free_port()
    (home / "prefect").mkdir(parents=True, exist_ok=True)
    env = cli_env(home, COLUMNS="200") | {
        "PREFECT_HOME": str(home / "prefect"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_SERVER_UI_ENABLED": "false",
        "DO_NOT_TRACK": "1",
    }
    with open(logs, "w") as log:
        server = subprocess.Popen(
            [
                PYTHON,
                "-m",
                "prefect",
                "server",
                "start",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--no-services",
                "--no-ui",
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    api = f"http://127.0.0.1:{port}/api"
    try:
        deadline = time.monotonic() + 600  # first start: database migrations, on a busy machine
        while True:
            assert server.poll() is None, logs.read_text()[-3000:]
            try:
                if httpx.get(f"{api}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the Prefect server did not start"
            time.sleep(1)
        yield api
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait(timeout=30)


# --- tarjama serve, and the browser driven against it


@dataclass
class Serve:
    process: subprocess.Popen
    home: Path
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def state(self) -> dict:
        return json.loads((self.home / "serve.json").read_text())


def start_serve(
    home: Path, out: Path, port: int, download_port: int, *extra: str, session: bool = False, **env: str
) -> Serve:
    """``session``: in a process group of its own, so that :func:`stop` can Ctrl-C it the way a terminal does;
    ``env``: more environment variables (an engine's URL)."""
    home.mkdir(parents=True, exist_ok=True)
    log = home.parent / f"serve-{port}-{download_port}.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [TARJAMA, "serve", "--port", str(port), "--download-port", str(download_port), "--out", str(out), *extra],
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
            env=cli_env(home, **env),
            cwd=ROOT,
            start_new_session=session,
        )
    return Serve(process, home, log)


def csrf_headers(api: str) -> dict[str, str]:
    """What Prefect's UI and client send with every POST to a server of ``tarjama serve`` (it wants a CSRF token)."""
    token = httpx.get(f"{api}/csrf-token", params={"client": "tests"}, timeout=30).raise_for_status().json()
    return {"Prefect-Csrf-Token": token["token"], "Prefect-Csrf-Client": "tests"}


def wait_ready(serve: Serve, timeout: float = 300) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if READY in serve.output():
            return serve.state()
        if serve.process.poll() is not None:
            pytest.fail(f"tarjama serve exited with {serve.process.returncode}:\n{serve.output()[-4000:]}")
        time.sleep(0.5)
    serve.process.kill()
    pytest.fail(f"tarjama serve not ready after {timeout:.0f} s:\n{serve.output()[-4000:]}")


def stop(serve: Serve, sig: int = signal.SIGINT, timeout: float = 120, group: bool = False) -> int:
    """Ctrl-C: SIGINT to the serve process (``group``: to its process group, as a terminal does); wait for it."""
    if serve.process.poll() is None:
        if group:
            os.killpg(serve.process.pid, sig)
        else:
            serve.process.send_signal(sig)
    try:
        return serve.process.wait(timeout)
    except subprocess.TimeoutExpired:
        serve.process.kill()
        serve.process.wait(10)
        pytest.fail(f"tarjama serve did not stop within {timeout:.0f} s:\n{serve.output()[-4000:]}")


class Shots:
    """Screenshots into ``folder``, and also into ``$TARJAMA_SCREENSHOTS`` when set (``docs`` refreshes the README's)."""

    def __init__(self, driver, folder: Path) -> None:
        self.driver, self.folder = driver, folder
        folder.mkdir(exist_ok=True)
        self.extra = Path(os.environ["TARJAMA_SCREENSHOTS"]) if os.environ.get("TARJAMA_SCREENSHOTS") else None

    def take(self, name: str) -> Path:
        path = self.folder / f"{name}.png"
        assert self.driver.save_screenshot(str(path)), f"no screenshot {path}"
        if self.extra is not None:
            target = self.extra if self.extra.is_absolute() else ROOT / self.extra
            target.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target / path.name)
        print(f"screenshot: {path}")
        return path


def wait(driver, condition, timeout: float = UI_WAIT_S, what: str = ""):
    """Selenium's wait for ``condition``; on a timeout the test fails with the page's URL and text."""
    from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    try:
        return WebDriverWait(
            driver, timeout, poll_frequency=0.5, ignored_exceptions=(StaleElementReferenceException,)
        ).until(condition)
    except WebDriverException as problem:
        body = driver.find_element(By.TAG_NAME, "body").text[:3000]
        pytest.fail(
            f"waiting for {what or condition}: {type(problem).__name__}\nURL {driver.current_url}\nPAGE:\n{body}"
        )


@contextmanager
def tmpfs(where: Path, size: str = "2m", *options: str) -> Iterator[Path]:
    """A real, small file system at ``where`` for the duration of the block (needs root, as ``mount`` does)."""
    where.mkdir(parents=True, exist_ok=True)
    mount_options = ",".join([f"size={size}", *options])
    subprocess.run(["mount", "-t", "tmpfs", "-o", mount_options, "tmpfs", str(where)], check=True)
    try:
        yield where
    finally:
        subprocess.run(["umount", "--lazy", str(where)], check=True)


def fill(folder: Path) -> Path:
    """Write zeros into ``folder`` until its disk refuses: a full disk, as a user's would be."""
    filler = folder / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while True:
            os.write(fd, bytes(4096))
    except OSError as error:
        assert error.errno == errno.ENOSPC
    finally:
        os.close(fd)
    return filler


def fill_once_translating(
    services: LoopbackServices, start: Callable[[], subprocess.Popen], folder: Path
) -> subprocess.Popen:
    """``start()`` a run and fill ``folder``'s disk once the run waits for its first answer (its up-front
    checks have passed: it is translating); the held request then goes on. The started run."""
    held = services.held  # cumulative: the requests held before this run's
    services.hold_after(0)
    try:
        run = start()
        while services.held <= held:
            assert run.poll() is None, run.communicate()
            time.sleep(0.2)
        fill(folder)
    finally:
        services.release()
    return run


def device(path: Path, number: int) -> Path:
    """A character device node (``os.makedev(1, 3)`` is /dev/null's number) at ``path``, not in /dev."""
    os.mknod(path, stat.S_IFCHR | 0o666, number)
    return path


@dataclass
class Runs:
    """``tarjama run`` processes against one Prefect server and the loopback LibreTranslate (engine ``libre``)."""

    services: LoopbackServices
    env: dict[str, str]

    def start(self, article: Path, *args: object) -> subprocess.Popen:
        return subprocess.Popen(
            [TARJAMA, "run", str(article), "-e", "libre", *map(str, args)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=self.env,
        )


@contextmanager
def shared_runs(base: Path) -> Iterator[Runs]:
    """Runs that share one Prefect server (started in ``base``) and one loopback service, as users' runs
    share ``tarjama serve``'s server: starting one costs seconds, not a server start."""
    with (
        LoopbackServices(lifetime=3600) as services,
        prefect_server(base / "home", base / "server.log") as api,
    ):
        yield Runs(
            services,
            cli_env(
                base / "home", PREFECT_API_URL=api, TARJAMA_LIBRE_URL=services.url("libre"), TARJAMA_HTTP_BACKOFF="0.1"
            ),
        )


def finish(run: subprocess.Popen) -> tuple[int, str]:
    """Exit status and standard error of a started run."""
    _, stderr = run.communicate(timeout=900)
    return run.returncode, stderr


STAGE_AND_WAIT = """
import sys, time
from pathlib import Path
from tarjama.corpus.outputs import staged_run_folder
with staged_run_folder(Path(sys.argv[1]), sys.argv[2]) as staging:
    (staging / "aligned.tsv").write_text("half written")
    print("staged", flush=True)
    time.sleep(600)
"""


def staging_writer(out: Path, name: str) -> subprocess.Popen:
    """A real writer inside its staging folder, as a run is while it writes its outputs."""
    writer = subprocess.Popen(
        [PYTHON, "-c", STAGE_AND_WAIT, str(out), name],
        stdout=subprocess.PIPE,
        text=True,
        env=cli_env(out.parent / "home"),
    )
    assert writer.stdout is not None and writer.stdout.readline() == "staged\n"
    return writer


def assert_valid(beads, n: int, m: int) -> None:
    """Beads are monotone, contiguous, non-empty and cover every index on each side exactly once."""
    assert [i for b in beads for i in b.source] == list(range(n))
    assert [j for b in beads for j in b.reference] == list(range(m))
    for bead in beads:
        assert bead.source or bead.reference
        assert 0.0 <= bead.confidence <= 1.0


@pytest.fixture(scope="session")
def _local_model():
    from tarjama.translation.engines import create_engine

    return create_engine("local")


@pytest.fixture
def local_engine(request):
    """The real local engine with the real default model (assembled by `make test`'s set-up), for tests
    marked ``slow`` only: `make test-fast` loads no model."""
    if request.node.get_closest_marker("slow") is None:
        pytest.fail("a test using the real model must be marked slow (make test-fast loads no model)")
    return request.getfixturevalue("_local_model")  # loaded only after the check


# Two short articles with references, for corpus builds through the core.
ARTICLES = {
    "visit": (
        "كشفت زيارة وزير الخارجية الأمريكي إلى المغرب عن توجه جديد لتعزيز الشراكة، "
        "وأظهرت الزيارة حرص واشنطن على التقرب من التجربة المغربية.\n"
        "وأجرى المدير العام مباحثات مع الوزير الأمريكي بمقر المديرية، "
        "وجرى اللقاء بحضور عدد من المسؤولين الأمريكيين والمغاربة.\n",
        "The visit of the US Secretary of State to Morocco revealed a new approach. "
        "The visit showed Washington's eagerness.\n"
        "The Director General held talks with the US minister. Officials attended the meeting.\n",
    ),
    "storm": (
        "ضربت عاصفة قوية الساحل الشمالي للبلاد يوم الثلاثاء، وأدت إلى انقطاع الكهرباء عن آلاف المنازل.\n",
        "A strong storm hit the country's northern coast on Tuesday. Thousands of homes lost power.\n",
    ),
}


@pytest.fixture
def services():
    """Loopback translation services (libre, google, ...) for a corpus built through ``tarjama.corpus.build``."""
    from loopback_services import LoopbackServices

    with LoopbackServices(lifetime=600) as running:
        yield running


@pytest.fixture
def cleared_services(services):
    """The test module's ``services`` with their record of requests and faults cleared before and after the
    test (``pytestmark = pytest.mark.usefixtures("cleared_services")`` where the module shares them)."""
    services.clear()
    yield services
    services.clear()


def write_articles(folder: Path) -> Path:
    """:data:`ARTICLES` as article files with their references beside them."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, (arabic, english) in ARTICLES.items():
        (folder / f"{name}.ar.txt").write_text(arabic, encoding="utf-8")
        (folder / f"{name}.en.txt").write_text(english, encoding="utf-8")
    return folder


def libre(home: Path, services, **flags: str):
    """Settings for a corpus built through the loopback LibreTranslate service."""
    from tarjama.settings import Settings

    flags.setdefault("engine_url", services.url("libre"))
    return Settings.load({"TARJAMA_HOME": str(home)}, home, engine="libre", **flags)  # type: ignore[arg-type]


def build(settings, articles: Path, out: Path, name: str, **options: object):
    """A corpus built as `tarjama run` builds it, without Prefect: the core on two threads."""
    from tarjama.corpus.build import CorpusRequest, ThreadRunner, build_corpus

    runner = ThreadRunner(settings, workers=2)
    try:
        return build_corpus(CorpusRequest(sources=[str(articles)], out=out, run_name=name, **options), settings, runner)  # type: ignore[arg-type]
    finally:
        runner.close()


def write_lines(path: Path, lines: list[str]) -> Path:
    """``lines`` as a UTF-8 text file, one a line."""
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def read_lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def align_cli(cwd: Path, *args: object) -> subprocess.CompletedProcess:
    """``tarjama align ARGS`` in ``cwd``, with a tarjama home of its own there."""
    return subprocess.run(
        [TARJAMA, "align", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=cli_env(cwd / "home"),
        timeout=300,
    )


def ready_column(stdout: str) -> dict[str, str]:
    """``tarjama engines``' table: each engine's "ready" cell, by engine name."""
    rows: dict[str, str] = {}
    for line in stdout.splitlines():
        cells = [cell.strip() for cell in line.split("│")]
        if len(cells) > 5 and cells[1]:
            rows[cells[1]] = cells[-2]
    return rows


# One article of two comma-chained sentences, its MT per clause unit and a reference that cuts it
# elsewhere (tests/test_regroup.py, tests/test_compare.py).
VISIT_ARABIC = (
    "كشفت زيارة وزير الخارجية الأمريكي إلى المغرب عن توجه جديد لتعزيز الشراكة، "
    "وأظهرت الزيارة حرص واشنطن على التقرب من التجربة المغربية، "
    "حيث أكد الوزير في تغريدة ابتهاجه بلقاء المسؤولين المغاربة وأشاد بعملهم.\n"
    "وأجرى المدير العام مباحثات مع الوزير الأمريكي بمقر المديرية، "
    "وجرى اللقاء بحضور عدد من المسؤولين الأمريكيين والمغاربة.\n"
)
VISIT_UNIT_MT = [
    "The visit of the US Secretary of State to Morocco revealed a new approach to strengthening the partnership,",
    "and the visit showed Washington's eagerness to get closer to the Moroccan experience,",
    "where the minister confirmed in a tweet his delight at meeting the Moroccan officials and praised their work.",
    "The Director General held talks with the US minister at the Directorate's headquarters,",
    "and the meeting was attended by a number of American and Moroccan officials.",
]
VISIT_ENGLISH = (
    "The US Secretary of State's visit to Morocco revealed a new approach to strengthening the partnership "
    "and showed Washington's eagerness to draw closer to the Moroccan experience. "
    "In a tweet, the minister expressed his delight at meeting the Moroccan officials. He also praised their work.\n"
    "The Director General held talks with the US Secretary at the Directorate's headquarters. "
    "The meeting was attended by a number of American and Moroccan officials.\n"
)


SERVED_DOWNLOAD_URL = "http://127.0.0.1:48201"
"""The download address the ``served_home`` fixture's ``serve.json`` names: not the default port."""


@pytest.fixture
def served_home(tmp_path):
    """A home whose ``serve.json`` names a live server (the web app answers ``/health`` as Prefect's API does)
    and a download port that is not the default, as ``tarjama serve --download-port 48201`` writes it."""
    from tarjama.app.web import start_web_server

    live = start_web_server(tmp_path / "served", "127.0.0.1", 0)
    home = tmp_path / "home"
    home.mkdir()
    state = {"api_url": live.url, "download_url": SERVED_DOWNLOAD_URL, "out": str(tmp_path / "served")}
    (home / "serve.json").write_text(json.dumps(state))
    yield home
    live.stop()


SAVE_BLOCK = """
import os
from pathlib import Path
from tarjama.flows.environment import configure_prefect, prefect_api_for_command
home = Path(os.environ["TARJAMA_HOME"])
configure_prefect(home)
with prefect_api_for_command(home, 300):  # starts the home's shared server, left running
    from prefect.blocks.system import Secret
    Secret(value="a-key-of-another-engine").save(os.environ["BLOCK"], overwrite=True)
"""


def save_block(home: Path, block: str) -> None:
    """Save a Prefect Secret block named ``block`` (its value "a-key-of-another-engine") in ``home``'s Prefect,
    whose shared server this starts and leaves running."""
    saved = subprocess.run(
        [sys.executable, "-c", SAVE_BLOCK], capture_output=True, text=True, env=cli_env(home, BLOCK=block), timeout=600
    )
    assert saved.returncode == 0, saved.stderr[-3000:]
