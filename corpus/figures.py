"""Figures for the dataset card, rendered to PNG bytes that depend only on the data.

The same documents give the same bytes (no timestamp or software tag in the PNG, fixed
size and dpi, Matplotlib's default style, the DejaVu Sans file bundled with Matplotlib),
so a card that embeds a chart stays byte-for-byte reproducible. All chart text is ASCII,
so no Bengali or Devanagari font is needed.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from pathlib import Path

from corpus.document import Document
from corpus.labels import LABELS, LANGUAGE_NAMES, LANGUAGES

LABEL_COLOURS = {"content": "#0072B2", "boilerplate": "#D55E00"}  # Okabe-Ito: colour-blind safe
WIDTH_IN, DPI = 8.0, 100
_TEXT = "#1b1f24"


def language_name(code: str) -> str:
    """``"Bengali (bn)"``; an unknown code is shown as itself."""
    return f"{LANGUAGE_NAMES[code]} ({code})" if code in LANGUAGE_NAMES else code


def chars_per_language(documents: Iterable[Document]) -> dict[str, dict[str, int]]:
    """``{lang: {"content": chars, "boilerplate": chars, "documents": n}}``, languages in
    ``LANGUAGES`` order then any others sorted; characters are summed span lengths."""
    table: dict[str, dict[str, int]] = {}
    for doc in documents:
        row = table.setdefault(doc.lang, {**dict.fromkeys(LABELS, 0), "documents": 0})
        row["documents"] += 1
        for span in doc.spans:
            row[span.label] += span.end - span.start
    order = [code for code in LANGUAGES if code in table] + sorted(set(table) - set(LANGUAGES))
    return {code: table[code] for code in order}


def content_chart_png(documents: Iterable[Document]) -> bytes:
    """A horizontal stacked bar per language: content vs boilerplate characters (PNG bytes)."""
    import matplotlib
    import matplotlib.style
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.font_manager import FontProperties
    from matplotlib.ticker import FuncFormatter

    table = chars_per_language(documents)
    font_file = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
    font = FontProperties(fname=font_file, size=10)
    small = FontProperties(fname=font_file, size=9)
    title_font = FontProperties(fname=font_file.with_name("DejaVuSans-Bold.ttf"), size=12)

    with matplotlib.style.context("default"):  # independent of the user's matplotlibrc
        height = 1.6 + 0.55 * max(len(table), 1)
        fig = Figure(figsize=(WIDTH_IN, height), dpi=DPI, facecolor="white")
        FigureCanvasAgg(fig)
        ax = fig.add_axes((0.16, 0.62 / height, 0.62, 1 - 1.24 / height))  # room for notes at right
        names = [language_name(code) for code in table]
        positions = list(range(len(table)))[::-1]  # first language on top
        widest = max((row["content"] + row["boilerplate"] for row in table.values()), default=0)
        left = [0] * len(table)
        inside: list = []  # (bar, text): segment labels, drawn where they fit
        for label in LABELS:
            values = [row[label] for row in table.values()]
            bars = ax.barh(
                positions, values, left=left, height=0.6, color=LABEL_COLOURS[label], label=label, zorder=2
            )
            for bar, value, row in zip(bars, values, table.values()):
                if value:
                    inside.append(
                        (bar, f"{value:,} ({100 * value / (row['content'] + row['boilerplate']):.0f}%)")
                    )
            left = [a + b for a, b in zip(left, values)]
        for y, row, total in zip(positions, table.values(), left):
            docs = row["documents"]
            share = f", {100 * row['boilerplate'] / total:.0f}% boilerplate" if total else ""
            ax.text(
                total + 0.01 * max(widest, 1),
                y,
                f"{docs} doc{'s' if docs != 1 else ''}{share}",
                ha="left",
                va="center",
                color=_TEXT,
                fontproperties=small,
            )
        ax.set_yticks(positions, names)
        ax.set_xlim(0, max(widest, 1) * 1.02)
        renderer = fig.canvas.get_renderer()
        for bar, text in inside:
            label = ax.text(
                bar.get_x() + bar.get_width() / 2,
                bar.get_y() + bar.get_height() / 2,
                text,
                ha="center",
                va="center",
                color="white",
                fontproperties=small,
                zorder=3,
            )
            bar_px = ax.transData.transform((bar.get_width(), 0))[0] - ax.transData.transform((0, 0))[0]
            if label.get_window_extent(renderer).width + 8 > bar_px:
                label.remove()  # too narrow: the share is given at the end of the bar
        ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{x:,.0f}"))
        ax.set_xlabel("characters in labelled spans", fontproperties=font, color=_TEXT)
        ax.grid(axis="x", color="#d8dde3", linewidth=0.8, zorder=0)
        for side in ("top", "right", "left"):
            ax.spines[side].set_visible(False)
        ax.tick_params(axis="y", length=0)
        for tick in ax.get_xticklabels() + ax.get_yticklabels():
            tick.set_fontproperties(font)
            tick.set_color(_TEXT)
        if not table:
            ax.text(0.5, 0.5, "no documents", transform=ax.transAxes, ha="center", fontproperties=font)
        fig.suptitle(
            "Content vs boilerplate characters per language",
            x=0.02,
            y=1 - 0.12 / height,
            ha="left",
            va="top",
            fontproperties=title_font,
            color=_TEXT,
        )
        fig.legend(
            loc="upper right",
            bbox_to_anchor=(0.985, 1 - 0.06 / height),
            ncols=len(LABELS),
            frameon=False,
            prop=font,
        )
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=DPI, facecolor="white", metadata={"Software": None})
    return buffer.getvalue()
