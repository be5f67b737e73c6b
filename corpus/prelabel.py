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

Neighbouring pieces with the same category merge into one span. Each span's ``score`` is
the confidence in its category: the rule's own confidence averaged with ``p_content``
(or ``1 - p_content`` for boilerplate), so uncertain spans sort first for annotators.
Nothing here refers to a particular site or article.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from corpus.document import Document, Span
from corpus.labels import label_of
from corpus.lexicon import CUE_PATTERNS, STOP_WORDS
from corpus.segment import INDIC_LETTER, Piece, segment

MODEL_VERSION = "rules-1.0.0"

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
_LIST_HEADERS = ("related_links", "listing")
_PERIOD_END = re.compile(r"[।॥.][\"'”’»)\]]*$")
_EXCLAIM_END = re.compile(r"[!?][\"'”’»)\]]*$")
_SENTENCE_END = re.compile(r"[।॥!?]|\.(?=\s|$)")
_TOKEN = re.compile(rf"[{INDIC_LETTER}A-Za-z0-9০-৯०-९][^\s]*")
_DESK_CODE = re.compile(rf"^[{INDIC_LETTER}A-Z]{{1,8}}(?:/[{INDIC_LETTER}A-Z]{{1,8}})+$")
_MENU = re.compile(r"\S\s*(?:\||»|›|>|/|•)\s*\S")
_CODE = re.compile(r"^\s*(?:[{<]|function\s*\(|var\s|window\.|document\.)|</?[a-z]+[ >]")
_MONTHS = (
    "জানুয়ারি|ফেব্রুয়ারি|মার্চ|এপ্রিল|মে|জুন|জুলাই|আগস্ট|সেপ্টেম্বর|অক্টোবর|নভেম্বর|ডিসেম্বর|"
    "जनवरी|फरवरी|मार्च|अप्रैल|मई|जून|जुलाई|अगस्त|सितंबर|अक्टूबर|नवंबर|दिसंबर|"
    "Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec"
)
_DATE = re.compile(
    rf"(?:[০-৯0-9०-९]{{1,2}}\s*(?:{_MONTHS})|(?:{_MONTHS})\w*\s+[০-৯0-9०-९]{{1,2}}|"
    r"[০-৯0-9०-९]{1,2}:[০-৯0-9०-९]{2}|[০-৯0-9०-९]{1,4}[/-][০-৯0-9०-९]{1,2}[/-][০-৯0-9०-९]{2,4}|"
    r"(?:ঘণ্টা|মিনিট|দিন) আগে|(?:घंटे|मिनट|दिन) पहले|(?:hours?|minutes?|days?) ago)"
)


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
        if CUE_PATTERNS[category].match(text):
            return category
    if _CODE.search(text):
        return "other"
    return None


def _is_tag_list(text: str, f: Features) -> bool:
    items = [i.strip() for i in text.split(",")]
    return (
        len(items) >= 3
        and ":" not in text
        and not f.period_end
        and f.n_words <= 15
        and all(0 < len(i.split()) <= 3 for i in items)
        and f.stop_density == 0
    )


def label_pieces(text: str, lang: str, pieces: list[Piece]) -> list[tuple[str, float]]:
    """``(category, score)`` for each piece, before merging (see the module docstring)."""
    texts = [text[p.start : p.end] for p in pieces]
    counts: dict[str, int] = {}
    for t in texts:
        counts[t] = counts.get(t, 0) + 1
    feats = []
    for i, t in enumerate(texts):
        suffix_of_previous = i > 0 and len(t) > 10 and texts[i - 1].endswith(t) and texts[i - 1] != t
        feats.append(piece_features(t, lang, counts[t] > 1 or suffix_of_previous))
    if not feats:
        return []
    longest = max((f.n_chars for f in feats if f.prose), default=0)
    strong = [i for i, f in enumerate(feats) if f.prose and f.n_chars >= max(100, 0.4 * longest)]
    first = strong[0] if strong else len(feats)
    last = strong[-1] if strong else -1

    out: list[tuple[str, float]] = []
    title_seen = False
    open_list: str | None = None  # category of the latest "read more"/listing header
    for i, (t, f) in enumerate(zip(texts, feats)):
        zone = "head" if i < first else "tail" if i > last else "body"
        category, confidence = _categorise(t, f, zone, title_seen, open_list)
        if category == "title":
            title_seen = True
        if f.cue in _LIST_HEADERS:
            open_list = f.cue
        elif zone != "tail" and f.prose:
            open_list = None
        elif f.cue is not None and f.cue not in _LIST_HEADERS and zone != "tail":
            open_list = None
        p = f.p_content if label_of(category) == "content" else 1.0 - f.p_content
        out.append((category, 0.5 * confidence + 0.5 * p))
    return out


def _categorise(t: str, f: Features, zone: str, title_seen: bool, open_list: str | None) -> tuple[str, float]:
    if f.letter_share == 0:
        return "other", 0.9
    if f.cue is not None:
        return f.cue, 0.9
    if _is_tag_list(t, f):
        return "tags", 0.75
    if f.date_like and not f.prose:
        return "timestamp", 0.75
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


def prelabel_text(text: str, lang: str) -> list[Span]:
    """Labelled spans covering every non-whitespace character of ``text``."""
    pieces = segment(text)
    return merge_pieces(pieces, label_pieces(text, lang, pieces))


def prelabel_document(doc: Document) -> Document:
    return doc.with_spans(prelabel_text(doc.text, doc.lang), MODEL_VERSION)
