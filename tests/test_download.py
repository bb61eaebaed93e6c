"""The download server of ``tarjama serve``: only files under the output folder, over real HTTP.

Requests are sent with ``http.client`` exactly as written (no client-side
normalisation of ``..`` or percent-escapes), the way an attacker would.
"""

from __future__ import annotations

import http.client
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest

from tarjama.download import (
    DownloadNotFound,
    DownloadRefused,
    content_disposition,
    file_url,
    resolve_download,
    safe_relative,
)
from tarjama.serve import start_download_server

RUN = "20250101-120000-essay"
TSV = "article_id\tarabic\nessay\tمرحبا بالعالم\n".encode()
SECRET = "TOP SECRET do not serve"


@pytest.fixture
def tree(tmp_path: Path) -> tuple[Path, Path]:
    root = tmp_path / "output"
    run = root / RUN
    run.mkdir(parents=True)
    (run / "aligned.tsv").write_bytes(TSV)
    (run / "aligned.parquet").write_bytes(b"PAR1\x00\x01binaryPAR1")
    (run / "report.md").write_text("# report\n")
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET)
    (run / "evil.tsv").symlink_to(secret)  # a file symlink pointing outside
    (root / "outside").symlink_to(tmp_path, target_is_directory=True)  # a folder symlink pointing outside
    (root / "latest").symlink_to(RUN)  # a symlink that stays inside: allowed
    (root / "loop").symlink_to("loop")
    staging = root / f".{RUN}-2.partial"
    staging.mkdir()
    (staging / "aligned.tsv").write_text("half-written")
    odd = root / "run with spaces و عربي"
    odd.mkdir()
    (odd / "aligned.tsv").write_bytes(TSV)
    (root / "<script>alert(1)").mkdir()
    return root, secret


@pytest.fixture
def server(tree):
    root, _ = tree
    srv = start_download_server(root, "127.0.0.1", 0)
    yield srv
    srv.shutdown()
    srv.server_close()


def request(server, raw_path: str, method: str = "GET") -> tuple[http.client.HTTPResponse, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=10)
    conn.request(method, raw_path)
    response = conn.getresponse()
    body = response.read()
    conn.close()
    return response, body


def test_serves_a_file_with_its_type_and_a_filename(server, tree):
    response, body = request(server, f"/files/{RUN}/aligned.tsv")
    assert response.status == 200
    assert body == TSV
    assert response.getheader("Content-Type") == "text/tab-separated-values; charset=utf-8"
    assert response.getheader("Content-Length") == str(len(TSV))
    assert response.getheader("Content-Disposition") == (
        f"attachment; filename=\"{RUN}-aligned.tsv\"; filename*=UTF-8''{RUN}-aligned.tsv"
    )
    assert response.getheader("X-Content-Type-Options") == "nosniff"


def test_parquet_and_head(server, tree):
    root, _ = tree
    response, body = request(server, f"/files/{RUN}/aligned.parquet")
    assert response.status == 200 and body == (root / RUN / "aligned.parquet").read_bytes()
    assert response.getheader("Content-Type") == "application/vnd.apache.parquet"
    response, body = request(server, f"/files/{RUN}/aligned.tsv", method="HEAD")
    assert response.status == 200 and body == b""
    assert response.getheader("Content-Length") == str(len(TSV))


def test_symlink_inside_the_output_folder_is_followed(server):
    response, body = request(server, "/files/latest/aligned.tsv")
    assert response.status == 200 and body == TSV
    assert 'filename="latest-aligned.tsv"' in response.getheader("Content-Disposition")


def test_file_url_round_trips_odd_names(server, tree):
    name = "run with spaces و عربي"
    url = file_url(f"http://127.0.0.1:{server.server_port}", f"{name}/aligned.tsv")
    assert " " not in url and "%20" in url
    response, body = request(server, urlsplit(url).path)
    assert response.status == 200 and body == TSV
    disposition = response.getheader("Content-Disposition")
    assert disposition.startswith('attachment; filename="run with spaces _ ____-aligned.tsv"')
    assert f"filename*=UTF-8''{quote(name + '-aligned.tsv', safe='')}" in disposition


@pytest.mark.parametrize(
    "path",
    [
        "/files/../secret.txt",
        f"/files/{RUN}/../../secret.txt",
        "/files/%2e%2e/secret.txt",
        "/files/%2E%2E%2Fsecret.txt",
        f"/files/{RUN}/%2e%2e/%2e%2e/secret.txt",
        "/files/..%2fsecret.txt",
        "/files/%2e%2e%5csecret.txt",
        "/files//etc/passwd",
        "/files/%2fetc%2fpasswd",
        "/files/./latest/aligned.tsv",
        f"/files/{RUN}//aligned.tsv",
        f"/files/{RUN}/evil.tsv",
        "/files/outside/secret.txt",
        "/files/loop",
        f"/files/.{RUN}-2.partial/aligned.tsv",
        f"/files/{RUN}/aligned.tsv%00.png",
        "/files/%ff%fe",
    ],
)
def test_refuses_everything_outside_the_output_folder(server, tree, path):
    root, _secret = tree
    if path == "/files/outside/secret.txt":
        assert (root / "outside" / "secret.txt").read_text() == SECRET  # the symlink really leads there
    response, body = request(server, path)
    assert response.status == 403, (path, response.status, body)
    assert SECRET.encode() not in body and b"half-written" not in body


def test_absolute_path_encoded_whole(server, tree):
    _, secret = tree
    response, body = request(server, "/files/" + quote(str(secret), safe=""))
    assert response.status == 403 and SECRET.encode() not in body


@pytest.mark.parametrize(
    "path",
    [
        "/files/%252e%252e/secret.txt",
        f"/files/{RUN}/missing.tsv",
        f"/files/{RUN}",
        "/files/latest",
        "/elsewhere",
        "/files/x/",
    ],
)
def test_not_found(server, path):
    response, body = request(server, path)
    assert response.status in (403, 404) and SECRET.encode() not in body
    if path != "/files/x/":
        assert response.status == 404


def test_index_lists_finished_runs_only(server, tree):
    response, body = request(server, "/")
    assert response.status == 200
    assert response.getheader("Content-Type") == "text/html; charset=utf-8"
    page = body.decode()
    assert f'href="/files/{RUN}/aligned.tsv"' in page
    assert "partial" not in page and "secret" not in page
    assert "&lt;script&gt;alert(1)" in page and "<script>" not in page


def test_health(server):
    response, body = request(server, "/health")
    assert response.status == 200 and body == b"ok\n"


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


def test_port_in_use_is_a_clear_error(server):
    from tarjama.errors import TarjamaError

    with pytest.raises(TarjamaError, match="cannot serve downloads on 127.0.0.1"):
        start_download_server(Path("."), "127.0.0.1", server.server_port)
