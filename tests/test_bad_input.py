"""Issue 3, "Bad input, each one a test": end to end through the real ``corpus`` CLI.

Every bad input gets one clear line naming the file (or ``file:line``) and the problem; good
documents next to it are still built; a run where nothing usable is left exits non-zero and
writes nothing; and nothing already in the output folder ever changes.

click >= 8.2 ``CliRunner`` keeps stderr apart (``result.stderr``) from stdout
(``result.stdout``); ``result.output`` is the interleaved stream.
"""

from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from corpus.cli import app
from corpus.ingest import sha256_hex
from corpus.labels import CATEGORY_NAMES

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
BN_SEED = next(SEEDS.glob("000_*.txt"))  # Bengali, no CR, already NFC
HI_SEED = next(SEEDS.glob("004_*.txt"))  # Hindi
EMOJI_SEED = next(SEEDS.glob("001_*.txt"))  # Bengali with "Advertisement" lines between paragraphs

BN = BN_SEED.read_bytes()
HI = HI_SEED.read_bytes()
BN_TEXT = BN.decode("utf-8")
# Offset (bytes) of a character boundary, and of the first byte of a 3-byte Bengali letter.
CUT = len(BN_TEXT[: next(i for i in range(100, 200) if "\u0980" <= BN_TEXT[i] <= "\u09ff")].encode("utf-8"))
assert BN[CUT] == 0xE0, "test setup: expected a Bengali letter at the cut"

ENGLISH = (
    b"The city council approved the new budget on Tuesday after a long debate. "
    b"Officials said the money would be spent on roads, schools and hospitals over the next year."
)


@pytest.fixture(scope="module")
def runner() -> CliRunner:
    return CliRunner()


def make_seeds(root: Path, files: dict[str, bytes]) -> Path:
    seeds = root / "seeds"
    seeds.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (seeds / name).write_bytes(data)
    (root / "annotations").mkdir(exist_ok=True)
    return seeds


def build(runner: CliRunner, root: Path, *extra: str, version: str = "0.1.0"):
    args = [
        "build",
        "--seeds",
        str(root / "seeds"),
        "--annotations",
        str(root / "annotations"),
        "--output",
        str(root / "out"),
        "--version",
        version,
        *extra,
    ]
    return runner.invoke(app, args)


def no_crash(result) -> None:
    """A CLI run ended through ``typer.Exit``/normal return, not an uncaught exception."""
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"CLI crashed: {result.exception!r}\nstderr: {result.stderr}")


def stderr_lines(result) -> list[str]:
    return result.stderr.splitlines()


def release_documents(release: Path) -> dict[str, dict]:
    rows = {}
    for path in sorted((release / "documents").glob("*.parquet")):
        for row in pq.read_table(path).to_pylist():
            rows[row["doc_id"]] = row
    return rows


def release_spans(release: Path) -> list[dict]:
    rows = []
    for path in sorted((release / "spans").glob("*.parquet")):
        rows += pq.read_table(path).to_pylist()
    return rows


def snapshot(out: Path) -> dict[str, tuple[bytes | None, int]]:
    """Every file and folder below ``out``: bytes (files) and mtime in ns."""
    return {
        p.relative_to(out).as_posix(): (p.read_bytes() if p.is_file() else None, p.stat().st_mtime_ns)
        for p in sorted(out.rglob("*"))
    }


# --------------------------------------------------------------------------------------------
# One bad file next to two good seeds: one warning line naming it, the good documents are built.

BAD_FILES = [
    pytest.param(
        "bad.txt",
        BN[:CUT] + b"\xff" + BN[CUT:],
        rf"not valid UTF-8 \(byte 0xff at offset {CUT}\)",
        id="invalid-utf8",
    ),
    pytest.param(
        "cut.txt", BN[: CUT + 1], rf"not valid UTF-8 \(byte 0xe0 at offset {CUT}\)", id="truncated-utf8"
    ),
    pytest.param("empty.txt", b"", r"empty file", id="empty"),
    pytest.param("blank.txt", b" \r\n\t\n  \n", r"no text \(only whitespace\)", id="whitespace-only"),
    pytest.param(
        "image.txt",
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00",
        r"binary file \(contains NUL bytes\)",
        id="binary-nul",
    ),
    pytest.param(
        "controls.txt",
        ("\x01\x02\x03\x1b" + "ab ") * 50,
        r"binary file \(200 control characters\)",
        id="binary-controls",
    ),
    pytest.param(
        "english.txt", ENGLISH, r"language 'en' \(p=\d\.\d\d\) is not supported \(bn, hi\)", id="unsupported"
    ),
    pytest.param(
        "emoji_only.txt",
        "😀 👩‍💻 2024 — 🇧🇩 !!! 123".encode(),
        r"language undetectable \(no letters\)",
        id="undetectable-no-letters",
    ),
    pytest.param(
        "runes.txt", "ᚠᚢᚦᚨᚱᚲ ᚷᚹᚺᚾ ᛁᛃᛇᛈ".encode(), r"language undetectable", id="undetectable-script"
    ),
    pytest.param(
        "z_copy.txt", BN, r"duplicate of a\.txt \(same normalised text\); kept once", id="duplicate"
    ),
]


@pytest.mark.parametrize("name, data, message", BAD_FILES)
def test_bad_file_is_named_and_good_documents_are_built(runner, tmp_path, name, data, message):
    if isinstance(data, str):
        data = data.encode("utf-8")
    make_seeds(tmp_path, {"a.txt": BN, "h.txt": HI, name: data})
    result = build(runner, tmp_path)
    no_crash(result)
    assert result.exit_code == 0, result.stderr
    lines = stderr_lines(result)
    assert len(lines) == 1, lines
    assert re.fullmatch(rf"warning: {re.escape(name)}: {message}", lines[0]), lines[0]
    assert "documents: 2 (0 with human labels)   problems: 1" in result.stdout
    docs = release_documents(tmp_path / "out" / "v0.1.0")
    assert set(docs) == {"a", "h"}
    assert docs["a"]["text"] == BN_TEXT and docs["a"]["lang"] == "bn"
    assert docs["h"]["lang"] == "hi"
    manifest = json.loads((tmp_path / "out" / "v0.1.0" / "manifest.json").read_text(encoding="utf-8"))
    assert sum(manifest["rows"]["documents"].values()) == 2


def test_utf16_file_is_rejected_not_misread(runner, tmp_path):
    """A UTF-16 text file is refused with one line (today worded as "binary file")."""
    make_seeds(tmp_path, {"a.txt": BN, "utf16.txt": BN_TEXT[:400].encode("utf-16")})
    result = build(runner, tmp_path)
    no_crash(result)
    assert result.exit_code == 0
    assert stderr_lines(result) == ["warning: utf16.txt: binary file (contains NUL bytes)"]
    assert set(release_documents(tmp_path / "out" / "v0.1.0")) == {"a"}


def test_only_bad_files_exit_non_zero_and_write_nothing(runner, tmp_path):
    seeds = make_seeds(
        tmp_path,
        {"bad.txt": b"ab\xffcd", "empty.txt": b"", "english.txt": ENGLISH, "nums.txt": b"12 34 -- 56"},
    )
    result = build(runner, tmp_path)
    no_crash(result)
    assert result.exit_code != 0
    assert result.stdout == ""
    lines = stderr_lines(result)
    assert lines[:2] == [
        "warning: bad.txt: not valid UTF-8 (byte 0xff at offset 2)",
        "warning: empty.txt: empty file",
    ]
    assert re.fullmatch(
        r"warning: english\.txt: language 'en' \(p=[\d.]+\) is not supported \(bn, hi\)", lines[2]
    )
    assert lines[3:] == [
        "warning: nums.txt: language undetectable (no letters)",
        f"error: {seeds}: no usable documents, nothing written",
    ]
    assert not (tmp_path / "out").exists()


def test_duplicates_only_still_build_one_document(runner, tmp_path):
    """Three copies of one article: something useful is left (one document), so exit 0."""
    make_seeds(tmp_path, {"a.txt": BN, "b.txt": BN, "c.txt": BN.replace(b"\n", b"\r\n")})
    result = build(runner, tmp_path)
    no_crash(result)
    assert result.exit_code == 0
    assert stderr_lines(result) == [
        "warning: b.txt: duplicate of a.txt (same normalised text); kept once",
        "warning: c.txt: duplicate of a.txt (same normalised text); kept once",
    ]
    assert set(release_documents(tmp_path / "out" / "v0.1.0")) == {"a"}


# --------------------------------------------------------------------------------------------
# CRLF, NFD, BOM: the variant is normalised to the same stored text, so it is a duplicate.
# The variant sorts first, so it is the one kept: its stored text must be the NFC/LF form.

VARIANTS = {
    "crlf": lambda t: t.replace("\n", "\r\n").encode("utf-8"),
    "cr": lambda t: t.replace("\n", "\r").encode("utf-8"),
    "nfd": lambda t: unicodedata.normalize("NFD", t).encode("utf-8"),
    "nfd-crlf": lambda t: unicodedata.normalize("NFD", t).replace("\n", "\r\n").encode("utf-8"),
    "bom-crlf": lambda t: b"\xef\xbb\xbf" + t.replace("\n", "\r\n").encode("utf-8"),
}


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_normalised_variant_is_duplicate_and_stored_nfc_lf(runner, tmp_path, variant):
    raw = VARIANTS[variant](BN_TEXT)
    assert raw != BN, "the variant must differ byte-wise from the original"
    make_seeds(tmp_path, {"0_variant.txt": raw, "seed.txt": BN})
    result = build(runner, tmp_path)
    no_crash(result)
    assert result.exit_code == 0
    assert stderr_lines(result) == [
        "warning: seed.txt: duplicate of 0_variant.txt (same normalised text); kept once"
    ]
    docs = release_documents(tmp_path / "out" / "v0.1.0")
    assert set(docs) == {"0_variant"}
    stored = docs["0_variant"]["text"]
    assert stored == BN_TEXT
    assert "\r" not in stored and "\ufeff" not in stored
    assert unicodedata.is_normalized("NFC", stored)
    assert docs["0_variant"]["raw_sha256"] == sha256_hex(raw)
    assert docs["0_variant"]["text_sha256"] == sha256_hex(BN_TEXT)
    for span in release_spans(tmp_path / "out" / "v0.1.0"):
        assert stored[span["start"] : span["end"]] == span["text"]


def test_nfd_file_alone_is_stored_nfc(runner, tmp_path):
    nfd = unicodedata.normalize("NFD", BN_TEXT)
    assert len(nfd) > len(BN_TEXT), "test setup: the seed must have characters that decompose"
    make_seeds(tmp_path, {"nfd.txt": nfd.encode("utf-8")})
    result = build(runner, tmp_path)
    no_crash(result)
    assert result.exit_code == 0 and result.stderr == ""
    (doc,) = release_documents(tmp_path / "out" / "v0.1.0").values()
    assert doc["text"] == BN_TEXT  # offsets index the NFC form, not the NFD input


# --------------------------------------------------------------------------------------------
# ZWJ/ZWNJ inside Bengali words and astral characters are valid input: kept, no warning.


def test_zwj_zwnj_and_emoji_are_kept_without_warning(runner, tmp_path):
    orig = EMOJI_SEED.read_text(encoding="utf-8")
    at = orig.index("\nAdvertisement\n", 700) + 1
    inserted = "😀 👩\u200d💻 র\u200d্যাব ক্\u200cষ 🇧🇩\n"
    text = orig[:at] + inserted + orig[at:]
    make_seeds(tmp_path, {"emoji.txt": text.encode("utf-8"), "h.txt": HI})
    result = build(runner, tmp_path)
    no_crash(result)
    assert result.exit_code == 0
    assert result.stderr == ""
    release = tmp_path / "out" / "v0.1.0"
    docs = release_documents(release)
    stored = docs["emoji"]["text"]
    assert stored == text
    assert "র\u200d্যাব" in stored and "ক্\u200cষ" in stored and "👩\u200d💻" in stored
    spans = [s for s in release_spans(release) if s["doc_id"] == "emoji"]
    for span in spans:
        assert stored[span["start"] : span["end"]] == span["text"]
        # both ways: code points -> UTF-16 code units -> same characters
        u16 = stored.encode("utf-16-le")
        u_start = len(stored[: span["start"]].encode("utf-16-le")) // 2
        u_end = len(stored[: span["end"]].encode("utf-16-le")) // 2
        assert u16[2 * u_start : 2 * u_end].decode("utf-16-le") == span["text"]
    emoji_span = next(s for s in spans if s["start"] == at)
    assert emoji_span["text"] == inserted.rstrip("\n")
    after = [s for s in spans if s["start"] > at]
    assert after and CATEGORY_NAMES[after[0]["category"]] == "advertisement"
    assert after[0]["text"] == "Advertisement"


# --------------------------------------------------------------------------------------------
# --strict


def test_strict_fails_on_any_problem_and_writes_nothing(runner, tmp_path):
    make_seeds(tmp_path, {"a.txt": BN, "h.txt": HI, "bad.txt": b"ab\xffcd"})
    result = build(runner, tmp_path, "--strict")
    no_crash(result)
    assert result.exit_code != 0
    assert result.stdout == ""
    assert stderr_lines(result) == [
        "warning: bad.txt: not valid UTF-8 (byte 0xff at offset 2)",
        "error: 1 input problem(s) and --strict given, nothing written",
    ]
    assert not (tmp_path / "out").exists()


def test_strict_fails_on_a_duplicate(runner, tmp_path):
    make_seeds(tmp_path, {"a.txt": BN, "b.txt": BN.replace(b"\n", b"\r\n")})
    result = build(runner, tmp_path, "--strict")
    no_crash(result)
    assert result.exit_code != 0
    assert "b.txt: duplicate of a.txt" in result.stderr
    assert not (tmp_path / "out").exists()


def test_strict_passes_on_clean_input(runner, tmp_path):
    make_seeds(tmp_path, {"a.txt": BN, "h.txt": HI})
    result = build(runner, tmp_path, "--strict")
    no_crash(result)
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "out" / "v0.1.0" / "manifest.json").is_file()


# --------------------------------------------------------------------------------------------
# A release already in the output folder is never touched.


@pytest.fixture
def existing_release(runner, tmp_path):
    """A good release v0.1.0 built from two seeds, and a snapshot of the whole output folder."""
    make_seeds(tmp_path, {"a.txt": BN, "h.txt": HI})
    result = build(runner, tmp_path)
    assert result.exit_code == 0, result.stderr
    out = tmp_path / "out"
    assert (out / "v0.1.0" / "manifest.json").is_file() and (out / "CHANGELOG.md").is_file()
    return tmp_path, snapshot(out)


def test_identical_rebuild_leaves_release_alone(runner, existing_release):
    """Control for the snapshot: an identical rebuild is reported unchanged and touches nothing."""
    root, before = existing_release
    result = build(runner, root)
    assert result.exit_code == 0
    assert "release v0.1.0 unchanged (byte-identical rebuild)" in result.stdout
    assert snapshot(root / "out") == before


def test_rebuild_with_bad_file_added_errors_and_leaves_release_alone(runner, existing_release):
    root, before = existing_release
    (root / "seeds" / "bad.txt").write_bytes(b"ab\xffcd")
    result = build(runner, root)
    no_crash(result)
    assert result.exit_code != 0
    assert result.stdout == ""
    release = root / "out" / "v0.1.0"
    expected = (
        f"error: {release}: release v0.1.0 already exists with different content; "
        "releases are immutable: build a new one with --bump (or --version)"
    )
    assert expected in stderr_lines(result)
    assert snapshot(root / "out") == before
    assert sorted(p.name for p in (root / "out").iterdir()) == ["CHANGELOG.md", "v0.1.0"], "no temp left"


def test_rebuild_with_bad_file_added_still_names_the_bad_file(runner, existing_release):
    root, _ = existing_release
    (root / "seeds" / "bad.txt").write_bytes(b"ab\xffcd")
    result = build(runner, root)
    assert result.exit_code != 0
    assert "warning: bad.txt: not valid UTF-8 (byte 0xff at offset 2)" in stderr_lines(result)


@pytest.mark.parametrize("failure", ["only-bad-files", "strict", "missing-seeds", "bad-version"])
def test_failing_run_leaves_release_alone(runner, existing_release, failure):
    root, before = existing_release
    seeds = root / "seeds"
    extra: tuple[str, ...] = ()
    version = "0.1.0"
    if failure == "only-bad-files":
        for p in seeds.iterdir():
            p.unlink()
        (seeds / "bad.txt").write_bytes(b"\xff")
        (seeds / "empty.txt").write_bytes(b"")
        expected = f"error: {seeds}: no usable documents, nothing written"
    elif failure == "strict":
        (seeds / "empty.txt").write_bytes(b"")
        extra = ("--strict",)
        expected = "error: 1 input problem(s) and --strict given, nothing written"
    elif failure == "missing-seeds":
        for p in seeds.iterdir():
            p.unlink()
        seeds.rmdir()
        expected = f"error: {seeds}: no such file or folder"
    else:
        version = "1.0"
        expected = "error: version '1.0' is not semantic (MAJOR.MINOR.PATCH)"
    result = build(runner, root, *extra, version=version)
    no_crash(result)
    assert result.exit_code != 0
    assert stderr_lines(result)[-1] == expected
    assert snapshot(root / "out") == before
    assert sorted(p.name for p in (root / "out").iterdir()) == ["CHANGELOG.md", "v0.1.0"]


# --------------------------------------------------------------------------------------------
# A duplicate document id (different text) from two files.


def test_duplicate_document_id_is_named(runner, tmp_path):
    record = json.dumps({"id": "a", "text": BN_TEXT[:1500]}, ensure_ascii=False).encode("utf-8") + b"\n"
    make_seeds(tmp_path, {"a.txt": BN, "h.txt": HI, "more.jsonl": record})
    result = build(runner, tmp_path)
    no_crash(result)
    lines = stderr_lines(result)
    assert any(line.startswith("warning: more.jsonl:1: ") and "a.txt" in line for line in lines), lines
    assert result.exit_code == 0
    assert set(release_documents(tmp_path / "out" / "v0.1.0")) == {"a", "h"}


# --------------------------------------------------------------------------------------------
# The JSONL path: corpus prelabel x.jsonl -o out.jsonl


def jsonl_line(**record) -> bytes:
    return json.dumps(record, ensure_ascii=False).encode("utf-8")


BAD_UTF8_LINE = b'{"id": "latin1", "text": "caf\xe9 \xe0\xa6\x95"}'
BAD_UTF8_AT = BAD_UTF8_LINE.index(b"\xe9")
BAD_JSONL_LINES = [
    (b'{"id": "broken", "text": ', r"not valid JSON \(Expecting value\)"),
    (jsonl_line(id="notext", body="আজকের খবর"), r'record has no "text" string'),
    (
        BAD_UTF8_LINE,
        # today "(byte at offset N)"; the .txt path also names the byte ("byte 0xe9 at offset N")
        rf"not valid UTF-8 \(byte (?:0xe9 )?at offset {BAD_UTF8_AT}\)",
    ),
    (jsonl_line(id="number", text=5), r'record has no "text" string'),
    (jsonl_line(id="blank", text=" \r\n "), r"no text \(only whitespace\)"),
    (jsonl_line(id="en", text=ENGLISH.decode()), r"language 'en' \(p=[\d.]+\) is not supported \(bn, hi\)"),
]


def prelabel(runner: CliRunner, source: Path, out: Path):
    return runner.invoke(app, ["prelabel", str(source), "-o", str(out)])


def check_jsonl_warnings(lines: list[str], name: str, first_lineno: int) -> None:
    assert len(lines) >= len(BAD_JSONL_LINES)
    for offset, (_, message) in enumerate(BAD_JSONL_LINES):
        expected = rf"warning: {re.escape(name)}:{first_lineno + offset}: {message}"
        assert re.fullmatch(expected, lines[offset]), (expected, lines[offset])


def test_prelabel_jsonl_names_each_bad_line_and_keeps_the_good_one(runner, tmp_path):
    good = jsonl_line(id="good", text=BN_TEXT.replace("\n", "\r\n"))
    source = tmp_path / "x.jsonl"
    source.write_bytes(b"\n".join([good, *(line for line, _ in BAD_JSONL_LINES)]) + b"\n")
    out = tmp_path / "out.jsonl"
    out.write_text("previous output\n", encoding="utf-8")
    result = prelabel(runner, source, out)
    no_crash(result)
    assert result.exit_code == 0, result.stderr
    lines = stderr_lines(result)
    check_jsonl_warnings(lines, "x.jsonl", 2)
    assert len(lines) == len(BAD_JSONL_LINES)
    assert result.stdout.strip() == f"pre-labelled 1 documents → {out} ({len(BAD_JSONL_LINES)} skipped)"
    (record,) = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert record["id"] == "good" and record["lang"] == "bn"
    assert record["text"] == BN_TEXT  # CRLF in the record → stored LF
    for span in record["spans"]:
        assert not record["text"][span["start"]].isspace()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.jsonl", "x.jsonl"], "no temp file left"


def test_prelabel_jsonl_skips_blank_lines_silently(runner, tmp_path):
    source = tmp_path / "x.jsonl"
    first, second = jsonl_line(id="a", text=BN_TEXT), jsonl_line(id="b", text=BN_TEXT + " আরও")
    source.write_bytes(b"\n".join([b"", first, b"  \t\r", b"\x0b\x0c", second, b"\r", b""]))
    out = tmp_path / "out.jsonl"
    result = prelabel(runner, source, out)
    assert result.exit_code == 0 and stderr_lines(result) == [], result.stderr
    assert [json.loads(line)["id"] for line in out.read_text(encoding="utf-8").splitlines()] == ["a", "b"]


def test_prelabel_jsonl_with_nothing_usable_leaves_output_untouched(runner, tmp_path):
    source = tmp_path / "x.jsonl"
    source.write_bytes(b"\n".join(line for line, _ in BAD_JSONL_LINES) + b"\n")
    out = tmp_path / "out.jsonl"
    out.write_text("previous output\n", encoding="utf-8")
    before = (out.read_bytes(), out.stat().st_mtime_ns)
    result = prelabel(runner, source, out)
    no_crash(result)
    assert result.exit_code != 0
    assert result.stdout == ""
    lines = stderr_lines(result)
    check_jsonl_warnings(lines, "x.jsonl", 1)
    assert lines[len(BAD_JSONL_LINES) :] == [f"error: {source}: no usable documents, {out} not written"]
    assert (out.read_bytes(), out.stat().st_mtime_ns) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.jsonl", "x.jsonl"], "no temp file left"


def test_prelabel_jsonl_lone_surrogate_is_a_one_line_problem(runner, tmp_path):
    good = jsonl_line(id="good", text=BN_TEXT)
    broken = json.dumps({"id": "half-emoji", "text": BN_TEXT[:300] + "\ud83d"}).encode("ascii")
    source = tmp_path / "x.jsonl"
    source.write_bytes(good + b"\n" + broken + b"\n")
    out = tmp_path / "out.jsonl"
    result = prelabel(runner, source, out)
    no_crash(result)
    assert result.exit_code == 0
    (line,) = stderr_lines(result)
    assert line.startswith("warning: x.jsonl:2: ")
    assert [json.loads(x)["id"] for x in out.read_text(encoding="utf-8").splitlines()] == ["good"]


def test_jsonl_read_in_groups_gives_the_records_and_problems_of_reading_line_by_line(tmp_path, monkeypatch):
    """Lines are decoded, then normalised, a group at a time (``ingest.READ_GROUP``): bad and
    blank lines on either side of a group's edge are reported where they are, as line by line."""
    from corpus import ingest

    good = [jsonl_line(id=f"g{k}", text=f"{BN_TEXT}\n{k}") for k in range(70)]
    bad = [line for line, _ in BAD_JSONL_LINES]
    lines = list(good)
    for at, line in zip((0, 31, 32, 33, 63, 64, 65), [*bad[:5], b"", b"  "]):
        lines.insert(at, line)
    source = tmp_path / "x.jsonl"
    source.write_bytes(b"\n".join(lines) + b"\n")
    assert len(lines) > 2 * ingest.READ_GROUP > 2
    grouped = [str(r) for r in ingest.read_records(source, tmp_path)]
    monkeypatch.setattr(ingest, "READ_GROUP", 1)
    assert grouped == [str(r) for r in ingest.read_records(source, tmp_path)]
    problems = [r for r in grouped if not r.startswith("{")]
    assert len(problems) >= 3 and len(grouped) == len(lines) - 2  # (the blank lines: nothing)


@pytest.mark.parametrize(
    "text", ["", "ascii only", "ঢাকায় আজ বৃষ্টি\nनई दिल्ली", "emoji 😀 and 👩‍💻, café", "\x00\x7f\u2028"]
)
def test_the_raw_hash_is_of_the_texts_utf8_and_leaves_nothing_with_the_string(text: str):
    """The hash of a text is that of its UTF-8, made without leaving the UTF-8 with the string
    (a pass that keeps its texts would hold ~2.6 more bytes a Bengali character); a lone
    surrogate raises as ``encode`` does."""
    import hashlib
    import sys

    fresh = "".join(["x", text])[1:]  # (a string of its own)
    before = sys.getsizeof(fresh)
    assert sha256_hex(fresh) == hashlib.sha256(text.encode("utf-8")).hexdigest()
    assert sys.getsizeof(fresh) == before
    with pytest.raises(UnicodeEncodeError) as raised:
        sha256_hex(text + "\ud83d")
    assert raised.value.start == len(text)


def test_records_read_without_hashes_are_the_hashed_ones_but_the_hashes(tmp_path):
    """``corpus prelabel`` reads without hashes (it writes none): the same records, minus the
    two sha256, and the same problems, a lone surrogate included (NFC-unsafe, so encoded)."""
    from corpus import ingest

    surrogate = json.dumps({"id": "half-emoji", "text": BN_TEXT[:300] + "\ud83d"}).encode("ascii")
    lines = [jsonl_line(id="a", text=BN_TEXT), *(line for line, _ in BAD_JSONL_LINES), surrogate]
    lines += [jsonl_line(id="crlf", text=BN_TEXT.replace("\n", "\r\n"))]
    lines += [jsonl_line(id="nfd", text="cafe\u0301")]
    source = tmp_path / "x.jsonl"
    source.write_bytes(b"\n".join(lines) + b"\n")
    hashed = list(ingest.read_records(source, tmp_path))
    plain = list(ingest.read_records(source, tmp_path, hashes=False))
    assert len(plain) == len(hashed) and sum(isinstance(r, ingest.Problem) for r in plain) >= 4
    for with_hashes, without in zip(hashed, plain):
        if isinstance(with_hashes, ingest.Problem):
            assert without == with_hashes
        else:
            assert with_hashes["raw_sha256"] and "raw_sha256" not in without and "text_sha256" not in without
            assert {k: v for k, v in with_hashes.items() if not k.endswith("sha256")} == without
