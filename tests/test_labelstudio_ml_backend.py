"""The ML backend (``corpus annotate ml-backend``): the protocol on its own, then live predictions
in the real Label Studio the suite starts (see conftest.py).

Label Studio 1.23.2 asks a backend for predictions when a task without predictions is opened in a
project that shows predictions (``GET /api/tasks/<id>/``), and from the Data Manager action
``retrieve_tasks_predictions``; both are exercised here on tasks imported without predictions.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import requests
from conftest import read_until_ready

from corpus.ingest import normalise_text
from corpus.labelstudio.config import label_config_xml
from corpus.labelstudio.ml_backend import MODEL_CLASS, MLBackendServer, connect_backend
from corpus.labelstudio.push import prediction_result
from corpus.prelabel import MODEL_VERSION, prelabel_text

ROOT = Path(__file__).resolve().parents[1]

# an emoji, a ZWJ sequence and a ZWNJ before the spans that follow them
BN_TEXT = normalise_text(
    "খবর 😀 আজকের বৃষ্টির খবর\n"
    "নিজস্ব প্রতিবেদক 👩\u200d💻 ঢাকা\n"
    "ক্\u200cষ এবং ক্ষ আলাদা। আজ সকালে শহরে বৃষ্টি হয়েছে এবং মানুষ ছাতা নিয়ে বের হয়েছেন। "
    "আবহাওয়া অফিস জানিয়েছে আগামী দুই দিন বৃষ্টি চলবে।\n"
    "আরও পড়ুন\n"
)
HI_TEXT = normalise_text(
    "दिल्ली में भारी बारिश 🌧\ufe0f\n"
    "नई दिल्ली: आज सुबह शहर में तेज बारिश हुई और लोग छाते लेकर घर से निकले। मौसम विभाग ने कहा है कि "
    "अगले दो दिन तक बारिश जारी रहेगी।\n"
    "टैग: मौसम, दिल्ली\n"
)
EN_TEXT = "Heavy rain in the city today; people carried umbrellas.\n"


def spans_of(result: list[dict]) -> list[tuple[int, int, list[str]]]:
    return [(r["value"]["start"], r["value"]["end"], r["value"]["labels"]) for r in result]


def expected(text: str, lang: str) -> list[tuple[int, int, list[str]]]:
    return [(s.start, s.end, [s.category]) for s in prelabel_text(text, lang)]


def call(url: str, path: str, body: object = None, raw: bytes | None = None) -> tuple[int, dict]:
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode("utf-8"))
    request = urllib.request.Request(url + path, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.fixture()
def backend():
    log: list[str] = []
    server = MLBackendServer(port=0, log=log.append).start()
    server.requests = log
    try:
        yield server
    finally:
        server.stop()


# --- the protocol -------------------------------------------------------------------------------


def test_health_setup_webhook_and_versions(backend):
    for path in ("/health", "/"):
        status, body = call(backend.url, path)
        assert status == 200 and body["status"] == "UP" and body["model_class"] == MODEL_CLASS
    assert backend.url.startswith("http://127.0.0.1:")
    status, body = call(backend.url, "/setup", {"project": "1.1700000000", "schema": label_config_xml()})
    assert (status, body) == (200, {"model_version": MODEL_VERSION})
    assert call(backend.url, "/webhook", {"action": "ANNOTATION_CREATED"}) == (200, {})
    assert call(backend.url, "/versions") == (200, {"versions": [MODEL_VERSION]})


def test_predict_gives_one_prediction_per_task_with_prelabel_offsets(backend):
    tasks = [
        {"id": 11, "data": {"text": BN_TEXT}},
        {"id": 12, "data": {"text": HI_TEXT, "lang": "hi"}},
        {"id": 13, "data": {"text": EN_TEXT}},  # not a supported language
        {"id": 14, "data": {"text": "  \n"}},  # empty
        {"id": 15, "data": {"text": BN_TEXT, "lang": "en"}},  # the task says: not ours
        {"id": 16, "data": {"other": "no text field"}},
    ]
    request = {"tasks": tasks, "project": "3.1700000000", "label_config": label_config_xml(), "params": {}}
    status, body = call(backend.url, "/predict", request)
    assert status == 200
    results = body["results"]
    assert len(results) == len(tasks)
    assert all(r["model_version"] == MODEL_VERSION for r in results)
    bn, hi = results[0], results[1]
    assert spans_of(bn["result"]) == expected(BN_TEXT, "bn") and len(bn["result"]) >= 3
    assert spans_of(hi["result"]) == expected(HI_TEXT, "hi")
    for text, prediction in ((BN_TEXT, bn), (HI_TEXT, hi)):
        for region in prediction["result"]:
            value = region["value"]
            assert value["text"] == text[value["start"] : value["end"]]  # code points, emoji included
            assert (region["from_name"], region["to_name"], region["type"]) == ("category", "text", "labels")
        assert prediction["score"] == min(r["score"] for r in prediction["result"])
    assert any(r["value"]["start"] > BN_TEXT.index("👩") for r in bn["result"])  # a span after the ZWJ emoji
    for empty in results[2:]:
        assert empty["result"] == [] and empty["score"] is None


def test_push_and_backend_share_the_region_conversion(backend):
    from corpus.document import Document

    spans = prelabel_text(BN_TEXT, "bn")
    doc = Document("d", BN_TEXT, "", "", "", lang="bn", spans=tuple(spans), model_version=MODEL_VERSION)
    _, body = call(backend.url, "/predict", {"tasks": [{"id": 1, "data": {"text": BN_TEXT}}]})
    assert body["results"][0]["result"] == prediction_result(doc)


def test_bad_requests_get_400_with_a_one_line_json_error(backend):
    cases = [
        (b"{not json", 400),
        (b"[1, 2]", 400),
        (json.dumps({"tasks": "x"}).encode(), 400),
        (json.dumps({"tasks": [{"id": 1}]}).encode(), 400),
        (json.dumps({"tasks": [1]}).encode(), 400),
        (b"\xff\xfe", 400),
        (
            json.dumps(
                {"tasks": [], "label_config": "<View><Text name='text' value='$text'/></View>"}
            ).encode(),
            400,
        ),
        (json.dumps({"tasks": [], "label_config": "<View"}).encode(), 400),
    ]
    for raw, code in cases:
        status, body = call(backend.url, "/predict", raw=raw)
        assert status == code, raw
        assert set(body) == {"error"} and body["error"] and "\n" not in body["error"], raw
    status, body = call(backend.url, "/setup", {"schema": "<View><Labels name='x' toName='y'/></View>"})
    assert status == 400 and "category" in body["error"]
    assert call(backend.url, "/nowhere")[0] == 404
    assert call(backend.url, "/predict")[0] == 405  # GET
    assert call(backend.url, "/health", {})[0] == 405  # POST
    # still serving after all that
    assert call(backend.url, "/health")[0] == 200
    assert any('"POST /predict HTTP/1.1" 400' in line for line in backend.requests)


def test_predict_with_no_tasks_and_no_label_config(backend):
    assert call(backend.url, "/predict", {"tasks": []}) == (
        200,
        {"results": [], "model_version": MODEL_VERSION},
    )


# --- against the real server --------------------------------------------------------------------


def _token_api(label_studio):
    http = requests.Session()
    http.headers["Authorization"] = f"Token {label_studio.admin.token}"

    def api(method: str, path: str, payload: object = None) -> object:
        response = http.request(method, label_studio.url + path, json=payload, timeout=60)
        assert response.ok, f"{method} {path}: HTTP {response.status_code} {response.text[:300]}"
        return response.json() if response.content else None

    return api


@pytest.mark.labelstudio
@pytest.mark.slow
def test_label_studio_gets_live_predictions_for_new_tasks(label_studio, backend):
    started = time.monotonic()
    client = label_studio.client()
    api = _token_api(label_studio)
    project_id = client.create_project("ml backend", label_config_xml(), "", 1)
    report = connect_backend(client, "ml backend", backend.url)  # POST /api/ml
    assert report["project_id"] == project_id and report["created"] and report["state"] == "CO"
    assert report["project_model_version"] == MODEL_VERSION
    again = connect_backend(client, "ml backend", backend.url)
    assert (again["ml_id"], again["created"]) == (report["ml_id"], False)
    (registration,) = api("GET", f"/api/ml/?project={project_id}")
    assert (registration["url"], registration["model_version"]) == (backend.url, MODEL_VERSION)

    texts = {"bn": BN_TEXT, "hi": HI_TEXT, "en": EN_TEXT, "bn-opened": BN_TEXT.replace("ঢাকা", "খুলনা")}
    ids = client.import_tasks(project_id, [{"data": {"text": t}} for t in texts.values()])  # no predictions
    task_ids = dict(zip(texts, ids))
    assert len(task_ids) == 4
    listed = api("GET", f"/api/tasks/?project={project_id}")["tasks"]
    assert [t["total_predictions"] for t in listed] == [0, 0, 0, 0]

    # the Data Manager's "Retrieve Predictions" on three tasks (what the UI's action sends)
    selected = [task_ids["bn"], task_ids["hi"], task_ids["en"]]
    answer = api(
        "POST",
        f"/api/dm/actions?id=retrieve_tasks_predictions&project={project_id}",
        {"selectedItems": {"all": False, "included": selected}},
    )
    assert answer["processed_items"] == 3
    predicts = [line for line in backend.requests if '"POST /predict' in line]
    assert len(predicts) == 1  # one batch for the three
    # opening a task that has no prediction yet asks the backend for it, then shows it
    opened = api("GET", f"/api/tasks/{task_ids['bn-opened']}/")
    assert [p["model_version"] for p in opened["predictions"]] == [MODEL_VERSION]
    assert len([line for line in backend.requests if '"POST /predict' in line]) == 2

    for name, task_id in task_ids.items():
        task = api("GET", f"/api/tasks/{task_id}/")
        (prediction,) = task["predictions"]
        assert prediction["model_version"] == MODEL_VERSION, name
        lang = "bn" if name.startswith("bn") else name
        want = [] if lang == "en" else expected(texts[name], lang)
        assert spans_of(prediction["result"]) == want, name
        assert [r["value"]["text"] for r in prediction["result"]] == [texts[name][s:e] for s, e, _ in want], (
            name
        )
    # once predicted, a task is not sent again (Label Studio skips tasks holding our version)
    api("GET", f"/api/tasks/{task_ids['bn']}/")
    api(
        "POST",
        f"/api/dm/actions?id=retrieve_tasks_predictions&project={project_id}",
        {"selectedItems": {"all": True, "excluded": []}},
    )
    assert len([line for line in backend.requests if '"POST /predict' in line]) == 2
    assert time.monotonic() - started < 60


@pytest.mark.labelstudio
@pytest.mark.slow
def test_ml_backend_command_serves_connects_and_stops_on_sigterm(label_studio, tmp_path):
    client = label_studio.client()
    client.create_project("ml backend cli", label_config_xml(), "", 1)
    env = {
        **os.environ,
        "LABEL_STUDIO_URL": label_studio.url,
        "LABEL_STUDIO_API_KEY": label_studio.admin.token,
        "CHHANNI_LS_CONFIG": str(tmp_path / "no-config.toml"),
        "COLUMNS": "200",
    }
    command = [sys.executable, "-m", "corpus.cli", "annotate", "ml-backend", "--port", "0", "--connect"]
    process = subprocess.Popen(
        [*command, "--project", "ml backend cli"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        output = read_until_ready(process, 60)
        assert "stop with Ctrl-C" in output, (
            output + process.stderr.read() if process.poll() is not None else output
        )
        assert f"ML backend ({MODEL_VERSION}) is running at http://127.0.0.1:" in output
        assert "registered with project 'ml backend cli'" in output
        url = output.split("is running at ", 1)[1].split()[0]
        assert call(url, "/health")[1]["status"] == "UP"
        project_id = client.find_project("ml backend cli")
        backends = label_studio.client().sdk.ml.list(project=project_id)
        assert [str(b.url) for b in backends] == [url]
        assert label_studio.admin.token not in output
    finally:
        process.send_signal(signal.SIGTERM)
        rest, errors = process.communicate(timeout=30)
    assert process.returncode == 0, errors
    assert "stopping the ML backend" in rest
    assert '"GET /health HTTP/1.1" 200' in errors  # Label Studio's health check, logged
