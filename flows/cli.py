"""The ``tarjama`` command line: a thin layer over the flows.

Inputs are checked with the pure loaders before Prefect starts, so a bad
file fails in a fraction of a second with one line and exit status 2, and
nothing is written.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

import flows  # noqa: F401  (applies tarjama's Prefect defaults before Prefect is imported)
from tarjama.article import document_id, find_references, load_document
from tarjama.errors import TarjamaError

app = typer.Typer(
    help="Arabic→English translation and bilingual alignment, orchestrated by Prefect.", no_args_is_help=True
)
model_app = typer.Typer(help="The offline model used by the local engine.", no_args_is_help=True)
app.add_typer(model_app, name="model")
console = Console()
errors = Console(stderr=True)


def fail(message: str, code: int = 2) -> None:
    errors.print(f"tarjama: error: {message}", markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def match_references(articles: list[Path], given: list[Path]) -> dict[str, list[str]]:
    """Each article's references: the given ones (by id when there are several articles), else by convention."""
    mapping: dict[str, list[str]] = {str(a): [] for a in articles}
    if not given:
        for article in articles:
            mapping[str(article)] = [str(p) for p in find_references(article)]
        return mapping
    if len(articles) == 1:
        mapping[str(articles[0])] = [str(p) for p in given]
        return mapping
    by_id = {document_id(a): str(a) for a in articles}
    for reference in given:
        owner = by_id.get(reference.name.split(".en")[0])
        if owner is None:
            raise TarjamaError(
                f"{reference}: matches no article (name it <article-id>.en.txt or <article-id>.en-<label>.txt)"
            )
        mapping[owner].append(str(reference))
    return mapping


@app.command()
def run(
    articles: Annotated[list[Path], typer.Argument(help="Arabic articles (UTF-8, one paragraph per line).")],
    reference: Annotated[
        list[Path],
        typer.Option(
            "--reference", "-r", help="English reference file (repeatable). Default: <id>.en*.txt beside each article."
        ),
    ] = [],  # noqa: B006
    engine: Annotated[
        str, typer.Option("--engine", "-e", help="auto, google, local, ... (see `tarjama engines`).")
    ] = "auto",
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder; each run writes <out>/<run>/.")] = Path(
        "output"
    ),
    model: Annotated[
        Path | None,
        typer.Option("--model", help="GGUF model for the local engine (default: Qwen2.5-Coder-1.5B-Instruct Q4_K_M)."),
    ] = None,
    memory: Annotated[
        Path | None, typer.Option("--memory", help="Translation memory (SQLite). Default: .tarjama/memory.sqlite")
    ] = None,
    name: Annotated[
        str, typer.Option("--name", help="Run name (the output sub-folder). Default: timestamp and article id.")
    ] = "",
    engine_url: Annotated[
        str,
        typer.Option(
            "--engine-url",
            help="Base URL of the web engine's service (sets TARJAMA_<ENGINE>_URL): a LibreTranslate server, an Ollama/llama.cpp/vLLM server for openai-compat, ...",
        ),
    ] = "",
    engine_model: Annotated[
        str,
        typer.Option("--engine-model", help="Model name for chatgpt or openai-compat (sets TARJAMA_<ENGINE>_MODEL)."),
    ] = "",
    rate_limit: Annotated[
        float | None,
        typer.Option(
            "--rate-limit",
            help="Requests per second for the web engine, enforced by the Prefect global concurrency limit tarjama-engine-<engine>; 0 turns it off. Default: per engine (see `tarjama engines`).",
        ),
    ] = None,
) -> None:
    """Split, translate, align and score ARTICLES; write aligned.tsv, aligned.parquet, scores.json, report.md."""
    try:
        if engine_url or engine_model or rate_limit is not None:
            from flows.limits import apply_run_settings

            apply_run_settings(engine, engine_url, engine_model, rate_limit)
        references = match_references(articles, reference)
        for article, refs in references.items():
            load_document(Path(article), "ar")
            for ref in refs:
                load_document(Path(ref), "en")
        if out.exists() and not out.is_dir():
            raise TarjamaError(f"{out}: output path exists and is not a directory")
        if name and (out / name).exists():
            raise TarjamaError(f"{out / name}: output directory already exists")
    except TarjamaError as problem:
        fail(str(problem))

    from flows.environment import prepare_home

    prepare_home()  # before Prefect is imported: it expects its home to exist
    from flows.pipeline import new_run_name
    from flows.pipeline import run as run_flow

    try:
        summary = run_flow(
            [str(a) for a in articles],
            references,
            engine=engine,
            out=str(out),
            run_name=name or new_run_name([str(a) for a in articles]),
            model_path=str(model) if model else None,
            memory_path=str(memory) if memory else None,
        )
    except TarjamaError as problem:
        fail(str(problem))
    print_summary(summary)


def print_summary(summary: dict) -> None:
    table = Table(title=f"tarjama run {summary['run']}")
    for column in ("article", "engine", "sentences", "reference", "rows", "BLEU", "chrF", "TER"):
        table.add_column(column, justify="right" if column in {"sentences", "rows", "BLEU", "chrF", "TER"} else "left")
    for article in summary["articles"]:
        for ref in article["references"]:
            scores = {s["metric"]: f"{s['score']:.2f}" for s in ref.get("scores", [])}
            table.add_row(
                article["article_id"],
                article["engine"],
                str(article["sentences"]),
                ref.get("reference", "-"),
                str(ref["rows"]),
                scores.get("BLEU", "-"),
                scores.get("chrF", "-"),
                scores.get("TER", "-"),
            )
    console.print(table)
    console.print(f"aligned TSV: {Path(summary['output_dir']) / 'aligned.tsv'}", highlight=False)


@app.command()
def align(
    arabic: Annotated[Path, typer.Argument(help="Arabic text (UTF-8, one paragraph per line).")],
    english: Annotated[Path, typer.Argument(help="English translation of it (UTF-8, one paragraph per line).")],
    mt: Annotated[
        Path | None,
        typer.Option(
            "--mt",
            help="Machine translation of ARABIC: exactly one line per Arabic sentence (as tarjama splits it; blank lines ignored). Without it, sentences are aligned by length (Gale-Church).",
        ),
    ] = None,
    out: Annotated[
        Path, typer.Option("--out", "-o", help="TSV to write (same columns as `tarjama run`'s aligned.tsv).")
    ] = Path("aligned.tsv"),
) -> None:
    """Align given files without translating: ARABIC to ENGLISH, through --mt if given, else by sentence length.

    No engine and no Prefect: pure and fast. Rows below the confidence threshold are flagged, never dropped.
    """
    from tarjama.align import align as align_mt
    from tarjama.article import read_utf8
    from tarjama.gale_church import align_lengths
    from tarjama.parallel_corpus import bead_rows, to_frame, write_tsv
    from tarjama.translate import Translation

    try:
        source = load_document(arabic, "ar")
        reference = load_document(english, "en", source.id)
        if mt is not None:
            lines = [line.strip() for line in read_utf8(mt).splitlines() if line.strip()]
            if len(lines) != len(source.sentences):
                raise TarjamaError(
                    f"{mt}: {len(lines)} MT lines, but {arabic} splits into {len(source.sentences)} Arabic sentences "
                    "(give one line per Arabic sentence; `tarjama align` without --mt lists them in its arabic column)"
                )
        if out.is_dir():
            raise TarjamaError(f"{out}: output path is a directory, expected a TSV file name")
    except TarjamaError as problem:
        fail(str(problem))
    if mt is not None:
        translations = [Translation(line, "mt-file", mt.name, False) for line in lines]
        beads = align_mt(lines, reference.texts)
    else:
        translations = [Translation("", "none", "gale-church", False) for _ in source.sentences]
        beads = align_lengths(source.texts, reference.texts)
    rows = bead_rows(source, translations, reference, beads)
    if mt is None:  # no MT: nothing to score
        for row in rows:
            row["sentence_chrf"] = row["sentence_bleu"] = None
    write_tsv(to_frame(rows), out)
    flagged = sum(row["flagged"] for row in rows)
    method = f"through MT {mt}" if mt is not None else "by length (Gale-Church)"
    console.print(
        f"{len(source.sentences)} Arabic and {len(reference.sentences)} English sentences aligned {method}: "
        f"{len(rows)} rows, {flagged} flagged",
        highlight=False,
        soft_wrap=True,
    )
    console.print(f"aligned TSV: {out}", highlight=False)


@app.command()
def engines(
    check_secrets: Annotated[
        bool, typer.Option("--check-secrets", help="Also look for keys in Prefect Secret blocks (starts Prefect).")
    ] = False,
) -> None:
    """List the translation engines, what each needs, their rate limits, and whether each is ready here."""
    import os

    from flows.limits import configured_rate, read_secret
    from tarjama.engines import REGISTRY

    from_blocks: set[str] = set()
    if check_secrets:
        for spec in REGISTRY.values():
            for credential in spec.credentials:
                if not os.environ.get(credential.env) and read_secret(credential.block):
                    os.environ[credential.env] = "set"  # only for the readiness check below; never printed
                    from_blocks.add(spec.name)
    table = Table(title="tarjama engines")
    for column in ("engine", "what", "needs", "rate limit", "ready"):
        table.add_column(column)
    for spec in REGISTRY.values():
        try:
            missing = spec.readiness()
            rate, source = configured_rate(spec.name)
        except TarjamaError as problem:
            fail(str(problem))
        limit = (
            "-"
            if rate is None
            else ("off" if rate == 0 else f"{rate:g}/s" + ("" if source == "default" else f" ({source})"))
        )
        ready = "yes" if missing is None else f"no: {missing}"
        if missing is None and spec.name in from_blocks:
            ready = "yes (key from a Prefect Secret block)"
        table.add_row(spec.name, spec.summary, spec.needs, limit, ready)
    console.print(table)


@model_app.command("fetch")
def model_fetch() -> None:
    """Assemble and verify the default offline model (once; later calls only check it)."""
    from tarjama.model_store import ensure_model

    try:
        path = ensure_model(say=lambda line: console.print(line, highlight=False))
    except TarjamaError as problem:
        fail(str(problem))
    console.print(f"model: {path}", highlight=False)


@app.command()
def serve(
    host: Annotated[
        str,
        typer.Option(
            "--host", help="Address to bind the Prefect server and the download server to (0.0.0.0: every interface)."
        ),
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port of the Prefect server (UI and API).")] = 4200,
    download_port: Annotated[
        int, typer.Option("--download-port", help="Port of the download server (0: any free port).")
    ] = 4201,
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Output folder: runs write here, downloads are served from here.")
    ] = Path("output"),
    article: Annotated[
        list[Path],
        typer.Option(
            "--article", "-a", help="Default article(s) of the UI's run form (repeatable). Default: the seed article."
        ),
    ] = [],  # noqa: B006
    engine: Annotated[str, typer.Option("--engine", "-e", help="Default engine of the UI's run form.")] = "auto",
) -> None:
    """Start (or reuse) the Prefect server and UI, deploy tarjama-run, serve run outputs for download; Ctrl-C stops."""
    from flows.serve import serve as serve_all

    seed = Path(__file__).resolve().parent.parent / "corpus" / "morocco-us-counterterrorism.ar.txt"
    articles = article or ([seed] if seed.is_file() else [])
    try:
        for path in articles:
            load_document(path, "ar")
        if out.exists() and not out.is_dir():
            raise TarjamaError(f"{out}: output path exists and is not a directory")
    except TarjamaError as problem:
        fail(str(problem))
    try:
        serve_all(
            host,
            port,
            download_port,
            out,
            articles,
            engine,
            say=lambda line: console.print(line, highlight=False, markup=False, soft_wrap=True),
        )
    except TarjamaError as problem:
        fail(str(problem), 1)


@app.command()
def runs(
    limit: Annotated[int, typer.Option("--limit", "-n", help="How many runs, newest first.")] = 20,
) -> None:
    """List recent tarjama runs: id, name, state, start, articles, engine, BLEU, output folder."""
    from flows.runs import recent_runs

    table = Table(title="tarjama runs")
    for column in ("id", "name", "state", "start", "articles", "engine", "BLEU", "output"):
        table.add_column(column, justify="right" if column == "BLEU" else "left", overflow="fold")
    for info in recent_runs(limit):
        table.add_row(
            info.id,
            info.name,
            info.state,
            info.start.astimezone().strftime("%Y-%m-%d %H:%M:%S") if info.start else "-",
            ", ".join(info.articles) or "-",
            info.engine,
            f"{info.bleu:.2f}" if info.bleu is not None else "-",
            str(info.output) if info.output else "-",
        )
    console.print(table)


@app.command()
def download(
    run_id: Annotated[
        str,
        typer.Argument(
            metavar="RUN", help="Flow-run id or name (as `tarjama runs` lists them), or output folder name."
        ),
    ],
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="Where to write it (a file, a folder, or - for stdout). Default: ./<run>-aligned.tsv"
        ),
    ] = None,
) -> None:
    """Write the aligned TSV of RUN."""
    from flows.runs import download as download_run

    try:
        flow_run, written = download_run(run_id, output)
    except TarjamaError as problem:
        fail(str(problem), 1)
    if written is not None:
        errors.print(
            f"run {flow_run.name} ({flow_run.id}): wrote {written}", highlight=False, markup=False, soft_wrap=True
        )


def main() -> None:
    sys.exit(app())
