"""The CLI's console: plain lines exactly as rich writes them, without importing rich."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from corpus.console import Console

LINES = ["pre-labelled 3 documents → out.jsonl (0 skipped)", "error: a [b] c *d* `e` :smile:", "ঢাকা 😀 x", ""]
LINES += ["tab\tand\u200dzwj", "two\nlines", "\x1b[1mescape"]  # (through rich)


def test_plain_lines_are_what_rich_writes(capsys):
    from rich.console import Console as RichConsole

    for stderr in (False, True):
        for line in LINES:
            Console(stderr=stderr).print(line, markup=False)
            ours = capsys.readouterr()
            RichConsole(stderr=stderr, highlight=False, soft_wrap=True, emoji=False).print(line, markup=False)
            theirs = capsys.readouterr()
            assert (ours.out, ours.err) == (theirs.out, theirs.err)
            if line.isprintable():
                assert (ours.err if stderr else ours.out) == line + "\n"


def test_anything_else_goes_through_rich(capsys):
    console = Console()
    assert console._rich is None
    console.print("[bold]x[/bold]")  # markup: rendered by rich
    assert capsys.readouterr().out == "x\n" and console._rich is not None
    console.print_json(json.dumps({"a": 1}))
    assert json.loads(capsys.readouterr().out) == {"a": 1}


def test_corpus_prelabel_runs_without_importing_rich(tmp_path: Path):
    source = tmp_path / "in.jsonl"
    record = {"id": "a", "text": "ঢাকায় আজ বৃষ্টি হয়েছে। আরও পড়ুন: খবর"}
    source.write_text(json.dumps(record) + "\n", encoding="utf-8")
    args = ["prelabel", str(source), "-o", str(tmp_path / "out.jsonl")]
    lines = _after_corpus(args, "'rich' in sys.modules")
    summary = f"pre-labelled 1 documents → {tmp_path / 'out.jsonl'} (0 skipped)"
    assert lines == [summary, "False"]


def _after_corpus(args: list[str], expression: str) -> list[str]:
    """The lines printed by ``corpus <args>`` run in a fresh process (its console entry point),
    then ``expression`` printed there."""
    code = (
        "import gc, sys; from corpus.__main__ import main\n"
        f"sys.argv = ['corpus', *{args!r}]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        f"print({expression})"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return result.stdout.splitlines()


def _collector_after(args: list[str]) -> list[str]:
    """``[gc enabled, objects frozen]`` once ``corpus <args>`` has run in a fresh process."""
    return _after_corpus(args, "gc.isenabled(), gc.get_freeze_count() > 0")[-1].split()


def test_the_cycle_collector_is_paused_only_while_a_command_starts(tmp_path: Path):
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps({"id": "a", "text": "ঢাকায় আজ বৃষ্টি হয়েছে।"}) + "\n", encoding="utf-8")
    # a long run resumes it once its imports are done, start-up's objects frozen
    assert _collector_after(["prelabel", str(source), "-o", str(tmp_path / "out.jsonl")]) == ["True", "True"]
    # any other command gets it back as it starts, with nothing frozen
    assert _collector_after(["schema", "--output", str(tmp_path / "schema")]) == ["True", "False"]
    assert _collector_after(["--help"]) == ["False", "False"]  # (no command ran: the process ends)


def test_the_modules_regexes_compile_on_first_use_and_match_as_compiled():
    code = (
        "import re, pickle; from corpus import cli, stream, prelabel, segment, lexicon\n"
        "lazy = [v for m in (prelabel, segment, lexicon) for v in vars(m).values()"
        " if isinstance(v, lexicon.LazyPattern)]\n"
        "print(len(lazy), sum('compiled' in v.__dict__ for v in lazy))\n"
        "p = prelabel._DATE; text = 'ঢাকা, ১৩ অক্টোবর ২০২৫'\n"
        "compiled = re.compile(p.pattern)\n"
        "print(p.pattern == p.source[0], p.search(text).span() == compiled.search(text).span())\n"
        "print(type(pickle.loads(pickle.dumps(p))).__name__)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    counted, same, copied = result.stdout.splitlines()
    assert int(counted.split()[0]) >= 15 and counted.split()[1] == "0"  # none compiled by start-up
    assert same == "True True" and copied == "LazyPattern"
