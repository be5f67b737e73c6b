"""Pull: Label Studio's JSON export → reviewable files under ``annotation/``.

The committed files, not the server, are what a release is built from, so pulling is careful:

* incremental: new annotations are added, ones the annotator changed are updated, and an
  annotation the server no longer returns is kept and reported, never deleted;
* pseudonymous: annotators become ``annotator-N`` through ``annotation/annotators.json``, which
  maps numeric Label Studio user ids only; e-mails and names are never read into the files;
* all or nothing: everything is fetched and computed first, then each file is replaced
  atomically (temp file + rename), and files whose content did not change are not touched.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from corpus.annotations import (
    ANNOTATORS_FILE,
    LABELLED_DIR,
    AnnotationFileError,
    AnnotationRecord,
    DocumentAnnotations,
    Region,
    dump_json,
    file_name,
    read_annotation_files,
)
from corpus.ingest import sha256_hex
from corpus.labelstudio.client import Client, LabelStudioError
from corpus.labelstudio.config import TO_NAME
from corpus.staging import staging_path

UNKNOWN_ANNOTATOR = "annotator-unknown"


# --- pseudonyms -------------------------------------------------------------------------------


def read_pseudonyms(path: Path) -> dict[int, str]:
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return {int(item["label_studio_user_id"]): str(item["pseudonym"]) for item in data["annotators"]}
    except (ValueError, KeyError, TypeError) as error:
        raise AnnotationFileError(f"{path}: not a pseudonym map ({error})") from None


def assign_pseudonyms(known: dict[int, str], user_ids: Iterable[int]) -> dict[int, str]:
    """``known`` plus ``annotator-N`` for each new user id (in id order, N after the highest so far)."""
    mapping = dict(known)
    taken = [int(p.rsplit("-", 1)[1]) for p in known.values() if p.rsplit("-", 1)[-1].isdigit()]
    next_n = max(taken, default=0) + 1
    for user_id in sorted(set(user_ids) - set(known)):
        mapping[user_id] = f"annotator-{next_n}"
        next_n += 1
    return mapping


def pseudonyms_json(mapping: dict[int, str]) -> str:
    items = [{"label_studio_user_id": uid, "pseudonym": p} for uid, p in sorted(mapping.items())]
    return dump_json(
        {
            "about": "Label Studio user id → pseudonym used in labelled/*.json. "
            "Only numeric ids are stored: e-mails and names never leave the server.",
            "annotators": items,
        }
    )


def user_id(completed_by: object) -> int | None:
    """The numeric user id, whether the export gives an int or an expanded user object."""
    if isinstance(completed_by, dict):
        completed_by = completed_by.get("id")
    return completed_by if isinstance(completed_by, int) and not isinstance(completed_by, bool) else None


# --- export → records --------------------------------------------------------------------


@dataclass
class Pulled:
    """What one export says, already pseudonymised."""

    by_doc: dict[str, list[AnnotationRecord]] = field(default_factory=dict)
    returned_ids: set[int] = field(default_factory=set)
    pseudonyms: dict[int, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def regions_from_result(result: list[dict]) -> tuple[tuple[Region, ...], int]:
    """The ``labels`` regions of an annotation result, and how many other result items it had."""
    regions, other = [], 0
    for item in result or []:
        value = item.get("value") or {}
        if item.get("type") != "labels" or "start" not in value:
            other += 1
            continue
        text = value.get("text")
        regions.append(Region(value.get("start"), value.get("end"), tuple(value.get("labels") or ()), text))
    return tuple(regions), other


def records_from_export(export: list[dict], known: dict[int, str]) -> Pulled:
    """Annotation records per doc_id from Label Studio's JSON export (drafts are not exported)."""
    tasks = [t for t in export if t.get("annotations")]
    ids = [user_id(a.get("completed_by")) for t in tasks for a in t["annotations"]]
    pulled = Pulled(pseudonyms=assign_pseudonyms(known, [i for i in ids if i is not None]))
    for task in sorted(tasks, key=lambda t: t["id"]):
        data = task.get("data") or {}
        doc_id, text = data.get("doc_id"), data.get(TO_NAME)
        if not isinstance(doc_id, str) or not isinstance(text, str):
            pulled.notes.append(f"task {task['id']} has no doc_id or text; its annotations are skipped")
            continue
        sha = sha256_hex(text)
        if data.get("text_sha256") != sha:
            pulled.notes.append(
                f"task {task['id']} ({doc_id}): its text does not match its text_sha256 (edited in "
                "Label Studio?); recorded with the hash of the text the annotator saw"
            )
        for annotation in task["annotations"]:
            regions, other = regions_from_result(annotation.get("result") or [])
            if other:
                pulled.notes.append(
                    f"annotation {annotation['id']} ({doc_id}): {other} non-label result(s) ignored"
                )
            uid = user_id(annotation.get("completed_by"))
            pulled.returned_ids.add(int(annotation["id"]))
            pulled.by_doc.setdefault(doc_id, []).append(
                AnnotationRecord(
                    id=int(annotation["id"]),
                    task_id=int(task["id"]),
                    text_sha256=sha,
                    annotator=pulled.pseudonyms[uid] if uid is not None else UNKNOWN_ANNOTATOR,
                    regions=regions,
                    ground_truth=bool(annotation.get("ground_truth")),
                    cancelled=bool(annotation.get("was_cancelled")),
                    lead_time=annotation.get("lead_time"),
                    created_at=annotation.get("created_at"),
                    updated_at=annotation.get("updated_at"),
                )
            )
    return pulled


# --- merge with the committed files ------------------------------------------------------


@dataclass
class PullReport:
    project_id: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    kept: list[str] = field(default_factory=list)  # annotations the server no longer returns
    notes: list[str] = field(default_factory=list)
    written: list[Path] = field(default_factory=list)
    new_annotators: list[str] = field(default_factory=list)


def merge_document(
    existing: DocumentAnnotations | None, doc_id: str, pulled: list[AnnotationRecord], report: PullReport
) -> DocumentAnnotations:
    """Existing records updated with the pulled ones; nothing is ever dropped."""
    merged = {a.id: a for a in (existing.annotations if existing else ())}
    for record in pulled:
        old = merged.get(record.id)
        if old is None:
            report.added += 1
        elif old.task_id != record.task_id:
            report.notes.append(
                f"annotation {record.id} ({doc_id}): the file has it for task {old.task_id}, the server for "
                f"task {record.task_id} (another project or server?); the file is left as it is"
            )
            continue
        elif old == record:
            report.unchanged += 1
        else:
            report.updated += 1
        merged[record.id] = record
    return DocumentAnnotations(doc_id, tuple(sorted(merged.values(), key=lambda a: a.id)))


def plan_pull(export: list[dict], annotation_dir: Path) -> tuple[dict[Path, str], PullReport]:
    """The files to write (path → full text) for this export, and what changed. Writes nothing."""
    report = PullReport()
    files, problems = read_annotation_files(annotation_dir)
    if problems:
        raise AnnotationFileError(f"{problems[0]}; fix it before pulling")
    pseudonym_path = annotation_dir / ANNOTATORS_FILE
    known = read_pseudonyms(pseudonym_path)
    pulled = records_from_export(export, known)
    report.notes += pulled.notes
    report.new_annotators = sorted(set(pulled.pseudonyms.values()) - set(known.values()))
    outputs: dict[Path, str] = {}
    if pulled.pseudonyms != known or not pseudonym_path.exists():
        outputs[pseudonym_path] = pseudonyms_json(pulled.pseudonyms)
    for doc_id in sorted(set(files) | set(pulled.by_doc)):
        path, existing = files.get(doc_id, (annotation_dir / LABELLED_DIR / file_name(doc_id), None))
        if existing is not None:
            for record in existing.annotations:
                if record.id not in pulled.returned_ids:
                    report.kept.append(
                        f"{path}: annotation {record.id} by {record.annotator} "
                        "is no longer on the server; kept"
                    )
        merged = merge_document(existing, doc_id, pulled.by_doc.get(doc_id, []), report)
        text = dump_json(merged.as_json())
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if text != current:
            outputs[path] = text
    return outputs, report


def write_files(outputs: dict[Path, str]) -> list[Path]:
    """Each file replaced atomically; the pseudonym map first, so no file names an unknown pseudonym."""
    order = sorted(outputs, key=lambda p: (p.name != ANNOTATORS_FILE, str(p)))
    for path in order:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = staging_path(path.parent, f".{path.name}.tmp")
        try:
            tmp.write_text(outputs[path], encoding="utf-8")
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
    return order


def pull_annotations(client: Client, title: str, annotation_dir: Path) -> PullReport:
    """Export the project and bring ``annotation_dir`` up to date (see the module docstring)."""
    project_id = client.find_project(title)
    if project_id is None:
        raise LabelStudioError(f"{client.url}: no project titled {title!r} (push first)")
    export = client.export_json(project_id)
    outputs, report = plan_pull(export, annotation_dir)
    report.project_id = project_id
    report.written = write_files(outputs)
    return report
