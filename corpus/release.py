"""Release: labelled documents → a versioned, validated, checksummed Hugging Face dataset folder.

The folder is written to a temporary sibling and renamed into place, so a release either
exists whole or not at all; an existing release is never touched. Everything that could
vary between runs (time, absolute paths, dict order, Parquet writer metadata) is pinned or
left out, so the same inputs give the same bytes.

pandas, pyarrow and pandera are imported by the functions that use them:
``corpus stream-build`` needs only ids, versions and hashes from here, and never imports
pandas or pandera on its fast path (~1 s of start-up between them).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from corpus.document import Document
from corpus.figures import content_chart_png
from corpus.labels import CATEGORY_NAMES, LABELS, SPLITS, label_set_hash
from corpus.schema import SCHEMA_VERSION, TABLES, arrow_schema
from corpus.staging import staging_path

if TYPE_CHECKING:
    import pyarrow as pa

CHART_PATH = "images/content_by_language.png"
SPLIT_BUCKETS = (("train", 80), ("validation", 90), ("test", 100))
_SEMVER = re.compile(r"^(\d+)\.(\d+)\.(\d+)$")


class ReleaseError(RuntimeError):
    """A release cannot be written; the message names the folder and the reason.

    ``problems`` lists the input problems found on the way (reported alongside the error).
    """

    def __init__(self, message: str, problems: list | None = None):
        super().__init__(message)
        self.problems = problems or []


@dataclass
class ReleaseResult:
    path: Path
    version: str
    status: str  # "created" | "unchanged"
    rows: dict[str, dict[str, int]]
    spans_per_category: Counter = field(default_factory=Counter)


def split_of(doc_id: str) -> str:
    """Deterministic split from the hash of the document id (80/10/10)."""
    bucket = int(hashlib.sha256(doc_id.encode("utf-8")).hexdigest()[:8], 16) % 100
    return next(name for name, upper in SPLIT_BUCKETS if bucket < upper)


def document_rows(docs: list[Document]) -> list[dict]:
    return [
        {
            "doc_id": d.doc_id,
            "text": d.text,
            "lang": d.lang,
            "lang_prob": d.lang_prob,
            "url": d.url,
            "source": d.source,
            "published": d.published,
            "source_file": d.source_file,
            "raw_sha256": d.raw_sha256,
            "text_sha256": d.text_sha256,
            "label_source": d.label_source,
            "model_version": d.model_version,
            "spans": [s.as_record() for s in d.spans],
        }
        for d in docs
    ]


def span_rows(docs: list[Document]) -> list[dict]:
    return [
        {
            "doc_id": d.doc_id,
            "span_index": i,
            "start": s.start,
            "end": s.end,
            "text": d.text[s.start : s.end],
            "label": s.label,
            "category": s.category,
            "score": round(float(s.score), 4),
            "label_source": s.label_source,
            "lang": d.lang,
        }
        for d in docs
        for i, s in enumerate(d.spans)
    ]


def validate_documents(docs: list[Document]) -> None:
    """Check the release tables against the pandera schemas; raises ``SchemaViolation``."""
    import pandas as pd

    from corpus.validate import validate_tables

    documents = pd.DataFrame(document_rows(docs), columns=[c.name for c in TABLES["documents"]])
    spans = pd.DataFrame(span_rows(docs), columns=[c.name for c in TABLES["spans"]])
    validate_tables(documents, spans)


def _encode_labels(row: dict) -> dict:
    """Class names → ClassLabel indices, as Parquet stores them."""
    out = dict(row)
    if "category" in out:
        out["label"] = LABELS.index(out["label"])
        out["category"] = CATEGORY_NAMES.index(out["category"])
    if "spans" in out:
        out["spans"] = [_encode_labels(s) for s in out["spans"]]
    return out


def write_parquet(rows: list[dict], table: str, path: Path) -> tuple[int, int]:
    """Write rows with the config's Arrow schema (HF features in its metadata).

    Returns the row count and the in-memory Arrow size (the card's ``num_bytes``).
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = arrow_schema(table)
    arrow = pa.Table.from_pylist([_encode_labels(r) for r in rows], schema=schema)
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(arrow, path, compression="zstd", compression_level=9, write_statistics=True)
    return arrow.num_rows, arrow.nbytes


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def parse_version(version: str) -> tuple[int, int, int]:
    match = _SEMVER.match(version.removeprefix("v"))
    if not match:
        raise ReleaseError(f"version {version!r} is not semantic (MAJOR.MINOR.PATCH)")
    major, minor, patch = (int(g) for g in match.groups())
    return major, minor, patch


def existing_versions(releases_dir: Path) -> list[str]:
    if not releases_dir.is_dir():
        return []
    found = [p.name[1:] for p in releases_dir.iterdir() if p.is_dir() and _SEMVER.match(p.name[1:])]
    return sorted(found, key=parse_version)


def build_release(
    docs: list[Document],
    releases_dir: Path,
    version: str,
    inputs: dict,
    card: Callable[[dict], str],
    provenance: dict | None = None,
    before_publish: Callable[[Path], None] | None = None,
    card_extras: dict | None = None,
) -> ReleaseResult:
    """Write ``releases_dir/v<version>/`` atomically; identical existing release → "unchanged".

    ``card(context) -> str`` renders README.md from the computed counts (see ``corpus.card``).
    ``provenance`` (source commit, command) is recorded in the manifest but does not make an
    otherwise identical rebuild "different". ``before_publish(tmp_dir)`` may veto a new release
    (raise ``ReleaseError``) after it is written but before it is renamed into place.
    """
    parse_version(version)
    docs = sorted(docs, key=lambda d: d.doc_id)
    validate_documents(docs)
    target = releases_dir / f"v{version}"
    releases_dir.mkdir(parents=True, exist_ok=True)
    tmp = staging_path(releases_dir, f".tmp-v{version}")
    if tmp.exists():
        shutil.rmtree(tmp)
    try:
        result = _write_release(docs, tmp, version, inputs, card, provenance or {}, card_extras or {})
        if target.exists():
            if same_release(tmp, target):
                result.path, result.status = target, "unchanged"
                return result
            raise ReleaseError(
                f"{target}: release v{version} already exists with different content; "
                "releases are immutable: build a new one with --bump (or --version)"
            )
        if before_publish is not None:
            before_publish(tmp)
        os.replace(tmp, target)
        result.path = target
        return result
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)


def read_release_tables(release: Path) -> dict[str, dict[str, pa.Table]]:
    """``{config: {split: Arrow table}}`` of a release, as declared by its manifest."""
    import pyarrow.parquet as pq

    manifest = read_manifest(release)
    return {
        table: {split: pq.read_table(release / f"{table}/{split}-00000-of-00001.parquet") for split in splits}
        for table, splits in manifest["rows"].items()
    }


def decoded_rows(table: pa.Table) -> list[dict]:
    """Rows with ClassLabel indices turned back into names."""
    rows = table.to_pylist()
    for row in rows:
        _decode_labels(row)
        for span in row.get("spans") or []:
            _decode_labels(span)
    return rows


def _decode_labels(row: dict) -> None:
    if "category" in row:
        row["label"] = LABELS[row["label"]]
        row["category"] = CATEGORY_NAMES[row["category"]]


def _write_release(
    docs: list[Document], root: Path, version: str, inputs: dict, card, provenance: dict, extras: dict
) -> ReleaseResult:
    by_split: dict[str, list[Document]] = {s: [] for s in SPLITS}
    for d in docs:
        by_split[split_of(d.doc_id)].append(d)
    rows: dict[str, dict[str, int]] = {"documents": {}, "spans": {}}
    nbytes: dict[str, dict[str, int]] = {"documents": {}, "spans": {}}
    data_files: dict[str, dict[str, str]] = {"documents": {}, "spans": {}}
    for split in SPLITS:
        members = by_split[split]
        if not members:
            continue  # an empty split gets no file: load_dataset would choke on it
        for table, make_rows in (("documents", document_rows), ("spans", span_rows)):
            rel = f"{table}/{split}-00000-of-00001.parquet"
            rows[table][split], nbytes[table][split] = write_parquet(make_rows(members), table, root / rel)
            data_files[table][split] = rel

    per_category = Counter(s.category for d in docs for s in d.spans)
    context = {
        "version": version,
        "documents": docs,
        "by_split": by_split,
        "rows": rows,
        "num_bytes": nbytes,
        "data_files": data_files,
        "spans_per_category": per_category,
        "inputs": inputs,
        "file_bytes": {rel: (root / rel).stat().st_size for t in data_files.values() for rel in t.values()},
        **extras,
    }
    chart = root / CHART_PATH
    chart.parent.mkdir(parents=True, exist_ok=True)
    chart.write_bytes(content_chart_png(docs))
    context["chart_path"] = CHART_PATH
    (root / "README.md").write_text(card(context), encoding="utf-8")
    manifest = {
        "name": "chhanni",
        "version": version,
        "schema_version": SCHEMA_VERSION,
        "label_set_hash": label_set_hash(),
        "model_versions": sorted({d.model_version for d in docs if d.model_version}),
        "label_sources": dict(sorted(Counter(d.label_source for d in docs).items())),
        "inputs": inputs,
        "rows": rows,
        "files": {
            rel: {"sha256": file_sha256(root / rel), "bytes": (root / rel).stat().st_size}
            for rel in sorted(_relative_files(root))
        },
        "package_versions": _package_versions(),
        "provenance": provenance,
    }
    (root / "manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    return ReleaseResult(root, version, "created", rows, per_category)


def _relative_files(root: Path) -> list[str]:
    return [
        p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file() and p.name != "manifest.json"
    ]


def read_manifest(release: Path) -> dict:
    return json.loads((release / "manifest.json").read_text(encoding="utf-8"))


def same_release(a: Path, b: Path) -> bool:
    """Same files and bytes, manifests equal apart from provenance (commit, command)."""
    files_a, files_b = sorted(_all_files(a)), sorted(_all_files(b))
    if files_a != files_b:
        return False
    if any((a / f).read_bytes() != (b / f).read_bytes() for f in files_a if f != "manifest.json"):
        return False
    strip = lambda m: {k: v for k, v in m.items() if k != "provenance"}  # noqa: E731
    return strip(read_manifest(a)) == strip(read_manifest(b))


def _all_files(root: Path) -> list[str]:
    return [p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()]


def _package_versions() -> dict[str, str]:
    from importlib.metadata import version

    return {name: version(name) for name in ("pyarrow", "datasets", "langdetect")}
