"""Offsets under hard text: emoji and other astral characters, ZWJ/ZWNJ inside Bengali words,
combining marks, NFD input, CRLF, tabs and repeated spaces.

Property-style (``hypothesis`` is not installed in the venv, so: hand-picked cases plus a seeded
random generator). Checks that

1. ``prelabel_text`` spans follow the labelling standard (``/work/shared/LABELLING.md``): sorted,
   non-overlapping, ``0 <= start < end <= len(text)``, start/end on non-whitespace, every
   non-whitespace character covered exactly once;
2. offsets hold "both ways": code points ↔ UTF-16 code units (what Label Studio / JavaScript
   count) ↔ UTF-8 bytes, and in a built release ``text[start:end]`` is the recorded span text,
   read with pyarrow and with ``datasets.load_dataset``;
3. the stored text is NFC with no ``\\r``.
"""

from __future__ import annotations

import random
import unicodedata
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from corpus.document import Document, Span
from corpus.ingest import decode_text, normalise_text, sha256_hex
from corpus.labels import CATEGORY_NAMES
from corpus.pipeline import build
from corpus.prelabel import prelabel_text
from corpus.release import validate_documents
from corpus.validate import SchemaViolation

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"

# --------------------------------------------------------------------------------------------
# Offset conversions. Code points are what Python (and the release) index; UTF-16 code units
# are what JavaScript (Label Studio) indexes; UTF-8 bytes are what byte-level tools index.


def is_astral(ch: str) -> bool:
    return ord(ch) > 0xFFFF


def cp_to_utf16(text: str, cp: int) -> int:
    return len(text[:cp].encode("utf-16-le")) // 2


def utf16_to_cp(text: str, u16: int) -> int:
    """Inverse of ``cp_to_utf16``, by walking the text (independent of the encoder)."""
    units = 0
    for cp, ch in enumerate(text):
        if units == u16:
            return cp
        units += 2 if is_astral(ch) else 1
        if units > u16:
            raise ValueError(f"UTF-16 offset {u16} splits a surrogate pair")
    if units == u16:
        return len(text)
    raise ValueError(f"UTF-16 offset {u16} is past the end")


def cp_to_utf8(text: str, cp: int) -> int:
    return len(text[:cp].encode("utf-8"))


def utf8_to_cp(text: str, byte: int) -> int:
    return len(text.encode("utf-8")[:byte].decode("utf-8"))  # strict: raises inside a character


def assert_offsets_both_ways(text: str, start: int, end: int, expected: str) -> None:
    assert text[start:end] == expected
    as_utf16 = text.encode("utf-16-le")
    as_utf8 = text.encode("utf-8")
    u_start, u_end = cp_to_utf16(text, start), cp_to_utf16(text, end)
    b_start, b_end = cp_to_utf8(text, start), cp_to_utf8(text, end)
    # code points -> UTF-16 -> code points, and -> UTF-8 -> code points
    assert (utf16_to_cp(text, u_start), utf16_to_cp(text, u_end)) == (start, end)
    assert (utf8_to_cp(text, b_start), utf8_to_cp(text, b_end)) == (start, end)
    # slicing the encoded text at the converted offsets gives the same characters
    assert as_utf16[2 * u_start : 2 * u_end].decode("utf-16-le") == expected
    assert as_utf8[b_start:b_end].decode("utf-8") == expected
    # UTF-16 offsets differ from code points exactly by the astral characters before them
    astral_before = sum(map(is_astral, text[:start]))
    assert u_start - start == astral_before
    assert (u_start != start) == (astral_before > 0)
    assert u_end - u_start == (end - start) + sum(map(is_astral, expected))


def test_conversion_helpers_on_known_values():
    text = "a😀b👩\u200d💻c"
    assert [cp_to_utf16(text, i) for i in range(len(text) + 1)] == [0, 1, 3, 4, 6, 7, 9, 10]
    assert [cp_to_utf8(text, i) for i in range(len(text) + 1)] == [0, 1, 5, 6, 10, 13, 17, 18]
    assert [utf16_to_cp(text, u) for u in (0, 1, 3, 4, 6, 7, 9, 10)] == list(range(len(text) + 1))
    with pytest.raises(ValueError, match="surrogate pair"):
        utf16_to_cp(text, 2)
    with pytest.raises(UnicodeDecodeError):
        utf8_to_cp(text, 2)
    assert_offsets_both_ways(text, 2, 3, "b")
    assert_offsets_both_ways(text, 3, 6, "👩\u200d💻")
    with pytest.raises(AssertionError):  # the check itself can fail
        assert_offsets_both_ways(text, 2, 3, "😀")


# --------------------------------------------------------------------------------------------
# The labelling standard for spans.


def assert_standard(text: str, spans: list[Span]) -> None:
    previous_end = 0
    for span in spans:
        assert 0 <= span.start < span.end <= len(text), (span, len(text))
        assert span.start >= previous_end, f"span {span} overlaps or is out of order"
        piece = text[span.start : span.end]
        assert not piece[0].isspace() and not piece[-1].isspace(), f"span {piece!r} has edge whitespace"
        gap = text[previous_end : span.start]
        assert all(ch.isspace() for ch in gap), f"non-whitespace {gap!r} is in no span"
        previous_end = span.end
    tail = text[previous_end:]
    assert all(ch.isspace() for ch in tail), f"non-whitespace {tail!r} is in no span"
    covered = sum(not ch.isspace() for s in spans for ch in text[s.start : s.end])
    assert covered == sum(not ch.isspace() for ch in text)


BN_HEAD = "জাতীয়\nশিরোনাম: র\u200d্যাবের অভিযানে ক্\u200cষতিগ্রস্ত ব্যবসায়ীরা\n"
BN_BODY = (
    "ঢাকা, ১২ ডিসেম্বর — রাজধানীতে র\u200d্যাবের অভিযানে আজ বেশ কয়েকজন ব্যবসায়ী ক্ষতিগ্রস্ত হয়েছেন। "
    "পুলিশ জানিয়েছে যে তদন্ত চলছে এবং খুব শিগগিরই বিস্তারিত জানানো হবে।\n"
)
HI_BODY = (
    "मुंबई। शहर में आज भारी बारिश हुई और कई इलाकों में पानी भर गया। "
    "पुलिस ने बताया कि यातायात धीमा है और लोगों को घर पर रहने की सलाह दी गई है।\n"
)

CASES = [
    pytest.param(
        BN_HEAD + "😀 👩\u200d💻 🇧🇩\n" + BN_BODY + "বিজ্ঞাপন\nআরও পড়ুন: 😀 নতুন খবর 🎉\n", "bn", id="bn-emoji"
    ),
    pytest.param(
        "👩\u200d💻" + BN_BODY.replace("ক্ষতিগ্রস্ত", "ক্\u200cষতি\u200cগ্রস্ত 😀") + "ছবি: সংগৃহীত 📷\n",
        "bn",
        id="bn-emoji-glued",
    ),
    pytest.param(
        "র\u200d্যাব ক্\u200cষ ক্\u200dষ\n" + BN_BODY + "কীওয়ার্ড: র\u200d্যাব, অভিযান, ঢাকা\n", "bn", id="bn-zwj-zwnj"
    ),
    pytest.param(
        # decomposed nukta letters and split vowel signs (ো = ে + া, ৌ = ে + ৗ)
        "\u09a1\u09bc\u09be\u0995\u09c7\u09be \u09ac\u09c7\u09d7 \u09af\u09bc\n" + BN_BODY,
        "bn",
        id="bn-combining",
    ),
    pytest.param(unicodedata.normalize("NFD", BN_HEAD + BN_BODY), "bn", id="bn-nfd"),
    pytest.param((BN_HEAD + BN_BODY + "বিজ্ঞাপন\n").replace("\n", "\r\n"), "bn", id="bn-crlf"),
    pytest.param(
        "\t" + BN_HEAD.replace(" ", "   ") + "   \t\n\n\n" + BN_BODY.replace(" ", " \t ") + "\t বিজ্ঞাপন \t",
        "bn",
        id="bn-tabs-spaces",
    ),
    pytest.param(
        "ब्रेकिंग न्यूज़ 🔴\n" + HI_BODY + "\u0958\u0959 क़ख़\n" + "और पढ़ें: 🚀 नया लेख\n", "hi", id="hi-emoji-nukta"
    ),
    pytest.param(unicodedata.normalize("NFD", HI_BODY.replace("\n", "\r\n")), "hi", id="hi-nfd-crlf"),
    pytest.param("😀\n\n👩\u200d💻\n𝐀𝐁𝐂 𝐃𝐄𝐅\n\U0001f1e7\U0001f1e9\n" + BN_BODY, "bn", id="astral-lines"),
    pytest.param("\u200d\n\u200c \u200d\n" + BN_BODY + "\u00a0\u2003বিজ্ঞাপন\u00a0", "bn", id="lone-joiners"),
]


@pytest.mark.parametrize("text, lang", CASES)
def test_prelabel_spans_follow_the_standard(text, lang):
    spans = prelabel_text(text, lang)
    assert spans, "every case has non-whitespace text"
    assert_standard(text, spans)


@pytest.mark.parametrize("text, lang", CASES)
def test_prelabel_offsets_both_ways(text, lang):
    for span in prelabel_text(text, lang):
        assert_offsets_both_ways(text, span.start, span.end, text[span.start : span.end])


@pytest.mark.parametrize("text, lang", CASES)
def test_stored_text_is_nfc_lf_and_its_spans_follow_the_standard(text, lang):
    stored = decode_text(text.encode("utf-8"))
    assert "\r" not in stored
    assert unicodedata.is_normalized("NFC", stored)
    assert stored == unicodedata.normalize("NFC", text.replace("\r\n", "\n"))
    # NFC and NFD (and CRLF) spellings of one text are one stored text
    assert decode_text(unicodedata.normalize("NFD", text).encode("utf-8")) == stored
    assert decode_text(stored.replace("\n", "\r\n").encode("utf-8")) == stored
    spans = prelabel_text(stored, lang)
    assert_standard(stored, spans)
    for span in spans:
        assert_offsets_both_ways(stored, span.start, span.end, stored[span.start : span.end])


# --------------------------------------------------------------------------------------------
# Seeded random texts: the property over many mixtures of the hard pieces.

ATOMS = [
    "র\u200d্যাব", "ক্\u200cষ", "জ্ঞান", "কোম্পানি", "বাংলাদেশ", "খবর।", "বিজ্ঞাপন", "আরও পড়ুন:",
    "ছবি: সংগৃহীত", "১২:৩০", "\u09a1\u09bc", "\u09c7\u09be", "আরক্ষণ", "हिंदी", "समाचार।", "\u0915\u093c",
    "\u0958", "और पढ़ें", "😀", "👩\u200d💻", "🇧🇩", "𝐀", "\U00020000", "\u200d", "\u200c", "Advertisement",
    "Kolkata News:", "(Artificial Intelligence)", ".", "!", "।", " ", "  ", "\t", "\u00a0", "\n", "\n\n",
    "\r\n", "\r", "\u2028", "\x0c",
]  # fmt: skip


def random_texts(n: int, seed: int):
    rng = random.Random(seed)
    for _ in range(n):
        text = "".join(rng.choice(ATOMS) for _ in range(rng.randint(1, 50)))
        yield rng.choice([text, unicodedata.normalize("NFD", text)]), rng.choice(["bn", "hi"])


@pytest.mark.parametrize("seed", range(4))
def test_random_mixtures_follow_the_standard_both_ways(seed):
    checked = 0
    for text, lang in random_texts(150, seed):
        for candidate in (text, normalise_text(text)):
            spans = prelabel_text(candidate, lang)
            try:
                assert_standard(candidate, spans)
                for span in spans:
                    assert_offsets_both_ways(
                        candidate, span.start, span.end, candidate[span.start : span.end]
                    )
            except AssertionError as error:
                raise AssertionError(f"{lang} {candidate!r}: {error}") from None
            checked += 1
    assert checked == 300


# --------------------------------------------------------------------------------------------
# A real release: a Bengali article with an emoji + ZWJ line inserted before a boilerplate line.

ORIGINAL = next(SEEDS.glob("001_*.txt")).read_text(encoding="utf-8")
INSERT_AT = ORIGINAL.index("\nAdvertisement\n", 700) + 1  # start of an "Advertisement" line
INSERTED = "😀 👩\u200d💻 র\u200d্যাব ক্\u200cষ\n"
MODIFIED = ORIGINAL[:INSERT_AT] + INSERTED + ORIGINAL[INSERT_AT:]
SHIFT = len(INSERTED)
ASTRAL_IN_INSERT = sum(map(is_astral, INSERTED))


@pytest.fixture(scope="module")
def release(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("offsets")
    seeds = root / "seeds"
    seeds.mkdir()
    (root / "annotations").mkdir()
    (seeds / "orig.txt").write_text(ORIGINAL, encoding="utf-8", newline="\n")
    # the modified article arrives as NFD with CRLF line endings
    raw = unicodedata.normalize("NFD", MODIFIED).replace("\n", "\r\n").encode("utf-8")
    assert raw != MODIFIED.encode("utf-8")
    (seeds / "emoji.txt").write_bytes(raw)
    report = build(seeds, root / "annotations", root / "releases", "0.1.0")
    assert report.problems == []
    assert report.release is not None and report.release.status == "created"
    return report.release.path


def arrow_rows(release: Path, table: str) -> list[dict]:
    rows = []
    for path in sorted((release / table).glob("*.parquet")):
        rows += pq.read_table(path).to_pylist()
    return rows


@pytest.fixture(scope="module")
def stored(release) -> dict[str, str]:
    return {row["doc_id"]: row["text"] for row in arrow_rows(release, "documents")}


@pytest.fixture(scope="module")
def spans_by_doc(release) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for row in sorted(arrow_rows(release, "spans"), key=lambda r: (r["doc_id"], r["span_index"])):
        out.setdefault(row["doc_id"], []).append(row)
    return out


def test_release_stored_text_is_nfc_without_cr(stored):
    assert set(stored) == {"orig", "emoji"}
    assert stored["orig"] == ORIGINAL
    assert stored["emoji"] == normalise_text(MODIFIED) == MODIFIED
    for text in stored.values():
        assert "\r" not in text
        assert unicodedata.is_normalized("NFC", text)
    assert "র\u200d্যাব" in stored["emoji"] and "ক্\u200cষ" in stored["emoji"]


def test_release_span_text_is_text_slice_both_ways(stored, spans_by_doc):
    for doc_id, rows in spans_by_doc.items():
        text = stored[doc_id]
        spans = [Span(r["start"], r["end"], CATEGORY_NAMES[r["category"]]) for r in rows]
        assert_standard(text, spans)
        for row in rows:
            assert_offsets_both_ways(text, row["start"], row["end"], row["text"])


def test_release_spans_are_the_prelabel_spans(stored, spans_by_doc):
    for doc_id, rows in spans_by_doc.items():
        expected = [(s.start, s.end, s.category) for s in prelabel_text(stored[doc_id], "bn")]
        assert [(r["start"], r["end"], CATEGORY_NAMES[r["category"]]) for r in rows] == expected


def test_release_documents_nested_spans_match_spans_table(release, spans_by_doc):
    for doc in arrow_rows(release, "documents"):
        nested = [(s["start"], s["end"], s["category"]) for s in doc["spans"]]
        flat = [(r["start"], r["end"], r["category"]) for r in spans_by_doc[doc["doc_id"]]]
        assert nested == flat


def test_spans_after_the_emoji_land_on_the_same_characters(stored, spans_by_doc):
    orig, emoji = spans_by_doc["orig"], spans_by_doc["emoji"]
    text = stored["emoji"]
    before_o = [(r["start"], r["end"], r["text"], r["category"]) for r in orig if r["end"] <= INSERT_AT]
    before_e = [(r["start"], r["end"], r["text"], r["category"]) for r in emoji if r["end"] <= INSERT_AT]
    assert before_e == before_o and before_o
    (new,) = [r for r in emoji if INSERT_AT <= r["start"] < INSERT_AT + SHIFT]
    assert (new["start"], new["end"], new["text"]) == (INSERT_AT, INSERT_AT + SHIFT - 1, INSERTED[:-1])
    after_o = [r for r in orig if r["start"] >= INSERT_AT]
    after_e = [r for r in emoji if r["start"] >= INSERT_AT + SHIFT]
    assert len(after_e) == len(after_o) >= 3
    assert CATEGORY_NAMES[after_e[0]["category"]] == "advertisement"
    for o, e in zip(after_o, after_e):
        assert (e["start"] - o["start"], e["end"] - o["end"]) == (SHIFT, SHIFT)
        assert (e["text"], e["category"]) == (o["text"], o["category"])
        # in UTF-16 (Label Studio / JavaScript) the same spans move further: each emoji is 2 units
        shift16 = cp_to_utf16(text, e["start"]) - cp_to_utf16(ORIGINAL, o["start"])
        assert shift16 == SHIFT + ASTRAL_IN_INSERT
        assert cp_to_utf16(text, e["start"]) != e["start"]
        shift8 = cp_to_utf8(text, e["start"]) - cp_to_utf8(ORIGINAL, o["start"])
        assert shift8 == len(INSERTED.encode("utf-8"))
    # spans before the emoji: UTF-16 offsets equal code points (only BMP characters precede)
    for r in emoji:
        if r["end"] <= INSERT_AT:
            assert cp_to_utf16(text, r["start"]) == r["start"]


def test_release_loads_with_datasets_and_offsets_hold(release, stored, spans_by_doc, tmp_path_factory):
    datasets = pytest.importorskip("datasets")
    cache = str(tmp_path_factory.mktemp("hf-cache"))
    loaded = datasets.load_dataset(str(release), "spans", cache_dir=cache)
    documents = datasets.load_dataset(str(release), "documents", cache_dir=cache)
    texts = {row["doc_id"]: row["text"] for split in documents.values() for row in split}
    assert texts == stored
    rows = sorted(
        (row for split in loaded.values() for row in split), key=lambda r: (r["doc_id"], r["span_index"])
    )
    categories = next(iter(loaded.values())).features["category"]
    assert [(r["doc_id"], r["start"], r["end"], r["text"]) for r in rows] == [
        (d, r["start"], r["end"], r["text"]) for d, rs in sorted(spans_by_doc.items()) for r in rs
    ]
    for row in rows:
        assert_offsets_both_ways(texts[row["doc_id"]], row["start"], row["end"], row["text"])
    emoji_rows = [r for r in rows if r["doc_id"] == "emoji"]
    after = next(r for r in emoji_rows if r["start"] >= INSERT_AT + SHIFT)
    assert (after["text"], categories.int2str(after["category"])) == ("Advertisement", "advertisement")


# --------------------------------------------------------------------------------------------
# The release validator enforces the same standard.


def _doc(text: str, spans: list[Span]) -> Document:
    digest = sha256_hex(text)
    return Document("d1", text, "d1.txt", digest, digest, "bn", 0.99, spans=tuple(spans), model_version="m")


def test_validator_accepts_spans_with_emoji_and_joiners():
    text = "😀 শিরোনাম\nর\u200d্যাব ক্\u200cষ 👩\u200d💻\n\nবিজ্ঞাপন"
    spans = prelabel_text(text, "bn")
    assert_standard(text, spans)
    validate_documents([_doc(text, spans)])


@pytest.mark.parametrize(
    "text, spans",
    [
        pytest.param("ক খ \nগ", [Span(0, 4, "body"), Span(5, 6, "body")], id="ends-on-space"),
        pytest.param("ক\n খ", [Span(0, 1, "body"), Span(2, 4, "body")], id="starts-on-space"),
        pytest.param("ক খ\nগ", [Span(0, 3, "body")], id="uncovered"),
        pytest.param("ক খ\nগ", [Span(0, 6, "body")], id="past-the-end"),
        pytest.param("😀 ক\nগ", [Span(0, 3, "body"), Span(2, 5, "body")], id="overlap"),
    ],
)
def test_validator_rejects_broken_spans(text, spans):
    with pytest.raises(SchemaViolation):
        validate_documents([_doc(text, spans)])


@pytest.mark.parametrize(
    "text, spans",
    [
        pytest.param("ক\nখ \nগ", [Span(0, 4, "body"), Span(5, 6, "body")], id="multiline-ends-on-space"),
        pytest.param("ক\nখ\n\nগ", [Span(0, 4, "body"), Span(5, 6, "body")], id="multiline-ends-on-newline"),
    ],
)
def test_validator_rejects_multiline_span_ending_on_whitespace(text, spans):
    with pytest.raises(SchemaViolation):
        validate_documents([_doc(text, spans)])
