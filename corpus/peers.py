"""Peer boilerplate removers, mapped onto Chhanni spans so their scores are comparable with ours.

Every peer is a function ``(text, lang) -> list[Span]``. The peers decide per **line** (none of
them can split a line where a scraper glued two pieces together): a line they keep becomes a
``body`` span, a line they drop an ``other`` span. The spans follow the labelling standard
(each line trimmed to non-whitespace, every non-whitespace character covered once, neighbours
of the same category merged), so ``corpus.evaluate`` scores them at the binary content /
boilerplate level exactly as it scores our pre-labeler; their fine categories mean nothing.

``PEERS``:

``all-content``
    Trivial baseline: every line is content.
``line-filter``
    A C4 / FineWeb-2 style heuristic line filter (rules in :func:`line_filter`).
``justext``
    jusText 3 with its own ``Bengali`` / ``Hindi`` stop-lists (it ships both) and default
    parameters, on the page's non-empty lines wrapped as ``<p>`` elements (:func:`justext_spans`).
``trafilatura``
    ``trafilatura.extract`` with its default settings on the same HTML (:func:`trafilatura_spans`).

jusText and trafilatura are imported lazily, inside the functions.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Callable

from corpus.document import Span

CONTENT = "body"
BOILERPLATE = "other"

# --- mapping line decisions to spans --------------------------------------------------------


def line_bounds(text: str) -> list[tuple[int, int]]:
    """``[start, end)`` of every line of ``text`` trimmed to non-whitespace (``start == end``: blank)."""
    out = []
    offset = 0
    for line in text.split("\n"):
        start, end = 0, len(line)
        while start < end and line[start].isspace():
            start += 1
        while end > start and line[end - 1].isspace():
            end -= 1
        out.append((offset + start, offset + end))
        offset += len(line) + 1
    return out


def spans_from_lines(text: str, keep: list[bool]) -> list[Span]:
    """One span per non-blank line (``body`` if kept, else ``other``), same-category neighbours merged."""
    bounds = line_bounds(text)
    if len(keep) != len(bounds):
        raise ValueError(f"{len(keep)} decisions for {len(bounds)} lines")
    spans: list[Span] = []
    for (start, end), kept in zip(bounds, keep):
        if start == end:
            continue
        category = CONTENT if kept else BOILERPLATE
        if spans and spans[-1].category == category:
            spans[-1] = Span(spans[-1].start, end, category, 1.0, "model")
        else:
            spans.append(Span(start, end, category, 1.0, "model"))
    return spans


def _lines(text: str) -> list[str]:
    return text.split("\n")


def _normalise(line: str) -> str:
    return " ".join(unicodedata.normalize("NFC", line).split())


# --- all-content ----------------------------------------------------------------------------


def all_content(text: str, lang: str) -> list[Span]:
    """Every line is content (the floor any remover has to beat on content recall)."""
    return spans_from_lines(text, [True] * len(_lines(text)))


# --- line filter ----------------------------------------------------------------------------

MIN_WORDS = 3
MAX_WORD_CHARS = 1000
MIN_ALPHA_WORD_SHARE = 0.8
MIN_STOP_WORDS = 2
TERMINAL = (".", "!", "?", '"', "'", "”", "’", "।", "॥")
_ELLIPSIS_END = re.compile(r"(?:\.\.\.|…)[\"'”’]?$")
_WORD_HAS_LETTER = re.compile(r"[^\W\d_]")
POLICY_WORDS: tuple[str, ...] = (
    # C4's list
    "terms of use",
    "privacy policy",
    "cookie policy",
    "uses cookies",
    "use of cookies",
    "use cookies",
    # the same notices as Bengali and Hindi sites write them
    "কুকি",
    "গোপনীয়তা নীতি",
    "ব্যবহারের শর্তাবলি",
    "সর্বস্বত্ব সংরক্ষিত",
    "कुकी",
    "गोपनीयता नीति",
    "उपयोग की शर्तें",
    "सर्वाधिकार सुरक्षित",
    "copyright",
    "all rights reserved",
)
POLICY_WORDS = tuple(unicodedata.normalize("NFC", w) for w in POLICY_WORDS)
# FineWeb-2 replaces Gopher's English stop words ("the", "be", "to", …) by each language's most
# frequent words. These lists are hand-picked common function words of bn and hi news prose
# (not FineWeb-2's own lists, which are not reproduced here).
FUNCTION_WORDS = {
    "bn": frozenset(
        "ও এ এই সে তিনি তারা তাদের তার আর এবং কিন্তু তবে যে যা না নয় থেকে জন্য করে করা করেন করেছেন "
        "হয় হয়েছে হবে ছিল ছিলেন হচ্ছে দিয়ে নিয়ে বলে বলেন জানান জানিয়েছেন পর মধ্যে সঙ্গে সাথে কাছে "
        "এক একটি কোনো কিছু সব আরও এখন এবার গত আগে".split()
    ),
    "hi": frozenset(
        "का की के को में से पर ने है हैं था थी थे और या भी तो ही कि यह वह इस उस एक कर किया किए "
        "गया गई गए हो होगा होगी रहा रही रहे लिए साथ बाद अब तक जो नहीं बताया कहा".split()
    ),
}
FUNCTION_WORDS = {k: frozenset(unicodedata.normalize("NFC", w) for w in v) for k, v in FUNCTION_WORDS.items()}


def line_filter_keep(line: str, lang: str, seen: set[str] | None = None) -> bool:
    """Does the line filter keep this line? (``seen``: normalised lines already kept on the page.)"""
    s = _normalise(line)
    if not s:
        return False
    lower = s.lower()
    words = s.split()
    # C4
    if not s.endswith(TERMINAL) or _ELLIPSIS_END.search(s):
        return False
    if len(words) < MIN_WORDS:
        return False
    if any(len(w) > MAX_WORD_CHARS for w in words):
        return False
    if "javascript" in lower or "lorem ipsum" in lower or "{" in s or "}" in s:
        return False
    if any(p in lower for p in POLICY_WORDS):
        return False
    # FineWeb-2 / Gopher, per line
    if sum(bool(_WORD_HAS_LETTER.search(w)) for w in words) / len(words) < MIN_ALPHA_WORD_SHARE:
        return False
    stops = FUNCTION_WORDS.get(lang, frozenset())
    if sum(w.strip(",;:।॥.!?\"'()‘’“”") in stops for w in words) < MIN_STOP_WORDS:
        return False
    if seen is not None:
        if s in seen:
            return False
        seen.add(s)
    return True


def line_filter(text: str, lang: str) -> list[Span]:
    """C4 / FineWeb-2 style line filter. A line is kept (content) only if all of these hold:

    C4 (Raffel et al. 2020, as in datatrove's ``C4QualityFilter``), per line:

    1. after collapsing whitespace it ends in terminal punctuation: ``. ! ? " ' ” ’`` or the
       danda ``।`` / double danda ``॥`` (FineWeb-2 adds each script's sentence terminator),
       and not in an ellipsis (``...`` / ``…``: truncated teasers);
    2. it has at least ``MIN_WORDS`` = 3 whitespace-separated words and no word longer than
       1000 characters;
    3. it contains none of ``javascript``, ``lorem ipsum``, ``{`` or ``}`` (C4 drops the whole
       page for the last three; here only the line, because we score lines);
    4. it contains none of C4's policy phrases (``terms of use``, ``privacy policy``,
       ``cookie policy``, ``uses cookies``, ``use of cookies``, ``use cookies``) nor their
       bn/hi equivalents and copyright notices (``POLICY_WORDS``: ``কুকি``, ``গোপনীয়তা নীতি``,
       ``সর্বস্বত্ব সংরক্ষিত``, ``कुकी``, ``गोपनीयता नीति``, ``सर्वाधिकार सुरक्षित``, ``copyright``, …).

    FineWeb-2 (Gopher-derived quality rules adapted per language), applied per line:

    5. at least 80 % of its words contain a letter (Gopher's alphabetic-word rule; digits-only
       and symbol tokens such as ``|``, ``»``, ``১২:৩০`` do not);
    6. at least ``MIN_STOP_WORDS`` = 2 of its words are function words of the page's language
       (Gopher's stop-word rule made per-language as in FineWeb-2; ``FUNCTION_WORDS`` is a
       hand-picked list; surrounding punctuation is stripped before the lookup);
    7. it is not an exact repeat of a line kept earlier on the page (Gopher's duplicate-line
       repetition rule, which FineWeb and FineWeb-2 use at page level, applied per line).

    C4's page-level rules (drop pages with fewer than 5 sentences) are not applied: we score
    lines, and a dropped page would make every line boilerplate.
    """
    seen: set[str] = set()
    return spans_from_lines(text, [line_filter_keep(line, lang, seen) for line in _lines(text)])


# --- jusText --------------------------------------------------------------------------------

JUSTEXT_STOPLISTS = {"bn": "Bengali", "hi": "Hindi"}


def lines_as_html(text: str) -> tuple[str, list[int]]:
    """The page's non-blank lines as ``<p>`` elements of a minimal HTML page, and their line numbers."""
    numbers = [i for i, line in enumerate(_lines(text)) if line.strip()]
    lines = _lines(text)
    body = "\n".join(f"<p>{html.escape(lines[i].strip(), quote=False)}</p>" for i in numbers)
    page = (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title></title></head>\n'
        f"<body>\n{body}\n</body></html>\n"
    )
    return page, numbers


_P_INDEX = re.compile(r"/p\[(\d+)\]$")


def justext_spans(text: str, lang: str) -> list[Span]:
    """jusText (default parameters, ``justext.get_stoplist("Bengali"/"Hindi")``) per line.

    Each non-blank line is one ``<p>``; jusText returns one paragraph per ``<p>`` with its
    XPath (``/html/body/p[k]``), which maps it back to its line. A paragraph whose
    ``is_boilerplate`` is false is content; lines jusText returns no paragraph for are
    boilerplate.
    """
    import justext

    page, numbers = lines_as_html(text)
    keep = [False] * len(_lines(text))
    if not numbers:
        return spans_from_lines(text, keep)
    stoplist = justext.get_stoplist(JUSTEXT_STOPLISTS.get(lang, "English"))
    for paragraph in justext.justext(page.encode("utf-8"), stoplist, encoding="utf-8"):
        m = _P_INDEX.search(paragraph.xpath)
        if m and not paragraph.is_boilerplate:
            k = int(m.group(1)) - 1
            if 0 <= k < len(numbers):
                keep[numbers[k]] = True
    return spans_from_lines(text, keep)


# --- trafilatura ----------------------------------------------------------------------------

TRAFILATURA_OPTIONS: dict = {}  # trafilatura's defaults (neither favor_precision nor favor_recall)


def trafilatura_spans(text: str, lang: str, **options) -> list[Span]:
    """``trafilatura.extract`` on the :func:`lines_as_html` page, mapped back to lines.

    Defaults are used (``TRAFILATURA_OPTIONS``; extra keyword arguments go to ``extract``).
    On a flat page of ``<p>`` elements trafilatura has no DOM structure (``<nav>``,
    ``<aside>``, classes) to exploit, and ``favor_recall`` / ``favor_precision`` return
    exactly the same text as the defaults on the five seed pages (trafilatura 2.3), so the
    choice does not matter here. ``target_language`` is not set: it only discards whole
    documents.

    The extracted text is normalised (NFC, whitespace collapsed) line by line. A page line is
    content if its normalised text occurs in the output, matched in order: a line equal to an
    output line at or after the previous match takes that line; otherwise a line contained in
    the current or a later output line is matched inside it. So a line repeated on the page
    counts only as often as trafilatura kept it. If ``extract`` returns nothing, every line is
    boilerplate.
    """
    import trafilatura

    page, _ = lines_as_html(text)
    kwargs = {**TRAFILATURA_OPTIONS, **options}
    extracted = trafilatura.extract(page, **kwargs) or ""
    out = [_normalise(line) for line in extracted.split("\n")]
    out = [line for line in out if line]
    keep = []
    row, col = 0, 0  # next unmatched position: output line, character in it
    for line in _lines(text):
        s = _normalise(line)
        if not s:
            keep.append(False)
            continue
        hit = _match(out, s, row, col)
        if hit is None:
            keep.append(False)
            continue
        row, col = hit
        keep.append(True)
    return spans_from_lines(text, keep)


def _match(out: list[str], s: str, row: int, col: int) -> tuple[int, int] | None:
    for r in range(row, len(out)):
        if out[r] == s and (r > row or col == 0):
            return r + 1, 0
    for r in range(row, len(out)):
        pos = out[r].find(s, col if r == row else 0)
        if pos >= 0:
            end = pos + len(s)
            return (r + 1, 0) if end >= len(out[r]) else (r, end)
    return None


PEERS: dict[str, Callable[[str, str], list[Span]]] = {
    "all-content": all_content,
    "line-filter": line_filter,
    "justext": justext_spans,
    "trafilatura": trafilatura_spans,
}
