"""The Label Studio labeling config, generated from ``corpus.labels`` (never edited by hand).

One ``<Labels>`` control whose choices are the fine categories (the binary label is derived from
the category, so annotators never pick it) over one ``<Text>`` object with ``granularity="symbol"``
so a line can be split at the exact character where a glued-in piece begins. The generated file
is checked in as ``annotation/labeling_config.xml``; a test keeps it in sync with the code.
"""

from __future__ import annotations

import html
import re
from xml.sax.saxutils import quoteattr

from corpus.labels import CATEGORIES, Category

FROM_NAME = "category"  # the <Labels> control: result["from_name"]
TO_NAME = "text"  # the <Text> object: result["to_name"], task data key
CONFIG_FILE = "labeling_config.xml"  # inside annotation/
GUIDELINES_FILE = "GUIDELINES.md"  # inside annotation/, written by the guidelines authors
# Hotkeys in Label Studio's own auto-assignment order, pinned so they never move between versions.
HOTKEYS = "1234567890qwetasdfgzxcvbnyiopjklm"

INSTRUCTIONS = (
    "Select every piece of the article and give it a category; every non-whitespace character "
    "must end up in exactly one region. Split a line at the exact character where a glued-in piece "
    "begins. Content: title, subheading, body, caption; everything else is boilerplate."
)


def _luminance(colour: str) -> float:
    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast_ratio(a: str, b: str) -> float:
    """WCAG contrast ratio of two ``#rrggbb`` colours (1 … 21)."""
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def text_colour_on(background: str) -> str:
    """Black or white, whichever reads better on ``background`` (used for a selected label)."""
    return (
        "#000000"
        if contrast_ratio(background, "#000000") > contrast_ratio(background, "#ffffff")
        else "#ffffff"
    )


def _label_element(category: Category, hotkey: str) -> str:
    hint = f"{category.label}: {category.definition}"
    if category.examples:
        hint += " e.g. " + " · ".join(category.examples)
    attrs = {
        "value": category.name,
        "background": category.colour,
        "selectedColor": text_colour_on(category.colour),
        "hotkey": hotkey,
        "hint": hint,
    }
    return "<Label " + " ".join(f"{k}={quoteattr(v)}" for k, v in attrs.items()) + "/>"


def label_config_xml() -> str:
    """The labeling config as the exact text of ``annotation/labeling_config.xml``."""
    guidelines = (
        f"Guidelines: annotation/{GUIDELINES_FILE} in the repository, also under 'Labeling "
        "Instructions' in this project; they expand the labelling standard (LABELLING.md)."
    )
    lines = [
        "<!-- Generated from corpus/labels.py by `corpus annotate config`; do not edit by hand. -->",
        "<View>",
        '  <View style="padding: 0 0 8px 0; font-size: 13px; color: #333">',
        f'    <Header value={quoteattr(INSTRUCTIONS)} size="6" underline="false"/>',
        f'    <Header value={quoteattr(guidelines)} size="6" underline="false"/>',
        "  </View>",
        f'  <Labels name="{FROM_NAME}" toName="{TO_NAME}" choice="single" showInline="true">',
    ]
    lines += [f"    {_label_element(c, HOTKEYS[i])}" for i, c in enumerate(CATEGORIES)]
    lines += [
        "  </Labels>",
        f'  <Text name="{TO_NAME}" value="${TO_NAME}" granularity="symbol" saveTextResult="yes"/>',
        "</View>",
        "",
    ]
    return "\n".join(lines)


def expert_instruction_html(guidelines_markdown: str | None) -> str:
    """The project's 'Labeling Instructions' panel: the guidelines text itself, when it exists.

    Label Studio shows this before the first task and behind its Instructions button, which is
    where the config's guidelines note points. The server sanitises this HTML (no ``style``
    attributes, a fixed tag list), so only plain ``<p>``/``<br>``/``<code>`` are used and the
    text is escaped the way the sanitiser leaves it: what is stored is exactly what is sent, and
    a second push finds nothing to update.
    """

    def escape(text: str) -> str:
        return html.escape(text, quote=False)

    parts = [
        f"<p>{escape(INSTRUCTIONS)}</p>",
        f"<p>Full guidelines: <code>annotation/{GUIDELINES_FILE}</code> in the Chhanni repository.</p>",
    ]
    for block in re.split(r"\n\s*\n", (guidelines_markdown or "").strip()):
        if block.strip():
            parts.append("<p>" + "<br>".join(escape(line) for line in block.splitlines()) + "</p>")
    return "\n".join(parts)
