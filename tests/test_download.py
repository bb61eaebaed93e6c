"""The pure download rules: which request paths name a file under the output folder.

Over real HTTP, against the web app of ``tarjama serve``, in ``tests/test_webapp.py``.
"""

from __future__ import annotations

import pytest

from tarjama.download import (
    DownloadNotFound,
    DownloadRefused,
    content_disposition,
    file_url,
    resolve_download,
    safe_relative,
)

RUN = "20250101-120000-essay"
TSV = "article_id\tarabic\nessay\tمرحبا بالعالم\n".encode()
SECRET = "TOP SECRET do not serve"


def test_pure_rules(tmp_path):
    assert safe_relative("a/b.tsv") == "a/b.tsv"
    assert safe_relative("a%20b/c.tsv") == "a b/c.tsv"
    for bad in (
        "../x",
        "a/../../x",
        "%2e%2e/x",
        "/etc/passwd",
        "%2Fetc",
        "a//b",
        ".hidden",
        "a/.b",
        "a\\b",
        "a%00b",
        "c:/x",
    ):
        with pytest.raises(DownloadRefused):
            safe_relative(bad)
    with pytest.raises(DownloadNotFound):
        safe_relative("")
    (tmp_path / "root").mkdir()
    (tmp_path / "root" / "f.md").write_text("x")
    found = resolve_download(tmp_path / "root", "f.md")
    assert found.path == (tmp_path / "root" / "f.md").resolve()
    assert found.content_type == "text/markdown; charset=utf-8" and found.filename == "f.md"
    assert content_disposition('a"b.tsv') == "attachment; filename=\"a_b.tsv\"; filename*=UTF-8''a%22b.tsv"
    assert file_url("http://h:1/", "r/aligned.tsv") == "http://h:1/files/r/aligned.tsv"


@pytest.mark.slow
def test_the_cli_downloads_any_file_of_a_run(tmp_path):
    """`tarjama download` by folder name or `latest` (no Prefect): every format a run wrote, its plots, not outside."""
    import os
    import subprocess

    from conftest import TARJAMA, cli_env

    out = tmp_path / "output"
    run = out / RUN
    (run / "plots").mkdir(parents=True)
    files = {"aligned.tsv": TSV, "aligned.jsonl": b'{"row": 1}\n', "scores.json": b"{}", "plots/chrf.png": b"\x89PNG"}
    for name, data in files.items():
        (run / name).write_bytes(data)
    (out / "latest").symlink_to(RUN)
    (tmp_path / "secret.txt").write_text(SECRET)

    def download(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [TARJAMA, "download", *args, "--from", str(out)],
            capture_output=True,
            cwd=tmp_path,
            env=cli_env(tmp_path / "home"),
            timeout=60,
        )

    jsonl = download("latest", "--file", "aligned.jsonl", "-o", "-")
    assert jsonl.returncode == 0 and jsonl.stdout == files["aligned.jsonl"], jsonl.stderr
    plot = download(RUN, "--file", "plots/chrf.png")
    assert plot.returncode == 0, plot.stderr
    assert (tmp_path / f"{RUN}-plots-chrf.png").read_bytes() == files["plots/chrf.png"]

    missing = download("latest", "--file", "aligned.tmx")
    assert missing.returncode == 1
    assert (
        missing.stderr.decode()
        .strip()
        .endswith(
            "no such output file in run 20250101-120000-essay (it has aligned.jsonl, aligned.tsv, plots/chrf.png, scores.json)"
        )
    )
    for bad in ("../secret.txt", "/etc/passwd", ".hidden", ""):
        refused = download("latest", "--file", bad, "-o", "-")
        assert refused.returncode == 2, (bad, refused.stderr)
        assert len(refused.stderr.decode().strip().splitlines()) == 1 and SECRET.encode() not in refused.stdout
    assert not (tmp_path / "home").exists() and sorted(os.listdir(tmp_path)) == sorted(
        ["output", "secret.txt", f"{RUN}-plots-chrf.png"]
    )
