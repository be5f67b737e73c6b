"""The benchmark corpus and scripts, and the fast paths they measure: same results as the reference."""

from __future__ import annotations

import json
import re
import statistics
import sys
import unicodedata
from collections import Counter
from pathlib import Path

import pytest

from corpus import _kernels, langid, lexicon, prelabel, segment
from corpus.ingest import read_documents, read_records

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

import make_corpus  # noqa: E402


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory) -> list[str]:
    """150 synthetic articles, normalised as ingest stores them, plus the seeds."""
    folder = tmp_path_factory.mktemp("synthetic")
    make_corpus.write_shards(150, folder, seed=11, shard_size=100)
    texts = [r["text"] for r in read_records(folder)]
    return texts + [d.text for d in read_documents(ROOT / "seeds")]


def test_synthetic_corpus_is_deterministic_marked_and_seed_sized(tmp_path: Path):
    first = [make_corpus.make_article(i, seed=5) for i in range(60)]
    assert first == list(make_corpus.iter_articles(60, seed=5))
    assert first[40:] == list(make_corpus.iter_articles(20, seed=5, start=40))  # any slice, any order
    assert first != [make_corpus.make_article(i, seed=6) for i in range(60)]
    assert all(r["source"] == "synthetic" and r["id"].startswith("synthetic-5-") for r in first)
    assert all(r["url"].startswith("https://synthetic.invalid/") for r in first)
    paths = make_corpus.write_shards(60, tmp_path, seed=5, shard_size=25)
    assert [p.name for p in paths] == [
        "synthetic-00000.jsonl",
        "synthetic-00001.jsonl",
        "synthetic-00002.jsonl",
    ]
    assert [json.loads(line) for p in paths for line in p.read_text(encoding="utf-8").splitlines()] == first
    pools = make_corpus.load_pools()
    sizes = [len(r["text"].encode("utf-8")) for r in make_corpus.iter_articles(300, seed=5)]
    assert 0.6 < statistics.median(sizes) / statistics.median(pools.sizes) < 1.6
    langs = [r["url"].split("/")[3] for r in make_corpus.iter_articles(300, seed=5)]
    assert 0.1 < langs.count("hi") / len(langs) < 0.35  # the seeds' share of Hindi is 1 in 5
    assert "<p>" in make_corpus.to_html(first[0]["text"])


@pytest.mark.slow
def test_fast_paths_equal_the_reference_paths(synthetic: list[str]):
    """Language id, segmentation and pre-labels: fast path == reference path, document by document."""
    langs = [langid.detect_language(t) for t in synthetic]
    assert langs == [langid.detect_language_reference(t) for t in synthetic]
    assert sum(langid._fast_detect(t) is not None for t in synthetic) >= 0.95 * len(synthetic)
    fast = [prelabel.prelabel_text(t, lang) for t, (lang, _) in zip(synthetic, langs)]
    pieces = [segment.segment(t) for t in synthetic]
    segment.FAST = prelabel.FAST = False
    try:
        assert [segment.segment(t) for t in synthetic] == pieces
        assert [prelabel.prelabel_text(t, lang) for t, (lang, _) in zip(synthetic, langs)] == fast
    finally:
        segment.FAST = prelabel.FAST = True


def test_normalisation_and_control_checks_equal_unicodedata(synthetic: list[str]):
    odd = [
        "e\u0301",
        "क़",
        "ড়",
        "\u09c7\u09be",
        "न\u093c",
        "\u2000x",
        "x\u0952\u093c",
        "\ufeffa\r\nb",
        "a\x00b\x1f\x85",
    ]
    for text in synthetic + odd:
        assert segment.nfc_unchanged(text) <= (unicodedata.normalize("NFC", text) == text)
        assert segment.control_count(text) == sum(
            1 for ch in text if unicodedata.category(ch) == "Cc" and ch not in "\n\r\t\f\v"
        )
    assert all(segment.nfc_unchanged(t) for t in synthetic)  # the fast check accepts real text
    # every pair of characters from the Bengali and Devanagari blocks and Latin-1
    chars = [chr(c) for c in [*range(0x20, 0x100), *range(0x900, 0xA00)]]
    for a in chars[::3]:
        for b in chars:
            if segment.nfc_unchanged(a + b):
                assert unicodedata.normalize("NFC", a + b) == a + b, (a, b)


@pytest.mark.slow
def test_facts_the_fast_paths_rely_on():
    """Checked against the installed langdetect profiles and this Python's Unicode database."""
    factory = langid._detector_factory()
    langs, grams = factory.langlist, factory.word_lang_prob_map
    script = {
        langs[i]
        for g, v in grams.items()
        if any("\u0900" <= ch <= "\u09ff" for ch in g)
        for i, p in enumerate(v)
        if p > 0
    }
    assert script == set(langid._SCRIPT_PROFILES)
    profile_chars = {ch for g in grams for ch in g}
    inert = [chr(c) for lo, hi in langid._INERT_RANGES for c in range(lo, hi + 1)]
    assert not profile_chars & set(inert) and not any(ch.isupper() for ch in inert)
    assert langid._get_tables() is not None and langid.FAST_PATH
    seconds = set()
    for cp in range(0x110000):
        decomposition = unicodedata.decomposition(chr(cp))
        if decomposition and not decomposition.startswith("<") and len(decomposition.split()) == 2:
            first, second = (chr(int(x, 16)) for x in decomposition.split())
            if unicodedata.normalize("NFC", first + second) == chr(cp):
                if any(lo <= ord(second) <= hi for lo, hi in segment._NFC_BLOCKS):
                    seconds.add(second)
    assert seconds == set(segment._NFC_SECOND)


@pytest.mark.slow
def test_bench_smoke_run_writes_the_table(tmp_path: Path):
    import run

    output = tmp_path / "results.md"
    assert run.main(["--quick", "--work-dir", str(tmp_path / "work"), "--output", str(output)]) == 0
    report = output.read_text(encoding="utf-8")
    for row in (
        "`corpus prelabel` (whole process",
        "jusText",
        "trafilatura",
        "C4/FineWeb",
        "langdetect",
        "pyarrow",
    ):
        assert row in report
    assert "byte-identical to 1 worker: prelabel True, build Parquet True" in report
    paired = r"Back to back \(5 rounds.*`corpus prelabel` \*\*[0-9.]+×\*\* \(rounds [0-9.]+, "
    assert re.search(paired, report)
    assert "identical to langdetect on the 20 checked: True" in report
    assert "| 200 |" in report and "| 400 |" in report and "`load_dataset`" in report


def test_fast_features_follow_any_stop_word_list(synthetic: list[str], monkeypatch):
    """Stop words that cannot be packed (Latin, long) take the string path: still exact."""
    words = {"bn": frozenset({"এবং", "ও", "OpenAI", "মাইক্রোসফটের", "the"}), "hi": frozenset({"और", "AI"})}
    monkeypatch.setattr(prelabel, "STOP_WORDS", words)
    monkeypatch.setattr(prelabel, "_fast_tables", {})
    texts = synthetic[:25] + synthetic[-5:]
    langs = [langid.detect_language(t)[0] for t in texts]
    fast = [prelabel.prelabel_text(t, lang) for t, lang in zip(texts, langs)]
    monkeypatch.setattr(prelabel, "FAST", False)
    monkeypatch.setattr(segment, "FAST", False)
    assert [prelabel.prelabel_text(t, lang) for t, lang in zip(texts, langs)] == fast


EDGE_TEXTS = [
    "",
    "\n\n\n",
    "   \t  ",
    "x",
    "।",
    "ঢাকা",
    "ঢাকা।\n\n\nকলকাতা।\n",
    # emoji, ZWJ sequences, variation selectors, astral letters and digits
    "খবর 😀 আজ।👨‍👩‍👧 পরিবার ❤️ সবাই।\u200dঢাকা\u200c কলকাতা 𝕏 𝐀𝐁𝐂 𝟙𝟚 আর ও এবং তারা।",
    "ঢাকা😀।ওঁ কলকাতা😀Kolkata News: খবর 🇮🇳 भारत।नई दिल्ली",
    # CRLF and lone CR (normalised by ingest before anything sees them), trailing spaces
    "প্রথম লাইন।\r\nদ্বিতীয় লাইন  \r\n\r\nতৃতীয়\rচতুর্থ। \r\n",
    # cue phrases, bylines, tags, glued pieces, code, dates, long runs and stop words at the edges
    "নিজস্ব প্রতিবেদক: ঢাকা। আরও পড়ুন: খবর\nহোম | জাতীয় | খেলা\n১৩ অক্টোবর ২০২৫, ২৩:২৫\n"
    "সে এবং ও তারা (Artificial Intelligence)\nAdvertisement\n{var x = 1;}\n"
    + "ক" * 5000
    + "\n"
    + "এবং, ও; তারা। " * 400
    + "\nএ.বি.সি. ঢাকা.কলকাতা a.b LiveRation Scam: খবর",
    "\u2028ঢাকা\u2029কলকাতা\x0bখুলনা\x1cরাজশাহী\u0085সিলেট\xa0বরিশাল",
    "(আরও) “এবং” ‘ও’ ।এবং। ,তারা, এ-ই এই।” শেষ!’ প্রশ্ন?)] না.” হ্যাঁ!!",
    # menus, separators and tag lists: stripped, lower-cased, unusual case mappings (Kelvin sign, İ)
    "HOME | NEWS | SPORTS | ক্রিকেট\n» প্রচ্ছদ › জাতীয় • খেলা ·\nhome/news/india\n/ / /\n|a\n"
    "ক্রিকেট, বিশ্বকাপ, ভারত\nİNDIA WORLD Home News\nSPORTS \u212aRICKET health\n, , ,\nক, খ, গ: ঘ\n"
    "ঢাকা, ১২ ডিসেম্বর ২০২৫\nখেলা জাতীয় বিনোদন ই-পেপার লাইভ টিভি আরও অনেক কিছু দেখুন এখানে",
    # more terminator cuts in a line, and more cut pieces in a text, than the scan's first buffers hold
    "ক।" * 300 + "\n" + "।" * 50 + "ক!a?B.খ" * 40 + "\n" + "\n".join(["খবর।খবর। খবর"] * 30),
    # dots that end a sentence (whitespace or the end after them) and dots that do not
    '.x .. . x\n- .খবর .\n(.)x ।.খ\n"।"." x.\n... -.-. ক. খ.গ .\n',
    # bylines and agency tags after leading whitespace, and where they do not start a line
    "\u00a0 নিজস্ব প্রতিবেদক, ঢাকা: খবর হলো এই। আরও\n  ঢাকা, ১০ নভেম্বর (বাসস) : খবর।\n"
    "খবর নিজস্ব প্রতিবেদক: না\n\tनई दिल्ली (एजेंसी)। खबर\nStaff Reporter | Dhaka: news",
]


def _normalised(text: str) -> str:
    from corpus.ingest import normalise_text

    return normalise_text(text)


@pytest.mark.parametrize("raw", EDGE_TEXTS)
def test_fast_paths_equal_the_reference_paths_on_edge_cases(raw: str):
    """Emoji/ZWJ/astral characters, CRLF, empty lines, long pieces: fast == reference, exactly."""
    text = _normalised(raw)
    pieces = segment.segment(text)
    fast = {lang: prelabel.prelabel_text(text, lang) for lang in ("bn", "hi", "en")}
    assert segment._vocabulary(text) == Counter(segment._WORD5.findall(text))
    segment.FAST = prelabel.FAST = False
    try:
        assert segment.segment(text) == pieces
        assert {lang: prelabel.prelabel_text(text, lang) for lang in fast} == fast
    finally:
        segment.FAST = prelabel.FAST = True
    if text.strip():
        try:
            expected = langid.detect_language_reference(text)
        except langid.LanguageError as err:
            with pytest.raises(langid.LanguageError, match=re.escape(str(err))):
                langid.detect_language(text)
        else:
            assert langid.detect_language(text) == expected


def test_line_gates_let_through_every_line_a_rule_cuts():
    """``lines_scan``'s gates (the trailing-tag rule decided exactly, bylines only in lines
    with one of ``:|।``) on random lines made of the rules' parts: the fast segmenter cuts
    every one as the reference does, and the trailing-tag gate fires exactly where the rule
    matches."""
    import random

    import numpy as np

    rng = random.Random(1)
    parts = ["।", "॥", ".", "!", "?", " ", "  ", "\t", "\u00a0", "(", ")", "(AI)", "a", "Ab", "x y", "&", "-",
             "Z" * 30, "ক", "খবর", ":", "|", ", ঢাকা"]  # fmt: skip
    lines = ["".join(rng.choice(parts) for _ in range(rng.randint(1, 14))) for _ in range(3000)]
    bylines = ["নিজস্ব প্রতিবেদক", "Staff Reporter", "संवाददाता"]
    ends = ["", ":", " |", ", ঢাকা:", "।", ", ঢাকা", " খবর"]
    for _ in range(400):
        lines.append(rng.choice(bylines) + rng.choice(ends) + rng.choice(parts) * rng.randint(0, 2))
    for _ in range(500):
        tag = rng.choice("AAaa 1ক(") + "".join(rng.choices("Ab &-" * 20 + "1", k=rng.randint(0, 64)))
        after = rng.choice(["।", ".", "!", "", "ক", ") "]) + rng.choice([" ", "  ", "", "\t"])
        lines.append(rng.choice(parts) + after + f"({tag})" + rng.choice(["", " "]))
    tag_cases = ["খবর। (Artificial Intelligence)", "খবর।(AI)", f"খবর। ({'A' * 61})", f"খবর। ({'A' * 62})"]
    lines += tag_cases
    kicker = ["a", "Ab", "LiveRation", "Scam", " ", "  ", ":", ": ", ":\t", "1", "x", "Z", "ক", "।", "\u00a0"]
    for _ in range(1500):  # camel kickers: "xYz" then up to four more words, a colon, whitespace
        lines.append("".join(rng.choice(kicker) for _ in range(rng.randint(1, 16))))
    lines += ["LiveRation Scam: খবর", "aBc d e f g: x", "aBc d e f g h: x", "aBc:", "aBc :\u00a0", "কAb"]
    text = "\n".join(lines)
    assert segment.segment(text) == segment.segment_reference(text)
    candidate = segment._lines_scan(text)[1]
    tagged = [bool(segment._TRAILING_LATIN_TAG.search(line)) for line in lines]
    assert ((candidate & segment.CUT_TRAILING_TAG) > 0).tolist() == tagged
    assert 30 < sum(tagged) < len(lines) - 30
    cut_tags = [bool(candidate[lines.index(line)] & segment.CUT_TRAILING_TAG) for line in tag_cases]
    assert cut_tags == [True, False, True, False]
    exact = [(segment.CUT_CAMEL, segment._CAMEL_KICKER)]
    exact.append((segment.CUT_LATIN_CAP, segment._INDIC_THEN_LATIN_CAP))
    for bit, rule in exact:  # decided in the kernel: no Python regex runs on those lines
        cut = [bool(rule.search(line)) for line in lines]
        assert ((candidate & bit) > 0).tolist() == cut, bit
        assert 100 < sum(cut) < len(lines) - 100
    kickers = [bool(segment._CAMEL_KICKER.search(line)) for line in lines[-6:]]
    assert kickers == [True, True, False, False, True, False]
    matched = [bool(lexicon.BYLINE_PREFIX.match(line)) for line in lines]
    assert np.all(candidate[np.array(matched)] & segment.CUT_BYLINE) and 60 < sum(matched) < 340


def test_compound_words_cut_as_the_reference_cuts_them():
    """Random lines of words, glued pairs and triples (once, twice, with a sentence end before
    them, halves that are compounds themselves, virama and vowel-sign edges): the compiled
    ``compound_splits`` and the cut-down vocabulary give the reference segmenter's pieces."""
    import random

    rng = random.Random(2)
    words = ["বিভ্রাট", "মেটার", "কলকাতা", "প্রতিবেদক", "ঢাকার", "সরকারের", "নির্বাচন", "क्रिकेट", "दिल्ली"]
    words += ["কর্মসূচি", "ক্", "িকাতা", "নির্বা", "আলোচনা", "সিদ্ধান্ত", "জানিয়েছেন", "প্রধানমন্ত্রী"]
    glued = [a + b for a in words for b in words]
    glued += [a + b + c for a, b, c in zip(words, words[1:], words[2:])]
    parts = [*words, *words, *glued, " ", " ", "। ", ". ", ", ", "Ab", "১২"]
    lines = [" ".join(rng.choices(parts, k=rng.randint(1, 12))) for _ in range(2400)]
    texts = ["\n".join(lines[i : i + 8]) for i in range(0, len(lines), 8)]
    # the first split would follow a virama: the one after code point 12 is the cut
    texts.append("विद्यार्थ् कार्यक्रम विद्यार्थ्का र्यक्रम विद्यार्थ्कार्यक्रम")
    cut = 0
    for text in texts:
        pieces = segment.segment(text)
        assert pieces == segment.segment_reference(text)
        cut += sum(p.glued for p in pieces)
    assert cut > 300


def test_compiled_random_walk_equals_langdetect_with_a_short_stream(synthetic: list[str]):
    """The walk restarts when the random stream runs out, and sums like this Python's ``sum``."""
    import numpy as np

    from corpus import _kernels

    tables = langid._get_tables()
    assert tables is not None and tables.compensated is not None
    rng = np.random.default_rng(0)
    for values in ([1e16, 1.0, -1e16], list(rng.random(55) * 10.0 ** rng.integers(-20, 5, 55))):
        assert _kernels.builtin_sum(np.array(values), tables.compensated) == sum(values)
    texts = synthetic[:15]
    expected = [langid.detect_language(t) for t in texts]
    saved = tables.stream, tables.stream_array
    try:
        tables.stream = saved[0][:300]  # far shorter than one walk: extended on demand
        tables.stream_array = saved[1][:300]
        assert [langid.detect_language(t) for t in texts] == expected
    finally:
        tables.stream, tables.stream_array = saved
    assert expected == [langid.detect_language_reference(t) for t in texts]


def test_saved_language_tables_are_the_built_ones_and_stale_ones_are_rebuilt(tmp_path: Path):
    """``pip install`` saves the language-id tables; a start loads them only when they were
    built from this very code, profiles and Python, else builds them as before."""
    import pickle

    import numpy as np

    installed = pickle.loads(Path(langid.TABLE_CACHE).read_bytes())
    assert installed["key"] == langid._cache_key()  # (written by pip install, current)
    path = tmp_path / "tables.pickle"
    langid.write_table_cache(str(path))
    built, loaded = langid._Tables(), langid._Tables.cached(str(path))
    for name in (*langid._Tables.CACHED, "code_table", "stream", "compensated"):
        a, b = getattr(built, name), getattr(loaded, name)
        if isinstance(a, np.ndarray):
            assert a.dtype == b.dtype and np.array_equal(a, b), name
        elif name == "_rng":
            assert a.getstate() == b.getstate()
        else:
            assert a == b, name
    assert loaded.ok
    saved = pickle.loads(path.read_bytes())
    saved["state"]["t1"] = saved["state"]["t1"] * 0 - 1  # (what a stale cache could hold)
    path.write_bytes(pickle.dumps({**saved, "key": ("another langid.py", *saved["key"][1:])}))
    assert np.array_equal(langid._Tables.cached(str(path)).t1, built.t1)
    path.write_bytes(pickle.dumps(saved))
    assert not np.array_equal(langid._Tables.cached(str(path)).t1, built.t1)  # (the key decides)
    path.write_bytes(b"not a pickle")
    assert np.array_equal(langid._Tables.cached(str(path)).t1, built.t1)


def test_texts_with_urls_and_mail_are_identified_without_importing_langdetect(tmp_path: Path):
    """The saved tables hold langdetect's URL and e-mail patterns: a start that meets them in a
    text does not import langdetect (~4 ms), and the answers are langdetect's own."""
    import subprocess

    texts = [
        "খবর পড়ুন https://example.com/a?b=1 এখানে। আরও জানতে লিখুন desk@example.com ঠিকানায়।",
        "समाचार http://news.example.in/x पर पढ़ें। संपर्क: editor@news.example.in पर लिखें।",
    ]
    code = (
        "import json, sys; from corpus import langid; "
        f"got = [langid._fast_detect(t) for t in {texts!r}]; "
        "print(json.dumps([got, 'langdetect' in sys.modules]))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    got, imported = json.loads(done.stdout)
    assert not imported
    assert [tuple(g) for g in got] == [langid.detect_language_reference(t) for t in texts]
    assert langid._get_tables().pattern_sources == langid._langdetect_pattern_sources()


def test_the_replayed_walk_ranks_languages_as_langdetect_sorts_them(monkeypatch):
    """The best language of the walk's probabilities: langdetect's stable sort of those above
    0.1 (the first in its language order wins a tie), on made-up results of the walk."""
    import numpy as np

    tables = langid._get_tables()
    assert tables is not None and tables.first_other is not None
    n = len(tables.positions)
    cases = [([0.97, *[0.0] * (n - 1)], 0.0), ([0.3, 0.3, *[0.0] * (n - 2)], 0.0), ([0.05] * n, 0.05)]
    cases += [([0.2, *[0.0] * (n - 1)], 0.2), ([0.0] * n, 0.4), ([0.1] * n, 0.1)]
    cases += [([0.0, 0.5, *[0.25] * (n - 2)], 0.0)]
    for acc, other in cases:
        monkeypatch.setattr(langid._kernels, "replay", lambda *args, a=acc, o=other: (np.array(a), o))
        probs = [other] * tables.n_langs
        for at, value in zip(tables.positions, acc):
            probs[at] = value
        above = [(lang, p) for lang, p in zip(tables.langlist, probs) if p > 0.1]
        ranked = sorted(above, key=lambda pair: pair[1], reverse=True)
        if ranked and ranked[0][0] in langid.LANGUAGES:
            assert langid._replay(tables, None) == (ranked[0][0], round(ranked[0][1], 4))
        else:
            with pytest.raises(langid.LanguageError, match="undetectable" if not ranked else ranked[0][0]):
                langid._replay(tables, None)


def test_saved_character_flags_are_the_built_ones_and_stale_ones_are_rebuilt(tmp_path: Path):
    """``pip install`` saves the flags of the common Unicode blocks; a start loads them only
    when they were built from this very code and Unicode database, else builds them on use."""
    import pickle

    import numpy as np

    from corpus import prebuilt

    installed = pickle.loads(Path(segment.FLAG_BLOCKS).read_bytes())
    assert installed["key"] == segment._flag_blocks_key()  # (written by pip install, current)
    assert sorted(installed["state"]) == sorted(segment.PREBUILT_BLOCKS)
    path = tmp_path / "flags.pickle"
    segment.write_flag_blocks(str(path))
    fresh = segment._CharTable(path=None)
    assert (fresh.flags == segment._UNBUILT).all()  # (nothing built before a text needs it)
    loaded = segment._CharTable(str(path))
    for block in segment.PREBUILT_BLOCKS:
        rows = slice(block << 8, (block + 1) << 8)
        assert np.array_equal(loaded.flags[rows], np.array(fresh.block(block), dtype=np.uint32))
    assert (loaded.flags != segment._UNBUILT).sum() == 256 * len(segment.PREBUILT_BLOCKS)
    text = "ঢাকা “খবর” — नई दिल्ली: café ☀ 😀"
    assert loaded.lookup(text)[1].tolist() == fresh.lookup(text)[1].tolist()
    wrong = {block: np.zeros(256, dtype=np.uint32) for block in segment.PREBUILT_BLOCKS}  # (stale)
    prebuilt.save(path, ("another segment.py", *segment._flag_blocks_key()[1:]), wrong)
    assert (segment._CharTable(str(path)).flags == segment._UNBUILT).all()
    prebuilt.save(path, segment._flag_blocks_key(), wrong)
    assert segment._CharTable(str(path)).flags[0x41] == 0  # (the key decides)
    path.write_bytes(b"not a pickle")
    assert (segment._CharTable(str(path)).flags == segment._UNBUILT).all()


def test_compiled_ngrams_are_the_ones_langdetect_extracts(synthetic: list[str]):
    """``script_ngrams`` lists exactly langdetect's n-grams, in its order (``Detector``'s own
    extraction), on the texts it certifies; every 1-, 2- and 3-gram of the tables is reached."""
    import numpy as np

    tables = langid._Tables()  # (built from the profiles: the saved tables leave out the n-grams' texts)
    assert tables.ok
    arguments = (tables.code_table, tables.t1, tables.pairs, tables.t3, tables.size)
    seen: set[int] = set()
    texts = synthetic[:40] + [" ".join(tables.grams[i : i + 1000]) for i in range(0, len(tables.grams), 1000)]
    for text in (t[: langid._MAX_TEXT] for t in texts):  # (as append cuts them)
        codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
        ok, ids = _kernels.script_ngrams(codes, *arguments)
        assert ok
        detector = langid._detector_factory().create()
        detector.append(text)
        detector.cleaning_text()  # (as _detect_block does first)
        assert [tables.grams[i] for i in ids.tolist()] == detector._extract_ngrams()
        seen.update(ids.tolist())
    assert len(seen) == len(tables.grams)


def _pieces_of(texts: list[str]) -> list[str]:
    return [t[p.start : p.end] for t in texts for p in segment.segment(t)]


def test_menu_scan_equals_the_menu_regex_and_finds_every_menu(synthetic: list[str]):
    """``_MENU`` exactly; ``_menu_words`` only where the compiled scan lets a piece through."""
    import numpy as np

    from corpus import _kernels

    pieces = _pieces_of(synthetic[:60] + [_normalised(t) for t in EDGE_TEXTS])
    text = "\n".join(pieces)
    starts = np.cumsum([0] + [len(p) + 1 for p in pieces[:-1]])
    ends = starts + np.array([len(p) for p in pieces])
    prelabel.prelabel_text(text, "bn")  # builds the section-word table
    codes, flags = segment.char_flags(text)
    counts = _kernels.piece_counts(codes, flags, starts, ends, *prelabel._stop_table("bn"))
    section_words = prelabel._tables.section_words
    separator, menu, undecided = _kernels.menu_scan(codes, flags, starts, ends, counts, *section_words)
    prose = [prelabel.piece_features(p, "bn", False).prose for p in pieces]
    assert separator.tolist() == [bool(prelabel._MENU.search(p)) and not x for p, x in zip(pieces, prose)]
    menus = [prelabel._menu_words(p) and not x for p, x in zip(pieces, prose)]
    decided = [not u for u in undecided.tolist()]
    assert [bool(m) for m, d in zip(menu.tolist(), decided) if d] == [m for m, d in zip(menus, decided) if d]
    assert sum(menus) >= 8 and sum(separator.tolist()) >= 8 and sum(undecided) < sum(menus) / 4
    # a word whose hash is a section word's but whose letters are not: not one (checked by letters)
    impostors = ["হোমx", "জাতীয়x", "খেলাx", "দেশx"]
    text = " ".join(impostors)
    codes, flags = segment.char_flags(text)
    ends = np.cumsum([len(w) + 1 for w in impostors]) - 1
    keys = [_kernels.word_key(codes, e - len(w), e)[0] for w, e in zip(impostors, ends.tolist())]
    keys = np.array(keys, dtype=np.uint64)
    order = np.argsort(keys)
    forged = (_kernels.hash_set(keys[order]), keys[order], section_words[2][: len(keys)])
    one = (np.array([0]), np.array([len(text)]))
    counts = _kernels.piece_counts(codes, flags, *one, *prelabel._stop_table("bn"))
    assert [a.tolist() for a in _kernels.menu_scan(codes, flags, *one, counts, *forged)[1:]] == [[0], [0]]
    genuine = (forged[0], forged[1], segment.code_rows([impostors[k] for k in order.tolist()]))
    assert [a.tolist() for a in _kernels.menu_scan(codes, flags, *one, counts, *genuine)[1:]] == [[1], [0]]
    # a word the kernel cannot lower-case ("–") might be a section word: Python decides
    for text, words in (("হোম – জাতীয় – খেলা", True), ("হোম – জাতীয় – – খবর", False)):
        codes, flags = segment.char_flags(text)
        one = (np.array([0]), np.array([len(text)]))
        counts = _kernels.piece_counts(codes, flags, *one, *prelabel._stop_table("bn"))
        assert [a.tolist() for a in _kernels.menu_scan(codes, flags, *one, counts, *section_words)[1:]] == [
            [0],
            [1],
        ]
        assert prelabel._menu_words(text) is words


@pytest.mark.parametrize("model", ["rules alone", "all content", "all boilerplate", "shifted"])
def test_rule_pass_and_prelabels_equal_the_reference_with_any_classifier(synthetic: list[str], model: str):
    """Features, zones, rules, and spans with the rules alone or a classifier that overrules them."""
    from corpus.classifier import CLASSIFIER, Classifier, feature_names

    names = tuple(feature_names())
    classifier = {
        "rules alone": None,
        "all content": Classifier("test-0", names, (0.0,) * len(names), +50.0, 0.5, {}),
        "all boilerplate": Classifier("test-0", names, (0.0,) * len(names), -50.0, 0.5, {}),
        "shifted": Classifier("test-0", names, CLASSIFIER.weights, 0.3, 0.5, {}),
    }[model]
    texts = synthetic[:40] + [_normalised(t) for t in EDGE_TEXTS]
    langs = ["bn", "hi", "en"]
    pieces = [prelabel.document_pieces(t) for t in texts]
    fast = [prelabel.rule_pass(t, langs[i % 3], p) for i, (t, p) in enumerate(zip(texts, pieces))]
    spans = [prelabel.prelabel_with(t, langs[i % 3], classifier) for i, t in enumerate(texts)]
    segment.FAST = prelabel.FAST = False
    try:
        for i, (t, p) in enumerate(zip(texts, pieces)):
            reference = prelabel.rule_pass(t, langs[i % 3], p)
            assert fast[i] == reference
            assert [f.p_content for f in fast[i].features] == [f.p_content for f in reference.features]
        assert [prelabel.prelabel_with(t, langs[i % 3], classifier) for i, t in enumerate(texts)] == spans
    finally:
        segment.FAST = prelabel.FAST = True


def test_cue_phrases_found_as_the_reference_finds_them(synthetic: list[str]):
    """The literal-start gate in front of the combined cue regex changes no result."""
    from corpus.lexicon import CUES, literal_starts

    phrases = [p for c in prelabel._CUE_ORDER for p in CUES[c] if re.escape(p) == p.replace(" ", "\\ ")]
    texts = _pieces_of(synthetic[:60] + [_normalised(t) for t in EDGE_TEXTS])
    texts += [f"{p}{tail}" for p in phrases for tail in ("", ": খবর", "x")]
    texts += [f"  {p}" for p in phrases] + ["", " ", "PTI", "এজেন্সি", "[বিজ্ঞাপন_১২]", "Download the App"]
    assert prelabel._CUE_STARTS is not None
    assert [prelabel._cue_fast(t) for t in texts] == [prelabel._cue(t) for t in texts]
    assert sum(prelabel._cue(t) is not None for t in texts) >= len(phrases)
    assert literal_starts("(?:এজেন্সি|PTI)$") == ["এজেন্সি", "PTI"]
    assert literal_starts("উৎস ?:") == ["উৎস"] and literal_starts("(?i)home") == [""]


def test_cue_phrases_decided_in_the_scan_as_the_regex_decides_them(synthetic: list[str]):
    """``piece_scan`` decides a piece's cue itself wherever no real regex can come first
    (``_kernels.cue_at`` on ``lexicon.finite_forms``); there it is ``_cue``'s, exactly, and
    only the few pieces it leaves go to Python."""
    import numpy as np

    from corpus import _kernels
    from corpus.lexicon import CUES, finite_forms

    forms = [f for c in prelabel._CUE_ORDER for p in CUES[c] for f in (finite_forms(p) or ([], 0))[0]]
    texts = _pieces_of(synthetic[:60] + [_normalised(t) for t in EDGE_TEXTS])
    texts += [f"{f}{tail}" for f in forms for tail in ("", ": খবর", "x", ")", " ")] + [f[:-1] for f in forms]
    texts += ["PTI", "(PTI)", "(PTI) x", "(AGI)", "(With inputs from agencies)", "[বিজ্ঞাপন_১২]", "X", "Xx"]
    texts += ["Download the App", "Download App", "Comments (3)", "মন্তব্য (০)", "ক/খ", "খবর ঢাকার।", "a" * 201]
    texts += ["PTI/AFP", "এএএইচ/ইএ", "ABCDEFGH/X", "ABCDEFGHI/X", "A//B", "/A", "A/", "Ab/C", "A/B/C", "A/১"]
    texts += ["ক/খ/", "ক / খ", "ক/খ x", "क/ख", "ঢাকা/PTI", "ইউটিউব/বিসিবি লাইভ", "a/b", "A/B:"]
    texts += ["<b>খবর</b>", "function (x)", "var x", "{x}", "window.open", "document.write", "খবর <br> x"]
    texts += ["কলকাতা, ঢাকা, দিল্লি", "ক, খ গ ঘ ঙ, চ", "ক, খ,", ", ক, খ", "ক,খ,গ", "ক, খ, গ: ঘ", "ক ,\u00a0খ , গ"]
    texts = [t for t in dict.fromkeys(t.strip() for t in texts) if t and "\n" not in t]
    text = "\n".join(texts)
    starts = np.cumsum([0] + [len(t) + 1 for t in texts[:-1]]).astype(np.int64)
    ends = starts + np.array([len(t) for t in texts], dtype=np.int64)
    codes, flags = segment.char_flags(text)
    tables = prelabel._tables
    facts, checks = _kernels.piece_scan(
        codes, flags, starts, ends, *prelabel._stop_table("bn"), *tables.section_words,
        tables.cue_rows, tables.cue_info, tables.needles, len(prelabel._CODE_MARKERS), True,
        tables.months, tables.agos,
    )[2:]  # fmt: skip
    expected = [prelabel._CUE_CODE.get(prelabel._cue(t), _kernels.NO_CUE) for t in texts]
    in_python = (checks & _kernels.CHECK_CUE).astype(bool)
    code = [any(m in t for m in prelabel._CODE_MARKERS) for t in texts]
    assert all(in_python[code]) and sum(code) >= 7  # (only Python's regex knows code)
    # tag lists are decided in the scan, where its gates let a piece through
    tags = [prelabel._is_tag_list(t, prelabel.piece_features(t, "bn", False)) for t in texts]
    assert facts[_kernels.FACT_TAG_ITEMS].astype(bool).tolist() == tags and sum(tags) >= 3
    assert [c for c, p in zip(facts[_kernels.FACT_CUE].tolist(), in_python) if not p] == [
        e for e, p in zip(expected, in_python) if not p
    ]
    assert in_python.sum() < len(texts) / 10
    assert sum(e != _kernels.NO_CUE for e, p in zip(expected, in_python) if not p) >= len(forms)
    assert finite_forms("Comments? ?\\(") == (["Comment(", "Comment (", "Comments(", "Comments ("], False)
    assert finite_forms("(?:এজেন্সি|P[T]I)$") == (["এজেন্সি", "PTI"], True)
    assert finite_forms("a*") is None and finite_forms("(?i)ab") is None and finite_forms("a\\b") is None


def test_dates_found_as_the_reference_finds_them(synthetic: list[str]):
    """The compiled date test (``corpus._kernels.date_in`` in ``piece_scan``) finds a date
    exactly where ``_DATE`` does, on real pieces and on random strings of date parts."""
    import random

    import numpy as np

    texts = _pieces_of(synthetic[:60] + [_normalised(t) for t in EDGE_TEXTS])
    texts += ["১৩ অক্টোবর ২০২৫, ২৩:২৫", "অক্টোবরের ১৩", "Oct 13", "October 2025", "13/10/2025", "1-2-99"]
    texts += ["২ ঘণ্টা আগে", "3 घंटे पहले", "5 minutes ago", "days ago", "১২অক্টোবর", "٣ May", "a 1:2 b"]
    texts += ["Oct13 2025", "123:45", "12345/6/78", "1/123/45", "মার্চে ১৩", "মার্চ_ ১৩", "Jan\t\t৫", "৫\u00a0মে"]
    rng = random.Random(0)
    parts = ["1", "23", "৪", "০৯", "७", "12345", " ", "  ", "\u00a0", ":", "/", "-", "_", "a", "ক", "ে", "্",
             "Oct", "মে", "মার্চ", "जून", "ঘণ্টা", "আগে", "पहले", "मिनट", "hours", "ago", "day", ","]  # fmt: skip
    texts += ["".join(rng.choice(parts) for _ in range(rng.randint(1, 12)))[:80] for _ in range(4000)]
    texts = [t for t in texts if t]
    expected = [bool(prelabel._DATE.search(t)) and len(t) <= 80 for t in texts]
    text = "\n".join(texts)
    starts = np.cumsum([0] + [len(t) + 1 for t in texts[:-1]]).astype(np.int64)
    ends = starts + np.array([len(t) for t in texts], dtype=np.int64)
    facts = prelabel._piece_facts(text, "bn", starts, ends)[2]
    assert facts[_kernels.FACT_DATE].astype(bool).tolist() == expected
    assert 200 <= sum(expected) <= len(texts) - 200
