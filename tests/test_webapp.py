"""The web app of ``tarjama serve`` over real HTTP: downloads, Host allow-list, idle timeouts, the viewer's API.

A real uvicorn serves a real output folder on 127.0.0.1. Attack requests are
sent with ``http.client`` or raw sockets exactly as written (no client-side
normalisation of ``..`` or percent-escapes), the way an attacker would.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import logging
import socket
import threading
import time
from pathlib import Path
from urllib.parse import quote, urlsplit

import httpx
import polars as pl
import pytest

from benchmarks.bench_viewer import synthetic_corpus
from tarjama.app.download import file_url, viewer_url
from tarjama.app.web import allowed_hosts_for, start_web_server
from tarjama.app.web.server import SHUTDOWN_GRACE_S
from tarjama.corpus.schema import SCHEMA
from tarjama.errors import TarjamaError

RUN = "20250101-120000-essay"
BIG_RUN = "20250102-120000-big"
ODD_RUN = "نتائج run #1?x=%41"
TSV = "article_id\tarabic\nessay\tمرحبا بالعالم\n".encode()
SECRET = "TOP SECRET do not serve"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
IDLE_S = 1


ARABIC_RUN = "arabic-forms"
ARABIC_FORMS = [
    "زار إندونيسيا",  # alef with hamza below
    "زار اندونيسيا",  # bare alef
    "زار أندونيسيا",  # alef with hamza above
    "زار إِنْدُونِيسِيَا",  # with short vowels and sukun
    "زار إنـــدونيسيا",  # with tatweel
    "في المدرسة على الطاولة",  # ta marbuta, alef maqsura
    "في المدرسه علي الطاوله",
    "سئل عن مسؤول",  # hamza on ya, on waw
    "سيل عن مسوول",
    "زار ماليزيا",
]


@pytest.fixture(scope="module")
def big_corpus() -> pl.DataFrame:
    return synthetic_corpus(10_000, seed=7)


@pytest.fixture(scope="module")
def tree(tmp_path_factory, big_corpus) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("web")
    root = base / "output"
    run = root / RUN
    (run / "plots").mkdir(parents=True)
    (run / "aligned.tsv").write_bytes(TSV)
    (run / "aligned.parquet").write_bytes(b"PAR1\x00\x01binaryPAR1")  # not a real Parquet file
    (run / "report.md").write_text("# report\n")
    (run / "plots" / "chrf.png").write_bytes(PNG)
    (run / "large.bin").write_bytes(b"x" * 20_000_000)
    secret = base / "secret.txt"
    secret.write_text(SECRET)
    (run / "evil.tsv").symlink_to(secret)  # a file symlink pointing outside
    (root / "outside").symlink_to(base, target_is_directory=True)  # a folder symlink pointing outside
    (root / "latest").symlink_to(BIG_RUN)  # a symlink that stays inside: allowed
    (root / "loop").symlink_to("loop")
    staging = root / f".{RUN}-2.partial"
    staging.mkdir()
    (staging / "aligned.tsv").write_text("half-written")
    big_corpus.write_parquet(staging / "aligned.parquet")
    odd = root / "run with spaces و عربي"
    odd.mkdir()
    (odd / "aligned.tsv").write_bytes(TSV)
    (root / "<script>alert(1)").mkdir()
    (root / BIG_RUN).mkdir()
    big_corpus.write_parquet(root / BIG_RUN / "aligned.parquet")
    (root / "no-corpus").mkdir()
    pl.DataFrame({"article_id": ["a"], "english": ["x"]}).write_parquet(root / "no-corpus" / "aligned.parquet")
    minimal = root / "minimal"
    minimal.mkdir()
    pl.DataFrame(
        {"arabic": ["سلام"], "english_mt": ["Peace"], "english_reference": ["Peace."], "bleu_x": [float("nan")]}
    ).write_parquet(minimal / "aligned.parquet")
    (root / ODD_RUN).mkdir()
    (root / ODD_RUN / "aligned.parquet").write_bytes((minimal / "aligned.parquet").read_bytes())
    (root / ARABIC_RUN).mkdir()
    pl.DataFrame(
        {
            "arabic": ARABIC_FORMS,
            "english_mt": ["Indonesia 🙂 INDONESIA"] * len(ARABIC_FORMS),
            "english_reference": None,
        }
    ).write_parquet(root / ARABIC_RUN / "aligned.parquet")
    for run in root.iterdir():  # every folder but the hidden and the links: a run's, as its scores.json says
        if run.is_dir() and not run.is_symlink() and not run.name.startswith("."):
            (run / "scores.json").write_text("{}")
    return root, secret


@pytest.fixture(scope="module")
def server(tree):
    root, _ = tree
    srv = start_web_server(root, "127.0.0.1", 0, idle_timeout=IDLE_S, max_connections=20)
    yield srv
    srv.stop()


def request(server, raw_path: str, method: str = "GET", headers: dict | None = None):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.request(method, raw_path, headers=headers or {})
    response = conn.getresponse()
    body = response.read()
    conn.close()
    return response, body


def raw_exchange(port: int, data: bytes, timeout: float = 10) -> bytes:
    """Send ``data`` as is and read until the server closes the connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as conn:
        conn.sendall(data)
        chunks = []
        while chunk := conn.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def api(server, run: str, endpoint: str = "rows", **params) -> httpx.Response:
    return httpx.get(f"{server.url}/api/runs/{quote(run, safe='')}/{endpoint}", params=params, timeout=30)


# --- downloads ---------------------------------------------------------------------------


def test_serves_a_file_with_its_type_and_a_filename(server):
    response, body = request(server, f"/files/{RUN}/aligned.tsv")
    assert response.status == 200
    assert body == TSV
    assert response.getheader("Content-Type") == "text/tab-separated-values; charset=utf-8"
    assert response.getheader("Content-Length") == str(len(TSV))
    assert response.getheader("Content-Disposition") == (
        f"attachment; filename=\"{RUN}-aligned.tsv\"; filename*=UTF-8''{RUN}-aligned.tsv"
    )
    assert response.getheader("X-Content-Type-Options") == "nosniff"
    assert response.getheader("Cache-Control") == "no-store"
    assert "sandbox" in response.getheader("Content-Security-Policy")


def test_parquet_and_head(server, tree):
    root, _ = tree
    response, body = request(server, f"/files/{RUN}/aligned.parquet")
    assert response.status == 200 and body == (root / RUN / "aligned.parquet").read_bytes()
    assert response.getheader("Content-Type") == "application/vnd.apache.parquet"
    response, body = request(server, f"/files/{RUN}/aligned.tsv", method="HEAD")
    assert response.status == 200 and body == b""
    assert response.getheader("Content-Length") == str(len(TSV))
    assert response.getheader("Content-Type") == "text/tab-separated-values; charset=utf-8"


def test_ranges(server, tree):
    root, _ = tree
    data = (root / RUN / "plots" / "chrf.png").read_bytes()
    url = f"{server.url}/files/{RUN}/plots/chrf.png"
    part = httpx.get(url, headers={"Range": "bytes=8-15"})
    assert part.status_code == 206 and part.content == data[8:16]
    assert part.headers["Content-Range"] == f"bytes 8-15/{len(data)}"
    tail = httpx.get(url, headers={"Range": "bytes=-4"})
    assert tail.status_code == 206 and tail.content == data[-4:]
    assert httpx.head(url, headers={"Range": "bytes=0-9"}).headers["Content-Length"] == "10"
    beyond = httpx.get(url, headers={"Range": f"bytes={len(data)}-"})
    assert beyond.status_code == 416 and beyond.headers["Content-Range"] == f"bytes */{len(data)}"
    both = httpx.get(url, headers={"Range": "bytes=0-1,10-11"})
    assert both.status_code == 206 and both.headers["Content-Type"].startswith("multipart/byteranges; boundary=")
    assert data[0:2] in both.content and data[10:12] in both.content
    assert httpx.get(url).headers["Accept-Ranges"] == "bytes"


def test_plots_are_shown_inline_as_png(server):
    response = httpx.get(f"{server.url}/files/{RUN}/plots/chrf.png")
    assert response.status_code == 200 and response.content == PNG
    assert response.headers["Content-Type"] == "image/png"
    assert response.headers["Content-Disposition"].startswith(f'inline; filename="{RUN}-plots-chrf.png"')


def test_symlink_inside_the_output_folder_is_followed(server, tree):
    root, _ = tree
    response, body = request(server, "/files/latest/aligned.parquet")
    assert response.status == 200 and body == (root / BIG_RUN / "aligned.parquet").read_bytes()
    assert 'filename="latest-aligned.parquet"' in response.getheader("Content-Disposition")


def test_file_url_round_trips_odd_names(server):
    name = "run with spaces و عربي"
    url = file_url(server.url, f"{name}/aligned.tsv")
    assert " " not in url and "%20" in url
    response, body = request(server, urlsplit(url).path)
    assert response.status == 200 and body == TSV
    disposition = response.getheader("Content-Disposition")
    assert disposition.startswith('attachment; filename="run with spaces _ ____-aligned.tsv"')
    assert f"filename*=UTF-8''{quote(name + '-aligned.tsv', safe='')}" in disposition


TRAVERSALS = [
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
]


@pytest.mark.parametrize("path", TRAVERSALS)
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
        f"/files/{RUN}/aligned.tsv/",
        "/files/x/",
        "/elsewhere",
        "/files%2f..%2fsecret.txt",
        "/static/../app.py",
        "/static/%2e%2e/app.py",
        "/static/%2e%2e%2fapp.py",
    ],
)
def test_not_found(server, path):
    response, body = request(server, path)
    assert response.status == 404, (path, response.status, body)
    assert SECRET.encode() not in body and b"create_app" not in body


@pytest.mark.parametrize("path", [f"/files/{RUN}", f"/files/{RUN}/", f"/files/{RUN}/plots/", "/files/latest"])
def test_a_folder_inside_is_not_found_as_a_folder(server, path):
    response, body = request(server, path)
    assert response.status == 404, (path, response.status, body)
    assert body == b"not found: a folder, not a file (the runs and their files are listed at /)\n"


def test_missing_output_folder_is_not_found(tmp_path):
    srv = start_web_server(tmp_path / "never-made", "127.0.0.1", 0)
    try:
        assert httpx.get(f"{srv.url}/files/run/aligned.tsv").status_code == 404
        assert "no runs yet" in httpx.get(f"{srv.url}/").text
    finally:
        srv.stop()


def test_index_lists_finished_runs_their_viewer_and_plots(server):
    response, body = request(server, "/")
    assert response.status == 200
    assert response.getheader("Content-Type") == "text/html; charset=utf-8"
    page = body.decode()
    assert f'href="/files/{RUN}/aligned.tsv"' in page
    assert f'href="/files/{RUN}/plots/chrf.png"' in page
    assert f'href="/view/{BIG_RUN}"' in page
    assert 'href="/view/run%20with%20spaces' not in page  # no aligned.parquet there
    assert "partial" not in page and "secret" not in page
    assert "evil.tsv" not in page  # a symlink leading outside: refused, so not offered
    assert "&lt;script&gt;alert(1)" in page and "<script>" not in page
    assert response.getheader("Content-Security-Policy").startswith("default-src 'none'")


def test_index_shows_invisible_characters_of_names_escaped(tmp_path):
    """A run named ``\\u202eevil`` would reverse the text after it; shown escaped, its links still work."""
    root = tmp_path / "output"
    name, file = "\u202eevil", "\u2066isolated\u2069.md"
    (root / name).mkdir(parents=True)
    (root / name / file).write_text("# report")
    (root / name / "scores.json").write_text("{}")
    srv = start_web_server(root, "127.0.0.1", 0)
    try:
        page = httpx.get(f"{srv.url}/").text
        for char in "\u202e\u2066\u2069":
            assert char not in page
        assert '<strong class="run">\\u202eevil</strong>' in page and ">\\u2066isolated\\u2069.md</a>" in page
        link = urlsplit(file_url(srv.url, f"{name}/{file}")).path
        assert f'href="{link}"' in page
        assert httpx.get(srv.url + link).text == "# report"
        assert "\\u202eevil" in httpx.get(viewer_url(srv.url, name)).text  # the not-found page too
    finally:
        srv.stop()


def test_health_and_methods(server):
    response, body = request(server, "/health")
    assert response.status == 200 and body == b"ok\n"
    response, _ = request(server, f"/files/{RUN}/aligned.tsv", method="POST")
    assert response.status == 405
    response, _ = request(server, f"/files/{RUN}/aligned.tsv", method="DELETE")
    assert response.status == 405


def test_port_in_use_is_a_clear_error(server):
    with pytest.raises(TarjamaError, match=f"cannot serve downloads on 127.0.0.1:{server.port}"):
        start_web_server(Path("."), "127.0.0.1", server.port)


def test_small_responses_are_not_held_back(server):
    """Nagle's algorithm is off on served connections (else each small response waits for a delayed ACK)."""
    with socket.create_connection(("127.0.0.1", server.port)) as conn:
        conn.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        conn.settimeout(5)
        assert conn.recv(65536).startswith(b"HTTP/1.1 200")
        sockets = [c.transport.get_extra_info("socket") for c in server.server.server_state.connections]
        assert sockets and all(s.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) for s in sockets)


def test_stop_closes_the_port(tmp_path):
    srv = start_web_server(tmp_path, "127.0.0.1", 0)
    assert httpx.get(f"{srv.url}/health").status_code == 200
    srv.stop()
    assert not srv.thread.is_alive()
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", srv.port)) != 0


# --- Host header (DNS rebinding) -------------------------------------------------------------


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.1:{port}", "localhost:{port}", "LOCALHOST.", "[::1]:{port}"])
def test_host_names_of_this_server_are_answered(server, host):
    response, body = request(server, f"/files/{RUN}/aligned.tsv", headers={"Host": host.format(port=server.port)})
    assert response.status == 200 and body == TSV


@pytest.mark.parametrize(
    "host",
    ["evil.example", "evil.example:{port}", "127.0.0.1.evil.example", "localhost.evil.example:{port}", "0.0.0.0"],
)
def test_other_host_names_are_refused(server, host):
    """A page at evil.example whose name now resolves to 127.0.0.1 still sends Host: evil.example."""
    for path in (f"/files/{RUN}/aligned.tsv", "/", f"/api/runs/{BIG_RUN}/rows"):
        response, body = request(server, path, headers={"Host": host.format(port=server.port)})
        assert response.status == 421, (host, path, response.status)
        assert TSV not in body and b"article" not in body


@pytest.mark.parametrize(
    "origin",
    [
        "http://evil.example",
        "http://evil.example:{port}",
        "http://127.0.0.1:{port}.evil.example",
        "http://127.0.0.1:1",  # another server on this machine
        "https://127.0.0.1:{port}",
        "null",  # a sandboxed frame or a file:// page
        "http://127.0.0.1:{port}:{port}",
    ],
)
def test_pages_of_other_origins_are_refused(server, origin):
    """Another site's page calling this server by its own name: the browser names that page in Origin."""
    for path in (f"/files/{RUN}/aligned.tsv", f"/api/runs/{BIG_RUN}/rows"):
        response, body = request(server, path, headers={"Origin": origin.format(port=server.port)})
        assert response.status == 403, (origin, path, response.status)
        assert TSV not in body and b"article" not in body


@pytest.mark.parametrize("origin", ["http://127.0.0.1:{port}", "http://localhost:{port}", "http://[::1]:{port}"])
def test_pages_of_this_server_are_answered(server, origin):
    response, body = request(server, f"/files/{RUN}/aligned.tsv", headers={"Origin": origin.format(port=server.port)})
    assert response.status == 200 and body == TSV


def test_a_refused_origin_is_logged_printably(server, caplog):
    with caplog.at_level(logging.INFO, logger="tarjama.app.web"):
        response, _ = request(server, "/health", headers={"Origin": "http://evil.example\x1b[31m"})
    assert response.status == 403
    assert "refused a request from a page at 'http://evil.example\\\\x1b[31m'" in caplog.text
    assert "\x1b" not in caplog.text


def test_missing_or_doubled_host_is_a_bad_request(server):
    answer = raw_exchange(server.port, f"GET /files/{RUN}/aligned.tsv HTTP/1.0\r\n\r\n".encode())
    assert answer.startswith(b"HTTP/1.1 400") and TSV not in answer
    answer = raw_exchange(
        server.port,
        f"GET /files/{RUN}/aligned.tsv HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n".encode(),
    )
    assert answer.startswith(b"HTTP/1.1 400") and TSV not in answer


def test_a_configured_host_is_answered(tmp_path):
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "a.txt").write_text("hello")
    (tmp_path / "r" / "scores.json").write_text("{}")
    srv = start_web_server(tmp_path, "127.0.0.2", 0)  # any 127.x address is loopback on Linux
    try:
        assert srv.url == f"http://127.0.0.2:{srv.port}"
        assert httpx.get(f"{srv.url}/files/r/a.txt").text == "hello"
        refused = httpx.get(f"{srv.url}/files/r/a.txt", headers={"Host": "elsewhere.example"})
        assert refused.status_code == 421
    finally:
        srv.stop()
    extra = start_web_server(tmp_path, "127.0.0.1", 0, allowed_hosts=["corpus.lan"])
    try:
        assert httpx.get(f"{extra.url}/files/r/a.txt", headers={"Host": "corpus.lan:80"}).text == "hello"
        assert httpx.get(f"{extra.url}/files/r/a.txt").status_code == 421  # exactly the list given
    finally:
        extra.stop()


def test_ipv6_loopback(tmp_path):
    srv = start_web_server(tmp_path, "::1", 0)
    try:
        assert srv.url == f"http://[::1]:{srv.port}"
        assert httpx.get(f"{srv.url}/health").text == "ok\n"  # Host: [::1]:port
        assert httpx.get(f"{srv.url}/health", headers={"Host": "evil.example"}).status_code == 421
    finally:
        srv.stop()


def test_allowed_hosts_for_every_interface_include_this_machine():
    hosts = allowed_hosts_for("0.0.0.0")
    assert {"localhost", "127.0.0.1", "::1", socket.gethostname()} <= set(hosts)
    assert "0.0.0.0" not in hosts
    assert allowed_hosts_for("192.0.2.7", extra=["x.lan"]) == ["localhost", "127.0.0.1", "::1", "x.lan", "192.0.2.7"]


# --- idle connections and disconnects -----------------------------------------------------------


def closed_within(conn: socket.socket, seconds: float) -> float | None:
    """Seconds until the server closed ``conn`` (reading and discarding), or None if it did not."""
    started = time.monotonic()
    conn.settimeout(0.2)
    while time.monotonic() - started < seconds:
        try:
            if conn.recv(65536) == b"":
                return time.monotonic() - started
        except TimeoutError:
            continue
        except ConnectionResetError:
            return time.monotonic() - started
    return None


def test_silent_connections_are_closed(server):
    conns = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(30)]  # more than max_connections
    try:
        for conn in conns:
            assert closed_within(conn, IDLE_S + 5) is not None
    finally:
        for conn in conns:
            conn.close()
    assert httpx.get(f"{server.url}/health").status_code == 200


def test_a_client_dribbling_its_request_head_is_closed(server):
    """Each byte arrives well within the timeout, but the whole head never does: the deadline still holds."""
    with socket.create_connection(("127.0.0.1", server.port)) as conn:
        conn.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        started = time.monotonic()
        conn.settimeout(0.2)
        closed = False
        while time.monotonic() - started < IDLE_S + 5:
            try:
                conn.sendall(b"X-Slow: y\r\n")
            except (BrokenPipeError, ConnectionResetError):
                closed = True
                break
            try:
                if conn.recv(1024) == b"":
                    closed = True
                    break
            except TimeoutError:
                pass
        assert closed, "a dribbling client kept its connection"


def test_keep_alive_connection_is_closed_after_idling(server):
    with socket.create_connection(("127.0.0.1", server.port)) as conn:
        conn.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        conn.settimeout(5)
        assert conn.recv(65536).startswith(b"HTTP/1.1 200")
        assert closed_within(conn, IDLE_S + 5) is not None


def test_connections_beyond_the_limit_get_503(tree):
    root, _ = tree
    srv = start_web_server(root, "127.0.0.1", 0, idle_timeout=30, max_connections=3)
    conns = [socket.create_connection(("127.0.0.1", srv.port)) for _ in range(3)]
    try:
        time.sleep(0.3)
        answer = raw_exchange(srv.port, b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        assert answer.startswith(b"HTTP/1.1 503")
    finally:
        for conn in conns:
            conn.close()
    time.sleep(0.3)
    assert httpx.get(f"{srv.url}/health").status_code == 200
    srv.stop()


def _download_without_reading(port: int) -> socket.socket:
    """A client asking for the 20 MB file with a small receive buffer, which then reads nothing."""
    conn = socket.socket()
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    conn.connect(("127.0.0.1", port))
    conn.sendall(f"GET /files/{RUN}/large.bin HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
    return conn


@pytest.mark.slow
def test_a_client_that_stops_reading_is_closed(server, caplog):
    """A reader that takes nothing for the idle time holds no connection (with max_connections of them, none
    could download again); the server closes it in one log line."""
    caplog.set_level(logging.INFO, logger="tarjama.app.web")
    with _download_without_reading(server.port) as conn:
        time.sleep(IDLE_S + 3)
        conn.settimeout(10)
        received = 0
        with contextlib.suppress(ConnectionResetError):
            while chunk := conn.recv(1 << 20):
                received += len(chunk)
    assert received < 20_000_000  # closed before the file was sent (kept open, it would be sent whole)
    lines = [r.getMessage() for r in caplog.records if "stopped reading" in r.getMessage()]
    assert len(lines) == 1 and f"GET /files/{RUN}/large.bin" in lines[0], [r.getMessage() for r in caplog.records]
    assert all(record.exc_info is None for record in caplog.records)
    assert httpx.get(f"{server.url}/health").status_code == 200


@pytest.mark.slow
def test_a_slow_reader_that_keeps_reading_is_served(server):
    """Only a reader that takes nothing for the idle time is closed, not one slower than the server."""
    with _download_without_reading(server.port) as conn:
        conn.settimeout(10)
        received, started = 0, time.monotonic()
        while time.monotonic() - started < IDLE_S * 4:
            chunk = conn.recv(65536)
            assert chunk, f"closed after {received} bytes while the client was reading"
            received += len(chunk)
            time.sleep(IDLE_S / 4)
    assert received > 0


def test_a_client_leaving_mid_download_is_one_log_line(server, caplog, capfd):
    caplog.set_level(logging.INFO, logger="tarjama.app.web")
    with socket.create_connection(("127.0.0.1", server.port)) as conn:
        conn.sendall(f"GET /files/{RUN}/large.bin HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
        assert conn.recv(65536).startswith(b"HTTP/1.1 200")
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")  # reset
    deadline = time.monotonic() + 10
    while not [r for r in caplog.records if "disconnected" in r.getMessage()] and time.monotonic() < deadline:
        time.sleep(0.05)
    lines = [r for r in caplog.records if "disconnected" in r.getMessage()]
    assert len(lines) == 1, [r.getMessage() for r in caplog.records]
    message = lines[0].getMessage()
    assert message.startswith("127.0.0.1:") and f"GET /files/{RUN}/large.bin" in message
    assert "\n" not in message and lines[0].exc_info is None
    assert all(record.exc_info is None for record in caplog.records)
    assert "Traceback" not in capfd.readouterr().err
    assert httpx.get(f"{server.url}/health").status_code == 200


@pytest.mark.slow
def test_stopping_during_a_download_closes_it_in_one_line(tree, caplog, capfd):
    """A download still running when the server stops gets the grace period, then one log line: no task
    cancelled by uvicorn, which logs that as an application error with tracebacks."""
    caplog.set_level(logging.INFO)
    srv = start_web_server(tree[0], "127.0.0.1", 0, idle_timeout=30)
    with _download_without_reading(srv.port) as conn:
        conn.settimeout(10)
        assert conn.recv(4096).startswith(b"HTTP/1.1 200")
        reading = threading.Event()
        reading.set()

        def read_slowly() -> None:
            with contextlib.suppress(OSError):
                while reading.is_set() and conn.recv(4096):
                    time.sleep(0.01)

        reader = threading.Thread(target=read_slowly, daemon=True)
        reader.start()
        started = time.monotonic()
        srv.stop()
        stopped_after = time.monotonic() - started
        reading.clear()
    assert SHUTDOWN_GRACE_S <= stopped_after < SHUTDOWN_GRACE_S + 2
    messages = [r.getMessage() for r in caplog.records]
    lines = [m for m in messages if "when the server stopped" in m]
    assert len(lines) == 1 and f"GET /files/{RUN}/large.bin" in lines[0], messages
    assert all(record.exc_info is None and record.levelno < logging.ERROR for record in caplog.records), messages
    assert "Traceback" not in capfd.readouterr().err


# --- the viewer and its API ---------------------------------------------------------------------


def test_viewer_page_and_its_static_files(server):
    response = httpx.get(f"{server.url}/view/{BIG_RUN}")
    assert response.status_code == 200 and response.headers["Content-Type"] == "text/html; charset=utf-8"
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert '<script src="/static/viewer.js"' in response.text and "<script>" not in response.text
    script = httpx.get(f"{server.url}/static/viewer.js")
    assert script.status_code == 200 and "javascript" in script.headers["Content-Type"]
    assert "fetch(" in script.text
    assert httpx.get(f"{server.url}/static/viewer.css").headers["Content-Type"].startswith("text/css")
    assert httpx.get(f"{server.url}/view/latest").status_code == 200  # a symlink inside the output folder
    assert viewer_url(server.url + "/", "a b/c") == f"{server.url}/view/a%20b%2Fc"
    odd = httpx.get(viewer_url(server.url, ODD_RUN))
    assert odd.status_code == 200 and "viewer.js" in odd.text
    assert api(server, ODD_RUN).json()["rows"][0]["cells"]["arabic"] == "سلام"


@pytest.mark.parametrize(
    "path",
    [
        "/view/%2e%2e",
        f"/view/.{RUN}-2.partial",
        "/view/outside",
        f"/api/runs/.{RUN}-2.partial/rows",
        "/api/runs/%2e%2e/rows",
        "/api/runs/outside/summary",
        "/api/runs/..%2foutput%2f" + BIG_RUN + "/rows",
    ],
)
def test_viewer_refuses_runs_outside_the_output_folder(server, path):
    response, body = request(server, path)
    assert response.status in (403, 404), (path, response.status)
    assert b"article-" not in body and SECRET.encode() not in body


def test_viewer_of_a_run_without_a_corpus_is_not_found(server):
    response = httpx.get(f"{server.url}/view/no-such-run")
    assert response.status_code == 404 and "no-such-run" in response.text
    assert api(server, "run with spaces و عربي").status_code == 404
    assert api(server, BIG_RUN, "everything").status_code == 404


def test_first_page_is_bounded(server, big_corpus):
    response = api(server, BIG_RUN)
    assert response.status_code == 200
    page = response.json()
    assert page["total"] == page["matched"] == 10_000
    assert len(page["rows"]) == 50 and page["offset"] == 0 and page["limit"] == 50
    assert [r["position"] for r in page["rows"]] == list(range(50))
    first = page["rows"][0]["cells"]
    assert first == {k: v for k, v in big_corpus.row(0, named=True).items()}
    largest = api(server, BIG_RUN, limit=200)
    assert len(largest.json()["rows"]) == 200
    full_json = len(big_corpus.write_json().encode())
    assert len(largest.content) < full_json / 25  # the page travels, not the corpus
    assert response.headers["Cache-Control"] == "no-store"


def test_pages_follow_each_other(server, big_corpus):
    positions = []
    for offset in range(0, 600, 200):
        positions += [r["position"] for r in api(server, BIG_RUN, offset=offset, limit=200).json()["rows"]]
    assert positions == list(range(600))
    last = api(server, BIG_RUN, offset=9_990).json()
    assert [r["position"] for r in last["rows"]] == list(range(9_990, 10_000))
    assert api(server, BIG_RUN, offset=20_000).json()["rows"] == []


def flagged_positions(frame: pl.DataFrame) -> list[int]:
    return frame.with_row_index("i").filter(pl.col("flagged"))["i"].to_list()


def failed_positions(frame: pl.DataFrame, checks=("check_numbers", "check_script")) -> list[int]:
    failed = pl.any_horizontal([(pl.col(c) == False).fill_null(False) for c in checks])  # noqa: E712
    return frame.with_row_index("i").filter(failed)["i"].to_list()


def all_positions(server, **params) -> list[int]:
    positions: list[int] = []
    while True:
        page = api(server, BIG_RUN, offset=len(positions), limit=200, **params).json()
        positions += [r["position"] for r in page["rows"]]
        if len(positions) >= page["matched"]:
            return positions


def test_filter_flagged_and_failed_checks(server, big_corpus):
    flagged = flagged_positions(big_corpus)
    failed = failed_positions(big_corpus)
    assert 300 < len(flagged) < 3_000 and 100 < len(failed) < 2_000  # the synthetic corpus has both
    assert all_positions(server, show="flagged") == flagged
    assert all_positions(server, show="failed") == failed
    assert all_positions(server, show="review") == sorted(set(flagged) | set(failed))
    numbers = failed_positions(big_corpus, ("check_numbers",))
    assert all_positions(server, show="all", check="check_numbers") == numbers
    page = api(server, BIG_RUN, show="failed").json()
    assert page["matched"] == len(failed)
    for row in page["rows"]:
        expected = [c for c in ("check_numbers", "check_script") if row["cells"][c] is False]
        assert row["failed_checks"] == expected and expected


def test_null_check_is_not_a_failure(server, big_corpus):
    unknown = big_corpus.with_row_index("i").filter(pl.col("check_numbers").is_null() & pl.col("check_script"))
    position = unknown["i"][0]
    assert position not in all_positions(server, show="failed")
    row = api(server, BIG_RUN, offset=position, limit=1).json()["rows"][0]
    assert row["cells"]["check_numbers"] is None and row["failed_checks"] == []


@pytest.mark.slow
def test_search_is_literal_and_case_insensitive(server, big_corpus):
    def expected(needle: str) -> list[int]:
        hit = pl.any_horizontal(
            pl.col(c).str.to_lowercase().str.contains(needle.lower(), literal=True)
            for c in ("arabic", "english_mt", "english_reference")
        )
        return big_corpus.with_row_index("i").filter(hit)["i"].to_list()

    for needle in ("TANGIER", "طنجة", "sahel region", "يوم الجمعة"):
        found = all_positions(server, q=needle)
        assert found == expected(needle) and found, needle
    assert api(server, BIG_RUN, q="(.*").json()["matched"] == 0  # not a regular expression
    assert api(server, BIG_RUN, q="tangier", show="flagged").json()["matched"] == len(
        set(expected("tangier")) & set(flagged_positions(big_corpus))
    )


@pytest.mark.parametrize(
    ("needle", "positions"),
    [
        ("اندونيسيا", [0, 1, 2, 3, 4]),
        ("إندونيسيا", [0, 1, 2, 3, 4]),
        ("إِندونيسيا", [0, 1, 2, 3, 4]),
        ("المدرسة علي", [5, 6]),
        ("الطاوله", [5, 6]),
        ("مسؤول", [7, 8]),
        ("سيل", [7, 8]),
    ],
)
def test_arabic_search_folds_alef_hamza_ya_ta_marbuta_diacritics_and_tatweel(server, needle, positions):
    rows = api(server, ARABIC_RUN, q=needle).json()["rows"]
    assert [row["position"] for row in rows] == positions
    for row in rows:  # the spans cover the variant as written, marks and tatweel included
        text = row["cells"]["arabic"]
        [(start, end)] = row["matches"]["arabic"]
        assert text[start:end].replace("\u0640", "") in {
            "إندونيسيا",
            "اندونيسيا",
            "أندونيسيا",
            "إِنْدُونِيسِيَا",
            "المدرسة على",
            "المدرسه علي",
            "الطاولة",
            "الطاوله",
            "مسؤول",
            "مسوول",
            "سئل",
            "سيل",
        }, text[start:end]


def test_match_spans_count_in_the_browsers_string_units(server):
    """JavaScript indexes strings in UTF-16 units: an emoji before a match counts two."""
    row = api(server, ARABIC_RUN, q="indonesia").json()["rows"][0]
    text = row["cells"]["english_mt"]
    assert row["matches"]["english_mt"] == [[0, 9], [13, 22]]
    assert text.encode("utf-16-le")[13 * 2 : 22 * 2].decode("utf-16-le") == "INDONESIA"


def test_sorting_by_chrf_and_confidence(server, big_corpus):
    worst = api(server, BIG_RUN, sort="chrf", limit=200).json()["rows"]
    values = [r["cells"]["sentence_chrf"] for r in worst]
    assert values == sorted(values) and values[0] == big_corpus["sentence_chrf"].min()
    best = [r["cells"]["sentence_chrf"] for r in api(server, BIG_RUN, sort="-chrf", limit=200).json()["rows"]]
    assert best == sorted(best, reverse=True) and best[0] == big_corpus["sentence_chrf"].max()
    nulls = big_corpus["sentence_chrf"].null_count()
    tail = api(server, BIG_RUN, sort="-chrf", offset=10_000 - nulls).json()["rows"]
    assert nulls and [r["cells"]["sentence_chrf"] for r in tail] == [None] * min(nulls, 50)  # nulls last
    lowest = [r["cells"]["alignment_confidence"] for r in api(server, BIG_RUN, sort="confidence").json()["rows"]]
    assert lowest == sorted(lowest) and lowest[0] == big_corpus["alignment_confidence"].min()


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 201}, "limit"),
        ({"offset": -1}, "offset"),
        ({"offset": "x"}, "offset"),
        ({"offset": "99999999999999999999999"}, "offset"),  # polars' OverflowError, a 500, before
        ({"offset": 2**53 + 1}, "offset"),
        ({"limit": "99999999999999999999999"}, "limit"),
        ({"show": "everything"}, "show"),
        ({"sort": "arabic"}, "sort"),
        ({"q": "x" * 201}, "q"),
        ({"check": "check_nosuch"}, "check"),
        ({"bogus": "1"}, "bogus"),
    ],
)
def test_bad_parameters_are_one_line_400(server, params, named):
    response = api(server, BIG_RUN, **params)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error.startswith(f"{named}: ") and "\n" not in error


def test_the_largest_offset_is_an_empty_page(server):
    page = api(server, BIG_RUN, offset=2**53).json()
    assert page["rows"] == [] and page["offset"] == 2**53 and page["matched"] == 10_000


def test_a_host_port_of_other_digits_is_refused_not_a_500(server):
    """``"²".isdigit()`` is true and ``int("²")`` raises: the Origin check of such a Host was a 500."""
    for host in ("127.0.0.1:\xb2", "127.0.0.1:\xb9\xb2"):
        answer = raw_exchange(
            server.port,
            f"GET /health HTTP/1.1\r\nHost: {host}\r\nOrigin: http://127.0.0.1:{server.port}\r\n"
            "Connection: close\r\n\r\n".encode("latin-1"),
        )
        assert answer.startswith(b"HTTP/1.1 403"), answer[:100]


def test_summary_counts(server, big_corpus):
    summary = api(server, BIG_RUN, "summary").json()
    assert summary["rows"] == 10_000
    assert summary["flagged"] == len(flagged_positions(big_corpus))
    assert summary["failed"] == len(failed_positions(big_corpus))
    assert summary["checks"] == {c: len(failed_positions(big_corpus, (c,))) for c in ("check_numbers", "check_script")}
    assert len(summary["articles"]) == 250 and summary["articles"][0] == {"id": "article-00000", "rows": 40}
    assert summary["extras"] == ["unit"] and summary["has_reference"]
    assert summary["mean_chrf"] == round(big_corpus["sentence_chrf"].mean(), 2)
    page = api(server, BIG_RUN, article="article-00003").json()
    assert page["matched"] == 40 and {r["cells"]["article_id"] for r in page["rows"]} == {"article-00003"}
    assert page["rows"][0]["cells"]["unit"] == "sentence"  # extra columns are passed on


def test_a_corpus_with_only_the_texts(server):
    page = api(server, "minimal").json()
    assert page["total"] == 1
    cells = page["rows"][0]["cells"]
    assert cells["arabic"] == "سلام" and cells["english_mt"] == "Peace"
    assert set(SCHEMA) <= set(cells) and cells["sentence_chrf"] is None and cells["flagged"] is None
    assert cells["bleu_x"] is None  # NaN is not JSON
    assert api(server, "minimal", show="flagged").json()["matched"] == 0
    summary = api(server, "minimal", "summary").json()
    assert summary["flagged"] == 0 and summary["checks"] == {} and summary["mean_chrf"] is None


def test_a_file_that_is_not_a_corpus_is_one_line_422(server):
    broken = api(server, RUN)
    assert broken.status_code == 422
    assert broken.json()["error"].startswith("aligned.parquet: not a readable Parquet file")
    other = api(server, "no-corpus", "summary")
    assert other.status_code == 422
    assert (
        other.json()["error"]
        == "aligned.parquet: not an aligned corpus: no column arabic, english_mt, english_reference"
    )
    for response in (broken, other):
        assert "\n" not in response.json()["error"] and "/tmp" not in json.dumps(response.json())
