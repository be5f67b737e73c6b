"""The data contract: the columns of the ``documents`` and ``spans`` tables, declared once.

The Hugging Face ``Features``, the pandera schemas (``corpus.validate``), the JSON Schema
and README in ``schema/`` and the card's field tables are all derived from ``TABLES``.
Bump ``SCHEMA_VERSION`` (and the release's major version) when a column changes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from corpus.labels import CATEGORIES, CATEGORY_NAMES, LABEL_SOURCES, LABELS, LANGUAGES, SPLITS

SCHEMA_VERSION = "1.0.0"


@dataclass(frozen=True)
class Column:
    name: str
    dtype: str  # string | int32 | float32 | label | category | spans
    description: str
    nullable: bool = False
    allowed: tuple[str, ...] = ()


SPAN_FIELDS: tuple[Column, ...] = (
    Column("start", "int32", "First code point of the span in the document text (inclusive)."),
    Column("end", "int32", "Code point after the span (exclusive): text[start:end] is the span."),
    Column("label", "label", "Binary label, derived from the category.", allowed=LABELS),
    Column("category", "category", "Fine category (see the label table).", allowed=CATEGORY_NAMES),
    Column("score", "float32", "Pre-labeler confidence in [0, 1]; 1.0 for human labels."),
    Column("label_source", "string", "Who labelled the span: human or model.", allowed=LABEL_SOURCES),
)

DOCUMENT_COLUMNS: tuple[Column, ...] = (
    Column("doc_id", "string", "Stable document id (input file stem or JSONL id)."),
    Column("text", "string", "Article text, NFC with LF line endings; span offsets index it."),
    Column("lang", "string", "Language (langdetect, seeded).", allowed=LANGUAGES),
    Column("lang_prob", "float32", "langdetect probability of `lang`."),
    Column("url", "string", "Source URL, when the input gave one.", nullable=True),
    Column("source", "string", "Publisher, when the input gave one.", nullable=True),
    Column("published", "string", "Publication date as given by the input.", nullable=True),
    Column("source_file", "string", "Input file the document came from, relative to the input folder."),
    Column("raw_sha256", "string", "sha256 of the raw input bytes (before normalisation)."),
    Column("text_sha256", "string", "sha256 of `text` (UTF-8): annotations are tied to it."),
    Column(
        "label_source", "string", "human if every span is human-labelled, else model.", allowed=LABEL_SOURCES
    ),
    Column("model_version", "string", "Pre-labeler that made the model spans ('' when all are human)."),
    Column("spans", "spans", "The document's spans, sorted by start."),
)

SPAN_COLUMNS: tuple[Column, ...] = (
    Column("doc_id", "string", "Document the span belongs to."),
    Column("span_index", "int32", "Position of the span within its document (0-based)."),
    Column("start", "int32", SPAN_FIELDS[0].description),
    Column("end", "int32", SPAN_FIELDS[1].description),
    Column("text", "string", "The span text, text[start:end] of its document."),
    SPAN_FIELDS[2],
    SPAN_FIELDS[3],
    SPAN_FIELDS[4],
    SPAN_FIELDS[5],
    Column("lang", "string", "Language of the document.", allowed=LANGUAGES),
)

TABLES: dict[str, tuple[Column, ...]] = {"documents": DOCUMENT_COLUMNS, "spans": SPAN_COLUMNS}


def hf_features(table: str):
    """The ``datasets.Features`` of a config; label and category are ``ClassLabel``."""
    import datasets

    def feature(col: Column):
        if col.dtype == "label":
            return datasets.ClassLabel(names=list(LABELS))
        if col.dtype == "category":
            return datasets.ClassLabel(names=list(CATEGORY_NAMES))
        if col.dtype == "spans":
            return datasets.List({c.name: feature(c) for c in SPAN_FIELDS})
        return datasets.Value(col.dtype)

    return datasets.Features({c.name: feature(c) for c in TABLES[table]})


def features_dict(table: str) -> dict:
    """``hf_features(table).to_dict()`` without importing ``datasets``: the features as they
    are stored in Parquet metadata. ``datasets`` brings pandas with it, ~1 s of CPU at every
    start of ``corpus stream-build``; ``tests/test_contract.py`` holds the two equal."""

    def feature(col: Column) -> dict:
        if col.dtype == "label":
            return {"names": list(LABELS), "_type": "ClassLabel"}
        if col.dtype == "category":
            return {"names": list(CATEGORY_NAMES), "_type": "ClassLabel"}
        if col.dtype == "spans":
            return {"feature": {c.name: feature(c) for c in SPAN_FIELDS}, "_type": "List"}
        return {"dtype": col.dtype, "_type": "Value"}

    return {c.name: feature(c) for c in TABLES[table]}


def arrow_schema(table: str):
    """``hf_features(table).arrow_schema`` (Arrow types, the features in the ``huggingface``
    metadata) without importing ``datasets``."""
    import pyarrow as pa

    def arrow_type(col: Column) -> pa.DataType:
        if col.dtype in ("label", "category"):
            return pa.int64()
        if col.dtype == "spans":
            return pa.list_(pa.struct([pa.field(c.name, arrow_type(c)) for c in SPAN_FIELDS]))
        return {"string": pa.string(), "int32": pa.int32(), "float32": pa.float32()}[col.dtype]

    metadata = {"huggingface": json.dumps({"info": {"features": features_dict(table)}})}
    return pa.schema([pa.field(c.name, arrow_type(c)) for c in TABLES[table]], metadata=metadata)


def features_yaml(table: str) -> list:
    """``hf_features(table)._to_yaml_list()``, the card's ``dataset_info`` features, without
    importing ``datasets``."""

    def entry(col: Column) -> dict:
        if col.dtype in ("label", "category"):
            names = LABELS if col.dtype == "label" else CATEGORY_NAMES
            return {
                "name": col.name,
                "dtype": {"class_label": {"names": {str(k): v for k, v in enumerate(names)}}},
            }
        if col.dtype == "spans":
            return {"name": col.name, "list": [entry(c) for c in SPAN_FIELDS]}
        return {"name": col.name, "dtype": col.dtype}

    return [entry(c) for c in TABLES[table]]


def json_schema(table: str) -> dict:
    """A JSON Schema for one row of a table, for readers who do not use Python."""

    def prop(col: Column) -> dict:
        if col.dtype == "spans":
            out: dict = {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {c.name: prop(c) for c in SPAN_FIELDS},
                    "required": [c.name for c in SPAN_FIELDS],
                    "additionalProperties": False,
                },
            }
        elif col.dtype in ("int32",):
            out = {"type": "integer", "minimum": 0}
        elif col.dtype == "float32":
            out = {"type": "number", "minimum": 0, "maximum": 1}
        else:
            out = {"type": "string"}
        if col.dtype in ("label", "category"):
            out["description"] = col.description + " Stored in Parquet as the ClassLabel index."
            out["enum"] = list(col.allowed)
        else:
            out["description"] = col.description
            if col.allowed:
                out["enum"] = list(col.allowed)
        if col.nullable:
            out["type"] = [out["type"], "null"]
        return out

    columns = TABLES[table]
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"chhanni/{table}.schema.json",
        "title": f"Chhanni {table} row (schema {SCHEMA_VERSION})",
        "type": "object",
        "properties": {c.name: prop(c) for c in columns},
        "required": [c.name for c in columns],
        "additionalProperties": False,
    }


def schema_files() -> dict[str, str]:
    """The generated contents of ``schema/``: file name → text."""
    files = {
        f"{table}.schema.json": json.dumps(json_schema(table), ensure_ascii=False, indent=2) + "\n"
        for table in TABLES
    }
    files["labels.json"] = (
        json.dumps(
            {
                "labels": list(LABELS),
                "categories": [
                    {"name": c.name, "label": c.label, "definition": c.definition, "colour": c.colour}
                    for c in CATEGORIES
                ],
                "splits": list(SPLITS),
                "languages": list(LANGUAGES),
            },
            ensure_ascii=False,
            indent=2,
        )
        + "\n"
    )
    files["README.md"] = _schema_readme()
    return files


def _schema_readme() -> str:
    lines = [
        "# Chhanni data contract",
        "",
        f"Schema version **{SCHEMA_VERSION}**. Generated by `corpus schema` from `corpus/schema.py` and",
        "`corpus/labels.py`; do not edit by hand (a test fails when this folder is out of date).",
        "",
        "Every release has two configs, each a set of Parquet files per split:",
        "`documents` (one row per article, with its spans nested) and `spans` (one row per span).",
        "`label` and `category` are stored as class indices; the names are in `labels.json`",
        "and in the Parquet files' Hugging Face feature metadata.",
        "",
        "## Rules every release satisfies",
        "- `0 <= start < end <= len(text)`; `text[start:end]` is the span text (Python code points",
        "  over NFC text with LF line endings; not UTF-16, not bytes).",
        "- Spans of a document are sorted, never overlap, start and end on non-whitespace, and",
        "  together cover every non-whitespace character exactly once.",
        "- `label` is the parent of `category` (see below); `score` is in [0, 1].",
        "- `doc_id` is unique; `text_sha256` is the sha256 of the UTF-8 text.",
        "",
        "## Labels",
        "",
        "| category | label | definition |",
        "|---|---|---|",
    ]
    lines += [f"| `{c.name}` | {c.label} | {c.definition} |" for c in CATEGORIES]
    for table, columns in TABLES.items():
        lines += ["", f"## `{table}` columns", "", "| column | type | description |", "|---|---|---|"]
        for c in columns:
            kind = {"label": "class label", "category": "class label", "spans": "list of span structs"}.get(
                c.dtype, c.dtype
            )
            lines.append(f"| `{c.name}` | {kind}{' (nullable)' if c.nullable else ''} | {c.description} |")
    lines += ["", "JSON Schemas for one row: `documents.schema.json`, `spans.schema.json`.", ""]
    return "\n".join(lines)
