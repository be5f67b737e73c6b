"""The label set: the one source of truth every other artefact is derived from.

The Label Studio config, the pandera schema, the Hugging Face ``ClassLabel`` features,
the JSON Schema in ``schema/`` and the dataset card's label table are all generated
from ``CATEGORIES`` below. Definitions follow ``LABELLING.md`` (the labelling standard).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass

LABELS: tuple[str, ...] = ("content", "boilerplate")


@dataclass(frozen=True)
class Category:
    """A fine category; its ``label`` is the binary label it rolls up to."""

    name: str
    label: str
    colour: str
    definition: str
    examples: tuple[str, ...] = ()


CATEGORIES: tuple[Category, ...] = (
    Category(
        "title",
        "content",
        "#1565c0",
        "The article's headline, including a kicker or keyword prefix that is part of it; "
        "a repeat of the headline or standfirst stays content.",
        ("OpenAI: ChatGPT পরিষেবা দিতেই …",),
    ),
    Category(
        "subheading",
        "content",
        "#6a1b9a",
        "The article's own sub-headings, also when glued to the start of a paragraph.",
        ("মেটা-চ্যাটজিপিটির বিভ্রাটে যোগসূত্র!",),
    ),
    Category(
        "body",
        "content",
        "#2e7d32",
        "Standfirst and paragraphs, including a bare place/date dateline that opens the body "
        "and prose that names a source.",
        ("নয়াদিল্লি:", "मुंबई।", "রয়টার্সের এক প্রতিবেদনে বলা হয়েছে, …"),
    ),
    Category(
        "caption",
        "content",
        "#00838f",
        "An image caption or alt text that describes the picture or the people in it.",
    ),
    Category(
        "advertisement",
        "boilerplate",
        "#c62828",
        "Ad slots, labels and placeholders; self-promotion such as app-download banners.",
        ("Advertisement", "বিজ্ঞাপন", "विज्ञापन", "[বিজ্ঞাপন_২]"),
    ),
    Category(
        "related_links",
        "boilerplate",
        "#ef6c00",
        "'Read more' blocks and the headlines they carry.",
        ("আরও পড়ুন", "এছাড়াও পড়ুন:", "और पढ़ें", "ये भी पढ़ें", "Related posts"),
    ),
    Category(
        "navigation",
        "boilerplate",
        "#5d4037",
        "Site name, logo text or tagline, menus, breadcrumbs, standalone section/kicker/badge "
        "labels, archive headers, pagination, language switches.",
        ("এক্সপ্লোর", "জাতীয়", "BREAKING NEWS", "ब्रेकिंग न्यूज़"),
    ),
    Category(
        "attribution",
        "boilerplate",
        "#ad1457",
        "Bylines and desk codes, photo credits, standalone source and agency lines.",
        ("নিজস্ব প্রতিবেদক", "এএএইচ/ইএ", "ছবি: সংগৃহীত", "সূত্র: অ্যান্ড্রয়েড পুলিশ"),
    ),
    Category(
        "tags",
        "boilerplate",
        "#9e9d24",
        "Keyword and topic lines, and topic tags glued onto a title or paragraph.",
        ("কীওয়ার্ড: …", "Tags: …", "(Artificial Intelligence)"),
    ),
    Category(
        "widget",
        "boilerplate",
        "#455a64",
        "Share, comment and reaction widgets, buttons, player errors, image labels, "
        "search/newsletter/weather boxes.",
        ("মন্তব্য (0)", "Embed widget", "Share"),
    ),
    Category(
        "listing",
        "boilerplate",
        "#f9a825",
        "Headlines or teasers of other articles (tickers, top-stories lists with their header) "
        "and unrelated items appended after the article, such as a TV schedule.",
        ("সেরা শিরোনাম",),
    ),
    Category(
        "timestamp",
        "boilerplate",
        "#0277bd",
        "Publish and update times and page-chrome dates.",
        ("প্রকাশ:", "আপডেট:", "Published :", "अपडेटेड …", "২ ঘণ্টা আগে"),
    ),
    Category(
        "other",
        "boilerplate",
        "#757575",
        "Anything else: a stray '.' line, leaked script or JSON, leftover HTML, an SEO slug.",
        (".",),
    ),
)

CATEGORY_NAMES: tuple[str, ...] = tuple(c.name for c in CATEGORIES)
CATEGORY_LABEL: dict[str, str] = {c.name: c.label for c in CATEGORIES}
CATEGORY_INDEX: dict[str, int] = {name: k for k, name in enumerate(CATEGORY_NAMES)}  # its class index
CATEGORY_BY_NAME: dict[str, Category] = {c.name: c for c in CATEGORIES}

LABEL_SOURCES: tuple[str, ...] = ("human", "model")
LANGUAGES: tuple[str, ...] = ("bn", "hi")
LANGUAGE_NAMES: dict[str, str] = {"bn": "Bengali", "hi": "Hindi"}
SPLITS: tuple[str, ...] = ("train", "validation", "test")


def label_of(category: str) -> str:
    """The binary label a fine category rolls up to; raises KeyError for unknown ones."""
    return CATEGORY_LABEL[category]


def label_set_hash() -> str:
    """A short hash of the label set, recorded in every release so a change is visible."""
    payload = json.dumps(
        {"labels": LABELS, "categories": [asdict(c) for c in CATEGORIES]},
        ensure_ascii=False,
        sort_keys=True,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]
