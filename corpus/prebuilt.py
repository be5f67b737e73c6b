"""Tables ``pip install`` builds once and every start loads instead of building them again:
language id's n-gram tables (``corpus.langid``, ~45 ms to build) and the character flags of
the Unicode blocks news text is written in (``corpus.segment``, ~2–3 ms a block).

Each file holds the key of what its table was built from (source files, data files, the
Python and its Unicode database); a missing, unreadable or stale file is ignored and the
table is built as before, so a stale file costs time, never a wrong answer.
"""

from __future__ import annotations

import hashlib
import os
import pickle
from pathlib import Path


def load(path: str | Path, key: object) -> object | None:
    """The table saved at ``path`` if it was built from ``key``, else None."""
    try:
        with open(path, "rb") as handle:
            saved = pickle.load(handle)
        if saved["key"] == key:
            return saved["state"]
    except Exception:  # noqa: BLE001 — unreadable or stale: the caller builds the table
        pass
    return None


def save(path: str | Path, key: object, state: object) -> None:
    """Save ``state``, built from ``key``, at ``path`` atomically (a temp file, then a rename)."""
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "wb") as handle:
        pickle.dump({"key": key, "state": state}, handle, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(tmp, path)


def source_digest(*files: str | Path) -> str:
    """The sha256 of the files' contents, in order: a table's key names the code it came from."""
    digest = hashlib.sha256()
    for file in files:
        digest.update(Path(file).read_bytes())
    return digest.hexdigest()
