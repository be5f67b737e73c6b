"""Streaming: `corpus prelabel --workers`, `corpus stream-build` (bounded memory, validated per batch)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from corpus.cli import app, json_string_utf8, prelabel_json, prelabel_record
from corpus.document import Document, Span
from corpus.ingest import Problem, _parsed_line
from corpus.pipeline import iter_prelabelled
from corpus.release import ReleaseError, file_sha256
from corpus.repetition import document_key, line_keys
from corpus.schema import hf_features
from corpus.stream import (
    TRIM_THRESHOLD,
    DigestSet,
    StreamError,
    _non_whitespace,
    corpus_pass,
    fast_validation,
    prelabel_lines,
    steady_malloc,
    stream_build,
)

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

import make_corpus  # noqa: E402

ENGLISH = "The quick brown fox jumps over the lazy dog. " * 8


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    """40 synthetic articles plus the awkward cases: bad JSON, English, a duplicate text and id."""
    path = tmp_path_factory.mktemp("stream") / "corpus.jsonl"
    records = [make_corpus.make_article(i, seed=7) for i in range(40)]
    lines = [json.dumps(r, ensure_ascii=False) for r in records]
    lines.insert(5, "{not json")
    lines.insert(9, json.dumps({"id": "english", "text": ENGLISH}))
    lines.append(json.dumps({**records[3], "id": "copy-of-3"}, ensure_ascii=False))  # same text
    lines.append(
        json.dumps({**records[4], "text": records[4]["text"] + " আরও।"}, ensure_ascii=False)
    )  # same id
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def reference_lines(path: Path) -> list[str]:
    return [
        str(item) if isinstance(item, Problem) else json.dumps(prelabel_record(item), ensure_ascii=False)
        for item in iter_prelabelled(path)
    ]


def test_prelabel_lines_equal_the_reference_pipeline_for_any_worker_count(corpus: Path):
    expected = reference_lines(corpus)
    for workers in (1, 2):
        for serialise in (prelabel_record, prelabel_json):
            got = prelabel_lines(corpus, serialise, workers, 7)
            as_text = [x.decode("utf-8").removesuffix("\n") if isinstance(x, bytes) else x for x in got]
            assert [str(x) if isinstance(x, Problem) else x for x in as_text] == expected
    assert sum(line.startswith("corpus.jsonl:") for line in expected) == 2  # bad JSON, English


def test_a_small_input_is_read_once_and_a_large_one_twice_with_the_same_lines(corpus: Path, monkeypatch):
    import corpus.stream as stream
    from corpus.ingest import read_records

    records = list(read_records(corpus, corpus.parent))
    chars = sum(len(r["text"]) for r in records if not isinstance(r, Problem))
    stats, kept = corpus_pass(corpus, chars)
    # kept records carry their line keys (sampled texts) and document key for the labelling
    # pass; otherwise as read, problems included, in order
    found = [r.pop(stream.CORPUS_KEYS) for r in kept if not isinstance(r, Problem)]
    assert [str(r) for r in kept] == [str(r) for r in records]
    texts = [r["text"] for r in records if not isinstance(r, Problem)]
    assert sum(lines is not None for lines, _ in found) == len(set(texts))  # (a repeated text once)
    for (lines, key), text in zip(found, texts):
        assert key == document_key(text)
        if lines is not None:
            assert [k.tolist() for k in lines] == [k.tolist() for k in line_keys(text)]
    assert stats.documents == corpus_pass(corpus, 0)[0].documents
    assert corpus_pass(corpus, chars - 1)[1] is None  # over the budget: nothing kept
    expected = reference_lines(corpus)
    reads = []
    monkeypatch.setattr(stream, "read_records", lambda *a, **k: reads.append(a) or read_records(*a, **k))
    assert [str(x) for x in prelabel_lines(corpus, prelabel_record)] == expected
    assert len(reads) == 1
    monkeypatch.setattr(stream, "KEEP_CHARS", chars - 1)
    assert [str(x) for x in prelabel_lines(corpus, prelabel_record)] == expected
    assert len(reads) == 3


def test_prelabel_json_is_json_dumps_of_the_record():
    text = 'ঢাকা "quoted" \\ back\tslash\x7f\u2028 😀👨\u200d👩\u200d👧 \ud7ff\n\nend\x01\r\x0c\x08\x1f\x00'
    scores = [0.5, 1.0, 0.0, 1e-05, 0.1234, 3, float("nan"), float("inf"), True]
    for score in scores:
        for spans in ((), (Span(0, 4, "body", score), Span(5, 12, "navigation", 0.25))):
            doc = Document('id "1"\n', text, "f", "", "", "bn", 1.0, spans=spans, model_version="m\u00e9")
            expected = json.dumps(prelabel_record(doc), ensure_ascii=False) + "\n"
            assert prelabel_json(doc) == expected.encode("utf-8")


def test_json_string_utf8_is_json_dumps_for_every_character():
    every = "".join(chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF)
    assert json_string_utf8(every) == json.dumps(every, ensure_ascii=False).encode("utf-8")
    with pytest.raises(UnicodeEncodeError):  # as json.dumps(...).encode("utf-8")
        json_string_utf8("ঢাকা \ud83d")


JSONL_CASES = [
    b'{"id": "a", "text": "' + "ঢাকা".encode() + b' \\"q\\" \\n\\u0000 \\ud83d\\ude00"}\n',
    b'{"id": 123456789012345678901234567890, "text": "x"}',  # beyond 64 bits: orjson reads a float
    b'{"id": 1.0000000000000001, "doc_id": 1e400, "url": -0.0, "text": "x"}',
    b'{"id": "a", "text": "x", "text": "y", "source": 5, "published": null}',  # the last key wins
    b'{"id": NaN, "text": "x"}',
    b'{"id": "a", "text": "half \\ud83d"}',  # a lone surrogate escape: json accepts it
    b'\xef\xbb\xbf{"id": "bom", "text": "x"}',
    b'{"text": "bad \xff byte"}',
    b'{"text": "raw\ttab"}',
    b"[1, 2]",
    b"null",
    b'{"text": "x"} trailing',
    b'{"a": [[[[[[[[[[{"b": {}}]]]]]]]]]], "text": "\\/"}',
]


@pytest.mark.parametrize("first", [True, False])
@pytest.mark.parametrize("line", JSONL_CASES)
def test_jsonl_lines_parse_as_the_json_module_parses_them(line: bytes, first: bool):
    def reference():
        decoded = line.decode("utf-8")
        return json.loads(decoded.removeprefix("\ufeff") if first else decoded)

    try:
        expected = reference()
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        with pytest.raises(type(err)) as raised:
            _parsed_line(line, first)
        assert str(raised.value) == str(err)
        return
    got = _parsed_line(line, first)
    assert repr(got) == repr(expected)  # (repr: NaN, -0.0 and int vs float told apart)


def test_prelabel_cli_workers_write_identical_bytes(corpus: Path, tmp_path: Path):
    runner = CliRunner()
    outputs = []
    for workers in ("1", "2"):
        out = tmp_path / f"w{workers}.jsonl"
        result = runner.invoke(app, ["prelabel", str(corpus), "-o", str(out), "--workers", workers])
        assert result.exit_code == 0, result.output
        assert "(2 skipped)" in result.output
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1]
    assert len(outputs[0].splitlines()) == 42  # 40 articles + the two copies (prelabel does not dedupe)


def test_prelabel_does_not_import_the_release_stack():
    code = (
        "import sys, corpus.cli, corpus.stream, corpus.datatrove_step; "
        "print(sorted({'pandas', 'pyarrow', 'datasets'} & set(sys.modules)))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


@pytest.fixture(scope="module")
def streamed(corpus: Path, tmp_path_factory) -> tuple[Path, object, list[Problem]]:
    problems: list[Problem] = []
    releases = tmp_path_factory.mktemp("releases")
    report = stream_build(corpus, releases, "0.0.1", batch_size=8, on_problem=problems.append)
    return releases, report, problems


def test_stream_build_reads_a_small_input_once_with_the_same_release(
    streamed, corpus: Path, tmp_path, monkeypatch
):
    import corpus.stream as stream
    from corpus.ingest import read_records

    reads = []
    monkeypatch.setattr(stream, "read_records", lambda *a, **k: reads.append(a) or read_records(*a, **k))
    problems: list[Problem] = []
    stream_build(corpus, tmp_path, "0.0.1", batch_size=8, on_problem=problems.append)
    assert len(reads) == 1
    monkeypatch.setattr(stream, "KEEP_CHARS", 0)
    stream_build(corpus, tmp_path, "0.0.2", batch_size=8)
    assert len(reads) == 3
    releases, _, expected_problems = streamed
    assert [str(p) for p in problems] == [str(p) for p in expected_problems]
    for version in ("0.0.1", "0.0.2"):
        files = sorted(
            p.relative_to(tmp_path / f"v{version}") for p in (tmp_path / f"v{version}").rglob("*.parquet")
        )
        assert files == sorted(
            p.relative_to(releases / "v0.0.1") for p in (releases / "v0.0.1").rglob("*.parquet")
        )
        for rel in files:
            assert (tmp_path / f"v{version}" / rel).read_bytes() == (releases / "v0.0.1" / rel).read_bytes()


def test_stream_build_writes_a_valid_release_in_input_order(streamed, corpus: Path):
    releases, report, problems = streamed
    root = releases / "v0.0.1"
    assert report.documents == 40
    messages = sorted(p.message.split(" (")[0] for p in problems)
    assert len(problems) == 4 and any("duplicate of an earlier document" in m for m in messages)
    assert any(m.startswith("duplicate id 'synthetic-7-00000004'") for m in messages)
    manifest = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["build"]["kind"] == "stream" and manifest["rows"] == report.rows
    for rel, entry in manifest["files"].items():
        assert file_sha256(root / rel) == entry["sha256"]
    assert manifest["inputs"]["records"][0]["sha256"] == file_sha256(corpus)
    ids = []
    for split, n in report.rows["documents"].items():
        (shard,) = (root / "documents").glob(f"{split}-*.parquet")
        assert shard.name == f"{split}-00000-of-00001.parquet"
        table = pq.read_table(shard)
        committed = pq.read_schema(ROOT / "releases/v0.1.0/documents/train-00000-of-00001.parquet")
        assert table.schema.equals(committed, check_metadata=True)  # same Arrow schema and HF features
        assert table.schema.equals(hf_features("documents").arrow_schema)
        assert table.num_rows == n
        ids += table["doc_id"].to_pylist()
    expected = [f"synthetic-7-{i:08d}" for i in range(40)]
    assert sorted(ids) == expected
    train = pq.read_table(root / "documents/train-00000-of-00001.parquet")["doc_id"].to_pylist()
    assert train == sorted(train)  # input order (ids happen to be increasing) within a split


def test_stream_build_is_identical_for_two_workers_and_loads(streamed, corpus: Path, tmp_path: Path):
    releases, report, _ = streamed
    other = stream_build(corpus, tmp_path, "0.0.1", workers=2, batch_size=8)
    assert other.rows == report.rows
    first, second = releases / "v0.0.1", tmp_path / "v0.0.1"
    files = sorted(p.relative_to(first) for p in first.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(second) for p in second.rglob("*") if p.is_file())
    for rel in files:
        assert (first / rel).read_bytes() == (second / rel).read_bytes(), rel
    code = (
        "import sys; from datasets import load_dataset; d = load_dataset(sys.argv[1], 'documents'); "
        "s = load_dataset(sys.argv[1], 'spans'); print(sum(x.num_rows for x in d.values()), "
        "d['train'].features['spans'].feature['category'].names[0], sum(x.num_rows for x in s.values()))"
    )
    result = subprocess.run([sys.executable, "-c", code, str(first)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    docs, first_category, spans = result.stdout.split()
    assert (int(docs), first_category, int(spans)) == (40, "title", sum(report.rows["spans"].values()))


def test_stream_build_row_groups_hold_a_batch_of_each_split_and_shards_rotate(
    streamed, corpus: Path, tmp_path: Path, monkeypatch
):
    """Small splits are buffered into row groups of >= batch_size documents (the writer keeps
    each row group's metadata until a shard closes: one per batch made memory grow with N)."""
    from corpus import stream

    releases, report, _ = streamed
    monkeypatch.setattr(stream, "SHARD_DOCS", 6)
    sharded = stream_build(corpus, tmp_path, "0.0.1", batch_size=4)
    assert sharded.rows == report.rows
    for table in ("documents", "spans"):
        for split in report.rows["documents"]:
            shards = sorted((tmp_path / "v0.0.1" / table).glob(f"{split}-*.parquet"))
            whole = pq.read_table(releases / "v0.0.1" / table / f"{split}-00000-of-00001.parquet")
            assert pq.ParquetDataset(shards).read().equals(whole)  # same rows, same order
            for k, shard in enumerate(shards):
                meta = pq.ParquetFile(shard).metadata
                docs = [
                    len(
                        set(pq.ParquetFile(shard).read_row_group(g, columns=["doc_id"])["doc_id"].to_pylist())
                    )
                    for g in range(meta.num_row_groups)
                ]
                last = k == len(shards) - 1
                assert all(n >= 4 for n in (docs[:-1] if last else docs)), (table, split, docs)
                assert sum(docs[:-1]) < 6 and max(docs) <= 2 * 4 - 1  # a new shard once one is full
    documents = sorted(p.name for p in (tmp_path / "v0.0.1" / "documents").glob("*.parquet"))
    assert documents == sorted(p.name for p in (tmp_path / "v0.0.1" / "spans").glob("*.parquet"))


def test_stream_build_never_overwrites_and_reports_schema_violations(streamed, corpus: Path, monkeypatch):
    releases, _, _ = streamed
    with pytest.raises(ReleaseError, match="already exists"):
        stream_build(corpus, releases, "0.0.1")
    import corpus.stream as stream
    from corpus.document import Span
    from corpus.prelabel import SpanColumns

    def broken(docs, corpus=None, lines=None):  # one short span leaves most of each text uncovered
        return [SpanColumns.of([Span(0, 5, "body", 0.5)], "test") for _ in docs]

    monkeypatch.setattr(stream, "documents_columns", broken)
    with pytest.raises(StreamError) as caught:
        stream_build(corpus, releases, "0.0.2", batch_size=8)
    assert any(
        line.startswith("synthetic-7-") and "spans cover every non-whitespace character exactly once" in line
        for line in caught.value.lines
    )
    assert not (releases / "v0.0.2").exists()


def test_fast_validation_finds_the_same_violations():
    from corpus.release import validate_documents
    from corpus.validate import SchemaViolation

    for text in ("", " a\u00a0b\tc\u2003d\n", "আ ব\u2028c", "x" * 50):
        assert _non_whitespace(text) == sum(not ch.isspace() for ch in text)
    from corpus.document import Document, Span

    doc = Document("d1", "চ্যাটজিপিটি  ভালো।\nনা", "f", "0" * 64, "0" * 64, "bn", 1.0)
    bad = doc.with_spans([Span(0, 11, "body", 0.5), Span(11, 19, "title", 2.0)], "m")
    errors = []
    for context in (None, fast_validation()):
        with context if context else _null():
            with pytest.raises(SchemaViolation) as caught:
                validate_documents([bad])
            errors.append(caught.value.lines)
    assert errors[0] == errors[1] and errors[0]


class _null:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_digest_set_is_exact_across_merges():
    seen = DigestSet(merge_every=8)
    values = [(i * 2654435761) % (1 << 64) for i in range(100)]
    for v in values[:50]:
        seen.add(v)
    assert all(v in seen for v in values[:50]) and not any(v in seen for v in values[50:])
    assert len(seen) == 50
    for v in values[:60]:  # re-adding is a no-op, whether the value is recent or merged
        seen.add(v)
    assert len(seen) == 60 and len(seen.sorted) == 56
    assert list(seen.sorted) == sorted(seen.sorted) and len(set(seen.sorted.tolist())) == 56
    assert all(v in seen for v in values[:60]) and not any(v in seen for v in values[60:])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc mallopt")
def test_steady_malloc_is_set_on_glibc_and_keeps_the_heap_top():
    """Blocks freed at the top of the heap stay mapped (not given back and faulted in again)."""
    import platform

    glibc = platform.libc_ver()[0] == "glibc"
    assert steady_malloc() == glibc
    if not glibc:
        return
    probe = """
import ctypes, os, sys
from corpus.stream import TRIM_THRESHOLD, steady_malloc
if sys.argv[1] == "steady":
    assert steady_malloc()
libc = ctypes.CDLL("libc.so.6")
libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
libc.free.argtypes = [ctypes.c_void_p]
def rss_kib():
    return int(open("/proc/self/statm").read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024
size = 256 << 10  # on the heap (under the mmap threshold), 3/4 of the trim threshold in all
blocks = [libc.malloc(size) for _ in range(TRIM_THRESHOLD * 3 // 4 // size)]
for block in blocks:
    ctypes.memset(block, 1, size)
before = rss_kib()
for block in reversed(blocks):
    libc.free(block)
print(before - rss_kib())
"""
    given_back = {
        mode: int(
            subprocess.run(
                [sys.executable, "-c", probe, mode], capture_output=True, text=True, check=True
            ).stdout
        )
        for mode in ("default", "steady")
    }
    kept = TRIM_THRESHOLD * 3 // 4 >> 10  # KiB
    assert given_back["default"] >= kept // 2 and given_back["steady"] <= 512, given_back


def test_a_killed_builds_staging_folder_is_swept_but_not_a_running_ones(corpus: Path, tmp_path: Path):
    """SIGKILL leaves ``.tmp-stream-…`` behind; the next build removes it if its process is gone
    (on this host), and leaves a live process's or another machine's staging alone."""
    import signal

    from corpus.staging import _host

    releases = tmp_path / "releases"
    command = [sys.executable, "-m", "corpus.cli", "stream-build", str(corpus), "-o", str(releases)]
    command += ["--batch-size", "4"]
    build = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    staging = releases / f".tmp-stream-v0.0.1-{_host()}-{build.pid}"
    deadline = time.monotonic() + 120
    while not (staging / "documents").exists() and build.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    build.send_signal(signal.SIGKILL)
    build.wait()
    assert staging.is_dir() and not (releases / "v0.0.1").exists()
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        running = releases / f".tmp-stream-v0.0.1-{_host()}-{alive.pid}"
        elsewhere = releases / f".tmp-stream-v0.0.1-otherhost-{build.pid}"
        running.mkdir()
        elsewhere.mkdir()
        stream_build(corpus, releases, "0.0.1", batch_size=8)
        assert not staging.exists() and running.is_dir() and elsewhere.is_dir()
        assert sorted(p.name for p in releases.iterdir() if not p.name.startswith(".")) == ["v0.0.1"]
    finally:
        alive.kill()
        alive.wait()


def test_prelabel_lines_on_a_pipe_gives_each_document_as_it_comes(tmp_path: Path):
    """Files are read and labelled in groups; a pipe is not: the first document's line comes
    out before the second document has been written."""
    import os
    import threading

    fifo = tmp_path / "live.jsonl"
    os.mkfifo(fifo)
    records = [make_corpus.make_article(i, seed=11) for i in range(2)]
    got_first = threading.Event()
    streamed: list[bool] = []

    def writer():
        with fifo.open("w", encoding="utf-8") as pipe:
            pipe.write(json.dumps(records[0], ensure_ascii=False) + "\n")
            pipe.flush()
            streamed.append(got_first.wait(timeout=20))  # (False: the reader waited for more)
            pipe.write(json.dumps(records[1], ensure_ascii=False) + "\n")

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    lines = prelabel_lines(fifo, prelabel_json)
    first = json.loads(next(lines))
    got_first.set()
    rest = [json.loads(line) for line in lines]
    thread.join(timeout=5)
    assert streamed == [True], "the first line did not come out before the second was written"
    assert [first["id"], *(r["id"] for r in rest)] == [r["id"] for r in records]
