"""Repetition across a corpus: in how many other documents each line of a document occurs.

Page chrome repeats from page to page of a site (its name, menus, "বিজ্ঞাপন", share widgets,
"ये भी पढ़ें") while an article's own sentences do not. ``LineStats`` knows, for every distinct
line (whitespace-trimmed), how many documents of a corpus contain it; the classifier reads a piece's line's
``line_repeats``, the count beyond the document's typical line, as one feature: when near-
duplicate copies of an article are in the corpus every line of it repeats, and only the lines
that repeat *more* than its own sentences do are chrome. Without a corpus (one text labelled
on its own, e.g. by the Label Studio ML backend) the count is 0 everywhere.

Memory is bounded and the counts do not depend on input order, batching or the number of
workers: they come from a bottom-k sample, the ``SAMPLE_SIZE`` distinct texts with the
smallest sha256, so they are exact for corpora of up to ``SAMPLE_SIZE`` distinct texts and
counts in a uniform sample of that size beyond (a line on every page of a site is still
found on most of the sample's pages of that site). Identical texts count once. About 10 bytes
per sampled line: ~6 MB at the full sample.
"""

from __future__ import annotations

import hashlib
import heapq
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

SAMPLE_SIZE = 20_000


def _key(line: str) -> int:
    return int.from_bytes(hashlib.blake2b(line.encode("utf-8"), digest_size=8).digest(), "little")


def line_keys(text: str) -> list[int]:
    """A 64-bit key per line of ``text`` (``text.split("\\n")``, trimmed); ``None`` for a blank line."""
    return [_key(trimmed) if (trimmed := line.strip()) else None for line in text.split("\n")]


def document_key(text_sha256: str) -> int:
    """The sample order of a document: the first 8 bytes of its text's sha256."""
    return int(text_sha256[:16], 16)


def _text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class LineStats:
    """How many sampled documents contain each line (sorted keys and their counts)."""

    keys: np.ndarray  # uint64, sorted, unique
    counts: np.ndarray  # int64, documents of the sample containing the line
    sampled: frozenset[int]  # document keys of the sample
    documents: int  # documents in the sample

    @classmethod
    def of_texts(cls, texts: Iterable[str]) -> LineStats:
        sample = LineSample()
        for text in texts:
            sample.add(text)
        return sample.stats()

    def other_documents(self, text: str, text_sha256: str | None = None) -> list[int]:
        """Per line of ``text``: how many *other* documents of the sample contain it."""
        keys = line_keys(text)
        present = [k for k in keys if k is not None]
        if not present or not len(self.keys):
            return [0] * len(keys)
        wanted = np.array(present, dtype=np.uint64)
        at = np.minimum(np.searchsorted(self.keys, wanted), len(self.keys) - 1)
        found = np.where(self.keys[at] == wanted, self.counts[at], 0).tolist()
        itself = document_key(text_sha256 or _text_sha256(text)) in self.sampled
        counts = iter(found)
        return [0 if k is None else max(next(counts) - itself, 0) for k in keys]

    def line_repeats(self, text: str, text_sha256: str | None = None) -> list[int]:
        """Per line: ``other_documents`` beyond the document's typical line (the median count over
        its characters), so that a corpus holding copies of an article leaves its sentences at 0."""
        counts = self.other_documents(text, text_sha256)
        sizes = [len(line.strip()) for line in text.split("\n")]
        total = sum(sizes)
        if not total:
            return counts
        seen = 0
        for count, size in sorted(zip(counts, sizes)):
            seen += size
            if 2 * seen >= total:
                return [max(c - count, 0) for c in counts]
        raise AssertionError("unreachable: the sizes add up to the total")


class LineSample:
    """The bottom-k sample of a corpus's distinct texts, fed one text at a time."""

    def __init__(self, size: int = SAMPLE_SIZE) -> None:
        self.size = size
        self._heap: list[int] = []  # negated document keys: the largest kept key on top
        self._lines: dict[int, np.ndarray] = {}

    def add(self, text: str, text_sha256: str | None = None) -> None:
        key = document_key(text_sha256 or _text_sha256(text))
        if key in self._lines:
            return
        if len(self._heap) >= self.size:
            if key >= -self._heap[0]:
                return
            del self._lines[-heapq.heappushpop(self._heap, -key)]
        else:
            heapq.heappush(self._heap, -key)
        self._lines[key] = np.unique(np.array([k for k in line_keys(text) if k is not None], dtype=np.uint64))

    def stats(self) -> LineStats:
        if not self._lines:
            return LineStats(np.zeros(0, np.uint64), np.zeros(0, np.int64), frozenset(), 0)
        keys, counts = np.unique(np.concatenate(list(self._lines.values())), return_counts=True)
        return LineStats(keys, counts.astype(np.int64), frozenset(self._lines), len(self._lines))
