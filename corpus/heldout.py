"""The synthetic held-out set: hand-written, hand-labelled pages from unseen site styles.

``evaluation/heldout/<lang>-<site>-<nn>.tsv`` holds one page per file. The pages were written
for evaluation (not scraped), imitate Bengali and Hindi news sites other than the seeds', and
are never part of a release: they test whether a labeller collapses on page chrome it has not
seen. See ``evaluation/README.md``.

File format::

    # page: bn-dhakawire-01            header comments: page, lang and site are required
    # lang: bn
    # site: dhakawire (fictional; style: …)
    # synthetic: written for evaluation, not scraped; never part of a release
    navigation<TAB>ঢাকাওয়্যার           one line of the page: category, TAB, text
    body<TAB>ঢাকা, ১৪ নভেম্বর — …
    +related_links<TAB>আরও পড়ুন: …       "+": glued to the previous line with no newline
                                          an empty line is an empty line of the page

The page text is the lines' texts joined with ``"\\n"`` (NFC, LF). Every piece (a line or a
glued ``+`` piece) is trimmed to non-whitespace and becomes a span of its category; neighbours
of the same category (only whitespace between them) merge into one span, as the labelling
standard requires. Gold spans carry ``label_source="human"`` and ``score=1.0``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from corpus.document import Span, merge_neighbours, trim
from corpus.labels import CATEGORY_NAMES, LANGUAGES

_HEADER = re.compile(r"^#\s*([a-z]+)\s*:\s*(.*?)\s*$")
_REQUIRED = ("page", "lang", "site")


class HeldoutError(ValueError):
    """A malformed held-out page; the message names the file and line."""


@dataclass(frozen=True)
class HeldoutPage:
    page_id: str
    lang: str
    site: str
    text: str
    spans: list[Span]
    path: Path | None = None
    site_style: str = ""

    def as_item(self) -> tuple[str, str, list[Span]]:
        """``(lang, text, gold spans)`` as ``corpus.evaluate`` consumes them."""
        return self.lang, self.text, list(self.spans)


def load_heldout(folder: Path) -> list[HeldoutPage]:
    """Every ``*.tsv`` page in ``folder``, sorted by file name; raises ``HeldoutError`` on a bad one."""
    folder = Path(folder)
    files = sorted(folder.glob("*.tsv"))
    if not files:
        raise HeldoutError(f"{folder}: no *.tsv pages")
    return [read_page(f) for f in files]


def read_page(path: Path) -> HeldoutPage:
    """Parse one page file (see the module docstring)."""
    path = Path(path)
    try:
        raw = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as err:
        raise HeldoutError(f"{path}: not valid UTF-8 (offset {err.start})") from None
    return parse_page(raw, str(path), path)


def parse_page(raw: str, name: str = "<page>", path: Path | None = None) -> HeldoutPage:
    """Parse the text of a page file; ``name`` is used in error messages."""
    raw = raw.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    header: dict[str, str] = {}
    lines: list[str] = []  # page lines
    pieces: list[tuple[int, int, str, int]] = []  # (start, end, category, file line) in page text
    offset = 0  # where the current page line starts in the page text
    last_kind = None  # "text" | "empty" | None (nothing yet)
    rows = raw.split("\n")
    if rows and rows[-1] == "":
        rows.pop()  # the file's final newline ends the last line; it is not an empty page line

    def fail(number: int, message: str) -> HeldoutError:
        return HeldoutError(f"{name}:{number}: {message}")

    for number, row in enumerate(rows, start=1):
        if row.startswith("#"):
            m = _HEADER.match(row)
            if m and m.group(1) in (*_REQUIRED, "synthetic"):
                if lines:
                    raise fail(number, f"header '{m.group(1)}' after the first page line")
                header[m.group(1)] = m.group(2)
            continue
        if row == "":
            lines.append("")
            last_kind = "empty"
            continue
        if "\t" not in row:
            raise fail(number, "expected 'category<TAB>text' (no TAB found)")
        category, text = row.split("\t", 1)
        glued = category.startswith("+")
        category = category[1:] if glued else category
        if category not in CATEGORY_NAMES:
            raise fail(number, f"unknown category {category!r}")
        if not text.strip():
            raise fail(number, "empty text")
        if "\t" in text:
            raise fail(number, "a TAB inside the text")
        text = unicodedata.normalize("NFC", text)
        if glued:
            if last_kind != "text":
                where = "on the first page line" if last_kind is None else "after an empty line"
                raise fail(number, f"'+' (glued piece) {where}: nothing to glue onto")
            start = offset + len(lines[-1])
            lines[-1] += text
        else:
            lines.append(text)
            offset = _line_start(lines)
            start = offset
        s, e = trim(text, 0, len(text))
        pieces.append((start + s, start + e, category, number))
        last_kind = "text"

    missing = [k for k in _REQUIRED if not header.get(k)]
    if missing:
        raise HeldoutError(f"{name}:1: missing header {', '.join(missing)}")
    lang = header["lang"]
    if lang not in LANGUAGES:
        raise HeldoutError(f"{name}:1: unknown language {lang!r}")
    page_id = header["page"]
    if path is not None and path.stem != page_id:
        raise HeldoutError(f"{name}:1: page id {page_id!r} differs from the file name {path.stem!r}")
    if not pieces:
        raise HeldoutError(f"{name}:1: no page lines")
    text = "\n".join(lines)
    if unicodedata.normalize("NFC", text) != text:
        raise HeldoutError(f"{name}: text is not NFC after joining the pieces")
    spans = list(merge_neighbours(text, [Span(s, e, c, 1.0, "human") for s, e, c, _ in pieces]))
    problems = span_problems(text, spans)
    if problems:
        raise HeldoutError(f"{name}: {problems[0]}")
    site = header["site"]
    return HeldoutPage(
        page_id=page_id,
        lang=lang,
        site=site.split("(", 1)[0].strip(),
        text=text,
        spans=spans,
        path=path,
        site_style=site,
    )


def _line_start(lines: list[str]) -> int:
    return sum(len(line) + 1 for line in lines[:-1])


def span_problems(text: str, spans: Iterable[Span]) -> list[str]:
    """Breaches of the labelling standard's span rules (empty list if the spans are valid).

    Sorted, non-overlapping, in range, known categories, start and end on non-whitespace,
    every non-whitespace character covered exactly once, and neighbouring spans of the same
    category (only whitespace between them) merged.
    """
    problems: list[str] = []
    spans = list(spans)
    covered = bytearray(len(text))
    prev: Span | None = None
    for i, s in enumerate(spans):
        where = f"span {i} [{s.start}, {s.end}) {s.category}"
        if s.category not in CATEGORY_NAMES:
            problems.append(f"{where}: unknown category")
        if not (0 <= s.start < s.end <= len(text)):
            problems.append(f"{where}: empty or out of range (text length {len(text)})")
            continue
        if text[s.start].isspace() or text[s.end - 1].isspace():
            problems.append(f"{where}: starts or ends on whitespace")
        if prev is not None:
            if s.start < prev.end:
                problems.append(f"{where}: overlaps or is not sorted after [{prev.start}, {prev.end})")
            elif s.category == prev.category and not text[prev.end : s.start].strip():
                problems.append(f"{where}: not merged with its same-category neighbour")
        for k in range(s.start, s.end):
            covered[k] += 1
        prev = s
    for k, ch in enumerate(text):
        if not ch.isspace() and covered[k] != 1:
            state = "not covered" if covered[k] == 0 else "covered twice"
            line = text.count("\n", 0, k) + 1
            problems.append(f"character {k} ({ch!r}, page line {line}): {state}")
            break
    return problems
