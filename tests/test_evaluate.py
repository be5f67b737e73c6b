"""The evaluation harness computes the numbers by hand-checkable examples."""

from __future__ import annotations

import pytest

from corpus.document import Span
from corpus.evaluate import evaluate, markdown_report

TEXT = "Title here\nBody text goes on.\nAdvertisement"
#       0         10 11               29 30          43


def test_perfect_prediction_scores_one():
    gold = [Span(0, 10, "title"), Span(11, 29, "body"), Span(30, 43, "advertisement")]
    ev = evaluate([("bn", TEXT, gold, gold)])
    assert ev.char_label["content"].f1 == 1.0 and ev.char_label["boilerplate"].f1 == 1.0
    assert ev.span_category["body"].tp == 1


def test_character_counts_skip_whitespace_and_mislabels_count_both_ways():
    gold = [Span(0, 10, "title"), Span(11, 29, "body"), Span(30, 43, "advertisement")]
    predicted = [Span(0, 29, "body"), Span(30, 43, "body")]
    ev = evaluate([("hi", TEXT, gold, predicted)])
    title_chars = len("Titlehere")
    ad_chars = len("Advertisement")
    assert ev.char_category["title"].fn == title_chars
    assert ev.char_category["body"].fp == title_chars + ad_chars
    assert ev.char_label["boilerplate"].fn == ad_chars and ev.char_label["boilerplate"].tp == 0
    assert ev.char_label["content"].precision == pytest.approx(
        (title_chars + len("Bodytextgoeson.")) / (title_chars + len("Bodytextgoeson.") + ad_chars)
    )
    assert ev.confusion[("advertisement", "body")] == ad_chars
    # binary span level: gold has runs [0,29) content and [30,43) boilerplate; prediction one content run
    assert ev.span_label["content"].fn == 1 and ev.span_label["content"].fp == 1
    assert ev.by_language["hi"].documents == 1
    report = markdown_report(ev)
    assert "| boilerplate | 0.000 | 0.000 | 0.000 | 13 |" in report
