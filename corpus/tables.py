"""The release tables of a list of documents, column by column: built in Arrow and checked
against the data contract without pandas.

``corpus stream-build`` makes both tables for every batch. Going through row dicts, pandas
DataFrames, the pandera schemas and ``Table.from_pylist`` cost about as much CPU as
pre-labelling itself; here each column is one Python list, turned into one Arrow array,
and the nested ``spans`` column of ``documents`` reuses the arrays of the ``spans`` table.

``meets_contract`` checks the rules of ``corpus.validate`` (the pandera schemas stay the
contract) on these columns, vectorised; it answers yes or no. When it says no, the caller
runs the pandera schemas for the report naming each document, span and rule. It is never
more lenient than they are (tests break each rule and compare both).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from itertools import chain, repeat
from typing import TYPE_CHECKING

import numpy as np

from corpus.document import Document
from corpus.labels import CATEGORY_INDEX, CATEGORY_LABEL, CATEGORY_NAMES, LABEL_SOURCES, LABELS, LANGUAGES
from corpus.schema import TABLES

if TYPE_CHECKING:
    from corpus.prelabel import SpanColumns

SHA256_HEX = r"^[0-9a-f]{64}$"  # as pandera's ``str_matches``: ``re.match``, so "$" allows a final "\n"

_SHA256 = re.compile(SHA256_HEX)
_LABEL_INDEX = {name: k for k, name in enumerate(LABELS)}
_PARENT = tuple(_LABEL_INDEX[CATEGORY_LABEL[name]] for name in CATEGORY_NAMES)  # category index → label index
_LABEL_OF_CATEGORY = np.array(_PARENT, dtype=np.int64)
_STRINGS = ("doc_id", "text", "source_file", "raw_sha256", "text_sha256", "model_version")
_OPTIONAL_STRINGS = ("url", "source", "published")


_DOCUMENT_COLUMNS = tuple(c.name for c in TABLES["documents"] if c.name != "spans")  # Document fields


@dataclass(frozen=True)
class Columns:
    """Both tables of some documents as Python lists: ``documents`` without its nested
    ``spans`` (that is ``span_counts`` documents' slices of the span columns), and ``spans``
    with labels and categories as class indices (-1 for an unknown name)."""

    documents: dict[str, list]
    spans: dict[str, list]
    span_counts: list[int]


def columns_of(docs: list[Document]) -> Columns:
    """The values ``corpus.release.document_rows``/``span_rows`` put in each row, per column."""
    spans = [(d, i, s) for d in docs for i, s in enumerate(d.spans)]
    categories = [CATEGORY_INDEX.get(s.category, -1) for _, _, s in spans]
    documents = {name: [getattr(d, name) for d in docs] for name in _DOCUMENT_COLUMNS}
    span_columns = {
        "doc_id": [d.doc_id for d, _, _ in spans],
        "span_index": [i for _, i, _ in spans],
        "start": [s.start for _, _, s in spans],
        "end": [s.end for _, _, s in spans],
        "text": [d.text[s.start : s.end] for d, _, s in spans],
        "label": [_PARENT[c] if c >= 0 else -1 for c in categories],
        "category": categories,
        "score": [round(float(s.score), 4) for _, _, s in spans],
        "label_source": [s.label_source for _, _, s in spans],
        "lang": [d.lang for d, _, _ in spans],
    }
    return Columns(documents, span_columns, [len(d.spans) for d in docs])


def labelled_columns(docs: list[Document], labelled: list[SpanColumns]) -> Columns:
    """``columns_of`` the documents once labelled with ``labelled`` (``corpus.prelabel``'s
    columns of model spans, whose scores are rounded already), straight from the columns."""
    counts = [len(c.starts) for c in labelled]
    names = list(chain.from_iterable(c.categories for c in labelled))
    categories = [CATEGORY_INDEX.get(name, -1) for name in names]
    texts: list[str] = []
    for doc, c in zip(docs, labelled):
        text = doc.text
        texts += [text[a:b] for a, b in zip(c.starts, c.ends)]
    documents = {name: [getattr(d, name) for d in docs] for name in _DOCUMENT_COLUMNS}
    documents["label_source"] = ["model"] * len(docs)
    documents["model_version"] = [c.model_version for c in labelled]
    span_columns = {
        "doc_id": list(chain.from_iterable(repeat(d.doc_id, n) for d, n in zip(docs, counts))),
        "span_index": list(chain.from_iterable(map(range, counts))),
        "start": list(chain.from_iterable(c.starts for c in labelled)),
        "end": list(chain.from_iterable(c.ends for c in labelled)),
        "text": texts,
        "label": [_PARENT[c] if c >= 0 else -1 for c in categories],
        "category": categories,
        "score": list(chain.from_iterable(c.scores for c in labelled)),
        "label_source": ["model"] * len(names),
        "lang": list(chain.from_iterable(repeat(d.lang, n) for d, n in zip(docs, counts))),
    }
    return Columns(documents, span_columns, counts)


def meets_contract(columns: Columns) -> bool:
    """True when ``corpus.validate.validate_tables`` would accept these tables.

    Row rules of both schemas (types, nulls, allowed values, ranges, sha256 digests, unique
    ``doc_id``), then per span: ``start < end <= len(text)``, sorted and not overlapping,
    ``text[start:end]`` equal to the span text, which starts and ends on non-whitespace,
    label the parent of category. Coverage ("every non-whitespace character exactly once")
    is checked on the gaps: once spans are in range, sorted and disjoint, the document's
    non-whitespace count equals the spans' exactly when no gap between them has any.
    ``span_index``, spans' ``doc_id`` and ``lang`` come from their document, so unique
    ``(doc_id, span_index)`` and "belongs to a known document" hold by construction.
    """
    return _documents_ok(columns.documents) and _spans_ok(columns)


def _documents_ok(documents: dict[str, list]) -> bool:
    if not documents["doc_id"] or len(set(documents["doc_id"])) != len(documents["doc_id"]):
        return False
    if not all(_all_str(documents[name]) for name in _STRINGS):
        return False
    if not all(all(v is None or isinstance(v, str) for v in documents[name]) for name in _OPTIONAL_STRINGS):
        return False
    if not set(documents["lang"]) <= set(LANGUAGES) or not set(documents["label_source"]) <= set(
        LABEL_SOURCES
    ):
        return False
    if not all(_SHA256.match(v) for name in ("raw_sha256", "text_sha256") for v in documents[name]):
        return False
    return _in_unit_interval(documents["lang_prob"])


def _spans_ok(columns: Columns) -> bool:
    spans = columns.spans
    if not spans["start"] or not all(type(v) is int for name in ("start", "end") for v in spans[name]):
        return False
    if not set(spans["label_source"]) <= set(LABEL_SOURCES) or not _in_unit_interval(spans["score"]):
        return False
    category = np.array(spans["category"], dtype=np.int64)
    label = np.array(spans["label"], dtype=np.int64)
    if (category < 0).any() or (label != _LABEL_OF_CATEGORY[category]).any():
        return False
    start = np.array(spans["start"], dtype=np.int64)
    end = np.array(spans["end"], dtype=np.int64)
    counts = np.array(columns.span_counts, dtype=np.int64)
    texts = columns.documents["text"]
    first = np.concatenate(([0], np.cumsum(counts)[:-1]))
    previous_end = np.concatenate(([0], end[:-1]))
    previous_end[first[counts > 0]] = 0
    doc_len = np.repeat(np.array([len(t) for t in texts], dtype=np.int64), counts)
    if not ((start >= 0) & (start < end) & (end <= doc_len) & (start >= previous_end)).all():
        return False
    if not all(isinstance(t, str) and t == t.strip() for t in spans["text"]):
        return False
    return _texts_match(texts, columns.span_counts, spans["start"], spans["end"], spans["text"])


def _texts_match(
    texts: list[str], counts: list[int], starts: list[int], ends: list[int], spans: list[str]
) -> bool:
    """Each span's text is its document's ``text[start:end]`` and only whitespace lies
    between spans (given spans in range, sorted and disjoint)."""
    k = 0
    for text, n in zip(texts, counts):
        previous = 0
        for start, end in zip(starts[k : k + n], ends[k : k + n]):
            if text[start:end] != spans[k] or not _blank(text[previous:start]):
                return False
            previous = end
            k += 1
        if not _blank(text[previous:]):
            return False
    return True


def _blank(gap: str) -> bool:
    return not gap or gap.isspace()


def _all_str(values: list) -> bool:
    return all(isinstance(v, str) for v in values)


def _in_unit_interval(values: list) -> bool:
    """Python floats in [0, 1] (pandera coerces to float64; NaN fails, as there)."""
    if not all(isinstance(v, float) for v in values):
        return False
    array = np.array(values, dtype=np.float64)
    return bool(((array >= 0.0) & (array <= 1.0)).all())


@cache
def release_schemas() -> tuple:
    """The Arrow schemas (Hugging Face features in their metadata) of ``documents`` and ``spans``."""
    from corpus.schema import arrow_schema

    return tuple(arrow_schema(table) for table in ("documents", "spans"))


def arrow_tables(columns: Columns) -> tuple:
    """The ``documents`` and ``spans`` Arrow tables, equal to ``Table.from_pylist`` of the
    rows (``corpus.release._encode_labels``) with the release schemas."""
    import pyarrow as pa

    documents_schema, spans_schema = release_schemas()
    spans = pa.Table.from_arrays(
        [arrow_array(columns.spans[f.name], f.type) for f in spans_schema], schema=spans_schema
    )
    nested_type = documents_schema.field("spans").type
    nested = pa.StructArray.from_arrays(
        [_as_type(spans.column(f.name).combine_chunks(), f.type) for f in nested_type.value_type],
        fields=list(nested_type.value_type),
    )
    offsets = arrow_array(np.concatenate(([0], np.cumsum(columns.span_counts))).tolist(), pa.int32())
    arrays = [
        arrow_array(columns.documents[f.name], f.type)
        if f.name != "spans"
        else pa.ListArray.from_arrays(offsets, nested, type=nested_type)
        for f in documents_schema
    ]
    return pa.Table.from_arrays(arrays, schema=documents_schema), spans


def _as_type(array, arrow_type):
    """``array.cast(arrow_type)``, but no cast (which imports ``pyarrow.compute``, ~0.07 s of
    start-up) where the types are the same already: all of the release schemas' are."""
    return array if array.type == arrow_type else array.cast(arrow_type)


def _utf8_of(strings: list[str]) -> tuple[bytes, np.ndarray]:
    """The strings' UTF-8 bytes, one after the other, and the byte offset where each starts
    (and the end); ASCII strings (ids, codes) are encoded in one piece."""
    offsets = np.zeros(len(strings) + 1, dtype=np.int64)
    if all(map(str.isascii, strings)):  # a byte per character
        np.cumsum(list(map(len, strings)), out=offsets[1:])
        return "".join(strings).encode("ascii"), offsets
    encoded = [v.encode("utf-8") for v in strings]
    np.cumsum(list(map(len, encoded)), out=offsets[1:])
    return b"".join(encoded), offsets


_NUMPY_TYPES = {"int32": np.int32, "int64": np.int64, "float": np.float32, "bool": np.bool_}


def arrow_array(values: list, arrow_type):
    """``pa.array(values, arrow_type)`` for strings (None allowed), int32/int64, float32 and
    bools, built from buffers (other types, and nulls in those, go to ``pa.array`` itself):
    ``pa.array`` imports pandas the first time it runs (~0.5 s of every ``stream-build``
    start). Raises like it on a value the type cannot hold (numpy's ``OverflowError``,
    ``UnicodeEncodeError`` for a lone surrogate)."""
    import pyarrow as pa

    n = len(values)
    nulls = values.count(None)
    validity = None
    if nulls:
        present = np.fromiter((v is not None for v in values), dtype=np.bool_, count=n)
        validity = pa.py_buffer(np.packbits(present, bitorder="little"))
    if arrow_type == pa.string():
        strings = [v if v is not None else "" for v in values] if nulls else values
        data, offsets = _utf8_of(strings)
        if offsets[-1] >= 2**31:  # more than a string array holds: Arrow's own conversion
            return pa.array(values, arrow_type)
        buffers = [validity, pa.py_buffer(offsets.astype(np.int32)), pa.py_buffer(data)]
        return pa.Array.from_buffers(arrow_type, n, buffers, null_count=nulls)
    numpy_type = _NUMPY_TYPES.get(str(arrow_type))
    if nulls or numpy_type is None:  # (no such column in the release schemas)
        return pa.array(values, arrow_type)
    data = np.array(values, dtype=numpy_type)
    if arrow_type == pa.bool_():
        data = np.packbits(data, bitorder="little")
    return pa.Array.from_buffers(arrow_type, n, [None, pa.py_buffer(data)], null_count=0)
