"""SYNTHETIC scale corpus for benchmarks: N deterministic news-like articles as JSONL shards.

    python bench/make_corpus.py --n 10000 --out bench/data/n10k
    python bench/make_corpus.py --n 1000000 --stdout | ...      # stream, no disk

Every article is *synthetic*: it recombines sentences, headlines and boilerplate blocks taken
from ``seeds/`` (classified by the shipped pre-labeler) and the cue phrases of
``corpus.lexicon``, so it looks like a scraped Bengali or Hindi news page (site chrome,
title, byline, paragraphs with ads and "read more" blocks glued in, listings and tags at the
end). Records say so (``"source": "synthetic"``, ids ``synthetic-…``, URLs under
``synthetic.invalid``); they are for measuring speed and memory and are never part of a
release.

Article *i* depends only on ``(seed, i)`` (its own ``random.Random``), so any prefix of a
larger corpus equals the smaller corpus and shards can be produced in any order.
Sizes are drawn from the seeds' own size distribution (a seed's UTF-8 size times a
log-normal factor, sigma 0.35), the language from the seeds' language shares.
"""

from __future__ import annotations

import argparse
import html
import json
import math
import random
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
SOURCE = "synthetic"
_SENTENCE = re.compile(r"(?<=[।!?])\s+|(?<=\.)\s+(?=\S)")
_HAS_INDIC = re.compile("[\u0980-\u09ff\u0900-\u097f]")
_CONTENT = {"title", "subheading", "body", "caption"}
_PLAIN = re.compile(r"^[^\\^$()\[\]?*+|{}]+$")  # a lexicon cue that is a literal phrase

# Lines a scraper keeps around articles, beyond those in the seeds (as templates for both
# languages; digits are converted to the article's script).
_BYLINES = {
    "bn": ("নিজস্ব প্রতিবেদক", "অনলাইন ডেস্ক", "স্টাফ রিপোর্টার", "ডেস্ক রিপোর্ট"),
    "hi": ("न्यूज़ डेस्क", "ब्यूरो रिपोर्ट", "संवाददाता", "न्यूज डेस्क"),
}
_DATELINES = {
    "bn": ("প্রকাশ: {d} {m} {y}, {h}:{mi}", "আপডেট: {d} {m} {y}, {h}:{mi}"),
    "hi": ("प्रकाशित: {d} {m} {y}, {h}:{mi}", "अपडेटेड: {d} {m} {y} {h}:{mi}"),
}
_MONTHS = {
    "bn": ("জানুয়ারি", "ফেব্রুয়ারি", "মার্চ", "এপ্রিল", "মে", "জুন", "জুলাই", "আগস্ট", "সেপ্টেম্বর", "অক্টোবর"),
    "hi": ("जनवरी", "फरवरी", "मार्च", "अप्रैल", "मई", "जून", "जुलाई", "अगस्त", "सितंबर", "अक्टूबर"),
}
_DIGITS = {"bn": "০১২৩৪৫৬৭৮৯", "hi": "0123456789"}
_MENUS = {
    "bn": ("হোম", "জাতীয়", "রাজনীতি", "বিশ্ব", "খেলা", "বিনোদন", "প্রযুক্তি", "মতামত", "অর্থনীতি"),
    "hi": ("होम", "देश", "दुनिया", "राजनीति", "खेल", "मनोरंजन", "टेक", "बिजनेस", "राज्य"),
}


@dataclass
class Pools:
    """Material per language ("bn", "hi"); ``any`` blocks have no Indic letters."""

    sentences: dict[str, list[str]] = field(default_factory=dict)
    headlines: dict[str, list[str]] = field(default_factory=dict)
    head: dict[str, list[list[str]]] = field(default_factory=dict)
    inline: dict[str, list[list[str]]] = field(default_factory=dict)
    tail: dict[str, list[list[str]]] = field(default_factory=dict)
    sizes: list[int] = field(default_factory=list)
    hi_share: float = 0.2


def _blocks(lines: list[tuple[str, str]]) -> tuple[list, list, list, list, list]:
    """Split a labelled seed into (sentences, headlines, head, inline, tail) material."""
    sentences: list[str] = []
    headlines: list[str] = []
    head: list[list[str]] = []
    inline: list[list[str]] = []
    tail: list[list[str]] = []
    body_at = [i for i, (cat, _) in enumerate(lines) if cat == "body"]
    first, last = (body_at[0], body_at[-1]) if body_at else (len(lines), -1)
    run: list[str] = []
    run_zone = ""
    for i, (category, line) in enumerate(lines):
        zone = "head" if i < first else "tail" if i > last else "inline"
        if category in _CONTENT:
            if run:
                {"head": head, "inline": inline, "tail": tail}[run_zone].append(run)
                run = []
            if category == "body":
                sentences += [s.strip() for s in _SENTENCE.split(line) if len(s.strip()) > 20]
            else:
                headlines.append(line.strip())
            continue
        if not run:
            run_zone = zone
        run.append(line.strip())
        if category == "listing" and 10 < len(line) < 160 and not line.rstrip().endswith(("।", ".")):
            headlines.append(line.strip())
    if run:
        {"head": head, "inline": inline, "tail": tail}[run_zone].append(run)
    return sentences, headlines, head, inline, tail


@lru_cache(maxsize=1)
def load_pools(seeds: Path = SEEDS) -> Pools:
    """Classify every seed line with the shipped pre-labeler and pool it by language and zone."""
    from corpus.ingest import read_documents
    from corpus.lexicon import CUES
    from corpus.prelabel import prelabel_document

    pools = Pools()
    langs: list[str] = []
    for lang in ("bn", "hi"):
        for name in ("sentences", "headlines", "head", "inline", "tail"):
            getattr(pools, name)[lang] = []
    for doc in read_documents(seeds):
        doc = prelabel_document(doc)
        langs.append(doc.lang)
        pools.sizes.append(len(doc.text.encode("utf-8")))
        lines: list[tuple[str, str]] = []
        offset = 0
        for line in doc.text.split("\n"):
            if line.strip():
                span = next(s for s in doc.spans if s.end > offset + len(line) - len(line.lstrip()))
                lines.append((span.category, line))
            offset += len(line) + 1
        sentences, headlines, head, inline, tail = _blocks(lines)
        pools.sentences[doc.lang] += sentences
        pools.headlines[doc.lang] += headlines
        for name, found in (("head", head), ("inline", inline), ("tail", tail)):
            for block in found:
                for lang in ("bn", "hi") if not _HAS_INDIC.search(" ".join(block)) else (doc.lang,):
                    getattr(pools, name)[lang].append(block)
    pools.hi_share = langs.count("hi") / len(langs)
    # Lexicon cue phrases become extra blocks, so Hindi pages get Hindi chrome too.
    for lang, script in (("bn", "\u0980-\u09ff"), ("hi", "\u0900-\u097f")):
        own = re.compile(f"[{script}]")
        for category, phrases in CUES.items():
            literal = [p.strip() for p in phrases if _PLAIN.match(p) and own.search(p)]
            for phrase in literal:
                if category in ("related_links", "listing"):
                    pools.tail[lang].append([phrase])  # headlines are added per article
                    pools.inline[lang].append([phrase])
                elif category in ("advertisement", "widget"):
                    pools.inline[lang].append([phrase])
                    pools.tail[lang].append([phrase])
                elif category == "navigation":
                    pools.head[lang].append([phrase])
    return pools


def _digits(lang: str, number: int, width: int = 1) -> str:
    return "".join(_DIGITS[lang][int(c)] for c in f"{number:0{width}d}")


def _headline(rng: random.Random, pools: Pools, lang: str) -> str:
    if pools.headlines[lang] and rng.random() < 0.5:
        return rng.choice(pools.headlines[lang])
    words = rng.choice(pools.sentences[lang]).rstrip("।!?.").split()
    start = rng.randrange(max(1, len(words) - 6))
    return " ".join(words[start : start + rng.randint(4, 9)])


def _list_block(rng: random.Random, pools: Pools, lang: str, block: list[str]) -> list[str]:
    """A cue block; a lone "read more"/"latest" header gets 2–6 headlines under it."""
    if len(block) == 1 and rng.random() < 0.7:
        return block + [_headline(rng, pools, lang) for _ in range(rng.randint(2, 6))]
    return list(block)


def make_article(index: int, seed: int = 0, pools: Pools | None = None) -> dict:
    """Synthetic article ``index``: a JSONL record ``{"id", "text", "url", "source"}``."""
    pools = pools or load_pools()
    rng = random.Random(f"chhanni-synthetic:{seed}:{index}")
    lang = "hi" if rng.random() < pools.hi_share else "bn"
    target = rng.choice(pools.sizes) * math.exp(rng.gauss(-(0.35**2) / 2, 0.35))
    target = min(max(target, 1500.0), 40000.0)
    lines: list[str] = []
    if rng.random() < 0.6:
        menu = rng.sample(_MENUS[lang], rng.randint(3, 6))
        lines.append(rng.choice((" | ", " » ", " ")).join(menu))
    for _ in range(rng.randint(0, 2)):
        lines += _list_block(rng, pools, lang, rng.choice(pools.head[lang]))
    lines.append(_headline(rng, pools, lang))
    if rng.random() < 0.7:
        lines.append(rng.choice(_BYLINES[lang]))
    if rng.random() < 0.7:
        lines.append(
            rng.choice(_DATELINES[lang]).format(
                d=_digits(lang, rng.randint(1, 28)),
                m=rng.choice(_MONTHS[lang]),
                y=_digits(lang, rng.randint(2019, 2025)),
                h=_digits(lang, rng.randint(0, 23), 2),
                mi=_digits(lang, rng.randint(0, 59), 2),
            )
        )
    size = sum(len(line.encode("utf-8")) + 1 for line in lines)
    body_target = target * rng.uniform(0.55, 0.85)
    paragraphs = 0
    while size < body_target or paragraphs < 2:
        para = " ".join(rng.choice(pools.sentences[lang]) for _ in range(rng.randint(1, 5)))
        if paragraphs and rng.random() < 0.08:
            para = _headline(rng, pools, lang) + rng.choice(("!", "", "?")) + para  # glued subheading
        elif paragraphs and rng.random() < 0.12:
            lines.append(_headline(rng, pools, lang))  # a subheading line
        lines.append(para)
        paragraphs += 1
        if rng.random() < 0.18:
            lines += _list_block(rng, pools, lang, rng.choice(pools.inline[lang]))
        if rng.random() < 0.25:
            lines.append("")
        size = sum(len(line.encode("utf-8")) + 1 for line in lines)
    while size < target:
        block = _list_block(rng, pools, lang, rng.choice(pools.tail[lang]))
        lines += block
        size += sum(len(line.encode("utf-8")) + 1 for line in block)
    return {
        "id": f"synthetic-{seed}-{index:08d}",
        "text": "\n".join(lines),
        "url": f"https://synthetic.invalid/{lang}/{seed}/{index}",
        "source": SOURCE,
    }


def iter_articles(n: int, seed: int = 0, start: int = 0) -> Iterator[dict]:
    pools = load_pools()
    for index in range(start, start + n):
        yield make_article(index, seed, pools)


def to_html(text: str) -> str:
    """The article as the HTML a peer extractor gets: each non-empty line one ``<p>``."""
    body = "".join(f"<p>{html.escape(line)}</p>\n" for line in text.split("\n") if line.strip())
    return f"<!DOCTYPE html>\n<html><head><meta charset='utf-8'></head><body>\n{body}</body></html>\n"


def write_shards(n: int, out: Path, seed: int = 0, shard_size: int = 10_000) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for shard, start in enumerate(range(0, n, shard_size)):
        path = out / f"synthetic-{shard:05d}.jsonl"
        tmp = path.with_suffix(".jsonl.tmp")
        with tmp.open("w", encoding="utf-8") as handle:
            for record in iter_articles(min(shard_size, n - start), seed, start):
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        tmp.replace(path)
        paths.append(path)
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, required=True, help="number of articles")
    parser.add_argument("--out", type=Path, help="folder for synthetic-NNNNN.jsonl shards")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--shard-size", type=int, default=10_000)
    parser.add_argument("--start", type=int, default=0, help="first article index (with --stdout)")
    parser.add_argument("--stdout", action="store_true", help="write JSONL to stdout instead of shards")
    args = parser.parse_args(argv)
    if args.stdout:
        out = sys.stdout
        try:
            for record in iter_articles(args.n, args.seed, args.start):
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
            out.flush()
        except BrokenPipeError:
            return 1
        return 0
    if args.out is None:
        parser.error("give --out or --stdout")
    paths = write_shards(args.n, args.out, args.seed, args.shard_size)
    print(f"{args.n} synthetic articles → {len(paths)} shard(s) in {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
