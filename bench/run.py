"""Benchmark: Chhanni's pipeline against the tools people would otherwise use, in one run.

    python bench/run.py                 # full run: N=5,000 for throughput, RSS at 10k/100k/1M
    python bench/run.py --quick         # smoke run (under a minute)
    python bench/run.py --rss-sizes 10000,100000

Everything is measured in this one run, on the same SYNTHETIC documents
(``bench/make_corpus.py``): whole-process ``corpus prelabel`` and ``corpus stream-build``
(child processes, CPU seconds from ``wait4``, start-up included), our pre-label step and
language id alone, jusText (with its Bengali/Hindi stop-lists, lines as ``<p>``),
trafilatura ``extract`` on the same HTML, a C4/FineWeb-style line filter, seeded langdetect,
a JSONL read+write pass and a pyarrow Parquet write (the near-physical limits). Rates are per
core (docs / CPU second), so other load on the machine affects all rows alike; ratios are
ours ÷ peer. Then the peak RSS of ``corpus stream-build`` for each N, and ``load_dataset``
of the 100k release, first and cached. Results go to stdout and ``bench/results.md``.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from functools import partial
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import make_corpus  # noqa: E402

CORPUS = "corpus"


# --- helpers ---------------------------------------------------------------------------------


def corpus_exe() -> list[str]:
    exe = Path(sys.executable).with_name(CORPUS)
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "corpus.cli"]


def run_child(
    cmd: list[str], sample_tree: bool = True, interval: float = 0.1, log: Path | None = None
) -> dict:
    """Run a command; wall and CPU seconds (its own and its reaped workers'), peak memory (MiB).

    Memory is sampled every ``interval`` seconds over the whole process tree (the command and
    its workers): ``peak_rss`` is the largest ``VmHWM`` (the kernel's own high-water mark of
    resident memory, from ``/proc/<pid>/status``) of any process in the tree, ``tree_pss`` the
    largest sum of proportional set sizes (shared pages counted once) seen at one moment.
    ``wait4``'s ``ru_maxrss`` is not used for memory: a child started by a large process (this
    one) inherits the parent's high-water mark across ``vfork``/``exec``.
    """
    if sample_tree:
        import psutil  # noqa: F401  (fail here, loudly, not in the sampler thread)
    env = dict(os.environ, CI="1")  # no progress bar
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen(cmd, stdout=out, stderr=err, env=env)
        memory = {"hwm": {}, "pss": 0.0, "samples": 0, "log": log}
        stop = threading.Event()
        sampler = None
        if sample_tree:
            sampler = threading.Thread(
                target=_sample_tree, args=(process.pid, memory, stop, interval), daemon=True
            )
            sampler.start()
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        stop.set()
        if sampler is not None:
            sampler.join()
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{stderr[-2000:]}")
    hwm = memory["hwm"]
    return {
        "wall": wall,
        "cpu": usage.ru_utime + usage.ru_stime,
        "peak_rss": max(hwm.values(), default=0.0),
        "peak_rss_by_pid": hwm,  # {pid: MiB}; the command itself is process.pid
        "root_pid": process.pid,
        "tree_pss": memory["pss"],
        "samples": memory["samples"],
        "stdout": stdout,
        "stderr": stderr,
    }


def vm_hwm_mb(pid: int | str = "self") -> float | None:
    """``VmHWM`` of a process in MiB (its peak resident set size), None if it is gone."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        return None
    return None


def _sample_tree(pid: int, memory: dict, stop: threading.Event, interval: float = 0.1) -> None:
    """Until ``stop``: per-process peak ``VmHWM`` and the peak of the tree's summed PSS."""
    import psutil  # the `bench` extra (and `test`): without it the workers would go unmeasured

    try:
        root = psutil.Process(pid)
    except psutil.Error:
        root = None
    hwm = memory["hwm"]
    last_pss = last_log = 0.0
    log = memory["log"].open("w", encoding="utf-8") if memory.get("log") else None
    started = time.monotonic()
    procs, pids, listed = [], [pid], -1.0
    while not stop.is_set():
        if root is not None and time.monotonic() - listed >= 1.0:  # the tree changes rarely: every 1 s
            listed = time.monotonic()
            try:
                procs = [root, *root.children(recursive=True)]
            except psutil.Error:
                procs = []
            pids = [p.pid for p in procs]
        if time.monotonic() - last_pss >= 0.25:  # PSS (smaps_rollup) costs more: every 0.25 s
            last_pss = time.monotonic()
            total = 0
            for proc in procs:
                try:
                    total += proc.memory_full_info().pss
                except psutil.Error:
                    pass
            memory["pss"] = max(memory["pss"], total / 2**20)
            if log is not None and last_pss - last_log >= 5:  # a time series, for finding growth
                last_log = last_pss
                rss = {}
                for proc in procs:
                    try:
                        rss[proc.pid] = round(proc.memory_info().rss / 2**20)
                    except psutil.Error:
                        pass
                row = {"t": round(last_pss - started), "pss": round(total / 2**20), "rss": rss}
                log.write(json.dumps(row) + "\n")
                log.flush()
        for p in pids:
            value = vm_hwm_mb(p)
            if value is not None:
                hwm[p] = max(hwm.get(p, 0.0), value)
        memory["samples"] += 1
        stop.wait(interval)
    if log is not None:
        log.close()


def cpu_time(func, items) -> float:
    gc.collect()
    started = time.process_time()
    for item in items:
        func(item)
    return time.process_time() - started


def median_cpu_time(func, items, repeat: int) -> float:
    """``cpu_time``'s median of ``repeat`` runs (this VM's speed drifts from one second to the next)."""
    return statistics.median([cpu_time(func, items) for _ in range(repeat)])


MEMORY_KEYS = ("peak_rss", "peak_rss_by_pid", "root_pid", "tree_pss", "samples")


def median_child(cmd: list[str], repeat: int, key: str = "cpu", before=None) -> dict:
    """The ``run_child`` of ``repeat`` runs whose ``key`` (CPU or wall seconds) is the median,
    timed without the memory sampler (reading a running process's ``smaps_rollup`` for its
    PSS costs it ~3 % of its CPU, which no peer pays), with the memory of one more run,
    sampled; ``before()`` runs ahead of each."""
    runs = []
    for _ in range(repeat):
        if before is not None:
            before()
        runs.append(run_child(cmd, sample_tree=False))
    timed = sorted(runs, key=lambda r: r[key])[(len(runs) - 1) // 2]
    if before is not None:
        before()
    sampled = run_child(cmd)
    return {**timed, **{name: sampled[name] for name in MEMORY_KEYS}}


# --- peers -----------------------------------------------------------------------------------

_TERMINAL = ("।", "॥", ".", "!", "?", '"', "'", "”", "’")
_BAD = ("javascript", "lorem ipsum", "{", "cookie", "terms of use")


def c4_line_filter(text: str) -> str:
    """C4/FineWeb-style heuristics, line by line (C4's rules, Indic sentence ends added).

    Keep a line if it ends in terminal punctuation, has >= 3 words and no code/boilerplate
    marker; compute FineWeb's page statistics (share of lines ending in punctuation, of
    duplicated line characters, of short lines) as its quality filter does.
    """
    lines = [line.strip() for line in text.split("\n") if line.strip()]
    kept = [
        line
        for line in lines
        if line.endswith(_TERMINAL) and len(line.split()) >= 3 and not any(b in line.lower() for b in _BAD)
    ]
    if lines:
        seen: set[str] = set()
        duplicated = 0
        for line in lines:
            if line in seen:
                duplicated += len(line)
            seen.add(line)
        _stats = (
            sum(line.endswith(_TERMINAL) for line in lines) / len(lines),
            duplicated / max(1, sum(map(len, lines))),
            sum(len(line) <= 30 for line in lines) / len(lines),
        )
    return "\n".join(kept)


# --- the run ---------------------------------------------------------------------------------


def ensure_corpus(root: Path, n: int, shard_size: int) -> Path:
    """A folder with the first ``n`` synthetic articles (shards generated once, then reused)."""
    store = root / f"shards-{shard_size}"
    store.mkdir(parents=True, exist_ok=True)
    shards = -(-n // shard_size)
    for k in range(shards):
        path = store / f"synthetic-{k:05d}.jsonl"
        if not path.exists():
            tmp = path.with_suffix(".tmp")
            with tmp.open("w", encoding="utf-8") as handle:  # always whole shards: reused by any n
                for record in make_corpus.iter_articles(shard_size, 0, k * shard_size):
                    handle.write(json.dumps(record, ensure_ascii=False) + "\n")
            tmp.replace(path)
    folder = root / f"n{n}-s{shard_size}"
    if not folder.exists():
        folder.mkdir()
        for k in range(shards):
            src = store / f"synthetic-{k:05d}.jsonl"
            if (k + 1) * shard_size <= n:
                (folder / src.name).symlink_to(src)
            else:  # a partial last shard
                with (
                    src.open(encoding="utf-8") as fin,
                    (folder / src.name).open("w", encoding="utf-8") as fout,
                ):
                    for i, line in enumerate(fin):
                        if k * shard_size + i >= n:
                            break
                        fout.write(line)
    return folder


def rate(n: int, seconds: float) -> float:
    return n / seconds if seconds > 0 else float("inf")


def single_file(work: Path, n: int, shard_size: int) -> Path:
    """The first ``n`` synthetic articles as one JSONL file (`corpus prelabel` reads one, as users run it)."""
    folder = ensure_corpus(work, n, shard_size)
    single = work / f"n{n}-s{shard_size}.jsonl"
    if not single.exists():
        with single.open("wb") as out:
            for shard in sorted(folder.glob("*.jsonl")):
                out.write(shard.read_bytes())
    return single


def throughput(
    work: Path,
    n: int,
    shard_size: int,
    peer_sample: int,
    langdetect_sample: int,
    large_n: int = 0,
    repeat: int = 1,
    rounds: int = 9,
) -> dict:
    """The throughput rows; each timing is the median of ``repeat`` runs (the 20k run: one);
    the targets' ratios from ``rounds`` back-to-back rounds."""
    from corpus import langid, prelabel, segment
    from corpus.ingest import read_records

    folder = ensure_corpus(work, n, shard_size)
    single = single_file(work, n, shard_size)
    records = list(read_records(single, single.parent))
    texts = [r["text"] for r in records]
    mb = sum(len(t.encode("utf-8")) for t in texts) / 2**20
    results: dict = {"n": n, "mb": mb, "rows": []}

    def row(name, docs, seconds, note="", per_core=True, kind="ours", mb_docs=None):
        share = (mb_docs if mb_docs is not None else docs) / n * mb
        results["rows"].append(
            {
                "name": name,
                "docs": docs,
                "seconds": seconds,
                "docs_s": rate(docs, seconds),
                "mb_s": share / seconds if seconds else 0.0,
                "note": note,
                "per_core": per_core,
                "kind": kind,
            }
        )

    out_dir = work / "out"
    out_dir.mkdir(exist_ok=True)

    # whole-process runs (start-up included), each writing a new file: replacing the last run's
    # would free its page cache inside the timed process (~3 ms of system time for 45 MB)
    def fresh(output: Path):
        return lambda: output.unlink(missing_ok=True)

    w1 = out_dir / "prelabel-w1.jsonl"
    r = median_child([*corpus_exe(), "prelabel", str(single), "-o", str(w1)], repeat, before=fresh(w1))
    row(
        "`corpus prelabel` (whole process, 1 worker)",
        n,
        r["cpu"],
        f"wall {r['wall']:.1f} s, RSS {r['peak_rss']:.0f} MiB",
    )
    results["prelabel_wall"] = r["wall"]
    one = work / "one-document.jsonl"
    one.write_bytes(single.read_bytes().split(b"\n", 1)[0] + b"\n")
    command = [*corpus_exe(), "prelabel", str(one), "-o", str(out_dir / "one.jsonl")]
    startup = [run_child(command, sample_tree=False) for _ in range(3)]
    results["startup_cpu"] = sorted(r["cpu"] for r in startup)[1]  # the median of three
    from corpus import _kernels

    results["kernels"] = _kernels.MODE
    if large_n:
        large = single_file(work, large_n, shard_size)
        large_out = out_dir / "prelabel-large.jsonl"
        large_run = [*corpus_exe(), "prelabel", str(large), "-o", str(large_out)]
        r = median_child(large_run, 1, before=fresh(large_out))
        row(
            f"`corpus prelabel` on {large_n:,} documents (whole process, 1 worker)",
            large_n,
            r["cpu"],
            f"wall {r['wall']:.1f} s, RSS {r['peak_rss']:.0f} MiB (MB/s at the first {n:,}'s mean size)",
        )
    alone = out_dir / "prelabel-alone.jsonl"
    alone_run = [*corpus_exe(), "prelabel", str(single), "-o", str(alone), "--no-corpus-stats"]
    r = median_child(alone_run, repeat, before=fresh(alone))
    row(
        "`corpus prelabel --no-corpus-stats` (one pass, whole process)",
        n,
        r["cpu"],
        f"wall {r['wall']:.1f} s, RSS {r['peak_rss']:.0f} MiB",
    )
    w2 = out_dir / "prelabel-w2.jsonl"
    w2_run = [*corpus_exe(), "prelabel", str(single), "-o", str(w2), "--workers", "2"]
    r = median_child(w2_run, repeat, "wall", before=fresh(w2))
    row("`corpus prelabel --workers 2` (wall clock, 2 cores)", n, r["wall"], "docs/s per wall second", False)
    identical = w1.read_bytes() == w2.read_bytes()
    results["workers_identical"] = identical
    for workers in (1, 2):
        dest = work / "releases"
        cmd = [*corpus_exe(), "stream-build", str(folder), "-o", str(dest), "--version", f"0.{workers}.0"]
        release = dest / f"v0.{workers}.0"
        key = "cpu" if workers == 1 else "wall"
        clear = partial(shutil.rmtree, release, ignore_errors=True)
        r = median_child([*cmd, "--workers", str(workers)], repeat, key, clear)
        if workers == 1:
            row("end-to-end `corpus stream-build` (validated Parquet release, 1 worker)", n, r["cpu"],
                f"wall {r['wall']:.1f} s, RSS {r['peak_rss']:.0f} MiB")  # fmt: skip
        else:
            row(
                "`corpus stream-build --workers 2` (wall clock, 2 cores)",
                n,
                r["wall"],
                "docs/s per wall second",
                False,
            )
    same = all(
        (dest / "v0.1.0" / p.relative_to(dest / "v0.2.0")).read_bytes() == p.read_bytes()
        for p in (dest / "v0.2.0").rglob("*.parquet")
    )
    results["build_workers_identical"] = same

    # in-process: our steps alone
    langs = [langid.detect_language(t) for t in texts]
    seconds = median_cpu_time(lambda t: langid.detect_language(t), texts, repeat)
    row("language id alone (exact fast path, falls back to langdetect)", n, seconds)
    pairs = list(zip(texts, [lang for lang, _ in langs]))
    seconds = median_cpu_time(lambda p: prelabel.prelabel_text(*p), pairs, repeat)
    row("pre-label step alone (segment + features + labels)", n, seconds)

    # reference path, on a sample: the time langdetect took before, and equality
    sample = texts[:langdetect_sample]
    langid._detector_factory()  # load profiles outside the timing
    seconds = cpu_time(langid.detect_language_reference, sample)
    row("langdetect, seeded (the reference path)", len(sample), seconds, "per document", kind="peer")
    results["langid_equal"] = all(
        langid.detect_language_reference(t) == langs[i] for i, t in enumerate(sample)
    )
    results["langid_fast_share"] = sum(langid._fast_detect(t) is not None for t in texts) / n
    ref_times = {}
    segment.FAST = prelabel.FAST = False
    try:
        ref_times["prelabel"] = cpu_time(lambda p: prelabel.prelabel_text(*p), pairs[: len(sample)])
    finally:
        segment.FAST = prelabel.FAST = True
    ref_times["langdetect"] = seconds
    results["reference"] = ref_times

    # peers, on the same documents
    import justext
    import trafilatura

    docs = texts[:peer_sample]
    pages = [make_corpus.to_html(t) for t in docs]
    stoplists = {"bn": justext.get_stoplist("Bengali"), "hi": justext.get_stoplist("Hindi")}
    jobs = list(zip(pages, [stoplists[lang] for lang, _ in langs[:peer_sample]]))
    seconds = median_cpu_time(lambda job: justext.justext(job[0], job[1]), jobs, repeat)
    row("jusText (Bengali/Hindi stop-lists)", len(docs), seconds, kind="peer")
    # the targets' ratios from back-to-back runs: this VM's speed drifts by tens of per cent
    # from minute to minute, so rows timed minutes apart can skew a ratio; each round here
    # times jusText, `corpus prelabel`, jusText, `corpus stream-build`, jusText in turn, and
    # each of ours is divided by jusText's rate in the two timings on either side of it
    paired: dict[str, list[float]] = {"prelabel": [], "build": []}
    release = work / "releases" / "v0.9.0"
    bracket = jobs[: max(1, len(jobs) // 2)]

    def peer_rate() -> float:
        return rate(len(bracket), cpu_time(lambda job: justext.justext(job[0], job[1]), bracket))

    for _ in range(rounds):
        paired_out = out_dir / "paired.jsonl"
        prelabel_run = [*corpus_exe(), "prelabel", str(single), "-o", str(paired_out)]
        before = peer_rate()
        paired_out.unlink(missing_ok=True)
        ours_cpu = run_child(prelabel_run, sample_tree=False)["cpu"]
        middle = peer_rate()
        shutil.rmtree(release, ignore_errors=True)
        build_cpu = run_child(
            [*corpus_exe(), "stream-build", str(folder), "-o", str(release.parent), "--version", "0.9.0"],
            sample_tree=False,
        )["cpu"]
        after = peer_rate()
        paired["prelabel"].append(rate(n, ours_cpu) / ((before + middle) / 2))
        paired["build"].append(rate(n, build_cpu) / ((middle + after) / 2))
    shutil.rmtree(release, ignore_errors=True)
    results["paired"] = paired
    seconds = median_cpu_time(trafilatura.extract, pages, repeat)
    row("trafilatura `extract` (same HTML)", len(docs), seconds, kind="peer")
    seconds = median_cpu_time(c4_line_filter, texts, repeat)
    row("C4/FineWeb-style line filter", n, seconds, kind="peer")

    # physical limits
    def jsonl_pass(path: Path) -> None:
        with path.open("rb") as fin, open(os.devnull, "w", encoding="utf-8") as fout:
            for line in fin:
                record = json.loads(line)
                fout.write(
                    json.dumps({"id": record["id"], "text": record["text"]}, ensure_ascii=False) + "\n"
                )

    seconds = median_cpu_time(jsonl_pass, [single], repeat)
    row("JSONL read + write pass (no processing)", n, seconds, kind="limit")
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({"id": [r["doc_id"] for r in records], "text": texts})
    seconds = median_cpu_time(
        lambda t: pq.write_table(t, work / "texts.parquet", compression="zstd"), [table], repeat
    )
    row("pyarrow Parquet write of the texts (zstd)", n, seconds, kind="limit")

    # where the time goes, per document
    results["profile"] = profile_stages(single, texts[: min(n, 2000)])
    return results


def profile_stages(path: Path, texts: list[str]) -> list[tuple[str, float]]:
    """Microseconds per document for each stage of `corpus prelabel`, one stage at a time and
    each as the pipeline runs it: the character flags (``segment.char_flags``) are computed once
    per pass and shared by the stages after them, so they have a row of their own and the
    other rows are timed with each text's flags at hand; pass 2 reads the line keys pass 1 kept."""
    from corpus import langid, segment
    from corpus.cli import prelabel_json
    from corpus.document import Article
    from corpus.ingest import _parsed_line, check_text, normalise_text
    from corpus.prelabel import CLASSIFIER, MODEL_VERSION, prelabel_columns
    from corpus.repetition import LineSample, LineStats, document_key, line_keys

    lines = path.read_bytes().splitlines()[: len(texts)]
    n = len(texts)
    langs = [langid.detect_language(t)[0] for t in texts]
    doc_keys = [document_key(t) for t in texts]
    keys = [line_keys(t) for t in texts]
    stats = LineStats.of_texts(texts)
    articles = [Article(f"d{i}", t, g) for i, (t, g) in enumerate(zip(texts, langs))]
    labelled = [(a, prelabel_columns(a.text, a.lang, CLASSIFIER)) for a in articles]
    labelled = [(doc, columns._replace(model_version=MODEL_VERSION)) for doc, columns in labelled]

    def each(stage, flags: bool = True) -> float:
        """CPU seconds of ``stage(i, text)`` over the texts, each text's flags made before."""
        total = 0.0
        for i, text in enumerate(texts):
            if flags:
                segment.char_flags(text)
            else:
                segment.forget_char_facts()
            started = time.process_time()
            stage(i, text)
            total += time.process_time() - started
        return total

    sample = LineSample()

    def repeats(i: int, text: str) -> None:
        stats.line_repeats(text, keys[i], doc_keys[i])

    def sample_lines(i: int, text: str) -> None:
        sample.add(text, doc_keys[i])

    stages = [
        ("JSON decode (orjson, as the reader)", lambda i, t: _parsed_line(lines[i], False), False),
        (
            "character flags (table lookup, NFC and control checks): once per pass",
            lambda i, t: segment.char_flags(t),
            False,
        ),
        ("normalise + checks (NFC, controls)", lambda i, t: check_text(normalise_text(t)), True),
        ("document key (a hash of the code points; no sha256)", lambda i, t: document_key(t), True),
        ("corpus pass 1: the lines' keys, sampled", sample_lines, True),
        ("corpus pass 2: each line's repeats", repeats, True),
        ("language id", lambda i, t: langid.detect_language(t), True),
        ("segmentation", lambda i, t: segment.segment_arrays(t), True),
        (
            "segmentation + features + labels + merge",
            lambda i, t: prelabel_columns(t, langs[i], CLASSIFIER),
            True,
        ),
        ("output line (JSON)", lambda i, t: prelabel_json(*labelled[i]), True),
    ]
    empty = each(lambda i, t: None) / n
    out = []
    for name, stage, flags in stages:
        gc.collect()
        seconds = each(stage, flags) / n - empty
        if stage is sample_lines:
            started = time.process_time()
            sample.stats()
            seconds += (time.process_time() - started) / n
        out.append((name, max(seconds, 0.0) * 1e6))
    return out


def rss_curve(work: Path, sizes: list[int], shard_size: int, workers: int) -> list[dict]:
    out = []
    for n in sizes:
        folder = ensure_corpus(work, n, shard_size)
        dest = work / "releases"
        version = f"1.{n}.0"
        shutil.rmtree(dest / f"v{version}", ignore_errors=True)
        cmd = [*corpus_exe(), "stream-build", str(folder), "-o", str(dest), "--version", version]
        log = work / f"memory-n{n}.jsonl"  # per-process RSS every 5 s
        r = run_child([*cmd, "--workers", str(workers)], sample_tree=True, log=log)
        by_pid = dict(r["peak_rss_by_pid"])
        parent = by_pid.pop(r["root_pid"], 0.0)
        out.append(
            {
                "n": n,
                "wall": r["wall"],
                "cpu": r["cpu"],
                "peak_rss": r["peak_rss"],
                "parent_rss": parent,
                "worker_rss": max(by_pid.values(), default=0.0),
                "tree_pss": r["tree_pss"],
                "release": dest / f"v{version}",
                "workers": workers,
            }
        )
        print(
            f"  N={n:,}: {n / r['wall']:,.0f} docs/s wall, peak RSS {r['peak_rss']:.0f} MiB "
            f"(parent {parent:.0f}, workers {out[-1]['worker_rss']:.0f}), tree PSS {r['tree_pss']:.0f} MiB",
            flush=True,
        )
    return out


_LOAD = r"""
import json, sys, time
t = time.perf_counter()
from datasets import load_dataset
imported = time.perf_counter() - t
t = time.perf_counter()
ds = load_dataset(sys.argv[1], "documents")
seconds = time.perf_counter() - t
from datasets.table import ConcatenationTable, MemoryMappedTable
def mapped(table):
    if isinstance(table, ConcatenationTable):
        return all(isinstance(t, MemoryMappedTable) for row in table.blocks for t in row)
    return isinstance(table, MemoryMappedTable)
# VmHWM is this process's own peak; ru_maxrss would carry over the parent's across exec
hwm = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:"))
print(json.dumps({"seconds": seconds, "import": imported, "rows": sum(d.num_rows for d in ds.values()),
  "memory_mapped": all(mapped(d.data) for d in ds.values()),
  "cache_files": sum(len(d.cache_files) for d in ds.values()),
  "rss_mb": hwm / 1024,
  "arrow_mb": sum(d.data.nbytes for d in ds.values()) / 2**20}))
"""


def load_timings(release: Path, work: Path) -> dict:
    cache = work / "hf-cache"
    shutil.rmtree(cache, ignore_errors=True)
    env = dict(os.environ, HF_DATASETS_CACHE=str(cache), HF_HUB_OFFLINE="1")
    runs = []
    for _ in range(2):
        result = subprocess.run(
            [sys.executable, "-c", _LOAD, str(release)], capture_output=True, env=env, check=True
        )
        runs.append(json.loads(result.stdout.decode().strip().splitlines()[-1]))
    return {"first": runs[0], "cached": runs[1]}


# --- report ----------------------------------------------------------------------------------


def markdown(results: dict, curve: list[dict], load: dict | None, args) -> str:
    rows = results["rows"]
    ours = next(r for r in rows if r["name"].startswith("`corpus prelabel` (whole"))
    build = next(r for r in rows if r["name"].startswith("end-to-end"))
    lines = [
        "# Benchmark results",
        "",
        f"Generated by `python bench/run.py {' '.join(args.argv)}`".rstrip() + f" on {platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}, {time.strftime('%Y-%m-%d')}.",
        f"N = {results['n']:,} SYNTHETIC articles (`bench/make_corpus.py`, seed 0), "
        f"{results['mb'] / results['n'] * 1024:.1f} KiB of UTF-8 text each on average; peers on the first "
        f"{args.peer_sample:,}, seeded langdetect on the first {args.langdetect_sample:,}.",
        "Rates are documents per CPU second of one core unless marked (wall clock, 2 cores), each the "
        f"median of {args.repeat} runs ({f'the {args.large_n:,}-document run and ' if args.large_n else ''}"
        "seeded langdetect: one); "
        "ratios are `corpus prelabel` ÷ row (and the build ÷ jusText below).",
        "",
        "| measurement | docs | docs/s | MB/s | `corpus prelabel` ÷ this | note |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        ratio = ours["docs_s"] / r["docs_s"] if r["docs_s"] else 0
        lines.append(
            f"| {r['name']} | {r['docs']:,} | {r['docs_s']:,.0f} | {r['mb_s']:.2f} | {ratio:.2f} "
            f"| {r['note']} |"
        )
    justext = next(r for r in rows if r["name"].startswith("jusText"))
    paired = {k: sorted(v) for k, v in results["paired"].items()}

    def spread(values: list[float]) -> str:
        return f"**{statistics.median(values):.1f}×** (rounds {', '.join(f'{v:.1f}' for v in values)})"

    lines += [
        "",
        f"**Targets** (per core, vs jusText): `corpus prelabel` {ours['docs_s'] / justext['docs_s']:.1f}× "
        f"(target ≥ 10×), end-to-end build {build['docs_s'] / justext['docs_s']:.1f}× (target ≥ 5×), "
        "from the rows above (each timed on its own, minutes apart).",
        f"Back to back ({len(paired['prelabel'])} rounds, each timing jusText on the first "
        f"{max(1, justext['docs'] // 2):,} documents, `corpus prelabel`, jusText, `corpus stream-build`, "
        "jusText in turn, ours divided by jusText's rate on either side; median of the rounds' ratios): "
        "`corpus prelabel` "
        f"{spread(paired['prelabel'])}, end-to-end build {spread(paired['build'])}.",
        "Start-up (`corpus prelabel` on a 1-document file, median of 3): "
        f"{results['startup_cpu']:.2f} s of CPU; kernels {results['kernels']} "
        "(`aot`: the extension `pip install` builds; `jit`: numba at run time).",
        f"Outputs: `--workers 2` byte-identical to 1 worker: prelabel {results['workers_identical']}, "
        f"build Parquet {results['build_workers_identical']}.",
        "",
        "## Language identification",
        "",
    ]
    ld = next(r for r in rows if r["name"].startswith("langdetect"))
    fast = next(r for r in rows if r["name"].startswith("language id alone"))
    ref = results["reference"]
    share_before = ref["langdetect"] / (ref["langdetect"] + ref["prelabel"]) if ref["prelabel"] else 0
    lines += [
        f"Seeded langdetect: {1e3 / ld['docs_s']:.1f} ms per document; before this work it was "
        f"{share_before:.0%} of the per-document time of language id + pre-labelling (reference code).",
        f"Exact fast path: {1e6 / fast['docs_s']:.0f} µs per document "
        f"({fast['docs_s'] / ld['docs_s']:.0f}× faster), certified for {results['langid_fast_share']:.2%} "
        "of the documents (the rest run langdetect); results "
        f"identical to langdetect on the {args.langdetect_sample:,} checked: {results['langid_equal']}.",
        "",
        "## Where the time goes (`corpus prelabel`, µs per document, one stage at a time)",
        "",
        "| stage | µs/doc |",
        "|---|---:|",
    ]
    profile = dict(results["profile"])
    lines += [f"| {name} | {us:,.0f} |" for name, us in profile.items()]
    flags = next(us for name, us in profile.items() if name.startswith("character flags"))
    total = sum(profile.values()) - profile["segmentation"] + flags  # (segmentation: inside labelling)
    measured = (1 / ours["docs_s"] - results["startup_cpu"] / results["n"]) * 1e6
    rest = (
        f"; the other {measured - total:,.0f} µs are reading the file, the records and `Article`s, "
        "writing, and the caches the stages share when each follows the other."
        if measured > 1.05 * total
        else ": the stages, each timed on its own a minute later, account for all of it (this VM's "
        "speed drifts by tens of per cent from minute to minute)."
    )
    lines += [
        "",
        f"The stages add up to {total:,.0f} µs per document (the character flags twice, once per "
        f"pass; segmentation once, inside the labelling row). `corpus prelabel` as measured above "
        f"takes {measured:,.0f} µs per document after its start-up{rest}",
    ]
    return "\n".join(lines) + "\n" + memory_markdown(curve, load)


MEMORY_NOTE = "Memory sections generated by "  # (a --memory-only run replaces the earlier one's)


def memory_markdown(curve: list[dict], load: dict | None) -> str:
    """The memory and ``load_dataset`` sections (``--memory-only`` rewrites just these)."""
    lines: list[str] = []
    if curve:
        lines += [
            "",
            f"## Peak memory of `corpus stream-build --workers {curve[0]['workers']}`",
            "",
            "Peak RSS is each process's `VmHWM` (`/proc/<pid>/status`), sampled every 0.1 s over the "
            "process tree; PSS is the tree's summed proportional set size (shared pages counted once), "
            "sampled every 0.25 s.",
            "",
            "| N | wall s | docs/s (wall, 2 cores) | peak RSS, largest process (MiB) "
            "| parent / largest worker (MiB) | peak PSS, whole tree (MiB) |",
            "|---:|---:|---:|---:|---:|---:|",
        ]
        for c in curve:
            lines.append(
                f"| {c['n']:,} | {c['wall']:,.0f} | {c['n'] / c['wall']:,.0f} | {c['peak_rss']:,.0f} "
                f"| {c.get('parent_rss', 0):,.0f} / {c.get('worker_rss', 0):,.0f} | {c['tree_pss']:,.0f} |"
            )
    if load:
        first, cached = load["first"], load["cached"]
        lines += [
            "",
            f"## `load_dataset` of the {first['rows']:,}-document streamed release",
            "",
            "| load | seconds | memory-mapped | process RSS (MiB) | Arrow data (MiB) |",
            "|---|---:|---|---:|---:|",
            f"| first (builds the Arrow cache) | {first['seconds']:.2f} | {first['memory_mapped']} | "
            f"{first['rss_mb']:,.0f} | {first['arrow_mb']:,.0f} |",
            f"| cached | {cached['seconds']:.2f} | {cached['memory_mapped']} | {cached['rss_mb']:,.0f} | "
            f"{cached['arrow_mb']:,.0f} |",
        ]
    return "\n".join(lines) + "\n" if lines else ""


MEMORY_HEADING = "\n## Peak memory of"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=5000, help="documents for the throughput rows")
    parser.add_argument(
        "--peer-sample", type=int, default=5000, help="documents given to jusText/trafilatura"
    )
    parser.add_argument("--langdetect-sample", type=int, default=500)
    parser.add_argument(
        "--large-n", type=int, default=20_000, help="also time `corpus prelabel` on this many documents"
    )
    parser.add_argument("--rss-sizes", default="10000,100000,1000000")
    parser.add_argument("--rss-workers", type=int, default=2)
    parser.add_argument("--shard-size", type=int, default=10_000)
    parser.add_argument("--work-dir", type=Path, default=Path(tempfile.gettempdir()) / "chhanni-bench")
    parser.add_argument("--output", type=Path, default=HERE / "results.md")
    parser.add_argument("--no-load", action="store_true", help="skip the load_dataset timing")
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs per throughput timing (the median is kept)"
    )
    parser.add_argument(
        "--rounds", type=int, default=9, help="back-to-back rounds for the targets (the median is kept)"
    )
    parser.add_argument("--quick", action="store_true", help="smoke run: N=60, RSS at 200 and 400")
    parser.add_argument(
        "--memory-only",
        action="store_true",
        help="only the peak-memory curve and load_dataset; replaces those sections of --output",
    )
    args = parser.parse_args(argv)
    args.argv = argv if argv is not None else sys.argv[1:]
    if args.quick:
        args.n, args.peer_sample, args.langdetect_sample, args.rss_sizes = 60, 60, 20, "200,400"
        args.large_n = 120
        args.shard_size = 100
        args.repeat, args.rounds = 1, 5
    args.peer_sample = min(args.peer_sample, args.n)
    args.langdetect_sample = min(args.langdetect_sample, args.n)
    args.work_dir.mkdir(parents=True, exist_ok=True)
    results = None
    if not args.memory_only:
        print(f"throughput on N={args.n:,} (work dir {args.work_dir}) ...", flush=True)
        results = throughput(
            args.work_dir,
            args.n,
            args.shard_size,
            args.peer_sample,
            args.langdetect_sample,
            args.large_n,
            args.repeat,
            args.rounds,
        )
    sizes = [int(s) for s in args.rss_sizes.split(",") if s.strip() and int(s) > 0]  # 0: no curve
    print(f"peak RSS of stream-build at N={sizes} ...", flush=True)
    curve = rss_curve(args.work_dir, sizes, args.shard_size, args.rss_workers) if sizes else []
    load = None
    if curve and not args.no_load:
        target = next((c for c in curve if c["n"] == 100_000), curve[min(1, len(curve) - 1)])
        print(f"load_dataset of the {target['n']:,}-document release ...", flush=True)
        load = load_timings(target["release"], args.work_dir)
    if results is not None:
        report = markdown(results, curve, load, args)
    else:  # keep the throughput part of an earlier run
        before = args.output.read_text(encoding="utf-8") if args.output.exists() else "# Benchmark results\n"
        head = before.split(MEMORY_HEADING)[0].split(MEMORY_NOTE)[0].rstrip("\n") + "\n"
        command = f"python bench/run.py {' '.join(args.argv)}"
        note = f"\n{MEMORY_NOTE}`{command}` on {time.strftime('%Y-%m-%d')}.\n"
        report = head + note + memory_markdown(curve, load)
    args.output.write_text(report, encoding="utf-8")
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
