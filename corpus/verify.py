"""Verify a release: files against the manifest, tables against the schema, load_dataset on every split."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd

from corpus.release import decoded_rows, file_sha256, read_manifest, read_release_tables
from corpus.schema import TABLES
from corpus.validate import SchemaViolation, validate_tables


class VerificationError(RuntimeError):
    """The first broken thing in a release, named."""


def verify_release(release: Path, load: bool = True) -> list[str]:
    """Raise ``VerificationError`` naming the first broken file; return the checks that passed."""
    passed: list[str] = []
    manifest_path = release / "manifest.json"
    if not manifest_path.exists():
        raise VerificationError(f"{manifest_path}: missing")
    try:
        manifest = read_manifest(release)
    except ValueError as error:
        raise VerificationError(f"{manifest_path}: not valid JSON ({error})") from None
    listed = manifest.get("files", {})
    for rel, meta in sorted(listed.items()):
        path = release / rel
        if not path.exists():
            raise VerificationError(f"{path}: listed in manifest.json but missing")
        if path.stat().st_size != meta["bytes"] or file_sha256(path) != meta["sha256"]:
            raise VerificationError(f"{path}: sha256 does not match manifest.json (corrupted or edited)")
    extra = sorted(
        p.relative_to(release).as_posix()
        for p in release.rglob("*")
        if p.is_file() and p.name != "manifest.json" and p.relative_to(release).as_posix() not in listed
    )
    if extra:
        raise VerificationError(f"{release / extra[0]}: not listed in manifest.json")
    passed.append(f"{len(listed)} files match manifest.json checksums")

    try:
        tables = read_release_tables(release)
        frames = {
            name: pd.DataFrame(
                [row for t in splits.values() for row in decoded_rows(t)],
                columns=[c.name for c in TABLES[name]],
            )
            for name, splits in tables.items()
        }
        validate_tables(frames["documents"], frames["spans"])
    except SchemaViolation as error:
        raise VerificationError(f"{release}: schema: {error.lines[0]}") from None
    except Exception as error:  # unreadable Parquet and the like
        raise VerificationError(f"{release}: cannot read tables ({error})") from None
    for name, splits in manifest["rows"].items():
        for split, n in splits.items():
            if tables[name][split].num_rows != n:
                raise VerificationError(
                    f"{release}/{name}/{split}: {tables[name][split].num_rows} rows, manifest says {n}"
                )
    passed.append("documents and spans pass the pandera schema (row and cross checks)")

    if load:
        _check_load_dataset(release, manifest)
        configs = ", ".join(f"{t}[{'/'.join(s)}]" for t, s in manifest["rows"].items())
        passed.append(f"load_dataset opens {configs}")
    return passed


def _check_load_dataset(release: Path, manifest: dict) -> None:
    import datasets

    datasets.disable_progress_bars()
    with tempfile.TemporaryDirectory(prefix="chhanni-verify-") as cache:
        for config, splits in manifest["rows"].items():
            try:
                loaded = datasets.load_dataset(str(release), config, cache_dir=cache)
            except Exception as error:
                raise VerificationError(f"{release}: load_dataset(..., {config!r}) fails: {error}") from None
            for split, n in splits.items():
                if split not in loaded or loaded[split].num_rows != n:
                    raise VerificationError(
                        f"{release}: load_dataset {config}/{split} does not give {n} rows"
                    )
