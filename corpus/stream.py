"""Streaming: pre-label and build releases from corpora too large for memory, on all cores.

Two entry points:

* ``prelabel_lines`` — what ``corpus prelabel`` runs: input records → JSON lines, in input
  order, one batch in flight per worker. Output is byte-identical for any ``--workers``. Its
  output holds no hash, so it reads without them (``Article``s, not ``Document``s).
* ``stream_build`` — what ``corpus stream-build`` runs: ingest → segment → pre-label →
  validate → Parquet, batch by batch (Arrow record batches; a row group holds at least
  ``batch_size`` documents of one split), with bounded memory. Each batch is checked against
  the release's data contract, column by column (``corpus.tables.meets_contract``, the rules
  of the pandera schemas in ``corpus.validate``, which name what is wrong when it says no);
  the checks that need the whole corpus (``doc_id`` unique, exact duplicate texts kept
  once) use 8-byte digests: about 16 bytes per document (a sorted numpy array plus a small
  set), i.e. ~16 MB per million documents. A 64-bit collision would report a false
  duplicate; at 10^6 documents its probability is ~3e-8.

Both first read the input once for the lines' repetition across it (``corpus_line_stats``, a
bounded sample; ``corpus.repetition``) unless told not to or the input is a pipe; the workers
get the statistics once, when they start.

A streamed release is a valid Hugging Face dataset folder (Parquet per config and split
with the same Arrow schema and ``datasets`` features as ``corpus build``, a card, a manifest
with the sha256 of every file), but it is written in *input order* and sharded
(``train-00000-of-00003.parquet``), because a bounded-memory build cannot sort. It is meant
for large (e.g. crawled or synthetic) corpora; the committed releases are made by
``corpus build`` (sorted, small, byte-reproducible from the seeds).

This module does not import pandas/pyarrow at import time: ``corpus prelabel`` stays light.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
import warnings
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from corpus.document import Article, Document
from corpus.ingest import Problem, input_files, make_document, read_records
from corpus.labels import CATEGORY_INDEX, CATEGORY_LABEL, CATEGORY_NAMES, SPLITS
from corpus.langid import LanguageError, detect_language
from corpus.prelabel import STAGE_TEXTS, SpanColumns, documents_columns
from corpus.repetition import LineSample, LineStats, document_key
from corpus.staging import staging_path

DEFAULT_BATCH = 500
SHARD_DOCS = 100_000  # documents per Parquet file and split before a new shard starts


# --- Worker pool -----------------------------------------------------------------------------


def _pool(workers: int, task: Callable):
    """Worker processes that run ``task`` on the batches they are sent (``_run_installed``)."""
    import multiprocessing

    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    return context.Pool(workers, initializer=_install, initargs=(task,))


def _warm_up() -> None:
    """Load the compiled kernels and language tables once, before workers fork and share them
    (each would otherwise spend ~0.7 s of CPU loading numba and its cache on its own)."""
    from corpus.prelabel import prelabel_text

    sample = "ঢাকায় আজ সকাল থেকে বৃষ্টি হচ্ছে। আরও পড়ুন: খবর"
    try:
        detect_language(sample)
    except LanguageError:
        pass
    prelabel_text(sample, "bn")


_task: Callable | None = None  # a worker's task, sent once (it may hold the corpus's line stats)


def _install(task: Callable) -> None:
    global _task
    _task = task


def _run_installed(batch: list):
    assert _task is not None
    return _task(batch)


def _ordered_map(func: Callable, batches: Iterable, workers: int) -> Iterator:
    """``map(func, batches)`` in order; with workers, at most ``2 * workers`` batches in flight."""
    if workers <= 1:
        yield from map(func, batches)
        return
    import multiprocessing

    if "fork" in multiprocessing.get_all_start_methods():
        _warm_up()
    with _pool(workers, func) as pool:
        pending: deque = deque()
        for batch in batches:
            pending.append(pool.apply_async(_run_installed, (batch,)))
            if len(pending) >= 2 * workers:
                yield pending.popleft().get()
        while pending:
            yield pending.popleft().get()


def _batches(items: Iterable, size: int) -> Iterator[list]:
    batch: list = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _display_root(path: Path) -> Path:
    return path if path.is_dir() else path.parent


CORPUS_KEYS = "corpus_keys"  # a kept record's keys from the corpus pass: ``(line_keys | None, document_key)``


def _document(record: dict) -> Document | Problem:
    """``read_documents``' step from a raw record to a ``Document`` (language detected)."""
    origin = record.pop("origin")
    try:
        return make_document(**record)
    except LanguageError as err:
        return Problem(origin, str(err))


def _article(record: dict) -> Article | Problem:
    """``_document`` for a record read without hashes: id, text and language."""
    try:
        lang, _ = detect_language(record["text"])
    except LanguageError as err:
        return Problem(record["origin"], str(err))
    return Article(record["doc_id"], record["text"], lang)


def _prelabelled(batch: list, corpus: LineStats | None, hashes: bool = True) -> Iterator[tuple | Problem]:
    """Each record read from the input → its ``Document`` (an ``Article`` for records read
    without ``hashes``; not labelled yet) and the spans the model gives it
    (``SpanColumns``), or the ``Problem``; in order, labelled a stage at a time across groups
    of ``STAGE_TEXTS`` records (``prelabel.documents_columns``)."""
    made = _document if hashes else _article
    for at in range(0, len(batch), STAGE_TEXTS):
        group = batch[at : at + STAGE_TEXTS]
        known = [None if isinstance(item, Problem) else item.pop(CORPUS_KEYS, None) for item in group]
        docs = [item if isinstance(item, Problem) else made(item) for item in group]
        kept = [k for k, doc in enumerate(docs) if not isinstance(doc, Problem)]
        columns = iter(documents_columns([docs[k] for k in kept], corpus, [known[k] for k in kept]))
        for doc in docs:
            yield doc if isinstance(doc, Problem) else (doc, next(columns))


# --- corpus prelabel -------------------------------------------------------------------------


Serialise = Callable[[Article, SpanColumns], dict | str | bytes]


class _PrelabelBatch:
    """Picklable worker task: records (read without hashes) → JSON lines via
    ``serialise(article, its labelled spans)``: a dict to encode (``cli.prelabel_record``) or
    the JSON line itself (str, or UTF-8 bytes as ``cli.prelabel_json`` makes it)."""

    def __init__(self, serialise: Serialise, corpus: LineStats | None = None):
        self.serialise = serialise
        self.corpus = corpus

    def __call__(self, batch: list) -> list:
        out: list = []
        for labelled in _prelabelled(batch, self.corpus, hashes=False):
            if isinstance(labelled, Problem):
                out.append(labelled)
            else:
                record = self.serialise(*labelled)
                out.append(json.dumps(record, ensure_ascii=False) if isinstance(record, dict) else record)
        return out


def readable_twice(path: Path) -> bool:
    """A file or folder can be read for the corpus pass and again for labelling; a pipe cannot."""
    return path.is_dir() or path.is_file()


def corpus_line_stats(path: Path) -> LineStats | None:
    """A first pass over the input: how often each line repeats across it (``corpus.repetition``);
    None for an input that cannot be read twice (its documents are labelled on their own)."""
    return corpus_pass(path, hashes=False)[0]


KEEP_CHARS = 20_000_000  # of text prelabel and stream-build keep from the first pass: ~40-80 MB


def corpus_pass(path: Path, keep_chars: int = 0, hashes: bool = True) -> tuple[LineStats | None, list | None]:
    """``corpus_line_stats``, and the records it read (problems included; with their sha256
    if ``hashes``) when their texts total at most ``keep_chars`` characters, so a small input
    is read and decoded once; None when there were more (then it is read again)."""
    if not readable_twice(path):
        return None, None
    sample = LineSample()
    kept: list | None = []
    chars = 0
    for record in read_records(path, _display_root(path), hashes):
        if not isinstance(record, Problem):
            key = document_key(record["text"])
            lines = sample.add(record["text"], key)
            chars += len(record["text"])
        if kept is not None and chars <= keep_chars:
            if not isinstance(record, Problem):
                record[CORPUS_KEYS] = (lines, key)  # (the labelling pass needs them again)
            kept.append(record)
        else:
            kept = None
    return sample.stats(), kept


def _drain(records: list) -> Iterator:
    """The items of ``records`` in order, each let go of as it is handed out."""
    records.reverse()
    while records:
        yield records.pop()


def prelabel_lines(
    path: Path,
    serialise: Serialise,
    workers: int = 1,
    batch_size: int = DEFAULT_BATCH,
    corpus_stats: bool = True,
) -> Iterator[str | bytes | Problem]:
    """Each input document's JSON line (or its ``Problem``), in input order.

    Same result as ``corpus.pipeline.iter_prelabelled`` (``read_documents`` without dedupe,
    then ``prelabel_document``) for any number of ``workers``; records are read and
    normalised in this process, languages and pre-labels computed in the workers. With
    ``corpus_stats`` the input is read first for the lines' repetition across it, and read
    again unless it was small enough to keep (``KEEP_CHARS``).
    """
    corpus, kept = corpus_pass(path, KEEP_CHARS, hashes=False) if corpus_stats else (None, None)
    records = _drain(kept) if kept is not None else read_records(path, _display_root(path), hashes=False)
    task = _PrelabelBatch(serialise, corpus)
    if workers <= 1:  # a group at a time: the flags computed while reading them are kept for labelling
        batch_size = STAGE_TEXTS if readable_twice(path) else 1  # (a pipe: each document as it comes)
    for lines in _ordered_map(task, _batches(records, batch_size), workers):
        yield from lines


# --- corpus stream-build ---------------------------------------------------------------------


def _non_whitespace(text: str) -> int:
    """``sum(not ch.isspace() for ch in text)``, in C: ``str.split()`` splits on ``isspace``."""
    return len("".join(text.split()))


@contextmanager
def fast_validation():
    """Run ``validate_tables`` with the same checks, faster: coverage counted by ``str.split``
    (``corpus.validate._non_whitespace`` swapped for an exact C-speed twin) and string
    columns as Python objects (pandas' Arrow strings are slow to iterate in the row checks).
    """
    import pandas as pd

    import corpus.validate as validate

    original = validate._non_whitespace
    validate._non_whitespace = _non_whitespace
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                strings = pd.option_context("future.infer_string", False)
            except Exception:  # pandas without the option: keep its default
                strings = nullcontext()
            with strings:
                yield
    finally:
        validate._non_whitespace = original


@dataclass
class _BatchResult:
    items: list  # Problem | (origin, doc_id, text digest, id digest, split, lang, stats)
    tables: dict  # {split: (documents Arrow table, spans Arrow table)}
    violations: list[str] = field(default_factory=list)


def _digest(value: str) -> int:
    return int.from_bytes(hashlib.blake2b(value.encode("utf-8"), digest_size=8).digest(), "big")


_IS_CONTENT = {name: CATEGORY_LABEL[name] == "content" for name in CATEGORY_NAMES}


def _span_stats(columns: SpanColumns) -> tuple:
    """Spans per category, and the characters of content and of boilerplate they cover."""
    per_category = [0] * len(CATEGORY_NAMES)
    content = boilerplate = 0
    for start, end, category in zip(columns.starts, columns.ends, columns.categories):
        per_category[CATEGORY_INDEX[category]] += 1
        if _IS_CONTENT[category]:
            content += end - start
        else:
            boilerplate += end - start
    return tuple(per_category), content, boilerplate


def build_batch(batch: list, corpus: LineStats | None = None) -> _BatchResult:
    """Worker task: raw records → validated Arrow tables per split (one batch of the stream).
    The spans stay columns (``SpanColumns``) unless the tables break the contract: then the
    labelled documents go to pandera for the report."""
    from corpus.release import split_of

    items: list = []
    by_split: dict[str, list[tuple[Document, SpanColumns]]] = {s: [] for s in SPLITS}
    origins = [item.origin if isinstance(item, Problem) else item["origin"] for item in batch]
    for origin, labelled in zip(origins, _prelabelled(batch, corpus)):
        if isinstance(labelled, Problem):
            items.append(labelled)
            continue
        doc, columns = labelled
        split = split_of(doc.doc_id)
        by_split[split].append(labelled)
        digests = int(doc.text_sha256[:16], 16), _digest(doc.doc_id)
        stats = _span_stats(columns)
        items.append((origin, doc.doc_id, *digests, split, doc.lang, len(columns.starts), stats))
    result = _BatchResult(items, {})
    members = {split: pairs for split, pairs in by_split.items() if pairs}
    tables = _checked_tables(members)
    if tables is None:
        documents = {
            split: [d.with_spans(c.spans(), c.model_version) for d, c in pairs]
            for split, pairs in members.items()
        }
        tables, result.violations = _pandera_tables(documents)
    result.tables = tables
    return result


def _checked_tables(members: dict[str, list[tuple[Document, SpanColumns]]]) -> dict | None:
    """Each split's Arrow tables, when they meet the data contract (``corpus.tables``); None
    when they do not, or cannot be converted: then ``_pandera_tables`` decides and reports.

    ``doc_id`` is unique across splits when it is unique within each: a split is a function
    of the id.
    """
    import pyarrow as pa

    from corpus.tables import arrow_tables, labelled_columns, meets_contract

    columns = {split: labelled_columns(*map(list, zip(*pairs))) for split, pairs in members.items()}
    if not all(meets_contract(c) for c in columns.values()):
        return None
    try:
        return {split: arrow_tables(c) for split, c in columns.items()}
    except (pa.ArrowException, TypeError, ValueError, OverflowError):
        return None


def _pandera_tables(members: dict[str, list[Document]]) -> tuple[dict, list[str]]:
    """Rows → pandas → the pandera schemas → Arrow: the reference path, and the one that
    names every broken document, span and rule. Tables per split, or the violations."""
    import pandas as pd
    import pyarrow as pa

    from corpus.release import _encode_labels, document_rows, span_rows
    from corpus.schema import TABLES
    from corpus.tables import release_schemas
    from corpus.validate import SchemaViolation, validate_tables

    rows = {  # per split: the rows of both tables, made once for validation and for Parquet
        split: (document_rows(docs), span_rows(docs)) for split, docs in members.items()
    }
    if not rows:
        return {}, []
    with fast_validation():
        documents, spans = (
            pd.DataFrame([r for pair in rows.values() for r in pair[k]], columns=[c.name for c in TABLES[t]])
            for k, t in enumerate(("documents", "spans"))
        )
        try:
            validate_tables(documents, spans)
        except SchemaViolation as err:
            return {}, err.lines
    tables = {
        split: tuple(
            pa.Table.from_pylist([_encode_labels(r) for r in table], schema=schema)
            for table, schema in zip(pair, release_schemas())
        )
        for split, pair in rows.items()
    }
    return tables, []


class DigestSet:
    """Exact membership of 64-bit digests in ~8 bytes each (sorted numpy array + recent set).

    The recent set is merged into the sorted array every ``merge_every`` additions by one
    ``searchsorted`` + ``insert``: a merge allocates the new array only (no sorted copy of
    the union, no boolean masks of its size), so the peak is ~2 × 8 bytes per digest.
    """

    def __init__(self, merge_every: int = 1 << 14):
        import numpy as np

        self.np = np
        self.sorted = np.empty(0, dtype=np.uint64)
        self.recent: set[int] = set()
        self.merge_every = merge_every

    def __len__(self) -> int:
        return len(self.sorted) + len(self.recent)

    def __contains__(self, value: int) -> bool:
        if value in self.recent:
            return True
        return self._in_sorted(value)

    def _in_sorted(self, value: int) -> bool:
        i = int(self.sorted.searchsorted(self.np.uint64(value)))
        return i < len(self.sorted) and int(self.sorted[i]) == value

    def add(self, value: int) -> None:
        if value in self.recent or self._in_sorted(value):
            return
        self.recent.add(value)
        if len(self.recent) >= self.merge_every:
            self._merge()

    def _merge(self) -> None:
        np = self.np
        new = np.fromiter(self.recent, dtype=np.uint64, count=len(self.recent))
        new.sort()
        self.sorted = np.insert(self.sorted, self.sorted.searchsorted(new), new)
        self.recent = set()


MMAP_THRESHOLD = 1 << 20
TRIM_THRESHOLD = 8 << 20
TOP_PAD = 2 << 20


def steady_malloc(threshold: int = MMAP_THRESHOLD) -> bool:
    """glibc: serve allocations >= ``threshold`` bytes by ``mmap`` (returned to the system when
    freed), with no dynamic adjustment, and keep up to ``TRIM_THRESHOLD`` bytes free at the top
    of the heap (grown ``TOP_PAD`` at a time). True if set.

    By default glibc raises its mmap threshold each time such a block is freed (up to 32 MiB),
    so the pickled batch results (several MiB each) soon come from the heap and fragment it:
    the parent's RSS rose with N (replaying 800 batches through it: 301 → 345 MiB, heap up
    to 110 MiB; with the fixed threshold 291–299 MiB, heap ~55 MiB). A fixed threshold also
    fixes the trim threshold at 128 KiB, so the heap top was given back and faulted in again
    batch after batch: 53,000 page faults for 3,000 documents, 36,000 with 8 MiB kept (64 MiB
    saved a few thousand more, but the parent's peak RSS then grew by ~35 MiB from 10^4 to
    10^6 documents). Forked workers inherit it.
    """
    import ctypes
    import ctypes.util
    import sys

    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (e.g. musl)
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    # M_MMAP_THRESHOLD, M_TRIM_THRESHOLD, M_TOP_PAD
    return all(
        mallopt(option, value) == 1
        for option, value in ((-3, threshold), (-1, TRIM_THRESHOLD), (-2, TOP_PAD))
    )


class StreamError(RuntimeError):
    """The streamed release cannot be written; ``lines`` name the documents and rules."""

    def __init__(self, message: str, lines: list[str] | None = None):
        super().__init__(message)
        self.lines = lines or []


@dataclass
class StreamReport:
    path: Path
    version: str
    documents: int
    problems: int
    rows: dict[str, dict[str, int]]
    seconds: float
    peak_rss_mb: float = 0.0


class _Split:
    """Parquet shards of one config and split, written row group by row group.

    Batches are buffered until ``row_group_docs`` documents of this split are there, then
    written as one row group. Without that, a split that gets a tenth of each batch (test,
    validation) would get a row group per batch, ~50 documents each: ~2,000 row groups per
    shard at 10^6 documents, and the writer keeps every row group's metadata (~16 KiB in
    memory) until the shard is closed, so the build's memory grew with N (~130 MiB at 10^6).
    Now a shard has at most ``SHARD_DOCS / row_group_docs`` row groups (200), for any N.
    """

    def __init__(self, root: Path, table: str, split: str, compression_level: int, row_group_docs: int = 1):
        self.root, self.table, self.split = root, table, split
        self.level = compression_level
        self.row_group_docs = max(1, row_group_docs)
        self.writer = None
        self.shards: list[Path] = []
        self.shard_docs = 0
        self.rows = 0
        self.nbytes = 0
        self.pending: list = []
        self.pending_docs = 0

    def write(self, arrow, documents: int) -> None:
        self.pending.append(arrow)
        self.pending_docs += documents
        self.rows += arrow.num_rows
        self.nbytes += arrow.nbytes
        if self.pending_docs >= self.row_group_docs:
            self.flush()

    def flush(self) -> None:
        """Write the buffered batches as one row group (in a new shard if this one is full)."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        if not self.pending:
            return
        arrow = pa.concat_tables(self.pending) if len(self.pending) > 1 else self.pending[0]
        documents = self.pending_docs
        self.pending, self.pending_docs = [], 0
        if self.writer is None or self.shard_docs >= SHARD_DOCS:
            self.close()
            path = self.root / self.table / f".{self.split}-{len(self.shards):05d}.parquet"
            path.parent.mkdir(parents=True, exist_ok=True)
            self.writer = pq.ParquetWriter(
                path, arrow.schema, compression="zstd", compression_level=self.level, write_statistics=True
            )
            self.shards.append(path)
            self.shard_docs = 0
        self.writer.write_table(arrow, row_group_size=max(1, arrow.num_rows))
        self.shard_docs += documents

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None

    def finish(self) -> list[str]:
        """Rename the shards to ``split-0000k-of-0000n.parquet``; their paths, relative."""
        self.flush()
        self.close()
        names = []
        for k, path in enumerate(self.shards):
            final = path.with_name(f"{self.split}-{k:05d}-of-{len(self.shards):05d}.parquet")
            path.rename(final)
            names.append(final.relative_to(self.root).as_posix())
        return names


def _input_hashes(path: Path) -> list[dict]:
    """sha256 of each regular input file (a pipe cannot be read twice: recorded as null)."""
    out = []
    for file in input_files(path):
        entry: dict = {"file": file.name, "sha256": None}
        if file.is_file():
            digest = hashlib.sha256()
            with file.open("rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
            entry["sha256"] = digest.hexdigest()
        out.append(entry)
    return out


def stream_build(
    input: Path,
    releases: Path,
    version: str,
    workers: int = 1,
    batch_size: int = DEFAULT_BATCH,
    compression_level: int = 3,
    progress: Callable[[Iterable], Iterable] = lambda it: it,
    on_problem: Callable[[Problem], None] = lambda p: None,
    hash_inputs: bool = True,
    corpus_stats: bool = True,
) -> StreamReport:
    """Stream ``input`` (JSONL file(s) or .txt folder) into ``releases/v<version>/``.

    Written through a temporary folder and renamed into place; an existing release is
    never touched. Problems are passed to ``on_problem`` as they occur (not kept). With
    ``corpus_stats`` a first pass counts the lines' repetition across the input; an input of
    at most ``KEEP_CHARS`` characters is kept from it, not read and decoded again.
    """
    from corpus.release import ReleaseError, file_sha256, parse_version

    parse_version(version)
    steady_malloc()
    target = releases / f"v{version}"
    if target.exists():
        raise ReleaseError(f"{target}: release v{version} already exists; releases are immutable")
    input_files(input)  # names the input when it does not exist
    releases.mkdir(parents=True, exist_ok=True)
    tmp = staging_path(releases, f".tmp-stream-v{version}")
    if tmp.exists():
        shutil.rmtree(tmp)
    started = time.perf_counter()
    try:
        corpus, kept = corpus_pass(input, KEEP_CHARS) if corpus_stats else (None, None)
        report = _stream_into(
            input,
            tmp,
            version,
            workers,
            batch_size,
            compression_level,
            progress,
            on_problem,
            hash_inputs,
            corpus,
            kept,
        )
        files = sorted(p.relative_to(tmp).as_posix() for p in tmp.rglob("*") if p.is_file())
        manifest = json.loads((tmp / "manifest.json").read_text(encoding="utf-8"))
        manifest["files"] = {
            rel: {"sha256": file_sha256(tmp / rel), "bytes": (tmp / rel).stat().st_size}
            for rel in files
            if rel != "manifest.json"
        }
        (tmp / "manifest.json").write_text(
            json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8"
        )
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    report.path = target
    report.seconds = time.perf_counter() - started
    report.peak_rss_mb = peak_rss_mb()
    return report


def _stream_into(
    input: Path,
    root: Path,
    version: str,
    workers: int,
    batch_size: int,
    level: int,
    progress: Callable[[Iterable], Iterable],
    on_problem: Callable[[Problem], None],
    hash_inputs: bool,
    corpus: LineStats | None,
    kept: list | None = None,
) -> StreamReport:
    """Write the Parquet shards, card and manifest into ``root``; ``kept`` are the records
    the corpus pass read, when the input was small enough to keep (``corpus_pass``)."""
    import pyarrow as pa

    from corpus.card import yaml_header
    from corpus.labels import label_set_hash
    from corpus.prelabel import MODEL_VERSION
    from corpus.release import _package_versions
    from corpus.schema import SCHEMA_VERSION
    from corpus.tables import arrow_array

    writers = {
        (t, s): _Split(root, t, s, level, row_group_docs=batch_size)
        for t in ("documents", "spans")
        for s in SPLITS
    }
    texts, ids = DigestSet(), DigestSet()
    totals = {"documents": 0, "problems": 0}
    per_lang: Counter = Counter()
    per_lang_category: Counter = Counter()
    chars: Counter = Counter()

    def documents() -> Iterator[None]:
        records = _drain(kept) if kept is not None else read_records(input, _display_root(input))
        task = partial(build_batch, corpus=corpus)
        for result in _ordered_map(task, _batches(records, batch_size), workers):
            if result.violations:
                raise StreamError(f"{len(result.violations)} schema violation(s)", result.violations)
            keep: dict[str, list[bool]] = {s: [] for s in SPLITS}
            n_spans: dict[str, list[int]] = {s: [] for s in SPLITS}
            for item in result.items:
                if isinstance(item, Problem):
                    totals["problems"] += 1
                    on_problem(item)
                    continue
                origin, doc_id, text_digest, id_digest, split, lang, spans, stats = item
                n_spans[split].append(spans)
                problem = None
                if text_digest in texts:
                    problem = "duplicate of an earlier document (same normalised text); kept once"
                elif id_digest in ids:
                    problem = f"duplicate id {doc_id!r} (also an earlier document); skipped"
                keep[split].append(problem is None)
                if problem is not None:
                    totals["problems"] += 1
                    on_problem(Problem(origin, problem))
                    continue
                texts.add(text_digest)
                ids.add(id_digest)
                totals["documents"] += 1
                categories, content, boiler = stats
                per_lang[lang] += 1
                for k, n in enumerate(categories):
                    if n:
                        per_lang_category[(lang, CATEGORY_NAMES[k])] += n
                chars[(lang, "content")] += content
                chars[(lang, "boilerplate")] += boiler
                yield None
            for split, (docs_table, spans_table) in result.tables.items():
                if not all(keep[split]):
                    mask = keep[split]
                    docs_table = docs_table.filter(arrow_array(mask, pa.bool_()))
                    spans_table = spans_table.filter(
                        arrow_array([k for k, n in zip(mask, n_spans[split]) for _ in range(n)], pa.bool_())
                    )
                if docs_table.num_rows:
                    writers[("documents", split)].write(docs_table, docs_table.num_rows)
                    writers[("spans", split)].write(spans_table, docs_table.num_rows)

    for _ in progress(documents()):
        pass
    if totals["documents"] == 0:
        raise StreamError(f"{input}: no usable documents, nothing written")

    rows: dict[str, dict[str, int]] = {"documents": {}, "spans": {}}
    nbytes: dict[str, dict[str, int]] = {"documents": {}, "spans": {}}
    data_files: dict[str, dict[str, str]] = {"documents": {}, "spans": {}}
    shards: dict[str, list[str]] = {}
    for (table, split), writer in writers.items():
        names = writer.finish()
        if names:
            rows[table][split] = writer.rows
            nbytes[table][split] = writer.nbytes
            data_files[table][split] = f"{table}/{split}-*.parquet"
            shards[f"{table}/{split}"] = names
    langs = sorted(per_lang)
    context = {
        "documents": _LangSummary(totals["documents"], langs),
        "data_files": data_files,
        "num_bytes": nbytes,
        "rows": rows,
    }
    (root / "README.md").write_text(
        yaml_header(context) + "\n" + _card_body(version, totals, rows, per_lang, per_lang_category, chars),
        encoding="utf-8",
    )
    manifest = {
        "name": "chhanni-stream",
        "version": version,
        "schema_version": SCHEMA_VERSION,
        "label_set_hash": label_set_hash(),
        "model_versions": [MODEL_VERSION],
        "build": {
            "kind": "stream",
            "ordering": "input order within each split",
            "problems": totals["problems"],
            "shards": shards,
            "corpus_line_stats": None if corpus is None else {"sampled_documents": corpus.documents},
        },
        "inputs": {"records": _input_hashes(input) if hash_inputs else []},
        "rows": rows,
        "package_versions": _package_versions(),
    }
    (root / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    return StreamReport(root, version, totals["documents"], totals["problems"], rows, 0.0)


class _LangSummary:
    """Stands in for the document list in ``card.yaml_header``: a length and the languages."""

    def __init__(self, n: int, langs: list[str]):
        from types import SimpleNamespace

        self.n = n
        self.docs = [SimpleNamespace(lang=lang) for lang in langs]

    def __len__(self) -> int:
        return self.n

    def __iter__(self):
        return iter(self.docs)


def _card_body(version, totals, rows, per_lang, per_lang_category, chars) -> str:
    langs = sorted(per_lang)
    lines = [
        f"# Chhanni streamed build v{version}",
        "",
        "Built by `corpus stream-build`: pre-labels only (`label_source = model`), validated batch by batch",
        "against the data contract, in input order within each split (not sorted), sharded Parquet.",
        "This is a large-corpus build, not one of the committed, byte-reproducible releases",
        "(`corpus build`). If the input came from `bench/make_corpus.py` it is SYNTHETIC.",
        "",
        "```python",
        "from datasets import load_dataset",
        f'docs = load_dataset("path/to/v{version}", "documents")',
        "```",
        "",
        f"Documents: {totals['documents']:,}; inputs skipped with a problem: {totals['problems']:,}.",
        "",
        "| config | " + " | ".join(s for s in SPLITS if s in rows["documents"]) + " |",
        "|---|" + "---|" * len(rows["documents"]),
    ]
    for table in ("documents", "spans"):
        counts = [f"{rows[table][s]:,}" for s in SPLITS if s in rows[table]]
        lines.append(f"| {table} | " + " | ".join(counts) + " |")
    lines += ["", "| category | " + " | ".join(langs) + " |", "|---|" + "---|" * len(langs)]
    for name in CATEGORY_NAMES:
        counts = [f"{per_lang_category[(lang, name)]:,}" for lang in langs]
        lines.append(f"| `{name}` | " + " | ".join(counts) + " |")
    lines += ["", "| language | documents | content chars | boilerplate chars |", "|---|---|---|---|"]
    for lang in langs:
        content, boilerplate = chars[(lang, "content")], chars[(lang, "boilerplate")]
        lines.append(f"| {lang} | {per_lang[lang]:,} | {content:,} | {boilerplate:,} |")
    return "\n".join(lines) + "\n"


def peak_rss_mb() -> float:
    """Peak resident set size of this process and its (finished) workers, in MiB.

    This process's own peak is ``VmHWM`` (``/proc/self/status``), not ``ru_maxrss``: on
    Linux a process started by a larger one carries that one's high-water mark in
    ``ru_maxrss`` across ``exec``.
    """
    import resource

    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    try:
        with open("/proc/self/status", encoding="ascii") as handle:
            own = next(int(line.split()[1]) for line in handle if line.startswith("VmHWM:"))
    except (OSError, StopIteration, ValueError):
        pass
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024
