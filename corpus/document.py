"""Plain records that flow through the pipeline: ``Document`` and ``Span``."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import NamedTuple

from corpus.labels import label_of


@dataclass(frozen=True)
class Span:
    """``text[start:end]`` of a document, in Python code points, with its label."""

    start: int
    end: int
    category: str
    score: float = 1.0
    label_source: str = "model"

    @property
    def label(self) -> str:
        return label_of(self.category)

    def as_record(self) -> dict:
        return {
            "start": self.start,
            "end": self.end,
            "label": self.label,
            "category": self.category,
            "score": round(float(self.score), 4),
            "label_source": self.label_source,
        }


@dataclass(frozen=True)
class Document:
    """One article: the normalised text that span offsets index, and where it came from."""

    doc_id: str
    text: str
    source_file: str
    raw_sha256: str
    text_sha256: str
    lang: str = ""
    lang_prob: float = 0.0
    url: str | None = None
    source: str | None = None
    published: str | None = None
    spans: tuple[Span, ...] = field(default=())
    model_version: str = ""

    def with_spans(self, spans: tuple[Span, ...] | list[Span], model_version: str = "") -> Document:
        return replace(self, spans=tuple(spans), model_version=model_version or self.model_version)

    @property
    def label_source(self) -> str:
        sources = {s.label_source for s in self.spans}
        return "human" if sources == {"human"} else "model"


class Article(NamedTuple):
    """A document as ``corpus prelabel`` reads and writes it: id, text and language. Its
    output holds no hash, so none is made (``corpus.stream.prelabel_lines``)."""

    doc_id: str
    text: str
    lang: str


def trim(text: str, start: int, end: int) -> tuple[int, int]:
    """``[start, end)`` shrunk to start and end on non-whitespace (empty if it is all whitespace)."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def merge_neighbours(text: str, spans: Iterable[Span]) -> tuple[Span, ...]:
    """Join sorted spans of the same category that only whitespace separates (labelling standard)."""
    merged: list[Span] = []
    for span in spans:
        prev = merged[-1] if merged else None
        if prev and prev.category == span.category and not text[prev.end : span.start].strip():
            merged[-1] = Span(prev.start, span.end, span.category, prev.score, prev.label_source)
        else:
            merged.append(span)
    return tuple(merged)
