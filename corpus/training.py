"""Train and cross-validate the classifier of ``corpus.classifier`` on the gold.

Training data: the human-labelled seed documents (``annotation/``) and the hand-labelled
synthetic pages of ``evaluation/heldout/``. Each piece of the segmenter is one example; its
target is the label of the majority of its non-whitespace gold characters.

Every number reported for the classifier comes from a model that did not see the document
it is scored on: leave-one-document-out over the seeds (each seed is its own group) and
leave-one-site-out over the synthetic pages (all pages of a fictional site form one group, so
a site's style is never both trained on and tested). The rules (``rules-…``) are scored on the
same documents; they were written reading the seeds and revised after an analysis of the
synthetic pages, so their numbers there are in-sample.

scikit-learn is needed here only (``pip install -e '.[train]'``); the shipped model is a
JSON file of weights.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from corpus.classifier import Classifier, feature_names, piece_vectors
from corpus.document import Span
from corpus.evaluate import Evaluation, char_categories, evaluate
from corpus.labels import label_of

CLASSIFIER_VERSION = "lr-1.2.0"
REGULARISATION = 1.0  # scikit-learn's C; chosen among 0.1, 0.3, 1, 3, 10 by the cross-validation


@dataclass(frozen=True)
class TrainingDocument:
    group: str  # documents of one group are held out together
    source: str  # "seed" or "synthetic"
    lang: str
    text: str
    gold: tuple[Span, ...]
    line_repeats: tuple[int, ...] = ()  # per line: repetition across the training documents


@dataclass(frozen=True)
class PieceExamples:
    vectors: list[list[float]]
    targets: list[int]  # 1 = content


def training_documents(seeds: Path, annotations: Path, heldout: Path) -> list[TrainingDocument]:
    from corpus.evaluate import gold_from_annotations
    from corpus.heldout import load_heldout

    gold, problems = gold_from_annotations(seeds, annotations)
    if problems:
        raise ValueError(f"{annotations}: {problems[0]}")
    docs = [
        TrainingDocument(
            f"seed:{hashlib.sha256(text.encode()).hexdigest()[:12]}", "seed", lang, text, tuple(spans)
        )
        for lang, text, spans in gold
    ]
    docs += [
        TrainingDocument(f"site:{page.site}", "synthetic", page.lang, page.text, tuple(page.spans))
        for page in load_heldout(heldout)
    ]
    return with_line_repeats(docs)


def with_line_repeats(docs: Sequence[TrainingDocument]) -> list[TrainingDocument]:
    """The documents with their lines' repetition across all of ``docs`` (their corpus)."""
    from dataclasses import replace

    from corpus.repetition import LineStats

    stats = LineStats.of_texts(d.text for d in docs)
    return [replace(d, line_repeats=tuple(stats.line_repeats(d.text))) for d in docs]


def data_sha256(docs: Sequence[TrainingDocument]) -> str:
    """sha256 of the training data (texts, languages, gold spans), independent of file layout."""
    canonical = sorted(
        [d.source, d.group, d.lang, d.text, [[s.start, s.end, s.category] for s in d.gold]] for d in docs
    )
    return hashlib.sha256(json.dumps(canonical, ensure_ascii=False).encode("utf-8")).hexdigest()


def piece_examples(doc: TrainingDocument) -> PieceExamples:
    from corpus.prelabel import document_pieces, rule_pass

    pieces = document_pieces(doc.text)
    result = rule_pass(doc.text, doc.lang, pieces, doc.line_repeats)
    cats = char_categories(doc.text, doc.gold)
    targets = []
    for p in pieces:
        votes = Counter(
            label_of(cats[k]) for k in range(p.start, p.end) if cats[k] and not doc.text[k].isspace()
        )
        targets.append(int(bool(votes) and votes.most_common(1)[0][0] == "content"))
    vectors = piece_vectors(result.features, result.zones, result.rules, result.corpus_repeats)
    return PieceExamples(vectors, targets)


def fit(examples: Sequence[PieceExamples], training: dict | None = None) -> Classifier:
    """Standard-scaled logistic regression; the scaling is folded into the weights."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    x = np.array([v for e in examples for v in e.vectors], dtype=np.float64)
    y = np.array([t for e in examples for t in e.targets])
    scaler = StandardScaler().fit(x)
    model = LogisticRegression(C=REGULARISATION, max_iter=10000).fit(scaler.transform(x), y)
    scale = scaler.scale_
    weights = model.coef_[0] / scale
    bias = float(model.intercept_[0] - np.dot(model.coef_[0], scaler.mean_ / scale))
    return Classifier(
        version=CLASSIFIER_VERSION,
        feature_names=tuple(feature_names()),
        weights=tuple(round(float(w), 12) for w in weights),
        bias=round(bias, 12),
        threshold=0.5,
        training=training or {},
    )


@dataclass
class CrossValidation:
    """Scores on documents the scored model never saw, by source, for the classifier and the rules."""

    classifier: dict[str, Evaluation]
    rules: dict[str, Evaluation]
    folds: int


def cross_validate(docs: Sequence[TrainingDocument], examples: Sequence[PieceExamples]) -> CrossValidation:
    """``examples`` are ``piece_examples`` of ``docs``, in the same order."""
    from corpus.prelabel import prelabel_with

    predicted: list[list[Span]] = [[] for _ in docs]
    groups = sorted({d.group for d in docs})
    for group in groups:
        model = fit([e for d, e in zip(docs, examples) if d.group != group])
        for i, d in enumerate(docs):
            if d.group == group:
                predicted[i] = prelabel_with(d.text, d.lang, model, d.line_repeats)
    sources = sorted({d.source for d in docs})
    classifier, rules = {}, {}
    for source in sources:
        chosen = [(i, d) for i, d in enumerate(docs) if d.source == source]
        classifier[source] = evaluate((d.lang, d.text, list(d.gold), predicted[i]) for i, d in chosen)
        rules[source] = evaluate(
            (d.lang, d.text, list(d.gold), prelabel_with(d.text, d.lang, None)) for _, d in chosen
        )
    return CrossValidation(classifier, rules, len(groups))


def summary(cv: CrossValidation) -> dict:
    """Binary character-level F1 per source and language, for the model file and the README."""

    def f1s(ev: Evaluation) -> dict:
        out = {
            "all": {k: round(v.f1, 4) for k, v in ev.char_label.items()},
            "chars_to_relabel_per_document": round(ev.relabel_per_document, 1),
            "share_to_relabel": round(ev.relabel_share, 4),
        }
        for lang, sub in sorted(ev.by_language.items()):
            out[lang] = {k: round(v.f1, 4) for k, v in sub.char_label.items()}
        return out

    return {
        "folds": cv.folds,
        "classifier": {source: f1s(ev) for source, ev in cv.classifier.items()},
        "rules": {source: f1s(ev) for source, ev in cv.rules.items()},
    }


def train_and_validate(docs: Sequence[TrainingDocument]) -> tuple[Classifier, CrossValidation]:
    """The classifier on all of ``docs``, its training record holding the cross-validation."""
    import sklearn

    examples = [piece_examples(d) for d in docs]
    cv = cross_validate(docs, examples)
    training = {
        "data_sha256": data_sha256(docs),
        "documents": dict(sorted(Counter(d.source for d in docs).items())),
        "groups": len({d.group for d in docs}),
        "pieces": sum(len(e.targets) for e in examples),
        "regularisation_C": REGULARISATION,
        "scikit_learn": sklearn.__version__,
        "cross_validation": "leave-one-document-out over seeds, leave-one-site-out over synthetic pages",
    }
    training["cross_validated_char_f1"] = summary(cv)
    model = fit(examples, training)
    return model, cv


def same_model(a: Classifier, b: Classifier, tolerance: float = 1e-6) -> bool:
    """Same version, features and training data, weights equal up to the optimiser's noise."""
    return (
        a.version == b.version
        and a.feature_names == b.feature_names
        and _record(a.training) == _record(b.training)
        and abs(a.bias - b.bias) <= tolerance * max(1.0, abs(b.bias))
        and all(abs(x - y) <= tolerance * max(1.0, abs(y)) for x, y in zip(a.weights, b.weights))
    )


def write_model(model: Classifier, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(model.as_json(), ensure_ascii=False, indent=2, sort_keys=False) + "\n"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def _record(training: dict) -> dict:
    return {k: v for k, v in training.items() if k != "scikit_learn"}
