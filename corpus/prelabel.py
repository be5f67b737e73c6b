"""Pre-label: pieces → labelled spans, with a transparent feature model.

The model (``MODEL_VERSION``) works in three passes over a document's pieces:

1. **Features** per piece: length in words and characters, how it ends (``।``/``.`` vs
   ``!``/``?`` vs nothing), number of sentence ends, stop-word density for the document's
   language, Latin/digit/letter shares, repetition within the document, and cue phrases
   in bn/hi/en (``corpus.lexicon``). A logistic combination gives ``p_content``.
2. **Zones**: "strong" prose pieces (sentence-final, long relative to the document's longest
   paragraph) mark the article body; everything before the first is the page *head*
   (site name, menus, breadcrumbs, title, bylines, dates), everything after the last is the
   *tail* (sources, tags, read-more blocks, listings, widgets).
3. **Categories**: a cue phrase decides first; then structure: the first headline-like piece
   in the head is the title, short headline-like pieces between paragraphs are subheadings,
   headline-like pieces after a "read more"/listing header carry that header's category,
   and in the tail everything after such a header belongs to its list.

4. **Classifier** (``corpus.classifier``, when a model ships): a logistic regression learned
   from the gold reads the features, zones, neighbours and the rules' categories and decides
   each piece's label; the rules' category stands where the label agrees.

Neighbouring pieces with the same category merge into one span. Each span's ``score`` is
the confidence in its category: the rule's own confidence averaged with the probability of
the category's label (the classifier's, or ``p_content`` with the rules alone), so uncertain
spans sort first for annotators. Nothing here refers to a particular site or article.
``MODEL_VERSION`` names both: ``<classifier>+<rules>``.
"""

from __future__ import annotations

import math
import re
from collections import namedtuple
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import NamedTuple

from corpus import segment as _segment
from corpus.classifier import (
    CLASSIFIER,
    REPEATS_CAP,
    ZONES,
    Classifier,
    repeats_feature,
)
from corpus.document import Article, Document, Span
from corpus.labels import CATEGORY_NAMES, label_of
from corpus.lexicon import (
    CUE_SOURCES,
    CUES,
    SECTION_WORDS,
    STOP_WORDS,
    LazyPattern,
    cue_pattern,
    finite_forms,
    literal_starts,
)
from corpus.repetition import LineStats
from corpus.segment import (
    INDIC_LETTER,
    TOKEN_STRIP,
    Piece,
    char_flags,
    code_rows,
    segment,
    segment_arrays,
    segment_bounds,
)

RULES_VERSION = "rules-1.2.0"
MODEL_VERSION = f"{CLASSIFIER.version}+{RULES_VERSION}" if CLASSIFIER else RULES_VERSION

_CUE_ORDER = (
    "timestamp",
    "advertisement",
    "attribution",
    "tags",
    "widget",
    "related_links",
    "listing",
    "navigation",
)
# every cue phrase with its category, in the order the combined regex tries them
_ORDERED_CUES = tuple((category, phrase) for category in _CUE_ORDER for phrase in CUES[category])
_LIST_HEADERS = ("related_links", "listing")
# what a bare place/date opening a paragraph looks like on its own, once a split isolates it
_DATELINE_LIKE = ("timestamp", "navigation", "other")
_PERIOD_END = LazyPattern(r"[।॥.][\"'”’»)\]]*$")
_EXCLAIM_END = LazyPattern(r"[!?][\"'”’»)\]]*$")
_SENTENCE_END = LazyPattern(r"[।॥!?]|\.(?=\s|$)")
_TOKEN = LazyPattern(rf"[{INDIC_LETTER}A-Za-z0-9০-৯०-९][^\s]*")
_DESK_CODE = LazyPattern(rf"^[{INDIC_LETTER}A-Z]{{1,8}}(?:/[{INDIC_LETTER}A-Z]{{1,8}})+$")
_MENU = LazyPattern(r"\S\s*(?:\||»|›|>|/|•)\s*\S")
_CODE = LazyPattern(r"^\s*(?:[{<]|function\s*\(|var\s|window\.|document\.)|</?[a-z]+[ >]")
_MONTH_NAMES = (
    *"জানুয়ারি ফেব্রুয়ারি মার্চ এপ্রিল মে জুন জুলাই আগস্ট সেপ্টেম্বর অক্টোবর নভেম্বর ডিসেম্বর".split(),
    *"जनवरी फरवरी मार्च अप्रैल मई जून जुलाई अगस्त सितंबर अक्टूबर नवंबर दिसंबर".split(),
    *"Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split(),
)
_MONTHS = "|".join(_MONTH_NAMES)
_AGO = {  # "<unit> <word>": how long ago
    "আগে": ("ঘণ্টা", "মিনিট", "দিন"),
    "पहले": ("घंटे", "मिनट", "दिन"),
    "ago": ("hour", "hours", "minute", "minutes", "day", "days"),
}
_AGO_PHRASES = tuple(f"{unit} {word}" for word, units in _AGO.items() for unit in units)
_DIGITS = "[০-৯0-9०-९]"
_DATE_FORMS = (
    rf"{_DIGITS}{{1,2}}\s*(?:{_MONTHS})",  # ১৩ অক্টোবর
    rf"(?:{_MONTHS})\w*\s+{_DIGITS}{{1,2}}",  # October 13
    rf"{_DIGITS}{{1,2}}:{_DIGITS}{{2}}",  # ২৩:২৫
    rf"{_DIGITS}{{1,4}}[/-]{_DIGITS}{{1,2}}[/-]{_DIGITS}{{2,4}}",  # 13/10/2025
    "|".join(f"(?:{'|'.join(units)}) {word}" for word, units in _AGO.items()),  # ২ ঘণ্টা আগে
)
_DATE = LazyPattern(f"(?:{'|'.join(_DATE_FORMS)})")


@dataclass(frozen=True)
class Features:
    n_chars: int
    n_words: int
    n_sentences: int
    period_end: bool
    exclaim_end: bool
    stop_density: float
    latin_share: float
    digit_share: float
    letter_share: float
    cue: str | None
    repeated: bool
    date_like: bool

    @property
    def prose(self) -> bool:
        return (self.period_end and self.n_words >= 5) or (self.n_sentences >= 2 and self.n_words >= 12)

    @property
    def headline_like(self) -> bool:
        return not self.period_end and 2 <= self.n_words <= 30 and self.letter_share > 0.5

    @property
    def p_content(self) -> float:
        z = (
            -2.0
            + 2.5 * self.period_end
            + 0.8 * self.exclaim_end
            + 1.2 * min(self.n_sentences, 3) / 3
            + 2.5 * min(self.n_words, 40) / 40
            + 6.0 * min(self.stop_density, 0.35)
            - 3.0 * self.digit_share
            - 1.5 * self.latin_share
            - 2.0 * self.repeated
            - 3.0 * (self.letter_share < 0.3)
            - 2.5 * (self.cue is not None)
        )
        return 1.0 / (1.0 + math.exp(-z))


def piece_features(text: str, lang: str, repeated: bool) -> Features:
    tokens = _TOKEN.findall(text)
    stops = STOP_WORDS.get(lang, frozenset())
    letters = sum(ch.isalpha() for ch in text)
    visible = sum(not ch.isspace() for ch in text) or 1
    latin = sum("a" <= ch.lower() <= "z" for ch in text)
    digits = sum(ch.isdigit() for ch in text)
    return Features(
        n_chars=len(text),
        n_words=len(tokens),
        n_sentences=len(_SENTENCE_END.findall(text)),
        period_end=bool(_PERIOD_END.search(text)),
        exclaim_end=bool(_EXCLAIM_END.search(text)),
        stop_density=sum(t.strip(",;:'\"‘’“”()।") in stops for t in tokens) / (len(tokens) or 1),
        latin_share=latin / (letters or 1),
        digit_share=digits / visible,
        letter_share=letters / visible,
        cue=_cue(text),
        repeated=repeated,
        date_like=bool(_DATE.search(text)) and len(text) <= 80,
    )


def _cue(text: str) -> str | None:
    if len(text) > 200:
        return None
    if _DESK_CODE.match(text):
        return "attribution"
    for category in _CUE_ORDER:
        if cue_pattern(category).match(text):
            return category
    if _CODE.search(text):
        return "other"
    return None


def _is_tag_list(text: str, f: Features) -> bool:
    return not f.period_end and f.n_words <= 15 and f.stop_density == 0 and _tag_items(text)


def _tag_items(text: str) -> bool:
    """Three or more short comma-separated items and no colon ("ক্রিকেট, বিশ্বকাপ, ভারত")."""
    if text.count(",") < 2:  # fewer than three items (a fast exit, same result)
        return False
    items = [i.strip() for i in text.split(",")]
    return len(items) >= 3 and ":" not in text and all(0 < len(i.split()) <= 3 for i in items)


@dataclass(frozen=True)
class RulePass:
    """What the rules say of a document's pieces: features, zones and ``(category, confidence)``,
    and how many other documents of the corpus contain each piece's line (for the classifier)."""

    features: list
    zones: list[str]
    rules: list[tuple[str, float]]
    corpus_repeats: list[int]


def rule_pass(
    text: str, lang: str, pieces: list[Piece], line_repeats: Sequence[int] | None = None
) -> RulePass:
    """Features, zones and the rules' ``(category, confidence)`` of each piece (passes 1–3).

    ``line_repeats``: per line of ``text``, how much more it repeats across the corpus than
    the document's typical line (``LineStats.line_repeats``); None when labelled on its own.
    """
    corpus_repeats = [line_repeats[p.line] for p in pieces] if line_repeats else [0] * len(pieces)
    if FAST:
        return _rule_pass_fast(text, lang, pieces, corpus_repeats)
    texts = [text[p.start : p.end] for p in pieces]
    counts: dict[str, int] = {}
    for t in texts:
        counts[t] = counts.get(t, 0) + 1
    repeated = []
    for i, t in enumerate(texts):
        suffix_of_previous = i > 0 and len(t) > 10 and texts[i - 1].endswith(t) and texts[i - 1] != t
        repeated.append(counts[t] > 1 or suffix_of_previous)
    feats = [piece_features(t, lang, r) for t, r in zip(texts, repeated)]
    if not feats:
        return RulePass([], [], [], [])
    longest = max((f.n_chars for f in feats if f.prose), default=0)
    strong = [i for i, f in enumerate(feats) if f.prose and f.n_chars >= max(100, 0.4 * longest)]
    first = strong[0] if strong else len(feats)
    last = strong[-1] if strong else -1

    prose_lines = {p.line for p, f in zip(pieces, feats) if p.glued and f.prose}
    zones: list[str] = []
    out: list[tuple[str, float]] = []
    title_seen = False
    open_list: str | None = None  # category of the latest "read more"/listing header
    for i, (t, f) in enumerate(zip(texts, feats)):
        zone = "head" if i < first else "tail" if i > last else "body"
        category, confidence = _categorise(t, f, zone, title_seen, open_list)
        if (
            category in _DATELINE_LIKE
            and f.cue is None
            and pieces[i].line in prose_lines
            and (i == 0 or pieces[i - 1].line != pieces[i].line)
        ):
            category, confidence = "body", 0.6  # a dateline opening a paragraph is content
        if category == "title":
            title_seen = True
        if f.cue in _LIST_HEADERS:
            open_list = f.cue
        elif zone != "tail" and f.prose:
            open_list = None
        elif f.cue is not None and f.cue not in _LIST_HEADERS and zone != "tail":
            open_list = None
        zones.append(zone)
        out.append((category, confidence))
    return RulePass(feats, zones, out, corpus_repeats)


def rules_only(result: RulePass) -> list[tuple[str, float]]:
    """``(category, score)`` from the rules alone: confidence averaged with ``p_content``."""
    out = []
    for f, (category, confidence) in zip(result.features, result.rules):
        p = f.p_content if label_of(category) == "content" else 1.0 - f.p_content
        out.append((category, 0.5 * confidence + 0.5 * p))
    return out


def label_pieces(
    text: str,
    lang: str,
    pieces: list[Piece],
    classifier: Classifier | None = CLASSIFIER,
    line_repeats: Sequence[int] | None = None,
) -> list[tuple[str, float]]:
    """``(category, score)`` for each piece, before merging (see the module docstring)."""
    result = rule_pass(text, lang, pieces, line_repeats)
    if classifier is None:
        return rules_only(result)
    return classifier.relabel(result.features, result.zones, result.rules, result.corpus_repeats)


def _is_menu(text: str, f: Features) -> bool:
    """A line of section names ("প্রচ্ছদ জাতীয় রাজনীতি খেলা", "होम देश राज्य खेल") is a menu."""
    return not f.prose and f.n_words >= 3 and _menu_words(text)


def _menu_words(text: str) -> bool:
    words = [w.strip("|»›>/•·,:").lower() for w in text.split()]
    words = [w for w in words if w]
    return sum(w in SECTION_WORDS for w in words) >= max(3, 0.6 * len(words))


def _categorise(t: str, f: Features, zone: str, title_seen: bool, open_list: str | None) -> tuple[str, float]:
    if f.letter_share == 0:
        return "other", 0.9
    if f.cue is not None:
        return f.cue, 0.9
    if _is_tag_list(t, f):
        return "tags", 0.75
    if f.date_like and not f.prose and (f.n_words <= 8 or f.digit_share >= 0.12):
        return "timestamp", 0.75  # a headline that merely mentions a date stays a headline
    if _is_menu(t, f):
        return "navigation", 0.75
    if open_list and (zone == "tail" or (f.headline_like and not f.prose)):
        return open_list, 0.7
    if zone == "head":
        if _MENU.search(t) and not f.prose:
            return "navigation", 0.7
        if f.headline_like and f.n_words >= 3 and not title_seen and not f.repeated:
            return "title", 0.65
        if f.prose:
            return "body", 0.6
        if f.n_words <= 3:
            return "navigation", 0.6
        return "other", 0.4
    if zone == "body":
        if f.prose:
            return "body", 0.8
        if f.repeated:
            return "listing", 0.5
        if f.headline_like and f.n_words <= 15:
            return "subheading", 0.55
        if f.n_words <= 2:
            return "other", 0.4
        return "body", 0.5
    # tail
    if f.repeated or f.headline_like:
        return "listing", 0.55
    if f.prose:
        return "body", 0.5
    return "other", 0.4


def merge_pieces(pieces: list[Piece], labelled: list[tuple[str, float]]) -> list[Span]:
    """Merge neighbours of the same category; score is the length-weighted mean."""
    spans: list[Span] = []
    weight = 0.0
    total = 0.0
    for piece, (category, score) in zip(pieces, labelled):
        size = piece.end - piece.start
        if spans and spans[-1].category == category:
            prev = spans[-1]
            total += score * size
            weight += size
            spans[-1] = Span(prev.start, piece.end, category, total / weight)
        else:
            total, weight = score * size, float(size)
            spans.append(Span(piece.start, piece.end, category, score))
    return [Span(s.start, s.end, s.category, round(s.score, 4)) for s in spans]


def document_pieces(text: str) -> list:
    """The segmenter's pieces (``start``, ``end``, …) of a stored text."""
    return [_Bounds(*b) for b in segment_bounds(text)] if FAST else segment(text)


class KernelArrays:
    """The arrays the fast path made a ``SpanColumns``' lists of (starts, ends, category
    indices, scores × 10**4), for writers that format them in compiled code; good only for
    columns that still hold those very lists (``of``)."""

    __slots__ = ("arrays", "lists")

    def __init__(self, arrays: tuple, lists: tuple) -> None:
        self.arrays, self.lists = arrays, lists

    def of(self, columns: SpanColumns) -> tuple | None:
        """The arrays, if ``columns`` holds the lists they were made with; else None."""
        starts, ends, categories, scores = self.lists  # (not all() of a generator: per line)
        same = starts is columns[0] and ends is columns[1] and categories is columns[2]
        return self.arrays if same and scores is columns[3] else None


class SpanColumns(NamedTuple):
    """A document's labelled spans as columns (what the fast path computes, and what the
    CLI writes): ``Span``'s fields but ``label_source``, scores rounded to 4 places, and
    the model that labelled them. Columns compare by those five fields."""

    starts: list[int]
    ends: list[int]
    categories: list[str]
    scores: list[float]
    model_version: str = ""
    arrays: KernelArrays | None = None

    @classmethod
    def of(cls, spans: Sequence[Span], model_version: str = "") -> SpanColumns:
        starts, ends = [s.start for s in spans], [s.end for s in spans]
        return cls(starts, ends, [s.category for s in spans], [s.score for s in spans], model_version)

    def spans(self) -> list[Span]:
        return list(map(Span, self.starts, self.ends, self.categories, self.scores))

    def __eq__(self, other: object) -> bool:
        return self[:5] == other[:5] if isinstance(other, SpanColumns) else NotImplemented

    def __ne__(self, other: object) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    __hash__ = None  # type: ignore[assignment]  # (lists inside: never hashable)


def prelabel_with(
    text: str, lang: str, classifier: Classifier | None, line_repeats: Sequence[int] | None = None
) -> list[Span]:
    """Labelled spans from the rules and ``classifier`` (None: the rules alone)."""
    return (
        prelabel_columns(text, lang, classifier, line_repeats).spans()
        if FAST
        else _prelabel_reference(text, lang, classifier, line_repeats)
    )


def prelabel_columns(
    text: str, lang: str, classifier: Classifier | None, line_repeats: Sequence[int] | None = None
) -> SpanColumns:
    """``prelabel_with``'s spans as columns."""
    if FAST:
        return _prelabel_fast(text, lang, classifier, line_repeats)
    return SpanColumns.of(_prelabel_reference(text, lang, classifier, line_repeats))


def _prelabel_reference(
    text: str, lang: str, classifier: Classifier | None, line_repeats: Sequence[int] | None
) -> list[Span]:
    pieces = document_pieces(text)
    return merge_pieces(pieces, label_pieces(text, lang, pieces, classifier, line_repeats))


def prelabel_text(text: str, lang: str, corpus: LineStats | None = None) -> list[Span]:
    """Labelled spans covering every non-whitespace character of ``text`` (the shipped model).

    ``corpus``: the line statistics of the corpus ``text`` belongs to (``corpus.repetition``);
    without it the text is labelled on its own.
    """
    repeats = corpus.line_repeats(text) if corpus is not None else None
    return prelabel_with(text, lang, CLASSIFIER, repeats)


def prelabel_document(doc: Document, corpus: LineStats | None = None, known: tuple | None = None) -> Document:
    """``doc`` with its pre-labels; ``known``: what the corpus pass found of its text,
    ``(repetition.line_keys or None, repetition.document_key)``, if it read it."""
    columns = document_columns(doc, corpus, known)
    return doc.with_spans(columns.spans(), columns.model_version)


def document_columns(
    doc: Document, corpus: LineStats | None = None, known: tuple | None = None
) -> SpanColumns:
    """``prelabel_document``'s spans as columns, with ``MODEL_VERSION``."""
    return documents_columns([doc], corpus, [known])[0]


STAGE_TEXTS = 32  # texts labelled stage by stage together (their flags kept: segment.FLAGS_KEPT, unless long)
assert STAGE_TEXTS <= _segment.FLAGS_KEPT


def documents_columns(
    docs: Sequence[Document | Article],
    corpus: LineStats | None = None,
    known: Sequence[tuple | None] | None = None,
) -> list[SpanColumns]:
    """``document_columns`` of each document (``known``: each one's, as there), computed a
    stage at a time across groups of ``STAGE_TEXTS`` (``_prelabel_fast_stages``)."""
    known = known if known is not None else [None] * len(docs)
    line_repeats = (corpus.repeats_array if FAST else corpus.line_repeats) if corpus is not None else None
    repeats = [
        line_repeats(doc.text, *(found or ())) if line_repeats is not None else None
        for doc, found in zip(docs, known)
    ]
    if not FAST:
        columns = [prelabel_columns(doc.text, doc.lang, CLASSIFIER, r) for doc, r in zip(docs, repeats)]
        return [c._replace(model_version=MODEL_VERSION) for c in columns]
    columns = []
    for at in range(0, len(docs), STAGE_TEXTS):
        group = docs[at : at + STAGE_TEXTS]
        texts, langs = [d.text for d in group], [d.lang for d in group]
        columns += _prelabel_fast_stages(
            texts, langs, CLASSIFIER, repeats[at : at + STAGE_TEXTS], MODEL_VERSION
        )
    return columns


# --- Fast path ------------------------------------------------------------------------------
#
# ``prelabel_with`` runs the three passes, the classifier and the merge on arrays, one row per
# piece, in two calls of compiled kernels (``corpus._kernels``). ``piece_scan``: character
# counts, sentence ends, tokens, stop words (tokens of up to 7 code points matched as packed
# integers, longer ones as strings), how each piece ends, menus and separators, repeated
# pieces, dates (``_DATE``, form by form), tag lists, the cue phrases that are plain text or
# a finite set of texts, and which other text tests can say yes for which piece. The rest
# stays in Python, only for those pieces: the cue phrases that are real regexes (tried where
# their literal start begins the piece, in ``_cue_all()``'s order), code, menus with a word the
# kernel cannot lower-case.
# ``label_spans``: ``rules`` (zones, categories, the logit of ``p_content``), the classifier's
# features, logits and probabilities, and the merge into spans. Categories are
# ``CATEGORY_NAMES`` indices, zones ``ZONES`` indices; the logistic is Python's (libm's
# ``exp``, as the reference). ``FAST = False`` runs the reference code.

FAST = True
_Bounds = namedtuple("_Bounds", "start end line glued")
assert _DIGITS == "[০-৯0-9०-९]"  # corpus._kernels._date_digit
_CODE_MARKERS = ("{", "<", "function", "var", "window.", "document.")  # _CODE needs one of them
_CUE_CODE = {c: CATEGORY_NAMES.index(c) for c in (*_CUE_ORDER, "other")}
_fast_tables: dict = {}


_KEY_CHARS = 7  # stop words up to 7 code points are matched as packed integers


class _StopTable(NamedTuple):
    """``lang``'s stop words as ``piece_counts`` matches them (its arguments, in order)."""

    keys: object  # packed keys of the words of up to ``packable`` code points (``hash_set``)
    shortest: int
    longest: int
    packable: int  # 7, or 0 when a word has a character outside U+0900-U+09FF
    stops: bool  # the language has stop words at all
    long_words: object  # the longer words' code points, a row each, padded with -1
    heads: object  # uint8 at ``(first code point - 0x08FF) * 8 + length`` of each packed word


def _stop_table(lang: str) -> _StopTable:
    if lang not in _fast_tables:
        import numpy as np

        from corpus import _kernels as K

        words = STOP_WORDS.get(lang, frozenset())
        # packed keys need Indic-only stop words; otherwise every word is compared whole
        packable = _KEY_CHARS if all("\u0900" <= ch <= "\u09ff" for w in words for ch in w) else 0
        short = [w for w in words if len(w) <= packable] or ["\u0900"]  # (a key no token has: 0x1)
        keys = sorted(sum((ord(ch) - 0x08FF) << (9 * j) for j, ch in enumerate(w)) for w in short)  # none 0
        long_words = code_rows(sorted(w for w in words if len(w) > packable))
        lengths = (min(map(len, words)), max(map(len, words))) if words else (0, 0)
        keys_array = K.hash_set(np.array(keys, dtype=np.uint64))
        heads = np.zeros(257 * 8, dtype=np.uint8)  # (a token is packed and looked up only at a hit)
        for w in short:
            heads[(ord(w[0]) - 0x08FF) * 8 + len(w)] = 1
        _fast_tables[lang] = _StopTable(keys_array, *lengths, packable, bool(words), long_words, heads)
    return _fast_tables[lang]


assert TOKEN_STRIP == ",;:'\"‘’“”()।" and _TOKEN.pattern.startswith(_segment.TOKEN_START)
# corpus._kernels reads the low byte of the flags bit by bit, in this order
assert [_segment.F_ALPHA, _segment.F_SPACE, _segment.F_DIGIT, _segment.F_LATIN] == [1, 2, 4, 8]
assert [_segment.F_TOKSTART, _segment.F_STRIP, _segment.F_SENT, _segment.F_DOT] == [16, 32, 64, 128]


def _cue_starts() -> dict[str, tuple[str, ...]] | None:
    """The literal starts of the cue phrases by first character; None if a phrase has none."""
    starts = [start for _, phrase in _ORDERED_CUES for start in literal_starts(phrase)]
    if not all(starts):
        return None
    by_first: dict[str, tuple[str, ...]] = {}
    for start in starts:
        by_first[start[0]] = (*by_first.get(start[0], ()), start)
    return by_first


_CUE_STARTS = _cue_starts()


class _CuePhrase(NamedTuple):
    order: int  # position in ``_cue_all()``'s alternatives
    category: str
    starts: tuple[str, ...]  # its literal starts under one key of ``_CUE_PHRASES``
    pattern: str | None  # None: the phrase is its literal start (no regex needed)


def _cue_phrases() -> dict[str, list[_CuePhrase]]:
    """The cue phrases by the first two characters of their literal starts (the first one
    for a start of one character), in ``_cue_all()``'s order (categories in ``_CUE_ORDER``,
    phrases in ``CUES`` order)."""
    by_key: dict[str, list[_CuePhrase]] = {}
    for order, (category, phrase) in enumerate(_ORDERED_CUES):
        starts = literal_starts(phrase)
        literal = starts == [phrase] and re.escape(phrase) == phrase.replace(" ", r"\ ")
        for key in dict.fromkeys(start[:2] for start in starts):
            mine = tuple(start for start in starts if start[:2] == key)
            by_key.setdefault(key, []).append(_CuePhrase(order, category, mine, None if literal else phrase))
    return by_key


_CUE_PHRASES = _cue_phrases()


@cache
def _phrase_regex(pattern: str) -> re.Pattern[str]:
    return re.compile(f"(?:{pattern})")


@cache
def _cue_all() -> re.Pattern[str]:
    """All cue phrases in one regex, a named group per category (only for texts that start
    with whitespace, or when a phrase has no literal start)."""
    return re.compile("|".join(f"(?P<{c}>{CUE_SOURCES[c]})" for c in _CUE_ORDER))


def _cue_fast(text: str) -> str | None:
    """``_cue(text)``. A phrase can only match where the text (after whitespace, which pieces
    do not start with) starts with one of its literal starts, so only those phrases are tried,
    in order: the first that matches is the one ``_cue_all()`` would find; a phrase that is
    plain text needs no regex."""
    if len(text) > 200:
        return None
    if "/" in text and _DESK_CODE.match(text):
        return "attribution"
    if _CUE_STARTS is None or text[:1].isspace():
        match = _cue_all().match(text)
        if match is not None:
            return match.lastgroup  # (the category's group encloses its whole alternative)
    else:
        candidates = _CUE_PHRASES.get(text[:2], ())
        if text[:1] in _CUE_PHRASES:  # phrases with a one-character literal start
            candidates = sorted([*candidates, *_CUE_PHRASES[text[:1]]])
        for phrase in candidates:
            if text.startswith(phrase.starts) and (
                phrase.pattern is None or _phrase_regex(phrase.pattern).match(text)
            ):
                return phrase.category
    if _CODE.search(text):
        return "other"
    return None


def _cue_table() -> tuple:
    """``corpus._kernels.cue_at``'s rows and their info: every text a cue phrase can match
    (``finite_forms``), or the literal starts of a phrase that is a real regex, sorted."""
    import numpy as np

    from corpus import _kernels as K

    entries = []
    for order, (category, phrase) in enumerate(_ORDERED_CUES):
        found = finite_forms(phrase)
        if found is None:
            texts, kind = literal_starts(phrase), K.CUE_REGEX
        else:
            texts, kind = found[0], K.CUE_WHOLE if found[1] else K.CUE_PREFIX
        entries += [(text, order, _CUE_CODE[category], kind, len(text)) for text in texts if text]
    entries.sort()
    info = np.array([entry[1:] for entry in entries], dtype=np.int64).reshape(-1, 4)
    return code_rows([entry[0] for entry in entries]), info


class _Tables:
    """What the kernels need besides the document, built once: the section words' hashes
    (``corpus._kernels.word_key``), ``log1p(n) / 6`` for piece lengths ``n`` (grown on
    demand) and whether each category's label is content."""

    def __init__(self) -> None:
        import numpy as np

        from corpus import _kernels as K

        assert K.FEATURES == Features.__match_args__
        assert (K.FACT_CUE, K.FACT_REPEATED, K.FACT_DATE, K.FACT_TAG_ITEMS, K.FACT_MENU_WORDS) == (
            0,
            1,
            2,
            3,
            4,
        )
        self.np, self.kernels = np, K
        keys = [K.word_key(np.array(list(map(ord, w)), dtype=np.uint32), 0, len(w)) for w in SECTION_WORDS]
        assert all(known for _, known in keys)
        by_key = sorted((key, word) for (key, _), word in zip(keys, SECTION_WORDS))
        sorted_keys = np.array([key for key, _ in by_key], dtype=np.uint64)
        # (menu_scan: the hash set, then the sorted keys and their words to check a hit)
        self.section_words = (K.hash_set(sorted_keys), sorted_keys, code_rows([w for _, w in by_key]))
        self.is_content = np.array([label_of(c) == "content" for c in CATEGORY_NAMES], dtype=np.uint8)
        self.log_chars = np.zeros(0)
        self.repeat_values = np.array([repeats_feature(r) for r in range(REPEATS_CAP + 1)])
        self.cue_rows, self.cue_info = _cue_table()
        # what piece_gates counts: "/" (desk codes), "," (tag lists), code markers, the words a
        # date "ago" ends with
        self.needles = code_rows(["/", ",", *_CODE_MARKERS, *_AGO])
        self.months, self.agos = code_rows(sorted(_MONTH_NAMES)), code_rows(sorted(_AGO_PHRASES))
        self.no_repeats = np.zeros(0, dtype=np.int64)
        self.no_weights = (np.zeros(0), 0.0, np.zeros(0), np.zeros(0))  # (rules alone)

    def log_chars_upto(self, longest: int):
        if len(self.log_chars) <= longest:
            size = max(_LOG_CHARS, 2 * longest)
            self.log_chars = self.np.array([math.log1p(n) / 6 for n in range(size)])
        return self.log_chars


_tables: _Tables | None = None
_LOG_CHARS = 1 << 13  # log1p entries made at first (~1 ms): texts shorter need no look at their pieces


def _piece_facts(text: str, lang: str, starts, ends) -> tuple:
    """``(counts, separator, facts)`` of the pieces (``corpus._kernels.piece_scan``: dates and
    tag lists included), with the cue and menu facts of Python's text tests filled in where
    the kernel leaves them to Python (elsewhere it decided them, or they would give
    None/False at once): ``rule_pass``'s facts."""
    global _tables
    if _tables is None:
        _tables = _Tables()
    K = _tables.kernels
    codes, flags = char_flags(text)
    counts, separator, facts, checks = K.piece_scan(
        codes, flags, starts, ends, *_stop_table(lang), *_tables.section_words, _tables.cue_rows,
        _tables.cue_info, _tables.needles, len(_CODE_MARKERS), _CUE_STARTS is not None,
        _tables.months, _tables.agos,
    )  # fmt: skip
    chosen = checks.nonzero()[0]
    if not len(chosen):
        return counts, separator, facts
    columns = (chosen, checks[chosen], starts[chosen], ends[chosen])
    for k, check, start, end in zip(*(column.tolist() for column in columns)):
        piece = text[start:end]
        if check & K.CHECK_CUE:
            category = _cue_fast(piece)
            if category is not None:
                facts[K.FACT_CUE, k] = _CUE_CODE[category]
        if check & K.CHECK_MENU_WORDS:
            facts[K.FACT_MENU_WORDS, k] = _menu_words(piece)
    return counts, separator, facts


def _fast_rules(text: str, lang: str, starts, ends, lines, glued) -> tuple:
    """``rule_pass`` of the pieces (``segment_arrays``, at least one) in arrays:
    ``(features, zones, categories, confidences, p_content)``, the features a table with
    ``Features``' fields as columns (``corpus._kernels.FEATURES``)."""
    counts, separator, facts = _piece_facts(text, lang, starts, ends)
    K = _tables.kernels
    f, zones, categories, confidences, z = K.rules(counts, facts, lines, glued, separator)
    return f, zones, categories, confidences, K.logistic(z, False)  # Features.p_content


def _rule_pass_fast(text: str, lang: str, pieces: list[Piece], corpus_repeats: list[int]) -> RulePass:
    """``rule_pass`` from ``_fast_rules``: the same ``Features``, zones and rules."""
    if not pieces:
        return RulePass([], [], [], [])
    import numpy as np

    columns = np.array([(p.start, p.end, p.line, p.glued) for p in pieces], dtype=np.int64).T.copy()
    f, zones, categories, confidences, _ = _fast_rules(text, lang, *columns)
    feats = [_features_of(row) for row in f.tolist()]
    rules = [(CATEGORY_NAMES[c], conf) for c, conf in zip(categories.tolist(), confidences.tolist())]
    return RulePass(feats, [ZONES[z] for z in zones.tolist()], rules, corpus_repeats)


def _features_of(row: list[float]) -> Features:
    """The ``Features`` of one row of the kernels' feature table."""
    n_chars, words, sentences, period, exclaim, stop, latin, digit, letter, cue, repeated, date = row
    return Features(
        int(n_chars),
        int(words),
        int(sentences),
        period == 1,
        exclaim == 1,
        stop,
        latin,
        digit,
        letter,
        None if cue < 0 else CATEGORY_NAMES[int(cue)],
        repeated == 1,
        date == 1,
    )


def _prelabel_fast(
    text: str, lang: str, classifier: Classifier | None, line_repeats: Sequence[int] | None
) -> SpanColumns:
    """``prelabel_with`` on arrays (see above): the same spans, the same floats."""
    return _prelabel_fast_stages([text], [lang], classifier, [line_repeats])[0]


def _prelabel_fast_stages(
    texts: Sequence[str],
    langs: Sequence[str],
    classifier: Classifier | None,
    line_repeats: Sequence[Sequence[int] | None],
    model_version: str = "",
) -> list[SpanColumns]:
    """``_prelabel_fast`` of each text, one stage at a time over all of them: segmentation,
    then the pieces' facts, then the labels. Each stage's code and tables stay in the CPU's
    caches across the texts (~15 % faster than text by text, measured on the synthetic corpus);
    the texts' character flags are kept in between (``segment.FLAGS_KEPT``)."""
    segmented = [segment_arrays(text) for text in texts]
    facts = [
        _piece_facts(text, lang, pieces[0], pieces[1]) if len(pieces[0]) else None
        for text, lang, pieces in zip(texts, langs, segmented)
    ]
    labelled = []
    for text, pieces, repeats, known in zip(texts, segmented, line_repeats, facts):
        if known is None:  # (no pieces: a text of whitespace only)
            labelled.append(SpanColumns([], [], [], [], model_version))
        else:
            labelled.append(_labelled(text, pieces, repeats, known, classifier, model_version))
    return labelled


def _labelled(
    text: str,
    pieces: tuple,
    line_repeats: Sequence[int] | None,
    piece_facts: tuple,
    classifier: Classifier | None,
    model_version: str = "",
) -> SpanColumns:
    """The spans of ``text`` from its pieces (``segment_arrays``) and their facts (``_piece_facts``)."""
    starts, ends, lines, glued = pieces
    counts, separator, facts = piece_facts
    tables, np = _tables, _tables.np
    if classifier is not None:
        weights, bias, category_weights, zone_weights = classifier.weight_arrays
        log_chars = tables.log_chars
        if len(log_chars) <= len(text):  # (else no piece is too long for it: no reduction needed)
            log_chars = tables.log_chars_upto(int((ends - starts).max()))
        has_repeats = line_repeats is not None and len(line_repeats)
        repeats = np.asarray(line_repeats, dtype=np.int64) if has_repeats else tables.no_repeats
        threshold = classifier.threshold
    else:
        weights, bias, category_weights, zone_weights = tables.no_weights
        log_chars, repeats, threshold = tables.log_chars, tables.no_repeats, 0.0
    starts, ends, categories, scores, places, uncertain = tables.kernels.label_spans(
        counts, facts, lines, glued, separator, starts, ends, tables.is_content, classifier is not None,
        weights, bias, category_weights, zone_weights, threshold, log_chars, repeats, tables.repeat_values,
    )  # fmt: skip
    names = CATEGORY_NAMES
    rounded = scores.tolist()  # (rounded by the kernel where it is certain)
    if uncertain:
        rounded = [score if k >= 0 else round(score, 4) for score, k in zip(rounded, places.tolist())]
    lists = (starts.tolist(), ends.tolist(), list(map(names.__getitem__, categories.tolist())), rounded)
    arrays = KernelArrays((starts, ends, categories, places), lists) if not uncertain else None
    return SpanColumns(*lists, model_version, arrays)
