"""The dataset card (``README.md``) beside a ``translation``-layout export, as the Hugging Face Hub reads one.

Its YAML header names the languages, license, size and, under ``configs``, which files make up each
configuration, so ``datasets.load_dataset(folder)`` reads the corpus from a run folder that also holds
TSVs, plots and a report. The body says how the rows were made. Every text from the run (file
names, signatures) is quoted in the YAML and escaped in the Markdown, so none can change either's structure.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import tarjama

LICENSE = "unknown"
"""tarjama cannot know the sources' license; the card asks the user to set it before sharing."""

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~])")
_SIZE_CATEGORIES = ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M"))


@dataclass(frozen=True, slots=True)
class CardConfig:
    """One configuration of the dataset: a corpus file and its rows (``default`` is the full corpus), and the
    filter that made it (:meth:`tarjama.corpus.export.CorpusFilter.format`; "" for the full corpus or unknown)."""

    name: str
    path: str
    rows: int
    filter: str = ""


def size_category(rows: int) -> str:
    """The Hub's ``size_categories`` value for ``rows`` examples."""
    return next((name for limit, name in _SIZE_CATEGORIES if rows < limit), "n>1M")


def _yaml(text: str) -> str:
    """A YAML scalar that is exactly ``text``: a JSON string is a valid YAML double-quoted scalar."""
    return json.dumps(text, ensure_ascii=False)


def markdown_text(text: str) -> str:
    """``text`` shown literally in Markdown: one line, HTML escaped, Markdown's punctuation backslash-escaped."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", html.escape(" ".join(text.split()), quote=False))


def dataset_card(configs: Sequence[CardConfig], provenance: Mapping[str, str] | None = None) -> str:
    """The card's text: the YAML header the Hub and ``datasets`` read, then how the corpus was built."""
    rows = max((config.rows for config in configs), default=0)
    header = [
        "---",
        "language:",
        "- ar",
        "- en",
        f"license: {LICENSE}",
        "multilinguality: translation",
        "task_categories:",
        "- translation",
        "size_categories:",
        f"- {size_category(rows)}",
        "tags:",
        "- tarjama",
        "configs:",
    ]
    for config in configs:
        header += [
            f"- config_name: {_yaml(config.name)}",
            "  data_files:",
            "  - split: train",
            f"    path: {_yaml(config.path)}",
        ]
    header.append("---")
    table = ["| configuration | file | rows | filter |", "| --- | --- | ---: | --- |"]
    table += [
        f"| {markdown_text(c.name)} | {markdown_text(c.path)} | {c.rows:,} | "
        f"{markdown_text(c.filter) if c.filter else ('none: every row' if c.name == 'default' else '')} |"
        for c in configs
    ]
    built = [f"- {markdown_text(key)}: {markdown_text(value)}" for key, value in (provenance or {}).items()]
    body = [
        "",
        "# Arabic–English parallel corpus",
        "",
        f"Built with tarjama {markdown_text(tarjama.__version__)}: Arabic articles were split into sentences "
        "and clause units, translated by machine, and aligned to their human English references. Each row "
        'is `{"translation": {"ar": ..., "en": ...}}`, with `article_id`, `reference`, `row` and '
        "`alignment_confidence` beside it. `en` is the human reference when the row has one (`reference` "
        "names it), else the machine translation (`reference` is empty). The `default` configuration holds every "
        "row, a sentence with no counterpart as a row with one side empty; a filtered configuration holds pairs "
        "with a human reference only (no row with an empty side, no machine translation as `en`).",
        "",
        *table,
        "",
        "## How it was built",
        "",
        *(built or ["- no signatures were recorded"]),
        "",
        "## License",
        "",
        f"`{LICENSE}`: the texts keep the license of their sources. Set `license` above before sharing the corpus.",
    ]
    return "\n".join(header + body) + "\n"
