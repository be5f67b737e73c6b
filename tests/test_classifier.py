"""The learned classifier: shipped file = training on the committed gold, and how it overrules the rules."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from corpus.classifier import (
    CLASSIFIER,
    Classifier,
    fallback_category,
    feature_names,
    from_json,
    piece_vectors,
)
from corpus.cli import app
from corpus.labels import label_of
from corpus.prelabel import MODEL_VERSION, RULES_VERSION, document_pieces, prelabel_with, rule_pass
from corpus.training import data_sha256, same_model, training_documents

ROOT = Path(__file__).resolve().parents[1]
PAGE = (
    "প্রথম খবর\nহোম » প্রযুক্তি » মোবাইল\nনতুন স্মার্টফোন বাজারে আনল দেশীয় প্রতিষ্ঠান\n"
    "ঢাকা, ১২ ডিসেম্বর — দেশীয় একটি প্রতিষ্ঠান আজ নতুন একটি স্মার্টফোন বাজারে এনেছে। প্রতিষ্ঠানটি "
    "জানিয়েছে, এই ফোনের দাম সাধারণ ক্রেতাদের নাগালের মধ্যে রাখা হয়েছে এবং এতে সব সুবিধা থাকবে।\n"
    "শেয়ার করুন\nট্যাগ: স্মার্টফোন, প্রযুক্তি"
)


def constant(bias: float) -> Classifier:
    names = feature_names()
    return Classifier("test-0", tuple(names), (0.0,) * len(names), bias, 0.5, {})


def test_the_shipped_model_is_loaded_and_named_in_the_model_version():
    assert CLASSIFIER is not None
    assert MODEL_VERSION == f"{CLASSIFIER.version}+{RULES_VERSION}"
    assert CLASSIFIER.training["data_sha256"] == data_sha256(
        training_documents(ROOT / "seeds", ROOT / "annotation", ROOT / "evaluation" / "heldout")
    )


@pytest.mark.slow
def test_shipped_model_and_its_cross_validation_are_what_training_gives(monkeypatch):
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(app, ["train", "--check"])
    assert result.exit_code == 0, result.output
    assert "matches training" in result.output
    # the table compares the held-out classifier with the rules on the same documents
    assert "ours lr-" in result.output and "ours rules alone (synthetic)" in result.output


def test_check_fails_when_the_gold_changed(tmp_path, monkeypatch):
    heldout = tmp_path / "heldout"
    heldout.mkdir()
    for page in sorted((ROOT / "evaluation" / "heldout").glob("*.tsv"))[:6]:
        (heldout / page.name).write_text(page.read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(app, ["train", "--check", "--heldout", str(heldout)])
    assert result.exit_code == 1
    assert "not what training on the current gold gives" in result.output


def test_training_data_hash_covers_the_labels():
    docs = training_documents(ROOT / "seeds", ROOT / "annotation", ROOT / "evaluation" / "heldout")
    changed = list(docs)
    first = changed[0]
    span = first.gold[0]
    other = "body" if span.category != "body" else "navigation"
    changed[0] = type(first)(first.group, first.source, first.lang, first.text,
                             (type(span)(span.start, span.end, other), *first.gold[1:]))  # fmt: skip
    assert data_sha256(changed) != data_sha256(docs)
    assert data_sha256(list(reversed(docs))) == data_sha256(docs)  # order of files does not matter


def test_agreeing_classifier_keeps_the_rules_categories():
    rules = prelabel_with(PAGE, "bn", None)
    agreeing = prelabel_with(PAGE, "bn", CLASSIFIER)
    assert [(s.start, s.end, s.category) for s in agreeing] == [(s.start, s.end, s.category) for s in rules]
    assert all(0.0 <= s.score <= 1.0 for s in agreeing)


def test_overruled_pieces_get_the_fallback_category_of_their_zone():
    pieces = document_pieces(PAGE)
    result = rule_pass(PAGE, "bn", pieces)
    everything_content = constant(+50.0).relabel(result.features, result.zones, result.rules)
    nothing_content = constant(-50.0).relabel(result.features, result.zones, result.rules)
    for f, zone, (rule_category, _), (c1, _), (c2, s2) in zip(
        result.features, result.zones, result.rules, everything_content, nothing_content
    ):
        assert label_of(c1) == "content" and label_of(c2) == "boilerplate"
        if label_of(rule_category) == "content":
            assert c1 == rule_category and c2 == fallback_category("boilerplate", zone, f)
            assert s2 == pytest.approx(0.75)  # fallback confidence 0.5, classifier certain
        else:
            assert c2 == rule_category and c1 == fallback_category("content", zone, f)
    assert all(label_of(c) == "boilerplate" for c, _ in nothing_content)


def test_fallback_categories():
    f = rule_pass(PAGE, "bn", document_pieces(PAGE)).features
    headline = next(x for x in f if x.headline_like and not x.prose and x.n_words >= 3)
    prose = next(x for x in f if x.prose)
    assert fallback_category("content", "head", headline) == "title"
    assert fallback_category("content", "body", headline) == "subheading"
    assert fallback_category("content", "tail", prose) == "body"
    assert fallback_category("content", "head", prose) == "body"
    assert fallback_category("boilerplate", "tail", headline) == "listing"
    assert fallback_category("boilerplate", "body", prose) == "other"


def test_a_model_file_for_other_features_is_refused():
    data = CLASSIFIER.as_json()
    data["weights"] = dict(list(data["weights"].items())[:-1])
    with pytest.raises(ValueError, match="features do not match"):
        from_json(data)
    assert same_model(from_json(json.loads(json.dumps(CLASSIFIER.as_json()))), CLASSIFIER)


def test_rules_only_switch():
    code = "from corpus.prelabel import MODEL_VERSION; print(MODEL_VERSION)"
    env = dict(os.environ, CHHANNI_RULES_ONLY="1")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == RULES_VERSION


def test_an_unpunctuated_paragraph_the_classifier_rescues_is_body_not_title():
    """Some sites drop the danda: no piece is sentence-final, so the rules see only page head."""
    para = (
        "राजधानी दिल्ली में सोमवार सुबह से हो रही भारी बारिश के कारण कई इलाकों में जलभराव हो गया "
        "और यातायात धीमा रहा और लोग दफ्तर देर से पहुंचे"
    )
    text = f"होम | देश | विदेश\nदिल्ली में बारिश से जनजीवन प्रभावित\n{para}\nये भी पढ़ें\nमुंबई में भी अलर्ट"
    spans = prelabel_with(text, "hi", constant(+50.0))  # a classifier that calls everything content
    at = text.index(para)
    assert next(s.category for s in spans if s.start <= at < s.end) == "body"


def test_batched_probabilities_are_bit_identical_to_one_vector_at_a_time():
    docs = training_documents(ROOT / "seeds", ROOT / "annotation", ROOT / "evaluation" / "heldout")
    for doc in docs[:12]:
        result = rule_pass(doc.text, doc.lang, document_pieces(doc.text))
        one_by_one = [
            CLASSIFIER.p_content(v) for v in piece_vectors(result.features, result.zones, result.rules)
        ]
        assert CLASSIFIER.probabilities(result.features, result.zones, result.rules) == one_by_one
