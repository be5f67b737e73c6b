"""Language identification with langdetect, made deterministic.

langdetect samples n-grams at random; fixing ``DetectorFactory.seed`` makes the same text
give the same language and probability on every run and machine.
"""

from __future__ import annotations

import math as _math
import os as _os
import re as _re
from functools import cached_property, lru_cache

from corpus import prebuilt
from corpus.labels import LANGUAGES
from corpus.segment import char_flags, code_points

SEED = 0


class LanguageError(ValueError):
    """The language of a text cannot be detected or is not one the corpus covers."""


@lru_cache(maxsize=1)
def _detector_factory():
    from langdetect import DetectorFactory
    from langdetect.detector_factory import init_factory

    DetectorFactory.seed = SEED
    init_factory()
    from langdetect import detector_factory

    return detector_factory._factory


def detect_language(text: str) -> tuple[str, float]:
    """``(lang, probability)`` for a supported language, else ``LanguageError``.

    Takes the exact fast path (below) when the text is within its alphabet, else runs
    langdetect itself; either way the result (or the error) is the seeded langdetect one.
    """
    if not any(ch.isalpha() for ch in text):
        raise LanguageError("language undetectable (no letters)")
    fast = _fast_detect(text)
    return fast if fast is not None else detect_language_reference(text)


def detect_language_reference(text: str) -> tuple[str, float]:
    """The reference path: seeded langdetect, run in full."""
    from langdetect.lang_detect_exception import LangDetectException

    if not any(ch.isalpha() for ch in text):
        raise LanguageError("language undetectable (no letters)")
    detector = _detector_factory().create()
    detector.append(text)
    try:
        best = detector.get_probabilities()[0]
    except (LangDetectException, IndexError):
        raise LanguageError("language undetectable") from None
    if best.lang not in LANGUAGES:
        supported = ", ".join(LANGUAGES)
        raise LanguageError(f"language '{best.lang}' (p={best.prob:.2f}) is not supported ({supported})")
    return best.lang, round(float(best.prob), 4)


# --- Exact fast path ------------------------------------------------------------------------
#
# langdetect spends its time in per-character Python (normalising, n-gram extraction) and in
# a 55-language random walk. For Bengali/Devanagari text the same answer can be computed
# exactly, and cheaply:
#
# 1. The text is prepared as ``Detector.append``/``cleaning_text`` prepare it (URL and e-mail
#    removal, 10,000-character cut, ASCII letters dropped when they are under a third of the
#    letters), on a numpy array of code points instead of a char loop.
# 2. The fast path only runs when every remaining character is (a) one langdetect normalises
#    to a space (ASCII non-letters, NBSP « ° », General Punctuation), (b) Bengali or
#    Devanagari, or (c) "inert": a symbol that occurs in no langdetect profile and is not
#    upper case (₹, emoji, arrows, box drawing, ...). Anything else falls back to langdetect.
#    The n-grams langdetect extracts (same order, same count) are then looked up, vectorised,
#    in the profiles of the eight languages that have Bengali/Devanagari n-grams at all
#    (``_SCRIPT_PROFILES``); every other language has probability 0 for all of them.
# 3. The random walk is replayed with the *same* random stream (Mersenne Twister seeded
#    with ``SEED``; ``choice``/``gauss`` emulated word by word, checked against ``random``
#    when the tables load) and the *same* arithmetic, on a reduced state: the eight script
#    languages one by one, and one value standing for each of the 47 others (they start
#    equal and are always multiplied by the same weight, so langdetect's values for them are
#    equal too). The normalising sum runs over all 55 values in langdetect's order like the
#    builtin ``sum`` (plain left-to-right addition, or Neumaier's compensated sum from Python
#    3.12 on: which one this Python does is checked when the tables load), so every value,
#    the convergence test, the final sort and the rounding are bit-identical to langdetect's.
#
# Steps 1-2 (n-gram extraction) and step 3's trials, ``gauss`` included, run as compiled
# loops (``corpus._kernels.script_ngrams`` and ``replay``, no fast-math: the same IEEE
# operations in the same order, libm's ``log``/``sqrt``/``cos``/``sin`` as ``math``'s); the
# final ranking stays in Python.
#
# tests/test_bench.py checks the facts this relies on (profiles, inert characters) and that
# the results equal the reference path on the seeds and the synthetic corpus.

_SCRIPT_PROFILES = ("bn", "hi", "lt", "ml", "mr", "ne", "pa", "te")
_PROFILES_FINGERPRINT = "57c07d280b31e4ef"  # names and sizes of langdetect 1.0.9's profiles
_INERT_RANGES = (
    (0xA1, 0xA2), (0xA4, 0xAA), (0xAC, 0xAC), (0xAE, 0xAF), (0xB1, 0xB1), (0xB3, 0xB6), (0xB8, 0xBA),
    (0xBC, 0xBF), (0xF7, 0xF7), (0x20A0, 0x20CF), (0x2190, 0x2211), (0x2213, 0x223B), (0x223D, 0x23FF),
    (0x2500, 0x27BF), (0x2B00, 0x2BFF), (0xFE00, 0xFE0F), (0x1F000, 0x1F12F), (0x1F18A, 0x1FAFF),
)  # fmt: skip
_INERT_CLASS = "".join(f"{chr(lo)}-{chr(hi)}" for lo, hi in _INERT_RANGES)
# character classes of the fast path
C_OTHER, C_SPACE_LOW, C_SPACE_HIGH, C_AZ, C_INERT_LOW, C_INERT_HIGH, C_SCRIPT = range(7)
_N_CLASSES = C_SCRIPT + 256
_N_TRIAL, _ALPHA, _ALPHA_WIDTH, _BASE_FREQ = 7, 0.5, 0.05, 10000
_CONV, _ITERATION_LIMIT, _PROB_THRESHOLD, _MAX_TEXT = 0.99999, 1000, 0.1, 10000


def _class_ranges() -> list[tuple[int, int, int]]:
    """``(first, last, class)``: the code points of each fast-path class (what ``_fast_detect``
    needs to know about a character), later ranges over earlier ones; the rest are ``C_OTHER``."""
    ranges = [(0, 0x7F, C_SPACE_LOW), (0x41, 0x7A, C_AZ)]  # langdetect's "Latin" test: 'A' <= ch <= 'z'
    ranges += [(cp, cp, C_SPACE_LOW) for cp in (0xA0, 0xAB, 0xB0, 0xBB)]
    ranges += [(0x2000, 0x206F, C_SPACE_HIGH)]
    ranges += [(lo, hi, C_INERT_LOW if hi < 0x300 else C_INERT_HIGH) for lo, hi in _INERT_RANGES]
    return ranges + [(0x0900 + k, 0x0900 + k, C_SCRIPT + k) for k in range(256)]


AZ_ENTRY, LOW_BIT = 0xFFFF, 0x8000  # code_table's entry for A-z; its bit of the "low" classes


def _code_table(np, alphabet):
    """What ``corpus._kernels.script_ngrams`` reads of each code point, in one uint16: 0 for
    class "other" (langdetect decides), ``AZ_ENTRY`` for A-z, else 1 + its alphabet index, with
    ``LOW_BIT`` for the classes below U+0300 that langdetect counts apart (spaces, symbols).
    Zeros where "other": the pages no entry is written to are never touched (~500 page faults
    less a start than filling 2 MB)."""
    table = np.zeros(0x110000, dtype=np.uint16)
    for lo, hi, c in _class_ranges():
        low = LOW_BIT if c in (C_SPACE_LOW, C_INERT_LOW) else 0
        table[lo : hi + 1] = AZ_ENTRY if c == C_AZ else (int(alphabet[c]) + 1) | low
    return table


def _profiles() -> tuple[str, list[str]]:
    """The fingerprint of langdetect's profiles (names and sizes) and its language order:
    ``os.listdir``'s (skipping dot files), the order it sums in."""
    import hashlib

    directory = _profiles_directory()
    listed = _os.listdir(directory)
    sized = [(n, _os.path.getsize(_os.path.join(directory, n))) for n in sorted(listed)]
    order = [n for n in listed if not n.startswith(".") and _os.path.isfile(_os.path.join(directory, n))]
    return hashlib.sha256(repr(sized).encode()).hexdigest()[:16], order


def _profiles_directory() -> str:
    """``langdetect.detector_factory.PROFILES_DIRECTORY``, found without importing langdetect
    (~10 ms of start-up that the fast path does not need)."""
    from importlib.util import find_spec

    spec = find_spec("langdetect")
    assert spec is not None and spec.submodule_search_locations, "langdetect is not installed"
    return _os.path.join(spec.submodule_search_locations[0], "profiles")


TABLE_CACHE = _os.path.join(_os.path.dirname(__file__), "_langid_tables.pickle")  # written by pip install


class _Tables:
    """Profiles of the script languages as dense n-gram tables, the random stream, the code table.

    Building them reads and filters eight profiles (~45 ms of every start), so ``pip install``
    saves them (``write_table_cache``) and ``cached`` loads them, keyed by this file, the
    profiles and the Python version; anything else builds them anew."""

    CACHED = ("ok", "n_langs", "langlist", "positions", "first_other", "size", "alphabet")
    CACHED += ("t1", "pairs", "t3", "dense_array", "position_array", "_rng", "stream_array")
    CACHED += ("compensated", "pattern_sources")  # (this Python's sum; langdetect's patterns)

    def __init__(self, state: dict | None = None) -> None:
        import json
        import random

        import numpy as np

        self.np = np
        if state is not None:  # (from the cache)
            self._stream = None  # (as Python ints when the stream is extended)
            self.__dict__.update(state)
            self.code_table = _code_table(np, self.alphabet)
            self.ok = self.ok and self.compensated is not None and self._self_test()
            return
        fingerprint, order = _profiles()
        self.ok = fingerprint == _PROFILES_FINGERPRINT
        self.n_langs = len(order)
        self.langlist = order  # a profile's file is named after its language (checked below)
        self.positions = [order.index(lang) for lang in _SCRIPT_PROFILES]
        self.first_other = min(set(range(len(order))) - set(self.positions), default=None)
        script = _re.compile("^[ \u0900-\u09ff]+$")
        probs: dict[str, list[float]] = {}
        directory = _profiles_directory()
        for index, lang in enumerate(_SCRIPT_PROFILES):
            with open(_os.path.join(directory, lang), encoding="utf-8") as handle:
                profile = json.load(handle)
            self.ok = self.ok and profile["name"] == lang
            for gram, freq in profile["freq"].items():
                if len(gram) <= 3 and "\u0900" <= max(gram) <= "\u09ff" and script.match(gram):
                    vector = probs.setdefault(gram, [0.0] * len(_SCRIPT_PROFILES))
                    vector[index] = 1.0 * freq / profile["n_words"][len(gram) - 1]
        grams = self.grams = list(probs)  # by id (not saved: only tests read them)
        # (language index, probability) pairs of each n-gram, zeros left out
        dense = [tuple(probs[g]) for g in grams]  # probability in each script language
        # alphabet: 0 = space, 1.. = characters that occur in those n-grams, last = anything else
        chars = sorted({ch for g in grams for ch in g if ch != " "})
        size = len(chars) + 2
        position = {" ": 0, **{ch: i + 1 for i, ch in enumerate(chars)}}
        self.size = size
        self.alphabet = np.full(_N_CLASSES, size - 1, dtype=np.int64)  # class -> alphabet index
        self.alphabet[[C_SPACE_LOW, C_SPACE_HIGH]] = 0
        for ch, i in position.items():
            if ch != " ":
                self.alphabet[C_SCRIPT + ord(ch) - 0x0900] = i
        self.code_table = _code_table(np, self.alphabet)
        assert size < LOW_BIT - 1
        # n-gram id by alphabet indices (-1: not a profile n-gram); trigrams in two steps (the
        # pair's row among the pairs that start a trigram, then the third character), so the
        # tables stay small enough for the cache (int16: ids and rows number in the thousands)
        assert len(grams) < 2**15
        self.t1 = np.full(size, -1, dtype=np.int16)
        t2 = np.full(size * size, -1, dtype=np.int16)
        trigrams = []
        for gid, gram in enumerate(grams):
            key = 0
            for ch in gram:
                key = key * size + position[ch]
            if len(gram) == 3:
                trigrams.append((key // size, key % size, gid))
            else:
                (self.t1, t2)[len(gram) - 1][key] = gid
        # the pairs that start a trigram; never one ending in a space (langdetect starts anew
        # after one): its row stays 0, "none"
        starting = sorted({pair for pair, _, _ in trigrams if pair % size != 0})
        self.ok = self.ok and len(starting) == len({pair for pair, _, _ in trigrams})
        row3 = np.zeros(size * size, dtype=np.int32)  # 1 + a pair's row of t3 (0: none)
        row3[starting] = np.arange(1, len(starting) + 1, dtype=np.int32)
        self.t3 = np.full((len(starting) + 1) * size, -1, dtype=np.int16)  # row 0: none, all -1
        for pair, third, gid in trigrams:
            self.t3[int(row3[pair]) * size + third] = gid
        # a pair's bigram id and its trigram row in one int32: one load a position
        self.pairs = (t2.astype(np.int32) << 16) | row3
        self.dense_array = np.array(dense, dtype=np.float64).reshape(len(grams), len(_SCRIPT_PROFILES))
        self.position_array = np.array(self.positions, dtype=np.int64)
        self._rng = random.Random(SEED)
        self.stream = []
        self.extend_stream(1 << 15)
        self.compensated = _builtin_sum_is_compensated()
        self.pattern_sources = _langdetect_pattern_sources()
        self.ok = self.ok and self.compensated is not None and self._self_test()

    @classmethod
    def cached(cls, path: str = TABLE_CACHE) -> _Tables:
        """The tables saved at ``path`` when they were built from the same inputs, else new ones."""
        state = prebuilt.load(path, _cache_key())
        if state is not None:
            try:
                return cls(state)
            except Exception:  # noqa: BLE001 — saved by another layout of this class: rebuilt
                pass
        return cls()

    @cached_property
    def patterns(self) -> tuple | None:
        """langdetect's URL and e-mail patterns and its Vietnamese letters with a mark, compiled
        when a text first needs them (from the saved tables: langdetect is not imported); None,
        and langdetect decides from then on, when its layout is not the expected one."""
        global FAST_PATH
        if self.pattern_sources is None:
            FAST_PATH = False
            return None
        return tuple(_re.compile(pattern, flags) for pattern, flags in self.pattern_sources)

    @property
    def stream(self) -> list[int]:
        """The random stream as Python ints (``stream_array``'s: made when first asked for)."""
        if self._stream is None:
            self._stream = self.stream_array.tolist()
        return self._stream

    @stream.setter
    def stream(self, words: list[int]) -> None:
        self._stream = words

    def extend_stream(self, size: int) -> list[int]:
        # getrandbits(32 * n) draws the same n words as n calls of getrandbits(32), lowest first
        n = max(size - len(self.stream), 4096)
        words = self._rng.getrandbits(32 * n).to_bytes(4 * n, "little")
        self.stream.extend(self.np.frombuffer(words, dtype=self.np.uint32).tolist())
        self.stream_array = self.np.array(self.stream, dtype=self.np.int64)
        return self.stream

    def _self_test(self) -> bool:
        """The emulated ``gauss``/``choice`` must reproduce ``random.Random(SEED)`` exactly."""
        import random

        real = random.Random(SEED)
        script = [0, *[1234] * 9, 0, 0, *[7] * 5, 0, 1, 70000]  # 0: gauss, n: choice(range(n))
        expected = [real.gauss(0.0, 1.0) if n == 0 else real.choice(range(n)) for n in script]
        stream, pos, spare, got = self.stream_array[:1024].tolist(), 0, None, []
        for n in script:
            if n == 0:
                z, spare, pos = _gauss(stream, pos, spare)
                got.append(z)
            else:
                r, pos = _choice(stream, pos, n)
                got.append(r)
        return got == expected


def _cache_key() -> tuple:
    """What the saved tables depend on: this file, langdetect's profiles and their order and
    the modules its patterns come from, and the Python (``random``, ``sum``)."""
    import sys

    package = _os.path.dirname(_profiles_directory())
    sources = [_os.path.join(package, *name.split("/")) for name in ("detector.py", "utils/ngram.py")]
    return prebuilt.source_digest(__file__, *sources), _profiles(), sys.version


def _langdetect_pattern_sources() -> tuple | None:
    """``(pattern, flags)`` of langdetect's URL and e-mail patterns and its Vietnamese letters
    with a mark; None when its layout is not the expected one."""
    try:
        from langdetect.detector import Detector
        from langdetect.utils.ngram import NGram

        patterns = Detector.URL_RE, Detector.MAIL_RE, NGram.ALPHABET_WITH_DMARK
        return tuple((pattern.pattern, pattern.flags) for pattern in patterns)
    except (ImportError, AttributeError):
        return None


def write_table_cache(path: str = TABLE_CACHE) -> None:
    """Save freshly built tables for ``_Tables.cached`` (``pip install`` does)."""
    tables = _Tables()
    prebuilt.save(path, _cache_key(), {name: getattr(tables, name) for name in _Tables.CACHED})


def _builtin_sum_is_compensated() -> bool | None:
    """Which summation this Python's builtin ``sum`` of floats does (``None``: neither known one)."""
    import random

    import numpy as np

    from corpus._kernels import builtin_sum

    rng = random.Random(SEED)
    vectors = [[1e16, 1.0, -1e16], [0.1] * 55]
    vectors += [[rng.random() * 10.0 ** (int(rng.random() * 36) - 30) for _ in range(55)] for _ in range(50)]
    for compensated in (False, True):
        if all(builtin_sum(np.array(v), compensated) == sum(v) for v in vectors):
            return compensated
    return None


def _gauss(stream: list[int], pos: int, spare: float | None) -> tuple[float, float | None, int]:
    """``random.gauss(0.0, 1.0)`` from stream position ``pos``: (value, next spare, new pos)."""
    if spare is not None:
        return 0.0 + spare * 1.0, None, pos
    x = ((stream[pos] >> 5) * 67108864.0 + (stream[pos + 1] >> 6)) * (1.0 / 9007199254740992.0)
    y = ((stream[pos + 2] >> 5) * 67108864.0 + (stream[pos + 3] >> 6)) * (1.0 / 9007199254740992.0)
    x2pi = x * (2.0 * _math.pi)
    g2rad = _math.sqrt(-2.0 * _math.log(1.0 - y))
    return 0.0 + _math.cos(x2pi) * g2rad * 1.0, _math.sin(x2pi) * g2rad, pos + 4


def _choice(stream: list[int], pos: int, n: int) -> tuple[int, int]:
    """``random.choice(range(n))`` from stream position ``pos``: (value, new pos)."""
    shift = 32 - n.bit_length()
    r = stream[pos] >> shift
    pos += 1
    while r >= n:
        r = stream[pos] >> shift
        pos += 1
    return r, pos


_tables: _Tables | None = None
_kernels = None  # corpus._kernels, imported with the tables (numba loads on first use only)
FAST_PATH = True  # tests switch it off to compare with the reference path


def _get_tables() -> _Tables | None:
    global _tables, _kernels, FAST_PATH
    if _tables is None:
        try:
            from corpus import _kernels

            _tables = _Tables.cached()
        except Exception:  # an unexpected langdetect layout: always use langdetect itself
            FAST_PATH = False
            return None
        if not _tables.ok:
            FAST_PATH = False
    return _tables


def _fast_detect(text: str) -> tuple[str, float] | None:
    """langdetect's ``(lang, round(prob, 4))`` when it can be certified, else ``None``."""
    if not FAST_PATH:
        return None
    tables = _tables or _get_tables()
    if tables is None or not FAST_PATH:
        return None
    t = text
    # (a URL langdetect removes holds "://": "/" is found ~8× faster than "http" in Bengali text;
    # mail.sub finds nothing once no "@" is left)
    has_url, has_mail = "/" in t and "http" in t, "@" in t
    if has_url or has_mail or len(t) > _MAX_TEXT:
        patterns = tables.patterns
        if patterns is None:
            return None
        url, mail, vietnamese = patterns
        if has_url:
            t = url.sub(" ", t)
        if has_mail:
            t = mail.sub(" ", t)
        if len(t) > _MAX_TEXT:
            if vietnamese.search(t):
                return None
            t = t[:_MAX_TEXT]
    # (shorter texts: what normalize_vi would merge contains a combining mark, class "other")
    if t is text:
        codes = char_flags(text)[0]  # usually already computed by ingest's checks
    else:
        codes = code_points(t)
    ok, ids = _kernels.script_ngrams(
        codes, tables.code_table, tables.t1, tables.pairs, tables.t3, tables.size
    )
    return _replay(tables, ids) if ok else None


def _replay(tables: _Tables, ids) -> tuple[str, float]:
    """langdetect's random walk, operation for operation, on the reduced state.

    The eight script languages are tracked one by one; the other 47 languages have the same
    probability all along (they start equal and every n-gram here has probability 0 for all
    of them), so one value stands for each of them. Multiplications, the normalising sum (in
    langdetect's language order, with the same builtin ``sum``), divisions, the convergence
    test and the final sort are langdetect's own, so the result is bit-identical.
    """
    while True:  # compiled (corpus._kernels.replay); a longer stream when it ran out
        acc, acc_other = _kernels.replay(
            ids, tables.dense_array, tables.stream_array, tables.position_array, tables.n_langs,
            _CONV, _ITERATION_LIMIT, tables.compensated, _N_TRIAL, _ALPHA, _ALPHA_WIDTH, float(_BASE_FREQ),
        )  # fmt: skip
        if acc_other >= 0.0:
            break
        tables.extend_stream(len(tables.stream_array) + (1 << 16))
    # langdetect keeps the languages above the threshold, sorted by probability (stable: the
    # first in its language order wins a tie); the 47 others all have ``acc_other``
    first_other = -1 if tables.first_other is None else tables.first_other
    at, prob = _kernels.best_language(acc, acc_other, tables.position_array, first_other, _PROB_THRESHOLD)
    if at < 0:
        raise LanguageError("language undetectable")
    lang = tables.langlist[at]
    if lang not in LANGUAGES:
        supported = ", ".join(LANGUAGES)
        raise LanguageError(f"language '{lang}' (p={prob:.2f}) is not supported ({supported})")
    return lang, round(float(prob), 4)
