"""Span viewer: a release → one static, self-contained HTML page to read its spans.

Every article of every split is shown with its spans highlighted in the category colours of
``corpus.labels``, a legend with per-category counts, filters (language, split, label,
category) and the span's label, source, score and offsets on hover. The page has no external
references (CSS and JS are inline, fonts are the reader's own), and the same release always
gives the same bytes.
"""

from __future__ import annotations

import json
from collections import Counter
from html import escape
from pathlib import Path

import pyarrow.parquet as pq

from corpus.labels import CATEGORIES, CATEGORY_NAMES, LABEL_SOURCES, LABELS, LANGUAGE_NAMES, LANGUAGES, SPLITS

# --------------------------------------------------------------------------- reading


def read_release_documents(release_dir: Path) -> list[dict]:
    """All rows of ``documents/*.parquet`` (every split present), label names decoded, by doc_id."""
    release_dir = Path(release_dir)
    files = sorted((release_dir / "documents").glob("*.parquet"))
    if not files:
        raise FileNotFoundError(f"{release_dir}: no documents/*.parquet — is this a release folder?")
    docs: list[dict] = []
    for path in files:
        split = path.name.split("-", 1)[0]
        for row in pq.read_table(path).to_pylist():
            row["split"] = split
            row["spans"] = [_decode_span(s) for s in row.get("spans") or []]
            docs.append(row)
    docs.sort(key=lambda d: (d["doc_id"], d["split"]))
    for doc in docs:
        _check_spans(doc)
    return docs


def _decode_span(span: dict) -> dict:
    out = dict(span)
    for key, names in (("label", LABELS), ("category", CATEGORY_NAMES)):
        if isinstance(out[key], int):  # ClassLabel index, as the release stores it
            out[key] = names[out[key]]
    return out


def _check_spans(doc: dict) -> None:
    """The viewer nests spans as elements: they must be sorted, in range and disjoint."""
    position, length = 0, len(doc["text"])
    for i, span in enumerate(doc["spans"]):
        if not position <= span["start"] < span["end"] <= length:
            raise ValueError(
                f"{doc['doc_id']}: span {i} [{span['start']}, {span['end']}) overlaps the previous span, "
                f"is out of order or outside the text (length {length})"
            )
        if span["category"] not in CATEGORY_NAMES:
            raise ValueError(f"{doc['doc_id']}: span {i} has unknown category {span['category']!r}")
        position = span["end"]


def _read_manifest(release_dir: Path) -> dict:
    path = Path(release_dir) / "manifest.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


# --------------------------------------------------------------------------- colours


def _luminance(colour: str) -> float:
    """WCAG relative luminance of ``#rrggbb``."""
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def text_colour(background: str) -> str:
    """Black or white, whichever contrasts more with ``background`` (WCAG contrast ratio)."""
    lum = _luminance(background)
    return "#000000" if (lum + 0.05) / 0.05 > 1.05 / (lum + 0.05) else "#ffffff"


def _tint(colour: str, amount: float = 0.22) -> str:
    """``colour`` mixed with white (``amount`` of the colour): the soft highlighting mode."""
    channels = [int(colour[i : i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(255 - (255 - c) * amount):02x}" for c in channels)


# --------------------------------------------------------------------------- rendering


def _attr(value: object) -> str:
    return escape(str(value), quote=True)


def _language(code: str) -> str:
    return f"{LANGUAGE_NAMES[code]} ({code})" if code in LANGUAGE_NAMES else code


def _span_title(span: dict) -> str:
    return (
        f"{span['category']} · {span['label']} · source: {span['label_source']} · "
        f"score {span['score']:.2f} · [{span['start']}, {span['end']})"
    )


def _render_text(doc: dict) -> str:
    """The article text with each span as a ``<mark>``; whatever lies between stays plain text."""
    text, parts, position = doc["text"], [], 0
    for i, span in enumerate(doc["spans"]):
        parts.append(escape(text[position : span["start"]], quote=False))
        parts.append(
            f'<mark class="span cat-{span["category"]}" data-i="{i}" data-category="{span["category"]}" '
            f'data-label="{span["label"]}" data-source="{_attr(span["label_source"])}" '
            f'data-score="{span["score"]:.4f}" data-start="{span["start"]}" data-end="{span["end"]}" '
            f'title="{_attr(_span_title(span))}">'
            f"{escape(text[span['start'] : span['end']], quote=False)}</mark>"
        )
        position = span["end"]
    parts.append(escape(text[position:], quote=False))
    return "".join(parts)


def _label_chars(doc: dict) -> Counter:
    chars: Counter = Counter()
    for span in doc["spans"]:
        chars[span["label"]] += span["end"] - span["start"]
    return chars


def _render_doc(doc: dict) -> str:
    chars = _label_chars(doc)
    labelled = sum(chars.values()) or 1
    content_share = 100 * chars["content"] / labelled
    cats = Counter(s["category"] for s in doc["spans"])
    composition = "".join(
        f'<span class="cat-{name}" style="flex-grow:{n}" title="{_attr(name)}: {n} chars"></span>'
        for name, n in _category_chars(doc)
    )
    meta = [
        ("language", _language(doc["lang"])),
        ("split", doc["split"]),
        ("label source", doc.get("label_source") or ""),
        ("model", doc.get("model_version") or ""),
    ]
    for key in ("source", "published"):
        if doc.get(key):
            meta.append((key, doc[key]))
    if doc.get("url"):
        # Shown as text without its scheme: the page links nowhere and loads nothing.
        meta.append(("url", doc["url"].split("://", 1)[-1]))
    badges = "".join(
        f'<span class="badge{" src-" + _attr(value) if key == "label source" else ""}">'
        f'<span class="k">{escape(key)}</span> {escape(str(value))}</span>'
        for key, value in meta
        if value
    )
    cat_list = ", ".join(f"{name} {cats[name]}" for name in CATEGORY_NAMES if cats[name])
    return (
        f'<article class="doc" id="doc-{_attr(doc["doc_id"])}" data-doc-id="{_attr(doc["doc_id"])}" '
        f'data-lang="{_attr(doc["lang"])}" data-split="{_attr(doc["split"])}" '
        f'data-source="{_attr(doc.get("label_source") or "")}" lang="{_attr(doc["lang"])}">\n'
        f'<header><h2><a href="#doc-{_attr(doc["doc_id"])}">{escape(doc["doc_id"])}</a></h2>'
        f'<div class="badges">{badges}</div>\n'
        f'<p class="counts"><b>{len(doc["spans"])}</b> spans · <b>{len(doc["text"]):,}</b> characters · '
        f"content <b>{content_share:.0f}%</b> · boilerplate <b>{100 - content_share:.0f}%</b> "
        f'<span class="muted">({escape(cat_list)})</span></p>\n'
        f'<div class="composition" aria-hidden="true">{composition}</div></header>\n'
        f'<div class="text">{_render_text(doc)}</div>\n</article>'
    )


def _category_chars(doc: dict) -> list[tuple[str, int]]:
    chars: Counter = Counter()
    for span in doc["spans"]:
        chars[span["category"]] += span["end"] - span["start"]
    return [(name, chars[name]) for name in CATEGORY_NAMES if chars[name]]


def _ordered(values: set[str], known: tuple[str, ...]) -> list[str]:
    return [v for v in known if v in values] + sorted(values - set(known))


def _checkbox(name: str, value: str, text: str, count: int, extra: str = "") -> str:
    return (
        f'<label class="check"><input type="checkbox" name="{name}" value="{_attr(value)}" checked{extra}> '
        f"<span>{escape(text)}</span> "
        f'<span class="n" data-count="{name}:{_attr(value)}">{count}</span></label>'
    )


def _render_legend(span_counts: Counter) -> str:
    groups = []
    for label in LABELS:
        items = []
        for c in CATEGORIES:
            if c.label != label:
                continue
            items.append(
                f'<li class="legend-item" title="{_attr(c.definition)}">'
                f'<label class="check"><input type="checkbox" name="cat" value="{c.name}" checked> '
                f'<span class="swatch cat-{c.name}">{escape(c.name)}</span> '
                f'<span class="n" data-count="cat:{c.name}">{span_counts[c.name]}</span></label>'
                f'<span class="def">{escape(c.definition)}</span></li>'
            )
        total = sum(span_counts[c.name] for c in CATEGORIES if c.label == label)
        groups.append(
            f'<div class="legend-group" data-label="{label}"><h3><label class="check">'
            f'<input type="checkbox" name="label" value="{label}" checked> {escape(label)} '
            f'<span class="n" data-count="label:{label}">{total}</span></label></h3>'
            f'<ul class="legend">{"".join(items)}</ul></div>'
        )
    return "\n".join(groups)


def _css() -> str:
    rules = []
    for c in CATEGORIES:
        rules.append(f".cat-{c.name}{{--c:{c.colour};--fg:{text_colour(c.colour)};--tint:{_tint(c.colour)}}}")
    return _BASE_CSS + "\n".join(rules) + "\n"


def render_viewer(release_dir: Path) -> str:
    """The HTML page of a release: pure (reads its Parquet and manifest, writes nothing)."""
    release_dir = Path(release_dir)
    docs = read_release_documents(release_dir)
    manifest = _read_manifest(release_dir)
    version = manifest.get("version") or release_dir.name.removeprefix("v")
    spans = [s for d in docs for s in d["spans"]]
    span_counts = Counter(s["category"] for s in spans)
    lang_docs = Counter(d["lang"] for d in docs)
    split_docs = Counter(d["split"] for d in docs)
    source_spans = Counter(s["label_source"] for s in spans)
    chars: Counter = Counter()
    for d in docs:
        chars.update(_label_chars(d))

    languages = "".join(
        _checkbox("lang", code, _language(code), lang_docs[code])
        for code in _ordered(set(lang_docs), LANGUAGES)
    )
    splits = "".join(
        _checkbox("split", name, name, split_docs[name]) for name in _ordered(set(split_docs), SPLITS)
    )
    sources = " · ".join(
        f"{escape(src)} {source_spans[src]}" for src in _ordered(set(source_spans), LABEL_SOURCES)
    )
    labelled = sum(chars.values()) or 1
    title = f"Chhanni v{version} — span viewer"
    details = [
        f"{len(docs)} articles",
        f"{len(spans)} spans",
        f"content {100 * chars['content'] / labelled:.0f}% / boilerplate "
        f"{100 * chars['boilerplate'] / labelled:.0f}% of labelled characters",
        f"spans by source: {sources}" if sources else "",
    ]
    for key in ("schema_version", "label_set_hash"):
        if manifest.get(key):
            details.append(f"{key.replace('_', ' ')} {manifest[key]}")
    summary = " · ".join(escape(d) for d in details if d)
    body = "\n".join(_render_doc(d) for d in docs) or '<p class="empty">This release has no documents.</p>'
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; \
script-src 'unsafe-inline'; img-src data:">
<title>{escape(title)}</title>
<style>
{_css()}</style>
</head>
<body>
<header class="top">
<h1>Chhanni <span class="version">v{escape(version)}</span> <span class="sub">span viewer</span></h1>
<p class="summary">{summary}</p>
</header>
<div class="layout">
<aside class="panel" aria-label="Filters and legend">
<section><h3>Language</h3>{languages}</section>
<section><h3>Split</h3>{splits}</section>
<section class="legend-box"><h3 class="legend-title">Categories
<span class="legend-actions"><button type="button" data-set="all">all</button>
<button type="button" data-set="none">none</button></span></h3>
{_render_legend(span_counts)}</section>
<section><h3>Display</h3>
<label class="check"><input type="checkbox" id="only-matching"> only articles with highlighted spans</label>
<label class="check"><input type="checkbox" id="soft"> soft colours</label></section>
<section class="inspector" id="inspector" aria-live="polite">
<h3>Span</h3><p class="muted" id="inspector-body">Hover over a highlighted span to see its category,
label, label source, score and offsets.</p></section>
</aside>
<main>
<p class="status" id="status">Showing {len(spans)} of {len(spans)} highlighted spans in {len(docs)} of \
{len(docs)} articles.</p>
{body}
</main>
</div>
<script>
{_JS}</script>
</body>
</html>
"""


def write_viewer(release_dir: Path, output: Path) -> Path:
    """Render the viewer of ``release_dir`` into ``output`` (parent folders created); returns it."""
    output = Path(output)
    html = render_viewer(release_dir)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(html, encoding="utf-8", newline="\n")
    return output


_BASE_CSS = """\
:root{color-scheme:light;--ink:#1b1f24;--muted:#5b6470;--line:#d8dde3;--bg:#f4f5f7;--card:#fff;
--font:system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","Noto Sans Bengali","Noto Sans Devanagari",
"Nirmala UI","Kohinoor Bangla","Kohinoor Devanagari","Lohit Bengali","Lohit Devanagari",
"Helvetica Neue",Arial,sans-serif}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--ink);font:15px/1.5 var(--font)}
.top{padding:14px 24px;background:#1f2933;color:#f5f7fa}
.top h1{margin:0;font-size:20px;font-weight:650;letter-spacing:.2px}
.top .version{font-weight:500;color:#9fb3c8}
.top .sub{font-weight:400;color:#cbd2d9;font-size:16px;margin-left:4px}
.top .summary{margin:4px 0 0;color:#cbd2d9;font-size:13px}
.layout{display:grid;grid-template-columns:minmax(260px,320px) minmax(0,1fr);gap:20px;padding:20px 24px;
max-width:1440px;margin:0 auto}
.panel{position:sticky;top:12px;align-self:start;max-height:calc(100vh - 24px);overflow:auto;
background:var(--card);border:1px solid var(--line);border-radius:10px;padding:6px 14px 12px}
.panel section{padding:8px 0;border-bottom:1px solid var(--line)}
.panel section:last-child{border-bottom:0}
.panel h3{margin:4px 0 6px;font-size:12px;text-transform:uppercase;letter-spacing:.6px;color:var(--muted)}
.legend-title{display:flex;justify-content:space-between;align-items:center}
.legend-actions button{font:inherit;font-size:11px;text-transform:none;letter-spacing:0;padding:1px 8px;
border:1px solid var(--line);border-radius:10px;background:#fff;color:var(--ink);cursor:pointer}
.legend-actions button:hover{background:var(--bg)}
.check{display:flex;align-items:center;gap:6px;margin:2px 0;cursor:pointer;font-size:14px}
.check input{margin:0;accent-color:#1f2933}
.n{margin-left:auto;font-variant-numeric:tabular-nums;color:var(--muted);font-size:12px}
.legend-group h3 .check{font-size:12px;color:var(--ink)}
.legend{list-style:none;margin:0 0 8px;padding:0}
.legend-item{padding:1px 0}
.legend-item .def{display:none}
.swatch{display:inline-block;padding:0 7px;border-radius:4px;background:var(--c);color:var(--fg);
font-size:13px;line-height:20px}
.inspector>p{font-size:13px;margin:0}
.inspector dl{display:grid;grid-template-columns:auto 1fr;gap:2px 10px;margin:0;font-size:13px}
.inspector dt{color:var(--muted)}
.inspector dd{margin:0;overflow-wrap:anywhere}
.inspector .excerpt{margin:6px 0 0;font-size:13px;color:var(--ink);border-left:3px solid var(--c,#999);
padding-left:8px;max-height:7.5em;overflow:hidden}
.muted{color:var(--muted)}
.status{margin:0 0 12px;color:var(--muted);font-size:13px}
main{min-width:0}
article.doc{background:var(--card);border:1px solid var(--line);border-radius:10px;margin:0 0 20px;
overflow:hidden}
article.doc[hidden]{display:none}
article.doc>header{padding:12px 18px 10px;border-bottom:1px solid var(--line);background:#fafbfc}
article.doc h2{margin:0 0 6px;font:600 15px/1.3 ui-monospace,"SFMono-Regular","DejaVu Sans Mono",Menlo,
Consolas,monospace}
article.doc h2 a{color:inherit;text-decoration:none}
article.doc h2 a:hover{text-decoration:underline}
.badges{display:flex;flex-wrap:wrap;gap:6px}
.badge{font-size:12px;padding:1px 8px;border-radius:10px;background:#eef1f4;border:1px solid var(--line)}
.badge .k{color:var(--muted)}
.badge.src-human{background:#e3f4e6;border-color:#a8d5b0}
.badge.src-model{background:#fff4dc;border-color:#ecd38f}
.counts{margin:8px 0 6px;font-size:13px;color:var(--ink)}
.composition{display:flex;height:6px;border-radius:3px;overflow:hidden;background:var(--line)}
.composition>span{background:var(--c);flex-basis:0}
.text{padding:16px 18px 18px;white-space:pre-wrap;overflow-wrap:anywhere;font-size:17px;line-height:2}
mark.span{background:var(--c);color:var(--fg);border-radius:3px;padding:2px 1px;
-webkit-box-decoration-break:clone;box-decoration-break:clone;cursor:help}
mark.span:hover,mark.span.active{outline:2px solid #111;outline-offset:1px}
body.soft mark.span{background:var(--tint);color:var(--ink);box-shadow:inset 0 -2px 0 var(--c)}
mark.span.off,body.soft mark.span.off{background:transparent;color:var(--ink);box-shadow:none;cursor:auto}
mark.span.off:hover{outline:1px dashed #aab2bd}
.empty{color:var(--muted)}
@media (max-width:820px){.layout{grid-template-columns:1fr}.panel{position:static;max-height:none}}
"""

_JS = r"""(function () {
  "use strict";
  var all = function (sel, root) {
    return Array.prototype.slice.call((root || document).querySelectorAll(sel));
  };
  var checked = function (name) {
    var out = {};
    all('input[name="' + name + '"]').forEach(function (i) { if (i.checked) out[i.value] = true; });
    return out;
  };
  var setCount = function (key, n) {
    var el = document.querySelector('[data-count="' + key + '"]');
    if (el) el.textContent = n;
  };
  function syncLabels() {
    all('input[name="label"]').forEach(function (box) {
      var cats = all('.legend-group[data-label="' + box.value + '"] input[name="cat"]');
      var on = cats.filter(function (c) { return c.checked; }).length;
      box.checked = on === cats.length;
      box.indeterminate = on > 0 && on < cats.length;
    });
  }
  function apply() {
    var langs = checked("lang"), splits = checked("split"), cats = checked("cat");
    var onlyMatching = document.getElementById("only-matching").checked;
    var docs = all("article.doc"), shownDocs = 0, shownSpans = 0, totalSpans = 0, perCat = {}, perLabel = {};
    docs.forEach(function (art) {
      var marks = all("mark.span", art), hits = 0;
      totalSpans += marks.length;
      marks.forEach(function (m) {
        var on = !!cats[m.dataset.category];
        m.classList.toggle("off", !on);
        if (on) hits += 1;
      });
      var visible = !!langs[art.dataset.lang] && !!splits[art.dataset.split] && !(onlyMatching && hits === 0);
      art.hidden = !visible;
      if (!visible) return;
      shownDocs += 1;
      shownSpans += hits;
      marks.forEach(function (m) {
        perCat[m.dataset.category] = (perCat[m.dataset.category] || 0) + 1;
        perLabel[m.dataset.label] = (perLabel[m.dataset.label] || 0) + 1;
      });
    });
    all('input[name="cat"]').forEach(function (i) { setCount("cat:" + i.value, perCat[i.value] || 0); });
    all('input[name="label"]').forEach(function (i) {
      setCount("label:" + i.value, perLabel[i.value] || 0);
    });
    syncLabels();
    document.getElementById("status").textContent = "Showing " + shownSpans + " of " + totalSpans +
      " highlighted spans in " + shownDocs + " of " + docs.length + " articles.";
  }
  function inspect(m) {
    var art = m.closest("article.doc"), d = m.dataset, body = document.getElementById("inspector-body");
    var rows = [["category", d.category], ["label", d.label], ["source", d.source],
      ["score", Number(d.score).toFixed(2)], ["offsets", "[" + d.start + ", " + d.end + ")"],
      ["document", art.dataset.docId + " \u00b7 span " + d.i]];
    var dl = document.createElement("dl");
    rows.forEach(function (r) {
      var dt = document.createElement("dt"), dd = document.createElement("dd");
      dt.textContent = r[0]; dd.textContent = r[1]; dl.appendChild(dt); dl.appendChild(dd);
    });
    var ex = document.createElement("p");
    ex.className = "excerpt cat-" + d.category;
    var text = m.textContent;
    ex.textContent = text.length > 240 ? text.slice(0, 240) + "\u2026" : text;
    ex.setAttribute("lang", art.dataset.lang);
    body.className = "";
    body.replaceChildren(dl, ex);
    body.setAttribute("data-source", d.source);
    all("mark.span.active").forEach(function (a) { a.classList.remove("active"); });
    m.classList.add("active");
  }
  document.addEventListener("change", function (e) {
    var t = e.target;
    if (t.id === "soft") { document.body.classList.toggle("soft", t.checked); return; }
    if (t.name === "label") {
      all('.legend-group[data-label="' + t.value + '"] input[name="cat"]').forEach(function (c) {
        c.checked = t.checked;
      });
    }
    apply();
  });
  document.addEventListener("click", function (e) {
    var b = e.target.closest("button[data-set]");
    if (!b) return;
    all('input[name="cat"]').forEach(function (c) { c.checked = b.dataset.set === "all"; });
    apply();
  });
  document.addEventListener("mouseover", function (e) {
    var m = e.target.closest && e.target.closest("mark.span");
    if (m) inspect(m);
  });
  apply();
})();
"""
