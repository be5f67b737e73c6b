"""The main job: seeds (+ human annotations) → a release. Glue between the stage modules."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from corpus.annotations import HumanLabels, load_human_labels
from corpus.card import render_card
from corpus.document import Document
from corpus.ingest import Problem, input_files, read_documents, sha256_hex, split_problems
from corpus.prelabel import prelabel_document
from corpus.release import ReleaseError, ReleaseResult, build_release
from corpus.repetition import LineStats
from corpus.validate import SchemaViolation


@dataclass
class BuildReport:
    release: ReleaseResult | None
    documents: list[Document] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    human_documents: int = 0


def annotation_inputs(annotations: Path, with_guidelines: bool) -> list[Path]:
    """The annotation files a release reads: the pulled JSON, and the guidelines the card cites
    when it has human labels."""
    if not annotations.is_dir():
        return []
    files = list(annotations.rglob("*.json"))
    if with_guidelines and (annotations / "GUIDELINES.md").exists():
        files.append(annotations / "GUIDELINES.md")
    return files


def input_hashes(root: Path, files: Iterable[Path]) -> list[dict]:
    """Name (relative to ``root``) and sha256 of each input file, recorded in the manifest."""
    return [
        {
            "file": p.relative_to(root).as_posix() if p != root else p.name,
            "sha256": sha256_hex(p.read_bytes()),
        }
        for p in sorted(files)
    ]


@dataclass
class LabelledCorpus:
    documents: list[Document]
    problems: list[Problem]
    human: HumanLabels
    prelabelled: dict[str, Document]  # the model's view of every document, for evaluation


def labelled_documents(
    seeds: Path, annotations: Path, progress: Callable[[Iterable], Iterable] = lambda it: it
) -> LabelledCorpus:
    """Ingest and pre-label every seed, then swap in adjudicated human spans where they exist."""
    read, problems = split_problems(read_documents(seeds, display_root=seeds))
    corpus = LineStats.of_texts(d.text for d in read)
    documents = [prelabel_document(d, corpus) for d in progress(read)]
    human = load_human_labels(annotations, documents)
    problems += human.problems
    # A human-labelled document has no model spans left: its model_version is empty, so a new
    # pre-labeler changes only model-labelled documents (and the card), never the gold.
    merged = [
        replace(d.with_spans(human.spans[d.doc_id]), model_version="") if d.doc_id in human.spans else d
        for d in documents
    ]
    return LabelledCorpus(merged, problems, human, {d.doc_id: d for d in documents})


def card_extras(corpus: LabelledCorpus, annotations: Path) -> dict:
    """What the card says about the human labels: who, how, which guidelines, how good the model is."""
    from corpus.evaluate import evaluate, markdown_report

    human_docs = [d for d in corpus.documents if d.doc_id in corpus.human.spans]
    if not human_docs:
        return {}
    evaluation = evaluate(
        (d.lang, d.text, list(d.spans), list(corpus.prelabelled[d.doc_id].spans)) for d in human_docs
    )
    guidelines = annotations / "GUIDELINES.md"
    version_line = ""
    if guidelines.exists():
        match = re.search(r"Guidelines version ([\w.]+)", guidelines.read_text(encoding="utf-8"))
        version_line = match.group(1) if match else ""
    return {
        "evaluation_md": markdown_report(evaluation, "Pre-labels vs human gold"),
        "evaluation": evaluation.as_dict(),
        "annotators": list(corpus.human.annotators),
        "guidelines_version": version_line,
        "agreement": getattr(corpus.human, "agreement", None),
    }


def provenance_of(seeds: Path, annotations: Path, version: str) -> dict:
    """Where a release comes from: source commit, input folders (relative to the repo), command."""
    from corpus.rebuild import source_commit

    commit = source_commit(seeds if seeds.is_dir() else seeds.parent)
    root = _git_root(seeds)
    shown = {name: _relative(path, root) for name, path in (("seeds", seeds), ("annotations", annotations))}
    command = "corpus build --seeds {seeds} --annotations {annotations} --version {version}".format(
        **shown, version=version
    )
    return {**commit, **shown, "command": command}


def _git_root(path: Path) -> Path:
    for parent in [path.resolve(), *path.resolve().parents]:
        if (parent / ".git").exists():
            return parent
    return Path.cwd()


def _relative(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def build(
    seeds: Path,
    annotations: Path,
    releases: Path,
    version: str,
    progress: Callable[[Iterable], Iterable] = lambda it: it,
    provenance: dict | None = None,
    before_publish: Callable[[Path], None] | None = None,
    strict: bool = False,
) -> BuildReport:
    """Build ``releases/v<version>``; ``provenance`` defaults to the current commit and command.

    With ``strict`` any input problem stops the build before anything is written.
    """
    input_files(seeds)  # fails early, naming the folder, when it does not exist
    corpus = labelled_documents(seeds, annotations, progress)
    documents, problems, n_human = corpus.documents, corpus.problems, len(corpus.human.spans)
    if not documents:
        return BuildReport(None, [], problems, 0)
    if strict and problems:
        raise ReleaseError(f"{len(problems)} input problem(s) and --strict given, nothing written", problems)
    # Annotation inputs: the pulled JSON, plus the guidelines when the card cites them.
    inputs = {
        "seeds": input_hashes(seeds, input_files(seeds)),
        "annotations": input_hashes(annotations, annotation_inputs(annotations, n_human > 0)),
    }
    if provenance is None:
        provenance = provenance_of(seeds, annotations, version)
    extras = card_extras(corpus, annotations)
    try:
        release = build_release(
            documents, releases, version, inputs, render_card, provenance, before_publish, extras
        )
    except (ReleaseError, SchemaViolation) as error:
        error.problems = problems  # reported with the error: they may be why the release differs
        raise
    return BuildReport(release, documents, problems, n_human)


def iter_prelabelled(path: Path, corpus_stats: bool = True) -> Iterator[Document | Problem]:
    """Streaming pre-labels for ``corpus prelabel``: one document in memory at a time, after a
    first pass for the lines' repetition across the input (``corpus_stats``)."""
    from corpus.stream import corpus_line_stats

    corpus = corpus_line_stats(path) if corpus_stats else None
    for item in read_documents(path, display_root=path if path.is_dir() else path.parent, dedupe=False):
        yield item if isinstance(item, Problem) else prelabel_document(item, corpus)
