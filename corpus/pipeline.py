"""The main job: seeds (+ human annotations) → a release. Glue between the stage modules."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from corpus.annotations import load_human_labels
from corpus.card import render_card
from corpus.document import Document
from corpus.ingest import Problem, input_files, read_documents, sha256_hex
from corpus.prelabel import prelabel_document
from corpus.release import ReleaseResult, build_release


@dataclass
class BuildReport:
    release: ReleaseResult | None
    documents: list[Document] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    human_documents: int = 0


def input_hashes(root: Path, files: Iterable[Path]) -> list[dict]:
    """Name (relative to ``root``) and sha256 of each input file, recorded in the manifest."""
    return [
        {
            "file": p.relative_to(root).as_posix() if p != root else p.name,
            "sha256": sha256_hex(p.read_bytes()),
        }
        for p in sorted(files)
    ]


def labelled_documents(
    seeds: Path, annotations: Path, progress: Callable[[Iterable], Iterable] = lambda it: it
) -> tuple[list[Document], list[Problem], int]:
    """Ingest and pre-label every seed, then swap in adjudicated human spans where they exist."""
    documents: list[Document] = []
    problems: list[Problem] = []
    for item in progress(read_documents(seeds, display_root=seeds)):
        if isinstance(item, Problem):
            problems.append(item)
        else:
            documents.append(prelabel_document(item))
    human = load_human_labels(annotations, documents)
    problems += human.problems
    merged = [d.with_spans(human.spans[d.doc_id]) if d.doc_id in human.spans else d for d in documents]
    return merged, problems, len(human.spans)


def build(
    seeds: Path,
    annotations: Path,
    releases: Path,
    version: str,
    progress: Callable[[Iterable], Iterable] = lambda it: it,
) -> BuildReport:
    input_files(seeds)  # fails early, naming the folder, when it does not exist
    documents, problems, n_human = labelled_documents(seeds, annotations, progress)
    if not documents:
        return BuildReport(None, [], problems, 0)
    # Only the annotation data counts as input: guidelines and the config do not change labels.
    inputs = {
        "seeds": input_hashes(seeds, input_files(seeds)),
        "annotations": input_hashes(annotations, annotations.rglob("*.json") if annotations.is_dir() else []),
    }
    release = build_release(documents, releases, version, inputs, render_card)
    return BuildReport(release, documents, problems, n_human)


def iter_prelabelled(path: Path) -> Iterator[Document | Problem]:
    """Streaming pre-labels for ``corpus prelabel``: one document in memory at a time."""
    for item in read_documents(path, display_root=path if path.is_dir() else path.parent, dedupe=False):
        yield item if isinstance(item, Problem) else prelabel_document(item)
