"""The pure download rules: which request paths name a file under the output folder.

Over real HTTP, against the web app of ``tarjama serve``, in ``tests/test_webapp.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import SERVED_DOWNLOAD_URL

from tarjama.app.download import (
    DownloadIsFolder,
    DownloadNotFound,
    DownloadRefused,
    content_disposition,
    download_filename,
    file_url,
    resolve_download,
    safe_relative,
    served_files,
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


def hostile_run(root: Path) -> Path:
    """A run folder holding what the server must not offer: a hidden file, symlinks leading out, a folder."""
    run = root / RUN
    (run / "plots" / "deeper").mkdir(parents=True)
    (run / "aligned.tsv").write_bytes(TSV)
    (run / "scores.json").write_text("{}")
    (run / '"><b>x.md').write_text("# odd name")
    (run / "\u202eevil.md").write_text("reversed name")
    (run / ".hidden").write_text("hidden")
    (run / "plots" / "chrf.png").write_bytes(b"\x89PNG")
    (run / "plots" / ".staged.png").write_bytes(b"\x89PNG")
    (root.parent / "secret.txt").write_text(SECRET)
    (run / "pw").symlink_to(root.parent / "secret.txt")  # a file symlink leading out
    (run / "etclink").symlink_to(root.parent, target_is_directory=True)  # a folder symlink leading out
    (run / "same.tsv").symlink_to("aligned.tsv")  # a symlink that stays inside: served
    return run


def test_only_what_is_served_is_listed(tmp_path):
    root = tmp_path / "output"
    run = hostile_run(root)
    listed = ['"><b>x.md', "aligned.tsv", "plots/chrf.png", "same.tsv", "scores.json", "\u202eevil.md"]
    assert served_files(root, RUN) == listed
    assert served_files(run) == listed  # the run folder as the root, as `tarjama download` has it
    for name in listed:
        resolve_download(root, f"{RUN}/{name}")
    for refused in (".hidden", "pw", "etclink", "plots/.staged.png"):
        with pytest.raises(DownloadRefused):
            resolve_download(root, f"{RUN}/{refused}")


def test_a_folder_is_not_found_as_a_folder(tmp_path):
    root = tmp_path / "output"
    hostile_run(root)
    for folder in (RUN, f"{RUN}/", f"{RUN}/plots", f"{RUN}/plots/"):
        with pytest.raises(DownloadIsFolder):
            resolve_download(root, folder)
    for missing in ("nothing/", f"{RUN}/aligned.tsv/"):  # a file named as a folder is not served
        with pytest.raises(DownloadNotFound) as raised:
            resolve_download(root, missing)
        assert not isinstance(raised.value, DownloadIsFolder)
    with pytest.raises(DownloadRefused):
        resolve_download(root, f"{RUN}//")


def test_every_file_is_named_after_its_run():
    assert download_filename(f"{RUN}/aligned.tsv") == f"{RUN}-aligned.tsv"
    assert download_filename(f"{RUN}/plots/chrf.png") == f"{RUN}-plots-chrf.png"
    assert download_filename("aligned.tsv") == "aligned.tsv"


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
    (run / ".hidden").write_text("hidden")
    (run / "pw").symlink_to(tmp_path / "secret.txt")  # the download server refuses both

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
    assert jsonl.stderr.decode() == f"run {RUN}: wrote aligned.jsonl to standard output\n"  # the summary line
    plot = download(RUN, "--file", "plots/chrf.png")
    assert plot.returncode == 0, plot.stderr
    assert (tmp_path / f"{RUN}-plots-chrf.png").read_bytes() == files["plots/chrf.png"]

    into = download("latest", "-o", "dl/")  # a folder that does not exist yet: made, not a file named dl
    assert into.returncode == 0, into.stderr
    assert (tmp_path / "dl" / f"{RUN}-aligned.tsv").read_bytes() == files["aligned.tsv"]

    missing = download("latest", "--file", "aligned.tmx")
    assert missing.returncode == 1
    assert (
        missing.stderr.decode()
        .strip()
        .endswith(
            "no such output file in run 20250101-120000-essay (it has aligned.jsonl, aligned.tsv, plots/chrf.png, scores.json; "
            "choose one with --file)"
        )
    )
    for bad in ("../secret.txt", "/etc/passwd", ".hidden", ""):
        refused = download("latest", "--file", bad, "-o", "-")
        assert refused.returncode == 2, (bad, refused.stderr)
        assert len(refused.stderr.decode().strip().splitlines()) == 1 and SECRET.encode() not in refused.stdout
    assert "(hidden files are not served)" in download("latest", "--file", ".hidden").stderr.decode()
    outside = download("latest", "--file", "pw", "-o", "-")
    assert outside.returncode == 1 and SECRET.encode() not in outside.stdout
    assert (
        outside.stderr.decode()
        .strip()
        .endswith(
            "pw: not served: a link leading outside the run's folder, or a loop of links "
            "(the download server refuses it too)"
        )
    )
    folder = download("latest", "--file", "plots")
    assert folder.returncode == 1 and "plots: a folder, not a file in run" in folder.stderr.decode()
    assert not (tmp_path / "home").exists() and sorted(os.listdir(tmp_path)) == sorted(
        ["output", "secret.txt", f"{RUN}-plots-chrf.png", "dl"]
    )


def test_a_run_links_to_the_download_port_serve_listens_on(served_home, tmp_path):
    from tarjama.app.runs import with_served_links
    from tarjama.settings import DEFAULT_DOWNLOAD_URL, Settings

    served_out = tmp_path / "served"
    linked, warning = with_served_links(Settings(home=served_home), served_out)
    assert linked.download_url == SERVED_DOWNLOAD_URL and warning is None
    own = Settings(home=served_home, download_url="https://tarjama.example.org")
    assert with_served_links(own, served_out)[0].download_url == "https://tarjama.example.org"  # the user's own wins
    nothing_served = Settings(home=tmp_path / "elsewhere")
    assert with_served_links(nothing_served, served_out) == (nothing_served, None)
    assert nothing_served.download_url == DEFAULT_DOWNLOAD_URL


def test_a_run_outside_the_served_folder_gets_no_links_that_lead_elsewhere(served_home, tmp_path):
    """Its links would 404, or serve another run of the same name from the served folder."""
    from tarjama.app.runs import with_served_links
    from tarjama.settings import Settings

    unlinked, warning = with_served_links(Settings(home=served_home), tmp_path / "elsewhere")
    assert unlinked.download_url is None
    assert (
        warning is not None and f"tarjama serve offers {tmp_path / 'served'}, not {tmp_path / 'elsewhere'}" in warning
    )
    assert f"tarjama serve --out {tmp_path / 'elsewhere'}" in warning


def test_download_latest_finds_the_served_folders_newest_run_from_any_folder(served_home, tmp_path):
    import subprocess

    from conftest import TARJAMA, cli_env

    run = tmp_path / "served" / RUN
    run.mkdir(parents=True)
    (run / "scores.json").write_text("{}")
    (run / "aligned.tsv").write_bytes(TSV)
    (tmp_path / "served" / "latest").symlink_to(RUN)
    elsewhere = tmp_path / "somewhere-else"
    elsewhere.mkdir()
    found = subprocess.run(
        [TARJAMA, "download", "latest", "-o", "-"],
        capture_output=True,
        cwd=elsewhere,
        env=cli_env(served_home),
        timeout=120,
    )
    assert found.returncode == 0 and found.stdout == TSV, found.stderr


def test_the_server_offers_only_run_folders_not_what_else_the_output_folder_holds(tmp_path):
    """Over real HTTP: a run folder (its ``scores.json`` says so) and ``latest`` are served; the shards, a
    translation memory kept beside the runs, a comparison being staged and a folder of the user's own were
    served too (any regular file under ``--out``), and are now not found, nor listed."""
    import httpx

    from tarjama.app.web import start_web_server

    out = tmp_path / "out"
    run = out / RUN
    run.mkdir(parents=True)
    (run / "scores.json").write_text("{}")
    (run / "aligned.tsv").write_bytes(TSV)
    (out / "latest").symlink_to(RUN)
    mine = {
        "memory.sqlite": SECRET,  # a memory the user keeps beside the runs
        "notes/plan.txt": SECRET,  # a folder of the user's own
        "notes/aligned.tsv": SECRET,  # ... even holding what a run holds, but no scores.json
        ".shards/0123.parquet": SECRET,
        ".compare-x.partial-1/owner": SECRET,
    }
    for name, text in mine.items():
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_text(text)
    (out / "alias").symlink_to("notes")  # a link to a folder that is no run
    served = start_web_server(out, "127.0.0.1", 0)
    try:
        for name in (f"{RUN}/aligned.tsv", "latest/aligned.tsv"):
            answer = httpx.get(file_url(served.url, name), timeout=30)
            assert answer.status_code == 200 and answer.content == TSV, name
        for name in [*mine, "alias/plan.txt", "notes", "notes/"]:
            answer = httpx.get(served.url + "/files/" + name, timeout=30)
            assert answer.status_code in (403, 404) and SECRET not in answer.text, (name, answer.status_code)
            if not name.startswith("."):
                assert answer.status_code == 404 and answer.text == "not found\n", name
        page = httpx.get(served.url + "/", timeout=30).text
        assert f"/files/{RUN}/aligned.tsv" in page
        assert "notes" not in page and "memory" not in page and "alias" not in page
        assert httpx.get(f"{served.url}/view/notes", timeout=30).status_code == 404
    finally:
        served.stop()
    assert served_files(out, "notes") == [] and served_files(out, RUN) == ["aligned.tsv", "scores.json"]
