"""The package's shape: one import name, imports without side effects, a pure core, and a plain install that works."""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import time
import tomllib
import venv
import zipfile
from importlib.metadata import packages_distributions
from pathlib import Path

import httpx
import pytest
from conftest import ARTICLE, ROOT, csrf_headers, free_port

CORE_WITHOUT_PREFECT = [
    "tarjama.alignment.align",
    "tarjama.text.article",
    "tarjama.translation.engines",
    "tarjama.translation.engines.google",
    "tarjama.translation.engines.local",
    "tarjama.alignment.gale_church",
    "tarjama.translation.memory",
    "tarjama.corpus.outputs",
    "tarjama.corpus.schema",
    "tarjama.corpus.report",
    "tarjama.corpus.results",
    "tarjama.quality.score",
    "tarjama.text.segment",
    "tarjama.settings",
    "tarjama.translation.translate",
    "tarjama.translation.stopping",
]

SIDE_EFFECTS = """
import importlib, json, logging, os, pkgutil, sys
import numpy, polars, prefect  # third parties may set their own variables when they load (polars: its allocator's)
import tarjama
before_env = dict(os.environ)
loggers = ("httpx", "httpcore", "tarjama", "tarjama.translation.engines")
before_filters = {name: list(logging.getLogger(name).filters) for name in loggers}
import tarjama.flows
names = [m.name for m in pkgutil.walk_packages(tarjama.__path__, "tarjama.")]
names += [m.name for m in pkgutil.walk_packages(tarjama.flows.__path__, "tarjama.flows.")]
for name in names:
    importlib.import_module(name)
changed = sorted(k for k in set(os.environ) | set(before_env) if os.environ.get(k) != before_env.get(k))
filters = [name for name in loggers if logging.getLogger(name).filters != before_filters[name]]
print(json.dumps({"modules": names, "env": changed, "filters": filters}))
"""


@pytest.fixture(scope="module")
def distributions(tmp_path_factory) -> dict[str, Path]:
    """What ``python -m build`` makes: the sdist, then the wheel built from that sdist (as a user's build
    or a package index's does); and, beside them, a wheel built straight from the checkout."""
    out = tmp_path_factory.mktemp("dist")
    for command in (
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out / "build"), str(ROOT)],
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(out / "pip"),
            str(ROOT),
        ],
    ):
        done = subprocess.run(command, capture_output=True, text=True, timeout=900)
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    (sdist,) = (out / "build").glob("tarjama-*.tar.gz")
    (from_sdist,) = (out / "build").glob("tarjama-*.whl")
    (from_checkout,) = (out / "pip").glob("tarjama-*.whl")
    return {"sdist": sdist, "wheel from sdist": from_sdist, "wheel from checkout": from_checkout}


@pytest.mark.slow
def test_the_sdist_holds_the_package_the_flows_and_nothing_stray(distributions):
    with tarfile.open(distributions["sdist"]) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    assert {"flows/pipeline.py", "src/tarjama/app/cli.py", "hatch_build.py", "pyproject.toml", "CHANGELOG.md"} <= names
    assert not {name for name in names if name.endswith(".log") or name.split("/")[0] in ("tests", "output", ".venv")}


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["wheel from sdist", "wheel from checkout"])
def test_every_wheel_installs_only_the_tarjama_import_name_with_its_flows(distributions, kind):
    with zipfile.ZipFile(distributions[kind]) as archive:
        names = archive.namelist()
    tops = {name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")}
    assert tops == {"tarjama"}  # no editable finder, no stray top-level module
    assert {"tarjama/flows/__init__.py", "tarjama/flows/pipeline.py", "tarjama/flows/limits.py"} <= set(names)
    assert "tarjama/py.typed" in names  # plug-in authors type-check against tarjama.Engine and EngineSpec


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["sdist", "wheel from sdist", "wheel from checkout"])
def test_the_package_index_page_has_no_links_into_the_repository(distributions, kind):
    """The long description is the README, whose relative links and picture break on an index page:
    each link is its file's path in plain text, and the picture is left out."""
    if kind == "sdist":
        with tarfile.open(distributions[kind]) as archive:
            (info,) = [m for m in archive.getmembers() if m.name.count("/") == 1 and m.name.endswith("/PKG-INFO")]
            metadata = archive.extractfile(info).read().decode()  # type: ignore[union-attr]
    else:
        with zipfile.ZipFile(distributions[kind]) as archive:
            (name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
            metadata = archive.read(name).decode()
    description = metadata.split("\n\n", 1)[1]
    assert "Content-Type: text/markdown" in metadata and description.startswith("# tarjama")
    assert "](docs/" not in description and "viewer.png" not in description
    assert "(`docs/inputs.md`)" in description and "- `docs/security.md`: " in description


@pytest.mark.slow
def test_a_wheel_from_a_checkout_leaves_stray_files_in_flows_out(tmp_path):
    """A checkout's flows/ may hold what git ignores (a Prefect database, caches); the wheel carries
    only the package's files."""
    checkout = tmp_path / "checkout"
    for name in ("src", "flows", "hatch_build.py", "README.md", "LICENSE", "pyproject.toml"):
        copy = shutil.copytree if (ROOT / name).is_dir() else shutil.copy2
        copy(ROOT / name, checkout / name)
    (checkout / "flows" / ".prefect").mkdir()
    (checkout / "flows" / ".prefect" / "prefect.db").write_text("runs")
    (checkout / "flows" / "pipeline.py~").write_text("an editor's backup")
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path)]
    done = subprocess.run([*command, str(checkout)], capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-2000:]
    (wheel,) = tmp_path.glob("tarjama-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        flows = {name for name in archive.namelist() if name.startswith("tarjama/flows/")}
    assert "tarjama/flows/pipeline.py" in flows and "tarjama/flows/no-tls.pem" in flows
    assert not {name for name in flows if "/." in name or "__pycache__" in name or name.endswith("~")}, flows


def test_the_editable_install_finds_the_flows_in_the_checkout():
    """The development install resolves ``tarjama.flows`` to the top-level flows/ folder, not to a copy."""
    code = "import tarjama, tarjama.flows.pipeline as p; print(tarjama.__version__); print(p.__file__)"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    version, where = result.stdout.split()
    assert version == tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert Path(where).resolve().parent.parent == ROOT


@pytest.mark.slow
def test_importing_any_module_changes_nothing():
    result = subprocess.run([sys.executable, "-c", SIDE_EFFECTS], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert "tarjama.flows.pipeline" in found["modules"] and "tarjama.app.cli" in found["modules"]
    assert found["env"] == [] and found["filters"] == []


@pytest.mark.slow
def test_the_core_imports_no_prefect():
    code = f"import sys\nfor name in {CORE_WITHOUT_PREFECT!r}: __import__(name)\nprint(sorted(m for m in sys.modules if m.split('.')[0] == 'prefect'))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip() == "[]"


def test_tests_share_helpers_through_conftest_only():
    """No test imports another test module (shared helpers live in conftest.py) or loads a file by its path."""
    found = []
    for path in sorted((ROOT / "tests").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            names += [node.module] if isinstance(node, ast.ImportFrom) and node.module else []
            found += [f"{path.name} imports {n}" for n in names if n.split(".")[0] == "tests" or n.startswith("test_")]
            if isinstance(node, ast.Attribute) and node.attr in ("spec_from_file_location", "run_path"):
                found.append(f"{path.name} loads a file by path ({node.attr})")
    assert found == []


OUR_IMPORT_NAMES = {"tarjama", "conftest", "loopback_services", "benchmarks", "scripts", "tests"}
OPTIONAL_IMPORTS = {"langid"}  # benchmarks/bench_checks.py times it only when it is installed (find_spec)


def _distribution(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@pytest.mark.slow
def test_every_imported_third_party_package_is_declared():
    """A package imported anywhere in the repository is a dependency or an extra in pyproject.toml, pinned."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pins = [*project["dependencies"], *(r for extra in project["optional-dependencies"].values() for r in extra)]
    assert all("==" in pin for pin in pins)
    declared = {_distribution(pin.split("==")[0]) for pin in pins}
    providers = packages_distributions()
    missing = set()
    for folder in ("src", "flows", "tests", "benchmarks", "scripts"):
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
                if isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    names.append(node.module)
                for top in {name.split(".")[0] for name in names}:
                    if (
                        top in sys.stdlib_module_names
                        or top in OUR_IMPORT_NAMES | OPTIONAL_IMPORTS
                        or top.startswith("test_")
                    ):
                        continue
                    if not {_distribution(d) for d in providers.get(top, [])} & declared:
                        missing.add(f"{top} ({path.relative_to(ROOT)})")
    assert sorted(missing) == []


@pytest.fixture(scope="module")
def plain_install(tmp_path_factory, distributions) -> Path:
    """A fresh venv with the wheel built from the sdist installed; its dependencies are this venv's (no download)."""
    base = tmp_path_factory.mktemp("plain")
    target = base / "venv"
    venv.create(target, with_pip=True)
    site = next((target / "lib").glob("python3*/site-packages"))
    ours = next(Path(p) for p in sys.path if p.endswith("site-packages") and Path(p, "prefect").is_dir())
    (site / "deps.pth").write_text(f"{ours}\n")  # a .pth line adds the folder, not the .pth files in it
    subprocess.run(
        [
            str(target / "bin" / "python"),
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            str(distributions["wheel from sdist"]),
        ],
        check=True,
        capture_output=True,
        timeout=900,
    )
    return target


@pytest.mark.slow
def test_plain_install_serves_and_runs_an_article_from_the_ui(plain_install, tmp_path):
    from loopback_services import LoopbackServices

    python = plain_install / "bin" / "python"
    where = subprocess.run(
        [str(python), "-c", "import tarjama, tarjama.flows.pipeline as p; print(tarjama.__file__); print(p.__file__)"],
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},  # a worktree's PYTHONPATH would win
        timeout=300,
    )
    assert where.returncode == 0, where.stderr[-2000:]
    assert all(str(plain_install) in line for line in where.stdout.split())  # the installed copy, not the checkout
    article = ARTICLE
    port, download_port = free_port(), free_port()
    home, out = tmp_path / "home", tmp_path / "output"
    with LoopbackServices(lifetime=1200) as services:
        env = {
            "PATH": "/usr/bin:/bin",
            "HOME": str(Path.home()),
            "TARJAMA_HOME": str(home),
            "TARJAMA_GOOGLE_URL": services.url("google"),
        }
        log = tmp_path / "serve.log"
        with log.open("wb") as sink:
            serve = subprocess.Popen(
                [
                    str(plain_install / "bin" / "tarjama"),
                    "serve",
                    "--port",
                    str(port),
                    "--download-port",
                    str(download_port),
                    "--out",
                    str(out),
                    "--article",
                    str(article),
                    "--engine",
                    "google",
                ],
                stdout=sink,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=tmp_path,
                start_new_session=True,
            )
        try:
            deadline = time.monotonic() + 400
            while not (home / "serve.json").is_file() or "Press Ctrl-C" not in log.read_text():
                assert serve.poll() is None, log.read_text()[-3000:]
                assert time.monotonic() < deadline, log.read_text()[-3000:]
                time.sleep(1)
            state = json.loads((home / "serve.json").read_text())
            api = state["api_url"]
            # as Prefect's own clients do (the UI's included): a 503 is its SQLite busy for a moment, asked again
            for _attempt in range(6):
                response = httpx.post(
                    f"{api}/deployments/{state['deployment_id']}/create_flow_run",
                    json={"parameters": {}},
                    headers=csrf_headers(api),
                    timeout=60,
                )
                if response.status_code != 503:
                    break
                time.sleep(5)
            created = response.raise_for_status().json()
            while True:
                flow_run = httpx.get(f"{api}/flow_runs/{created['id']}", timeout=30).json()
                if flow_run["state"]["type"] in ("COMPLETED", "FAILED", "CRASHED", "CANCELLED"):
                    break
                assert time.monotonic() < deadline + 300, log.read_text()[-3000:]
                time.sleep(2)
            assert flow_run["state"]["type"] == "COMPLETED", log.read_text()[-3000:]
            (folder,) = [p for p in out.iterdir() if p.is_dir() and not p.is_symlink() and not p.name.startswith(".")]
            assert (folder / "aligned.tsv").is_file()
            assert services.requests("google")  # it translated through the engine the form named
        finally:
            os.killpg(serve.pid, 2)
            serve.wait(120)


@pytest.mark.slow
def test_the_installed_wheel_runs_an_article_from_a_folder_outside_the_checkout(plain_install, tmp_path):
    """sdist → wheel → clean venv → ``tarjama run``, from a folder that is not the repository."""
    from loopback_services import LoopbackServices

    work = tmp_path / "elsewhere"
    work.mkdir()
    article = work / ARTICLE.name
    article.write_bytes(ARTICLE.read_bytes())
    with LoopbackServices(lifetime=600) as services:
        env = {
            "PATH": "/usr/bin:/bin",
            "HOME": str(Path.home()),
            "TARJAMA_HOME": str(tmp_path / "home"),
            "TARJAMA_GOOGLE_URL": services.url("google"),
        }
        result = subprocess.run(
            [str(plain_install / "bin" / "tarjama"), "run", article.name, "--engine", "google", "--out", "out"],
            capture_output=True,
            text=True,
            env=env,
            cwd=work,
            timeout=600,
        )
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        assert "Traceback" not in result.stdout + result.stderr
        rows = (work / "out" / "latest" / "aligned.tsv").read_text(encoding="utf-8").splitlines()
        assert len(rows) > 1 and services.requests("google")

        log = tmp_path / "home" / "preload.log"  # the run left a warm process, which serves the next one
        deadline = time.monotonic() + 300
        while "warm process" not in (log.read_text() if log.exists() else ""):
            assert time.monotonic() < deadline, "no warm process from the installed wheel"
            time.sleep(0.5)
        warm_pid = int(re.search(r"^warm process (\d+)", log.read_text(), re.MULTILINE)[1])  # type: ignore[index]
        try:
            again = subprocess.run(
                [
                    str(plain_install / "bin" / "tarjama"),
                    "run",
                    article.name,
                    "-e",
                    "google",
                    "-o",
                    "out",
                    "--name",
                    "b",
                ],
                capture_output=True,
                text=True,
                env=env,
                cwd=work,
                timeout=600,
            )
            assert again.returncode == 0, again.stderr[-3000:]
            assert re.search(r"^run \d+ ended with status 0;", log.read_text(), re.MULTILINE)
            assert (work / "out" / "b" / "aligned.tsv").is_file()
        finally:
            os.kill(warm_pid, signal.SIGTERM)
