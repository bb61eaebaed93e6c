"""The Prefect UI in a real browser: start a run from the deployment's run form, read its artifacts, download its TSV.

Debian's Chromium and chromedriver (installed by ``.ci/run``) are driven by
Selenium, headless. ``tarjama serve`` runs with a fresh ``TARJAMA_HOME`` and
the real local engine on a 4-sentence article. Screenshots go to the test's
temporary folder (printed), and also to ``$TARJAMA_SCREENSHOTS`` when set
(``TARJAMA_SCREENSHOTS=docs`` refreshes the README's pictures).
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from conftest import (
    ARTICLE,
    CHROMEDRIVER,
    CHROMIUM,
    TARJAMA,
    UI_WAIT_S,
    Shots,
    cli_env,
    csrf_headers,
    free_port,
    start_serve,
    stop,
    wait,
    wait_ready,
)
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC

from tarjama.translation.engines.base import engine_names

pytestmark = pytest.mark.slow  # a real Prefect server, model or browser: not in `make test-fast`

ARTICLE_KEY = "euronews-en-153835"
RUN_WAIT_S = 600


def xpath_literal(text: str) -> str:
    return f'"{text}"' if '"' not in text else f"'{text}'"


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("browser")


@pytest.fixture(scope="module")
def served(workspace):
    serve = start_serve(
        workspace / "home",
        workspace / "output",
        free_port(),
        free_port(),
        "--article",
        str(ARTICLE),
        "--engine",
        "local",
    )
    try:
        yield serve, wait_ready(serve)
    finally:
        code = stop(serve)
        assert code == 0, serve.output()[-3000:]


@pytest.fixture(scope="module")
def browser(workspace):
    downloads = workspace / "downloads"
    downloads.mkdir()
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-dev-shm-usage",
        "--window-size=1400,1250",
        "--no-first-run",
        "--disable-default-apps",
        "--disable-gpu",
    ):
        options.add_argument(argument)
    options.add_experimental_option(
        "prefs", {"download.default_directory": str(downloads), "download.prompt_for_download": False}
    )
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    driver.set_page_load_timeout(UI_WAIT_S)
    driver.downloads = downloads
    yield driver
    driver.quit()


def visible_text(driver, text: str, timeout: float = UI_WAIT_S):
    """The innermost visible element whose text contains ``text``."""
    literal = xpath_literal(text)
    path = f"//body//*[not(self::script or self::style)][contains(normalize-space(.), {literal})][not(*[contains(normalize-space(.), {literal})])]"

    def first_visible(d):
        return next((e for e in d.find_elements(By.XPATH, path) if e.is_displayed()), False)

    return wait(driver, first_visible, timeout, f"text {text!r}")


def flow_run(api: str, run_id: str) -> dict:
    return httpx.get(f"{api}/flow_runs/{run_id}", timeout=10).raise_for_status().json()


def progress_value(api: str) -> float | None:
    found = (
        httpx.post(
            f"{api}/artifacts/filter",
            json={"artifacts": {"key": {"any_": [f"{ARTICLE_KEY}-progress"]}}},
            headers=csrf_headers(api),
            timeout=10,
        )
        .raise_for_status()
        .json()
    )
    return float(found[0]["data"]) if found else None


FORM_LABELS = ["sources", "references", "engine", "formats", "rows", "advanced"]
"""The run form's fields, as the deployment page's Custom run shows them: no setting of the server's."""


@pytest.fixture(scope="module")
def ui_run(served, browser, workspace):
    """Start a run from the deployment's run form (Run → Custom run → Submit), open it, wait for it to end."""
    serve, state = served
    shots = Shots(browser, workspace / "screenshots")
    browser.get(state["deployment_url"])
    wait(
        browser, EC.element_to_be_clickable((By.XPATH, "//button[normalize-space()='Run']")), what="the Run button"
    ).click()
    wait(
        browser,
        EC.element_to_be_clickable((By.XPATH, "//*[@role='menuitem'][normalize-space()='Custom run']")),
        what="Custom run",
    ).click()
    wait(  # the form is filled with the deployment's defaults
        browser,
        lambda d: any(
            str(ARTICLE) == (t.get_attribute("value") or "") for t in d.find_elements(By.TAG_NAME, "textarea")
        ),
        what="the article in the run form",
    )
    labels = [label.text.removesuffix(" (Optional)") for label in browser.find_elements(By.TAG_NAME, "label")]
    parameters = labels[labels.index("Run Name") + 1 : labels.index("Enforce Parameter Schema")]
    advanced = ["Checks", "Translate", "Min Confidence", "Filter Checks", "Dedupe", "Fail Fast"]
    assert parameters == [*FORM_LABELS, *advanced], labels
    page = browser.find_element(By.TAG_NAME, "body").text
    assert "Home" not in page and "Download Url" not in page and "Property is type" not in page
    engine = browser.find_element(By.XPATH, "//button[@aria-label='Select engine']")
    assert engine.text == "local"  # a drop-down of the engines, set to the server's
    shots.take("deployment-run-form")
    engine.click()
    choices = wait(  # textContent: the list scrolls to the selected engine, and hides the ones above it from .text
        browser,
        lambda d: (
            [(o.get_attribute("textContent") or "").strip() for o in d.find_elements(By.XPATH, "//*[@role='option']")]
            or False
        ),
        what="the engines to choose from",
    )
    assert choices == engine_names(), choices
    browser.find_element(By.XPATH, "//*[@role='option'][normalize-space()='local']").click()
    wait(browser, lambda d: not d.find_elements(By.XPATH, "//*[@role='option']"), what="the engine list closed")
    wait(browser, EC.element_to_be_clickable((By.XPATH, "//button[normalize-space()='Submit']")), what="Submit").click()
    view = wait(
        browser,
        EC.presence_of_element_located(
            (By.XPATH, "//a[contains(@href, '/runs/flow-run/')][.//button[normalize-space()='View run']]")
        ),
        what="the 'Flow run created' toast",
    )
    run_id = view.get_attribute("href").rstrip("/").rsplit("/", 1)[1].split("?")[0]
    view.click()
    wait(browser, EC.url_contains(f"/runs/flow-run/{run_id}"), what="the flow run page")
    visible_text(browser, "tarjama-run")
    browser.get("about:blank")  # a live run page keeps the browser busy: leave both cores to the translation

    api = state["api_url"]
    seen: list[float] = []
    deadline = time.monotonic() + RUN_WAIT_S
    while True:
        run = flow_run(api, run_id)
        value = progress_value(api)
        if value is not None and (not seen or seen[-1] != value):
            seen.append(value)
        if run["state"]["type"] in {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}:
            break
        assert time.monotonic() < deadline, f"run {run_id} still {run['state']['type']} after {RUN_WAIT_S} s"
        time.sleep(0.5)
    assert run["state"]["type"] == "COMPLETED", f"{run['state']}\n{serve.output()[-4000:]}"
    return {"id": run_id, "name": run["name"], "run": run, "progress": seen, "shots": shots, "state": state}


def test_progress_moved_while_translating(ui_run):
    seen = ui_run["progress"]
    assert seen and seen[-1] == 100.0, seen
    assert any(0 < v < 100 for v in seen), seen  # seen part-way through the 4 sentences
    assert seen == sorted(seen), seen


def test_run_page_shows_report_table_and_links_and_downloads_the_tsv(ui_run, browser, served, workspace):
    _serve, state = served
    shots = ui_run["shots"]
    out = workspace / "output"
    folders = [p for p in out.iterdir() if p.is_dir() and not p.is_symlink() and not p.name.startswith(".")]
    assert len(folders) == 1, folders
    folder = folders[0]
    assert ui_run["name"] == folder.name or ui_run["name"].split("-", 2)[2] == folder.name.split("-", 2)[2]
    assert ui_run["run"]["labels"]["tarjama.output"] == str(folder)

    # the flow run page, Artifacts tab: run report, first rows, links
    browser.get(f"{state['ui_url']}/runs/flow-run/{ui_run['id']}?tab=Artifacts")
    visible_text(browser, "Completed")
    report_card = visible_text(browser, f"tarjama run {folder.name}")
    visible_text(browser, f"First 50 aligned rows of run {folder.name}")
    visible_text(browser, f"{ARTICLE_KEY}-aligned-tsv")
    visible_text(browser, f"{ARTICLE_KEY}-aligned-parquet")
    shots.take("run-page")

    # the report artifact: counts, scores with confidence intervals and signatures, timings
    report_card.click()
    for text in (
        "Counts: 4 Arabic sentences",
        "aligned rows",
        "engine: local",
        "qwen2.5-coder-1.5b-instruct-q4_k_m",
        "BLEU",
        "chrF++",
        "TER",
        "95% CI",
        "nrefs:1",
        "bs:1000",
        "Timings:",
        "translate",
    ):
        visible_text(browser, text)
    # its plots are images served by `tarjama serve`, and they load in the UI
    plots = sorted((folder / "plots").glob("*.png"))
    assert plots

    def plot_images(d):
        found = [i for i in d.find_elements(By.TAG_NAME, "img") if "/plots/" in (i.get_attribute("src") or "")]
        return found if len(found) == len(plots) else False

    loaded = "return arguments[0].complete && arguments[0].naturalWidth > 0"
    for image in wait(browser, plot_images, what=f"{len(plots)} plot images"):
        src = image.get_attribute("src")
        assert src.startswith(f"{state['download_url']}/files/{folder.name}/plots/"), src
        wait(browser, lambda d, i=image: d.execute_script(loaded, i), what=f"the image {src} loaded")
    shots.take("artifact-report")

    # the table artifact shows the aligned rows
    browser.get(f"{state['ui_url']}/runs/flow-run/{ui_run['id']}?tab=Artifacts")
    visible_text(browser, f"First 50 aligned rows of run {folder.name}").click()
    visible_text(browser, "english_reference")
    visible_text(browser, "alignment_confidence")

    # the link artifact leads to the download server; the browser saves the TSV
    browser.get(f"{state['ui_url']}/runs/flow-run/{ui_run['id']}?tab=Artifacts")
    visible_text(browser, f"{ARTICLE_KEY}-aligned-tsv").click()
    expected_url = f"{state['download_url']}/files/{folder.name}/aligned.tsv"
    link = wait(
        browser,
        EC.element_to_be_clickable((By.XPATH, f"//a[@href={xpath_literal(expected_url)}]")),
        what="the link to aligned.tsv",
    )
    assert link.text == f"aligned.tsv of run {folder.name}"
    shots.take("artifact-link")
    link.click()
    saved = browser.downloads / f"{folder.name}-aligned.tsv"
    deadline = time.monotonic() + 60
    while not saved.exists() or any(browser.downloads.glob("*.crdownload")):
        assert time.monotonic() < deadline, f"no download in {list(browser.downloads.iterdir())}"
        time.sleep(0.2)
    assert saved.read_bytes() == (folder / "aligned.tsv").read_bytes()

    # the Artifacts page: each article's keyed artifacts
    browser.get(f"{state['ui_url']}/artifacts")
    for suffix in ("report", "rows", "progress", "aligned-tsv", "aligned-parquet"):
        visible_text(browser, f"{ARTICLE_KEY}-{suffix}")
    shots.take("artifacts-page")


def test_cli_runs_and_download_use_the_served_api(ui_run, served, workspace, tmp_path):
    _serve, _state = served
    env = cli_env(workspace / "home")
    listed = subprocess.run([TARJAMA, "runs"], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert listed.returncode == 0, listed.stderr[-3000:]
    row = next(line for line in listed.stdout.splitlines() if ui_run["id"][:8] in line)
    folder = Path(ui_run["run"]["labels"]["tarjama.output"])
    for cell in (ui_run["name"], "Completed", "euronews-en.153835", "local", str(folder)):
        assert cell in row, (cell, row)
    bleu = next(
        s["score"]
        for s in json.loads((folder / "scores.json").read_text())["articles"][0]["references"][0]["scores"]
        if s["metric"] == "BLEU"
    )
    assert f"{bleu:.2f}" in row

    by_id = subprocess.run(
        [TARJAMA, "download", ui_run["id"], "-o", "by-id.tsv"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=300,
    )
    assert by_id.returncode == 0, by_id.stderr[-3000:]
    assert (tmp_path / "by-id.tsv").read_bytes() == (folder / "aligned.tsv").read_bytes()
    by_name = subprocess.run(
        [TARJAMA, "download", ui_run["name"]], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300
    )
    assert by_name.returncode == 0, by_name.stderr[-3000:]
    assert (tmp_path / f"{folder.name}-aligned.tsv").read_bytes() == (folder / "aligned.tsv").read_bytes()
