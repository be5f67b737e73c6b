"""Segmenter and pre-labeler: glued pieces split at the exact character, page chrome recognised."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest
from typer.testing import CliRunner

from corpus.cli import app
from corpus.ingest import read_documents
from corpus.pipeline import iter_prelabelled
from corpus.prelabel import MODEL_VERSION, prelabel_text, prelabel_with
from corpus.segment import segment, segment_reference

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"


def seed(prefix: str):
    return next(d for d in read_documents(SEEDS) if d.doc_id.startswith(prefix))


def boundaries(text: str) -> set[int]:
    return {p.start for p in segment(text)}


@pytest.mark.parametrize(
    ("prefix", "glued"),
    [
        ("001", "যোগসূত্র!|মেটার মালিকানাধীন"),
        ("001", "বিভ্রাট|মেটার এমন"),
        ("002", "হাইকোর্ট|Kolkata News:"),
        ("002", "বিশেষজ্ঞদের। |(Artificial Intelligence)"),
        ("002", "ABP Ananda Live|Ration Scam:"),
    ],
)
def test_glued_pieces_split_at_the_exact_character(prefix: str, glued: str):
    doc = seed(prefix)
    left, right = glued.split("|")
    at = doc.text.index(left + right) + len(left)
    assert at in boundaries(doc.text), f"no piece starts at {doc.text[at : at + 20]!r}"


def test_ordinary_words_and_names_are_not_split():
    text = "OpenAI: ChatGPT পরিষেবা দিতেই হয়েছিল। হয়ে গেল ছিল না। SimilarWeb-এর তথ্য।"
    assert [text[p.start : p.end] for p in segment(text)] == [text]


def test_rules_follow_the_standard_on_seed_001():
    """The rules alone (the classifier, trained with this seed, is tested in test_classifier.py)."""
    doc = seed("001")
    spans = prelabel_with(doc.text, doc.lang, None)

    def category(prefix: str) -> str:
        return next(s.category for s in spans if doc.text[s.start : s.end].startswith(prefix))

    assert category("মেটা-চ্যাটজিপিটির বিভ্রাটে যোগসূত্র!") == "subheading"
    assert category("মেটার মালিকানাধীন চারটি") == "body"
    assert category("Advertisement") == "advertisement"
    assert category("আরও পড়ুন") == "related_links"
    assert category("এএএইচ/ইএ") == "attribution"
    related = next(s for s in spans if doc.text[s.start : s.end].startswith("আরও পড়ুন"))
    assert doc.text[related.start : related.end].endswith("ইনস্টাগ্রামে বিভ্রাট")


@pytest.mark.parametrize(
    ("lang", "page", "expected"),
    [
        (
            "bn",
            "প্রথম খবর\nহোম » প্রযুক্তি » মোবাইল\nনতুন স্মার্টফোন বাজারে আনল দেশীয় প্রতিষ্ঠান\n"
            "নিজস্ব প্রতিবেদক\nপ্রকাশ: ১২ ডিসেম্বর ২০২৪, ১০:৩০\n"
            "ঢাকা, ১২ ডিসেম্বর — দেশীয় একটি প্রতিষ্ঠান আজ নতুন একটি স্মার্টফোন বাজারে এনেছে। প্রতিষ্ঠানটি "
            "জানিয়েছে, এই ফোনের দাম সাধারণ ক্রেতাদের নাগালের মধ্যে রাখা হয়েছে এবং এতে সব সুবিধা থাকবে।\n"
            "শেয়ার করুন\nট্যাগ: স্মার্টফোন, প্রযুক্তি",
            ["navigation", "title", "attribution", "timestamp", "body", "widget", "tags"],
        ),
        (
            "hi",
            "दैनिक समाचार\nहोम / टेक / मोबाइल\nब्रेकिंग न्यूज़\nनया स्मार्टफोन लॉन्च, कीमत जानकर चौंक जाएंगे\n"
            "अपडेटेड 12 दिसंबर 2024, 10:30 AM\nनई दिल्ली। एक भारतीय कंपनी ने आज नया स्मार्टफोन लॉन्च किया है। "
            "कंपनी ने कहा कि इसकी कीमत आम ग्राहकों की पहुंच में रखी गई है और इसमें सभी सुविधाएं होंगी।\n"
            "ये भी पढ़ें: सोने के दाम में भारी गिरावट\nविज्ञापन",
            ["navigation", "title", "timestamp", "body", "related_links", "advertisement"],
        ),
    ],
)
def test_page_chrome_at_the_top_and_bottom_of_an_unseen_site(lang, page, expected):
    assert [s.category for s in prelabel_text(page, lang)] == expected


def test_scores_are_probabilities_and_spans_cover_the_text():
    for doc in read_documents(SEEDS):
        spans = prelabel_text(doc.text, doc.lang)
        assert all(0.0 <= s.score <= 1.0 for s in spans)
        covered = "".join(doc.text[s.start : s.end] for s in spans)
        assert sorted(c for c in covered if not c.isspace()) == sorted(c for c in doc.text if not c.isspace())
        assert all(a.end <= b.start and a.category != b.category for a, b in zip(spans, spans[1:]))


def test_prelabel_cli_writes_one_line_per_document_in_input_order(tmp_path: Path):
    docs = list(read_documents(SEEDS))
    source = tmp_path / "in.jsonl"
    order = [4, 0, 3, 1, 2]
    source.write_text(
        "".join(
            json.dumps({"id": f"doc-{i}", "text": docs[i].text, "url": "u"}, ensure_ascii=False) + "\n"
            for i in order
        ),
        encoding="utf-8",
    )
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(app, ["prelabel", str(source), "--output", str(out)])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in lines] == [f"doc-{i}" for i in order]
    first = lines[0]
    assert set(first) == {"id", "text", "lang", "spans", "model_version"}
    assert first["model_version"] == MODEL_VERSION and first["lang"] == "hi"
    assert set(first["spans"][0]) == {"start", "end", "label", "category", "score"}
    for r in lines:
        assert "".join(r["text"][s["start"] : s["end"]] for s in r["spans"]).replace(" ", "") != ""


def test_prelabel_reads_a_folder_of_txt_files(tmp_path: Path):
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(app, ["prelabel", str(SEEDS), "-o", str(out)])
    assert result.exit_code == 0, result.output
    ids = [json.loads(line)["id"] for line in out.read_text(encoding="utf-8").splitlines()]
    assert ids == sorted(p.stem for p in SEEDS.glob("*.txt"))


def test_prelabel_streams_its_input(tmp_path: Path):
    """The first document comes out before the second has been written: nothing is slurped."""
    fifo = tmp_path / "live.jsonl"
    os.mkfifo(fifo)
    docs = list(read_documents(SEEDS))
    got_first = threading.Event()

    def writer():
        with fifo.open("w", encoding="utf-8") as pipe:
            pipe.write(json.dumps({"id": "a", "text": docs[0].text}, ensure_ascii=False) + "\n")
            pipe.flush()
            assert got_first.wait(timeout=20), "reader did not yield the first document while streaming"
            pipe.write(json.dumps({"id": "b", "text": docs[1].text}, ensure_ascii=False) + "\n")

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    items = iter_prelabelled(fifo)
    first = next(items)
    assert first.doc_id == "a" and first.spans
    got_first.set()
    assert [d.doc_id for d in items] == ["b"]
    thread.join(timeout=5)


def test_a_menu_without_separators_is_navigation_and_the_headline_stays_the_title():
    page = (
        "প্রচ্ছদ জাতীয় রাজনীতি অর্থনীতি খেলা বিনোদন\n"
        "১ ডিসেম্বর থেকে মেট্রোরেলের নতুন ভাড়া কার্যকর হবে ঢাকায়\n"
        "নিজস্ব সংবাদদাতা, জলপাইগুড়ি: আজ সকালে শহরের প্রধান সড়কে যানজট দেখা দেয়। পুলিশ জানিয়েছে, "
        "একটি ট্রাক বিকল হয়ে যাওয়ায় এই সমস্যা হয় এবং দুই ঘণ্টা পর যান চলাচল স্বাভাবিক হয়।"
    )
    spans = prelabel_text(page, "bn")
    assert [(s.category, page[s.start : s.end].split()[0]) for s in spans] == [
        ("navigation", "প্রচ্ছদ"),
        ("title", "১"),
        ("attribution", "নিজস্ব"),
        ("body", "আজ"),
    ]


def test_a_hindi_menu_line_is_navigation():
    page = "होम देश दुनिया राज्य खेल मनोरंजन\n17 फरवरी से बदलेंगे बैंक के नियम, ग्राहकों पर होगा असर\n" + (
        "संवाददाता, लखनऊ। शहर में आज सुबह भारी बारिश हुई। मौसम विभाग ने कहा कि अगले दो दिन "
        "और बारिश होगी और लोग सावधान रहें।"
    )
    assert [s.category for s in prelabel_text(page, "hi")] == ["navigation", "title", "attribution", "body"]


@pytest.mark.parametrize(
    ("lang", "line", "tag"),
    [
        ("bn", "ঢাকা, ১০ নভেম্বর (বাসস) : ক্ষুদ্র উদ্যোক্তাদের জন্য দেওয়া ঋণের সুদহার এক শতাংশ কমানো হয়েছে।", "(বাসস)"),
        ("hi", "नई दिल्ली (एजेंसी)। संसद का शीतकालीन सत्र 1 दिसंबर से शुरू होकर 19 दिसंबर तक चलेगा।", "(एजेंसी)"),
        ("hi", "मुंबई, 3 मार्च (भाषा) शेयर बाजार में आज लगातार तीसरे दिन तेजी दर्ज की गई और निवेशक खुश रहे।", "(भाषा)"),
    ],
)
def test_an_agency_tag_in_a_dateline_is_split_out_as_attribution(lang: str, line: str, tag: str):
    text = f"{line}\n{line.split(tag)[1].strip()} यह दूसरा अनुच्छेद है और इसमें भी कई शब्द हैं।"
    at = text.index(tag)
    assert {at, at + len(tag)} <= {p.start for p in segment(text)} | {p.end for p in segment(text)}
    assert segment(text) == segment_reference(text)  # the compiled path finds the same cuts
    spans = prelabel_with(text, lang, None)
    assert [(s.start, s.end, s.category) for s in spans if s.category == "attribution"] == [
        (at, at + len(tag), "attribution")
    ]
    assert text[spans[0].start : spans[0].end] == text[:at].strip()  # the dateline stays content
    assert spans[0].category == "body"


def test_an_agency_named_later_in_a_sentence_is_not_split():
    text = "सरकार ने गुरुवार को संसद में बताया कि समाचार एजेंसी (PTI) की रिपोर्ट पूरी तरह गलत थी और इसका खंडन किया गया।"
    assert [text[p.start : p.end] for p in segment(text)] == [text]


def test_labelling_stage_by_stage_across_documents_gives_each_document_its_own_spans(tmp_path: Path):
    """``documents_columns`` runs each stage over a group of texts before the next (groups of
    ``STAGE_TEXTS``, flags kept in between): the spans are those of one document at a time,
    and of the reference code."""
    import sys

    from corpus import prelabel, segment
    from corpus.ingest import make_document, read_records
    from corpus.repetition import LineStats

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
    import make_corpus

    make_corpus.write_shards(prelabel.STAGE_TEXTS * 2 + 7, tmp_path, seed=5, shard_size=100)
    records = list(read_records(tmp_path))
    docs = [make_document(**{k: v for k, v in r.items() if k != "origin"}) for r in records]
    stats = LineStats.of_texts([d.text for d in docs])
    together = prelabel.documents_columns(docs, stats)
    alone = [prelabel.document_columns(d, stats) for d in docs]
    assert [c[:5] for c in together] == [c[:5] for c in alone]
    arrays = [[[a.tolist() for a in c.arrays.arrays] for c in run] for run in (together, alone)]
    assert arrays[0] == arrays[1] and together == alone  # (columns compare by their lists)
    prelabel.FAST = segment.FAST = False
    try:
        reference = [prelabel.document_columns(d, stats) for d in docs[:20]]
    finally:
        prelabel.FAST = segment.FAST = True
    assert [c[:5] for c in together[:20]] == [c[:5] for c in reference]
    assert sum(len(c.starts) for c in together) > 10 * len(docs)


def test_character_flags_are_kept_for_the_last_texts_by_identity(monkeypatch):
    from corpus import segment

    segment.forget_char_facts()
    texts = [f"ক{i} খ\n" for i in range(segment.FLAGS_KEPT + 1)]
    first = [segment.char_flags(t)[1] for t in texts]
    assert segment.char_flags(texts[-1])[1] is first[-1]  # kept
    again = segment.char_flags(texts[0])[1]  # the oldest was let go: computed anew, the same
    assert again is not first[0] and again.tolist() == first[0].tolist()
    copy = "".join(list(texts[-1]))  # an equal text, another object: its own entry
    assert copy == texts[-1] and copy is not texts[-1]
    assert segment.char_flags(copy)[1] is not first[-1]
    # long texts: fewer are kept, never more characters than FLAGS_KEPT_CHARS (the last aside)
    monkeypatch.setattr(segment, "FLAGS_KEPT_CHARS", 100)
    long = [f"{i} " + "ক" * 60 for i in range(5)]
    for text in long:
        segment.char_flags(text)
        kept = [entry[0] for entry in segment._recent.values()]
        assert kept[-1] is text and segment._recent_chars == sum(map(len, kept))
        assert len(kept) == 1 or segment._recent_chars <= 100
    assert len(segment._recent) == 1
    segment.forget_char_facts()
    assert not segment._recent and segment._recent_chars == 0
