"""Talking to a Label Studio server: the SDK for the API, ``requests`` for the web forms.

Every failure becomes a ``LabelStudioError`` with one line that names the server URL and what
went wrong (never a secret). Transient failures (no connection, timeouts, 5xx, 429) are retried
a bounded number of times with exponential backoff, but only for requests that are safe to
repeat: a POST that may have reached the server is not re-sent, because Label Studio would
import the tasks twice; callers make such steps idempotent at a higher level instead.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from typing import TypeVar

import httpx
import requests

from corpus.labelstudio.credentials import Credentials, mask

T = TypeVar("T")
ATTEMPTS = 3
BACKOFF_SECONDS = 0.5
TIMEOUT_SECONDS = 60.0


class LabelStudioError(RuntimeError):
    """One line for the user: the server URL and the problem."""


def _status(error: Exception) -> int | None:
    status = getattr(error, "status_code", None)
    response = getattr(error, "response", None)
    return status if status is not None else getattr(response, "status_code", None)


_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, requests.ConnectionError)
_TIMEOUTS = (httpx.TimeoutException, requests.Timeout)


def is_transient(error: Exception, idempotent: bool) -> bool:
    """Whether retrying could help, and is safe: nothing was sent, or the request may be repeated."""
    if isinstance(error, _NOT_SENT):
        return True
    if not idempotent:
        return False
    if isinstance(error, (*_TIMEOUTS, httpx.TransportError)):
        return True
    status = _status(error)
    return status is not None and (status >= 500 or status == 429)


def _detail(body: object) -> str:
    if isinstance(body, dict):
        for key in ("detail", "validation_errors", "error", "message"):
            if body.get(key):
                return str(body[key])
    text = str(body) if body is not None else ""
    return "" if text.lstrip().startswith("<") else text  # an HTML error page says nothing useful


def describe(error: Exception, url: str, what: str, attempts: int) -> str:
    """The one-line message for a failed call (not yet masked)."""
    status = _status(error)
    if isinstance(error, _TIMEOUTS) and not isinstance(
        error, (httpx.ConnectTimeout, requests.ConnectTimeout)
    ):
        return f"{url}: no answer in time while {what}; gave up after {attempts} attempt(s)"
    if isinstance(error, _NOT_SENT):
        return (
            f"{url}: cannot connect while {what}; gave up after {attempts} attempt(s) "
            "(is Label Studio running? `corpus annotate serve` starts one)"
        )
    if isinstance(error, (httpx.HTTPError, requests.RequestException)) and status is None:
        return f"{url}: connection failed while {what} ({type(error).__name__})"
    if status in (401, 403):
        return (
            f"{url}: credential rejected (HTTP {status}) while {what}; "
            "check LABEL_STUDIO_API_KEY or the chhanni Label Studio config file"
        )
    if status is not None and status >= 500:
        return f"{url}: server error (HTTP {status}) while {what}; gave up after {attempts} attempt(s)"
    if status is not None:
        detail = " ".join(_detail(getattr(error, "body", None)).split())[:200]
        return f"{url}: HTTP {status} while {what}" + (f": {detail}" if detail else "")
    detail = " ".join(str(error).split())[:200]
    return f"{url}: unexpected answer while {what} ({type(error).__name__}: {detail})"


def _is_http_failure(error: Exception) -> bool:
    """Errors that come from the server or the network (not bugs in our code)."""
    from label_studio_sdk.core.api_error import ApiError

    if isinstance(error, (ApiError, httpx.HTTPError, requests.RequestException, json.JSONDecodeError)):
        return True
    return type(error).__name__ == "ValidationError"  # pydantic: the answer has an unexpected shape


def with_retries(
    call: Callable[[], T],
    url: str,
    what: str,
    secrets: tuple[str, ...] = (),
    idempotent: bool = True,
    attempts: int = ATTEMPTS,
    backoff: float = BACKOFF_SECONDS,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """``call()``, retried on transient errors; any failure becomes a masked ``LabelStudioError``."""
    for attempt in range(1, attempts + 1):
        try:
            return call()
        except LabelStudioError:
            raise
        except Exception as error:
            if not _is_http_failure(error):
                raise
            if attempt < attempts and is_transient(error, idempotent):
                sleep(backoff * 2 ** (attempt - 1))
                continue
            raise LabelStudioError(mask(describe(error, url, what, attempt), secrets)) from None
    raise AssertionError("unreachable")  # pragma: no cover


class Client:
    """The API calls the round trip needs, over ``label_studio_sdk.LabelStudio``."""

    def __init__(
        self,
        credentials: Credentials,
        timeout: float = TIMEOUT_SECONDS,
        attempts: int = ATTEMPTS,
        backoff: float = BACKOFF_SECONDS,
        httpx_client: httpx.Client | None = None,
    ) -> None:
        if not credentials.api_key:
            raise LabelStudioError(
                f"{credentials.url}: no API key; set LABEL_STUDIO_API_KEY or put api_key in the chhanni "
                "Label Studio config file (`corpus annotate serve` writes one for a new server)"
            )
        from label_studio_sdk import LabelStudio

        self.url = credentials.url
        self.secrets = credentials.secrets
        self.attempts = attempts
        self.backoff = backoff
        self.sdk = self._call(
            "reading the API key",
            lambda: LabelStudio(
                base_url=self.url,
                api_key=credentials.api_key,
                max_retries=0,  # retries happen here, where we know whether a request may be repeated
                timeout=timeout,
                httpx_client=httpx_client,
            ),
        )

    def _call(self, what: str, call: Callable[[], T], idempotent: bool = True) -> T:
        return with_retries(
            call,
            self.url,
            what,
            self.secrets,
            idempotent=idempotent,
            attempts=self.attempts,
            backoff=self.backoff,
        )

    def whoami(self) -> dict:
        """The current user (checks that the server is there and the credential works)."""
        user = self._call("checking the credential", lambda: self.sdk.users.whoami())
        return {"id": user.id, "email": getattr(user, "email", None)}

    def _all_pages(
        self, what: str, fetch: Callable[[int], object], last: Callable[[object, int], bool]
    ) -> list:
        """Every item of a paginated listing, one retried request per page.

        The SDK's own iterator stops at the first HTTP 404 (how Label Studio ends a listing), which
        would also turn a wrong URL into an empty list; here the answer's own counters decide.
        """
        items: list = []
        for page in range(1, 100_000):
            pager = self._call(f"{what} (page {page})", lambda page=page: fetch(page))
            items += list(pager.items or [])
            if not pager.items or last(pager.response, len(items)):
                return items
        raise LabelStudioError(f"{self.url}: too many pages while {what}")  # pragma: no cover

    def find_project(self, title: str) -> int | None:
        """The id of the project with exactly this title (the API filter is a substring match)."""
        projects = self._all_pages(
            f"looking up project {title!r}",
            lambda page: self.sdk.projects.list(title=title, page=page, page_size=100),
            lambda response, _seen: not getattr(response, "next", None),
        )
        matches = sorted(p.id for p in projects if p.title == title)
        return matches[0] if matches else None

    def create_project(self, title: str, label_config: str, instructions: str, overlap: int) -> int:
        project = self._call(
            f"creating project {title!r}",
            lambda: self.sdk.projects.create(
                title=title,
                label_config=label_config,
                expert_instruction=instructions,
                show_instruction=True,
                show_skip_button=True,
                show_collab_predictions=True,  # pre-labels appear as the starting annotation
                maximum_annotations=overlap,
                sampling="Uncertainty sampling",  # lowest prediction score first
            ),
            idempotent=False,
        )
        return int(project.id)

    def project_settings(self, project_id: int) -> dict:
        project = self._call(f"reading project {project_id}", lambda: self.sdk.projects.get(id=project_id))
        return {
            "label_config": project.label_config,
            "expert_instruction": project.expert_instruction,
            "maximum_annotations": project.maximum_annotations,
        }

    def update_project(self, project_id: int, **fields: object) -> None:
        self._call(
            f"updating project {project_id}", lambda: self.sdk.projects.update(id=project_id, **fields)
        )

    def list_tasks(self, project_id: int) -> list[dict]:
        """``{"id", "data"}`` of every task in the project, in id order."""
        tasks = self._all_pages(
            f"listing tasks of project {project_id}",
            lambda page: self.sdk.tasks.list(
                project=project_id, fields="task_only", page=page, page_size=500
            ),
            lambda response, seen: seen >= int(getattr(response, "total", 0) or 0),
        )
        return sorted(({"id": int(t.id), "data": dict(t.data or {})} for t in tasks), key=lambda t: t["id"])

    def import_tasks(self, project_id: int, tasks: list[dict]) -> list[int]:
        """Create tasks (with predictions); not retried once sent, so a failure never duplicates."""
        response = self._call(
            f"importing {len(tasks)} task(s) into project {project_id}",
            lambda: self.sdk.projects.import_tasks(id=project_id, request=tasks, return_task_ids=True),
            idempotent=False,
        )
        return [int(i) for i in (response.task_ids or [])]

    def export_json(self, project_id: int) -> list[dict]:
        """Label Studio's plain JSON export of every task: annotators appear as integer user ids."""

        def fetch() -> list[dict]:
            chunks = self.sdk.projects.exports.download_sync(
                id=project_id, export_type="JSON", download_all_tasks=True
            )
            data = json.loads(b"".join(chunks).decode("utf-8"))
            if not isinstance(data, list):
                raise ValueError("export is not a list of tasks")
            return data

        return self._call(f"exporting project {project_id}", fetch)


class WebSession:
    """A logged-in browser-like session: the web forms, then the API with the session cookie.

    This is how the web UI itself talks to Label Studio, so tests use it to act as annotators,
    and ``serve`` uses it to get an API token for an existing server.
    """

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        self.http = requests.Session()

    def _form(self, path: str, fields: dict[str, str], secrets: tuple[str, ...]) -> None:
        what = "signing up" if "signup" in path else "logging in"

        def submit() -> requests.Response:
            page = self.http.get(self.url + path, timeout=30)
            page.raise_for_status()
            token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
            if token is None:
                raise LabelStudioError(f"{self.url}{path}: no CSRF token on the page (is this Label Studio?)")
            return self.http.post(
                self.url + path,
                data={"csrfmiddlewaretoken": token.group(1), **fields},
                headers={"Referer": self.url + path},
                allow_redirects=False,
                timeout=30,
            )

        # a repeated sign-up could only fail as "account exists"; a repeated login is harmless
        response = with_retries(submit, self.url, what, secrets, idempotent="login" in path)
        if response.status_code != 302:  # the form is shown again with an error
            raise LabelStudioError(
                f"{self.url}{path}: {what} failed for {fields['email']} "
                f"(HTTP {response.status_code}; wrong password or existing account?)"
            )

    def login(self, email: str, password: str) -> WebSession:
        self._form("/user/login/", {"email": email, "password": password}, (password,))
        return self

    def signup(self, email: str, password: str) -> WebSession:
        """Create an account that can log in (``POST /api/users/`` ignores the password)."""
        self._form(
            "/user/signup/", {"email": email, "password": password, "how_find_us": "Other"}, (password,)
        )
        return self

    def api(
        self, method: str, path: str, payload: object = None, ok: tuple[int, ...] = (200, 201, 204)
    ) -> object:
        """One API call the way the web UI makes it (session cookie + CSRF header)."""
        headers = {"X-CSRFToken": self.http.cookies.get("csrftoken", ""), "Referer": self.url + "/"}

        def send() -> requests.Response:
            return self.http.request(method, self.url + path, json=payload, headers=headers, timeout=60)

        response = with_retries(send, self.url, f"{method} {path}", idempotent=method == "GET")
        if response.status_code not in ok:
            raise LabelStudioError(
                f"{self.url}: HTTP {response.status_code} on {method} {path}: "
                f"{' '.join(response.text.split())[:200]}"
            )
        return response.json() if response.content else None

    def api_token(self) -> str:
        """A token for the SDK: the legacy token when the organization allows it, else a new
        personal access token (Label Studio allows one; revoke the old one in the UI to get another).
        """
        legacy = with_retries(
            lambda: self.http.get(self.url + "/api/current-user/token", timeout=30),
            self.url,
            "reading the API token",
        )
        try:
            token = legacy.json().get("token") if legacy.ok else None
        except (ValueError, AttributeError):
            token = None
        if token:
            return str(token)
        try:
            return str(self.api("POST", "/api/token/")["token"])  # type: ignore[index]
        except LabelStudioError as error:
            if "HTTP 409" in str(error):
                raise LabelStudioError(
                    f"{self.url}: this account already has a personal access token; copy it from "
                    "Account & Settings into LABEL_STUDIO_API_KEY (or revoke it there to get a new one)"
                ) from None
            raise
