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
