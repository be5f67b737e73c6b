"""Validate: pandera schemas for the ``documents`` and ``spans`` tables, derived from ``corpus.schema``.

Row checks (types, ranges, allowed values, label ↔ category) live on the two table schemas;
cross checks (span in range of its document, text matches, no overlap, full coverage of
non-whitespace) live on a third schema over spans joined with their document. Failures are
reported as ``doc_id span N: rule`` lines.

``corpus.tables.meets_contract`` checks the same rules on Arrow-bound columns, vectorised, for
``corpus stream-build``; ``tests/test_tables.py`` breaks each rule and compares the two.
"""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa

from corpus.labels import CATEGORY_LABEL
from corpus.schema import TABLES, Column
from corpus.tables import SHA256_HEX


class SchemaViolation(ValueError):
    """The tables break the data contract; ``lines`` name each document, span and rule."""

    def __init__(self, lines: list[str]):
        self.lines = lines
        more = f" (and {len(lines) - 1} more)" if len(lines) > 1 else ""
        super().__init__(f"{lines[0]}{more}")


def _column(col: Column) -> pa.Column:
    checks: list[pa.Check] = []
    if col.allowed:
        checks.append(pa.Check.isin(list(col.allowed), error=f"{col.name} in {list(col.allowed)}"))
    if col.dtype == "int32":
        checks.append(pa.Check.ge(0, error=f"{col.name} >= 0"))
        return pa.Column("int64", checks, nullable=False, coerce=True)
    if col.dtype == "float32":
        checks.append(pa.Check.in_range(0.0, 1.0, error=f"{col.name} in [0, 1]"))
        return pa.Column("float64", checks, nullable=False, coerce=True)
    if col.name.endswith("sha256"):
        checks.append(pa.Check.str_matches(SHA256_HEX, error=f"{col.name} is a sha256 hex digest"))
    if col.dtype == "spans":
        return pa.Column(object, nullable=False)
    return pa.Column(str, checks, nullable=col.nullable)


def _label_matches_category(df: pd.DataFrame) -> pd.Series:
    return df["category"].map(CATEGORY_LABEL) == df["label"]


DOCUMENTS_SCHEMA = pa.DataFrameSchema(
    {c.name: _column(c) for c in TABLES["documents"]},
    unique=["doc_id"],
    strict=True,
    name="documents",
)

SPANS_SCHEMA = pa.DataFrameSchema(
    {c.name: _column(c) for c in TABLES["spans"]},
    checks=[
        pa.Check(lambda df: df["start"] < df["end"], name="start < end"),
        pa.Check(_label_matches_category, name="label is the parent of category"),
        pa.Check(
            lambda df: df["text"].map(lambda t: isinstance(t, str) and t == t.strip()),
            name="span starts and ends on non-whitespace",
        ),
    ],
    unique=["doc_id", "span_index"],
    strict=True,
    name="spans",
)

CROSS_SCHEMA = pa.DataFrameSchema(
    {
        "doc_id": pa.Column(str, pa.Check(lambda s: s.notna(), name="span belongs to a known document")),
    },
    checks=[
        pa.Check(lambda df: df["end"] <= df["doc_len"], name="span ends inside its document"),
        pa.Check(
            lambda df: pd.Series(
                [d[s:e] == t for d, s, e, t in zip(df["doc_text"], df["start"], df["end"], df["text"])],
                index=df.index,
            ),
            name="text[start:end] equals the span text",
        ),
        pa.Check(lambda df: df["start"] >= df["prev_end"], name="spans are sorted and do not overlap"),
    ],
    name="spans ⋈ documents",
)

COVERAGE_SCHEMA = pa.DataFrameSchema(
    checks=[
        pa.Check(
            lambda df: df["covered"] == df["non_whitespace"],
            name="spans cover every non-whitespace character exactly once",
        )
    ],
    name="coverage",
)


def _non_whitespace(text: str) -> int:
    return sum(not ch.isspace() for ch in text)


def validate_tables(documents: pd.DataFrame, spans: pd.DataFrame) -> None:
    """Raise ``SchemaViolation`` naming every broken document/span and rule."""
    problems: list[str] = []
    problems += _run(DOCUMENTS_SCHEMA, documents, documents, span_level=False)
    problems += _run(SPANS_SCHEMA, spans, spans, span_level=True)
    if problems:
        raise SchemaViolation(problems)

    doc_text = documents.set_index("doc_id")["text"]
    joined = spans.copy()
    joined["doc_text"] = joined["doc_id"].map(doc_text)
    joined["doc_len"] = joined["doc_text"].str.len()
    ordered = joined.sort_values(["doc_id", "span_index"])
    joined["prev_end"] = ordered.groupby("doc_id")["end"].shift(1).fillna(0).astype("int64")
    unknown = joined["doc_text"].isna()
    problems += [
        f"{d} span {i}: belongs to no document"
        for d, i in zip(joined.loc[unknown, "doc_id"], joined.loc[unknown, "span_index"])
    ]
    known = joined[~unknown]
    problems += _run(CROSS_SCHEMA, known, known, span_level=True)

    coverage = pd.DataFrame(
        {
            "doc_id": documents["doc_id"],
            "non_whitespace": documents["text"].map(_non_whitespace),
            "covered": documents["doc_id"]
            .map(spans.assign(nws=spans["text"].map(_non_whitespace)).groupby("doc_id")["nws"].sum())
            .fillna(0)
            .astype("int64"),
        }
    )
    problems += _run(COVERAGE_SCHEMA, coverage, coverage, span_level=False)
    if problems:
        raise SchemaViolation(problems)


def _run(schema: pa.DataFrameSchema, frame: pd.DataFrame, keys: pd.DataFrame, span_level: bool) -> list[str]:
    try:
        schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as err:
        return _describe(err.failure_cases, keys, span_level)
    return []


def _describe(cases: pd.DataFrame, keys: pd.DataFrame, span_level: bool) -> list[str]:
    lines = []
    for _, case in cases.iterrows():
        index = case.get("index")
        where = "table"
        if index is not None and not pd.isna(index) and index in keys.index:
            row = keys.loc[index]
            where = f"{row['doc_id']} span {row['span_index']}" if span_level else f"{row['doc_id']}"
        column = case.get("column")
        check = case.get("check")
        detail = f"column {column!r} " if isinstance(column, str) and column not in ("", None) else ""
        lines.append(f"{where}: {detail}fails '{check}' (value {case.get('failure_case')!r})")
    return sorted(set(lines))
