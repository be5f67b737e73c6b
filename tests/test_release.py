"""End-to-end: seeds → release → load_dataset, reproducibility and immutability."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from corpus.card import render_card
from corpus.document import Span
from corpus.ingest import read_documents
from corpus.labels import CATEGORY_NAMES, LABELS
from corpus.pipeline import build
from corpus.prelabel import prelabel_document
from corpus.release import ReleaseError, build_release, file_sha256, split_of
from corpus.validate import SchemaViolation

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"


def tree_bytes(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def release(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("releases")
    report = build(SEEDS, tmp_path_factory.mktemp("no-annotations"), out, "0.1.0")
    assert report.release is not None and report.release.status == "created"
    return report.release.path


def test_release_layout_and_manifest(release: Path):
    manifest = json.loads((release / "manifest.json").read_text(encoding="utf-8"))
    files = {p.relative_to(release).as_posix() for p in release.rglob("*") if p.is_file()}
    assert files - {"manifest.json"} == set(manifest["files"])
    for rel, meta in manifest["files"].items():
        assert file_sha256(release / rel) == meta["sha256"]
        assert (release / rel).stat().st_size == meta["bytes"]
    assert sum(manifest["rows"]["documents"].values()) == 5
    assert [i["file"] for i in manifest["inputs"]["seeds"]] == sorted(p.name for p in SEEDS.glob("*.txt"))
    for table, splits in manifest["rows"].items():
        for split, n in splits.items():
            assert pq.read_metadata(release / f"{table}/{split}-00000-of-00001.parquet").num_rows == n
    recorded = {k: v for k, v in manifest.items() if k != "provenance"}  # provenance: paths as given
    text = json.dumps(recorded) + (release / "README.md").read_text(encoding="utf-8")
    assert "/tmp" not in text and str(ROOT) not in text, "no absolute paths in a release"
    assert manifest["provenance"]["seeds"] == "seeds", "inputs inside the repo are recorded repo-relative"


def test_load_dataset_in_fresh_python(release: Path):
    """The user's first step: a fresh interpreter opens both configs with ClassLabel features."""
    script = f"""
import json, sys
from datasets import ClassLabel, load_dataset
docs = load_dataset({str(release)!r}, "documents")
spans = load_dataset({str(release)!r}, "spans")
f = docs["train"].features["spans"].feature
assert isinstance(f["label"], ClassLabel) and isinstance(f["category"], ClassLabel)
assert isinstance(spans["train"].features["category"], ClassLabel)
print(json.dumps({{
  "docs": {{k: v.num_rows for k, v in docs.items()}},
  "spans": {{k: v.num_rows for k, v in spans.items()}},
  "labels": f["label"].names, "categories": f["category"].names,
  "first": spans["train"][0],
}}, ensure_ascii=False))
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    manifest = json.loads((release / "manifest.json").read_text(encoding="utf-8"))
    assert result["docs"] == manifest["rows"]["documents"]
    assert result["spans"] == manifest["rows"]["spans"]
    assert result["labels"] == list(LABELS) and result["categories"] == list(CATEGORY_NAMES)
    first = result["first"]
    doc_text = next(d.text for d in read_documents(SEEDS) if d.doc_id == first["doc_id"])
    assert doc_text[first["start"] : first["end"]] == first["text"]


def test_build_twice_is_byte_identical(tmp_path: Path):
    a = build(SEEDS, tmp_path / "ann", tmp_path / "a", "0.1.0").release.path
    b = build(SEEDS, tmp_path / "ann", tmp_path / "b", "0.1.0").release.path
    assert tree_bytes(a) == tree_bytes(b)
    again = build(SEEDS, tmp_path / "ann", tmp_path / "a", "0.1.0").release
    assert again.status == "unchanged"


def test_existing_release_is_never_overwritten(tmp_path: Path):
    first = build(SEEDS, tmp_path / "ann", tmp_path / "rel", "0.1.0").release.path
    before = tree_bytes(first)
    seeds = tmp_path / "seeds"
    shutil.copytree(SEEDS, seeds)
    (seeds / "004_434d41ac7619c315.txt").unlink()
    with pytest.raises(ReleaseError, match="already exists with different content"):
        build(seeds, tmp_path / "ann", tmp_path / "rel", "0.1.0")
    assert tree_bytes(first) == before
    assert [p.name for p in (tmp_path / "rel").iterdir()] == ["v0.1.0"], "no temp folder left behind"


def test_split_is_deterministic_and_card_explains_empty_splits(tmp_path: Path):
    assert split_of("abc") == split_of("abc")
    assert {split_of(f"doc-{i}") for i in range(200)} == {"train", "validation", "test"}
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    train_only = [p for p in SEEDS.glob("*.txt") if split_of(p.stem) == "train"]
    for p in train_only:
        shutil.copy(p, seeds / p.name)
    path = build(seeds, tmp_path / "ann", tmp_path / "rel", "0.1.0").release.path
    assert sorted(p.name for p in (path / "documents").iterdir()) == ["train-00000-of-00001.parquet"]
    card = (path / "README.md").read_text(encoding="utf-8")
    assert "validation, test would be empty" in card
    assert "split: validation" not in card


def test_invalid_spans_are_rejected_naming_document_and_rule(tmp_path: Path):
    doc = prelabel_document(next(d for d in read_documents(SEEDS) if d.doc_id.startswith("001")))
    spans = list(doc.spans)
    spans[1] = Span(spans[1].start - 3, spans[1].end, spans[1].category)  # overlaps span 0
    bad = doc.with_spans(spans)
    with pytest.raises(SchemaViolation) as info:
        build_release([bad], tmp_path, "0.1.0", {}, render_card)
    assert any(
        line.startswith(f"{doc.doc_id} span 1:") and "do not overlap" in line for line in info.value.lines
    ), info.value.lines
    assert not any(tmp_path.iterdir()), "nothing written on a schema failure"
