"""The dataset card (README.md of a release): Hugging Face YAML header + a page people read."""

from __future__ import annotations

from collections import Counter

import yaml

from corpus.labels import CATEGORIES, LANGUAGE_NAMES, LANGUAGES, SPLITS
from corpus.prelabel import MODEL_VERSION
from corpus.schema import SCHEMA_VERSION, TABLES, features_yaml

LICENSE = "cc-by-4.0"


def yaml_header(context: dict) -> str:
    configs = []
    infos = []
    for table in TABLES:
        files = context["data_files"][table]
        configs.append(
            {
                "config_name": table,
                "data_files": [{"split": s, "path": files[s]} for s in SPLITS if s in files],
                **({"default": True} if table == "documents" else {}),
            }
        )
        infos.append(
            {
                "config_name": table,
                "features": features_yaml(table),
                "splits": [
                    {
                        "name": s,
                        "num_bytes": context["num_bytes"][table][s],
                        "num_examples": context["rows"][table][s],
                    }
                    for s in SPLITS
                    if s in files
                ],
            }
        )
    n_docs = len(context["documents"])
    header = {
        "pretty_name": "Chhanni: content vs boilerplate in Bengali and Hindi news",
        "language": sorted({d.lang for d in context["documents"]}) or list(LANGUAGES),
        "license": LICENSE,
        "multilinguality": "multilingual",
        "size_categories": ["n<1K" if n_docs < 1000 else "1K<n<10K" if n_docs < 10_000 else "10K<n<100K"],
        "source_datasets": ["original"],
        "task_categories": ["token-classification", "text-classification"],
        "tags": ["boilerplate-removal", "web-cleaning", "news", "span-classification"],
        "configs": configs,
        "dataset_info": infos,
    }
    return "---\n" + yaml.safe_dump(header, allow_unicode=True, sort_keys=False, width=100) + "---\n"


def _table(head: list[str], rows: list[list]) -> list[str]:
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return out


def render_card(context: dict) -> str:
    docs = context["documents"]
    version = context["version"]
    langs = sorted({d.lang for d in docs})
    by_lang_cat: Counter = Counter()
    chars_by_lang_label: Counter = Counter()
    for d in docs:
        for s in d.spans:
            by_lang_cat[(d.lang, s.category)] += 1
            chars_by_lang_label[(d.lang, s.label)] += s.end - s.start
    sources = Counter(d.label_source for d in docs)
    present = [s for s in SPLITS if s in context["data_files"]["documents"]]
    absent = [s for s in SPLITS if s not in present]

    lines = [
        f"# Chhanni v{version}",
        "",
        'Chhanni (ছাঁকনি / छलनी, "sieve") marks which parts of scraped Bengali and Hindi news articles',
        "are the article itself (**content**) and which are the page around it (**boilerplate**: ads,",
        '"read more" lists, source lines, tag clouds, schedules glued on by the scraper, widgets).',
        "Every non-whitespace character of every article belongs to exactly one labelled span with exact",
        "code-point offsets.",
        "",
        "## Use",
        "",
        "```python",
        "from datasets import load_dataset",
        "",
        f'docs = load_dataset("releases/v{version}", "documents")   # one row per article, spans nested',
        f'spans = load_dataset("releases/v{version}", "spans")      # one row per span',
        'names = docs["train"].features["spans"].feature["category"].names',
        "```",
        "",
        "## Splits",
        "",
        "Documents are assigned to train/validation/test (80/10/10) by the sha256 of their `doc_id`,",
        "so a document keeps its split across releases. A split with no documents has no file and is",
        "not declared: "
        + (
            f"this release has **{', '.join(present)}** only ({', '.join(absent)} would be empty with "
            f"{len(docs)} documents)."
            if absent
            else "this release has all three splits."
        ),
        "",
    ]
    lines += _table(
        ["config", *present],
        [[t, *[context["rows"][t].get(s, 0) for s in present]] for t in TABLES],
    )
    lines += [
        "",
        "## Labels",
        "",
        "Two labels and thirteen fine categories; the label is derived from the category.",
        "",
    ]
    lines += _table(
        ["category", "label", "definition"],
        [[f"`{c.name}`", c.label, c.definition] for c in CATEGORIES],
    )
    lines += ["", "## Counts", "", "Spans per language and category:", ""]
    lines += _table(
        ["category", *langs, "total"],
        [
            [
                f"`{c.name}`",
                *[by_lang_cat[(lang, c.name)] for lang in langs],
                sum(by_lang_cat[(lang, c.name)] for lang in langs),
            ]
            for c in CATEGORIES
        ],
    )
    lines += ["", "Characters (inside spans) per language and label:", ""]
    if context.get("chart_path"):
        lines += [f"![Content and boilerplate characters per language]({context['chart_path']})", ""]
    lines += _table(
        ["language", "documents", "content chars", "boilerplate chars"],
        [
            [
                LANGUAGE_NAMES.get(lang, lang),
                sum(d.lang == lang for d in docs),
                chars_by_lang_label[(lang, "content")],
                chars_by_lang_label[(lang, "boilerplate")],
            ]
            for lang in langs
        ],
    )
    lines += [
        "",
        "## How it was made",
        "",
        "1. **Ingest**: strict UTF-8, NFC, LF line endings before any offset; sha256 of raw bytes and of",
        "   the stored text; language by langdetect with a fixed seed; exact duplicates kept once.",
        "2. **Segment**: lines, split further where a piece of another kind is glued into a line with",
        "   no separator (see `corpus/segment.py`).",
        f"3. **Pre-label**: the model `{MODEL_VERSION}`: rules over features (`corpus/prelabel.py`:",
        "   sentence punctuation including the danda, length, stop-word density, repetition, cue",
        "   phrases in bn/hi/en, position in the page, Latin/digit share) and a logistic regression",
        "   learned from the gold that decides each piece's label from those features, its neighbours,",
        "   the rules' output (`corpus/classifier.py`) and how often its line repeats across the",
        "   corpus beyond the document's own typical line (`corpus/repetition.py`).",
        "4. **Human labels**: where `annotation/` holds adjudicated Label Studio annotations for a",
        "   document, its spans are human (`label_source = human`); otherwise they are the pre-labels.",
        f"5. **Validate** against the pandera schemas of data contract {SCHEMA_VERSION} (`schema/`).",
        "",
        f"Label sources in this release: {sources.get('human', 0)} documents human, "
        f"{sources.get('model', 0)} model.",
        "",
        *_annotation_section(context),
        *_example_rows(docs),
        "## Intended uses",
        "",
        "- Training and evaluating boilerplate removers and main-content extractors for Bengali and",
        "  Hindi news (line, sentence or span classifiers; `label` for binary, `category` for fine).",
        "- Measuring how much of a crawled Indic news page is article text before building LM corpora.",
        "- Not for: judging the publishers or the articles' content; the texts are news as scraped.",
        "",
        "## Limits",
        "",
        "- Small: this release covers the seed articles only; numbers are not yet a benchmark.",
        "- Model-labelled documents are pre-labels, not gold: check `label_source` before training.",
        "- News on technology dominates the seeds; other domains and sites may look different.",
        "",
        "## Licence and citation",
        "",
        f"Annotations and code: {LICENSE.upper()} / MIT. The article texts remain their publishers';",
        "they are included for research on boilerplate removal.",
        "",
        "```bibtex",
        "@misc{chhanni,",
        "  title  = {Chhanni: content and boilerplate spans in Bengali and Hindi news articles},",
        f"  note   = {{Version {version}}},",
        "  year   = {2026}",
        "}",
        "```",
        "",
    ]
    return yaml_header(context) + "\n" + "\n".join(lines)


def _annotation_section(context: dict) -> list[str]:
    if not context.get("evaluation_md"):
        return []
    annotators = context.get("annotators") or []
    agreement = context.get("agreement")
    lines = [
        "## Annotation",
        "",
        f"Human labels were made in Label Studio (pre-labelled tasks, corrected span by span, sub-line "
        f"splits included) by {len(annotators)} annotator(s) ({', '.join(annotators) or 'none recorded'}; "
        "pseudonyms, no identities are published), following `annotation/GUIDELINES.md`"
        + (f" version {context['guidelines_version']}" if context.get("guidelines_version") else "")
        + " and the labelling standard. The pulled annotation files in `annotation/` are the source of "
        "every human span.",
        "",
    ]
    if agreement:
        lines += [
            f"Inter-annotator agreement (Krippendorff's alpha, nominal, per character): {agreement}.",
            "",
        ]
    else:
        lines += ["Each document has one adjudicated annotation, so no agreement figure is reported yet.", ""]
    lines += [
        "## Pre-label quality",
        "",
        "How the shipped pre-labeler scores against the human gold of this release (in-sample: the",
        "seeds are small, were read while writing the rules and are part of the classifier's training",
        "data, so these numbers are optimistic):",
        "",
        *_cross_validated(),
        context["evaluation_md"].replace("### ", "#### "),
    ]
    return lines


def _example_rows(docs) -> list[str]:
    if not docs:
        return []
    doc = docs[0]
    rows = [
        [i, s.start, s.end, s.label, f"`{s.category}`", s.label_source, _cell(doc.text[s.start : s.end])]
        for i, s in enumerate(doc.spans[:8])
    ]
    return [
        "## Example rows",
        "",
        f"The first spans of `{doc.doc_id}` ({LANGUAGE_NAMES.get(doc.lang, doc.lang)}), `spans` config:",
        "",
        *_table(
            ["span_index", "start", "end", "label", "category", "label_source", "text (first 40 chars)"], rows
        ),
        "",
    ]


def _cell(text: str) -> str:
    short = text[:40].replace("\n", " ⏎ ").replace("|", "\\|")
    return short + ("…" if len(text) > 40 else "")


def _cross_validated() -> list[str]:
    """The classifier's own leave-one-out figures, from its training record."""
    from corpus.classifier import CLASSIFIER

    record = (CLASSIFIER.training if CLASSIFIER else {}).get("cross_validated_char_f1", {})
    seeds = record.get("classifier", {}).get("seed", {}).get("all")
    if not seeds:
        return []
    return [
        f"Out of sample, leave-one-document-out over the seeds, `{CLASSIFIER.version}` reaches "
        f"character-level F1 {seeds['content']:.3f} (content) and {seeds['boilerplate']:.3f} "
        "(boilerplate); see the README for the held-out comparison with other tools.",
        "",
    ]
