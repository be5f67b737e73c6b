"""The pre-labeler as a datatrove PipelineStep, run by datatrove's own executors."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("datatrove")

from datatrove.data import Document as DatatroveDocument  # noqa: E402
from datatrove.executor import LocalPipelineExecutor  # noqa: E402
from datatrove.pipeline.readers import JsonlReader  # noqa: E402
from datatrove.pipeline.writers import JsonlWriter  # noqa: E402

from corpus.cli import prelabel_json  # noqa: E402
from corpus.datatrove_step import ChhanniPrelabeler, prelabel_record  # noqa: E402
from corpus.ingest import check_text, normalise_text  # noqa: E402
from corpus.langid import LanguageError, detect_language  # noqa: E402
from corpus.prelabel import MODEL_VERSION, prelabel_text  # noqa: E402
from corpus.repetition import LineStats  # noqa: E402
from corpus.stream import corpus_line_stats, prelabel_lines  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

import make_corpus  # noqa: E402

ENGLISH = "The quick brown fox jumps over the lazy dog. " * 8


@pytest.fixture(scope="module")
def shards(tmp_path_factory) -> Path:
    """Two input files (datatrove shards by file: one file, one busy task), 12 articles each."""
    folder = tmp_path_factory.mktemp("dt-in")
    for k in range(2):
        records = [make_corpus.make_article(12 * k + i, seed=3) for i in range(12)]
        if k == 1:
            records.insert(4, {"id": "english", "text": ENGLISH})
            records[0]["text"] = records[0]["text"].replace("\n", "\r\n")  # normalised by the step
        lines = [json.dumps(r, ensure_ascii=False) for r in records]
        (folder / f"part-{k}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def expected(shards: Path, corpus: LineStats | None = None) -> dict[str, dict]:
    """The in-process result for every input record, keyed by id."""
    out = {}
    for path in sorted(shards.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            text = check_text(normalise_text(record["text"]))
            try:
                lang, prob = detect_language(text)
            except LanguageError:
                continue
            spans = [
                {"start": s.start, "end": s.end, "label": s.label, "category": s.category, "score": s.score}
                for s in prelabel_text(text, lang, corpus)
            ]
            out[record["id"]] = {"text": text, "lang": lang, "lang_prob": prob, "spans": spans}
    return out


def written(folder: Path) -> dict[str, dict]:
    out = {}
    for path in sorted(folder.glob("*.jsonl.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            for line in handle:
                record = json.loads(line)
                labels = record["metadata"]["chhanni"]
                out[record["id"]] = {
                    "text": record["text"],
                    **{k: labels[k] for k in ("lang", "lang_prob", "spans")},
                }
    return out


def test_step_labels_like_corpus_prelabel_and_drops_what_it_would_skip():
    step = ChhanniPrelabeler()
    article = make_corpus.make_article(0, seed=3)
    docs = [DatatroveDocument(text=article["text"], id="a"), DatatroveDocument(text=ENGLISH, id="en")]
    out = list(step.run(iter(docs)))
    assert [d.id for d in out] == ["a"]
    text, labels = prelabel_record(article["text"])
    assert out[0].text == text and out[0].metadata["chhanni"] == labels
    assert labels["model_version"] == MODEL_VERSION and labels["spans"][0]["start"] >= 0
    assert step.stats["dropped_language"].total == 1 and step.stats["prelabelled"].total == 1
    kept = list(ChhanniPrelabeler(keep_problems=True).run(iter([DatatroveDocument(text=ENGLISH, id="en")])))
    assert "not supported" in kept[0].metadata["chhanni"]["problem"]


def test_local_executor_two_tasks_two_workers_equals_in_process(shards: Path, tmp_path: Path):
    out = tmp_path / "out"
    executor = LocalPipelineExecutor(
        pipeline=[JsonlReader(str(shards)), ChhanniPrelabeler(), JsonlWriter(str(out))],
        tasks=2,
        workers=2,
        logging_dir=str(tmp_path / "logs"),
        start_method="fork",
    )
    executor.run()
    got = written(out)
    assert len(list(out.glob("*.jsonl.gz"))) == 2  # one output file per task (rank)
    assert got == expected(shards)
    assert "english" not in got and len(got) == 24
    assert "\r" not in got["synthetic-3-00000012"]["text"]


def test_the_step_given_the_corpus_line_stats_labels_like_corpus_prelabel(shards: Path, tmp_path: Path):
    """Computed once before the run (a bounded sample), pickled with the step into every task."""
    corpus = corpus_line_stats(shards)
    out = tmp_path / "out"
    LocalPipelineExecutor(
        pipeline=[JsonlReader(str(shards)), ChhanniPrelabeler(corpus=corpus), JsonlWriter(str(out))],
        tasks=2,
        workers=2,
        logging_dir=str(tmp_path / "logs"),
        start_method="spawn",
    ).run()
    got = written(out)
    assert got == expected(shards, corpus) != expected(shards)
    lines = [json.loads(line) for line in prelabel_lines(shards, prelabel_json) if isinstance(line, bytes)]
    assert {r["id"]: r["spans"] for r in lines} == {k: v["spans"] for k, v in got.items()}


RAY_SCRIPT = """
import sys, ray
from datatrove.executor.ray import RayPipelineExecutor
from datatrove.pipeline.readers import JsonlReader
from datatrove.pipeline.writers import JsonlWriter
from corpus.datatrove_step import ChhanniPrelabeler
if __name__ == "__main__":
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    RayPipelineExecutor(
        pipeline=[JsonlReader(sys.argv[1]), ChhanniPrelabeler(), JsonlWriter(sys.argv[2])],
        tasks=2, workers=2, logging_dir=sys.argv[3], mem_per_cpu_gb=1,
    ).run()
    ray.shutdown()
"""


@pytest.mark.slow
def test_ray_executor_on_a_local_ray_equals_in_process(shards: Path, tmp_path: Path):
    pytest.importorskip("ray")
    script = tmp_path / "run_ray.py"
    script.write_text(RAY_SCRIPT, encoding="utf-8")
    out, logs = tmp_path / "out", tmp_path / "logs"
    result = subprocess.run(
        [sys.executable, str(script), str(shards), str(out), str(logs)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert written(out) == expected(shards)
