"""Rebuild a committed release from its recorded inputs and check the bytes match."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from corpus.ingest import sha256_hex
from corpus.release import ReleaseError, read_manifest


def source_commit(folder: Path) -> dict:
    """The git commit the inputs come from (None outside a git checkout) and whether it was dirty."""
    try:
        head = subprocess.run(
            ["git", "-C", str(folder), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(folder), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return {"source_commit": None, "source_dirty": None}
    return {"source_commit": head, "source_dirty": bool(dirty)}


def _recover(candidates: list[Path], commit: str | None, repo_path: str, sha256: str) -> bytes | None:
    for path in candidates:
        if path.is_file():
            data = path.read_bytes()
            if sha256_hex(data) == sha256:
                return data
    if commit:
        shown = subprocess.run(["git", "show", f"{commit}:{repo_path}"], capture_output=True, check=False)
        if shown.returncode == 0 and sha256_hex(shown.stdout) == sha256:
            return shown.stdout
    return None


def materialise_inputs(release: Path, repo: Path, into: Path) -> tuple[Path, Path]:
    """Copy exactly the recorded input files (verified by sha256) into ``into``/{seeds,annotation}."""
    manifest = read_manifest(release)
    provenance = manifest.get("provenance", {})
    commit = provenance.get("source_commit")
    dirs = {
        "seeds": provenance.get("seeds", "seeds"),
        "annotations": provenance.get("annotations", "annotation"),
    }
    out = {"seeds": into / "seeds", "annotations": into / "annotation"}
    for kind, entries in manifest["inputs"].items():
        out[kind].mkdir(parents=True, exist_ok=True)
        for entry in entries:
            rel = f"{dirs[kind]}/{entry['file']}"
            data = _recover([repo / rel], commit, rel, entry["sha256"])
            if data is None:
                raise ReleaseError(
                    f"{rel}: recorded input of {release.name} not found with sha256 {entry['sha256'][:12]}… "
                    "(neither in the work tree nor at the recorded commit)"
                )
            target = out[kind] / entry["file"]
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
    return out["seeds"], out["annotations"]


def rebuild_release(release: Path, output: Path, repo: Path) -> tuple[Path, list[str]]:
    """Rebuild ``release`` into ``output``; returns the new folder and the files that differ."""
    from corpus.pipeline import build

    manifest = read_manifest(release)
    with tempfile.TemporaryDirectory(prefix="chhanni-rebuild-") as tmp:
        seeds, annotations = materialise_inputs(release, repo, Path(tmp))
        report = build(
            seeds, annotations, output, manifest["version"], provenance=manifest.get("provenance", {})
        )
    rebuilt = report.release.path
    names = sorted(
        {
            p.relative_to(root).as_posix()
            for root in (release, rebuilt)
            for p in root.rglob("*")
            if p.is_file()
        }
    )
    differ = [
        n
        for n in names
        if not (release / n).is_file()
        or not (rebuilt / n).is_file()
        or (release / n).read_bytes() != (rebuilt / n).read_bytes()
    ]
    return rebuilt, differ
