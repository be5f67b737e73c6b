"""Committed human annotations (``annotation/``) → adjudicated human spans per document.

A release is built from the files ``corpus annotate pull`` wrote, never from a live server:
``annotation/labelled/<doc_id>.json`` holds every Label Studio annotation of one document, with
pseudonymous annotators. Here each annotation is checked against the document it was made on
and turned into spans that follow the labelling standard; several annotations of a document
are compared (Krippendorff's alpha over characters) and adjudicated: a ground-truth annotation
wins, otherwise the per-character majority; a tie blocks the document until someone resolves it.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from corpus.document import Document, Span, merge_neighbours, trim
from corpus.ingest import Problem
from corpus.labels import CATEGORY_INDEX, CATEGORY_LABEL

FORMAT = "chhanni-annotations/1"
LABELLED_DIR = "labelled"
ANNOTATORS_FILE = "annotators.json"
STATES = ("unlabelled", "labelled", "conflicting", "stale", "invalid")
_SAFE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]*$")
_CROSS_CHECK_NOISE = re.compile(r"\\[nrt]|\s")  # value.text escapes line breaks and collapses spaces


class AnnotationFileError(ValueError):
    """An annotation file that cannot be read at all (bad JSON or shape)."""


# --- the file format ------------------------------------------------------------------------


@dataclass(frozen=True)
class Region:
    """One labelled region as Label Studio exported it (``value_text`` only as a cross-check)."""

    start: object
    end: object
    labels: tuple[str, ...]
    value_text: str | None = None

    def as_json(self) -> dict:
        return {
            "start": self.start,
            "end": self.end,
            "labels": list(self.labels),
            "value_text": self.value_text,
        }


@dataclass(frozen=True)
class AnnotationRecord:
    """One annotation of one task, as committed under ``annotation/labelled/``."""

    id: int
    task_id: int
    text_sha256: str  # sha256 of the task text the annotator saw
    annotator: str  # pseudonym, never an e-mail
    regions: tuple[Region, ...] = ()
    ground_truth: bool = False
    cancelled: bool = False
    lead_time: float | None = None
    created_at: str | None = None
    updated_at: str | None = None

    def as_json(self) -> dict:
        return {
            "id": self.id,
            "task_id": self.task_id,
            "text_sha256": self.text_sha256,
            "annotator": self.annotator,
            "ground_truth": self.ground_truth,
            "cancelled": self.cancelled,
            "lead_time": self.lead_time,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "regions": [r.as_json() for r in sorted(self.regions, key=_region_order)],
        }

    @property
    def label(self) -> str:
        return f"annotation {self.id} by {self.annotator}"


def _region_order(region: Region) -> tuple:
    def number(value: object) -> float:
        return value if isinstance(value, (int, float)) and not isinstance(value, bool) else math.inf

    return (number(region.start), number(region.end), region.labels)


@dataclass(frozen=True)
class DocumentAnnotations:
    doc_id: str
    annotations: tuple[AnnotationRecord, ...] = ()

    def as_json(self) -> dict:
        return {
            "format": FORMAT,
            "doc_id": self.doc_id,
            "annotations": [a.as_json() for a in sorted(self.annotations, key=lambda a: a.id)],
        }


def dump_json(data: object) -> str:
    """The one stable text form of every file under ``annotation/`` (reviewable diffs)."""
    return json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def file_name(doc_id: str) -> str:
    """``<doc_id>.json``, percent-encoded when the id is not a plain file name (never a dot file,
    which globbing and the release's input hashes skip)."""
    if _SAFE_NAME.match(doc_id):
        return doc_id + ".json"
    encoded = quote(doc_id, safe="")
    return ("%2E" + encoded[1:] if encoded.startswith(".") else encoded) + ".json"


def parse_document_annotations(data: object) -> DocumentAnnotations:
    """The dict form (``as_json``) back to records; raises ``AnnotationFileError`` on a bad shape."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise AnnotationFileError(f'not an annotation file (expected "format": "{FORMAT}")')
    if not isinstance(data.get("doc_id"), str) or not isinstance(data.get("annotations"), list):
        raise AnnotationFileError('needs a "doc_id" string and an "annotations" list')
    records = []
    for n, item in enumerate(data["annotations"]):
        try:
            regions = tuple(
                Region(r["start"], r["end"], tuple(str(x) for x in r["labels"]), r.get("value_text"))
                for r in item["regions"]
            )
            records.append(
                AnnotationRecord(
                    id=int(item["id"]),
                    task_id=int(item["task_id"]),
                    text_sha256=str(item["text_sha256"]),
                    annotator=str(item["annotator"]),
                    regions=regions,
                    ground_truth=bool(item.get("ground_truth", False)),
                    cancelled=bool(item.get("cancelled", False)),
                    lead_time=item.get("lead_time"),
                    created_at=item.get("created_at"),
                    updated_at=item.get("updated_at"),
                )
            )
        except (KeyError, TypeError, ValueError) as error:
            raise AnnotationFileError(f"annotations[{n}]: missing or bad field ({error})") from None
    return DocumentAnnotations(data["doc_id"], tuple(records))


def read_annotation_files(
    annotation_dir: Path,
) -> tuple[dict[str, tuple[Path, DocumentAnnotations]], list[Problem]]:
    """Every ``labelled/*.json`` file by doc_id, and a problem for each unreadable one."""
    found: dict[str, tuple[Path, DocumentAnnotations]] = {}
    problems: list[Problem] = []
    folder = annotation_dir / LABELLED_DIR
    if not folder.is_dir():
        return found, problems
    for path in sorted(folder.glob("*.json")):
        try:
            doc = parse_document_annotations(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, AnnotationFileError) as error:
            reason = (
                f"not valid JSON ({error.msg})" if isinstance(error, json.JSONDecodeError) else str(error)
            )
            problems.append(Problem(path.as_posix(), reason))
            continue
        if doc.doc_id in found:
            problems.append(Problem(path.as_posix(), f"doc_id {doc.doc_id!r} also in {found[doc.doc_id][0]}"))
            continue
        found[doc.doc_id] = (path, doc)
    return found, problems


# --- one annotation → spans ---------------------------------------------------------------


def _snippet(text: str, start: int, end: int, width: int = 30) -> str:
    piece = text[start:end]
    piece = piece if len(piece) <= width else piece[: width - 1] + "…"
    return "«" + piece.replace("\n", "⏎") + "»"


def uncovered_runs(text: str, spans: Iterable[Span]) -> list[tuple[int, int]]:
    """Runs of non-whitespace characters that no span covers."""
    covered = bytearray(len(text))
    for span in spans:
        covered[span.start : span.end] = b"\x01" * (span.end - span.start)
    runs: list[tuple[int, int]] = []
    i = 0
    while i < len(text):
        if not covered[i] and not text[i].isspace():
            j = i
            while j < len(text) and not covered[j] and not text[j].isspace():
                j += 1
            if (
                runs
                and not text[runs[-1][1] : i].strip()
                and all(not covered[k] for k in range(runs[-1][1], i))
            ):
                runs[-1] = (runs[-1][0], j)  # one run across uncovered whitespace
            else:
                runs.append((i, j))
            i = j
        else:
            i += 1
    return runs


def regions_to_spans(text: str, regions: Iterable[Region]) -> tuple[tuple[Span, ...], list[str]]:
    """Spans in the corpus model, or the reasons this annotation cannot be used.

    Offsets are Python code points (what Label Studio 1.23's ``<Text>`` uses too). Whitespace at
    a region's edges is trimmed silently; ``value_text`` is only compared, never used.
    """
    errors: list[str] = []
    spans: set[Span] = set()
    for region in regions:
        start, end = region.start, region.end
        where = f"region [{start}:{end})"
        if not all(isinstance(x, int) and not isinstance(x, bool) for x in (start, end)):
            errors.append(f"{where} has non-integer offsets")
            continue
        if not 0 <= start < end <= len(text):
            errors.append(f"{where} is outside the text (length {len(text)})")
            continue
        if len(region.labels) != 1:
            errors.append(f"{where} {_snippet(text, start, end)} has {len(region.labels)} labels, needs 1")
            continue
        category = region.labels[0]
        if category not in CATEGORY_LABEL:
            errors.append(f"{where} {_snippet(text, start, end)} has unknown label {category!r}")
            continue
        if isinstance(region.value_text, str) and _CROSS_CHECK_NOISE.sub("", region.value_text) != (
            _CROSS_CHECK_NOISE.sub("", text[start:end])
        ):
            errors.append(
                f"{where} covers {_snippet(text, start, end)} but Label Studio says "
                f"{_snippet(region.value_text, 0, len(region.value_text))} (offsets not in code points?)"
            )
            continue
        start, end = trim(text, start, end)
        if start < end:
            spans.add(Span(start, end, category, 1.0, "human"))
    ordered = sorted(spans, key=lambda s: (s.start, s.end, s.category))
    for prev, span in zip(ordered, ordered[1:]):
        if span.start < prev.end:
            shared = _snippet(text, span.start, min(prev.end, span.end))
            errors.append(
                f"overlapping spans [{prev.start}:{prev.end}) {prev.category} and "
                f"[{span.start}:{span.end}) {span.category} on {shared}"
            )
    if errors:
        return (), errors
    runs = uncovered_runs(text, ordered)
    if runs:
        start, end = runs[0]
        more = f" (and {len(runs) - 1} more)" if len(runs) > 1 else ""
        return (), [
            f"non-whitespace text left unlabelled at [{start}:{end}) {_snippet(text, start, end)}{more}"
        ]
    return merge_neighbours(text, ordered), []


# --- several annotations: agreement and adjudication --------------------------------------


def character_categories(text: str, spans: Iterable[Span]) -> list[str | None]:
    """The category of every code point (``None`` for whitespace and uncovered characters)."""
    per_char: list[str | None] = [None] * len(text)
    for span in spans:
        for i in range(span.start, span.end):
            if not text[i].isspace():
                per_char[i] = span.category
    return per_char


def krippendorff_alpha(rows: list[list[str | None]]) -> float | None:
    """Nominal Krippendorff's alpha over aligned units (``None`` = missing); ``None`` when undefined
    (fewer than two coders on any unit, or a single category used throughout)."""
    import krippendorff
    import numpy as np

    values = {v for row in rows for v in row if v is not None}
    pairable = any(sum(row[i] is not None for row in rows) >= 2 for i in range(len(rows[0]) if rows else 0))
    if len(rows) < 2 or len(values) < 2 or not pairable:
        return None
    data = np.array([[np.nan if v is None else CATEGORY_INDEX[v] for v in row] for row in rows], dtype=float)
    return float(krippendorff.alpha(reliability_data=data, level_of_measurement="nominal"))


def observed_agreement(rows: list[list[str | None]]) -> float | None:
    """Share of units coded by 2+ annotators on which all of them agree."""
    units = [[row[i] for row in rows if row[i] is not None] for i in range(len(rows[0]) if rows else 0)]
    coded = [u for u in units if len(u) >= 2]
    return sum(len(set(u)) == 1 for u in coded) / len(coded) if coded else None


@dataclass(frozen=True)
class Candidate:
    """A usable annotation of the current text, reduced to what adjudication needs."""

    record: AnnotationRecord
    spans: tuple[Span, ...]


@dataclass(frozen=True)
class Adjudication:
    spans: tuple[Span, ...] | None  # None while a tie is unresolved
    method: str  # "single", "ground_truth", "majority"
    ties: tuple[tuple[int, int, tuple[str, ...]], ...] = ()


def adjudicate(text: str, candidates: list[Candidate]) -> Adjudication:
    """Ground truth wins; otherwise (or among several ground truths) the per-character majority.

    Characters whose top categories tie are reported as runs and the document gets no spans.
    """
    truth = [c for c in candidates if c.record.ground_truth]
    voters = truth or candidates
    method = "ground_truth" if truth else ("single" if len(candidates) == 1 else "majority")
    if len(voters) == 1:
        return Adjudication(voters[0].spans, method)
    tables = [character_categories(text, c.spans) for c in voters]
    winner: list[str | None] = [None] * len(text)
    tied: list[tuple[str, ...] | None] = [None] * len(text)
    for i in range(len(text)):
        votes = Counter(t[i] for t in tables if t[i] is not None)
        if not votes:
            continue
        ranked = votes.most_common()
        top = [cat for cat, n in ranked if n == ranked[0][1]]
        if len(top) > 1:
            tied[i] = tuple(sorted(top))
        else:
            winner[i] = top[0]
    ties = _runs(text, tied)
    if ties:
        return Adjudication(None, method, tuple(ties))
    spans = [Span(s, e, cat, 1.0, "human") for s, e, cat in _runs(text, winner)]
    return Adjudication(merge_neighbours(text, spans), method)


def _runs(text: str, values: list) -> list[tuple[int, int, object]]:
    """Maximal runs of equal non-None values over non-whitespace characters (whitespace inside
    a run does not break it)."""
    runs: list[tuple[int, int, object]] = []
    for i, value in enumerate(values):
        if value is None or text[i].isspace():
            continue
        if (
            runs
            and runs[-1][2] == value
            and all(text[k].isspace() or values[k] == value for k in range(runs[-1][1], i))
        ):
            runs[-1] = (runs[-1][0], i + 1, value)
        else:
            runs.append((i, i + 1, value))
    return runs


# --- per document and per corpus ----------------------------------------------------------


@dataclass
class DocumentStatus:
    doc_id: str
    state: str  # one of STATES
    annotations: int = 0  # submitted (not cancelled) annotations in the file
    usable: int = 0  # valid annotations of the current text
    cancelled: int = 0
    stale: int = 0
    invalid: int = 0
    annotators: tuple[str, ...] = ()  # pseudonyms whose annotations count
    alpha: float | None = None
    agreement: float | None = None
    method: str = ""
    spans: tuple[Span, ...] | None = None
    units: dict[str, list[str | None]] = field(default_factory=dict, repr=False)  # annotator → per char


@dataclass
class AnnotationReport:
    statuses: dict[str, DocumentStatus] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    alpha: float | None = None  # over all documents with 2+ annotators
    agreement: float | None = None

    @property
    def cancelled(self) -> int:
        return sum(s.cancelled for s in self.statuses.values())


def assess_document(
    doc: Document, annotations: DocumentAnnotations, origin: str
) -> tuple[DocumentStatus, list[Problem]]:
    """Validate, compare and adjudicate the annotations of one document."""
    problems: list[Problem] = []
    status = DocumentStatus(doc.doc_id, "unlabelled")
    latest: dict[str, Candidate] = {}
    for record in sorted(annotations.annotations, key=lambda a: a.id):
        if record.cancelled:
            status.cancelled += 1
            continue
        status.annotations += 1
        if record.text_sha256 != doc.text_sha256:
            status.stale += 1
            problems.append(
                Problem(
                    origin,
                    f"{record.label} is stale: made on text sha256 "
                    f"{record.text_sha256[:12]}…, the document is now "
                    f"{doc.text_sha256[:12]}… (re-annotate the new task)",
                )
            )
            continue
        spans, errors = regions_to_spans(doc.text, record.regions)
        if errors:
            status.invalid += 1
            problems += [Problem(origin, f"{record.label}: {message}") for message in errors]
            continue
        latest[record.annotator] = Candidate(record, spans)  # a later annotation replaces an earlier one
    candidates = list(latest.values())
    status.usable = len(candidates)
    if not candidates:
        status.state = "stale" if status.stale else "invalid" if status.invalid else "unlabelled"
        return status, problems
    status.annotators = tuple(sorted(latest, key=_natural))
    status.units = {a: _units(doc.text, latest[a].spans) for a in status.annotators}
    if len(candidates) > 1:
        rows = list(status.units.values())
        status.alpha = krippendorff_alpha(rows)
        status.agreement = observed_agreement(rows)
    result = adjudicate(doc.text, candidates)
    status.method = result.method
    if result.spans is None:
        status.state = "conflicting"
        start, end, cats = result.ties[0]
        more = f" (and {len(result.ties) - 1} more)" if len(result.ties) > 1 else ""
        problems.append(
            Problem(
                origin,
                f"unresolved tie between {' and '.join(cats)} at [{start}:{end}) "
                f"{_snippet(doc.text, start, end)}{more}; mark a ground truth "
                "annotation in Label Studio and pull again",
            )
        )
    else:
        status.state = "labelled"
        status.spans = result.spans
    return status, problems


def _units(text: str, spans: tuple[Span, ...]) -> list[str | None]:
    per_char = character_categories(text, spans)
    return [per_char[i] for i in range(len(text)) if not text[i].isspace()]


def _natural(pseudonym: str) -> tuple:
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", pseudonym))


def assess(annotation_dir: Path, documents: list[Document]) -> AnnotationReport:
    """The state of every document against the committed annotation files."""
    report = AnnotationReport()
    files, report.problems = read_annotation_files(annotation_dir)
    by_id = {d.doc_id: d for d in documents}
    for doc_id, (path, _) in files.items():
        if doc_id not in by_id:
            report.problems.append(
                Problem(path.as_posix(), f"no document {doc_id!r} among the inputs; ignored")
            )
    for doc in documents:
        if doc.doc_id not in files:
            report.statuses[doc.doc_id] = DocumentStatus(doc.doc_id, "unlabelled")
            continue
        path, annotations = files[doc.doc_id]
        status, problems = assess_document(doc, annotations, path.as_posix())
        report.statuses[doc.doc_id] = status
        report.problems += problems
    report.alpha, report.agreement = overall_agreement(report.statuses.values())
    return report


def overall_agreement(statuses: Iterable[DocumentStatus]) -> tuple[float | None, float | None]:
    """Alpha and observed agreement over the characters of every document with 2+ annotators:
    one row per annotator, missing where they did not annotate a document."""
    shared = [s for s in statuses if len(s.units) > 1]
    annotators = sorted({a for s in shared for a in s.units}, key=_natural)
    rows: dict[str, list[str | None]] = {a: [] for a in annotators}
    for status in shared:
        width = len(next(iter(status.units.values())))
        for annotator, row in rows.items():
            row += status.units.get(annotator, [None] * width)
    if not rows:
        return None, None
    return krippendorff_alpha(list(rows.values())), observed_agreement(list(rows.values()))


# --- the release builder's entry point ------------------------------------------------------


@dataclass
class HumanLabels:
    spans: dict[str, tuple[Span, ...]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    annotators: list[str] = field(default_factory=list)
    cancelled: int = 0
    statuses: dict[str, DocumentStatus] = field(default_factory=dict)
    alpha: float | None = None  # Krippendorff's alpha over all documents with 2+ annotators
    agreement: str | None = None  # the same, worded for the dataset card (None without overlap)


def load_human_labels(annotation_dir: Path, documents: list[Document]) -> HumanLabels:
    """Adjudicated human spans for the documents that have usable annotations.

    Everything else (unreadable files, invalid, stale or tied annotations, files for unknown
    documents) comes back as one-line problems naming the annotation file; those documents keep
    their model labels.
    """
    report = assess(annotation_dir, documents)
    labelled = {d: s for d, s in report.statuses.items() if s.state == "labelled" and s.spans is not None}
    annotators = sorted({a for s in labelled.values() for a in s.annotators}, key=_natural)
    return HumanLabels(
        spans={d: s.spans for d, s in labelled.items()},  # type: ignore[misc]
        problems=report.problems,
        annotators=annotators,
        cancelled=report.cancelled,
        statuses=report.statuses,
        alpha=report.alpha,
        agreement=agreement_summary(report),
    )


def agreement_summary(report: AnnotationReport) -> str | None:
    """E.g. ``0.912 over 3 documents with 2+ annotators (97.1% of characters agreed)``."""
    if report.alpha is None:
        return None
    shared = sum(len(s.units) > 1 for s in report.statuses.values())
    agreed = f" ({report.agreement:.1%} of characters agreed)" if report.agreement is not None else ""
    return f"{report.alpha:.3f} over {shared} document(s) with 2+ annotators{agreed}"
