"""The corpus viewer in a real browser: Debian's Chromium, headless, driven by Selenium.

The run folder holds a real aligned corpus: the 40 NTREX news documents, the
committed MT of the local engine (``tests/fixtures/ntrex128-dev.mt.en.txt``)
aligned by ``tarjama.alignment.align`` to a reference that is not one-to-one (in each
document two reference sentences are joined and one is left out), rows built
by ``tarjama.corpus.schema.bead_rows``, plus a ``check_numbers`` column: do
the numbers of the Arabic appear in the MT? Screenshots go to the test's
temporary folder, and also to ``$TARJAMA_SCREENSHOTS`` when set
(``TARJAMA_SCREENSHOTS=docs`` refreshes the README's pictures).
"""

from __future__ import annotations

import json
import re
from itertools import groupby
from pathlib import Path

import polars as pl
import pytest
from conftest import CHROMEDRIVER, CHROMIUM, CORPUS, ROOT, Shots, read_lines, wait
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from tarjama.alignment.align import align
from tarjama.app.web import start_web_server
from tarjama.corpus.schema import bead_rows, to_frame, write_parquet, write_tsv
from tarjama.text.article import Document, Sentence
from tarjama.translation.translate import Translation

GOLD = CORPUS / "ntrex128-dev" / "gold"
MT = ROOT / "tests" / "fixtures" / "ntrex128-dev.mt.en.txt"
RUN = "20261129-120000-ntrex128-dev"
HOSTILE_RUN = "20261129-130000-hostile"
BIDI_RUN = "\u202eevil-run"  # a right-to-left override: shown raw, it reverses the text after it
BIDI_IDS = ("\u202eevil-txt.exe", "\u2066isolated\u2069")
LONG_RUN = "R" * 250
INJECTIONS = ("<script>alert(1)</script>", '"><img src=x onerror=alert(1)>')
WAIT_S = 30
DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩", "0123456789")
THOUSANDS = re.compile(r"(?<=\d)[,٬](?=\d{3})")


def numbers_kept(arabic: str, mt: str) -> bool | None:
    """Every number written in the Arabic (either digit set) appears in the MT; None if it has none."""
    numbers = set(re.findall(r"\d+", THOUSANDS.sub("", arabic.translate(DIGITS))))
    return numbers <= set(re.findall(r"\d+", THOUSANDS.sub("", mt))) if numbers else None


def _document(doc_id: str, lang: str, texts: list[str]) -> Document:
    sentences = tuple(Sentence(i, i, text) for i, text in enumerate(texts, start=1))
    return Document(doc_id, Path(f"{doc_id}.{lang}.txt"), lang, sentences)


def ntrex_corpus() -> pl.DataFrame:
    engine = json.loads(MT.with_suffix(".json").read_text())
    lines = zip(*(read_lines(GOLD / f"ntrex128-dev.{name}.lines") for name in ("docids", "ar", "en")), read_lines(MT))
    rows = []
    for doc_id, group in groupby(lines, key=lambda line: line[0]):
        _, arabic, english, mt = (list(column) for column in zip(*group))
        english = english[:2] + [f"{english[2]} {english[3]}"] + english[4:]  # a 2-1 bead
        del english[len(english) // 2]  # an Arabic sentence without reference
        source, reference = _document(doc_id, "ar", arabic), _document(doc_id, "en", english)
        translations = [Translation(text, engine["engine"], engine["model"], False) for text in mt]
        rows += bead_rows(source, translations, reference, align(mt, english, source=arabic), "sentences")[0]
    frame = to_frame(rows)
    kept = [numbers_kept(a, m) for a, m in zip(frame["arabic"], frame["english_mt"])]
    # The viewer's flag filter needs doubted rows, and the aligner is sure of these texts (since 0.3.8 it flags
    # none of them): the rows of the Arabic sentences left without English are given a doubted row's confidence.
    lone = pl.col("english_reference").is_null() | (pl.col("english_reference") == "")
    return frame.with_columns(
        check_numbers=pl.Series(kept, dtype=pl.Boolean),
        alignment_confidence=pl.when(lone).then(0.3).otherwise(pl.col("alignment_confidence")),
        flagged=lone | pl.col("flagged"),
    )


def hostile_corpus(corpus: pl.DataFrame) -> pl.DataFrame:
    """Ten rows whose ids, reference labels and texts are script injections (as a manifest or file name may hold)."""
    texts = [INJECTIONS[n % 2] for n in range(10)]
    return corpus.head(10).with_columns(
        *(
            pl.Series(column, texts)
            for column in ("article_id", "reference", "arabic", "english_mt", "english_reference")
        )
    )


def no_script_ran(driver) -> bool:
    """No alert is open, and no element came from the injected markup."""
    from selenium.common.exceptions import NoAlertPresentException

    try:
        alert = driver.switch_to.alert
    except NoAlertPresentException:
        alert = None
    if alert is not None:
        return False
    return not driver.execute_script(
        "return document.querySelectorAll('script:not([src]), img[src=x], img[onerror]').length"
    )


def bidi_corpus(corpus: pl.DataFrame) -> pl.DataFrame:
    """Six rows under two article ids holding bidi controls, a reference label with one, and Arabic
    texts that open with a right-to-left mark (which is the text's own, and stays)."""
    return corpus.head(6).with_columns(
        pl.Series("article_id", [BIDI_IDS[n // 3] for n in range(6)]),
        pl.lit("\u202eref").alias("reference"),
        ("\u200f" + pl.col("arabic")).alias("arabic"),
    )


@pytest.fixture(scope="module")
def corpus() -> pl.DataFrame:
    return ntrex_corpus()


@pytest.fixture(scope="module")
def served(tmp_path_factory, corpus):
    root = tmp_path_factory.mktemp("viewer") / "output"
    run = root / RUN
    write_parquet(corpus, run / "aligned.parquet")
    write_tsv(corpus.drop("check_numbers"), run / "aligned.tsv")
    write_parquet(hostile_corpus(corpus), root / HOSTILE_RUN / "aligned.parquet")
    write_parquet(bidi_corpus(corpus), root / BIDI_RUN / "aligned.parquet")
    write_parquet(corpus.head(3), root / LONG_RUN / "aligned.parquet")
    for name in (RUN, HOSTILE_RUN, BIDI_RUN, LONG_RUN):
        (root / name / "scores.json").write_text("{}")  # a run folder, as every run leaves it
    server = start_web_server(root, "127.0.0.1", 0)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    profile = tmp_path_factory.mktemp("chromium-profile")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-dev-shm-usage",
        f"--user-data-dir={profile}",
        "--window-size=1400,1000",
        "--force-device-scale-factor=1",
        "--lang=en-US",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(WAIT_S)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def shots(browser, tmp_path_factory):
    return Shots(browser, tmp_path_factory.mktemp("screenshots"))


def rows_shown(driver, expected_range: str) -> list:
    """Wait until the pager reads ``expected_range`` (a prefix) with the rows drawn, and return them."""
    wait(
        driver,
        lambda d: (
            d.find_element(By.ID, "range").text.startswith(expected_range)
            and "loading" not in d.find_element(By.TAG_NAME, "body").get_attribute("class")
        ),
        WAIT_S,
        f"the range {expected_range!r}",
    )
    return driver.find_elements(By.CSS_SELECTOR, "#rows tbody tr")


def cell_texts(row) -> list[str]:
    return [td.text for td in row.find_elements(By.CSS_SELECTOR, "td.text")]


def rgb(css: str) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", css)[:3])


def choose(driver, label: str) -> None:
    driver.find_element(By.XPATH, f"//div[@class='segmented']//span[starts-with(normalize-space(), '{label}')]").click()


@pytest.mark.slow
def test_viewer_shows_arabic_right_to_left_beside_mt_and_reference(served, browser, corpus, shots):
    browser.get(f"{served.url}/view/{RUN}")
    rows = rows_shown(browser, f"Rows 1–50 of {corpus.height}")
    assert len(rows) == 50
    headers = [th.text for th in browser.find_elements(By.CSS_SELECTOR, "#rows thead th")]
    assert headers[1:] == ["العربية Arabic", "Machine translation", "Reference"]
    assert browser.find_element(By.ID, "run-name").text == RUN
    stats = browser.find_element(By.ID, "stats").text
    assert f"{corpus.height} rows · 40 articles · {corpus['flagged'].sum()} flagged" in stats

    first = corpus.row(0, named=True)
    assert cell_texts(rows[0]) == [first["arabic"], first["english_mt"], first["english_reference"]]
    for row in rows[:10]:
        arabic, mt, reference = row.find_elements(By.CSS_SELECTOR, "td.text")
        assert arabic.get_attribute("lang") == "ar" and arabic.value_of_css_property("direction") == "rtl"
        assert arabic.value_of_css_property("text-align") in ("right", "start")
        assert mt.value_of_css_property("direction") == reference.value_of_css_property("direction") == "ltr"
    # Arabic text starts at the right edge of its cell, English at the left
    arabic, mt = rows[0].find_elements(By.CSS_SELECTOR, "td.text")[:2]
    assert browser.execute_script(
        "const r = document.createRange(); r.selectNodeContents(arguments[0]);"
        "const text = r.getClientRects()[0], cell = arguments[0].getBoundingClientRect();"
        "return cell.right - text.right < text.left - cell.left;",
        arabic,
    )

    # colours: the chrF chip and the MT cell run from red (low) to green (high)
    chips = {}
    for row in rows:
        chip = row.find_element(By.CSS_SELECTOR, ".chip.score")
        value = float(chip.text.split()[1]) if chip.text.split()[1] != "–" else None
        if value is not None:
            chips[value] = rgb(chip.value_of_css_property("background-color"))
    low, high = chips[min(chips)], chips[max(chips)]
    assert min(chips) < 40 < 60 < max(chips), chips.keys()
    assert low[0] > low[1] and high[1] > high[0]
    shots.take("viewer")


@pytest.mark.slow
def test_filter_to_flagged_rows_and_failed_checks(served, browser, corpus, shots):
    browser.get(f"{served.url}/view/{RUN}")
    rows_shown(browser, "Rows 1–50")
    flagged = int(corpus["flagged"].sum())
    choose(browser, "Flagged")
    rows = rows_shown(browser, f"Rows 1–{min(50, flagged)} of {flagged} matching ({corpus.height} in all)")
    assert rows and all("flagged" in row.get_attribute("class") for row in rows)
    assert all(row.find_elements(By.CSS_SELECTOR, ".chip.flag") for row in rows)
    assert "show=flagged" in browser.current_url
    expected = corpus.filter(pl.col("flagged")).row(0, named=True)
    assert cell_texts(rows[0]) == [
        expected["arabic"],
        expected["english_mt"],
        expected["english_reference"] or "(none)",
    ]
    shots.take("viewer-flagged")

    failed = corpus.filter(pl.col("check_numbers") == False)  # noqa: E712
    choose(browser, "Failed checks")
    rows = rows_shown(browser, f"Rows 1–{min(50, failed.height)} of {failed.height} matching")
    assert failed.height and len(rows) == min(50, failed.height)
    for row in rows:
        assert [c.text for c in row.find_elements(By.CSS_SELECTOR, ".chip.failed")] == ["✗ numbers"]
    assert [cell_texts(row)[1] for row in rows] == failed["english_mt"].to_list()[:50]
    shots.take("viewer-checks")

    browser.refresh()  # the filter is in the URL
    rows_shown(browser, f"Rows 1–{min(50, failed.height)} of {failed.height} matching")
    assert browser.find_element(By.CSS_SELECTOR, "input[value='failed']").is_selected()


@pytest.mark.slow
def test_search_highlights_matches(served, browser, corpus, shots):
    browser.get(f"{served.url}/view/{RUN}")
    rows_shown(browser, "Rows 1–50")
    search = browser.find_element(By.ID, "q")
    browser.find_element(By.TAG_NAME, "body").send_keys("/")  # the keyboard shortcut
    assert browser.switch_to.active_element == search
    search.send_keys("trump")
    texts = pl.concat_str(["arabic", "english_mt", "english_reference"], separator="\n").str.to_lowercase()
    expected = corpus.filter(texts.str.contains("trump", literal=True))
    rows = rows_shown(browser, f"Rows 1–{min(50, expected.height)} of {expected.height} matching")
    assert 5 < expected.height < 50
    for row in rows:
        marks = row.find_elements(By.TAG_NAME, "mark")
        assert marks and all(m.text.lower() == "trump" for m in marks)
    shots.take("viewer-search")

    search.clear()
    search.send_keys("ترامب", Keys.ENTER)
    arabic_hits = corpus.filter(pl.col("arabic").str.contains("ترامب", literal=True)).height
    rows = rows_shown(browser, f"Rows 1–{min(50, arabic_hits)} of {arabic_hits} matching")
    assert arabic_hits and all(row.find_elements(By.CSS_SELECTOR, "td[lang='ar'] mark") for row in rows)


@pytest.mark.slow
def test_sort_by_chrf_and_page(served, browser, corpus):
    browser.get(f"{served.url}/view/{RUN}?sort=chrf")
    rows = rows_shown(browser, f"Rows 1–50 of {corpus.height}")
    values = [float(r.find_element(By.CSS_SELECTOR, ".chip.score").text.split()[1]) for r in rows]
    assert values == sorted(values) and values[0] == round(corpus["sentence_chrf"].min(), 1)
    browser.find_element(By.ID, "next").click()
    rows = rows_shown(browser, f"Rows 51–100 of {corpus.height}")
    later = [float(r.find_element(By.CSS_SELECTOR, ".chip.score").text.split()[1]) for r in rows]
    assert later[0] >= values[-1] and "offset=50" in browser.current_url
    browser.find_element(By.ID, "last").click()
    last_start = (corpus.height - 1) // 50 * 50 + 1
    rows_shown(browser, f"Rows {last_start}–{corpus.height} of {corpus.height}")
    assert browser.find_element(By.ID, "next").get_attribute("disabled") is not None


def test_no_console_errors(served, browser):
    """Nothing refused by the page's content security policy, nothing failed to load."""
    browser.get(f"{served.url}/view/{RUN}")
    rows_shown(browser, "Rows 1–50")
    browser.get(f"{served.url}/")
    severe = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert severe == []


@pytest.mark.slow
def test_injected_markup_is_shown_as_text_in_the_viewer(served, browser):
    browser.get(f"{served.url}/view/{HOSTILE_RUN}")
    rows = rows_shown(browser, "Rows 1–10 of 10")
    assert no_script_ran(browser)
    assert cell_texts(rows[0]) == [INJECTIONS[0]] * 3 and cell_texts(rows[1]) == [INJECTIONS[1]] * 3
    assert INJECTIONS[1] in rows[1].find_element(By.CSS_SELECTOR, ".article").text
    options = [o.text for o in browser.find_elements(By.CSS_SELECTOR, "#article option")]
    assert any(INJECTIONS[0] in o for o in options) and any(INJECTIONS[1] in o for o in options)
    browser.find_element(By.ID, "q").send_keys("<img", Keys.ENTER)
    rows = rows_shown(browser, "Rows 1–5 of 5 matching")
    assert rows[0].find_element(By.TAG_NAME, "mark").text == "<img" and no_script_ran(browser)


@pytest.mark.slow
def test_ids_and_names_with_bidi_controls_are_shown_escaped_and_still_filter(served, browser, corpus):
    from selenium.webdriver.support.ui import Select

    from tarjama.app.download import viewer_url

    browser.get(viewer_url(served.url, BIDI_RUN))
    rows = rows_shown(browser, "Rows 1–6 of 6")
    assert browser.find_element(By.ID, "run-name").text == "\\u202eevil-run"
    assert browser.title == "\\u202eevil-run · tarjama viewer"
    where = [row.find_element(By.CSS_SELECTOR, ".article").get_attribute("textContent") for row in rows]
    assert where == [" \\u202eevil-txt.exe · \\u202eref"] * 3 + [" \\u2066isolated\\u2069 · \\u202eref"] * 3
    arabic = [row.find_element(By.CSS_SELECTOR, "td[lang='ar']").get_attribute("textContent") for row in rows]
    assert arabic == bidi_corpus(corpus)["arabic"].to_list()  # the sentences keep their own marks
    options = Select(browser.find_element(By.ID, "article"))
    assert [o.text for o in options.options] == ["all", "\\u202eevil-txt.exe (3)", "\\u2066isolated\\u2069 (3)"]

    options.select_by_value(BIDI_IDS[1])  # the option's value is the id itself
    rows = rows_shown(browser, "Rows 1–3 of 3 matching (6 in all)")
    assert [row.find_element(By.CSS_SELECTOR, ".article").text for row in rows] == [
        "\\u2066isolated\\u2069 · \\u202eref"
    ] * 3
    browser.refresh()  # the filter is in the URL, and restored with the id intact
    rows_shown(browser, "Rows 1–3 of 3 matching (6 in all)")
    assert Select(browser.find_element(By.ID, "article")).first_selected_option.get_attribute("value") == BIDI_IDS[1]

    browser.get(f"{served.url}/")
    runs = {e.text for e in browser.find_elements(By.CSS_SELECTOR, "ul.runs strong.run")}
    assert "\\u202eevil-run" in runs and LONG_RUN in runs
    card = browser.find_element(By.XPATH, f"//strong[text()='{LONG_RUN}']/parent::li")
    assert browser.execute_script("return document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    assert browser.execute_script("return arguments[0].scrollWidth <= arguments[0].clientWidth", card)


@pytest.mark.slow
def test_a_report_opened_from_disk_runs_no_injected_script(tmp_path, browser):
    """report.html as the run writes it, opened as a file (no server, no content security policy)."""
    from tarjama.corpus.report import render_html, render_report
    from tarjama.corpus.results import ArticleFailure, ArticleResult, CorpusCounts, ReferenceResult, RunSummary

    def article(hostile: str) -> ArticleResult:
        reference = ReferenceResult(reference=hostile, path=hostile, reference_sentences=1, rows=1, flagged=0)
        return ArticleResult(
            article_id=hostile,
            path=hostile,
            sentences=1,
            units=1,
            engine="local",
            model=hostile,
            translated_texts=1,
            from_memory=0,
            references=[reference],
        )

    for number, articles in enumerate(([article(INJECTIONS[0])], [article(text) for text in INJECTIONS])):
        summary = RunSummary(
            run=INJECTIONS[1],
            engine_requested="local",
            articles=articles,
            counts=CorpusCounts(rows=len(articles), files=list(INJECTIONS)),
            failures=[ArticleFailure(article_id=text, origin=text, reason=text) for text in INJECTIONS],
        )
        report = tmp_path / f"report-{number}.html"
        report.write_text(render_html(render_report(summary), f"tarjama run {summary.run}"), encoding="utf-8")
        browser.get(report.as_uri())
        body = browser.find_element(By.TAG_NAME, "body").text
        assert no_script_ran(browser)
        assert INJECTIONS[0] in body and INJECTIONS[1] in body
        assert browser.title == f"tarjama run {INJECTIONS[1]}"


@pytest.mark.slow
def test_arabic_search_finds_every_spelling_of_a_word(served, browser, corpus):
    written = corpus.filter(pl.col("arabic").str.contains("إندونيسيا", literal=True)).height
    assert written
    for spelling in ("اندونيسيا", "إندونيسيا", "أندونيسيا"):
        browser.get(f"{served.url}/view/{RUN}")
        rows_shown(browser, "Rows 1–50")
        browser.find_element(By.ID, "q").send_keys(spelling, Keys.ENTER)
        rows = rows_shown(browser, f"Rows 1–{written} of {written} matching")
        for row in rows:
            marks = row.find_elements(By.CSS_SELECTOR, "td[lang='ar'] mark")
            assert marks and all(mark.text == "إندونيسيا" for mark in marks), spelling


@pytest.mark.slow
def test_back_and_a_shared_link_restore_page_sort_filter_and_search(served, browser, corpus):
    browser.get(f"{served.url}/view/{RUN}")
    rows_shown(browser, f"Rows 1–50 of {corpus.height}")
    browser.find_element(By.CSS_SELECTOR, "#sort option[value='chrf']").click()
    sorted_first = cell_texts(rows_shown(browser, f"Rows 1–50 of {corpus.height}")[0])
    browser.find_element(By.ID, "next").click()
    rows_shown(browser, f"Rows 51–100 of {corpus.height}")
    choose(browser, "Flagged")
    rows_shown(browser, "Rows 1–")
    browser.find_element(By.ID, "q").send_keys("the", Keys.ENTER)
    searched = rows_shown(browser, "Rows 1–")
    shared, shown = browser.current_url, [cell_texts(row) for row in searched]
    assert all(part in shared for part in ("sort=chrf", "show=flagged", "q=the"))

    browser.back()  # before the search: flagged rows, sorted
    rows_shown(browser, "Rows 1–")
    assert browser.find_element(By.ID, "q").get_attribute("value") == ""
    assert browser.find_element(By.CSS_SELECTOR, "input[value='flagged']").is_selected()
    browser.back()  # before the filter: the second page of the sorted corpus
    rows_shown(browser, f"Rows 51–100 of {corpus.height}")
    assert browser.find_element(By.CSS_SELECTOR, "input[value='all']").is_selected()
    browser.back()  # the first page, sorted
    assert cell_texts(rows_shown(browser, f"Rows 1–50 of {corpus.height}")[0]) == sorted_first
    assert browser.find_element(By.ID, "sort").get_attribute("value") == "chrf"

    browser.get(shared)  # a shared link opens the same view
    assert [cell_texts(row) for row in rows_shown(browser, "Rows 1–")] == shown
    assert browser.find_element(By.ID, "q").get_attribute("value") == "the"
