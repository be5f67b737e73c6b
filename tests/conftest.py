"""Shared fixtures: one real Label Studio server for the whole session.

The server runs from ``corpus.labelstudio.server`` exactly as annotators run it: installed into
its own venv when missing (so these tests never skip on a fresh machine), bound to a free
loopback port, with a temporary data dir. The first start of an empty data dir spends ~30-50 s
on database migrations, so a migrated, user-less data dir is kept as a template under
``.labelstudio/`` (git-ignored) and copied for later sessions (a start then takes seconds).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"


@dataclass
class LiveLabelStudio:
    """The session's server, its admin, and helpers to act as API client or as annotators."""

    server: object  # corpus.labelstudio.server.LabelStudioServer
    admin: object  # corpus.labelstudio.server.AdminAccount
    exe: Path
    template: Path | None
    _annotators: dict[str, tuple[str, object]] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.server.url

    def credentials(self, **override):
        from corpus.labelstudio.credentials import Credentials

        values = {
            "url": self.url,
            "api_key": self.admin.token,
            "username": self.admin.email,
            "password": self.admin.password,
        }
        return Credentials(**{**values, **override})

    def client(self, **override):
        from corpus.labelstudio.client import Client

        return Client(self.credentials(**override), attempts=2, backoff=0.1)

    def admin_session(self):
        from corpus.labelstudio.client import WebSession

        return WebSession(self.url).login(self.admin.email, self.admin.password)

    def annotator(self, name: str):
        """``(email, password, logged-in WebSession)`` for an annotator, signed up on first use."""
        from corpus.labelstudio.client import WebSession

        if name not in self._annotators:
            email, password = f"{name}@chhanni.test", f"pw-{name}-{os.getpid()}-x9"
            session = WebSession(self.url).signup(email, password)
            self._annotators[name] = (password, session)
        password, session = self._annotators[name]
        return f"{name}@chhanni.test", password, session

    def copy_data_dir(self, target: Path) -> Path:
        """A consistent copy of the live server's data (sqlite backup API), for a second server."""
        target.mkdir(parents=True)
        shutil.copy2(self.server.data_dir / ".env", target / ".env")
        with sqlite3.connect(self.server.data_dir / "label_studio.sqlite3") as src:
            with sqlite3.connect(target / "label_studio.sqlite3") as dst:
                src.backup(dst)
        return target


def _template_dir(exe: Path) -> Path:
    from corpus.labelstudio.server import LABEL_STUDIO_VERSION, home_dir

    key = hashlib.sha256(str(exe.resolve()).encode()).hexdigest()[:12]
    return home_dir() / f"test-template-{LABEL_STUDIO_VERSION}-{key}"


def migrated_template(exe: Path, scratch: Path) -> Path | None:
    """A migrated data dir without users (made once: start, wait for health, stop).

    Label Studio migrates on every start, so a template left by an older install is brought up
    to date when used; it only saves time and is never required.
    """
    from corpus.labelstudio.server import ServerError, start_server

    template = _template_dir(exe)
    if (template / "label_studio.sqlite3").exists():
        return template
    building = scratch / "template"
    try:
        start_server(building, exe=exe, timeout=300).stop()
    except ServerError as error:
        print(f"no Label Studio template ({error})", file=sys.stderr)
        return None
    (building / "label-studio.log").unlink(missing_ok=True)
    template.parent.mkdir(parents=True, exist_ok=True)
    staging = template.with_name(template.name + f".tmp-{os.getpid()}")
    shutil.copytree(building, staging)
    try:
        os.replace(staging, template)
    except OSError:  # another session won the race
        shutil.rmtree(staging, ignore_errors=True)
    return template


@pytest.fixture(scope="session")
def label_studio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveLabelStudio]:
    """A real Label Studio on a free 127.0.0.1 port, with an admin holding a legacy API token."""
    from corpus.labelstudio.server import AdminAccount, ensure_label_studio, start_server

    exe = ensure_label_studio(log=lambda msg: print(msg, file=sys.stderr))
    base = tmp_path_factory.mktemp("label-studio")
    template = migrated_template(exe, base)
    data_dir = base / "data"
    if template is not None:
        shutil.copytree(template, data_dir)
    admin = AdminAccount.generate("admin@chhanni.test")
    server = start_server(data_dir, admin=admin, exe=exe, timeout=300)
    try:
        yield LiveLabelStudio(server, admin, exe, template)
    finally:
        server.stop()


@pytest.fixture(scope="session")
def seed_documents() -> list:
    """The five seeds, pre-labelled, as the push command sees them."""
    from corpus.ingest import read_documents
    from corpus.prelabel import prelabel_document

    return [prelabel_document(d) for d in read_documents(ROOT / "seeds", display_root=ROOT / "seeds")]


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


def read_until_ready(process, timeout: float, marker: str = "stop with Ctrl-C") -> str:
    """A long-running CLI's output, line by line, up to the line that says it is ready."""
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        if marker in line:
            break
    return "".join(lines)
