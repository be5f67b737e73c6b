"""A local Label Studio for annotators and tests: install it into its own venv, start it, stop it.

Label Studio pins many packages, so it lives in ``<repo>/.labelstudio/venv`` (git-ignored), never
in the project's environment; ``CHHANNI_LABEL_STUDIO`` may point at an existing executable.
Facts about 1.23.2 this module relies on: the server binds ``--internal-host`` (default
``0.0.0.0``), silently moves to port+1 when the port is busy, calls the internet at import time
unless told not to, and reads the first admin (and whether legacy API tokens work) from the
environment when the organization is first created.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import requests

LABEL_STUDIO_VERSION = "1.23.2"
EXECUTABLE_ENV = "CHHANNI_LABEL_STUDIO"
# No update check, crash reporting or analytics: a local server must not call the internet.
QUIET_ENV = {
    "LATEST_VERSION_CHECK": "false",
    "SENTRY_DSN": "",
    "FRONTEND_SENTRY_DSN": "",
    "COLLECT_ANALYTICS": "false",
}
# Label Studio reads these under three prefixes; an unrelated $USERNAME must not create an admin.
_ADMIN_VARS = ("USERNAME", "PASSWORD", "USER_TOKEN")
_COMPLETE_MARKER = ".chhanni-install-complete"


class ServerError(RuntimeError):
    """A one-line message about installing or running the local server."""


def repo_root() -> Path:
    return Path(__file__).resolve().parents[2]


def home_dir() -> Path:
    """``<repo>/.labelstudio``: the venv, the default data dir and the server log."""
    return repo_root() / ".labelstudio"


def default_data_dir() -> Path:
    return home_dir() / "data"


def label_studio_executable(env: Mapping[str, str] = os.environ) -> Path:
    if env.get(EXECUTABLE_ENV):
        return Path(env[EXECUTABLE_ENV]).expanduser()
    return home_dir() / "venv" / "bin" / "label-studio"


def ensure_label_studio(
    log: Callable[[str], None] = lambda _msg: None, env: Mapping[str, str] = os.environ
) -> Path:
    """The ``label-studio`` executable, installing Label Studio into its own venv when missing.

    The install takes minutes; it is marked complete only at the end, so an interrupted one is
    redone instead of half-used.
    """
    exe = label_studio_executable(env)
    if env.get(EXECUTABLE_ENV):
        if not exe.exists():
            raise ServerError(f"{exe}: {EXECUTABLE_ENV} points to no Label Studio executable")
        return exe
    venv = exe.parent.parent
    if exe.exists() and (venv / _COMPLETE_MARKER).exists():
        return exe
    home_dir().mkdir(parents=True, exist_ok=True)
    with (home_dir() / "install.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two test sessions on a fresh clone install once
        if not (exe.exists() and (venv / _COMPLETE_MARKER).exists()):
            _install(venv, exe, log)
    return exe


def _install(venv: Path, exe: Path, log: Callable[[str], None]) -> None:
    install_log = home_dir() / "install.log"
    log(f"installing label-studio=={LABEL_STUDIO_VERSION} into {venv} (a few minutes; log: {install_log})")
    if venv.exists():
        shutil.rmtree(venv)
    python = str(venv / "bin" / "python")
    steps = (
        [sys.executable, "-m", "venv", str(venv)],
        [python, "-m", "pip", "install", "--upgrade", "pip"],
        [python, "-m", "pip", "install", f"label-studio=={LABEL_STUDIO_VERSION}"],
    )
    with install_log.open("w", encoding="utf-8") as handle:
        for step in steps:
            handle.write(f"$ {' '.join(step)}\n")
            handle.flush()
            done = subprocess.run(step, stdout=handle, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
            if done.returncode != 0:
                raise ServerError(f"{install_log}: installing Label Studio failed ({' '.join(step[-2:])})")
    if not exe.exists():
        raise ServerError(f"{install_log}: installed, but {exe} is missing")
    (venv / _COMPLETE_MARKER).write_text(LABEL_STUDIO_VERSION + "\n", encoding="utf-8")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_is_free(port: int) -> bool:
    """Whether a server could listen on the port (as Django does: TIME_WAIT leftovers are fine)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


@dataclass(frozen=True)
class AdminAccount:
    """The first user of a fresh server; ``token`` becomes its legacy API token."""

    email: str
    password: str = field(repr=False)
    token: str = field(repr=False)

    @classmethod
    def generate(cls, email: str = "admin@chhanni.invalid") -> AdminAccount:
        return cls(email, secrets.token_urlsafe(18), secrets.token_hex(20))


def server_environment(
    data_dir: Path, admin: AdminAccount | None, base: Mapping[str, str] = os.environ
) -> dict[str, str]:
    """The environment for the server process: quiet, rooted in ``data_dir``, admin from us only."""
    drop = {f"{prefix}{name}" for prefix in ("", "LABEL_STUDIO_", "HEARTEX_") for name in _ADMIN_VARS}
    drop |= {"LABEL_STUDIO_API_KEY", "LABEL_STUDIO_URL"}
    env = {k: v for k, v in base.items() if k not in drop}
    env.update(QUIET_ENV)
    # The pre-labeler's ML backend (`corpus annotate ml-backend`) runs on 127.0.0.1, which Label
    # Studio refuses to call by default; this server is itself loopback-only. Overridable.
    env.setdefault("ML_BLOCK_LOCAL_IP", "false")
    env["LABEL_STUDIO_BASE_DATA_DIR"] = str(data_dir)  # else it also creates ~/.local/share/label-studio
    if admin is not None:
        env.update(
            {
                "LABEL_STUDIO_USERNAME": admin.email,
                "LABEL_STUDIO_PASSWORD": admin.password,
                "LABEL_STUDIO_USER_TOKEN": admin.token,
                "LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN": "true",
            }
        )
    return env


def server_command(exe: Path, data_dir: Path, port: int, legacy_tokens: bool) -> list[str]:
    command = [str(exe), "start", "--no-browser", "--internal-host", "127.0.0.1", "--port", str(port)]
    command += ["--data-dir", str(data_dir)]
    return command + (["--enable-legacy-api-token"] if legacy_tokens else [])


def _child_setup() -> Callable[[], None]:
    """What the server process runs before ``exec``: its own session (a terminal's Ctrl-C reaches
    only us, and we stop it in order) and, on Linux, a SIGTERM when its parent dies, so a killed
    test run or CLI never leaves a server behind. libc is looked up here, in the parent: after a
    fork in a threaded process the child should only make the plain calls."""
    prctl = None
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            prctl = ctypes.CDLL(None, use_errno=True).prctl

    def setup() -> None:
        os.setsid()
        if prctl is not None:
            prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG

    return setup


def is_initialised(data_dir: Path) -> bool:
    return (data_dir / "label_studio.sqlite3").exists()


@dataclass
class LabelStudioServer:
    """A running server started by ``start_server``; stop it with ``stop()`` (or use ``with``)."""

    url: str
    port: int
    data_dir: Path
    log_path: Path
    process: subprocess.Popen = field(repr=False)
    log_offset: int = 0  # where this run's output starts in an appended log

    @property
    def pid(self) -> int:
        return self.process.pid

    def log_text(self) -> str:
        """This run's part of the server log."""
        with self.log_path.open("rb") as handle:
            handle.seek(self.log_offset)
            return handle.read().decode("utf-8", errors="replace")

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self, timeout: float = 20.0) -> None:
        """SIGTERM the server's process group (Django's autoreloader has children), then SIGKILL."""
        if self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout)

    def __enter__(self) -> LabelStudioServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_server(
    data_dir: Path,
    port: int | None = None,
    admin: AdminAccount | None = None,
    exe: Path | None = None,
    log_path: Path | None = None,
    timeout: float = 240.0,
) -> LabelStudioServer:
    """Start Label Studio on ``127.0.0.1:port`` (a free one by default) and wait until it is healthy.

    ``admin`` creates the first user with a legacy API token when the data dir is fresh (on an
    existing one the user already exists and nothing changes). Raises ``ServerError`` when the
    port is busy, the process dies, or it does not come up in ``timeout`` seconds (the first
    start runs the migrations: ~30-50 s).
    """
    exe = exe or ensure_label_studio()
    port = port or free_port()
    if not port_is_free(port):
        raise ServerError(f"http://127.0.0.1:{port}: port {port} is busy; pick another with --port")
    data_dir = data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_path or data_dir / "label-studio.log"
    url = f"http://127.0.0.1:{port}"
    log_offset = log_path.stat().st_size if log_path.exists() else 0
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            server_command(exe, data_dir, port, legacy_tokens=admin is not None),
            env=server_environment(data_dir, admin),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            preexec_fn=_child_setup(),
        )
    server = LabelStudioServer(url, port, data_dir, log_path, process, log_offset)
    try:
        wait_until_healthy(server, timeout)
    except BaseException:
        server.stop()
        raise
    return server


def wait_until_healthy(server: LabelStudioServer, timeout: float) -> None:
    """Poll ``/health`` until it answers, the process dies, or the time is up.

    The log must also say the server started on *our* port: Label Studio moves to port+1 on a
    busy port, and another service could answer ``/health`` on the one we asked for.
    """
    deadline = time.monotonic() + timeout
    banner = f"Starting development server at {server.url}/"
    while time.monotonic() < deadline:
        if not server.alive():
            raise ServerError(
                f"{server.url}: Label Studio exited (code {server.process.returncode}); see {server.log_path}"
            )
        if banner in server.log_text():
            with contextlib.suppress(requests.RequestException):
                response = requests.get(f"{server.url}/health", timeout=2)
                if response.ok and response.json().get("status") == "UP":
                    return
        time.sleep(0.5)
    raise ServerError(
        f"{server.url}: Label Studio did not become healthy in {timeout:.0f} s; see {server.log_path}"
    )
