"""Committed human annotations (``annotation/``) → human spans per document.

Placeholder until the Label Studio round trip lands: no annotation files means no human spans.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from corpus.document import Document, Span
from corpus.ingest import Problem


@dataclass
class HumanLabels:
    spans: dict[str, tuple[Span, ...]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    annotators: list[str] = field(default_factory=list)


def load_human_labels(annotation_dir: Path, documents: list[Document]) -> HumanLabels:
    """Adjudicated human spans for the documents that have usable annotations."""
    return HumanLabels()
