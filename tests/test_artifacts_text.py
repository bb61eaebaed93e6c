"""The run's artifacts in the Prefect UI show input texts (ids, sentences, failure reasons) as text: the UI
renders Markdown, where a raw ``<img>`` loads and a ``[l](javascript:…)`` becomes a link; and the tables are
Markdown artifacts, which both UIs render as Markdown (the second shows a table artifact's cells as plain
text, escapes and all: ``&quot;``, ``\\(``).
And they link only to files that are served: a run whose folder the running ``tarjama serve`` does not
offer gets no download links (they would lead nowhere, or to another run of the same name there)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from conftest import PYTHON, TARJAMA, cli_env, prefect_server
from loopback_services import LoopbackServices
from markdown_it import MarkdownIt

from tarjama.errors import printable

pytestmark = pytest.mark.slow  # a real Prefect server

HOSTILE_ID = "x<img src=x onerror=alert(1)>[l](javascript:alert(1))|y"
HOSTILE_REFERENCE = "The minister visited Rabat. <img src=http://127.0.0.1:9/beacon.png> [more](javascript:alert(2))"

READ_ARTIFACTS = """
import asyncio, json
from prefect.client.orchestration import get_client

async def main():
    async with get_client() as client:
        print(json.dumps([a.model_dump(mode="json") for a in await client.read_artifacts()]))

asyncio.run(main())
"""


def table_cells(markdown: str) -> list[dict[str, tuple[set[str], str]]]:
    """A Markdown table as the UI renders it (GFM): per row, each column's token types and the text it shows."""
    tokens = MarkdownIt("commonmark").enable("table").parse(markdown)
    header: list[str] = []
    rows: list[dict[str, tuple[set[str], str]]] = []
    row: list[tuple[set[str], str]] = []
    for token in tokens:
        if token.type == "tr_open":
            row = []
        elif token.type == "inline" and token.level >= 3:  # inside th or td
            children = token.children or []
            row.append(({c.type for c in children}, "".join(c.content for c in children if c.type == "text")))
        elif token.type == "tr_close":
            if not header:
                header = [text for _, text in row]
            else:
                rows.append(dict(zip(header, row, strict=True)))
    return rows


def test_artifacts_show_input_texts_literally_and_link_only_to_served_files(tmp_path: Path):
    home = tmp_path / "home"
    home.mkdir()
    manifest = tmp_path / "hostile.jsonl"
    record = {
        "id": HOSTILE_ID,
        "text": "زار الوزير الرباط.",
        "references": [{"label": "en", "text": HOSTILE_REFERENCE}],
    }
    manifest.write_text(json.dumps(record, ensure_ascii=False) + "\n", encoding="utf-8")
    with LoopbackServices(lifetime=600) as services, prefect_server(home, tmp_path / "server.log") as api:
        env = cli_env(home) | {"PREFECT_API_URL": api, "TARJAMA_LIBRE_URL": services.url("libre")}
        # a `tarjama serve` of this home offering another folder (its state file, its API answering)
        served = {"api_url": api, "download_url": "http://127.0.0.1:9", "out": str(tmp_path / "served")}
        (home / "serve.json").write_text(json.dumps(served))
        done = subprocess.run(
            [TARJAMA, "run", str(manifest), "-e", "libre", "--out", str(tmp_path / "out"), "--name", "hostile"],
            capture_output=True,
            text=True,
            env=env,
            timeout=600,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        read = subprocess.run([PYTHON, "-c", READ_ARTIFACTS], capture_output=True, text=True, env=env, timeout=300)
        assert read.returncode == 0, read.stderr[-3000:]
    assert f"tarjama: warning: tarjama serve offers {tmp_path / 'served'}, not {tmp_path / 'out'}" in done.stderr
    artifacts = json.loads(read.stdout)
    assert not [a for a in artifacts if a["type"] == "link"]
    report = next(a["data"] for a in artifacts if a["type"] == "markdown" and a["key"].endswith("-report"))
    assert "127.0.0.1:9" not in report and "not offered by the running `tarjama serve`" in report
    assert "](plots/" not in report and "Plot: " in report  # no image the UI would look for at its own address
    assert not [a for a in artifacts if a["type"] == "table"]  # the UI's second version shows their escapes
    markdown = {a["key"]: a["data"] for a in artifacts if a["type"] == "markdown"}
    articles = next(table_cells(text) for key, text in markdown.items() if key.endswith("-articles"))
    first_rows = next(table_cells(text) for key, text in markdown.items() if key.endswith("-rows"))

    assert list(articles[0]) == ["article", "sentences", "rows", "flagged", "BLEU", "chrF"]
    assert articles[0]["article"] == ({"text"}, printable(HOSTILE_ID))  # no image, no link, no cell break
    assert articles[0]["rows"] == ({"text"}, str(len(first_rows)))
    assert all(row["article_id"] == articles[0]["article"] for row in first_rows)
    references = [row["english_reference"][1] for row in first_rows if row["english_reference"][1]]
    assert " ".join(references) == HOSTILE_REFERENCE  # as it reads: no `&lt;` or `\(` left (V2 showed them)
    assert all(row["english_reference"][0] <= {"text"} and row["arabic"][0] <= {"text"} for row in first_rows)
    assert all(len(row) == 5 for row in first_rows)
