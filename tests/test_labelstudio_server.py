"""The Label Studio round trip against a real server started by the suite (see conftest.py).

Annotations are made through the API the way the web UI makes them: logged in through the
login form, with the session cookie and CSRF header, posting the same payloads.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from conftest import read_until_ready
from typer.testing import CliRunner

from corpus.annotations import ANNOTATORS_FILE, LABELLED_DIR, file_name, load_human_labels
from corpus.cli_annotate import annotate_app
from corpus.ingest import normalise_text, read_documents, sha256_hex
from corpus.labels import CATEGORY_NAMES
from corpus.labelstudio.client import Client, LabelStudioError, WebSession, with_retries
from corpus.labelstudio.config import label_config_xml
from corpus.labelstudio.credentials import Credentials, load_credentials, mask, read_config, write_config
from corpus.labelstudio.pull import plan_pull, pull_annotations
from corpus.labelstudio.push import push_documents, read_guidelines
from corpus.labelstudio.server import free_port
from corpus.prelabel import MODEL_VERSION, prelabel_document

ROOT = Path(__file__).resolve().parents[1]

# Bengali with an emoji, a ZWJ emoji sequence, a ZWNJ conjunct breaker, combining marks, then Hindi
# with an emoji + variation selector: every piece after them must land on the same characters.
EMOJI_TEXT = normalise_text(
    "খবর 😀 আজকের বৃষ্টির খবর\n"
    "নিজস্ব প্রতিবেদক 👩\u200d💻 ঢাকা\n"
    "ক্\u200cষ এবং ক্ষ আলাদা। আজ সকালে শহরে বৃষ্টি হয়েছে এবং মানুষ ছাতা নিয়ে বের হয়েছেন। "
    "আবহাওয়া অফিস জানিয়েছে আগামী দুই দিন বৃষ্টি চলবে।\n"
    "आज का मौसम 🌧\ufe0f खराब है।\n"
)
EMOJI_PIECES = (
    ("খবর 😀 আজকের বৃষ্টির খবর", "title"),
    ("নিজস্ব প্রতিবেদক 👩\u200d💻", "attribution"),
    ("ঢাকা", "body"),
    (
        "ক্\u200cষ এবং ক্ষ আলাদা। আজ সকালে শহরে বৃষ্টি হয়েছে এবং মানুষ ছাতা নিয়ে বের হয়েছেন। "
        "আবহাওয়া অফিস জানিয়েছে আগামী দুই দিন বৃষ্টি চলবে।",
        "body",
    ),
    ("आज का मौसम 🌧\ufe0f", "other"),
    ("खराब है।", "body"),
)


# --- acting like the web UI -------------------------------------------------------------


def ui_result(text: str, spans: list[tuple[int, int, str]], origin: str = "manual") -> list[dict]:
    """The ``result`` the labeling UI submits for these regions."""
    return [
        {
            "id": f"ui{i}",
            "from_name": "category",
            "to_name": "text",
            "type": "labels",
            "origin": origin,
            "value": {"start": s, "end": e, "text": text[s:e], "labels": [c]},
        }
        for i, (s, e, c) in enumerate(spans)
    ]


def pieces_to_spans(text: str, pieces) -> list[tuple[int, int, str]]:
    out, pos = [], 0
    for piece, category in pieces:
        start = text.index(piece, pos)
        out.append((start, start + len(piece), category))
        pos = start + len(piece)
    return out


def submit(session, project_id: int, task_id: int, result: list[dict], **extra) -> int:
    payload = {
        "result": result,
        "lead_time": 12.5,
        "project": str(project_id),
        "started_at": "2026-11-23T10:00:00.000Z",
        **extra,
    }
    return session.api("POST", f"/api/tasks/{task_id}/annotations/?project={project_id}", payload)["id"]


def skip(session, project_id: int, task_id: int) -> int:
    return submit(session, project_id, task_id, [], was_cancelled=True)


def prediction_of(session, task_id: int) -> dict:
    task = session.api("GET", f"/api/tasks/{task_id}/")
    return task["predictions"][0]


def as_tuples(doc) -> list[tuple[int, int, str]]:
    return [(s.start, s.end, s.category) for s in doc.spans]


def other_category(category: str) -> str:
    return (
        next(c for c in CATEGORY_NAMES if c != category and c != "other") if category != "tags" else "widget"
    )


def invoke(args: list[str], env: dict[str, str]):
    result = CliRunner().invoke(annotate_app, args, env=env)
    return result


# --- the shared round trip --------------------------------------------------------------


@dataclass
class RoundTrip:
    seeds: Path
    annotations: Path
    env: dict[str, str]
    docs: dict[str, object]
    order: list[str]
    project_id: int
    tasks: dict[str, int]
    users: dict[str, int]
    ann: dict[str, int] = field(default_factory=dict)
    outputs: dict[str, object] = field(default_factory=dict)


@pytest.fixture(scope="module")
def round_trip(label_studio, tmp_path_factory) -> RoundTrip:
    base = tmp_path_factory.mktemp("round-trip")
    seeds = base / "seeds"
    shutil.copytree(ROOT / "seeds", seeds)
    (seeds / "005_emoji.txt").write_text(EMOJI_TEXT, encoding="utf-8")
    docs = {d.doc_id: prelabel_document(d) for d in read_documents(seeds, display_root=seeds)}
    order = sorted(docs)
    assert len(order) == 6 and order[-1] == "005_emoji"
    env = {
        "LABEL_STUDIO_URL": label_studio.url,
        "LABEL_STUDIO_API_KEY": label_studio.admin.token,
        "CHHANNI_LS_CONFIG": str(base / "no-config.toml"),
    }
    annotations = base / "annotation"
    rt = RoundTrip(seeds, annotations, env, docs, order, 0, {}, {})
    rt.outputs["push"] = invoke(
        ["push", "--seeds", str(seeds), "--project", "round trip", "--annotations", str(ROOT / "annotation")],
        env,
    )
    assert rt.outputs["push"].exit_code == 0, rt.outputs["push"].output
    client = label_studio.client()
    rt.project_id = client.find_project("round trip")
    rt.tasks = {t["data"]["doc_id"]: t["id"] for t in client.list_tasks(rt.project_id)}

    admin = label_studio.admin_session()
    _, _, a = label_studio.annotator("rina")
    _, _, b = label_studio.annotator("arjun")
    rt.users = {
        name: s.api("GET", "/api/current-user/whoami")["id"]
        for name, s in (("admin", admin), ("rina", a), ("arjun", b))
    }
    d0, d1, d2, d3, _d4, emoji = (docs[i] for i in order)

    def accept(session, doc, spans=None, origin="prediction"):
        task = rt.tasks[doc.doc_id]
        prediction = prediction_of(session, task)
        return submit(
            session,
            rt.project_id,
            task,
            ui_result(doc.text, spans or as_tuples(doc), origin),
            parent_prediction=prediction["id"],
        )

    def changed(doc, index):
        spans = as_tuples(doc)
        s, e, c = spans[index]
        spans[index] = (s, e, other_category(c))
        return spans

    # d0: majority (rina + admin accept the pre-labels, arjun changes the first span)
    rt.ann["d0-rina"] = accept(a, d0)
    rt.ann["d0-arjun"] = accept(b, d0, changed(d0, 0), origin="prediction-changed")
    rt.ann["d0-admin"] = accept(admin, d0)
    # d1: ground truth (arjun's changed version, starred by the admin) beats rina
    rt.ann["d1-rina"] = accept(a, d1)
    rt.ann["d1-arjun"] = accept(b, d1, changed(d1, -1), origin="prediction-changed")
    admin.api("PATCH", f"/api/annotations/{rt.ann['d1-arjun']}/", {"ground_truth": True})
    # d2: two annotators disagree, nobody decides: a tie blocks the document
    rt.ann["d2-rina"] = accept(a, d2)
    rt.ann["d2-arjun"] = accept(b, d2, changed(d2, 0), origin="prediction-changed")
    # d3: skipped; d4: untouched
    rt.ann["d3-rina"] = skip(a, rt.project_id, rt.tasks[d3.doc_id])
    # emoji: hand-made regions right after an emoji, a ZWJ sequence and a variation selector
    rt.ann["emoji-rina"] = submit(
        a,
        rt.project_id,
        rt.tasks[emoji.doc_id],
        ui_result(emoji.text, pieces_to_spans(emoji.text, EMOJI_PIECES)),
    )

    rt.outputs["pull"] = invoke(["pull", "--project", "round trip", "--annotations", str(annotations)], env)
    assert rt.outputs["pull"].exit_code == 0, rt.outputs["pull"].output
    rt.outputs["status"] = invoke(["status", "--seeds", str(seeds), "--annotations", str(annotations)], env)
    return rt


@pytest.mark.labelstudio
@pytest.mark.slow
def test_push_imports_one_task_per_document_with_prelabels_as_predictions(label_studio, round_trip):
    rt = round_trip
    assert (
        "created" in rt.outputs["push"].stdout
        and "tasks: 6 new, 0 already there" in rt.outputs["push"].stdout
    )
    project = label_studio.client().project_settings(rt.project_id)
    assert project["label_config"] == label_config_xml().strip()  # the server strips the final newline
    assert "annotation/GUIDELINES.md" in project["expert_instruction"]
    session = label_studio.admin_session()
    for doc_id, task_id in rt.tasks.items():
        doc = rt.docs[doc_id]
        task = session.api("GET", f"/api/tasks/{task_id}/")
        assert task["data"] == {"text": doc.text, "doc_id": doc_id, "text_sha256": doc.text_sha256}
        [prediction] = task["predictions"]
        assert prediction["model_version"] == MODEL_VERSION
        assert prediction["score"] == pytest.approx(min(s.score for s in doc.spans), abs=1e-4)
        regions = [
            (r["value"]["start"], r["value"]["end"], r["value"]["labels"][0]) for r in prediction["result"]
        ]
        assert regions == as_tuples(doc)
        assert all(
            r["value"]["text"] == doc.text[r["value"]["start"] : r["value"]["end"]]
            for r in prediction["result"]
        )


@pytest.mark.labelstudio
@pytest.mark.slow
def test_push_twice_creates_no_duplicates_and_a_changed_text_gets_a_new_task(label_studio, seed_documents):
    client = label_studio.client()
    guidelines = read_guidelines(ROOT / "annotation")
    first = push_documents(client, seed_documents, "idempotence", guidelines)
    assert first.project_created and len(first.created) == 5
    again = push_documents(client, seed_documents, "idempotence", guidelines)
    assert not again.project_created and again.created == {} and len(again.plan.unchanged) == 5
    assert again.settings_updated == []
    doc = seed_documents[2]
    text = doc.text + "\nআপডেট: নতুন লাইন।"
    edited = prelabel_document(replace(doc, text=text, text_sha256=sha256_hex(text)))
    third = push_documents(
        client, [*seed_documents[:2], edited, *seed_documents[3:]], "idempotence", guidelines
    )
    assert list(third.created) == [doc.doc_id]
    assert third.plan.replaced == {doc.doc_id: [first.created[doc.doc_id]]}
    tasks = client.list_tasks(first.project_id)
    assert len(tasks) == 6
    assert sorted(t["data"]["text_sha256"] for t in tasks if t["data"]["doc_id"] == doc.doc_id) == sorted(
        [doc.text_sha256, edited.text_sha256]
    )


@pytest.mark.labelstudio
@pytest.mark.slow
def test_pulled_files_are_pseudonymous_sorted_and_stable(label_studio, round_trip):
    rt = round_trip
    pseudonyms = json.loads((rt.annotations / ANNOTATORS_FILE).read_text(encoding="utf-8"))
    by_user = {item["label_studio_user_id"]: item["pseudonym"] for item in pseudonyms["annotators"]}
    ordered = sorted(rt.users.values())
    assert by_user == {uid: f"annotator-{n}" for n, uid in enumerate(ordered, start=1)}
    names = {name: by_user[uid] for name, uid in rt.users.items()}
    files = sorted((rt.annotations / LABELLED_DIR).glob("*.json"))
    d0, d1, d2, d3, d4, emoji = rt.order
    assert [f.name for f in files] == [file_name(d) for d in (d0, d1, d2, d3, emoji)]  # d4: nothing to pull
    for path in [*files, rt.annotations / ANNOTATORS_FILE]:
        text = path.read_text(encoding="utf-8")
        assert "@" not in text and "chhanni.test" not in text  # no e-mail ever leaves the server
        assert text == json.dumps(json.loads(text), ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    data = json.loads((rt.annotations / LABELLED_DIR / file_name(d0)).read_text(encoding="utf-8"))
    assert data["doc_id"] == d0
    assert [(a["id"], a["annotator"]) for a in data["annotations"]] == [
        (rt.ann["d0-rina"], names["rina"]),
        (rt.ann["d0-arjun"], names["arjun"]),
        (rt.ann["d0-admin"], names["admin"]),
    ]
    first = data["annotations"][0]
    assert first["task_id"] == rt.tasks[d0] and first["text_sha256"] == rt.docs[d0].text_sha256
    assert first["lead_time"] == 12.5 and first["cancelled"] is False and first["ground_truth"] is False
    d1_data = json.loads((rt.annotations / LABELLED_DIR / file_name(d1)).read_text(encoding="utf-8"))
    assert [a["ground_truth"] for a in d1_data["annotations"]] == [False, True]
    d3_data = json.loads((rt.annotations / LABELLED_DIR / file_name(d3)).read_text(encoding="utf-8"))
    assert [(a["cancelled"], a["regions"]) for a in d3_data["annotations"]] == [(True, [])]
    # pulling again changes nothing
    before = {p: p.read_bytes() for p in rt.annotations.rglob("*") if p.is_file()}
    again = invoke(["pull", "--project", "round trip", "--annotations", str(rt.annotations)], rt.env)
    assert (
        again.exit_code == 0
        and "0 new, 0 updated, 9 unchanged annotation(s); 0 file(s) written" in again.stdout
    )
    assert {p: p.read_bytes() for p in rt.annotations.rglob("*") if p.is_file()} == before


@pytest.mark.labelstudio
@pytest.mark.slow
def test_human_spans_agreement_and_adjudication(round_trip):
    rt = round_trip
    docs = [rt.docs[d] for d in rt.order]
    d0, d1, d2, d3, d4, emoji = docs
    human = load_human_labels(rt.annotations, docs)
    assert sorted(human.spans) == sorted([d0.doc_id, d1.doc_id, emoji.doc_id])
    # majority: two of three kept the pre-labels
    assert [(s.start, s.end, s.category) for s in human.spans[d0.doc_id]] == as_tuples(d0)
    assert all(s.label_source == "human" and s.score == 1.0 for s in human.spans[d0.doc_id])
    # ground truth: arjun's change of the last span wins although rina disagrees
    expected_d1 = as_tuples(d1)
    s, e, c = expected_d1[-1]
    expected_d1[-1] = (s, e, other_category(c))
    assert [(s.start, s.end, s.category) for s in human.spans[d1.doc_id]] == expected_d1
    statuses = human.statuses
    assert (statuses[d0.doc_id].method, statuses[d1.doc_id].method) == ("majority", "ground_truth")
    assert statuses[d2.doc_id].state == "conflicting" and statuses[d3.doc_id].state == "unlabelled"
    assert statuses[d3.doc_id].cancelled == 1 and human.cancelled == 1
    assert statuses[d4.doc_id].state == "unlabelled"
    for doc, changed in ((d0, 0), (d1, -1), (d2, 0)):
        span = doc.spans[changed]
        disagreed = sum(not ch.isspace() for ch in doc.text[span.start : span.end])
        assert statuses[doc.doc_id].agreement == pytest.approx(
            1 - disagreed / sum(not ch.isspace() for ch in doc.text)
        )
        assert statuses[doc.doc_id].alpha is not None and statuses[doc.doc_id].alpha < 1
    tie = [str(p) for p in human.problems if "unresolved tie" in str(p)]
    assert len(tie) == 1 and tie[0].startswith(str(rt.annotations / LABELLED_DIR / file_name(d2.doc_id)))
    assert len(human.problems) == 1
    assert human.annotators == ["annotator-1", "annotator-2", "annotator-3"]


@pytest.mark.labelstudio
@pytest.mark.slow
def test_code_point_offsets_survive_the_round_trip(round_trip):
    rt = round_trip
    emoji = rt.docs["005_emoji"]
    human = load_human_labels(rt.annotations, [emoji])
    spans = human.spans[emoji.doc_id]
    got = [(emoji.text[s.start : s.end], s.category) for s in spans]
    assert got == [
        (EMOJI_PIECES[0][0], "title"),
        (EMOJI_PIECES[1][0], "attribution"),
        (EMOJI_PIECES[2][0] + "\n" + EMOJI_PIECES[3][0], "body"),  # neighbours of one category merge
        (EMOJI_PIECES[4][0], "other"),
        (EMOJI_PIECES[5][0], "body"),
    ]
    after_zwj = emoji.text.index("ঢাকা")
    assert spans[2].start == after_zwj != len(emoji.text[:after_zwj].encode("utf-16-le")) // 2


@pytest.mark.labelstudio
@pytest.mark.slow
def test_status_command_reports_states_and_agreement(round_trip):
    rt = round_trip
    result = rt.outputs["status"]
    assert result.exit_code == 0, result.output
    lines = {line.split()[0]: line for line in result.stdout.splitlines() if line.strip()}
    d0, d1, d2, d3, d4, emoji = rt.order
    assert lines[d0].split()[1:3] == ["labelled", "3/3"]
    assert lines[d1].split()[1] == "labelled" and lines[d2].split()[1] == "conflicting"
    assert lines[d3].split()[1:4] == ["unlabelled", "0/0", "1"]
    assert lines[d4].split()[1] == "unlabelled" and lines[emoji].split()[1] == "labelled"
    assert "total: unlabelled 2, labelled 3, conflicting 1, stale 0" in result.stdout
    assert "agreement over documents with 2+ annotators: alpha 0." in result.stdout
    assert "cancelled annotations: 1" in result.stdout


@pytest.mark.labelstudio
@pytest.mark.slow
def test_pull_is_incremental_and_never_deletes(label_studio, seed_documents, tmp_path):
    client = label_studio.client()
    doc = seed_documents[0]
    pushed = push_documents(client, [doc], "incremental")
    task = pushed.created[doc.doc_id]
    _, _, a = label_studio.annotator("rina")
    _, _, b = label_studio.annotator("arjun")
    first = submit(a, pushed.project_id, task, ui_result(doc.text, as_tuples(doc)))
    report = pull_annotations(client, "incremental", tmp_path)
    assert report.added == 1
    path = tmp_path / LABELLED_DIR / file_name(doc.doc_id)
    # the first annotation is deleted on the server and another one is added
    label_studio.admin_session().api("DELETE", f"/api/annotations/{first}/")
    second = submit(b, pushed.project_id, task, ui_result(doc.text, as_tuples(doc)))
    report = pull_annotations(client, "incremental", tmp_path)
    assert report.added == 1
    assert report.kept == [f"{path}: annotation {first} by annotator-1 is no longer on the server; kept"]
    data = json.loads(path.read_text(encoding="utf-8"))
    assert [a["id"] for a in data["annotations"]] == [first, second]
    # an annotation changed on the server is updated in place
    edited = as_tuples(doc)
    edited[-1] = (*edited[-1][:2], "other")
    b.api("PATCH", f"/api/annotations/{second}/", {"result": ui_result(doc.text, edited)})
    report = pull_annotations(client, "incremental", tmp_path)
    assert (report.added, report.updated) == (0, 1)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["annotations"][1]["regions"][-1]["labels"] == ["other"]
    assert [a["id"] for a in data["annotations"]] == [first, second]


# --- server trouble ---------------------------------------------------------------------


@pytest.mark.labelstudio
@pytest.mark.slow
def test_wrong_credential_is_one_clear_line_and_writes_nothing(label_studio, tmp_path):
    secret = "wrong-token-0123456789abcdef"
    env = {
        "LABEL_STUDIO_URL": label_studio.url,
        "LABEL_STUDIO_API_KEY": secret,
        "CHHANNI_LS_CONFIG": str(tmp_path / "none.toml"),
    }
    result = invoke(["pull", "--annotations", str(tmp_path / "annotation")], env)
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.output
    assert lines[0].startswith(f"error: {label_studio.url}: credential rejected (HTTP 401)")
    assert secret not in result.output
    assert not (tmp_path / "annotation").exists()


def test_server_down_is_reported_after_bounded_retries(tmp_path):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        "LABEL_STUDIO_URL": url,
        "LABEL_STUDIO_API_KEY": "k" * 40,
        "CHHANNI_LS_CONFIG": str(tmp_path / "x"),
    }
    started = time.monotonic()
    result = invoke(["push", "--seeds", str(ROOT / "seeds")], env)
    assert time.monotonic() - started < 30
    assert result.exit_code == 1
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(
        f"error: {url}: cannot connect while looking up project 'Chhanni' (page 1); gave up after 3"
    )
    assert "k" * 40 not in result.output


def test_retries_back_off_exponentially_and_are_bounded():
    import httpx

    delays: list[float] = []
    calls: list[int] = []

    def refused() -> None:
        calls.append(1)
        raise httpx.ConnectError("refused")

    with pytest.raises(LabelStudioError, match=r"^http://ls: cannot connect while pinging; gave up after 4"):
        with_retries(refused, "http://ls", "pinging", attempts=4, backoff=0.5, sleep=delays.append)
    assert len(calls) == 4 and delays == [0.5, 1.0, 2.0]
    calls.clear()

    def read_timeout() -> None:
        calls.append(1)
        raise httpx.ReadTimeout("slow")

    with pytest.raises(LabelStudioError, match="no answer in time while importing"):
        with_retries(read_timeout, "http://ls", "importing", idempotent=False, sleep=delays.append)
    assert len(calls) == 1  # the request may have arrived: never re-sent


def test_credentials_come_from_env_then_config_file_and_stay_masked(tmp_path):
    config = tmp_path / "labelstudio.toml"
    write_config(config, {"url": "http://file:1", "api_key": 'k"ey\\1', "username": "u@x", "password": "pw"})
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    env = {"CHHANNI_LS_CONFIG": str(config)}
    from_file = load_credentials(env)
    assert (from_file.url, from_file.api_key, from_file.username) == ("http://file:1", 'k"ey\\1', "u@x")
    assert "pw" not in repr(from_file) and 'k"ey' not in repr(from_file)
    from_env = load_credentials({**env, "LABEL_STUDIO_URL": "http://env:2/", "LABEL_STUDIO_API_KEY": "e"})
    assert (from_env.url, from_env.api_key, from_env.password) == ("http://env:2", "e", "pw")
    assert load_credentials(env, url="http://cli:3").url == "http://cli:3"
    assert mask("token e-long and pw", ("e-long", "pw")) == "token *** and ***"
    config.write_text("url = http://no-quotes\n")
    with pytest.raises(ValueError, match=r"labelstudio.toml:1: expected key = \"value\""):
        load_credentials(env)


class _Flaky(BaseHTTPRequestHandler):
    """A stand-in server: a project list for GET /api/projects/, 502 for everything else."""

    calls: list[tuple[str, str]] = []

    def _answer(self) -> None:
        type(self).calls.append((self.command, self.path.split("?")[0]))
        if self.command == "GET" and self.path.startswith("/api/projects/?"):
            body = json.dumps(
                {"count": 1, "next": None, "previous": None, "results": [{"id": 3, "title": "Chhanni"}]}
            ).encode()
            self.send_response(200)
        else:
            body = b"<html>Bad gateway</html>"
            self.send_response(502)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PATCH = _answer

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def flaky_server():
    _Flaky.calls = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Flaky)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_5xx_is_retried_with_backoff_for_reads_only_and_pull_writes_nothing(flaky_server, tmp_path):
    client = Client(Credentials(url=flaky_server, api_key="k" * 40), attempts=3, backoff=0.05)
    annotation = tmp_path / "annotation"
    (annotation / LABELLED_DIR).mkdir(parents=True)
    existing = annotation / LABELLED_DIR / "keep.json"
    existing.write_text('{"format": "chhanni-annotations/1", "doc_id": "keep", "annotations": []}\n')
    before = {p: p.read_bytes() for p in annotation.rglob("*") if p.is_file()}
    with pytest.raises(LabelStudioError) as error:
        pull_annotations(client, "Chhanni", annotation)
    assert str(error.value) == (
        f"{flaky_server}: server error (HTTP 502) while exporting project 3; gave up after 3 attempt(s)"
    )
    assert _Flaky.calls.count(("GET", "/api/projects/3/export")) == 3  # bounded retries of a read
    assert {p: p.read_bytes() for p in annotation.rglob("*") if p.is_file()} == before  # no partial write
    _Flaky.calls.clear()
    with pytest.raises(LabelStudioError, match=r"server error \(HTTP 502\) while importing 1 task"):
        client.import_tasks(3, [{"data": {"text": "x"}}])
    assert _Flaky.calls == [("POST", "/api/projects/3/import")]  # never re-sent: no duplicate tasks


@pytest.mark.labelstudio
@pytest.mark.slow
def test_plan_pull_needs_no_server_and_matches_the_export(label_studio, round_trip, tmp_path):
    export = label_studio.client().export_json(round_trip.project_id)
    assert all(isinstance(a["completed_by"], int) for t in export for a in t["annotations"])
    outputs, report = plan_pull(export, tmp_path)
    assert report.added == 9
    written = {p.relative_to(tmp_path): text for p, text in outputs.items()}
    for rel, text in written.items():
        assert (round_trip.annotations / rel).read_text(encoding="utf-8") == text


# --- the serve command ------------------------------------------------------------------


def run_serve(
    exe: Path, data_dir: Path, config: Path, while_running=None, timeout: float = 300
) -> tuple[str, str]:
    """Run `corpus annotate serve` until it says it is ready, check the server, SIGTERM it.

    Returns its output and URL; asserts that it exits cleanly and takes the server down with it.
    """
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("LABEL_STUDIO_")}
    env.update(CHHANNI_LS_CONFIG=str(config), CHHANNI_LABEL_STUDIO=str(exe), PYTHONUNBUFFERED="1")
    command = [
        sys.executable,
        "-c",
        "from corpus.cli_annotate import annotate_app; annotate_app()",
        "serve",
        "--port",
        str(port),
        "--data-dir",
        str(data_dir),
    ]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    try:
        lines.append(read_until_ready(process, timeout))
        with socket.socket() as probe:
            assert probe.connect_ex(("127.0.0.1", port)) == 0, "".join(lines)
        stored = read_config(config)
        user = Client(Credentials(url=url, api_key=stored.get("api_key"))).whoami()
        assert user["email"] == stored["username"]
        if while_running is not None:
            while_running(url, stored)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(30)
    assert process.returncode == 0, "".join(lines)
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0, "Label Studio kept running after serve stopped"
    return "".join(lines), url


@pytest.mark.labelstudio
@pytest.mark.slow
def test_serve_on_an_existing_server_gets_an_api_token_by_logging_in(label_studio, tmp_path):
    data_dir = label_studio.copy_data_dir(tmp_path / "data")
    config = tmp_path / "config" / "labelstudio.toml"
    config.parent.mkdir()
    config.write_text(
        f'username = "{label_studio.admin.email}"\npassword = "{label_studio.admin.password}"\n'
    )
    output, url = run_serve(label_studio.exe, data_dir, config)
    assert f"Label Studio is running at {url}" in output
    assert f"log in at {url}/user/login/ as {label_studio.admin.email}" in output
    assert label_studio.admin.password not in output and label_studio.admin.token not in output
    stored = read_config(config)
    assert stored["url"] == url and stored["api_key"] == label_studio.admin.token
    assert stat.S_IMODE(config.stat().st_mode) == 0o600


@pytest.mark.labelstudio
@pytest.mark.slow
def test_serve_on_a_new_data_dir_creates_an_admin_and_keeps_its_secrets_private(label_studio, tmp_path):
    """The annotators' first command, for real: migrations included (~30-50 s)."""
    config = tmp_path / "config" / "labelstudio.toml"
    logged_in = []

    def log_in(url: str, stored: dict) -> None:
        session = WebSession(url).login(stored["username"], stored["password"])
        logged_in.append(session.api("GET", "/api/current-user/whoami")["email"])

    output, url = run_serve(label_studio.exe, tmp_path / "data", config, log_in)
    stored = read_config(config)
    assert logged_in == [stored["username"]]  # the printed login works in the browser's login form
    assert set(stored) == {"url", "api_key", "username", "password"} and stored["url"] == url
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    assert f"log in at {url}/user/login/ as {stored['username']}; password and API key: {config}" in output
    assert stored["password"] not in output and stored["api_key"] not in output
    log = (tmp_path / "data" / "label-studio.log").read_text(encoding="utf-8", errors="replace")
    assert stored["password"] not in log and stored["api_key"] not in log
    # not bound to all interfaces: only the loopback address answers
    assert "Starting development server at http://127.0.0.1:" in log
