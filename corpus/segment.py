"""Segment: a document's text → candidate pieces with exact ``[start, end)`` offsets.

Pieces start from lines (trimmed, so whitespace belongs to no piece) and are split further
inside a line where scrapers glue a piece of another kind on with no separator:

* a sentence end (``! ? ।`` or ``.`` before an Indic letter) directly followed by a letter
  ("…যোগসূত্র!মেটার…");
* an Indic letter directly followed by a Latin capital ("…হাইকোর্টKolkata News:…");
* a Latin lower→upper change where the rest opens a ``Kicker:`` headline ("…LiveRation Scam:…");
* a word found nowhere else in the document that is two words the document does use
  ("…বিভ্রাটমেটার…" = "বিভ্রাট" + "মেটার");
* a trailing Latin topic tag in parentheses after a sentence end ("… (Artificial Intelligence)");
* a byline or agency prefix ending in ``:`` or ``|`` at the start of a line;
* a boilerplate cue phrase that starts after a sentence end inside a line.

The pieces are only candidates: the pre-labeler labels them and merges neighbours that end
up with the same category, so an unneeded split costs nothing.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass

from corpus import lexicon

INDIC_LETTER = "\u0980-\u09ff\u0900-\u097f"
_TERMINATORS = "!?।॥"
_GLUE_AFTER_TERMINATOR = re.compile(rf"[{_TERMINATORS}](?=[{INDIC_LETTER}A-Za-z])|\.(?=[{INDIC_LETTER}])")
_INDIC_THEN_LATIN_CAP = re.compile(rf"(?<=[{INDIC_LETTER}])(?=[A-Z][a-z])")
_CAMEL_KICKER = re.compile(r"(?<=[a-z])(?=[A-Z][a-z][A-Za-z0-9]*(?: [A-Za-z0-9]+){0,4} ?:\s)")
_TRAILING_LATIN_TAG = re.compile(rf"(?<=[{_TERMINATORS}.])\s+(\([A-Za-z][A-Za-z &-]{{2,60}}\))\s*$")
_VIRAMAS = "\u09cd\u094d"
_MIN_HALF = 5
_PERIOD = re.compile(r"[।॥]|\.\s")
_WORD = re.compile(rf"[{INDIC_LETTER}]+")


@dataclass(frozen=True)
class Piece:
    """A candidate span: ``text[start:end]`` of line number ``line`` (0-based)."""

    start: int
    end: int
    line: int
    glued: bool = False


def segment(text: str) -> list[Piece]:
    """All pieces of ``text`` in order; together they cover every non-whitespace character."""
    vocabulary = Counter(_WORD.findall(text))
    pieces: list[Piece] = []
    offset = 0
    for number, line in enumerate(text.split("\n")):
        cuts = sorted(set(_cuts_in_line(line, vocabulary)))
        bounds = [0, *cuts, len(line)]
        for left, right in zip(bounds, bounds[1:]):
            start, end = _trim(line, left, right)
            if start < end:
                pieces.append(Piece(offset + start, offset + end, number, glued=len(bounds) > 2))
        offset += len(line) + 1
    return pieces


def _trim(line: str, start: int, end: int) -> tuple[int, int]:
    while start < end and line[start].isspace():
        start += 1
    while end > start and line[end - 1].isspace():
        end -= 1
    return start, end


def _cuts_in_line(line: str, vocabulary: Counter[str]) -> list[int]:
    cuts = [m.end() for m in _GLUE_AFTER_TERMINATOR.finditer(line)]
    cuts += [m.start() for m in _INDIC_THEN_LATIN_CAP.finditer(line)]
    cuts += [m.start() for m in _CAMEL_KICKER.finditer(line)]
    cuts += [m.start(1) for m in _TRAILING_LATIN_TAG.finditer(line)]
    cuts += _compound_cuts(line, vocabulary)
    prefix = lexicon.BYLINE_PREFIX.match(line)
    if prefix and prefix.end() < len(line.rstrip()):
        cuts.append(prefix.end())
    cuts += [m.start(1) for m in lexicon.INLINE_CUE.finditer(line) if m.start(1) > 0]
    return [c for c in cuts if 0 < c < len(line)]


def _compound_cuts(line: str, vocabulary: Counter[str]) -> list[int]:
    """Cut a once-seen word that is two words the document uses on their own.

    Both halves need five code points, and the text before the cut must not have ended a
    sentence since the line began: grammatical compounds (verb + auxiliary) stay whole.
    """
    cuts = []
    for match in _WORD.finditer(line):
        word = match.group()
        if vocabulary[word] != 1 or len(word) < 2 * _MIN_HALF:
            continue
        if _PERIOD.search(line, 0, match.start()):
            continue
        for i in range(_MIN_HALF, len(word) - _MIN_HALF + 1):
            head, tail = word[:i], word[i:]
            if head[-1] in _VIRAMAS or unicodedata.category(tail[0]) != "Lo":
                continue  # would cut a conjunct, or start a word on a vowel sign
            if vocabulary[head] and vocabulary[tail]:
                cuts.append(match.start() + i)
                break
    return cuts
