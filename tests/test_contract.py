"""One source of truth: every artefact derived from corpus.labels / corpus.schema agrees with it."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from corpus.card import render_card
from corpus.labels import CATEGORIES, CATEGORY_NAMES, LABELS, label_of, label_set_hash
from corpus.schema import (
    TABLES,
    arrow_schema,
    features_dict,
    features_yaml,
    hf_features,
    json_schema,
    schema_files,
)
from corpus.validate import DOCUMENTS_SCHEMA, SPANS_SCHEMA, SchemaViolation, validate_tables

ROOT = Path(__file__).resolve().parents[1]


def test_every_category_rolls_up_to_a_label():
    assert set(LABELS) == {"content", "boilerplate"}
    assert [c.name for c in CATEGORIES if c.label == "content"] == ["title", "subheading", "body", "caption"]
    assert {c.label for c in CATEGORIES} == set(LABELS)
    assert len(set(CATEGORY_NAMES)) == len(CATEGORY_NAMES)
    with pytest.raises(KeyError):
        label_of("sidebar")


def test_labelling_standard_names_every_category():
    standard = ROOT.parent / "shared" / "LABELLING.md"
    if not standard.exists():
        pytest.skip("shared/LABELLING.md is beside the repo only in the workplace")
    text = standard.read_text(encoding="utf-8")
    for name in CATEGORY_NAMES:
        assert f"`{name}`" in text, name


def test_hf_features_use_the_label_set():
    spans = hf_features("spans")
    assert spans["label"].names == list(LABELS)
    assert spans["category"].names == list(CATEGORY_NAMES)
    nested = hf_features("documents")["spans"].feature
    assert nested["category"].names == list(CATEGORY_NAMES)
    assert list(hf_features("documents")) == [c.name for c in TABLES["documents"]]


@pytest.mark.parametrize("table", list(TABLES))
def test_features_without_datasets_equal_the_datasets_ones(table):
    features = hf_features(table)
    assert json.dumps(features_dict(table)) == json.dumps(features.to_dict())
    assert json.dumps(features_yaml(table)) == json.dumps(features._to_yaml_list())  # key order too
    assert arrow_schema(table).equals(features.arrow_schema, check_metadata=True)
    assert arrow_schema(table).metadata == features.arrow_schema.metadata


def test_pandera_schemas_use_the_label_set():
    checks = {c.name: c for c in SPANS_SCHEMA.columns["category"].checks}
    assert any(str(list(CATEGORY_NAMES)) in (c.error or "") for c in checks.values())
    assert set(SPANS_SCHEMA.columns) == {c.name for c in TABLES["spans"]}
    assert set(DOCUMENTS_SCHEMA.columns) == {c.name for c in TABLES["documents"]}


def test_schema_folder_is_generated_from_code():
    for name, text in schema_files().items():
        path = ROOT / "schema" / name
        assert path.read_text(encoding="utf-8") == text, f"schema/{name} is stale: run `corpus schema`"
    labels = json.loads((ROOT / "schema" / "labels.json").read_text(encoding="utf-8"))
    assert [c["name"] for c in labels["categories"]] == list(CATEGORY_NAMES)
    assert json_schema("spans")["properties"]["category"]["enum"] == list(CATEGORY_NAMES)


def test_card_label_table_lists_every_category():
    context = {
        "version": "0.0.0",
        "documents": [],
        "by_split": {},
        "inputs": {},
        "rows": {"documents": {}, "spans": {}},
        "num_bytes": {"documents": {}, "spans": {}},
        "data_files": {"documents": {}, "spans": {}},
        "spans_per_category": {},
    }
    card = render_card(context)
    for c in CATEGORIES:
        assert f"| `{c.name}` | {c.label} | {c.definition} |" in card


def test_label_set_hash_changes_with_the_label_set(monkeypatch):
    before = label_set_hash()
    monkeypatch.setattr("corpus.labels.CATEGORIES", CATEGORIES[:-1])
    assert label_set_hash() != before


def _tables(**span_overrides):
    text = "শিরোনাম এখানে\nপ্রথম অনুচ্ছেদ।"
    documents = pd.DataFrame(
        [
            {
                "doc_id": "d1",
                "text": text,
                "lang": "bn",
                "lang_prob": 0.99,
                "url": None,
                "source": None,
                "published": None,
                "source_file": "d1.txt",
                "raw_sha256": "0" * 64,
                "text_sha256": "1" * 64,
                "label_source": "model",
                "model_version": "x",
                "spans": [],
            }
        ]
    )
    rows = [
        {
            "doc_id": "d1",
            "span_index": 0,
            "start": 0,
            "end": 13,
            "text": text[0:13],
            "label": "content",
            "category": "title",
            "score": 0.5,
            "label_source": "model",
            "lang": "bn",
        },
        {
            "doc_id": "d1",
            "span_index": 1,
            "start": 14,
            "end": len(text),
            "text": text[14:],
            "label": "content",
            "category": "body",
            "score": 0.5,
            "label_source": "model",
            "lang": "bn",
        },
    ]
    rows[1].update(span_overrides)
    return documents, pd.DataFrame(rows)


def test_validate_accepts_a_well_formed_document():
    validate_tables(*_tables())


@pytest.mark.parametrize(
    ("override", "rule"),
    [
        ({"category": "banner"}, "category in"),
        ({"label": "boilerplate"}, "label is the parent of category"),
        ({"score": 1.5}, "score in [0, 1]"),
        ({"start": 20, "end": 20, "text": ""}, "start < end"),
        ({"end": 99}, "span ends inside its document"),
        ({"text": "অন্য লেখা"}, "text[start:end] equals the span text"),
        ({"start": 10}, "do not overlap"),
        ({"start": 16, "text": "থম অনুচ্ছেদ।"}, "cover every non-whitespace character"),
    ],
)
def test_validate_names_document_span_and_rule(override, rule):
    with pytest.raises(SchemaViolation) as info:
        validate_tables(*_tables(**override))
    assert any(rule in line and line.startswith(("d1 span 1", "d1:")) for line in info.value.lines), (
        info.value.lines
    )
