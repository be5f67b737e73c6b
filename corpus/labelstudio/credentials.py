"""Where the Label Studio URL and credentials come from: environment, else a config file outside the repo.

Environment: ``LABEL_STUDIO_URL``, ``LABEL_STUDIO_API_KEY``, ``LABEL_STUDIO_USERNAME``,
``LABEL_STUDIO_PASSWORD``. File: ``$CHHANNI_LS_CONFIG`` or ``~/.config/chhanni/labelstudio.toml``
with ``url``, ``api_key``, ``username``, ``password`` keys. Secrets never reach the repository,
a release or a log: every message that might contain one goes through ``mask``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from corpus.staging import staging_path

DEFAULT_URL = "http://127.0.0.1:8080"
KEYS = ("url", "api_key", "username", "password")
ENV_NAMES = {
    "url": "LABEL_STUDIO_URL",
    "api_key": "LABEL_STUDIO_API_KEY",
    "username": "LABEL_STUDIO_USERNAME",
    "password": "LABEL_STUDIO_PASSWORD",
}
_LINE = re.compile(r'^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*(?:#.*)?$')


class CredentialsError(ValueError):
    """A one-line message about the credentials (never containing a secret)."""


@dataclass(frozen=True)
class Credentials:
    url: str = DEFAULT_URL
    api_key: str | None = field(default=None, repr=False)
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    config_file: Path | None = None  # where file values came from, for messages

    @property
    def secrets(self) -> tuple[str, ...]:
        return tuple(s for s in (self.api_key, self.password) if s)


def config_path(env: Mapping[str, str] = os.environ) -> Path:
    """The chhanni Label Studio config file (it need not exist)."""
    if env.get("CHHANNI_LS_CONFIG"):
        return Path(env["CHHANNI_LS_CONFIG"]).expanduser()
    base = Path(env["XDG_CONFIG_HOME"]) if env.get("XDG_CONFIG_HOME") else Path.home() / ".config"
    return base / "chhanni" / "labelstudio.toml"


def read_config(path: Path) -> dict[str, str]:
    """``key = "value"`` lines (a TOML subset, so no TOML parser is needed on Python 3.10)."""
    values: dict[str, str] = {}
    if not path.exists():
        return values
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith(("#", "[")):
            continue
        match = _LINE.match(line)
        if not match:
            raise CredentialsError(f'{path}:{lineno}: expected key = "value"')
        values[match.group(1)] = re.sub(r"\\(.)", r"\1", match.group(2))
    return values


def write_config(path: Path, values: Mapping[str, str]) -> None:
    """Write the config file readable by its owner only (it holds a password and an API key)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["# Label Studio access for `corpus annotate` (written by chhanni; keep it private)."]
    for key in KEYS:
        if values.get(key):
            escaped = values[key].replace("\\", "\\\\").replace('"', '\\"')
            lines.append(f'{key} = "{escaped}"')
    tmp = staging_path(path.parent, f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
    os.replace(tmp, path)


def load_credentials(env: Mapping[str, str] = os.environ, url: str | None = None) -> Credentials:
    """Environment first, then the config file; ``url`` (a command-line option) beats both."""
    path = config_path(env)
    from_file = read_config(path)
    values = {key: env.get(ENV_NAMES[key]) or from_file.get(key) for key in KEYS}
    if url:
        values["url"] = url
    return Credentials(
        url=(values["url"] or DEFAULT_URL).rstrip("/"),
        api_key=values["api_key"],
        username=values["username"],
        password=values["password"],
        config_file=path if from_file else None,
    )


def mask(text: str, secrets: tuple[str, ...] | list[str]) -> str:
    """``text`` with every secret replaced by ``***`` (for error messages and logs)."""
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, "***")
    return text
