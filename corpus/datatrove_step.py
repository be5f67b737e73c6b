"""The Chhanni segmenter + pre-labeler as a datatrove ``PipelineStep``.

datatrove is the engine FineWeb/FineWeb-2 (Bengali and Hindi included) were built with;
drop this step between a reader and a writer and run it with the Local, Slurm or Ray
executor::

    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.readers import JsonlReader
    from datatrove.pipeline.writers import JsonlWriter
    from corpus.datatrove_step import ChhanniPrelabeler

    LocalPipelineExecutor(
        pipeline=[JsonlReader("crawl/"), ChhanniPrelabeler(), JsonlWriter("labelled/")],
        tasks=64, workers=2, logging_dir="logs/prelabel",
    ).run()

Each document's text is replaced by its normalised form (NFC, LF line endings: the text the
offsets index) and ``metadata["chhanni"]`` gets ``{"lang", "lang_prob", "model_version",
"spans": [{"start", "end", "label", "category", "score"}]}`` — the same spans as
``corpus prelabel``. A datatrove task sees its own shard, not the corpus, so the lines'
repetition across the corpus (``corpus.repetition``) is used only when it is given:
``ChhanniPrelabeler(corpus=LineStats.of_texts(...))`` (or ``corpus.stream.corpus_line_stats``
of the input, a bounded sample, computed once before the run); without it the spans are those
of ``corpus prelabel --no-corpus-stats``. Documents that ``corpus prelabel`` would skip (empty, binary,
unsupported language) are dropped and counted in the step's stats (``dropped_<reason>``), or
kept unlabelled with ``metadata["chhanni"] = {"problem": ...}`` when ``keep_problems=True``.

Needs the ``datatrove`` extra (``pip install 'chhanni[datatrove]'``); readers/writers for
JSONL and Parquet need ``datatrove[io]``.
"""

from __future__ import annotations

from datatrove.data import DocumentsPipeline
from datatrove.pipeline.base import PipelineStep

from corpus.ingest import InputError, check_text, normalise_text
from corpus.langid import LanguageError, detect_language
from corpus.prelabel import MODEL_VERSION, prelabel_text
from corpus.repetition import LineStats

METADATA_KEY = "chhanni"


def prelabel_record(text: str, corpus: LineStats | None = None) -> tuple[str, dict]:
    """``(normalised text, metadata)`` for one raw text; raises ``InputError``/``LanguageError``."""
    text = check_text(normalise_text(text))
    lang, prob = detect_language(text)
    spans = prelabel_text(text, lang, corpus)
    return text, {
        "lang": lang,
        "lang_prob": prob,
        "model_version": MODEL_VERSION,
        "spans": [
            {"start": s.start, "end": s.end, "label": s.label, "category": s.category, "score": s.score}
            for s in spans
        ],
    }


class ChhanniPrelabeler(PipelineStep):
    """Segment and pre-label every document (content vs boilerplate spans, exact offsets)."""

    name = "🏷️ Chhanni pre-labeler"
    type = "🔖 - LABEL"

    def __init__(
        self, keep_problems: bool = False, metadata_key: str = METADATA_KEY, corpus: LineStats | None = None
    ):
        super().__init__()
        self.keep_problems = keep_problems
        self.metadata_key = metadata_key
        self.corpus = corpus

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        for document in data:
            self.stat_update("documents")
            with self.track_time():
                try:
                    text, labels = prelabel_record(document.text, self.corpus)
                except (InputError, LanguageError, UnicodeError) as error:
                    reason = "language" if isinstance(error, LanguageError) else "input"
                    self.stat_update(f"dropped_{reason}")
                    if self.keep_problems:
                        document.metadata[self.metadata_key] = {"problem": str(error)}
                        yield document
                    continue
            document.text = text
            document.metadata[self.metadata_key] = labels
            self.update_doc_stats(document)
            self.stat_update("prelabelled", f"lang_{labels['lang']}")
            self.stat_update("spans", value=len(labels["spans"]), unit="doc")
            yield document
