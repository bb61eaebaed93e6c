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

app = typer.Typer(help="Arabic→English translation and bilingual alignment, orchestrated by Prefect.", no_args_is_help=True)
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
            raise TarjamaError(f"{reference}: matches no article (name it <article-id>.en.txt or <article-id>.en-<label>.txt)")
        mapping[owner].append(str(reference))
    return mapping


@app.command()
def run(
    articles: Annotated[list[Path], typer.Argument(help="Arabic articles (UTF-8, one paragraph per line).")],
    reference: Annotated[list[Path], typer.Option("--reference", "-r", help="English reference file (repeatable). Default: <id>.en*.txt beside each article.")] = [],
    engine: Annotated[str, typer.Option("--engine", "-e", help="auto, google, local, ... (see `tarjama engines`).")] = "auto",
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder; each run writes <out>/<run>/.")] = Path("output"),
    model: Annotated[Path | None, typer.Option("--model", help="GGUF model for the local engine (default: Qwen2.5-Coder-1.5B-Instruct Q4_K_M).")] = None,
    memory: Annotated[Path | None, typer.Option("--memory", help="Translation memory (SQLite). Default: .tarjama/memory.sqlite")] = None,
    name: Annotated[str, typer.Option("--name", help="Run name (the output sub-folder). Default: timestamp and article id.")] = "",
) -> None:
    """Split, translate, align and score ARTICLES; write aligned.tsv, aligned.parquet, scores.json, report.md."""
    try:
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
    from flows.pipeline import new_run_name, run as run_flow

    prepare_home()

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
                article["article_id"], article["engine"], str(article["sentences"]), ref.get("reference", "-"),
                str(ref["rows"]), scores.get("BLEU", "-"), scores.get("chrF", "-"), scores.get("TER", "-"),
            )
    console.print(table)
    console.print(f"aligned TSV: {Path(summary['output_dir']) / 'aligned.tsv'}", highlight=False)


@app.command()
def engines() -> None:
    """List the translation engines, what each needs, and whether it is ready here."""
    from tarjama.engines import REGISTRY

    table = Table(title="tarjama engines")
    for column in ("engine", "what", "needs", "ready"):
        table.add_column(column)
    for spec in REGISTRY.values():
        missing = spec.readiness()
        table.add_row(spec.name, spec.summary, spec.needs, "yes" if missing is None else f"no: {missing}")
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


def main() -> None:
    sys.exit(app())
