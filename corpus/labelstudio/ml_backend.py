"""A Label Studio ML backend: the pre-labeler served over HTTP, so tasks get predictions live.

It speaks the label-studio-ml-backend protocol as Label Studio 1.23.2 uses it (``ml/api_connector.py``
and ``ml/models.py`` in its source), with the standard library only:

- ``GET /health`` (and ``GET /``) → ``{"status": "UP", "model_class": …}``: Label Studio checks it
  when the backend is added and before every prediction request;
- ``POST /setup`` (``{"project", "schema", …}``) → ``{"model_version": MODEL_VERSION}``: Label
  Studio stores the version and skips tasks that already hold a prediction of it (so tasks
  imported by ``corpus annotate push`` are never predicted twice);
- ``POST /predict`` (``{"tasks": [...], "project", "label_config", "params"}``) →
  ``{"results": [{"result", "score", "model_version"}, …]}``, one per task, in order;
- ``POST /webhook`` → ``{}`` (nothing to learn online: the model is trained with ``corpus train``);
- ``GET /versions`` → ``{"versions": [MODEL_VERSION]}`` (the project's model-version picker).

Label Studio asks for predictions when a task without predictions is opened in a project that
shows predictions (``GET /api/tasks/<id>/``), from the Data Manager's "Retrieve Predictions"
action, and in the labeling stream when the project's model version is this backend's title.

A task's regions come from ``corpus.prelabel.prelabel_text`` on the task's text exactly as Label
Studio holds it (offsets are code points into it) and are converted by ``corpus.labelstudio.push``,
the same conversion ``push`` uses. Each task is labelled on its own (no lines' repetition
across a corpus, which ``push`` uses), since a backend sees tasks one request at a time. The
language is the task's ``lang`` field when it has one, else detected; a task that is empty or
not in a supported language gets an empty result. A malformed request gets HTTP 400 with
``{"error": "<one line>"}``.
"""

from __future__ import annotations

import json
import sys
import threading
import xml.etree.ElementTree as ET
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from corpus.document import Document
from corpus.labels import CATEGORY_NAMES, LANGUAGES
from corpus.labelstudio.config import FROM_NAME, TO_NAME
from corpus.labelstudio.push import task_payload
from corpus.langid import LanguageError, detect_language
from corpus.prelabel import MODEL_VERSION, prelabel_text

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 9090  # label-studio-ml's default
MODEL_CLASS = "ChhanniPrelabeler"
MAX_BODY_BYTES = 256 * 1024 * 1024


class BadRequest(ValueError):
    """A request the backend cannot answer; the message is the one-line JSON error."""


def config_text_key(label_config: object) -> str:
    """The task data key holding the text, after checking the config fits our regions.

    Our regions are ``<Labels name="category">`` over ``<Text name="text">`` with our category
    names; any other labeling config cannot take them, which is a bad request (at ``/setup`` this
    makes Label Studio refuse to connect the backend, with the message).
    """
    if label_config in (None, ""):
        return TO_NAME
    if not isinstance(label_config, str):
        raise BadRequest("label_config is not a string")
    try:
        root = ET.fromstring(label_config)
    except ET.ParseError as error:
        raise BadRequest(f"label_config is not XML ({error})") from None
    labels = [e for e in root.iter("Labels") if e.get("name") == FROM_NAME]
    texts = [e for e in root.iter("Text") if e.get("name") == TO_NAME]
    if not labels or labels[0].get("toName") != TO_NAME or not texts:
        raise BadRequest(
            f'label_config has no <Labels name="{FROM_NAME}" toName="{TO_NAME}"> over '
            f'<Text name="{TO_NAME}">; use annotation/labeling_config.xml (`corpus annotate config`)'
        )
    offered = {e.get("value") for e in labels[0].iter("Label")}
    missing = [c for c in CATEGORY_NAMES if c not in offered]
    if missing:
        raise BadRequest(f"label_config lacks the label(s) {', '.join(missing)}; update it from the repo")
    value = texts[0].get("value") or f"${TO_NAME}"
    return value[1:] if value.startswith("$") else TO_NAME


def task_language(data: dict, text: str) -> str | None:
    """The task's ``lang`` when it names one, else the detected language; None when unsupported."""
    lang = data.get("lang")
    if isinstance(lang, str) and lang:
        return lang if lang in LANGUAGES else None
    try:
        return detect_language(text)[0]
    except LanguageError:
        return None


def empty_prediction() -> dict:
    return {"result": [], "score": None, "model_version": MODEL_VERSION}


def predict_task(task: object, text_key: str = TO_NAME) -> dict:
    """The prediction for one task (as serialised by Label Studio: ``{"id", "data", …}``)."""
    if not isinstance(task, dict) or not isinstance(task.get("data"), dict):
        raise BadRequest("every task must be an object with a 'data' object")
    data = task["data"]
    text = data.get(text_key)
    if not isinstance(text, str) or not text.strip():
        return empty_prediction()
    lang = task_language(data, text)
    if lang is None:
        return empty_prediction()
    doc = Document(
        doc_id=str(task.get("id", "")),
        text=text,
        source_file="",
        raw_sha256="",
        text_sha256="",
        lang=lang,
        spans=tuple(prelabel_text(text, lang)),
        model_version=MODEL_VERSION,
    )
    predictions = task_payload(doc).get("predictions")
    return predictions[0] if predictions else empty_prediction()


def predict(request: object) -> dict:
    """The ``/predict`` answer for a request body (raises ``BadRequest``)."""
    if not isinstance(request, dict):
        raise BadRequest("request body must be a JSON object")
    tasks = request.get("tasks")
    if not isinstance(tasks, list):
        raise BadRequest("'tasks' must be a list of tasks")
    text_key = config_text_key(request.get("label_config"))
    return {"results": [predict_task(task, text_key) for task in tasks], "model_version": MODEL_VERSION}


def setup(request: object) -> dict:
    if not isinstance(request, dict):
        raise BadRequest("request body must be a JSON object")
    config_text_key(request.get("schema"))
    return {"model_version": MODEL_VERSION}


def health() -> dict:
    return {"status": "UP", "model_class": MODEL_CLASS, "model_version": MODEL_VERSION}


_GET = {"/": health, "/health": health, "/versions": lambda: {"versions": [MODEL_VERSION]}}
_POST: dict[str, Callable[[object], dict]] = {
    "/predict": predict,
    "/setup": setup,
    "/webhook": lambda _request: {},
}


class Handler(BaseHTTPRequestHandler):
    server_version = "chhanni-ml-backend"
    protocol_version = "HTTP/1.1"  # keep-alive, as Label Studio's requests session expects

    def _send(self, status: int, body: dict) -> None:
        payload = json.dumps(body, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def _error(self, status: int, message: str) -> None:
        self._send(status, {"error": " ".join(message.split())})

    def _path(self) -> str:
        path = self.path.split("?", 1)[0]
        return path.rstrip("/") or "/"

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        route = _GET.get(self._path())
        if route is None:
            allowed = "POST" if self._path() in _POST else None
            self._error(
                405 if allowed else 404, f"{'use ' + allowed if allowed else 'no such path'}: {self.path}"
            )
            return
        self._send(200, route())

    do_HEAD = do_GET

    def do_POST(self) -> None:  # noqa: N802
        route = _POST.get(self._path())
        length_header = self.headers.get("Content-Length")
        try:
            length = int(length_header) if length_header is not None else -1
        except ValueError:
            length = -1
        if length < 0 or length > MAX_BODY_BYTES:
            self.close_connection = True  # the body (if any) was not read
            if length > MAX_BODY_BYTES:
                self._error(413, f"request body over {MAX_BODY_BYTES} bytes")
            else:
                self._error(
                    411 if length_header is None else 400, "a JSON body with Content-Length is required"
                )
            return
        raw = self.rfile.read(length)
        if route is None:
            self._error(405 if self._path() in _GET else 404, f"no such POST path: {self.path}")
            return
        try:
            request = json.loads(raw.decode("utf-8")) if raw.strip() else {}
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            self._error(400, f"request body is not UTF-8 JSON ({error})")
            return
        try:
            self._send(200, route(request))
        except BadRequest as error:
            self._error(400, str(error))
        except Exception as error:  # a bug: answer, log, keep serving
            self.server.log(f"error on {self.command} {self.path}: {type(error).__name__}: {error}")
            self._error(500, f"internal error: {type(error).__name__}")

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (http.server's name)
        self.server.log(f"{self.address_string()} {format % args}")


class MLBackendServer(ThreadingHTTPServer):
    """The backend on ``(host, port)``; port 0 picks a free one (``url`` tells which)."""

    daemon_threads = True

    def __init__(
        self,
        host: str = DEFAULT_HOST,
        port: int = DEFAULT_PORT,
        log: Callable[[str], None] | None = None,
    ) -> None:
        super().__init__((host, port), Handler)
        self.log = log or (lambda message: print(message, file=sys.stderr, flush=True))
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        host = f"[{host}]" if ":" in str(host) else host
        return f"http://{host}:{port}"

    def start(self) -> MLBackendServer:
        """Serve in a background thread (tests, or a caller with its own main loop)."""
        self._thread = threading.Thread(
            target=self.serve_forever, args=(0.1,), name="chhanni-ml-backend", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self.shutdown()
            self._thread.join()
            self._thread = None
        self.server_close()

    def __enter__(self) -> MLBackendServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


# --- connecting the backend to a project ------------------------------------------------------


def _same_url(a: str, b: str) -> bool:
    return a.rstrip("/") == b.rstrip("/")


def connect_backend(client, project_title: str, backend_url: str) -> dict:
    """Register the backend with the project (``POST /api/ml``), or reuse its registration.

    The registration's title is ``MODEL_VERSION``: Label Studio makes the title the project's
    model version when the project has none, and shows a task only the predictions of the
    project's model version, which are then ours (and ``push``'s, which carry the same version).
    Label Studio 1.23.2 saves a loopback backend, then answers 403 while adding the backend's
    webhook (its SSRF check); the backend is there and works, so the 403 is recovered from by
    looking the registration up. Returns ``{"project_id", "ml_id", "created", "state",
    "project_model_version"}``; raises ``LabelStudioError``.
    """
    from corpus.labelstudio.client import LabelStudioError

    sdk = client.sdk
    project_id = client.find_project(project_title)
    if project_id is None:
        raise LabelStudioError(
            f"{client.url}: no project {project_title!r}; create it with `corpus annotate push`"
        )

    def registered() -> int | None:
        backends = client._call(
            f"listing the models of project {project_id}", lambda: sdk.ml.list(project=project_id)
        )
        return next((int(b.id) for b in backends if _same_url(str(b.url), backend_url)), None)

    ml_id, created = registered(), False
    if ml_id is None:
        try:
            ml_id = int(
                client._call(
                    f"adding the model {backend_url} to project {project_id}",
                    lambda: sdk.ml.create(project=project_id, url=backend_url, title=MODEL_VERSION),
                    idempotent=False,
                ).id
            )
        except LabelStudioError as error:
            ml_id = registered() if "HTTP 403" in str(error) else None
            if ml_id is None:
                raise
        created = True
    backend = client._call(f"reading model {ml_id}", lambda: sdk.ml.get(id=ml_id))  # refreshes its state
    if backend.title != MODEL_VERSION:
        backend = client._call(
            f"updating model {ml_id}", lambda: sdk.ml.update(id=ml_id, title=MODEL_VERSION)
        )
    if backend.state != "CO":
        raise LabelStudioError(
            f"{client.url}: model {ml_id} at {backend_url} is not connected (state {backend.state}): "
            f"{backend.error_message or 'see the Label Studio log'}"
        )
    project_version = client._call(
        f"reading project {project_id}", lambda: sdk.projects.get(id=project_id)
    ).model_version
    if not project_version:
        client.update_project(project_id, model_version=MODEL_VERSION)
        project_version = MODEL_VERSION
    return {
        "project_id": project_id,
        "ml_id": ml_id,
        "created": created,
        "state": backend.state,
        "project_model_version": project_version,
    }
