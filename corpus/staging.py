"""Staging for atomic writes: a temporary name next to the target, renamed into place when done.

A staging name ends in ``-<host>-<pid>`` of the process writing it, so a later run can tell a
leftover of a killed run (its process is gone) from a build still running, here or on another
machine sharing the folder, and remove only the former. A release is never staged under a
name it keeps: sweeping never touches a published file.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path


def staging_path(folder: Path, prefix: str) -> Path:
    """``folder/<prefix>-<host>-<pid>`` for this process, after sweeping dead runs' leftovers."""
    sweep_stale(folder, prefix)
    return folder / f"{prefix}-{_host()}-{os.getpid()}"


def sweep_stale(folder: Path, prefix: str) -> list[Path]:
    """Remove ``<prefix>-<this host>-<pid>`` files or folders whose process no longer runs."""
    removed = []
    tag = f"{prefix}-{_host()}-"
    if not folder.is_dir():
        return removed
    with os.scandir(folder) as entries:  # (names only: no Path made for each entry of a big folder)
        stale = [entry.name for entry in entries if entry.name.startswith(tag)]
    for name in stale:
        pid = name.removeprefix(tag)
        if not pid.isdigit() or _running(int(pid)):
            continue
        path = folder / name
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
        removed.append(path)
    return removed


def _host() -> str:
    if hasattr(os, "uname"):  # (socket.gethostname() is uname's nodename; importing socket costs ~4 ms)
        name = os.uname().nodename
    else:
        import socket

        name = socket.gethostname()
    return "".join(ch if ch.isalnum() else "_" for ch in name) or "host"


def _running(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True
