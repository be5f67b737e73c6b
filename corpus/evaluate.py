"""Evaluate predicted spans against gold: character- and span-level P/R/F1 and a confusion table.

Character level counts non-whitespace characters only (whitespace belongs to no span), so a
long paragraph weighs by its length. Span level counts exact matches of ``(start, end, category)``
and, for the binary view, of maximal same-label runs.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from corpus.document import Span
from corpus.labels import CATEGORY_NAMES, LABELS, label_of


@dataclass
class Scores:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def support(self) -> int:
        return self.tp + self.fn

    def as_dict(self) -> dict:
        return {
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
            "support": self.support,
        }


@dataclass
class Evaluation:
    char_label: dict[str, Scores] = field(default_factory=lambda: {k: Scores() for k in LABELS})
    char_category: dict[str, Scores] = field(default_factory=lambda: {k: Scores() for k in CATEGORY_NAMES})
    span_label: dict[str, Scores] = field(default_factory=lambda: {k: Scores() for k in LABELS})
    span_category: dict[str, Scores] = field(default_factory=lambda: {k: Scores() for k in CATEGORY_NAMES})
    confusion: Counter = field(default_factory=Counter)  # (gold category, predicted category) → chars
    by_language: dict[str, Evaluation] = field(default_factory=dict)
    documents: int = 0

    @property
    def relabel_per_document(self) -> float:
        """Mean non-whitespace characters per document whose category an annotator must change."""
        wrong = sum(n for (g, p), n in self.confusion.items() if g != p)
        return wrong / self.documents if self.documents else 0.0

    @property
    def relabel_share(self) -> float:
        total = sum(self.confusion.values())
        return sum(n for (g, p), n in self.confusion.items() if g != p) / total if total else 0.0

    def as_dict(self) -> dict:
        return {
            "documents": self.documents,
            "char": {
                "label": {k: v.as_dict() for k, v in self.char_label.items()},
                "category": {k: v.as_dict() for k, v in self.char_category.items() if v.support or v.fp},
            },
            "span": {
                "label": {k: v.as_dict() for k, v in self.span_label.items()},
                "category": {k: v.as_dict() for k, v in self.span_category.items() if v.support or v.fp},
            },
            "confusion": [
                {"gold": g, "predicted": p, "chars": n} for (g, p), n in sorted(self.confusion.items())
            ],
            "by_language": {k: v.as_dict() for k, v in sorted(self.by_language.items())},
        }


def char_categories(text: str, spans: Iterable[Span]) -> list[str | None]:
    """The category of every character (None for whitespace and unlabelled characters)."""
    cats: list[str | None] = [None] * len(text)
    for s in spans:
        for i in range(s.start, s.end):
            if not text[i].isspace():
                cats[i] = s.category
    return cats


def label_runs(text: str, spans: list[Span]) -> set[tuple[int, int, str]]:
    """Maximal runs of neighbouring spans with the same binary label."""
    runs: list[list] = []
    for s in sorted(spans, key=lambda s: s.start):
        if runs and runs[-1][2] == s.label:
            runs[-1][1] = s.end
        else:
            runs.append([s.start, s.end, s.label])
    return {tuple(r) for r in runs}


def add_document(ev: Evaluation, text: str, gold: list[Span], predicted: list[Span]) -> None:
    ev.documents += 1
    g_chars, p_chars = char_categories(text, gold), char_categories(text, predicted)
    for g, p in zip(g_chars, p_chars):
        if g is None:
            continue
        p = p or "other"
        ev.confusion[(g, p)] += 1
        gl, pl = label_of(g), label_of(p)
        if g == p:
            ev.char_category[g].tp += 1
        else:
            ev.char_category[g].fn += 1
            ev.char_category[p].fp += 1
        if gl == pl:
            ev.char_label[gl].tp += 1
        else:
            ev.char_label[gl].fn += 1
            ev.char_label[pl].fp += 1
    _span_scores(
        ev.span_category,
        {(s.start, s.end, s.category) for s in gold},
        {(s.start, s.end, s.category) for s in predicted},
    )
    _span_scores(ev.span_label, label_runs(text, gold), label_runs(text, predicted))


def _span_scores(table: dict[str, Scores], gold: set, predicted: set) -> None:
    for key in gold & predicted:
        table[key[2]].tp += 1
    for key in gold - predicted:
        table[key[2]].fn += 1
    for key in predicted - gold:
        table[key[2]].fp += 1


def evaluate(items: Iterable[tuple[str, str, list[Span], list[Span]]]) -> Evaluation:
    """``items``: ``(language, text, gold spans, predicted spans)`` per document."""
    overall = Evaluation()
    for lang, text, gold, predicted in items:
        add_document(overall, text, gold, predicted)
        add_document(overall.by_language.setdefault(lang, Evaluation()), text, gold, predicted)
    return overall


def markdown_report(ev: Evaluation, title: str = "Pre-labels vs gold") -> str:
    """Tables for the card and the terminal: per label, per category, per language, confusion."""
    lines = [
        f"### {title}",
        "",
        f"{ev.documents} documents; character level counts non-whitespace characters.",
        "",
    ]
    lines += [
        "| label | char P | char R | char F1 | chars | span P | span R | span F1 |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for label in LABELS:
        c, s = ev.char_label[label], ev.span_label[label]
        lines.append(
            f"| {label} | {c.precision:.3f} | {c.recall:.3f} | {c.f1:.3f} | {c.support} | "
            f"{s.precision:.3f} | {s.recall:.3f} | {s.f1:.3f} |"
        )
    if len(ev.by_language) > 1:
        lines += ["", "| language | content F1 | boilerplate F1 | documents |", "|---|---|---|---|"]
        for lang, sub in sorted(ev.by_language.items()):
            lines.append(
                f"| {lang} | {sub.char_label['content'].f1:.3f} | {sub.char_label['boilerplate'].f1:.3f} | "
                f"{sub.documents} |"
            )
    lines += ["", "| category | char P | char R | char F1 | chars | span F1 |", "|---|---|---|---|---|---|"]
    for cat in CATEGORY_NAMES:
        c = ev.char_category[cat]
        if c.support or c.fp:
            lines.append(
                f"| {cat} | {c.precision:.3f} | {c.recall:.3f} | {c.f1:.3f} | {c.support} | "
                f"{ev.span_category[cat].f1:.3f} |"
            )
    used = [c for c in CATEGORY_NAMES if any(c in key for key in ev.confusion)]
    lines += ["", "Confusion (characters; rows gold, columns predicted):", ""]
    lines += ["| gold \\ predicted | " + " | ".join(used) + " |", "|---|" + "---|" * len(used)]
    for g in used:
        lines.append(f"| {g} | " + " | ".join(str(ev.confusion.get((g, p), "")) or "" for p in used) + " |")
    return "\n".join(lines) + "\n"


def gold_from_release(release) -> list[tuple[str, str, list[Span]]]:
    """``(lang, text, human spans)`` for every human-labelled document of a release."""
    from corpus.release import decoded_rows, read_release_tables

    out = []
    for table in read_release_tables(release)["documents"].values():
        for row in decoded_rows(table):
            if row["label_source"] != "human":
                continue
            spans = [
                Span(s["start"], s["end"], s["category"], s["score"], s["label_source"]) for s in row["spans"]
            ]
            out.append((row["lang"], row["text"], spans))
    return sorted(out, key=lambda item: item[1])


def gold_from_annotations(seeds, annotations) -> tuple[list[tuple[str, str, list[Span]]], list]:
    """Gold straight from the committed annotation files (no release needed)."""
    from corpus.annotations import load_human_labels
    from corpus.ingest import Problem, read_documents

    docs = [d for d in read_documents(seeds, display_root=seeds) if not isinstance(d, Problem)]
    human = load_human_labels(annotations, docs)
    gold = [(d.lang, d.text, list(human.spans[d.doc_id])) for d in docs if d.doc_id in human.spans]
    return gold, human.problems


def evaluate_prelabeler(gold: list[tuple[str, str, list[Span]]]) -> Evaluation:
    """The shipped pre-labeler on the gold documents, which are its corpus (lines' repetition)."""
    run = corpus_prelabeler([text for _, text, _ in gold])
    return evaluate((lang, text, spans, run(text, lang)) for lang, text, spans in gold)


def corpus_prelabeler(texts: list[str]) -> Callable[[str, str], list[Span]]:
    """``prelabel_text`` with the line statistics of ``texts`` (the corpus being labelled)."""
    from functools import partial

    from corpus.prelabel import prelabel_text
    from corpus.repetition import LineStats

    return partial(prelabel_text, corpus=LineStats.of_texts(texts))


def compare_systems(
    items: list[tuple[str, str, list[Span]]], systems: dict[str, Callable[[str, str], list[Span]]]
) -> dict[str, Evaluation]:
    """Run every system on the same gold documents; ``systems`` map (text, lang) → spans."""
    return {
        name: evaluate((lang, text, gold, run(text, lang)) for lang, text, gold in items)
        for name, run in systems.items()
    }


def comparison_table(results: dict[str, Evaluation]) -> str:
    """Binary character-level P/R/F1 per system and language (the README's comparison table)."""
    lines = [
        "| system | lang | content P | content R | content F1 "
        "| boilerplate P | boilerplate R | boilerplate F1 |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, ev in results.items():
        for lang, sub in [*sorted(ev.by_language.items()), ("all", ev)]:
            c, b = sub.char_label["content"], sub.char_label["boilerplate"]
            lines.append(
                f"| {name} | {lang} | {c.precision:.3f} | {c.recall:.3f} | {c.f1:.3f} | "
                f"{b.precision:.3f} | {b.recall:.3f} | {b.f1:.3f} |"
            )
    return "\n".join(lines) + "\n"
