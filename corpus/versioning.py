"""Release versions: the semantic-versioning policy and the changelog.

Policy: **major** when the schema or the label set changes; **minor** when documents or labels
are added or changed; **patch** when only the card or metadata changes.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from corpus.release import ReleaseError, decoded_rows, parse_version, read_manifest, read_release_tables

BUMPS = ("patch", "minor", "major")


def next_version(latest: str | None, bump: str) -> str:
    if latest is None:
        return "0.1.0"
    major, minor, patch = parse_version(latest)
    if bump == "major":
        return f"{major + 1}.0.0"
    if bump == "minor":
        return f"{major}.{minor + 1}.0"
    if bump == "patch":
        return f"{major}.{minor}.{patch + 1}"
    raise ReleaseError(f"unknown bump {bump!r} (choose {', '.join(BUMPS)})")


def required_bump(old: Path, new: Path) -> str:
    """The smallest bump the policy allows between two release folders."""
    a, b = read_manifest(old), read_manifest(new)
    if a["schema_version"] != b["schema_version"] or a["label_set_hash"] != b["label_set_hash"]:
        return "major"
    data = lambda m: {k: v["sha256"] for k, v in m["files"].items() if k.endswith(".parquet")}  # noqa: E731
    if data(a) != data(b):
        return "minor"
    return "patch"


def check_bump(previous: Path, bump: str):
    """A ``before_publish`` hook refusing a bump smaller than the policy requires."""

    def check(candidate: Path) -> None:
        needed = required_bump(previous, candidate)
        if BUMPS.index(bump) < BUMPS.index(needed):
            what = "the schema or label set" if needed == "major" else "documents or labels"
            raise ReleaseError(
                f"--bump {bump} is too small: against {previous.name} this release changes {what}; "
                f"use --bump {needed}"
            )

    return check


def changelog_entry(previous: Path | None, new: Path, today: str) -> str:
    """A Markdown entry: counts, label changes and label sources since the previous release."""
    manifest = read_manifest(new)
    spans = _span_counts(new)
    docs = sum(manifest["rows"]["documents"].values())
    lines = [f"## v{manifest['version']} — {today}", ""]
    if previous is None:
        lines.append(f"- First release: {docs} documents, {sum(spans.values())} spans.")
    else:
        from corpus.diff import diff_releases

        delta = diff_releases(previous, new)
        s = delta["summary"]
        lines.append(
            f"- Since {previous.name}: documents {docs} ({s['documents_added']:+d} added, "
            f"{s['documents_removed']} removed, {s['documents_changed']} text changed); "
            f"{s['spans_changed']} documents with changed spans."
        )
        moves = ", ".join(f"{k} {v:+d}" for k, v in sorted(delta["span_count_delta"].items()) if v)
        lines.append(f"- Span count changes per category: {moves or 'none'}.")
    sources = manifest.get("label_sources", {})
    lines.append(
        "- Label sources: " + ", ".join(f"{k} {v}" for k, v in sorted(sources.items())) + " documents."
    )
    lines.append(
        "- Spans per label: " + ", ".join(f"{k} {v}" for k, v in sorted(_label_counts(new).items())) + "."
    )
    command = manifest.get("provenance", {}).get("command")
    if command:
        lines.append(f"- Built with `{command}`.")
    return "\n".join(lines) + "\n"


def append_changelog(releases_dir: Path, entry: str) -> Path:
    path = releases_dir / "CHANGELOG.md"
    head = "# Changelog\n\nOne entry per release, newest last; written by `corpus build`.\n\n"
    current = path.read_text(encoding="utf-8") if path.exists() else head
    path.write_text(current.rstrip("\n") + "\n\n" + entry, encoding="utf-8")
    return path


def _span_counts(release: Path) -> Counter:
    return Counter(
        row["category"] for t in read_release_tables(release)["spans"].values() for row in decoded_rows(t)
    )


def _label_counts(release: Path) -> Counter:
    return Counter(
        row["label"] for t in read_release_tables(release)["spans"].values() for row in decoded_rows(t)
    )
