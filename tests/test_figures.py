"""The card's chart: a PNG whose bytes depend only on the documents."""

from __future__ import annotations

import hashlib
import os
import pickle
import shutil
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from corpus.document import Document, Span
from corpus.figures import chars_per_language, content_chart_png

ROOT = Path(__file__).resolve().parents[1]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def doc(doc_id: str, lang: str, spans: list[tuple[int, int, str]], text: str | None = None) -> Document:
    text = text if text is not None else "x" * max((e for _, e, _ in spans), default=0)
    digest = hashlib.sha256(text.encode()).hexdigest()
    return Document(
        doc_id, text, f"{doc_id}.txt", digest, digest, lang, 0.99, spans=tuple(Span(*s) for s in spans)
    )


@pytest.fixture
def documents() -> list[Document]:
    return [
        doc("a", "bn", [(0, 800, "body"), (801, 1000, "advertisement"), (1001, 1100, "title")]),
        doc("b", "bn", [(0, 300, "navigation"), (301, 2000, "body")]),
        doc("c", "hi", [(0, 1500, "body"), (1501, 1540, "tags")]),
    ]


def png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    assert data[:8] == PNG_SIGNATURE, "not a PNG"
    chunks, pos = [], 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert zlib.crc32(kind + body) == crc, f"bad CRC in {kind!r}"
        chunks.append((kind, body))
        pos += 12 + length
    return chunks


def test_chars_per_language_sums_span_lengths(documents):
    assert chars_per_language(documents) == {
        "bn": {"content": 800 + 99 + 1699, "boilerplate": 199 + 300, "documents": 2},
        "hi": {"content": 1500, "boilerplate": 39, "documents": 1},
    }
    # LANGUAGES order (bn before hi) whatever the input order
    assert list(chars_per_language(documents[::-1])) == ["bn", "hi"]


def test_png_is_valid_sane_and_carries_no_metadata(documents):
    data = content_chart_png(documents)
    chunks = png_chunks(data)
    kinds = [k for k, _ in chunks]
    assert kinds[0] == b"IHDR" and kinds[-1] == b"IEND" and b"IDAT" in kinds
    width, height = struct.unpack(">II", chunks[0][1][:8])
    assert width == 800 and 200 <= height <= 600, (width, height)
    assert 5_000 < len(data) < 200_000
    assert b"tIME" not in kinds, "a timestamp would make the card irreproducible"
    text_chunks = [body for kind, body in chunks if kind in (b"tEXt", b"iTXt", b"zTXt")]
    assert not any(b"Software" in body or b"atplotlib" in body for body in text_chunks), text_chunks


def test_same_documents_same_bytes(documents):
    assert content_chart_png(documents) == content_chart_png(list(documents))


def test_different_documents_different_bytes(documents):
    base = content_chart_png(documents)
    more_boilerplate = documents[:2] + [doc("c", "hi", [(0, 900, "body"), (901, 1540, "tags")])]
    assert content_chart_png(more_boilerplate) != base
    assert content_chart_png(documents[:2]) != base  # Hindi gone: one bar fewer
    assert content_chart_png([]) != base


def test_one_language_and_no_documents_still_render():
    for docs in ([doc("a", "hi", [(0, 10, "body")])], []):
        chunks = png_chunks(content_chart_png(docs))
        width, height = struct.unpack(">II", chunks[0][1][:8])
        assert width == 800 and height > 100


def test_bytes_independent_of_process_and_user_matplotlibrc(documents, tmp_path):
    """A fresh interpreter with a hostile matplotlibrc and another hash seed renders the same bytes."""
    import matplotlib

    config = tmp_path / "mplconfig"
    config.mkdir()
    for cache in Path(matplotlib.get_cachedir()).glob("fontlist-*.json"):
        shutil.copy(cache, config)  # spare the fresh interpreter a font scan
    (config / "matplotlibrc").write_text(
        "font.family: serif\nfont.size: 22\nfigure.dpi: 300\nsavefig.dpi: 42\n"
        "axes.facecolor: red\nsavefig.transparent: True\ntext.color: green\n",
        encoding="utf-8",
    )
    pickled = tmp_path / "docs.pkl"
    pickled.write_bytes(pickle.dumps(documents))
    out = tmp_path / "chart.png"
    script = (
        "import pickle, sys\n"
        "from pathlib import Path\n"
        "from corpus.figures import content_chart_png\n"
        "docs = pickle.loads(Path(sys.argv[1]).read_bytes())\n"
        "Path(sys.argv[2]).write_bytes(content_chart_png(docs))\n"
    )
    env = {**os.environ, "MPLCONFIGDIR": str(config), "PYTHONHASHSEED": "12345", "MPLBACKEND": "svg"}
    subprocess.run([sys.executable, "-c", script, str(pickled), str(out)], check=True, env=env, cwd=ROOT)
    assert out.read_bytes() == content_chart_png(documents)
