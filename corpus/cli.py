"""``corpus``: the command line, a thin layer over the library."""

# (No ``from __future__ import annotations`` here or in cli_annotate: typer reads every
# command's parameters at each start, and a string annotation costs it an ``eval``: ~8 ms.)
import json
import math
import os
import sys
from collections import Counter
from collections.abc import Iterable
from functools import cache
from json.encoder import encode_basestring
from pathlib import Path
from typing import TYPE_CHECKING

import orjson
import typer

from corpus.console import Console
from corpus.document import Article, Document
from corpus.ingest import IO_BUFFER, Problem
from corpus.labels import CATEGORIES, CATEGORY_NAMES, LABELS, label_of
from corpus.staging import staging_path

if TYPE_CHECKING:
    from corpus.prelabel import SpanColumns

# One BLAS thread: no command needs more, and OpenBLAS's idle threads spin on a core at
# start-up. Set before anything loads numpy (nothing above does); an explicit setting wins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

app = typer.Typer(
    name="corpus",
    help=(
        "Chhanni: content vs boilerplate spans in Bengali and Hindi news.\n\n"
        "Raw articles (seeds/) are split into spans with exact character offsets, pre-labelled, "
        "labelled by people in Label Studio (annotation/), validated against the data contract "
        "(schema/) and released as versioned Hugging Face datasets (releases/)."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err = Console(stderr=True)
out = Console()


def fail(message: str, code: int = 1) -> None:
    err.print(f"error: {message}", markup=False)
    raise typer.Exit(code)


def progress_bar(description: str):
    """A progress wrapper that draws on a terminal and stays silent in a pipe or CI."""

    def wrap(items: Iterable) -> Iterable:
        if not err.is_terminal or os.environ.get("CI"):
            yield from items
            return
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.fields[rate]}"),
            console=err.rich,
            transient=True,
        ) as bar:
            task = bar.add_task(description, total=None, rate="")
            for n, item in enumerate(items, start=1):
                elapsed = bar.tasks[0].elapsed or 0
                bar.update(task, advance=1, rate=f"{n / elapsed:,.0f} docs/s" if elapsed > 0.5 else "")
                yield item

    return wrap


def report_problems(problems: list[Problem]) -> None:
    for problem in problems:
        err.print(f"warning: {problem}", markup=False)


@app.command()
def build(
    seeds: Path = typer.Option(Path("seeds"), help="Folder of raw articles (*.txt, *.jsonl)."),
    annotations: Path = typer.Option(Path("annotation"), help="Folder of pulled Label Studio annotations."),
    output: Path = typer.Option(Path("releases"), help="Folder that holds the versioned releases."),
    version: str = typer.Option(
        None, help="Release version MAJOR.MINOR.PATCH [default: the latest existing one, else 0.1.0]."
    ),
    bump: str = typer.Option(
        None,
        help="Instead of --version: next version after the latest release, by the policy "
        "major (schema or label set changed) | minor (documents or labels changed) | patch (card only).",
    ),
    strict: bool = typer.Option(False, help="Fail, writing nothing, if any input has a problem."),
) -> None:
    """Build a release: ingest, segment, pre-label, apply human labels, validate, write Parquet.

    Writes OUTPUT/vVERSION/ (Parquet per config and split, README.md dataset card, manifest.json
    with the sha256 of every file, the inputs' hashes, schema version, label-set hash, source
    commit and command) through a temporary folder, so a release appears whole or not at all,
    and appends an entry to OUTPUT/CHANGELOG.md. An existing release is never changed:
    rebuilding it from the same inputs reports it unchanged; different inputs need --bump.
    """
    from datetime import date

    from corpus.pipeline import build as build_corpus
    from corpus.release import ReleaseError, existing_versions
    from corpus.validate import SchemaViolation
    from corpus.versioning import append_changelog, changelog_entry, check_bump, next_version

    versions = existing_versions(output)
    previous = output / f"v{versions[-1]}" if versions else None
    hook = None
    if bump is not None:
        if version is not None:
            fail("give --version or --bump, not both")
        try:
            version = next_version(versions[-1] if versions else None, bump)
        except ReleaseError as error:
            fail(str(error))
        hook = check_bump(previous, bump) if previous else None
    elif version is None:
        version = versions[-1] if versions else "0.1.0"
    try:
        report = build_corpus(
            seeds,
            annotations,
            output,
            version.removeprefix("v"),
            progress_bar("pre-labelling"),
            before_publish=hook,
            strict=strict,
        )
    except FileNotFoundError as error:
        fail(str(error))
    except SchemaViolation as error:
        report_problems(getattr(error, "problems", []))
        for line in error.lines[:20]:
            err.print(f"schema: {line}", markup=False)
        fail(f"release not written: {len(error.lines)} schema violation(s)")
    except ReleaseError as error:
        report_problems(error.problems)
        fail(str(error))
    report_problems(report.problems)
    if report.release is None:
        fail(f"{seeds}: no usable documents, nothing written")
    if report.release.status == "created":
        earlier = previous if previous and previous != report.release.path else None
        append_changelog(output, changelog_entry(earlier, report.release.path, date.today().isoformat()))
    release = report.release
    per_label = Counter(s.label for d in report.documents for s in d.spans)
    verb = "unchanged (byte-identical rebuild)" if release.status == "unchanged" else "written"
    out.print(f"release v{release.version} {verb}: {release.path}", markup=False)
    out.print(
        f"  documents: {len(report.documents)} ({report.human_documents} with human labels)"
        f"   problems: {len(report.problems)}",
        markup=False,
    )
    out.print("  spans: " + ", ".join(f"{label} {per_label[label]}" for label in LABELS), markup=False)
    out.print(
        "  categories: "
        + ", ".join(
            f"{c.name} {release.spans_per_category[c.name]}"
            for c in CATEGORIES
            if release.spans_per_category[c.name]
        ),
        markup=False,
    )
    splits = ", ".join(f"{s} {n}" for s, n in release.rows["documents"].items())
    out.print(f"  splits (documents): {splits}", markup=False)


@app.command()
def prelabel(
    input: Path = typer.Argument(
        ..., help='A .jsonl file of {"id", "text", ...} records or a folder of .txt files.'
    ),
    output: Path = typer.Option(..., "--output", "-o", help="JSONL file to write (replaced atomically)."),
    workers: int = typer.Option(
        1, "--workers", "-w", help="Worker processes (0 = all cores). Output is identical for any number."
    ),
    corpus_stats: bool = typer.Option(
        True,
        "--corpus-stats/--no-corpus-stats",
        help="First read the input once to count how often each line repeats across it (a feature "
        "of the classifier: chrome repeats from page to page); off, each document is labelled on its own.",
    ),
) -> None:
    """Pre-label documents on their own, streaming: one JSON line per input document, in order.

    Each line is {"id", "text" (the normalised text the offsets index), "lang", "spans":
    [{"start", "end", "label", "category", "score"}], "model_version"}. Inputs with a problem
    (bad UTF-8, empty, unsupported language, ...) are reported on stderr and skipped.
    """
    from corpus.stream import prelabel_lines

    long_run_gc()
    if not input.exists():
        fail(f"{input}: no such file or folder")
    note_single_pass(input, corpus_stats)
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = staging_path(output.parent, f".{output.name}.tmp")
    written = problems = 0
    try:
        with tmp.open("wb", buffering=IO_BUFFER) as handle:
            lines = prelabel_lines(
                input, prelabel_json, workers=workers or os.cpu_count() or 1, corpus_stats=corpus_stats
            )
            for item in progress_bar("pre-labelling")(lines):
                if isinstance(item, Problem):
                    problems += 1
                    err.print(f"warning: {item}", markup=False)
                    continue
                handle.write(item)
                written += 1
        if written == 0:
            fail(f"{input}: no usable documents, {output} not written")
        os.replace(tmp, output)
    finally:
        tmp.unlink(missing_ok=True)
    out.print(f"pre-labelled {written} documents → {output} ({problems} skipped)", markup=False)


LONG_RUNS = ("prelabel", "stream-build")  # commands that start the collector with ``long_run_gc``


@app.callback()
def resume_gc(ctx: typer.Context) -> None:
    """The collector, paused while the command starts (``corpus.__main__``), runs again for a
    command; one of ``LONG_RUNS`` resumes it itself once its imports are done."""
    if ctx.invoked_subcommand not in LONG_RUNS:
        import gc

        gc.enable()


def long_run_gc() -> None:
    """Tune the cycle collector for a run over many documents (and resume it, if paused): what
    start-up made is frozen (never traversed again) and gen-0 collections are rarer.
    Per-document work makes many small containers but no lasting cycles, so full collections
    were a few per cent of the time."""
    import gc

    gc.freeze()
    gc.set_threshold(50_000, 50, 50)
    gc.enable()


def note_single_pass(input: Path, corpus_stats: bool) -> None:
    """Say so when the corpus pass cannot read ``input`` before the labelling pass (a pipe)."""
    from corpus.stream import readable_twice

    if not corpus_stats or readable_twice(input) or not input.exists():
        return
    err.print(
        f"note: {input} is not a regular file and can be read only once: "
        "documents are labelled on their own (--no-corpus-stats)",
        markup=False,
    )


def prelabel_record(doc: "Document | Article", labelled: "SpanColumns | None" = None) -> dict:
    """What ``corpus prelabel`` writes for ``doc``: its spans, or ``labelled`` (the spans of a
    document not labelled yet, ``corpus.stream``'s)."""
    if labelled is None:
        labelled = _columns_of(doc)
    return {
        "id": doc.doc_id,
        "text": doc.text,
        "lang": doc.lang,
        "spans": [
            {"start": start, "end": end, "label": label_of(category), "category": category, "score": score}
            for start, end, category, score in zip(*labelled[:4])
        ],
        "model_version": labelled.model_version,
    }


def _columns_of(doc: Document) -> "SpanColumns":
    from corpus.prelabel import SpanColumns

    return SpanColumns.of(doc.spans, doc.model_version)


def prelabel_json(doc: "Document | Article", labelled: "SpanColumns | None" = None) -> bytes:
    """The line ``corpus prelabel`` writes for ``doc``: ``json.dumps(prelabel_record(doc,
    labelled), ensure_ascii=False)`` in UTF-8, newline included, built directly.

    Same string escapes (``json.encoder.encode_basestring``; the text's applied to its UTF-8
    bytes, ``json_string_utf8``), ``repr`` for ints and finite floats, same separators and key
    order; anything else goes through ``json.dumps`` itself.
    """
    enc = encode_basestring
    if labelled is None:
        labelled = _columns_of(doc)
    spans = _spans_json(labelled)
    if spans is None:  # (json.dumps: NaN/Infinity, subclasses)
        return (json.dumps(prelabel_record(doc, labelled), ensure_ascii=False) + "\n").encode("utf-8")
    head = f'{{"id": {enc(doc.doc_id)}, "text": '.encode()
    tail, end = _line_parts(doc.lang, labelled.model_version)
    return b"".join((head, json_string_utf8(doc.text), tail, spans, end))


@cache
def _line_parts(lang: str, model_version: str) -> tuple[bytes, bytes]:
    """``prelabel_json``'s bytes between the text and the spans, and after the spans (a few
    languages and model versions: made once each)."""
    enc = encode_basestring
    return (
        f', "lang": {enc(lang)}, "spans": ['.encode(),
        f'], "model_version": {enc(model_version)}}}\n'.encode(),
    )


def _spans_json(labelled: "SpanColumns") -> bytes | None:
    """``prelabel_json``'s spans (inside the brackets): compiled from the fast path's arrays
    (``corpus._kernels.spans_json``), else formatted here; None for what only ``json.dumps``
    writes right."""
    arrays = labelled.arrays.of(labelled) if labelled.arrays is not None else None
    if arrays is not None:
        import corpus._kernels as _kernels  # (`from corpus import` runs importlib code: per line)

        spans = _kernels.spans_json(*arrays, _member_rows())
        if len(spans) or not len(labelled.starts):
            return spans.tobytes()
    starts, ends, categories, scores = labelled[:4]
    plain = {*map(type, starts), *map(type, ends)} <= {int} and {*map(type, scores)} <= {float}
    if not plain or not all(map(math.isfinite, scores)):
        return None
    members = map(_members, categories)
    return ", ".join(
        f'{{"start": {start!r}, "end": {end!r}, {member}, "score": {score!r}}}'
        for start, end, member, score in zip(starts, ends, members, scores)
    ).encode()


@cache
def _members(category: str) -> str:
    """A span's encoded ``"label"`` and ``"category"`` members."""
    return f'"label": {encode_basestring(label_of(category))}, "category": {encode_basestring(category)}'


@cache
def _member_rows():
    """``_members`` of every category, by index, as the kernels' rows of code points."""
    from corpus.segment import code_rows

    members = [_members(category) for category in CATEGORY_NAMES]
    assert all(member.isascii() for member in members)
    return code_rows(members)


def json_string_utf8(text: str) -> bytes:
    """``json.dumps(text, ensure_ascii=False).encode("utf-8")``, by orjson: the same escapes,
    encoded and escaped in one pass. A lone surrogate raises ``UnicodeEncodeError``, as that
    ``encode`` does."""
    try:
        return orjson.dumps(text)
    except orjson.JSONEncodeError:
        text.encode("utf-8")  # (raises the error naming the character)
        raise


@app.command()
def schema(
    output: Path = typer.Option(Path("schema"), help="Folder for the generated data contract."),
    check: bool = typer.Option(False, help="Only check that the folder is up to date (exit 1 if not)."),
) -> None:
    """Write the data contract (JSON Schemas, labels.json, README) generated from the code."""
    from corpus.schema import schema_files

    stale = []
    for name, text in schema_files().items():
        path = output / name
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current == text:
            continue
        stale.append(name)
        if not check:
            output.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    if check and stale:
        fail(f"{output}: out of date ({', '.join(stale)}); run `corpus schema`")
    out.print(f"{output}: {'up to date' if not stale else 'updated ' + ', '.join(stale)}", markup=False)


@app.command()
def verify(
    release: Path = typer.Argument(..., help="Release folder, e.g. releases/v0.1.0."),
    load: bool = typer.Option(True, help="Also open every config/split with datasets.load_dataset."),
) -> None:
    """Check a release: every file against manifest.json, the tables against the pandera schema,
    and that load_dataset opens every config and split. Exits 1 naming the first broken file."""
    from corpus.verify import VerificationError, verify_release

    try:
        passed = verify_release(release, load=load)
    except VerificationError as error:
        fail(str(error))
    for line in passed:
        out.print(f"ok  {line}", markup=False)
    out.print(f"{release}: verified", markup=False)


@app.command()
def diff(
    old: Path = typer.Argument(..., help="Older release folder."),
    new: Path = typer.Argument(..., help="Newer release folder."),
    as_json: bool = typer.Option(False, "--json", help="Print the machine-readable diff as JSON."),
) -> None:
    """Compare two releases: documents added/removed/changed, spans whose label or boundaries
    changed, and per-label and per-category count deltas."""
    from rich.table import Table

    from corpus.diff import diff_releases

    for path in (old, new):
        if not (path / "manifest.json").exists():
            fail(f"{path}: not a release (no manifest.json)")
    result = diff_releases(old, new)
    if as_json:
        out.print_json(json.dumps(result, ensure_ascii=False))
        return
    summary = result["summary"]
    out.print(
        f"{old.name} → {new.name}: {summary['documents_added']} documents added, "
        f"{summary['documents_removed']} removed, {summary['documents_changed']} with changed text, "
        f"{summary['spans_changed']} with changed spans",
        markup=False,
    )
    counts = Table("category", "Δ spans")
    for category, delta in result["span_count_delta"].items():
        counts.add_row(category, f"{delta:+d}")
    for label, delta in result["label_count_delta"].items():
        counts.add_row(f"[bold]{label}[/bold]", f"{delta:+d}")
    out.print(counts)
    if result["span_changes"]:
        spans = Table("document", "change", "span", "label", "category", "text")
        for change in result["span_changes"]:
            for kind, items in (("−", change["removed"]), ("+", change["added"])):
                for span in items:
                    spans.add_row(
                        change["doc_id"],
                        kind,
                        f"{span['start']}–{span['end']}",
                        span["label"],
                        span["category"],
                        span["text"],
                    )
        out.print(spans)


@app.command()
def rebuild(
    release: Path = typer.Argument(..., help="Committed release folder to rebuild."),
    output: Path = typer.Option(..., "--output", "-o", help="Folder to rebuild into (not releases/)."),
) -> None:
    """Rebuild a release from its recorded inputs (verified by sha256, taken from the work tree or
    the recorded commit) and compare the bytes. Exits 1 listing the files that differ."""
    from corpus.rebuild import rebuild_release
    from corpus.release import ReleaseError

    if output.resolve() == release.parent.resolve():
        fail(f"{output}: rebuild into another folder, not the one holding {release.name}")
    try:
        rebuilt, differ = rebuild_release(release, output, Path.cwd())
    except ReleaseError as error:
        fail(str(error))
    if differ:
        fail(f"{rebuilt}: differs from {release} in {', '.join(differ)}")
    out.print(f"{rebuilt}: byte-identical to {release}", markup=False)


@app.command()
def publish(
    release: Path = typer.Argument(..., help="Release folder to upload."),
    repo_id: str = typer.Option(..., help="Hugging Face dataset repo, e.g. org/chhanni."),
    dry_run: bool = typer.Option(False, help="Only print the upload plan."),
) -> None:
    """Upload a verified release folder to the Hugging Face Hub as a dataset repo and tag it.

    The folder is already the repo's layout (README.md card with configs, Parquet per config and
    split, manifest.json). Needs a token (HF_TOKEN or `huggingface-cli login`); without one, or with
    --dry-run, prints the plan and uploads nothing."""
    from corpus.publish import find_token, upload_plan
    from corpus.publish import publish as publish_release
    from corpus.verify import VerificationError, verify_release

    try:
        verify_release(release, load=False)
    except VerificationError as error:
        fail(str(error))
    plan = upload_plan(release, repo_id)
    token = None if dry_run else find_token()
    if token is None:
        out.print_json(json.dumps(plan, ensure_ascii=False))
        if not dry_run:
            fail("no Hugging Face token configured (HF_TOKEN); plan printed, nothing uploaded")
        return
    try:
        publish_release(release, repo_id, token)
    except Exception as error:  # network, auth: one line, no token in it
        fail(f"upload to {repo_id} failed: {type(error).__name__}: {str(error).replace(token, '***')}")
    out.print(f"published {release.name} to https://huggingface.co/datasets/{repo_id}", markup=False)


@app.command()
def evaluate(
    gold: Path = typer.Argument(
        ...,
        help="A release folder (its human-labelled documents), an annotation folder (with --seeds), "
        "or the held-out folder of hand-labelled .tsv pages (evaluation/heldout).",
    ),
    seeds: Path = typer.Option(Path("seeds"), help="Seed folder, when GOLD is an annotation folder."),
    peers: bool = typer.Option(False, help="Also score jusText, trafilatura, a line filter and all-content."),
    as_json: bool = typer.Option(False, "--json", help="Print the scores as JSON."),
) -> None:
    """Score the pre-labeler against human gold: character-level (non-whitespace) and span-level
    precision, recall and F1 per label, category and language, and a confusion table; with
    --peers, a comparison table against the tools people would otherwise use."""
    from corpus.evaluate import (
        compare_systems,
        comparison_table,
        evaluate_prelabeler,
        gold_from_annotations,
        gold_from_release,
        markdown_report,
    )

    problems: list = []
    if (gold / "manifest.json").exists():
        items = gold_from_release(gold)
    elif gold.is_dir() and any(gold.glob("*.tsv")):
        from corpus.heldout import HeldoutError, load_heldout

        try:
            items = [page.as_item() for page in load_heldout(gold)]
        except HeldoutError as error:
            fail(str(error))
    else:
        items, problems = gold_from_annotations(seeds, gold)
    report_problems(problems)
    if not items:
        fail(f"{gold}: no human-labelled documents to evaluate against")
    if peers:
        from corpus.evaluate import corpus_prelabeler
        from corpus.peers import PEERS
        from corpus.prelabel import MODEL_VERSION, prelabel_text

        systems = {
            f"ours ({MODEL_VERSION})": corpus_prelabeler([text for _, text, _ in items]),
            f"ours ({MODEL_VERSION}), each page on its own": prelabel_text,
            **PEERS,
        }
        results = compare_systems(items, systems)
        if as_json:
            out.print_json(json.dumps({k: v.as_dict() for k, v in results.items()}, ensure_ascii=False))
        else:
            out.print(comparison_table(results), markup=False)
        return
    result = evaluate_prelabeler(items)
    if as_json:
        out.print_json(json.dumps(result.as_dict(), ensure_ascii=False))
    else:
        out.print(markdown_report(result), markup=False)


@app.command()
def train(
    seeds: Path = typer.Option(Path("seeds"), help="Seed folder (texts of the human-labelled documents)."),
    annotations: Path = typer.Option(Path("annotation"), help="Annotation folder with the human labels."),
    heldout: Path = typer.Option(Path("evaluation/heldout"), help="Folder of hand-labelled synthetic pages."),
    output: Path = typer.Option(None, help="Model file to write [default: the package's shipped model]."),
    check: bool = typer.Option(
        False, help="Write nothing; fail if the shipped model is not what training gives."
    ),
    peers: bool = typer.Option(False, help="Also score jusText, trafilatura, a line filter and all-content."),
) -> None:
    """Fit the classifier on the gold (seed annotations and the synthetic pages), print its
    cross-validated scores next to the rules' (leave-one-document-out over the seeds,
    leave-one-site-out over the synthetic pages) and write the model file."""
    import corpus
    from corpus.classifier import MODEL_FILE, load_shipped
    from corpus.evaluate import comparison_table
    from corpus.training import same_model, train_and_validate, training_documents, write_model

    try:
        docs = training_documents(seeds, annotations, heldout)
    except (OSError, ValueError) as error:
        fail(str(error))
    model, cv = train_and_validate(docs)
    rows: dict = {}
    for source in cv.classifier:
        rows[f"ours {model.version} + rules, held out ({source})"] = cv.classifier[source]
        rows[f"ours rules alone ({source})"] = cv.rules[source]
        if peers:
            from corpus.evaluate import compare_systems
            from corpus.peers import PEERS

            items = [(d.lang, d.text, list(d.gold)) for d in docs if d.source == source]
            rows |= {f"{k} ({source})": v for k, v in compare_systems(items, PEERS).items()}
    out.print(comparison_table(rows), markup=False)
    shipped_path = output or Path(corpus.__file__).parent / "models" / MODEL_FILE
    if check:
        shipped = load_shipped()
        if shipped is None or not same_model(shipped, model):
            fail(f"{shipped_path}: not what training on the current gold gives; run `corpus train`")
        out.print(f"{shipped_path}: matches training (data sha256 {model.training['data_sha256'][:12]})")
        return
    write_model(model, shipped_path)
    out.print(
        f"model written: {shipped_path} ({model.version}, {model.training['pieces']} pieces)", markup=False
    )


@app.command()
def view(
    release: Path = typer.Argument(..., help="Release folder to show."),
    output: Path = typer.Option(..., "--output", "-o", help="HTML file to write."),
) -> None:
    """Write a static, self-contained HTML page (no network) showing every article with its spans
    coloured by category, a legend, filters by language and category, and each span's label
    source on hover."""
    from corpus.viewer import write_viewer

    try:
        path = write_viewer(release, output)
    except (FileNotFoundError, ValueError) as error:
        fail(f"{release}: {error}")
    out.print(f"viewer written: {path}", markup=False)


@app.command("stream-build")
def stream_build(
    input: Path = typer.Argument(..., help="A .jsonl file (or named pipe) or a folder of .jsonl/.txt files."),
    output: Path = typer.Option(Path("releases-stream"), "--output", "-o", help="Folder for the release."),
    version: str = typer.Option("0.0.1", help="Version MAJOR.MINOR.PATCH of the streamed release."),
    workers: int = typer.Option(1, "--workers", "-w", help="Worker processes (0 = all cores)."),
    batch_size: int = typer.Option(500, help="Documents per batch (validated and written together)."),
    corpus_stats: bool = typer.Option(
        True,
        "--corpus-stats/--no-corpus-stats",
        help="First read the input once to count how often each line repeats across it (a feature "
        "of the classifier: chrome repeats from page to page); off, each document is labelled on its own.",
    ),
) -> None:
    """Build a release from a large corpus in bounded memory: ingest, pre-label, validate each
    batch against the data contract, write sharded Parquet (input order within each split), a card
    and a manifest with every file's sha256. For large or synthetic corpora; committed releases are
    made by `corpus build`."""
    from corpus.release import ReleaseError
    from corpus.stream import StreamError
    from corpus.stream import stream_build as build_stream

    shown = Counter()

    def on_problem(problem: Problem) -> None:  # the first 20 are printed, all are counted
        shown["problems"] += 1
        if shown["problems"] <= 20:
            err.print(f"warning: {problem}", markup=False)

    note_single_pass(input, corpus_stats)
    long_run_gc()
    try:
        report = build_stream(
            input,
            output,
            version.removeprefix("v"),
            workers=workers or os.cpu_count() or 1,
            batch_size=batch_size,
            progress=progress_bar("streaming"),
            on_problem=on_problem,
            corpus_stats=corpus_stats,
        )
    except FileNotFoundError as error:
        fail(str(error))
    except StreamError as error:
        for line in error.lines[:20]:
            err.print(f"schema: {line}", markup=False)
        fail(f"release not written: {error}")
    except ReleaseError as error:
        fail(str(error))
    rate = report.documents / report.seconds if report.seconds else 0.0
    out.print(
        f"streamed release v{report.version}: {report.path} — {report.documents} documents "
        f"({report.problems} skipped) in {report.seconds:.1f} s ({rate:,.0f} docs/s), "
        f"peak RSS {report.peak_rss_mb:,.0f} MiB",
        markup=False,
    )


from corpus.cli_annotate import annotate_app  # noqa: E402

app.add_typer(annotate_app, name="annotate")


if __name__ == "__main__":  # pragma: no cover
    from corpus.__main__ import main

    sys.exit(main())
