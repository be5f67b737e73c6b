"""Peer removers return valid Chhanni spans and the obvious binary decisions."""

from __future__ import annotations

import subprocess
import sys

import pytest

from corpus.heldout import span_problems
from corpus.peers import (
    PEERS,
    _match,
    all_content,
    justext_spans,
    line_filter,
    line_filter_keep,
    lines_as_html,
    spans_from_lines,
    trafilatura_spans,
)

BN_PARAGRAPH = (
    "রাজধানীর বিভিন্ন এলাকায় গত কয়েক দিন ধরে গ্যাসের চাপ কম থাকায় রান্নাঘরে চুলা জ্বালাতে পারছেন না "
    "অনেক পরিবার। তিতাস গ্যাসের একজন কর্মকর্তা জানান, শীতের কারণে চাহিদা বেড়ে যাওয়ায় এ সমস্যা তৈরি "
    "হয়েছে এবং আগামী সপ্তাহের মধ্যে পরিস্থিতির উন্নতি হবে বলে তিনি আশা করছেন। তবে এলাকাবাসীর অভিযোগ, "
    "প্রতিবছর শীতে একই সমস্যা হলেও এর কোনো স্থায়ী সমাধান করা হয়নি, তাই তাদের বাধ্য হয়ে বাইরে থেকে "
    "খাবার কিনতে হচ্ছে।"
)
HI_PARAGRAPH = (
    "शहर के कई इलाकों में पिछले तीन दिनों से पानी की आपूर्ति बाधित है और लोगों को टैंकरों पर निर्भर रहना "
    "पड़ रहा है। नगर निगम के अधिकारियों ने बताया कि मुख्य पाइपलाइन में रिसाव के कारण यह समस्या हुई है और "
    "मरम्मत का काम तेजी से किया जा रहा है। उन्होंने कहा कि दो दिन में आपूर्ति सामान्य हो जाएगी, लेकिन "
    "लोगों का कहना है कि इस तरह की परेशानी हर साल होती है और इसका कोई स्थायी हल नहीं निकाला गया है।"
)


def page(lang: str) -> str:
    para = BN_PARAGRAPH if lang == "bn" else HI_PARAGRAPH
    return "\n".join(
        [
            "  দৈনিক সংবাদ  " if lang == "bn" else "दैनिक समाचार",
            "",
            "Advertisement",
            para,
            "",
            para[: len(para) // 2].rstrip() + "।",
            "Facebook Twitter WhatsApp",
        ]
    )


def line_of(text: str, spans, needle: str) -> str:
    start = text.index(needle)
    return next(s.label for s in spans if s.start <= start < s.end)


@pytest.mark.parametrize("name", sorted(PEERS))
@pytest.mark.parametrize("lang", ["bn", "hi"])
def test_every_peer_returns_valid_spans(name, lang):
    text = page(lang)
    spans = PEERS[name](text, lang)
    assert span_problems(text, spans) == []
    assert {s.category for s in spans} <= {"body", "other"}
    # decisions are per line: no span starts or ends inside a line's trimmed text
    for s in spans:
        assert s.start == 0 or text[s.start - 1] in " \n"
        assert s.end == len(text) or text[s.end] in " \n"


@pytest.mark.parametrize("lang", ["bn", "hi"])
def test_obvious_lines(lang):
    text = page(lang)
    para = BN_PARAGRAPH if lang == "bn" else HI_PARAGRAPH
    for name in ("line-filter", "justext", "trafilatura"):
        assert line_of(text, PEERS[name](text, lang), para[:40]) == "content", name
    lf = line_filter(text, lang)
    assert line_of(text, lf, "Advertisement") == "boilerplate"
    assert line_of(text, lf, "Facebook") == "boilerplate"
    assert line_of(text, justext_spans(text, lang), "Facebook") == "boilerplate"


def test_all_content_is_one_span_over_the_trimmed_page():
    text = page("bn")
    spans = all_content(text, "bn")
    assert len(spans) == 1 and spans[0].category == "body"
    assert text[spans[0].start : spans[0].end] == text.strip()
    assert all_content("  \n\n", "bn") == []


def test_spans_from_lines_trims_and_merges():
    text = " a \n\nb\nc\n d"
    spans = spans_from_lines(text, [True, False, True, False, True])
    got = [(text[s.start : s.end], s.category) for s in spans]
    assert got == [("a \n\nb", "body"), ("c", "other"), ("d", "body")]
    with pytest.raises(ValueError):
        spans_from_lines(text, [True])


@pytest.mark.parametrize(
    ("line", "keep"),
    [
        (HI_PARAGRAPH, True),
        ("यह बात उन्होंने कही थी।", True),  # danda, 2 function words (यह, थी)
        ("ये भी पढ़ें: बाजार में तेजी", False),  # no terminal punctuation
        ("उन्होंने कहा कि बाजार में तेजी …", False),  # ellipsis
        ("ने कहा।", False),  # fewer than 3 words
        ("इस साइट पर कुकी का उपयोग होता है।", False),  # policy words
        ("function() { return 1; } का कोड है।", False),  # curly braces
        ("12:30 | 14.11.2025 | ₹ 500 और है।", False),  # too few words with letters
        ("Tanvir scored a century today.", False),  # no hi function words
    ],
)
def test_line_filter_rules(line, keep):
    assert line_filter_keep(line, "hi") is keep


def test_line_filter_drops_a_repeated_line():
    text = f"{HI_PARAGRAPH}\n{HI_PARAGRAPH}"
    spans = line_filter(text, "hi")
    assert [s.category for s in spans] == ["body", "other"]


def test_lines_as_html_escapes_and_numbers_non_blank_lines():
    html, numbers = lines_as_html("a < b\n\n<script>x</script>\n")
    assert numbers == [0, 2]
    assert "<p>a &lt; b</p>" in html and "<p>&lt;script&gt;x&lt;/script&gt;</p>" in html


def test_trafilatura_match_is_in_order():
    out = ["first line", "Share", "second line with Share inside"]
    assert _match(out, "Share", 0, 0) == (2, 0)
    assert _match(out, "Share", 2, 0) == (2, len("second line with Share"))
    assert _match(out, "missing", 0, 0) is None


def test_trafilatura_nothing_extracted_means_all_boilerplate(monkeypatch):
    trafilatura = pytest.importorskip("trafilatura")
    monkeypatch.setattr(trafilatura, "extract", lambda *a, **k: None)
    spans = trafilatura_spans(page("hi"), "hi")
    assert [s.category for s in spans] == ["other"]


def test_peers_import_their_libraries_lazily():
    code = (
        "import sys, corpus.peers; "
        "assert 'justext' not in sys.modules and 'trafilatura' not in sys.modules, 'eager import'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
