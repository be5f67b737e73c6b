"""The learned content/boilerplate classifier that sits on top of the rules.

The rules (``corpus.prelabel``) give every piece a category, a confidence and a zone (page
head, article body, tail). A logistic regression then decides the binary label of each piece
from features that carry across sites — how the piece ends, its length, stop-word density,
Latin/digit/letter shares, cue phrases, repetition, position, its neighbours — together with
what the rules said. Where it agrees with the rules the rules' category stands; where it
overrules them the piece gets the plain category of its new label for its zone
(``fallback_category``). The rules stay the fallback: ``CLASSIFIER = None`` (or a missing
model file) gives the rules alone.

The model ships as ``corpus/models/classifier.json``: weights already divided by the
standard scaler's scale (one dot product per piece, no scikit-learn at run time), its
version, the sha256 of its training data and how it was cross-validated. ``corpus train``
(``corpus.training``) rebuilds it from the gold and a test checks the shipped file is what
training gives.
"""

from __future__ import annotations

import json
import math
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from corpus.labels import CATEGORY_NAMES, label_of

if TYPE_CHECKING:  # prelabel imports this module; its fast twin of Features has the same fields
    from corpus.prelabel import Features

ZONES = ("head", "body", "tail")

# The dense features, in the order of the weight vector; categories and zones are one-hot
# and looked up (``CATEGORY_NAMES`` then ``ZONES`` follow these in ``feature_names()``).
DENSE_FEATURES = (
    "period_end",
    "exclaim_end",
    "sentences",
    "words",
    "log_chars",
    "stop_density",
    "latin_share",
    "digit_share",
    "letter_share",
    "cue",
    "repeated",
    "date_like",
    "prose",
    "headline_like",
    "rules_content",
    "rules_confidence_content",
    "position",
    "position_from_end",
    "previous_prose",
    "next_prose",
    "previous_rules_content",
    "next_rules_content",
    "p_content",
    "previous_p_content",
    "next_p_content",
    "previous_cue",
    "after_list_header",
    "repeated_in_corpus",
)
REPEATS_CAP = 99  # "in 99 other documents" already says chrome; more says nothing new


def repeats_feature(repeats: int) -> float:
    """The ``repeated_in_corpus`` value of a line found in ``repeats`` more other documents
    than the document's typical line: log-scaled, 0 to 1."""
    return math.log1p(min(repeats, REPEATS_CAP)) / math.log1p(REPEATS_CAP)


def feature_names() -> list[str]:
    return [*DENSE_FEATURES, *(f"rules_category={c}" for c in CATEGORY_NAMES), *(f"zone={z}" for z in ZONES)]


def dense_columns(
    feats: Sequence[Features],
    zones: Sequence[str],
    rules: Sequence[tuple[str, float]],
    corpus_repeats: Sequence[int] | None = None,
) -> list[list[float]]:
    """The dense features of all pieces, one list per feature (``DENSE_FEATURES`` order).

    ``corpus_repeats``: per piece, other documents of the corpus containing its line (None: 0).
    """
    n = len(feats)
    repeats = corpus_repeats or [0] * n
    content = [float(label_of(category) == "content") for category, _ in rules]
    p = [f.p_content for f in feats]
    prose = [float(f.prose) for f in feats]
    cue = [float(f.cue is not None) for f in feats]
    list_header = [float(f.cue in ("related_links", "listing")) for f in feats]
    return [
        [float(f.period_end) for f in feats],
        [float(f.exclaim_end) for f in feats],
        [min(f.n_sentences, 3) / 3 for f in feats],
        [min(f.n_words, 40) / 40 for f in feats],
        [math.log1p(f.n_chars) / 6 for f in feats],
        [f.stop_density for f in feats],
        [f.latin_share for f in feats],
        [f.digit_share for f in feats],
        [f.letter_share for f in feats],
        cue,
        [float(f.repeated) for f in feats],
        [float(f.date_like) for f in feats],
        prose,
        [float(f.headline_like) for f in feats],
        content,
        [c if content[i] else 1.0 - c for i, (_, c) in enumerate(rules)],
        [i / n for i in range(n)],
        [(n - 1 - i) / n for i in range(n)],
        [0.0, *prose[:-1]],
        [*prose[1:], 0.0],
        [0.0, *content[:-1]],
        [*content[1:], 0.0],
        p,
        [0.5, *p[:-1]],
        [*p[1:], 0.5],
        [0.0, *cue[:-1]],
        [0.0, *list_header[:-1]],
        [repeats_feature(r) for r in repeats],
    ]


def piece_vectors(
    feats: Sequence[Features],
    zones: Sequence[str],
    rules: Sequence[tuple[str, float]],
    corpus_repeats: Sequence[int] | None = None,
) -> list[list[float]]:
    """One feature vector per piece (``feature_names()`` order): dense, then one-hot."""
    if not feats:
        return []
    dense = list(zip(*dense_columns(feats, zones, rules, corpus_repeats)))
    return [
        [*dense[i], *(float(category == c) for c in CATEGORY_NAMES), *(float(zones[i] == z) for z in ZONES)]
        for i, (category, _) in enumerate(rules)
    ]


def fallback_category(label: str, zone: str, f: Features) -> str:
    """The category a piece gets when the classifier gives it the other label than the rules.

    A headline-like piece of the page head the rules took for chrome is usually the real
    headline (the rules' "title" was then a menu or a kicker), so it becomes a title even
    if the rules named another one; a long unpunctuated paragraph stays body.
    """
    if label == "content":
        if f.headline_like and not f.prose and 3 <= f.n_words <= 15:
            return "title" if zone == "head" else "subheading" if zone == "body" else "body"
        return "body"
    if zone == "head":
        return "navigation" if f.n_words <= 4 else "other"
    if zone == "tail" and f.headline_like:
        return "listing"
    return "other"


@dataclass(frozen=True)
class Classifier:
    version: str
    feature_names: tuple[str, ...]
    weights: tuple[float, ...]  # per feature, already divided by the scaler's scale
    bias: float  # intercept with the scaler's means folded in
    threshold: float
    training: dict

    @cached_property
    def _one_hot(self) -> tuple[dict[str, float], dict[str, float]]:
        """The weight of each rules category and of each zone (their one-hot features)."""
        by_name = dict(zip(self.feature_names, self.weights))
        return (
            {c: by_name[f"rules_category={c}"] for c in CATEGORY_NAMES},
            {z: by_name[f"zone={z}"] for z in ZONES},
        )

    @cached_property
    def weight_arrays(self) -> tuple:
        """``(dense weights, bias, weight per category, weight per zone)`` as numpy arrays, in
        ``DENSE_FEATURES``, ``CATEGORY_NAMES`` and ``ZONES`` order: what the compiled fast path
        of ``corpus.prelabel`` reads."""
        import numpy as np

        category_weight, zone_weight = self._one_hot
        return (
            np.array(self.weights[: len(DENSE_FEATURES)], dtype=np.float64),
            self.bias,
            np.array([category_weight[c] for c in CATEGORY_NAMES], dtype=np.float64),
            np.array([zone_weight[z] for z in ZONES], dtype=np.float64),
        )

    def p_content(self, vector: Sequence[float]) -> float:
        """P(content) of one feature vector; ``probabilities`` gives the same floats, batched."""
        z = self.bias
        for w, x in zip(self.weights, vector):
            z = z + w * x  # in order, no fused multiply-add: the same bits on every machine
        return _logistic(z)

    def probabilities(
        self,
        feats: Sequence[Features],
        zones: Sequence[str],
        rules: Sequence[tuple[str, float]],
        corpus_repeats: Sequence[int] | None = None,
    ) -> list[float]:
        """P(content) of every piece: the same operations as ``p_content``, features built once
        per document; one-hot terms are added as the one weight that applies (the others would
        add exact zeros)."""
        if not feats:
            return []
        dense_weights = self.weights[: len(DENSE_FEATURES)]
        category_weight, zone_weight = self._one_hot
        out = []
        columns = dense_columns(feats, zones, rules, corpus_repeats)
        for row, (category, _), zone in zip(zip(*columns), rules, zones):
            z = self.bias
            for w, x in zip(dense_weights, row):
                z = z + w * x
            z = z + category_weight[category]
            out.append(_logistic(z + zone_weight[zone]))
        return out

    def relabel(
        self,
        feats: Sequence[Features],
        zones: Sequence[str],
        rules: Sequence[tuple[str, float]],
        corpus_repeats: Sequence[int] | None = None,
    ) -> list[tuple[str, float]]:
        """``(category, score)`` per piece: the rules' category where the label agrees.

        The score is the confidence in the category, the rule's confidence averaged with the
        classifier's probability of the category's label (0.5 for a fallback category).
        """
        out = []
        for f, zone, (category, confidence), p in zip(
            feats, zones, rules, self.probabilities(feats, zones, rules, corpus_repeats)
        ):
            label = "content" if p >= self.threshold else "boilerplate"
            if label_of(category) != label:
                category, confidence = fallback_category(label, zone, f), 0.5
            out.append((category, 0.5 * confidence + 0.5 * (p if label == "content" else 1.0 - p)))
        return out

    def as_json(self) -> dict:
        return {
            "version": self.version,
            "kind": "logistic regression over rule outputs and piece features",
            "threshold": self.threshold,
            "bias": self.bias,
            "weights": dict(zip(self.feature_names, self.weights)),
            "training": self.training,
        }


def from_json(data: dict) -> Classifier:
    names = tuple(data["weights"])
    if list(names) != feature_names():
        raise ValueError("classifier features do not match this version of corpus.classifier")
    return Classifier(
        version=data["version"],
        feature_names=names,
        weights=tuple(float(w) for w in data["weights"].values()),
        bias=float(data["bias"]),
        threshold=float(data["threshold"]),
        training=data["training"],
    )


def _logistic(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z)) if z > -700 else 0.0


MODEL_FILE = "classifier.json"


def load_shipped() -> Classifier | None:
    """The classifier shipped in ``corpus/models/``; None (the rules alone) when there is none.

    ``CHHANNI_RULES_ONLY=1`` turns it off. A model file that does not fit this code (stale
    after a feature change) is reported on stderr and the rules run alone: ``MODEL_VERSION``
    then says so, and ``corpus train`` writes a fitting one.
    """
    if os.environ.get("CHHANNI_RULES_ONLY", "") not in ("", "0"):
        return None
    path = Path(__file__).with_name("models") / MODEL_FILE  # (importlib.resources: ~13 ms to import)
    if not path.is_file():
        return None
    try:
        return from_json(json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, KeyError, TypeError) as error:
        print(f"corpus/models/{MODEL_FILE}: {error}; using the rules alone", file=sys.stderr)
        return None


CLASSIFIER: Classifier | None = load_shipped()
