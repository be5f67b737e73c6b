"""The Label Studio labeling config is generated from corpus.labels and checked in unchanged."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from typer.testing import CliRunner

from corpus.cli_annotate import annotate_app
from corpus.labels import CATEGORIES, CATEGORY_NAMES
from corpus.labelstudio.config import (
    FROM_NAME,
    GUIDELINES_FILE,
    TO_NAME,
    contrast_ratio,
    expert_instruction_html,
    label_config_xml,
)

ROOT = Path(__file__).resolve().parents[1]
CHECKED_IN = ROOT / "annotation" / "labeling_config.xml"


def test_checked_in_config_is_generated_from_the_labels():
    assert CHECKED_IN.read_text(encoding="utf-8") == label_config_xml(), (
        "annotation/labeling_config.xml is stale: run `corpus annotate config`"
    )


def test_config_offers_exactly_the_fine_categories_in_order():
    root = ET.fromstring(label_config_xml())
    labels = root.find(".//Labels")
    assert labels is not None and labels.get("name") == FROM_NAME and labels.get("toName") == TO_NAME
    assert labels.get("choice") == "single"
    assert [label.get("value") for label in labels.findall("Label")] == list(CATEGORY_NAMES)
    assert "content" not in CATEGORY_NAMES and "boilerplate" not in CATEGORY_NAMES  # binary label is derived
    for label, category in zip(labels.findall("Label"), CATEGORIES):
        assert label.get("background") == category.colour
        assert label.get("hint", "").startswith(f"{category.label}: ")
    hotkeys = [label.get("hotkey") for label in labels.findall("Label")]
    assert len(set(hotkeys)) == len(hotkeys) == len(CATEGORIES)


def test_text_can_be_split_inside_a_line():
    text = ET.fromstring(label_config_xml()).find(".//Text")
    assert text is not None
    assert text.get("name") == TO_NAME and text.get("value") == f"${TO_NAME}"
    assert text.get("granularity") == "symbol"  # per character, not word/sentence/paragraph


def test_selected_label_text_is_readable_on_its_colour():
    for label in ET.fromstring(label_config_xml()).iter("Label"):
        ratio = contrast_ratio(label.get("background"), label.get("selectedColor"))
        assert ratio >= 4.5, (label.get("value"), ratio)  # WCAG AA for normal text


def test_instructions_point_to_the_guidelines():
    headers = [h.get("value", "") for h in ET.fromstring(label_config_xml()).iter("Header")]
    assert any(f"annotation/{GUIDELINES_FILE}" in h for h in headers)
    panel = expert_instruction_html("# Guidelines\n\nUse <b>care</b> & split\nglued bylines.\n")
    assert f"annotation/{GUIDELINES_FILE}" in panel
    assert "<p># Guidelines</p>" in panel
    assert "<p>Use &lt;b&gt;care&lt;/b&gt; &amp; split<br>glued bylines.</p>" in panel  # escaped, lines kept
    assert "style=" not in panel  # Label Studio's sanitiser would drop it (and push would never settle)


def test_config_command_writes_and_checks(tmp_path):
    target = tmp_path / "labeling_config.xml"
    runner = CliRunner()
    stale = runner.invoke(annotate_app, ["config", "--output", str(target), "--check"])
    assert stale.exit_code == 1 and "out of date" in stale.output
    written = runner.invoke(annotate_app, ["config", "--output", str(target)])
    assert written.exit_code == 0, written.output
    assert target.read_text(encoding="utf-8") == label_config_xml()
    assert runner.invoke(annotate_app, ["config", "--output", str(target), "--check"]).exit_code == 0
