"""Push: pre-labelled documents → one Label Studio task each, with the pre-labels as a prediction.

A task is identified by ``(doc_id, text_sha256)``, so pushing is idempotent: a document already
on the server is left alone, and a document whose text changed gets a new task (its old task
stays, and is reported, because annotations made on it no longer fit the text).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from corpus.document import Document
from corpus.labelstudio.client import Client
from corpus.labelstudio.config import (
    FROM_NAME,
    GUIDELINES_FILE,
    TO_NAME,
    expert_instruction_html,
    label_config_xml,
)

BATCH_SIZE = 200
DEFAULT_PROJECT = "Chhanni"


def prediction_result(doc: Document) -> list[dict]:
    """The pre-labels as Label Studio ``labels`` regions; offsets are code points, as in the corpus."""
    return [
        {
            "id": f"p{i}",
            "from_name": FROM_NAME,
            "to_name": TO_NAME,
            "type": "labels",
            "value": {
                "start": s.start,
                "end": s.end,
                "text": doc.text[s.start : s.end],
                "labels": [s.category],
            },
            "score": round(float(s.score), 4),
        }
        for i, s in enumerate(doc.spans)
    ]


def task_payload(doc: Document) -> dict:
    """One import item: the text, its identity, and the pre-labels as a prediction.

    The prediction's score is its least confident span, so Label Studio's uncertainty sampling
    shows the documents with the shakiest pre-label first.
    """
    task: dict = {"data": {TO_NAME: doc.text, "doc_id": doc.doc_id, "text_sha256": doc.text_sha256}}
    if doc.spans:
        task["predictions"] = [
            {
                "model_version": doc.model_version or "unknown",
                "score": round(min(float(s.score) for s in doc.spans), 4),
                "result": prediction_result(doc),
            }
        ]
    return task


@dataclass
class PushPlan:
    create: list[Document] = field(default_factory=list)
    unchanged: dict[str, int] = field(default_factory=dict)  # doc_id → existing task id
    replaced: dict[str, list[int]] = field(default_factory=dict)  # doc_id → task ids of old texts
    duplicates: dict[str, list[int]] = field(default_factory=dict)  # doc_id → extra tasks, same text


def plan_push(documents: Iterable[Document], existing: list[dict]) -> PushPlan:
    """Which documents need a new task, given the project's tasks (``{"id", "data"}``)."""
    by_key: dict[tuple[str, str], list[int]] = {}
    by_doc: dict[str, list[tuple[int, str]]] = {}
    for task in sorted(existing, key=lambda t: t["id"]):
        doc_id, sha = task["data"].get("doc_id"), task["data"].get("text_sha256")
        if isinstance(doc_id, str):
            by_key.setdefault((doc_id, str(sha)), []).append(task["id"])
            by_doc.setdefault(doc_id, []).append((task["id"], str(sha)))
    plan = PushPlan()
    for doc in documents:
        same = by_key.get((doc.doc_id, doc.text_sha256))
        old = [tid for tid, sha in by_doc.get(doc.doc_id, []) if sha != doc.text_sha256]
        if old:
            plan.replaced[doc.doc_id] = old
        if same:
            plan.unchanged[doc.doc_id] = same[0]
            if len(same) > 1:
                plan.duplicates[doc.doc_id] = same[1:]
        else:
            plan.create.append(doc)
    return plan


@dataclass
class PushReport:
    project_id: int
    project_created: bool
    settings_updated: list[str]
    plan: PushPlan
    created: dict[str, int] = field(default_factory=dict)  # doc_id → new task id


def read_guidelines(annotation_dir: Path) -> str | None:
    path = annotation_dir / GUIDELINES_FILE
    return path.read_text(encoding="utf-8") if path.exists() else None


def ensure_project(
    client: Client, title: str, instructions: str, overlap: int | None
) -> tuple[int, bool, list[str]]:
    """The project with this title, created or brought up to date (labeling config, instructions;
    annotators per task only when asked, so a value set in the UI survives a push)."""
    config = label_config_xml()
    project_id = client.find_project(title)
    if project_id is None:
        return client.create_project(title, config, instructions, overlap or 1), True, []
    current = client.project_settings(project_id)
    wanted: dict[str, object] = {"label_config": config, "expert_instruction": instructions}
    if overlap is not None:
        wanted["maximum_annotations"] = overlap
    # the server strips surrounding whitespace from what it stores
    changed = {k: v for k, v in wanted.items() if _same(current.get(k)) != _same(v)}
    if changed:
        client.update_project(project_id, **changed)
    return project_id, False, sorted(changed)


def _same(value: object) -> object:
    return value.strip() if isinstance(value, str) else value


def push_documents(
    client: Client,
    documents: list[Document],
    title: str = DEFAULT_PROJECT,
    guidelines: str | None = None,
    overlap: int | None = None,
) -> PushReport:
    """Create or reuse the project, then import the documents that are not on the server yet."""
    project_id, created, updated = ensure_project(client, title, expert_instruction_html(guidelines), overlap)
    plan = plan_push(documents, client.list_tasks(project_id))
    report = PushReport(project_id, created, updated, plan)
    for start in range(0, len(plan.create), BATCH_SIZE):
        batch = plan.create[start : start + BATCH_SIZE]
        ids = client.import_tasks(project_id, [task_payload(d) for d in batch])
        if len(ids) != len(batch):
            ids = []  # ask the server which tasks it now has instead of guessing
        report.created.update({d.doc_id: tid for d, tid in zip(batch, ids)})
    if len(report.created) != len(plan.create):
        current = {
            (t["data"].get("doc_id"), t["data"].get("text_sha256")): t["id"]
            for t in client.list_tasks(project_id)
        }
        found = {d.doc_id: current.get((d.doc_id, d.text_sha256)) for d in plan.create}
        report.created = {doc_id: tid for doc_id, tid in found.items() if tid is not None}
    return report
