"""corpus.tables: the release tables built column by column equal the row-by-row ones, and
``meets_contract`` accepts exactly what the pandera schemas accept."""

from __future__ import annotations

import copy
import sys
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

from corpus.document import Span
from corpus.ingest import make_document
from corpus.labels import CATEGORY_NAMES, LABELS
from corpus.prelabel import prelabel_document
from corpus.release import _encode_labels, document_rows, span_rows
from corpus.schema import TABLES
from corpus.stream import fast_validation
from corpus.tables import (
    Columns,
    arrow_array,
    arrow_tables,
    columns_of,
    labelled_columns,
    meets_contract,
    release_schemas,
)
from corpus.validate import SchemaViolation, validate_tables

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

import make_corpus  # noqa: E402


@pytest.fixture(scope="module")
def docs() -> list:
    """Pre-labelled synthetic articles, one with every optional field empty, one human-labelled."""
    out = []
    for i in range(12):
        record = make_corpus.make_article(i, seed=11)
        doc = make_document(
            doc_id=record["id"],
            text=record["text"],
            raw_sha256="ab" * 32,
            source_file="synthetic.jsonl",
            url=record.get("url") if i % 3 else None,
            source=record.get("source") if i % 4 else None,
            published="2024-01-0" + str(i % 9 + 1) if i % 2 else None,
        )
        out.append(prelabel_document(doc))
    human = out[1]
    out[1] = human.with_spans([Span(s.start, s.end, s.category, 1.0, "human") for s in human.spans])
    return out


def test_columns_straight_from_the_model_columns_equal_those_of_the_labelled_documents(docs):
    from corpus.prelabel import document_columns

    unlabelled = [d.with_spans((), "") for d in docs]
    labelled = [document_columns(d) for d in unlabelled]
    model = [d for d in docs if d.label_source == "model"]
    assert len(model) == len(docs) - 1
    got = labelled_columns(unlabelled, labelled)
    want = columns_of([d.with_spans(c.spans(), c.model_version) for d, c in zip(unlabelled, labelled)])
    assert got == want and sum(got.span_counts) > 100
    assert columns_of(model) == labelled_columns(
        [unlabelled[docs.index(d)] for d in model], [labelled[docs.index(d)] for d in model]
    )


def test_arrow_tables_equal_the_tables_made_from_rows(docs):
    columns = columns_of(docs)
    assert meets_contract(columns)
    expected = [
        pa.Table.from_pylist([_encode_labels(r) for r in rows], schema=schema)
        for rows, schema in zip((document_rows(docs), span_rows(docs)), release_schemas())
    ]
    for got, want in zip(arrow_tables(columns), expected):
        assert got.equals(want, check_metadata=True)
        assert got.schema.equals(want.schema, check_metadata=True)


def frames(columns: Columns) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The DataFrames ``validate_tables`` takes for these columns (class indices as names)."""

    def name(names: tuple[str, ...], k: int) -> str:
        return names[k] if 0 <= k < len(names) else f"unknown-{k}"

    spans = dict(columns.spans)
    spans["label"] = [name(LABELS, k) for k in spans["label"]]
    spans["category"] = [name(CATEGORY_NAMES, k) for k in spans["category"]]
    span_rows = [dict(zip(spans, values)) for values in zip(*spans.values())]
    nested, k = [], 0
    for n in columns.span_counts:
        nested.append(span_rows[k : k + n])
        k += n
    documents = pd.DataFrame(
        {**columns.documents, "spans": nested}, columns=[c.name for c in TABLES["documents"]]
    )
    return documents, pd.DataFrame(span_rows, columns=[c.name for c in TABLES["spans"]])


def _pandera_accepts(columns: Columns) -> bool:
    """As ``corpus stream-build`` runs them (``fast_validation``)."""
    with fast_validation():
        try:
            validate_tables(*frames(columns))
        except SchemaViolation:
            return False
    return True


def _set(table: str, column: str, row: int, value):
    def change(columns: Columns) -> None:
        values = getattr(columns, table)[column]
        values[row if row >= 0 else len(values) + row] = value

    return change


def _shrink_last_span(columns: Columns) -> None:
    """The last span loses its last character: now uncovered."""
    end = columns.spans["end"][-1] - 1
    columns.spans["end"][-1] = end
    columns.spans["text"][-1] = columns.documents["text"][-1][columns.spans["start"][-1] : end]


def _overlap(columns: Columns) -> None:
    """Span 1 starts one character inside span 0."""
    start = columns.spans["end"][0] - 1
    columns.spans["start"][1] = start
    columns.spans["text"][1] = columns.documents["text"][0][start : columns.spans["end"][1]]


def _swap_first_spans(columns: Columns) -> None:
    for values in columns.spans.values():
        if values is not columns.spans["span_index"]:
            values[0], values[1] = values[1], values[0]


HEX = "cd" * 32
MUTATIONS = {  # name → (change, whether the pandera schemas accept the result)
    "unchanged": (lambda c: None, True),
    "url set": (_set("documents", "url", 0, "https://example.org/x"), True),
    "url missing": (_set("documents", "url", 1, None), True),
    "sha256 with a final newline": (_set("documents", "raw_sha256", 0, HEX + "\n"), True),
    "span labelled by a human": (_set("spans", "label_source", 3, "human"), True),
    "score 0 and lang_prob 1": (
        lambda c: (_set("spans", "score", 0, 0.0)(c), _set("documents", "lang_prob", 0, 1.0)(c)),
        True,
    ),
    "duplicate doc_id": (lambda c: _set("documents", "doc_id", 1, c.documents["doc_id"][0])(c), False),
    "doc_id as bytes": (_set("documents", "doc_id", 0, b"d"), False),
    "text missing": (_set("documents", "text", 2, None), False),
    "unknown language": (_set("documents", "lang", 0, "en"), False),
    "lang_prob above 1": (_set("documents", "lang_prob", 0, 1.5), False),
    "lang_prob NaN": (_set("documents", "lang_prob", 0, float("nan")), False),
    "url not a string": (_set("documents", "url", 0, 5), False),
    "sha256 in capitals": (_set("documents", "text_sha256", 0, HEX.upper()), False),
    "sha256 too short": (_set("documents", "raw_sha256", 0, HEX[:-1]), False),
    "document label_source": (_set("documents", "label_source", 0, "robot"), False),
    "model_version missing": (_set("documents", "model_version", 0, None), False),
    "source_file missing": (_set("documents", "source_file", 0, None), False),
    "negative start": (_set("spans", "start", 0, -1), False),
    "end past the text": (_set("spans", "end", -1, 10**6), False),
    "empty span": (
        lambda c: (_set("spans", "end", 0, c.spans["start"][0])(c), _set("spans", "text", 0, "")(c)),
        False,
    ),
    "span text differs": (_set("spans", "text", 2, "অন্য লেখা"), False),
    "span text as bytes": (_set("spans", "text", 2, b"x"), False),
    "label not the parent": (lambda c: _set("spans", "label", 0, 1 - c.spans["label"][0])(c), False),
    "unknown category": (_set("spans", "category", 0, -1), False),
    "score above 1": (_set("spans", "score", 0, 1.5), False),
    "score NaN": (_set("spans", "score", 0, float("nan")), False),
    "span label_source": (_set("spans", "label_source", 0, "robot"), False),
    "uncovered character": (_shrink_last_span, False),
    "overlapping spans": (_overlap, False),
    "unsorted spans": (_swap_first_spans, False),
}


@pytest.mark.parametrize("name", MUTATIONS)
def test_meets_contract_agrees_with_the_pandera_schemas(docs, name):
    columns = copy.deepcopy(columns_of(docs[:3]))
    change, accepted = MUTATIONS[name]
    change(columns)
    assert _pandera_accepts(columns) is accepted
    assert meets_contract(columns) is accepted


def test_arrays_built_from_buffers_equal_pyarrows_own_conversion():
    """``arrow_array`` (no pandas import) gives ``pa.array``'s arrays, and refuses what it refuses."""
    cases = [
        (pa.string(), ["a", None, "ক্ষ😀\u200d", "", "x" * 1000]),
        (pa.string(), []),
        (pa.string(), [None, None]),
        (pa.string(), ["ab", "é", "", "€x", "😀", "aé€😀", "ঢাকা", None, ""]),  # 1- to 4-byte characters
        (pa.string(), ["ascii", "", "only"]),
        (pa.string(), ["", ""]),
        (pa.int32(), [0, 5, 2**31 - 1, -(2**31)]),
        (pa.int64(), [-1, 3, 2**40]),
        (pa.float32(), [0.1234, 1.0, 0.0, 1e-05, 0.33333]),
        (pa.bool_(), [True, False, False, True, True, False, True, True, False]),
    ]
    for arrow_type, values in cases:
        built = arrow_array(values, arrow_type)
        assert built.type == arrow_type and built.equals(pa.array(values, arrow_type)), (arrow_type, values)
    with pytest.raises(OverflowError):
        arrow_array([2**31], pa.int32())
    with pytest.raises(UnicodeEncodeError):
        arrow_array(["\ud800"], pa.string())


def test_stream_build_does_not_import_pandas_or_arrow_compute(tmp_path: Path):
    """The fast path builds and checks every table without pandas (pandera only words a
    report, ~0.5 s of start-up) and casts no column (``Array.cast`` imports
    ``pyarrow.compute``, ~0.07 s)."""
    import json
    import subprocess

    corpus = tmp_path / "in"
    corpus.mkdir()
    with (corpus / "a.jsonl").open("w", encoding="utf-8") as handle:
        for record in make_corpus.iter_articles(20, 3, 0):
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    code = (
        "import sys; from pathlib import Path; from corpus.stream import stream_build; "
        f"stream_build(Path({str(corpus)!r}), Path({str(tmp_path / 'out')!r}), '0.0.1'); "
        "print(sorted({'pandas', 'pandera', 'pyarrow.compute'} & set(sys.modules)))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip().splitlines()[-1] == "[]"
    assert (tmp_path / "out" / "v0.0.1").is_dir()
