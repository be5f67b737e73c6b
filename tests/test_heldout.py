"""The synthetic held-out set: enough pages, languages and site styles, valid gold, a strict loader."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from pathlib import Path

import pytest

from corpus.document import Span
from corpus.heldout import HeldoutError, load_heldout, parse_page, read_page, span_problems
from corpus.labels import CATEGORY_NAMES

ROOT = Path(__file__).resolve().parents[1]
HELDOUT = ROOT / "evaluation" / "heldout"
SEEDS = ROOT / "seeds"

HEADER = "# page: bn-test-01\n# lang: bn\n# site: test (fictional)\n# synthetic: yes\n"


@pytest.fixture(scope="module")
def pages():
    return load_heldout(HELDOUT)


def test_enough_pages_languages_and_site_styles(pages):
    assert len(pages) >= 40
    langs = Counter(p.lang for p in pages)
    assert langs["bn"] >= 20 and langs["hi"] >= 20
    assert len({p.site for p in pages}) >= 10
    assert len({p.page_id for p in pages}) == len(pages)


def test_every_page_is_marked_synthetic_and_named_after_its_id():
    for path in sorted(HELDOUT.glob("*.tsv")):
        head = path.read_text(encoding="utf-8").split("\n")[:6]
        assert any(line.startswith("# synthetic:") for line in head), path.name
        page = read_page(path)
        assert page.page_id == path.stem
        assert re.fullmatch(rf"{page.lang}-{re.escape(page.site)}-\d{{2}}", path.stem), path.name


def _independent_check(text: str, spans: list[Span]) -> None:
    """The span rules, checked without the loader's own helper."""
    counts = [0] * len(text)
    previous = None
    for s in spans:
        assert 0 <= s.start < s.end <= len(text)
        assert not text[s.start].isspace() and not text[s.end - 1].isspace()
        if previous is not None:
            assert previous.end <= s.start, "sorted, no overlap"
            if previous.category == s.category:
                assert text[previous.end : s.start].strip(), "same-category neighbours are merged"
        for k in range(s.start, s.end):
            counts[k] += 1
        previous = s
    for k, ch in enumerate(text):
        if not ch.isspace():
            assert counts[k] == 1, f"character {k} {ch!r} covered {counts[k]} times"


def test_gold_spans_follow_the_span_rules(pages):
    for page in pages:
        assert span_problems(page.text, page.spans) == [], page.page_id
        _independent_check(page.text, page.spans)
        assert unicodedata.normalize("NFC", page.text) == page.text and "\r" not in page.text
        assert all(s.label_source == "human" and s.score == 1.0 for s in page.spans)


def test_every_category_is_used_except_at_most_two(pages):
    used = {s.category for p in pages for s in p.spans}
    assert len(set(CATEGORY_NAMES) - used) <= 2, set(CATEGORY_NAMES) - used


def test_hard_cases_are_present(pages):
    """Glued pieces exist (split inside a line) and both content and boilerplate appear on every page."""
    glued = 0
    for page in pages:
        labels = {s.label for s in page.spans}
        assert labels == {"content", "boilerplate"}, page.page_id
        for a, b in zip(page.spans, page.spans[1:]):
            if "\n" not in page.text[a.end : b.start]:
                glued += 1
    assert glued >= 20


def test_no_line_shared_with_the_seeds(pages):
    seed_lines = {
        line.strip()
        for f in SEEDS.glob("*.txt")
        for line in unicodedata.normalize("NFC", f.read_text(encoding="utf-8")).split("\n")
        if len(line.strip()) >= 30
    }
    for page in pages:
        shared = [line for line in page.text.split("\n") if line.strip() in seed_lines]
        assert not shared, (page.page_id, shared[:1])


def test_glued_piece_and_blank_lines_map_to_exact_offsets():
    raw = HEADER + "title\tশিরোনাম এখানে\n\nbody\tঢাকা, ১ মে\n+attribution\t (বাসস)\n+body\t। প্রথম বাক্য।\n"
    page = parse_page(raw, "mem.tsv")
    assert page.text == "শিরোনাম এখানে\n\nঢাকা, ১ মে (বাসস)। প্রথম বাক্য।"
    got = [(page.text[s.start : s.end], s.category) for s in page.spans]
    assert got == [
        ("শিরোনাম এখানে", "title"),
        ("ঢাকা, ১ মে", "body"),
        ("(বাসস)", "attribution"),
        ("। প্রথম বাক্য।", "body"),
    ]


def test_same_category_neighbours_merge_across_blank_lines():
    page = parse_page(HEADER + "widget\tShare\n\nwidget\tমন্তব্য\nbody\tএকটি বাক্য।\n", "mem.tsv")
    assert [(s.start, s.end, s.category) for s in page.spans] == [(0, 14, "widget"), (15, 26, "body")]


@pytest.mark.parametrize(
    ("rows", "line", "message"),
    [
        ("headline\tশিরোনাম\n", 5, "unknown category 'headline'"),
        ("+body\tগ্লু\n", 5, "'+' (glued piece) on the first page line"),
        ("title\tক\n\n+body\tখ\n", 7, "after an empty line"),
        ("title\tক\nbody\t   \n", 6, "empty text"),
        ("title\tক\nbody without tab\n", 6, "no TAB"),
    ],
)
def test_loader_rejects_malformed_pages_naming_file_and_line(tmp_path, rows, line, message):
    path = tmp_path / "bn-test-01.tsv"
    path.write_text(HEADER + rows, encoding="utf-8")
    with pytest.raises(HeldoutError) as err:
        read_page(path)
    text = str(err.value)
    assert f"{path}:{line}:" in text and message in text
    assert "\n" not in text


def test_loader_requires_the_header(tmp_path):
    path = tmp_path / "bn-test-01.tsv"
    path.write_text("# page: bn-test-01\ntitle\tক\n", encoding="utf-8")
    with pytest.raises(HeldoutError, match=r"bn-test-01.tsv:1: missing header lang, site"):
        read_page(path)
    path.write_text(HEADER.replace("bn-test-01", "bn-other-01") + "title\tক\n", encoding="utf-8")
    with pytest.raises(HeldoutError, match="differs from the file name"):
        read_page(path)


def test_span_problems_reports_breaches():
    text = "ab cd\nef"
    assert span_problems(text, [Span(0, 5, "body"), Span(6, 8, "other")]) == []
    assert "starts or ends on whitespace" in span_problems(text, [Span(0, 3, "body"), Span(3, 8, "other")])[0]
    assert "not covered" in span_problems(text, [Span(0, 2, "body"), Span(6, 8, "other")])[0]
    assert "not merged" in span_problems(text, [Span(0, 2, "body"), Span(3, 8, "body")])[0]
    assert "overlaps" in span_problems(text, [Span(0, 5, "body"), Span(3, 8, "other")])[0]


def test_heldout_pages_are_not_in_any_release(pages):
    pq = pytest.importorskip("pyarrow.parquet")
    released = set()
    for f in (ROOT / "releases").glob("v*/documents/*.parquet"):
        released.update(pq.read_table(f, columns=["text"]).column("text").to_pylist())
    assert not {p.text for p in pages} & released


BLIND = ROOT / "evaluation" / "blind"


def test_the_blind_set_shares_chrome_within_sites_and_stays_out_of_training_and_releases():
    """12 pages written without reading the rules: 4 sites × 3 pages that repeat their chrome;
    never trained on (``corpus train`` reads ``heldout/`` only), never released, no seed lines."""
    pq = pytest.importorskip("pyarrow.parquet")
    from corpus.training import training_documents

    blind = load_heldout(BLIND)
    assert len(blind) >= 12 and Counter(p.lang for p in blind) == {"bn": 6, "hi": 6}
    by_site: dict[str, list] = {}
    for page in blind:
        by_site.setdefault(page.site, []).append(page)
        assert span_problems(page.text, page.spans) == [], page.page_id
        head = (BLIND / f"{page.page_id}.tsv").read_text(encoding="utf-8").split("\n")[:6]
        assert {"# blind", "# synthetic"} <= {line.split(":")[0] for line in head}
    for site, members in by_site.items():
        shared = set.intersection(*({line for line in p.text.split("\n") if line.strip()} for p in members))
        assert len(members) == 3 and len(shared) >= 3, site
    trained = {d.text for d in training_documents(SEEDS, ROOT / "annotation", HELDOUT)}
    released = set()
    for f in (ROOT / "releases").glob("v*/documents/*.parquet"):
        released.update(pq.read_table(f, columns=["text"]).column("text").to_pylist())

    def long_lines(page) -> set[str]:
        return {line.strip() for line in page.text.split("\n") if len(line.strip()) >= 30}

    heldout_lines = set().union(*map(long_lines, load_heldout(HELDOUT)))
    for page in blind:
        assert page.text not in trained and page.text not in released
        assert not long_lines(page) & heldout_lines, page.page_id
    test_no_line_shared_with_the_seeds(blind)


def test_ours_beats_every_peer_on_the_blind_set_per_language():
    """The README's blind-set table: content F1 and boilerplate F1, bn and hi, ours ahead."""
    from corpus.evaluate import compare_systems, corpus_prelabeler
    from corpus.peers import PEERS

    items = [page.as_item() for page in load_heldout(BLIND)]
    results = compare_systems(items, {"ours": corpus_prelabeler([text for _, text, _ in items]), **PEERS})
    for lang in ("bn", "hi"):
        ours = results["ours"].by_language[lang].char_label
        assert ours["content"].f1 > 0.95 and ours["boilerplate"].f1 > 0.9
        for name in PEERS:
            peer = results[name].by_language[lang].char_label
            assert ours["content"].f1 > peer["content"].f1, (lang, name)
            assert ours["boilerplate"].f1 > peer["boilerplate"].f1, (lang, name)
