"""Offline: Label Studio export JSON → annotation files → validated, adjudicated human spans."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import pytest
from typer.testing import CliRunner

from corpus.annotations import (
    ANNOTATORS_FILE,
    LABELLED_DIR,
    AnnotationRecord,
    Candidate,
    DocumentAnnotations,
    Region,
    adjudicate,
    assess,
    dump_json,
    file_name,
    krippendorff_alpha,
    load_human_labels,
    observed_agreement,
    parse_document_annotations,
    regions_to_spans,
)
from corpus.cli_annotate import annotate_app
from corpus.document import Document, Span
from corpus.ingest import sha256_hex
from corpus.labels import CATEGORY_NAMES
from corpus.labelstudio.pull import assign_pseudonyms, plan_pull, records_from_export, write_files

ROOT = Path(__file__).resolve().parents[1]


def make_doc(doc_id: str, text: str) -> Document:
    text = unicodedata.normalize("NFC", text)
    return Document(doc_id, text, f"{doc_id}.txt", sha256_hex(text), sha256_hex(text), "bn", 0.99)


def regions(text: str, *pieces: tuple[str, str], value_text: bool = True) -> tuple[Region, ...]:
    """Regions found by searching the text for each piece, left to right (code-point offsets)."""
    found, pos = [], 0
    for piece, category in pieces:
        start = text.index(piece, pos)
        end = start + len(piece)
        found.append(Region(start, end, (category,), text[start:end] if value_text else None))
        pos = end
    return tuple(found)


def record(doc: Document, ann_id: int, annotator: str, regs, **kw) -> AnnotationRecord:
    return AnnotationRecord(
        ann_id, kw.pop("task_id", 1), kw.pop("sha", doc.text_sha256), annotator, tuple(regs), **kw
    )


DOC = make_doc("d1", "শিরোনাম এখানে\nআরও পড়ুন: অন্য খবর\nপ্রথম অনুচ্ছেদ। দ্বিতীয় বাক্য।")


# --- one annotation → spans -------------------------------------------------------------


def test_valid_regions_become_trimmed_merged_human_spans():
    text = DOC.text
    regs = (
        Region(0, text.index("\n") + 1, ("title",), None),  # ends on the line break: trimmed
        *regions(
            text, ("আরও পড়ুন: অন্য খবর", "related_links"), ("প্রথম অনুচ্ছেদ।", "body"), ("দ্বিতীয় বাক্য।", "body")
        ),
    )
    spans, errors = regions_to_spans(text, regs)
    assert errors == []
    assert [(text[s.start : s.end], s.category) for s in spans] == [
        ("শিরোনাম এখানে", "title"),
        ("আরও পড়ুন: অন্য খবর", "related_links"),
        ("প্রথম অনুচ্ছেদ। দ্বিতীয় বাক্য।", "body"),  # neighbours of one category form one span
    ]
    assert all(s.label_source == "human" and s.score == 1.0 for s in spans)
    assert spans[0].label == "content" and spans[1].label == "boilerplate"


@pytest.mark.parametrize(
    ("regs", "expected"),
    [
        (
            ((0, 13, "title"), (8, 33, "body"), (34, 65, "body")),
            "overlapping spans [0:13) title and [8:33) body",
        ),
        (((0, 500, "body"),), "region [0:500) is outside the text (length 65)"),
        (((-1, 3, "body"),), "region [-1:3) is outside the text"),
        (
            ((0, 34, "sidebar"), (34, 65, "body")),
            "region [0:34) «শিরোনাম এখানে⏎আরও পড়ুন: অন্য…» has unknown label 'sidebar'",
        ),
        (
            ((0, 13, "title"), (34, 65, "body")),
            "non-whitespace text left unlabelled at [14:33) «আরও পড়ুন: অন্য খবর»",
        ),
        (((0, 13, "title"),), "left unlabelled at [14:65) «আরও পড়ুন: অন্য খবর⏎প্রথম অনু…»"),
    ],
)
def test_unusable_annotations_are_rejected_with_a_precise_message(regs, expected):
    assert len(DOC.text) == 65
    spans, errors = regions_to_spans(DOC.text, [Region(s, e, (c,), None) for s, e, c in regs])
    assert spans == ()
    assert any(expected in e for e in errors), errors


def test_region_without_exactly_one_label_is_rejected():
    _, errors = regions_to_spans(DOC.text, [Region(0, len(DOC.text), ("title", "body"), None)])
    assert errors and "has 2 labels, needs 1" in errors[0]


def test_offsets_are_code_points_after_emoji_zwj_zwnj_and_combining_marks():
    text = unicodedata.normalize("NFC", "শিরোনাম 😀👩\u200d💻 ক্\u200cষ নমস্তে नमस्ते दुनिया\nশেষ।")
    start = text.index("नमस्ते")
    # Python indices: each emoji is one position (two UTF-16 units), ZWJ/ZWNJ and marks one each
    assert start == len("শিরোনাম 😀👩\u200d💻 ক্\u200cষ নমস্তে ")
    regs = [
        Region(0, start - 1, ("title",), text[: start - 1]),
        Region(start, start + 6, ("navigation",), "नमस्ते"),
        Region(start + 7, len(text), ("body",), text[start + 7 :]),
    ]
    spans, errors = regions_to_spans(text, regs)
    assert errors == []
    assert text[spans[1].start : spans[1].end] == "नमस्ते"
    # the same region counted in UTF-16 units (what old Label Studio versions did) is caught
    utf16_start = len(text[:start].encode("utf-16-le")) // 2
    assert utf16_start == start + 3
    shifted = [regs[0], Region(utf16_start, utf16_start + 6, ("navigation",), "नमस्ते"), regs[2]]
    _, errors = regions_to_spans(text, shifted)
    assert any("but Label Studio says «नमस्ते»" in e for e in errors), errors


def test_value_text_is_only_a_cross_check_that_tolerates_export_quirks():
    text = "Title  here\nBody text."
    # Label Studio exports a literal backslash-n across a line break and collapses repeated spaces
    regs = [Region(0, len(text), ("body",), "Title here\\nBody text.")]
    spans, errors = regions_to_spans(text, regs)
    assert errors == [] and spans == (Span(0, len(text), "body", 1.0, "human"),)


# --- agreement and adjudication -----------------------------------------------------------


def test_krippendorff_alpha_over_characters_matches_a_hand_computation():
    # units (t,t) (t,t) (b,b) (b,t): D_o = 2/8, D_e = 2·5·3/(8·7) → alpha = 1 - 0.25/(30/56) = 8/15
    rows = [["title", "title", "body", "body"], ["title", "title", "body", "title"]]
    assert krippendorff_alpha(rows) == pytest.approx(8 / 15)
    assert observed_agreement(rows) == pytest.approx(3 / 4)
    assert krippendorff_alpha([["body"] * 3, ["body"] * 3]) is None  # one category: alpha undefined
    assert krippendorff_alpha([["body", None], [None, "title"]]) is None  # nothing pairable


def _candidates(text, *annotations):
    out = []
    for n, (annotator, pieces, gt) in enumerate(annotations, start=1):
        spans, errors = regions_to_spans(text, regions(text, *pieces))
        assert errors == []
        out.append(Candidate(AnnotationRecord(n, 1, sha256_hex(text), annotator, (), gt), spans))
    return out


def test_ground_truth_wins_over_a_majority():
    text = "Alpha beta\nGamma"
    a = ("annotator-1", [("Alpha beta", "title"), ("Gamma", "body")], False)
    b = ("annotator-2", [("Alpha beta", "title"), ("Gamma", "body")], False)
    gt = ("annotator-3", [("Alpha", "navigation"), ("beta", "title"), ("Gamma", "body")], True)
    result = adjudicate(text, _candidates(text, a, b, gt))
    assert result.method == "ground_truth"
    assert [(text[s.start : s.end], s.category) for s in result.spans] == [
        ("Alpha", "navigation"),
        ("beta", "title"),
        ("Gamma", "body"),
    ]


def test_per_character_majority_and_ties():
    text = "Alpha beta\nGamma"
    a = ("annotator-1", [("Alpha beta", "title"), ("Gamma", "body")], False)
    b = ("annotator-2", [("Alpha", "navigation"), ("beta", "title"), ("Gamma", "body")], False)
    c = ("annotator-3", [("Alpha beta", "title"), ("Gamma", "tags")], False)
    majority = adjudicate(text, _candidates(text, a, b, c))
    assert majority.method == "majority" and not majority.ties
    assert [(text[s.start : s.end], s.category) for s in majority.spans] == [
        ("Alpha beta", "title"),
        ("Gamma", "body"),
    ]
    tie = adjudicate(text, _candidates(text, a, b))
    assert tie.spans is None
    assert tie.ties == ((0, 5, ("navigation", "title")),)


# --- export → files ------------------------------------------------------------------------


def _export(doc: Document, annotations: list[dict], task_id: int = 11, text: str | None = None) -> dict:
    text = doc.text if text is None else text
    return {
        "id": task_id,
        "data": {"text": text, "doc_id": doc.doc_id, "text_sha256": doc.text_sha256},
        "annotations": annotations,
        "predictions": [1],
        "drafts": [],
    }


def _ls_annotation(ann_id, user, regs, **kw) -> dict:
    result = [
        {
            "id": f"r{i}",
            "from_name": "category",
            "to_name": "text",
            "type": "labels",
            "origin": "manual",
            "value": {"start": r.start, "end": r.end, "text": r.value_text, "labels": list(r.labels)},
        }
        for i, r in enumerate(regs)
    ]
    return {
        "id": ann_id,
        "completed_by": user,
        "result": result,
        "was_cancelled": False,
        "ground_truth": False,
        "lead_time": 3.5,
        "created_at": "2026-11-23T20:00:00Z",
        "updated_at": "2026-11-23T20:00:00Z",
        **kw,
    }


FULL = regions(
    DOC.text,
    ("শিরোনাম এখানে", "title"),
    ("আরও পড়ুন: অন্য খবর", "related_links"),
    ("প্রথম অনুচ্ছেদ। দ্বিতীয় বাক্য।", "body"),
)


def test_pseudonyms_are_stable_and_never_reuse_a_number():
    known = {5: "annotator-1", 9: "annotator-2"}
    mapping = assign_pseudonyms(known, [12, 5, 3, 12])
    assert mapping == {5: "annotator-1", 9: "annotator-2", 3: "annotator-3", 12: "annotator-4"}
    assert assign_pseudonyms(mapping, [3, 5]) == mapping


def test_export_records_are_pseudonymous_and_never_carry_e_mails():
    expanded = {"id": 7, "email": "rina@example.org", "first_name": "Rina", "last_name": "Das"}
    export = [
        _export(
            DOC,
            [
                _ls_annotation(3, expanded, FULL),
                _ls_annotation(4, 2, [], was_cancelled=True),
                _ls_annotation(5, 2, FULL, result_extra=True),
            ],
        ),
        {"id": 12, "data": {"text": "no id"}, "annotations": [_ls_annotation(6, 2, [])]},
        {"id": 13, "data": {"text": "x", "doc_id": "unannotated"}, "annotations": []},
    ]
    export[0]["annotations"][2]["result"].append({"type": "relation", "from_id": "r0", "to_id": "r1"})
    pulled = records_from_export(export, {})
    assert pulled.pseudonyms == {2: "annotator-1", 7: "annotator-2"}
    records = pulled.by_doc["d1"]
    assert [(r.id, r.annotator, r.cancelled) for r in records] == [
        (3, "annotator-2", False),
        (4, "annotator-1", True),
        (5, "annotator-1", False),
    ]
    assert records[0].regions == FULL and records[0].text_sha256 == DOC.text_sha256
    assert any("task 12 has no doc_id" in n for n in pulled.notes)
    assert any("1 non-label result(s) ignored" in n for n in pulled.notes)
    text = dump_json(DocumentAnnotations("d1", tuple(records)).as_json())
    assert "@" not in text and "Rina" not in text and "Das" not in text


def test_task_text_edited_in_label_studio_is_recorded_with_its_real_hash():
    edited = DOC.text + " সম্পাদিত"
    pulled = records_from_export([_export(DOC, [_ls_annotation(3, 1, FULL)], text=edited)], {})
    assert pulled.by_doc["d1"][0].text_sha256 == sha256_hex(edited)
    assert any("does not match its text_sha256" in n for n in pulled.notes)


def test_pull_is_incremental_non_destructive_and_byte_stable(tmp_path):
    first = [_export(DOC, [_ls_annotation(3, 1, FULL), _ls_annotation(4, 2, FULL)])]
    outputs, report = plan_pull(first, tmp_path)
    assert report.added == 2 and report.new_annotators == ["annotator-1", "annotator-2"]
    write_files(outputs)
    doc_file = tmp_path / LABELLED_DIR / "d1.json"
    written = doc_file.read_text(encoding="utf-8")
    assert written == dump_json(json.loads(written)) and written.endswith("}\n")
    assert "শিরোনাম এখানে" in written  # ensure_ascii=False: reviewable text
    data = json.loads(written)
    assert [a["id"] for a in data["annotations"]] == [3, 4]
    assert data["annotations"][0]["regions"][0] == {
        "start": 0,
        "end": 13,
        "labels": ["title"],
        "value_text": "শিরোনাম এখানে",
    }
    pseudonyms = json.loads((tmp_path / ANNOTATORS_FILE).read_text(encoding="utf-8"))
    assert pseudonyms["annotators"] == [
        {"label_studio_user_id": 1, "pseudonym": "annotator-1"},
        {"label_studio_user_id": 2, "pseudonym": "annotator-2"},
    ]
    # same export again: nothing to write
    again, report = plan_pull(first, tmp_path)
    assert again == {} and report.unchanged == 2
    # annotation 3 deleted on the server, 4 edited, 8 new by a new user
    edited = _ls_annotation(4, 2, FULL, ground_truth=True, updated_at="2026-11-24T08:00:00Z")
    second = [_export(DOC, [edited, _ls_annotation(8, 9, FULL)])]
    outputs, report = plan_pull(second, tmp_path)
    assert (report.added, report.updated) == (1, 1)
    assert report.kept == [f"{doc_file}: annotation 3 by annotator-1 is no longer on the server; kept"]
    write_files(outputs)
    data = json.loads(doc_file.read_text(encoding="utf-8"))
    assert [(a["id"], a["annotator"], a["ground_truth"]) for a in data["annotations"]] == [
        (3, "annotator-1", False),
        (4, "annotator-2", True),
        (8, "annotator-3", False),
    ]
    assert not list(tmp_path.rglob(".*tmp*"))  # no temp files left behind


def test_pull_refuses_to_merge_into_a_broken_file(tmp_path):
    (tmp_path / LABELLED_DIR).mkdir()
    (tmp_path / LABELLED_DIR / "d1.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(ValueError, match=r"d1\.json: not valid JSON"):
        plan_pull([_export(DOC, [_ls_annotation(3, 1, FULL)])], tmp_path)


def test_file_names_are_safe_for_any_doc_id():
    assert file_name("000_081df080863af009") == "000_081df080863af009.json"
    assert file_name("feed/2024 07.jsonl-0000003") == "feed%2F2024%2007.jsonl-0000003.json"
    assert file_name("..") == "%2E..json" and file_name("../x") == "%2E.%2Fx.json"


# --- committed files → HumanLabels --------------------------------------------------------


def _write(tmp_path: Path, doc_id: str, *records: AnnotationRecord) -> Path:
    path = tmp_path / LABELLED_DIR / file_name(doc_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dump_json(DocumentAnnotations(doc_id, records).as_json()), encoding="utf-8")
    return path


def test_load_human_labels_adjudicates_and_reports_every_problem(tmp_path):
    good = make_doc("good", "Headline\nBody one. Body two.")
    agreed = regions(good.text, ("Headline", "title"), ("Body one. Body two.", "body"))
    tied = make_doc("tied", "Headline\nBody one.")
    stale = make_doc("stale", "Text changed after annotation.")
    broken = make_doc("broken", "Some text here.")
    cancelled_only = make_doc("cancelled", "Nothing to see.")
    _write(
        tmp_path,
        "good",
        record(good, 1, "annotator-1", agreed),
        record(
            good,
            2,
            "annotator-2",
            regions(good.text, ("Headline", "navigation"), ("Body one. Body two.", "body")),
        ),
        record(good, 3, "annotator-3", agreed, ground_truth=True),
    )
    _write(
        tmp_path,
        "tied",
        record(tied, 4, "annotator-1", regions(tied.text, ("Headline", "title"), ("Body one.", "body"))),
        record(tied, 5, "annotator-2", regions(tied.text, ("Headline", "navigation"), ("Body one.", "body"))),
    )
    _write(
        tmp_path,
        "stale",
        record(stale, 6, "annotator-1", regions(stale.text, (stale.text, "body")), sha="0" * 64),
    )
    _write(tmp_path, "broken", record(broken, 7, "annotator-2", regions(broken.text, ("Some", "sidebar"))))
    _write(tmp_path, "cancelled", record(cancelled_only, 8, "annotator-1", (), cancelled=True))
    _write(tmp_path, "ghost", record(good, 9, "annotator-1", agreed))
    (tmp_path / LABELLED_DIR / "junk.json").write_text("[1, 2", encoding="utf-8")

    human = load_human_labels(tmp_path, [good, tied, stale, broken, cancelled_only])
    assert list(human.spans) == ["good"]
    assert [(good.text[s.start : s.end], s.category, s.label_source) for s in human.spans["good"]] == [
        ("Headline", "title", "human"),
        ("Body one. Body two.", "body", "human"),
    ]
    assert human.annotators == ["annotator-1", "annotator-2", "annotator-3"]
    assert human.cancelled == 1
    messages = [str(p) for p in human.problems]
    assert all("\n" not in m for m in messages)
    labelled = tmp_path / LABELLED_DIR

    def has(file: str, fragment: str) -> bool:
        return any(m.startswith(f"{labelled / file}: ") and fragment in m for m in messages)

    assert has("tied.json", "unresolved tie between navigation and title at [0:8) «Headline»")
    assert has("stale.json", "annotation 6 by annotator-1 is stale: made on text sha256 000000000000…")
    assert has("broken.json", "annotation 7 by annotator-2: region [0:4) «Some» has unknown label 'sidebar'")
    assert has("ghost.json", "no document 'ghost' among the inputs")
    assert has("junk.json", "not valid JSON")
    assert not has("good.json", "")
    states = {d: s.state for d, s in human.statuses.items()}
    assert states == {
        "good": "labelled",
        "tied": "conflicting",
        "stale": "stale",
        "broken": "invalid",
        "cancelled": "unlabelled",
    }
    good_status = human.statuses["good"]
    assert good_status.method == "ground_truth"
    assert good_status.agreement == pytest.approx(16 / 24)  # annotator-2 differs on the 8 title characters
    assert 0 < good_status.alpha < 1


def test_overall_agreement_pools_documents(tmp_path):
    a = make_doc("a", "One two")
    b = make_doc("b", "Three four")
    _write(
        tmp_path,
        "a",
        record(a, 1, "annotator-1", regions(a.text, ("One", "title"), ("two", "body"))),
        record(a, 2, "annotator-2", regions(a.text, ("One", "title"), ("two", "body"))),
    )
    _write(
        tmp_path,
        "b",
        record(b, 3, "annotator-1", regions(b.text, ("Three", "tags"), ("four", "body"))),
        record(b, 4, "annotator-2", regions(b.text, ("Three four", "body"))),
    )
    report = assess(tmp_path, [a, b])
    assert report.statuses["a"].alpha == pytest.approx(1.0)
    assert report.statuses["b"].alpha is not None and report.statuses["b"].alpha < 0.5
    pooled_1 = ["title"] * 3 + ["body"] * 3 + ["tags"] * 5 + ["body"] * 4
    pooled_2 = ["title"] * 3 + ["body"] * 3 + ["body"] * 5 + ["body"] * 4
    assert report.alpha == pytest.approx(krippendorff_alpha([pooled_1, pooled_2]))
    assert report.agreement == pytest.approx(10 / 15)


def test_annotation_file_round_trips():
    doc = DocumentAnnotations("d1", (record(DOC, 3, "annotator-1", FULL, lead_time=2.5),))
    assert parse_document_annotations(json.loads(dump_json(doc.as_json()))) == doc
    with pytest.raises(ValueError, match="not an annotation file"):
        parse_document_annotations({"doc_id": "d1", "annotations": []})


def test_status_command_prints_states_and_agreement(tmp_path):
    from corpus.ingest import read_documents
    from corpus.prelabel import prelabel_document

    seeds = ROOT / "seeds"
    docs = [prelabel_document(d) for d in read_documents(seeds)]
    first, second = docs[0], docs[1]
    accepted = [Region(s.start, s.end, (s.category,), first.text[s.start : s.end]) for s in first.spans]
    changed = [
        Region(r.start, r.end, ("other",) if i == 0 else r.labels, r.value_text)
        for i, r in enumerate(accepted)
    ]
    _write(
        tmp_path,
        first.doc_id,
        record(first, 1, "annotator-1", accepted),
        record(first, 2, "annotator-2", changed),
    )
    _write(tmp_path, second.doc_id, record(second, 3, "annotator-1", (), sha="f" * 64))
    result = CliRunner().invoke(
        annotate_app, ["status", "--seeds", str(seeds), "--annotations", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    lines = {line.split()[0]: line for line in result.stdout.splitlines() if line.strip()}
    assert "conflicting" in lines[first.doc_id] and "annotator-1, annotator-2" in lines[first.doc_id]
    assert "stale" in lines[second.doc_id]
    assert "unlabelled" in lines[docs[2].doc_id]
    assert "total: unlabelled 3, labelled 0, conflicting 1, stale 1" in result.stdout
    assert "unresolved tie between" in result.stderr


def test_human_labels_reach_the_release(tmp_path):
    """Pulled files → ``corpus build``: adjudicated human spans replace the pre-labels."""
    import pyarrow.parquet as pq

    from corpus.ingest import read_documents
    from corpus.pipeline import build
    from corpus.prelabel import prelabel_document

    seeds = ROOT / "seeds"
    doc = next(prelabel_document(d) for d in read_documents(seeds, display_root=seeds))
    accepted = [Region(s.start, s.end, (s.category,), doc.text[s.start : s.end]) for s in doc.spans]
    relabelled = [
        Region(accepted[0].start, accepted[0].end, ("other",), accepted[0].value_text),
        *accepted[1:],
    ]
    annotations = tmp_path / "annotation"
    _write(
        annotations,
        doc.doc_id,
        record(doc, 1, "annotator-1", relabelled),
        record(doc, 2, "annotator-2", accepted),
        record(doc, 3, "annotator-3", relabelled),
    )
    report = build(seeds, annotations, tmp_path / "releases", "0.1.0")
    assert report.release is not None and report.human_documents == 1
    [human] = [d for d in report.documents if d.doc_id == doc.doc_id]
    assert human.label_source == "human"
    assert human.spans[0].category == "other" and len(human.spans) >= len(doc.spans) - 1
    spans = pq.read_table(report.release.path / "spans").to_pandas()
    mine = spans[spans["doc_id"] == doc.doc_id].sort_values("start")
    assert set(mine["label_source"]) == {"human"}
    assert CATEGORY_NAMES[mine.iloc[0]["category"]] == "other"  # a ClassLabel index in the release
    labels = load_human_labels(annotations, [doc])
    assert labels.agreement is not None and labels.agreement.startswith(
        f"{labels.alpha:.3f} over 1 document(s)"
    )
