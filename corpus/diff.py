"""Diff two releases: documents added/removed/changed, spans whose label or boundaries moved."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from corpus.release import decoded_rows, read_release_tables


def _documents(release: Path) -> dict[str, dict]:
    return {
        row["doc_id"]: row
        for table in read_release_tables(release)["documents"].values()
        for row in decoded_rows(table)
    }


def _span_key(span: dict) -> tuple[int, int, str]:
    return span["start"], span["end"], span["category"]


def diff_releases(old: Path, new: Path) -> dict:
    """A JSON-ready description of what changed from ``old`` to ``new``."""
    a, b = _documents(old), _documents(new)
    added = sorted(set(b) - set(a))
    removed = sorted(set(a) - set(b))
    text_changed = sorted(d for d in set(a) & set(b) if a[d]["text_sha256"] != b[d]["text_sha256"])
    span_changes = []
    for doc_id in sorted(set(a) & set(b)):
        if doc_id in text_changed:
            continue
        old_spans = {_span_key(s): s for s in a[doc_id]["spans"]}
        new_spans = {_span_key(s): s for s in b[doc_id]["spans"]}
        gone = [old_spans[k] for k in sorted(set(old_spans) - set(new_spans))]
        came = [new_spans[k] for k in sorted(set(new_spans) - set(old_spans))]
        if gone or came:
            text = b[doc_id]["text"]
            span_changes.append(
                {
                    "doc_id": doc_id,
                    "label_source": [a[doc_id]["label_source"], b[doc_id]["label_source"]],
                    "removed": [_describe(s, text) for s in gone],
                    "added": [_describe(s, text) for s in came],
                }
            )
    count = lambda docs: Counter(s["category"] for d in docs.values() for s in d["spans"])  # noqa: E731
    label_count = lambda docs: Counter(s["label"] for d in docs.values() for s in d["spans"])  # noqa: E731
    before, after = count(a), count(b)
    before_l, after_l = label_count(a), label_count(b)
    return {
        "old": old.name,
        "new": new.name,
        "summary": {
            "documents_added": len(added),
            "documents_removed": len(removed),
            "documents_changed": len(text_changed),
            "spans_changed": len(span_changes),
        },
        "documents_added": added,
        "documents_removed": removed,
        "documents_changed": text_changed,
        "span_changes": span_changes,
        "span_count_delta": {k: after[k] - before[k] for k in sorted(set(before) | set(after))},
        "label_count_delta": {k: after_l[k] - before_l[k] for k in sorted(set(before_l) | set(after_l))},
    }


def _describe(span: dict, text: str) -> dict:
    return {
        "start": span["start"],
        "end": span["end"],
        "label": span["label"],
        "category": span["category"],
        "text": text[span["start"] : span["end"]][:40],
    }
