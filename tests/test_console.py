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
    code = (
        "import sys; from corpus.cli import main\n"
        f"sys.argv = ['corpus', 'prelabel', {str(source)!r}, '-o', {str(tmp_path / 'out.jsonl')!r}]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print('rich' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    summary = f"pre-labelled 1 documents → {tmp_path / 'out.jsonl'} (0 skipped)"
    assert result.stdout.splitlines() == [summary, "False"]
