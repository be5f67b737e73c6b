"""Lines' repetition across a corpus: bounded, order-free counts, and what the classifier does with them."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from corpus import repetition
from corpus.prelabel import prelabel_text
from corpus.repetition import LineSample, LineStats, line_keys

MENU = "সকালবেলা দুপুরবেলা রাতবেলা আড্ডাখানা"  # a site's menu, none of its words in the lexicon
SITE = "নদীবার্তা ডটকম"
TITLES = ["মিরপুরে পোশাক কারখানায় আগুন", "বন্দরে রাতেও পণ্য খালাস", "সিলেটে বন্যা পরিস্থিতির অবনতি"]
BODIES = [
    "রাজধানীর মিরপুরে আজ সকালে একটি পোশাক কারখানায় আগুন লাগে। ফায়ার সার্ভিসের আটটি ইউনিট প্রায় দুই "
    "ঘণ্টার চেষ্টায় আগুন নিয়ন্ত্রণে আনে। এতে কেউ হতাহত হননি বলে জানিয়েছে পুলিশ।",
    "চট্টগ্রাম বন্দরে কনটেইনার জট কমাতে নতুন নিয়ম চালু করেছে কর্তৃপক্ষ। এখন থেকে রাতেও পণ্য খালাস করা "
    "যাবে বলে জানানো হয়েছে। ব্যবসায়ীরা এই সিদ্ধান্তকে স্বাগত জানিয়েছেন।",
    "সিলেটে টানা বৃষ্টিতে নিম্নাঞ্চল প্লাবিত হয়েছে। সুরমা নদীর পানি বিপৎসীমার ওপর দিয়ে প্রবাহিত হচ্ছে বলে "
    "জানিয়েছে পানি উন্নয়ন বোর্ড। কয়েক হাজার মানুষ আশ্রয়কেন্দ্রে উঠেছেন।",
]
PAGES = [f"{SITE}\n{MENU}\n{title}\n{body}" for title, body in zip(TITLES, BODIES)]


def test_counts_other_documents_per_trimmed_line():
    stats = LineStats.of_texts([*PAGES, "  " + MENU + "  \n\nএকটি আলাদা লাইন।"])
    assert stats.documents == 4
    assert stats.other_documents(PAGES[0]) == [2, 3, 0, 0]  # site name, menu (also trimmed), own lines
    assert stats.other_documents("  " + MENU + "  \n\nএকটি আলাদা লাইন।") == [3, 0, 0]  # blank line: 0
    assert stats.other_documents(f"{MENU}\nনতুন") == [4, 0]  # a text outside the corpus: all others
    assert LineStats.of_texts([]).other_documents(PAGES[0]) == [0, 0, 0, 0]


def test_identical_texts_count_once_and_the_order_does_not_matter():
    texts = [*PAGES, PAGES[1], f"{SITE}\nআরেকটি খবর।"]
    shuffled = texts[::-1]
    a, b = LineStats.of_texts(texts), LineStats.of_texts(shuffled)
    assert a.documents == b.documents == 4
    assert a.keys.tolist() == b.keys.tolist() and a.counts.tolist() == b.counts.tolist()
    assert a.other_documents(PAGES[1])[:2] == [3, 2]


def test_the_sample_is_bounded_and_is_the_bottom_k_of_the_texts_keys(monkeypatch):
    rng = random.Random(3)
    texts = [f"{SITE}\nখবর নম্বর {i}।\n{MENU if i % 2 else 'অন্য লাইন'}" for i in range(200)]
    keys = {t: repetition.lane_hash(list(map(ord, t))) for t in texts}  # (the key, in Python)
    assert all(repetition.document_key(t) == key for t, key in keys.items())  # (compiled)
    with monkeypatch.context() as m:
        m.setattr(repetition, "FAST", False)
        assert all(repetition.document_key(t) == key for t, key in keys.items())
    smallest = sorted(texts, key=keys.get)[:25]
    for order in (texts, rng.sample(texts, len(texts))):
        sample = LineSample(size=25)
        for text in order:
            sample.add(text)
        stats = sample.stats()
        assert stats.documents == 25
        exact = LineStats.of_texts(smallest)
        assert stats.keys.tolist() == exact.keys.tolist() and stats.counts.tolist() == exact.counts.tolist()
        site = int(line_keys(SITE)[0][0])
        assert stats.counts[stats.keys.tolist().index(site)] == 25  # on every page of the sample


def test_a_menu_repeated_across_a_sites_pages_is_chrome_and_the_real_headline_the_title():
    """Alone, an unknown menu looks like a headline and the rules take it for the title; across
    the site's pages it repeats and the classifier calls it navigation."""
    stats = LineStats.of_texts(PAGES)
    for page, title, body in zip(PAGES, TITLES, BODIES):
        alone = {page[s.start : s.end]: s.category for s in prelabel_text(page, "bn")}
        assert alone.get(MENU) is None  # merged with the real headline into one "title"
        spans = prelabel_text(page, "bn", stats)
        got = [(s.category, page[s.start : s.end]) for s in spans]
        assert got == [("navigation", f"{SITE}\n{MENU}"), ("title", title), ("body", body)]


def test_prelabel_reads_the_input_twice_unless_told_not_to_or_it_is_a_pipe(tmp_path: Path):
    source = tmp_path / "pages.jsonl"
    records = [json.dumps({"id": f"p{i}", "text": t}, ensure_ascii=False) for i, t in enumerate(PAGES)]
    source.write_text("\n".join(records) + "\n", encoding="utf-8")
    stats = LineStats.of_texts(PAGES)
    corpus = [sys.executable, "-m", "corpus.cli", "prelabel"]

    def spans(path: Path) -> list[list[tuple[int, int, str]]]:
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
        return [[(s["start"], s["end"], s["category"]) for s in row["spans"]] for row in rows]

    def expected(corpus_stats: LineStats | None) -> list[list[tuple[int, int, str]]]:
        return [[(s.start, s.end, s.category) for s in prelabel_text(t, "bn", corpus_stats)] for t in PAGES]

    subprocess.run([*corpus, str(source), "-o", str(tmp_path / "with.jsonl")], check=True)
    alone = [*corpus, str(source), "-o", str(tmp_path / "alone.jsonl"), "--no-corpus-stats"]
    subprocess.run(alone, check=True)
    assert spans(tmp_path / "with.jsonl") == expected(stats) != expected(None)
    assert spans(tmp_path / "alone.jsonl") == expected(None)

    fifo = tmp_path / "pipe.jsonl"
    os.mkfifo(fifo)
    writer = threading.Thread(target=lambda: fifo.write_bytes(source.read_bytes()), daemon=True)
    writer.start()
    done = subprocess.run(
        [*corpus, str(fifo), "-o", str(tmp_path / "piped.jsonl")], capture_output=True, text=True, timeout=120
    )
    writer.join(timeout=10)
    assert done.returncode == 0, done.stderr
    assert "can be read only once" in done.stderr
    assert spans(tmp_path / "piped.jsonl") == expected(None)


def test_copies_of_an_article_do_not_make_its_own_sentences_chrome():
    """Near-duplicates (the same article with another last line) repeat every line of it: only
    what repeats beyond the document's typical line counts, so its body stays body."""
    copies = [f"{PAGES[0]}\nসংস্করণ {i}" for i in range(1, 8)]
    stats = LineStats.of_texts([*PAGES, *copies])
    assert stats.other_documents(PAGES[0]) == [9, 9, 7, 7]
    assert stats.line_repeats(PAGES[0]) == [2, 2, 0, 0]  # the site's chrome is on two more pages
    got = [(s.category, PAGES[0][s.start : s.end]) for s in prelabel_text(PAGES[0], "bn", stats)]
    assert got == [("navigation", f"{SITE}\n{MENU}"), ("title", TITLES[0]), ("body", BODIES[0])]
    lone = "একটি লাইন।\n\nআরেকটি লাইন।"
    assert LineStats.of_texts([lone, lone + "\nশেষ"]).line_repeats(lone) == [0, 0, 0]


@pytest.mark.parametrize(
    "text",
    ["", "\n", "  a  \n\n b\u00a0\n", "😀 x\u200dy\r\n\u2028z", "\u3000বাংলা\t\nहिंदी ", *PAGES]
    + ["\n".join("abcdefghi"[:n] for n in range(1, 10))],  # (every tail of the hash's four lanes)
)
def test_compiled_line_keys_and_repeats_equal_the_python_ones(text: str, monkeypatch):
    """Whitespace as ``str.strip`` trims it (NBSP, ideographic space, tabs), astral characters,
    ZWJ, CR and U+2028 (not line breaks here): the same keys and lengths both ways."""
    keys, sizes = line_keys(text)
    stats = LineStats.of_texts([*PAGES, text, f"{text}\nআরও"])
    repeats = [stats.line_repeats(t) for t in (text, *PAGES)]
    monkeypatch.setattr(repetition, "FAST", False)
    assert [stats.line_repeats(t) for t in (text, *PAGES)] == repeats
    assert line_keys(text)[0].tolist() == keys.tolist()
    assert sizes.tolist() == line_keys(text)[1].tolist() == [len(x.strip()) for x in text.split("\n")]
    assert all((k == 0) == (not x.strip()) for k, x in zip(keys.tolist(), text.split("\n")))


def test_line_keys_tell_apart_lines_that_share_their_code_points():
    """The four lanes are folded in order and the length goes in last: lines that are
    permutations of each other, or differ in one lane only, get different keys."""
    lines = ["ab", "ba", "abcd", "badc", "dcba", "abcde", "eabcd", "a", "aa", "aaaa", "aaaaa", "আমি", "মিআ"]
    keys = line_keys("\n".join(lines))[0].tolist()
    assert len(set(keys)) == len(lines) and 0 not in keys


def test_evaluate_scores_ours_with_the_folders_repetition_and_each_page_alone(tmp_path: Path):
    from typer.testing import CliRunner

    from corpus.cli import app
    from corpus.prelabel import MODEL_VERSION

    for i, (title, body) in enumerate(zip(TITLES, BODIES), start=1):
        rows = [f"navigation\t{SITE}", f"navigation\t{MENU}", f"title\t{title}", f"body\t{body}"]
        header = f"# page: bn-nodibarta-0{i}\n# lang: bn\n# site: nodibarta (fictional)\n# synthetic: yes\n"
        (tmp_path / f"bn-nodibarta-0{i}.tsv").write_text(header + "\n".join(rows) + "\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["evaluate", str(tmp_path), "--peers", "--json"])
    assert result.exit_code == 0, result.output
    scores = json.loads(result.output)
    together = scores[f"ours ({MODEL_VERSION})"]
    alone = scores[f"ours ({MODEL_VERSION}), each page on its own"]
    assert together["char"]["label"]["boilerplate"]["f1"] == 1.0
    assert alone["char"]["label"]["boilerplate"]["f1"] < 1.0  # the menu merged into the title
    assert {"justext", "trafilatura", "line-filter"} <= set(scores)


def test_the_compiled_pre_labeler_reads_the_repeats_like_the_reference(monkeypatch):
    """The fast path's ``repeated_in_corpus`` column: same spans as the reference code, with
    near-duplicates and shared chrome in the corpus."""
    from corpus import prelabel, segment

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
    import make_corpus

    texts = [*PAGES, *(make_corpus.make_article(i, seed=11)["text"] for i in range(40))]
    texts += [f"{texts[5]}\nসংস্করণ {i}" for i in range(3)]
    stats = LineStats.of_texts(texts)
    langs = ["bn"] * len(PAGES) + [("hi" if "है" in t else "bn") for t in texts[len(PAGES) :]]
    fast = [prelabel_text(t, lang, stats) for t, lang in zip(texts, langs)]
    assert fast != [prelabel_text(t, lang) for t, lang in zip(texts, langs)]
    monkeypatch.setattr(prelabel, "FAST", False)
    monkeypatch.setattr(segment, "FAST", False)
    assert [prelabel_text(t, lang, stats) for t, lang in zip(texts, langs)] == fast


def test_compiled_repeats_equal_the_python_ones_on_random_counts(monkeypatch):
    """The weighted median both ways (0 when the unrepeated lines hold half the characters, else
    found by sorting), on random lines, counts and sizes."""
    rng = np.random.default_rng(5)
    for _ in range(300):
        n = int(rng.integers(1, 40))
        keys = rng.integers(0, 12, n).astype(np.uint64)  # (0: a blank line)
        sizes = np.where(keys == 0, 0, rng.integers(1, 90, n)).astype(np.int64)
        known = np.arange(1, 12, dtype=np.uint64)[rng.random(11) < 0.7]
        counts = rng.integers(1, 6, len(known)).astype(np.int64)
        stats = LineStats(known, counts, frozenset({repetition.document_key("x")}), 1)
        text = "x" if rng.random() < 0.5 else "y"  # in the sample or not
        fast = stats.repeats_array(text, (keys, sizes)).tolist()
        with monkeypatch.context() as m:
            m.setattr(repetition, "FAST", False)
            assert stats.repeats_array(text, (keys, sizes)).tolist() == fast
