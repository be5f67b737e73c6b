"""Publish a release folder to the Hugging Face Hub as a dataset repo (verify first, then upload)."""

from __future__ import annotations

import os
from pathlib import Path

from corpus.release import read_manifest


class PublishError(RuntimeError):
    pass


def upload_plan(release: Path, repo_id: str) -> dict:
    """What would be uploaded: exactly the release folder, which is a complete dataset repo."""
    manifest = read_manifest(release)
    files = sorted(p.relative_to(release).as_posix() for p in release.rglob("*") if p.is_file())
    return {
        "repo_id": repo_id,
        "repo_type": "dataset",
        "revision": "main",
        "commit_message": f"Chhanni v{manifest['version']}",
        "tag": f"v{manifest['version']}",
        "files": files,
    }


def find_token() -> str | None:
    token = os.environ.get("HF_TOKEN") or os.environ.get("HUGGING_FACE_HUB_TOKEN")
    if token:
        return token
    try:
        from huggingface_hub import get_token

        return get_token()
    except Exception:
        return None


def publish(release: Path, repo_id: str, token: str, api=None) -> dict:
    """Create the dataset repo if needed, upload the folder in one commit and tag the version."""
    from huggingface_hub import HfApi

    plan = upload_plan(release, repo_id)
    api = api or HfApi(token=token)
    api.create_repo(repo_id, repo_type="dataset", exist_ok=True, private=False)
    api.upload_folder(
        folder_path=str(release),
        repo_id=repo_id,
        repo_type="dataset",
        commit_message=plan["commit_message"],
    )
    api.create_tag(repo_id, tag=plan["tag"], repo_type="dataset", exist_ok=True)
    return plan
