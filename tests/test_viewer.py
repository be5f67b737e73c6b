"""Span viewer: the HTML page of a release, read as HTML and driven in headless Chromium."""

from __future__ import annotations

import re
import shutil
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from corpus.document import Document, Span
from corpus.labels import CATEGORIES, CATEGORY_NAMES, LABELS
from corpus.release import document_rows, span_rows, write_parquet
from corpus.viewer import _luminance, render_viewer, text_colour, write_viewer

ROOT = Path(__file__).resolve().parents[1]
RELEASE = ROOT / "releases" / "v0.1.0"  # committed: read only
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


# --------------------------------------------------------------------------- expectations from Parquet


def parquet_rows(release: Path, table: str) -> list[dict]:
    rows = []
    for path in sorted((release / table).glob("*.parquet")):
        for row in pq.read_table(path).to_pylist():
            row["split"] = path.name.split("-", 1)[0]
            rows.append(row)
    return rows


@pytest.fixture(scope="module")
def documents() -> dict[str, dict]:
    return {row["doc_id"]: row for row in parquet_rows(RELEASE, "documents")}


@pytest.fixture(scope="module")
def spans() -> list[dict]:
    rows = parquet_rows(RELEASE, "spans")
    for row in rows:
        row["label"], row["category"] = LABELS[row["label"]], CATEGORY_NAMES[row["category"]]
    return rows


@pytest.fixture(scope="module")
def html() -> str:
    return render_viewer(RELEASE)


# --------------------------------------------------------------------------- reading the page back


class Page(HTMLParser):
    """Articles (attributes, exact text of their ``.text`` block, marks) and legend inputs."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.articles: list[dict] = []
        self.inputs: list[dict] = []
        self.legend_items: list[str] = []
        self._in_text = False
        self._mark: dict | None = None
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        classes = (a.get("class") or "").split()
        if tag == "article":
            self.articles.append({**a, "text": "", "marks": []})
        elif tag == "div" and "text" in classes:
            self._in_text = True
        elif tag == "mark":
            assert self._in_text and self._mark is None, "marks only in article text, never nested"
            self._mark = {**a, "text": ""}
        elif tag == "input":
            self.inputs.append(a)
        elif tag == "li" and "legend-item" in classes:
            self.legend_items.append(a.get("title", ""))

    def handle_endtag(self, tag):
        if tag == "mark" and self._mark is not None:
            self.articles[-1]["marks"].append(self._mark)
            self._mark = None
        elif tag == "div" and self._in_text:
            self._in_text = False

    def handle_data(self, data):
        if self._in_text:
            self.articles[-1]["text"] += data
            if self._mark is not None:
                self._mark["text"] += data


# --------------------------------------------------------------------------- unit tests


def test_one_mark_per_span_row(html, spans):
    assert len(spans) > 0
    assert html.count("<mark") == len(spans)
    page = Page(html)
    assert sum(len(a["marks"]) for a in page.articles) == len(spans)


def test_articles_all_splits_sorted_by_doc_id(html, documents):
    page = Page(html)
    assert [a["data-doc-id"] for a in page.articles] == sorted(documents)
    for art in page.articles:
        doc = documents[art["data-doc-id"]]
        assert (art["data-lang"], art["data-split"]) == (doc["lang"], doc["split"])
    assert {a["data-split"] for a in page.articles} == {"train", "validation", "test"}


def test_article_text_and_span_texts_are_exact(html, documents, spans):
    page = Page(html)
    by_key = {(s["doc_id"], s["span_index"]): s for s in spans}
    for art in page.articles:
        doc = documents[art["data-doc-id"]]
        text = doc["text"]
        assert art["text"] == text, "the text block reproduces the document, line breaks included"
        joined = "".join(m["text"] for m in art["marks"])
        assert re.sub(r"\s+", "", joined) == re.sub(r"\s+", "", text), art["data-doc-id"]
        assert len(art["marks"]) == len(doc["spans"])
        for i, mark in enumerate(art["marks"]):
            row = by_key[(doc["doc_id"], i)]
            start, end = int(mark["data-start"]), int(mark["data-end"])
            assert (start, end) == (row["start"], row["end"])
            assert mark["text"] == text[start:end] == row["text"]
            assert mark["data-category"] == row["category"] and mark["data-label"] == row["label"]
            assert mark["class"].split() == ["span", f"cat-{row['category']}"]
            assert mark["data-source"] == row["label_source"]
            assert f"source: {row['label_source']}" in mark["title"]
            assert mark["title"].startswith(f"{row['category']} · {row['label']} · ")
            assert mark["title"].endswith(f"score {row['score']:.2f} · [{start}, {end})")


def test_legend_lists_all_categories_with_counts_and_colours(html, spans):
    page = Page(html)
    cats = [i["value"] for i in page.inputs if i.get("name") == "cat"]
    assert cats == list(CATEGORY_NAMES) and len(cats) == 13
    assert page.legend_items == [c.definition for c in CATEGORIES]
    counts = Counter(s["category"] for s in spans)
    for c in CATEGORIES:
        assert f'<span class="n" data-count="cat:{c.name}">{counts[c.name]}</span>' in html
        assert f".cat-{c.name}{{--c:{c.colour};--fg:{text_colour(c.colour)};" in html
    assert [i["value"] for i in page.inputs if i.get("name") == "label"] == list(LABELS)
    assert {i["value"] for i in page.inputs if i.get("name") == "lang"} == {s["lang"] for s in spans}


def test_no_external_references(html):
    outside_text = re.sub(r'<div class="text">.*?</div>', "", html, flags=re.S)
    assert outside_text.count("<article") == 5 and "<mark" not in outside_text
    for needle in ("http://", "https://", "url(", "@import", "<link", "<img", "<iframe", " src="):
        assert needle not in outside_text, needle
    assert re.findall(r'href="([^"]*)"', outside_text) and all(
        h.startswith("#") for h in re.findall(r'href="([^"]*)"', outside_text)
    )
    assert "default-src 'none'" in html, "a CSP forbids any load the page might attempt"


def test_deterministic_and_independent_of_location(html, tmp_path):
    assert render_viewer(RELEASE) == html
    copy = tmp_path / "elsewhere" / "v0.1.0"
    shutil.copytree(RELEASE, copy)
    assert render_viewer(copy) == html
    out = write_viewer(copy, tmp_path / "out" / "viewer.html")
    assert out.read_bytes() == html.encode("utf-8")


def test_text_colour_contrast_on_every_category():
    for c in CATEGORIES:
        fg, bg = _luminance(text_colour(c.colour)), _luminance(c.colour)
        ratio = (max(fg, bg) + 0.05) / (min(fg, bg) + 0.05)
        assert ratio >= 4.5, (c.name, c.colour, ratio)
    assert text_colour("#f9a825") == "#000000" and text_colour("#1565c0") == "#ffffff"


def _write_release(root: Path, docs: list[Document], split: str = "train") -> Path:
    write_parquet(document_rows(docs), "documents", root / f"documents/{split}-00000-of-00001.parquet")
    write_parquet(span_rows(docs), "spans", root / f"spans/{split}-00000-of-00001.parquet")
    return root


def _doc(doc_id: str, text: str, spans: list[Span], lang: str = "hi") -> Document:
    return Document(doc_id, text, f"{doc_id}.txt", "0" * 64, "0" * 64, lang, 0.9, spans=tuple(spans))


def test_markup_in_text_is_escaped(tmp_path):
    text = 'शीर्षक <script>alert("x")</script>\n\nA & B "q" <b>'
    spans = [Span(0, 6, "title", 0.9), Span(7, 34, "other", 0.5), Span(36, len(text), "body", 1.0, "human")]
    html = render_viewer(_write_release(tmp_path / "v9.9.9", [_doc("x1", text, spans)]))
    assert "<script>alert" not in html and "&lt;script&gt;alert" in html
    art = Page(html).articles[0]
    assert art["text"] == text
    assert [m["text"] for m in art["marks"]] == [text[s.start : s.end] for s in spans]
    assert art["marks"][2]["title"] == f"body · content · source: human · score 1.00 · [36, {len(text)})"
    assert "Chhanni v9.9.9" in html  # no manifest: the version comes from the folder name


def test_overlapping_spans_are_refused(tmp_path):
    docs = [_doc("x1", "abc def", [Span(0, 5, "body"), Span(4, 7, "tags")])]
    with pytest.raises(ValueError, match="x1: span 1"):
        render_viewer(_write_release(tmp_path / "v1.0.0", docs))


def test_missing_release_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="no documents"):
        render_viewer(tmp_path)


# --------------------------------------------------------------------------- in Chromium

VISIBLE_HIGHLIGHTED = """() => Array.from(document.querySelectorAll("mark.span")).filter(m =>
    m.offsetParent !== null && getComputedStyle(m).backgroundColor !== "rgba(0, 0, 0, 0)").length"""


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not installed (apt install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, tmp_path):
    """The viewer of the committed release, loaded from a file; every request and error recorded."""
    path = write_viewer(RELEASE, tmp_path / "viewer.html")
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    requests, errors = [], []
    page.on("request", lambda r: requests.append(r.url))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    yield page
    assert not errors, errors
    assert requests == [path.as_uri()], "the page loads nothing but itself (file:/data: at most)"
    context.close()


@pytest.mark.browser
@pytest.mark.slow
def test_browser_shows_every_span_highlighted(page, spans):
    from PIL import Image

    assert page.evaluate('document.querySelectorAll("mark.span").length') == len(spans)
    assert page.evaluate(VISIBLE_HIGHLIGHTED) == len(spans) > 0
    assert (
        page.inner_text("#status")
        == f"Showing {len(spans)} of {len(spans)} highlighted spans in 5 of 5 articles."
    )
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "viewer.png"
    page.screenshot(path=str(shot))
    with Image.open(shot) as image:
        assert image.size == (1400, 1000)
        colours = {colour for _, colour in image.convert("RGB").getcolors(maxcolors=1 << 20)}
    body = tuple(int(CATEGORIES[CATEGORY_NAMES.index("body")].colour[i : i + 2], 16) for i in (1, 3, 5))
    assert body in colours, "the screenshot shows body spans in their category colour"


@pytest.mark.browser
@pytest.mark.slow
def test_browser_language_filter(page, spans):
    hindi = sum(1 for s in spans if s["lang"] == "hi")
    assert 0 < hindi < len(spans)
    page.uncheck('input[name="lang"][value="bn"]')
    assert page.evaluate(VISIBLE_HIGHLIGHTED) == hindi
    assert page.locator("article.doc:visible").count() == len(
        {s["doc_id"] for s in spans if s["lang"] == "hi"}
    )
    assert page.inner_text('[data-count="cat:body"]') == str(
        sum(1 for s in spans if s["lang"] == "hi" and s["category"] == "body")
    )
    page.check('input[name="lang"][value="bn"]')
    assert page.evaluate(VISIBLE_HIGHLIGHTED) == len(spans)


@pytest.mark.browser
@pytest.mark.slow
def test_browser_category_and_label_filters(page, spans):
    body = sum(1 for s in spans if s["category"] == "body")
    page.uncheck('input[name="cat"][value="body"]')
    assert page.evaluate(VISIBLE_HIGHLIGHTED) == len(spans) - body
    assert page.evaluate('document.querySelectorAll("mark.span.off").length') == body
    assert page.evaluate('document.querySelector("input[name=label][value=content]").indeterminate')
    page.check('input[name="cat"][value="body"]')
    page.uncheck('input[name="label"][value="boilerplate"]')
    assert page.evaluate(VISIBLE_HIGHLIGHTED) == sum(1 for s in spans if s["label"] == "content")
    page.check("#only-matching")
    page.click('button[data-set="none"]')
    assert page.evaluate(VISIBLE_HIGHLIGHTED) == 0
    assert page.locator("article.doc:visible").count() == 0


@pytest.mark.browser
@pytest.mark.slow
def test_browser_hover_shows_label_source(page, spans):
    mark = page.locator("mark.span").first
    first = min(spans, key=lambda s: (s["doc_id"], s["span_index"]))
    assert first["label_source"] == "model"
    assert "source: model" in mark.get_attribute("title")
    mark.hover()
    inspector = page.inner_text("#inspector")
    assert "source\tmodel" in inspector or "source\nmodel" in inspector, inspector
    assert first["category"] in inspector and f"[{first['start']}, {first['end']})" in inspector
