"""The labeling UI itself, in headless Chromium: pre-labels render on the right characters, and a
selection made in the UI is saved in the same code-point offsets (Label Studio 1.23.2 counts
code points; older versions counted UTF-16 units, which would shift everything after an emoji).
Screenshots land in test-artifacts/.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from corpus.document import Document, Span
from corpus.ingest import normalise_text, sha256_hex
from corpus.labelstudio.push import push_documents

pytestmark = [pytest.mark.labelstudio, pytest.mark.browser, pytest.mark.slow]

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TEXT = normalise_text(
    "খবর 😀 আজকের শিরোনাম\n"
    "নিজস্ব প্রতিবেদক 👩\u200d💻 ঢাকা\n"
    "ক্\u200cষ এবং ক্ষ আলাদা। আজ সকালে শহরে বৃষ্টি হয়েছে এবং মানুষ ছাতা নিয়ে বের হয়েছেন।\n"
    "आज का मौसम 🌧\ufe0f खराब है। नमस्ते दुनिया\n"
)


def chromium() -> str:
    for candidate in (
        os.environ.get("CHHANNI_CHROMIUM"),
        "/usr/bin/chromium",
        shutil.which("chromium"),
        shutil.which("chromium-browser"),
    ):
        if candidate and Path(candidate).exists():
            return candidate
    pytest.fail("no Chromium: install Debian's `chromium` package or set CHHANNI_CHROMIUM")


def make_doc(doc_id: str, text: str) -> Document:
    return Document(doc_id, text, f"{doc_id}.txt", sha256_hex(text), sha256_hex(text), "bn", 0.99)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    from playwright.sync_api import sync_playwright

    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=chromium(),
            headless=True,
            args=CHROMIUM_FLAGS,
            viewport={"width": 1400, "height": 1000},
        )
        yield context
        context.close()


@pytest.fixture(scope="module")
def annotator_page(label_studio, browser):
    email, password, _ = label_studio.annotator("mitra")
    page = browser.new_page()
    page.goto(f"{label_studio.url}/user/login/")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/user/login" not in url)
    return page


def open_task(page, url: str, project_id: int, task_id: int) -> None:
    page.goto(f"{url}/projects/{project_id}/data?task={task_id}")
    page.wait_for_selector(".lsf-richtext__line", timeout=60_000)


def rendered_regions(page) -> dict[str, dict]:
    """Highlights grouped by region: its start and end offsets, label and the text it covers.

    A region that crosses a line break is drawn as one element per line: the first carries
    ``data-start``, the last ``data-end`` and ``data-label``; line breaks are drawn as <br>.
    """
    pieces = page.evaluate(
        """() => Array.from(document.querySelectorAll('.lsf-richtext__container .htx-highlight')).map(e => ({
            region: Array.from(e.classList).find(c => /^htx-highlight-./.test(c)),
            start: e.dataset.start, end: e.dataset.end, label: e.dataset.label, text: e.textContent }))"""
    )
    regions: dict[str, dict] = {}
    for piece in pieces:
        region = regions.setdefault(piece["region"], {"start": None, "end": None, "label": None, "text": ""})
        for key in ("start", "end"):
            if piece[key] is not None:
                region[key] = int(piece[key])
        region["label"] = piece["label"] or region["label"]
        region["text"] += piece["text"]
    return regions


def test_prelabels_render_on_the_right_characters(label_studio, annotator_page, seed_documents, artifacts):
    # pre-labels for the emoji task, split so that regions begin right after 😀, 👩‍💻 and 🌧️
    pieces = [
        ("খবর 😀", "navigation"),
        ("আজকের শিরোনাম", "title"),
        ("নিজস্ব প্রতিবেদক 👩\u200d💻", "attribution"),
        ("ঢাকা", "body"),
        (TEXT.splitlines()[2], "caption"),
        ("आज का मौसम 🌧\ufe0f", "other"),
        ("खराब है।", "body"),
        ("नमस्ते दुनिया", "listing"),
    ]
    spans, pos = [], 0
    for piece, category in pieces:
        start = TEXT.index(piece, pos)
        spans.append(Span(start, start + len(piece), category, 0.5, "model"))
        pos = start + len(piece)
    emoji = make_doc("browser-emoji", TEXT).with_spans(spans, "test")
    seed = seed_documents[1]
    report = push_documents(label_studio.client(), [seed, emoji], "browser")
    for doc in (emoji, seed):
        open_task(annotator_page, label_studio.url, report.project_id, report.created[doc.doc_id])
        annotator_page.wait_for_selector(".htx-highlight", timeout=60_000)
        annotator_page.screenshot(path=str(artifacts / f"labelstudio-{doc.doc_id}.png"), full_page=True)
        regions = rendered_regions(annotator_page)
        assert len(regions) == len(doc.spans), (doc.doc_id, len(regions), len(doc.spans))
        by_offsets = {(r["start"], r["end"]): r for r in regions.values()}
        for span in doc.spans:
            region = by_offsets[(span.start, span.end)]
            assert region["label"].endswith(f":{span.category}")
            assert region["text"] == doc.text[span.start : span.end].replace("\n", ""), span
    # the regions right after an emoji, a ZWJ sequence and an emoji + variation selector
    open_task(annotator_page, label_studio.url, report.project_id, report.created[emoji.doc_id])
    annotator_page.wait_for_selector(".htx-highlight")
    texts = sorted(r["text"] for r in rendered_regions(annotator_page).values())
    assert "আজকের শিরোনাম" in texts and "ঢাকা" in texts and "खराब है।" in texts


def test_a_selection_in_the_ui_is_saved_in_code_points(label_studio, annotator_page, artifacts):
    doc = make_doc("browser-select", TEXT)  # no pre-labels: an empty canvas
    report = push_documents(label_studio.client(), [doc], "browser")
    task_id = report.created[doc.doc_id]
    open_task(annotator_page, label_studio.url, report.project_id, task_id)
    targets = [("नमस्ते", "body"), ("ঢাকা", "navigation"), ("😀 আজকের", "title")]
    for target, category in targets:
        annotator_page.click(f".lsf-label:has-text('{category}')")
        annotator_page.wait_for_selector(f".lsf-label_selected:has-text('{category}')")
        annotator_page.wait_for_timeout(
            300
        )  # let the text view re-render with the new label, as a human would
        found = annotator_page.evaluate(
            """(target) => {
                const root = document.querySelector('.lsf-richtext__container');
                const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
                for (let node; (node = walker.nextNode()); ) {
                    const at = node.data.indexOf(target);
                    if (at < 0) continue;
                    const range = document.createRange();
                    range.setStart(node, at);
                    range.setEnd(node, at + target.length);
                    const selection = window.getSelection();
                    selection.removeAllRanges();
                    selection.addRange(range);
                    root.dispatchEvent(new MouseEvent('mouseup', {bubbles: true}));
                    return true;
                }
                return false;
            }""",
            target,
        )
        assert found, target
        annotator_page.wait_for_function(
            """([text, label]) => Array.from(document.querySelectorAll('.htx-highlight'))
                .some(e => e.textContent === text && (e.dataset.label || '').endsWith(':' + label))""",
            arg=[target, category],
        )
        # unselect the new region as a person would before the next label (a label click relabels it)
        annotator_page.wait_for_timeout(300)
        annotator_page.keyboard.press("Escape")
        annotator_page.wait_for_timeout(300)
    annotator_page.screenshot(path=str(artifacts / "labelstudio-selection.png"), full_page=True)
    annotator_page.click("button:has-text('Submit')")
    session = label_studio.admin_session()
    for _ in range(50):
        annotations = session.api("GET", f"/api/tasks/{task_id}/annotations/")
        if annotations:
            break
        annotator_page.wait_for_timeout(200)
    [annotation] = annotations
    saved = sorted(
        (r["value"]["start"], r["value"]["end"], r["value"]["labels"][0], r["value"]["text"])
        for r in annotation["result"]
    )
    expected = sorted((TEXT.index(t), TEXT.index(t) + len(t), c, t) for t, c in targets)
    assert saved == expected
    # in UTF-16 units every one of these would sit later: 😀 and 👩‍💻 are surrogate pairs
    assert all(len(TEXT[:s].encode("utf-16-le")) // 2 > s for s, *_ in saved[1:])
