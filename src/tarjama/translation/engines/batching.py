"""Batching: as few requests as the service's size limit allows, and nothing lost when it misbehaves.

Consecutive sentences are packed greedily into batches of at most
``max_chars`` characters (separators included) and ``max_items`` segments.
A batch that comes back with a different number of segments is split in
two and each half sent again, down to single sentences; a batch the
service calls too large (HTTP 413/414) is split likewise, and the limit
lowered for the rest of the run. A sentence longer than the limit is cut
at clause boundaries (Arabic comma ``،``, Arabic semicolon ``؛``, colon
``:``), failing that at spaces, and the pieces' translations are joined
with a space.

Translations are yielded in input order as soon as a response completes
them, so the caller stores a batch's translations before the next request
is sent.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator, Sequence

from tarjama.translation.engines.transport import EngineRejected, PayloadTooLarge

log = logging.getLogger("tarjama.translation.engines")

CLAUSE_MARKS = "،؛:"
_AFTER_CLAUSE = re.compile(r"(?<=[،؛:])\s+")
MIN_CHARS = 40  # never lower an adaptive limit below this


def split_long(text: str, limit: int) -> list[str]:
    """``text`` in pieces of at most ``limit`` characters, cut after clause marks where possible.

    Pieces are packed greedily (as many clauses per piece as fit); a clause
    longer than ``limit`` is cut at spaces, and a word longer than ``limit``
    anywhere. Joining the pieces with single spaces gives back ``text`` with
    its whitespace normalised.
    """
    if limit < 1:
        raise ValueError("limit must be positive")
    if len(text) <= limit:
        return [text]
    parts: list[str] = []
    for clause in _AFTER_CLAUSE.split(text):
        if len(clause) <= limit:
            parts.append(clause)
            continue
        for word in clause.split():
            parts += [word[i : i + limit] for i in range(0, len(word), limit)]
    pieces: list[str] = []
    for part in parts:
        if pieces and len(pieces[-1]) + 1 + len(part) <= limit:
            pieces[-1] += " " + part
        else:
            pieces.append(part)
    return pieces


def pack(sizes: Sequence[int], max_chars: int, separator: int = 0, max_items: int | None = None) -> list[int]:
    """Greedy batch lengths for consecutive items of ``sizes``: each batch as long as the limits allow."""
    batches: list[int] = []
    count = total = 0
    for size in sizes:
        grown = total + size + (separator if count else 0)
        if count and (grown > max_chars or (max_items is not None and count >= max_items)):
            batches.append(count)
            count, total = 0, 0
            grown = size
        count += 1
        total = grown
    if count:
        batches.append(count)
    return batches


Send = Callable[[list[str]], list[str]]


class Batcher:
    """Drives an engine's ``send(texts) -> translations`` over a whole document.

    ``separator`` is the length of what joins two segments on the wire
    (1 for a newline, 0 for services that take a list). With
    ``enabled=False`` every sentence is its own request (deep-translator's
    behaviour, kept for comparison).
    """

    def __init__(
        self,
        engine: str,
        send: Send,
        *,
        max_chars: int,
        max_items: int | None = None,
        separator: int = 0,
        enabled: bool = True,
    ) -> None:
        if max_chars < 1:
            raise ValueError(f"engine {engine}: max_chars must be positive")
        self.engine = engine
        self.send = send
        self.max_chars = max_chars
        self.max_items = max_items if enabled else 1
        self.separator = separator
        self.mismatches = 0

    def translate(self, sentences: Sequence[str]) -> Iterator[str]:
        """One translation per sentence, in order, each batch's as soon as its response arrives."""
        units: list[tuple[int, str]] = []
        pieces_of: list[int] = []
        for index, sentence in enumerate(sentences):
            text = " ".join(sentence.split())
            pieces = split_long(text, self.max_chars) if text else []
            pieces_of.append(len(pieces))
            units += [(index, piece) for piece in pieces]
        done: list[list[str]] = [[] for _ in sentences]
        ready = 0

        def flush() -> Iterator[str]:
            nonlocal ready
            while ready < len(sentences) and len(done[ready]) == pieces_of[ready]:
                yield " ".join(part for part in done[ready] if part)
                ready += 1

        yield from flush()
        position = 0
        while position < len(units):
            count = self._next_batch(units, position)
            batch = units[position : position + count]
            received = 0
            for (index, _), translation in zip(batch, self._run([text for _, text in batch])):
                done[index].append(translation.strip())
                received += 1
                yield from flush()  # a split batch's first half is stored before its second is sent
            if received != count:  # pragma: no cover - _run yields exactly one per text
                raise RuntimeError(f"engine {self.engine}: {received} translations for {count} texts")
            position += count

    def _next_batch(self, units: Sequence[tuple[int, str]], position: int) -> int:
        """How many units from ``position`` the next request takes (greedy, at least one)."""
        count = total = 0
        for index in range(position, len(units)):
            text = units[index][1]
            grown = total + len(text) + (self.separator if count else 0)
            if count and (grown > self.max_chars or (self.max_items is not None and count >= self.max_items)):
                break
            count, total = count + 1, grown
        return count

    def _size(self, texts: Sequence[str]) -> int:
        return sum(map(len, texts)) + self.separator * (len(texts) - 1)

    def _run(self, texts: list[str]) -> Iterator[str]:
        """Translations of ``texts``, splitting the batch when the service cannot take it whole."""
        if len(texts) == 1 and len(texts[0]) > self.max_chars:  # over a (lowered) limit: cut at clauses
            yield " ".join(t.strip() for t in self._run_packed(split_long(texts[0], self.max_chars)))
            return
        try:
            out = self.send(texts)
        except PayloadTooLarge as error:
            size = self._size(texts)
            if len(texts) == 1 and size <= MIN_CHARS:
                raise EngineRejected(
                    self.engine, f"the service refuses even a {size}-character text as too large"
                ) from None
            self.max_chars = max(MIN_CHARS, min(self.max_chars, size // 2))
            log.warning("%s; splitting it, and sending at most %d characters from now on", error, self.max_chars)
            if len(texts) > 1 and size <= self.max_chars:  # the limit cannot shrink further: halve
                half = (len(texts) + 1) // 2
                yield from self._run(texts[:half])
                yield from self._run(texts[half:])
            else:
                yield from self._run_packed(texts)
            return
        if len(out) == len(texts):
            yield from out
            return
        if len(texts) == 1:  # nothing left to split: one text, whatever came back is its translation
            yield " ".join(t.strip() for t in out if t.strip())
            return
        self.mismatches += 1
        log.warning(
            "engine %s: %d segments came back for %d sent; sending them again in smaller batches",
            self.engine,
            len(out),
            len(texts),
        )
        half = (len(texts) + 1) // 2
        yield from self._run(texts[:half])
        yield from self._run(texts[half:])

    def _run_packed(self, texts: list[str]) -> Iterator[str]:
        """Translations of ``texts`` sent in as few batches as the current limits allow."""
        start = 0
        for count in pack([len(t) for t in texts], self.max_chars, self.separator, self.max_items):
            yield from self._run(texts[start : start + count])
            start += count
