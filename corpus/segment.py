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
* a boilerplate cue phrase that starts after a sentence end inside a line;
* a news agency's tag in parentheses inside a dateline ("ঢাকা, ১০ নভেম্বর (বাসস) : …").

The pieces are only candidates: the pre-labeler labels them and merges neighbours that end
up with the same category, so an unneeded split costs nothing.
"""

from __future__ import annotations

import os
import re
import threading
import unicodedata
from array import array, typecodes
from collections import Counter
from dataclasses import dataclass

from corpus import lexicon, prebuilt
from corpus.document import trim
from corpus.lexicon import LazyPattern

INDIC_LETTER = "\u0980-\u09ff\u0900-\u097f"
_TERMINATORS = "!?।॥"
_GLUE_AFTER_TERMINATOR = LazyPattern(rf"[{_TERMINATORS}](?=[{INDIC_LETTER}A-Za-z])|\.(?=[{INDIC_LETTER}])")
_INDIC_THEN_LATIN_CAP = LazyPattern(rf"(?<=[{INDIC_LETTER}])(?=[A-Z][a-z])")
_CAMEL_KICKER = LazyPattern(r"(?<=[a-z])(?=[A-Z][a-z][A-Za-z0-9]*(?: [A-Za-z0-9]+){0,4} ?:\s)")
_TRAILING_LATIN_TAG = LazyPattern(rf"(?<=[{_TERMINATORS}.])\s+(\([A-Za-z][A-Za-z &-]{{2,60}}\))\s*$")
_VIRAMAS = "\u09cd\u094d"
_MIN_HALF = 5
_PERIOD = LazyPattern(r"[।॥]|\.\s")
_WORD = LazyPattern(rf"[{INDIC_LETTER}]+")


@dataclass(frozen=True)
class Piece:
    """A candidate span: ``text[start:end]`` of line number ``line`` (0-based)."""

    start: int
    end: int
    line: int
    glued: bool = False


def segment(text: str) -> list[Piece]:
    """All pieces of ``text`` in order; together they cover every non-whitespace character."""
    if FAST:
        return [Piece(*bounds) for bounds in segment_bounds(text)]
    return segment_reference(text)


def segment_reference(text: str) -> list[Piece]:
    """The reference segmenter (one pass of every rule over every line); ``segment`` equals it."""
    vocabulary = Counter(_WORD.findall(text))
    pieces: list[Piece] = []
    offset = 0
    for number, line in enumerate(text.split("\n")):
        cuts = sorted(set(_cuts_in_line(line, vocabulary)))
        bounds = [0, *cuts, len(line)]
        for left, right in zip(bounds, bounds[1:]):
            start, end = trim(line, left, right)
            if start < end:
                pieces.append(Piece(offset + start, offset + end, number, glued=len(bounds) > 2))
        offset += len(line) + 1
    return pieces


# The rules of ``_cuts_in_line`` as bits: the fast path runs on a line only the rules whose
# cheap test fired there (all but the compound rule's come from ``corpus._kernels.lines_scan``).
CUT_TERMINATOR, CUT_LATIN_CAP, CUT_CAMEL, CUT_TRAILING_TAG = 1, 2, 4, 8
CUT_COMPOUND, CUT_BYLINE, CUT_CUE, CUT_AGENCY = 16, 32, 64, 128
# the character-level rules the compiled scan decides exactly and cuts by itself
KERNEL_CUTS = CUT_TERMINATOR | CUT_LATIN_CAP | CUT_CAMEL | CUT_TRAILING_TAG
ALL_CUTS = 255
PYTHON_CUTS = ALL_CUTS & ~KERNEL_CUTS  # the rules only Python applies


def _cuts_in_line(
    line: str, vocabulary: Counter[str], compounds: set[str] | None = None, rules: int = ALL_CUTS
) -> list[int]:
    cuts = []
    if rules & CUT_TERMINATOR:
        cuts += [m.end() for m in _GLUE_AFTER_TERMINATOR.finditer(line)]
    if rules & CUT_LATIN_CAP:
        cuts += [m.start() for m in _INDIC_THEN_LATIN_CAP.finditer(line)]
    if rules & CUT_CAMEL:
        cuts += [m.start() for m in _CAMEL_KICKER.finditer(line)]
    if rules & CUT_TRAILING_TAG:
        cuts += [m.start(1) for m in _TRAILING_LATIN_TAG.finditer(line)]
    if rules & CUT_COMPOUND:
        cuts += _compound_cuts(line, vocabulary, compounds)
    if rules & CUT_BYLINE:
        prefix = lexicon.BYLINE_PREFIX.match(line)
        if prefix and prefix.end() < len(line.rstrip()):
            cuts.append(prefix.end())
    if rules & CUT_CUE:
        cuts += [m.start(1) for m in lexicon.INLINE_CUE.finditer(line) if m.start(1) > 0]
    if rules & CUT_AGENCY:
        agency = lexicon.DATELINE_AGENCY.match(line)
        if agency:
            cuts += [agency.start(1), agency.end(1)]
    return [c for c in cuts if 0 < c < len(line)]


def _compound_cuts(line: str, vocabulary: Counter[str], compounds: set[str] | None = None) -> list[int]:
    """Cut a once-seen word that is two words the document uses on their own.

    Both halves need five code points, and the text before the cut must not have ended a
    sentence since the line began: grammatical compounds (verb + auxiliary) stay whole.
    ``compounds``, if given, holds every word that can be cut (the fast path knows them).
    """
    cuts: list[int] = []
    if compounds is not None and not compounds:
        return cuts
    for match in _WORD.finditer(line):
        word = match.group()
        if (
            vocabulary[word] != 1
            or len(word) < 2 * _MIN_HALF
            or (compounds is not None and word not in compounds)
        ):
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


# --- Fast path ------------------------------------------------------------------------------
#
# Most lines have no cut at all, and most cuts are made by compiled code. One compiled pass
# over the code points (``corpus._kernels.lines_scan``) finds the lines and their trimmed
# bounds, decides the sentence-end, Latin-capital, camel-kicker and trailing-tag rules
# exactly (``KERNEL_CUTS``) and cuts every line by them, and finds the words of the
# vocabulary and the long words whose ends are words too (by hash: the only ones the compound
# rule can cut; ``corpus._kernels.compound_splits`` decides which it cuts, and where, and
# those cuts are added). The byline, in-line cue and dateline-agency rules start with literal
# text (a byline's first words, a cue phrase after a sentence end, an agency's "(name)"),
# which the same pass looks for: only lines that hold it go through ``_cuts_in_line``, by
# every rule; every other line's pieces are final.
# The vocabulary only needs words of five or more code points (``_compound_cuts`` reads
# counts of words >= 10 and the presence of halves >= 5), so only those are counted, and
# only in documents where some long word's ends are words too.

FAST = True
assert r"(\((?:" in lexicon.DATELINE_AGENCY.pattern  # an agency tag is in parentheses
assert lexicon.BYLINE_PREFIX.pattern.startswith(r"^\s*")  # a byline starts a line's text with one of:
_BYLINE_STARTS = tuple(lexicon.literal_starts(lexicon.BYLINE_PREFIX.pattern.removeprefix(r"^\s*")))
assert lexicon.INLINE_CUE.pattern.startswith(r"[।.!?]\s*(")  # a terminator, whitespace, a phrase
_WORD5 = LazyPattern(rf"[{INDIC_LETTER}]{{{_MIN_HALF},}}")
_scan_rows: tuple | None = None


def _lines_scan(text: str):
    """``corpus._kernels.lines_scan`` of ``text``, with the byline starts, in-line cue phrases
    and ``(agency)`` tags as its tables of rows."""
    global _scan_rows
    import corpus._kernels as _kernels  # (`from corpus import` runs importlib code)

    if _scan_rows is None:
        agencies = [f"({name})" for name in lexicon.AGENCY_NAMES]
        tables = (_BYLINE_STARTS, lexicon.INLINE_CUE_PHRASES, agencies)
        _scan_rows = tuple(code_rows(sorted(table)) for table in tables)  # (sorted: binary search)
    codes, flags = char_flags(text)
    return _kernels.lines_scan(codes, flags, _MIN_HALF, *_scan_rows)


def segment_bounds(text: str) -> list[tuple[int, int, int, bool]]:
    """``(start, end, line, glued)`` of every piece, exactly as ``segment_reference`` cuts them."""
    starts, ends, lines, glued = segment_arrays(text)
    return list(zip(starts.tolist(), ends.tolist(), lines.tolist(), map(bool, glued.tolist())))


def segment_arrays(text: str):
    """``segment_bounds`` as four int64 arrays: starts, ends, line numbers and glued (0/1)."""
    import numpy as np

    import corpus._kernels as _kernels

    table, line_rules, runs, keys, maybe, pieces, cuts, python_lines = _lines_scan(text)
    compounds: dict[tuple[int, int], int] = {}  # (start, end) of a word the compound rule cuts → where
    if len(maybe):  # some word may be two (else the compound rule cuts nothing)
        codes, flags = char_flags(text)
        splits = _kernels.compound_splits(codes, flags, table, runs, keys, maybe, _MIN_HALF)
        cut = splits.nonzero()[0]
        if len(cut):
            words = runs[maybe[cut]]
            cuts = np.sort(np.concatenate([cuts, words[:, 0] + splits[cut]]))
            pieces = _kernels.line_pieces(flags, table, cuts)
            compounds = dict(zip(map(tuple, words.tolist()), splits[cut].tolist()))
    # the pieces are final on every line where no rule but the kernel's and the compound rule
    # may cut; the others are cut in Python, by every rule
    if not python_lines:
        return pieces
    numbers = (line_rules & np.uint8(PYTHON_CUTS)).nonzero()[0]
    # the compound rule's vocabulary, cut down to what it reads: each compound (a once-seen word
    # it cuts) and the two words of its first split, all with count 1 (the compound's own; only
    # the presence of the others is read)
    vocabulary: Counter[str] = Counter()
    for (a, b), at in compounds.items():
        for known in (text[a:b], text[a : a + at], text[a + at : b]):
            vocabulary[known] = 1
    words = {text[a:b] for a, b in compounds}
    cut_starts: list[int] = []
    cut_ends: list[int] = []
    cut_lines: list[int] = []
    cut_glued: list[int] = []
    line_starts = table[:, 0].tolist()
    for number, offset, first, end in zip(numbers.tolist(), *table[numbers].T.tolist()):
        line = _line(text, line_starts, number)
        which = int(line_rules[number]) | CUT_COMPOUND
        cuts = sorted(set(_cuts_in_line(line, vocabulary, words, which)))
        if not cuts:
            if first < end:
                cut_starts.append(first)
                cut_ends.append(end)
                cut_lines.append(number)
                cut_glued.append(0)
            continue
        edges = [0, *cuts, len(line)]
        for left, right in zip(edges, edges[1:]):
            start, stop = trim(line, left, right)
            if start < stop:
                cut_starts.append(offset + start)
                cut_ends.append(offset + stop)
                cut_lines.append(number)
                cut_glued.append(1)
    starts, ends, lines, glued = pieces
    kept = ~np.isin(lines, numbers)
    piece_starts = np.concatenate([starts[kept], np.array(cut_starts, dtype=np.int64)])
    order = np.argsort(piece_starts, kind="stable")  # pieces never share a start: line order
    return (
        piece_starts[order],
        np.concatenate([ends[kept], np.array(cut_ends, dtype=np.int64)])[order],
        np.concatenate([lines[kept], np.array(cut_lines, dtype=np.int64)])[order],
        np.concatenate([glued[kept], np.array(cut_glued, dtype=np.int64)])[order],
    )


def _line(text: str, starts: list[int], number: int) -> str:
    """Line ``number`` of ``text`` (``text.split("\n")[number]``) given every line's start."""
    end = starts[number + 1] - 1 if number + 1 < len(starts) else len(text)
    return text[starts[number] : end]


def code_rows(texts: list[str]):
    """``texts`` as rows of code points padded with -1 (the kernels' string tables)."""
    import numpy as np

    rows = np.full((len(texts), max(map(len, texts), default=0) + 1), -1, dtype=np.int64)
    for row, t in zip(rows, texts):
        row[: len(t)] = list(map(ord, t))
    return rows


def _vocabulary(text: str) -> Counter[str]:
    """``Counter(_WORD5.findall(text))``, as ``segment_bounds`` counts it."""
    runs = _lines_scan(text)[2]
    return Counter([text[a:b] for a, b in runs.tolist()])


# --- Character classes, vectorised ----------------------------------------------------------
#
# The fast paths (here, in ``corpus.prelabel`` and ``corpus.ingest``) work on a text's code
# points as a numpy array and one flag word per code point, looked up in a table built
# lazily, 256 code points at a time, from the *same* Python predicates the reference code
# uses (``str.isalpha``, ``str.isspace``, ``unicodedata`` ...), so a flag can never disagree
# with the reference. numpy is imported on first use only.

F_ALPHA = 1 << 0  # str.isalpha
F_SPACE = 1 << 1  # str.isspace (= regex \s)
F_DIGIT = 1 << 2  # str.isdigit
F_LATIN = 1 << 3  # "a" <= ch.lower() <= "z"
F_TOKSTART = 1 << 4  # first character of a pre-labeler token
F_STRIP = 1 << 5  # stripped from tokens before the stop-word lookup
F_SENT = 1 << 6  # ! ? । ॥
F_DOT = 1 << 7  # .
F_CONTROL = 1 << 9  # a control character that scraped text never has (ingest.check_text)
F_NFC_UNSAFE = 1 << 10  # NFC may change it, or outside the blocks whose NFC behaviour is listed
F_WORD = 1 << 11  # regex \w (str.isalnum, or "_")
F_OTHER_LETTER = 1 << 12  # unicodedata.category(ch) == "Lo"
# NFC can only change a pair of "safe" neighbours through one of three roles: left role k
# (bit 16 + k) followed by right role k (bit 19 + k). 0: composition (X + nukta, X + AA/AU
# length mark); 1: a decomposable character followed by a mark; 2: two combining marks
# (reordered if their classes descend).
F_NFC_ROLES = 16
F_CCC = 23  # bits 23-30: the canonical combining class (unicodedata.combining), for role 2

TOKEN_START = rf"[{INDIC_LETTER}A-Za-z0-9০-৯०-९]"
TOKEN_STRIP = ",;:'\"‘’“”()।"
_TEXT_CONTROLS = "\n\r\t\f\v"
_UNBUILT = 0xFFFFFFFF  # table entry not computed yet (no real flag word has every bit set)
# Blocks whose characters' NFC behaviour the flags capture; anything else is "unsafe".
_NFC_BLOCKS = ((0x0000, 0x00FF), (0x0900, 0x09FF), (0x2000, 0x206F), (0x20A0, 0x20CF), (0x2190, 0x27BF))
_NFC_BLOCKS += ((0x1F000, 0x1FAFF),)
# Second halves of canonical compositions among those blocks (checked against all of Unicode
# by tests/test_bench.py): nukta, Bengali AA and AU length marks.
_NFC_SECOND = "\u093c\u09be\u09d7"


PREBUILT_BLOCKS = (0x00, 0x09, 0x20)  # Latin-1, Devanagari and Bengali, punctuation (pip install)
FLAG_BLOCKS = os.path.join(os.path.dirname(__file__), "_char_flags.pickle")  # (corpus.prebuilt)


class _CharTable:
    """Every code point's flags (``_flags_of``), built a block of 256 at a time when a text
    first has one of its characters; ``PREBUILT_BLOCKS`` come from ``pip install``."""

    def __init__(self, path: str | None = FLAG_BLOCKS) -> None:
        import numpy as np

        self.np = np
        self.flags = np.full(0x110000, _UNBUILT, dtype=np.uint32)
        self.token_start = re.compile(TOKEN_START)
        self.word = re.compile(r"\w")
        saved = prebuilt.load(path, _flag_blocks_key()) if path is not None else None
        if isinstance(saved, dict):
            for block, flags in saved.items():
                self.flags[block << 8 : (block + 1) << 8] = flags

    def block(self, block: int) -> list[int]:
        """The flags of the code points ``block << 8`` to ``(block << 8) + 255``."""
        return [self._flags_of(chr(cp)) for cp in range(block << 8, (block + 1) << 8)]

    def _flags_of(self, ch: str) -> int:
        cp = ord(ch)
        f = 0
        if ch.isalpha():
            f |= F_ALPHA
        if ch.isspace():
            f |= F_SPACE
        if ch.isdigit():
            f |= F_DIGIT
        if "a" <= ch.lower() <= "z":
            f |= F_LATIN
        if self.token_start.match(ch):
            f |= F_TOKSTART
        if ch in TOKEN_STRIP:
            f |= F_STRIP
        if ch in _TERMINATORS:
            f |= F_SENT
        if ch == ".":
            f |= F_DOT
        if self.word.match(ch):
            f |= F_WORD
        if unicodedata.category(ch) == "Lo":
            f |= F_OTHER_LETTER
        if unicodedata.category(ch) == "Cc" and ch not in _TEXT_CONTROLS:
            f |= F_CONTROL
        listed = any(lo <= cp <= hi for lo, hi in _NFC_BLOCKS)
        if not listed or unicodedata.normalize("NFC", ch) != ch:
            f |= F_NFC_UNSAFE
        decomposition = unicodedata.decomposition(ch)
        combining = unicodedata.combining(ch) > 0
        composes = any(len(unicodedata.normalize("NFC", ch + s)) == 1 for s in _NFC_SECOND)
        left = (composes, bool(decomposition) and not decomposition.startswith("<"), combining)
        right = (ch in _NFC_SECOND, combining or ch in _NFC_SECOND, combining)
        for k in range(3):
            f |= (left[k] << (F_NFC_ROLES + k)) | (right[k] << (F_NFC_ROLES + 3 + k))
        return f | (unicodedata.combining(ch) << F_CCC)

    def lookup(self, text: str, checks: bool = True) -> tuple:
        """``(codes, flags, NFC verdict, control count)`` of ``text`` (``_kernels.take_flags``);
        without ``checks`` the verdict and count are -1 (not made)."""
        import corpus._kernels as _kernels

        np = self.np
        codes = code_points(text)
        flags, unbuilt, verdict, controls = _kernels.take_flags(codes, self.flags, checks)
        if unbuilt:  # first time a block is seen: build it
            for block in np.unique(codes[flags == _UNBUILT] >> 8).tolist():
                self.flags[block << 8 : (block + 1) << 8] = self.block(block)
            flags = self.flags[codes]
            if checks:
                verdict, controls = _ingest_checks(flags)
        return codes, flags, verdict, controls


def _ingest_checks(flags) -> tuple[int, int]:
    """``(NFC verdict, control count)`` of looked-up flags, as ``take_flags`` makes them."""
    import corpus._kernels as _kernels

    return _kernels.nfc_verdict(flags), _kernels.count_flag(flags, F_CONTROL)


_UCS4 = "w" if "w" in typecodes else "u"  # Py_UCS4 (3.13+), else wchar_t: 4 bytes except on Windows
_UCS4_ARRAY = array(_UCS4).itemsize == 4


def code_points(text: str):
    """The code points of ``text`` as a read-only uint32 numpy array (lone surrogates kept).

    An ``array`` of UCS-4 is made in one C loop: ~2.4× faster than the UTF-16 bytes plus a
    widening copy (1.6 vs 3.8 µs for a 3,600-character Bengali text)."""
    import numpy as np

    if _UCS4_ARRAY:  # (through a read-only view: the array is made read-only, no flag to set after)
        return np.frombuffer(memoryview(array(_UCS4, text)).toreadonly(), dtype=np.uint32)
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


def _flag_blocks_key() -> tuple:
    """What the flags depend on: this file and the lexicon (the characters it names), the
    Python's string methods and regexes, its Unicode database."""
    import sys

    return prebuilt.source_digest(__file__, lexicon.__file__), sys.version, unicodedata.unidata_version


def write_flag_blocks(path: str = FLAG_BLOCKS) -> None:
    """Save the flags of ``PREBUILT_BLOCKS`` for ``_CharTable`` (``pip install`` does)."""
    import numpy as np

    table = _CharTable(path=None)
    blocks = {block: np.array(table.block(block), dtype=np.uint32) for block in PREBUILT_BLOCKS}
    prebuilt.save(path, _flag_blocks_key(), blocks)


_char_table: _CharTable | None = None
FLAGS_KEPT = 64  # texts whose character facts are kept: a batch's, for every stage of it
FLAGS_KEPT_CHARS = 1 << 22  # ... of at most this many characters in all (8 bytes each), the last one aside
_recent: dict[int, tuple] = {}  # id(text) → (text, codes, flags, NFC verdict, control count), oldest first
_recent_chars = 0
_recent_lock = threading.Lock()


def _char_facts(text: str, checks: bool = False) -> tuple:
    """``_CharTable.lookup`` of ``text``, kept for the last ``FLAGS_KEPT`` texts, or fewer when
    they are long (by identity: an entry holds its text, so the id is not reused while kept).
    The NFC verdict and control count are made when ``checks`` asks for them (ingest's checks
    do, first; the labelling of a text read back from a corpus pass only needs the flags)."""
    global _char_table, _recent_chars
    entry = _recent.get(id(text))
    if entry is not None and entry[0] is text:
        if checks and entry[3] < 0:
            entry = (*entry[:3], *_ingest_checks(entry[2]))
            with _recent_lock:
                _recent[id(text)] = entry  # (same key: its place in the order stays)
        return entry
    if _char_table is None:
        _char_table = _CharTable()
    entry = (text, *_char_table.lookup(text, checks))
    with _recent_lock:  # (threads: the Label Studio ML backend serves requests on several)
        _recent[id(text)] = entry
        _recent_chars += len(text)
        while len(_recent) > 1 and (len(_recent) > FLAGS_KEPT or _recent_chars > FLAGS_KEPT_CHARS):
            _recent_chars -= len(_recent.pop(next(iter(_recent)))[0])
    return entry


def forget_char_facts() -> None:
    """Let go of every kept text's character facts."""
    global _recent_chars
    with _recent_lock:
        _recent.clear()
        _recent_chars = 0


def char_flags(text: str):
    """``(codes, flags)`` numpy arrays of ``text`` (cached for the last few texts, by identity)."""
    return _char_facts(text)[1:3]


def nfc_unchanged(text: str) -> bool:
    """True only if ``unicodedata.normalize("NFC", text) == text`` (a fast, sufficient check)."""
    import corpus._kernels as _kernels

    return _char_facts(text, checks=True)[3] == _kernels.NFC_UNCHANGED  # (_kernels.nfc_verdict)


def control_count(text: str) -> int:
    """Number of control characters other than line breaks and tabs (as ``ingest.check_text``)."""
    return _char_facts(text, checks=True)[4]
