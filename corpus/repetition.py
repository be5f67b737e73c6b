"""Repetition across a corpus: in how many other documents each line of a document occurs.

Page chrome repeats from page to page of a site (its name, menus, "বিজ্ঞাপন", share widgets,
"ये भी पढ़ें") while an article's own sentences do not. ``LineStats`` knows, for every distinct
line (whitespace-trimmed), how many documents of a corpus contain it; the classifier reads a
piece's line's ``line_repeats``, the count beyond the document's typical line, as one feature:
when near-duplicate copies of an article are in the corpus every line of it repeats, and only
the lines that repeat *more* than its own sentences do are chrome. Without a corpus (one text
labelled on its own, e.g. by the Label Studio ML backend) the count is 0 everywhere.

Memory is bounded and the counts do not depend on input order, batching or the number of
workers: they come from a bottom-k sample, the ``SAMPLE_SIZE`` distinct texts with the
smallest ``document_key`` (a 64-bit hash of the text's code points), so they are exact for
corpora of up to ``SAMPLE_SIZE`` distinct texts and counts in a uniform sample of that size
beyond (a line on every page of a site is still found on most of the sample's pages of that
site). Identical texts count once. About 16 bytes per distinct sampled line: a few MB at the
full sample.

A line's key is a 64-bit hash of its trimmed code points, FNV-1a in four lanes
(``lane_hash``; ``line_keys`` compiled when ``FAST``, the same numbers in Python otherwise).
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

import numpy as np

SAMPLE_SIZE = 20_000
FAST = True
_FNV_OFFSET, _FNV_PRIME, _MASK = 0xCBF29CE484222325, 0x100000001B3, (1 << 64) - 1
_LANES = 4


def lane_hash(codes: list[int]) -> int:
    """``corpus._kernels.lane_hash``: FNV-1a of code point ``j`` into lane ``j % 4``, then
    FNV-1a's step over the four lanes' values in order and the length."""
    lanes = [_FNV_OFFSET] * _LANES
    for j, code in enumerate(codes):
        lanes[j % _LANES] = ((lanes[j % _LANES] ^ code) * _FNV_PRIME) & _MASK
    h = _FNV_OFFSET
    for lane in (*lanes, len(codes)):
        h = ((h ^ lane) * _FNV_PRIME) & _MASK
    return h


def line_keys(text: str) -> tuple[np.ndarray, np.ndarray]:
    """Per line of ``text`` (``text.split("\\n")``): its key (uint64; 0 for a blank line) and
    its length once trimmed."""
    if FAST:
        import corpus._kernels as _kernels  # (`from corpus import` runs importlib code)
        from corpus.segment import char_flags

        return _kernels.line_hashes(*char_flags(text))
    keys, sizes = [], []
    for line in text.split("\n"):
        trimmed = line.strip()
        keys.append((lane_hash(list(map(ord, trimmed))) or 1) if trimmed else 0)
        sizes.append(len(trimmed))
    return np.array(keys, dtype=np.uint64), np.array(sizes, dtype=np.int64)


def document_key(text: str) -> int:
    """The sample order of a document: ``lane_hash`` of all its code points (equal texts,
    equal keys). Compiled, from the code points its line keys are read from: no UTF-8 and no
    sha256 of the text (``corpus prelabel`` writes no hash, so it makes none)."""
    if FAST:
        import corpus._kernels as _kernels
        from corpus.segment import char_flags

        return int(_kernels.text_key(char_flags(text)[0]))
    return lane_hash(list(map(ord, text)))


@dataclass(frozen=True)
class LineStats:
    """How many sampled documents contain each line (sorted keys and their counts)."""

    keys: np.ndarray  # uint64, sorted, unique, no 0
    counts: np.ndarray  # int64, documents of the sample containing the line
    sampled: frozenset[int]  # document keys of the sample
    documents: int  # documents in the sample

    @classmethod
    def of_texts(cls, texts: Iterable[str]) -> LineStats:
        sample = LineSample()
        for text in texts:
            sample.add(text)
        return sample.stats()

    def other_documents(self, text: str) -> list[int]:
        """Per line of ``text``: how many *other* documents of the sample contain it."""
        itself = document_key(text) in self.sampled
        return self._other_documents(line_keys(text)[0], itself).tolist()

    def line_repeats(
        self, text: str, lines: tuple[np.ndarray, np.ndarray] | None = None, key: int | None = None
    ) -> list[int]:
        """Per line: ``other_documents`` beyond the document's typical line (the median count over
        its characters), so that a corpus holding copies of an article leaves its sentences at 0.
        ``lines``: ``line_keys(text)`` and ``key``: ``document_key(text)``, if already known."""
        return self.repeats_array(text, lines, key).tolist()

    def repeats_array(
        self, text: str, lines: tuple[np.ndarray, np.ndarray] | None = None, key: int | None = None
    ) -> np.ndarray:
        """``line_repeats`` as an int64 array (what the compiled pre-labeller reads)."""
        keys, sizes = lines if lines is not None else line_keys(text)
        itself = (document_key(text) if key is None else key) in self.sampled
        if FAST:
            import corpus._kernels as _kernels

            return _kernels.line_repeats(keys, sizes, *self._key_table, int(itself))
        counts = self._other_documents(keys, itself)
        total = int(sizes.sum())
        if not total:
            return counts
        order = np.argsort(counts, kind="stable")
        median = counts[order[np.searchsorted(2 * np.cumsum(sizes[order]), total)]]
        return np.maximum(counts - median, 0)

    @cached_property
    def _key_table(self) -> tuple[np.ndarray, np.ndarray]:
        from corpus import _kernels

        return _kernels.key_table(self.keys, self.counts)

    def _other_documents(self, keys: np.ndarray, itself: bool) -> np.ndarray:
        if not len(self.keys):
            return np.zeros(len(keys), dtype=np.int64)
        at = np.minimum(np.searchsorted(self.keys, keys), len(self.keys) - 1)
        found = np.where((self.keys[at] == keys) & (keys != 0), self.counts[at], 0)
        return np.maximum(found - itself, 0) if itself else found


def _distinct(keys: np.ndarray) -> np.ndarray:
    """The sorted distinct non-zero keys (``np.unique(keys[keys != 0])``)."""
    if FAST:
        import corpus._kernels as _kernels

        return _kernels.distinct_keys(keys)
    return np.unique(keys[keys != 0])


class LineSample:
    """The bottom-k sample of a corpus's distinct texts, fed one text at a time."""

    def __init__(self, size: int = SAMPLE_SIZE) -> None:
        self.size = size
        self._heap: list[int] = []  # negated document keys: the largest kept key on top
        self._lines: dict[int, np.ndarray] = {}

    def add(self, text: str, key: int | None = None) -> tuple[np.ndarray, np.ndarray] | None:
        """Sample ``text`` if it is among the smallest keys so far: its ``line_keys`` then (else
        None). ``key``: its ``document_key``, if already known."""
        key = document_key(text) if key is None else key
        if key in self._lines:
            return None
        if len(self._heap) >= self.size:
            if key >= -self._heap[0]:
                return None
            del self._lines[-heapq.heappushpop(self._heap, -key)]
        else:
            heapq.heappush(self._heap, -key)
        lines = line_keys(text)
        self._lines[key] = _distinct(lines[0])
        return lines

    def stats(self) -> LineStats:
        if not self._lines:
            return LineStats(np.zeros(0, np.uint64), np.zeros(0, np.int64), frozenset(), 0)
        keys, counts = np.unique(np.concatenate(list(self._lines.values())), return_counts=True)
        return LineStats(keys, counts.astype(np.int64), frozenset(self._lines), len(self._lines))
