"""Ingest: raw bytes → normalised ``Document`` records.

Text is decoded as strict UTF-8, then normalised to NFC with LF line endings *before*
any offset exists, so every offset later on indexes the stored text. Bad input never
raises out of the iterator: it yields a ``Problem`` naming the file and what is wrong,
and the caller decides whether the run can go on.
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

import orjson

from corpus.document import Document
from corpus.langid import LanguageError, detect_language
from corpus.segment import control_count, nfc_unchanged

INPUT_SUFFIXES = (".txt", ".jsonl")
IO_BUFFER = 1 << 20  # JSONL lines are ~10 KB: one read(2) per hundred lines, not two per line
JSONL_OPTIONAL_FIELDS = ("url", "source", "published")
# Control characters that never appear in scraped article text; a file with many is binary.
_TEXT_CONTROLS = {"\n", "\r", "\t", "\f", "\v"}


@dataclass(frozen=True)
class Problem:
    """A one-line, user-facing report about one input (file or file:line)."""

    origin: str
    message: str

    def __str__(self) -> str:
        return f"{self.origin}: {self.message}"


class InputError(ValueError):
    """Raised by ``decode_text`` with a message that names the problem, not the file."""


def sha256_hex(data: bytes | str) -> str:
    global _last_hashed
    if isinstance(data, str):
        last = _last_hashed
        if data is last[0]:  # the raw text is often the normalised text, the same object
            return last[1]
        digest = hashlib.sha256(data.encode("utf-8")).hexdigest()
        _last_hashed = (data, digest)
        return digest
    return hashlib.sha256(data).hexdigest()


_last_hashed: tuple = (None, "")  # (str, its sha256): kept alive here, so identity means same text


def normalise_text(text: str) -> str:
    """NFC, LF line endings, no BOM: the form every offset indexes."""
    text = text.removeprefix("\ufeff")
    if "\r" in text:  # (one scan, not the two replaces', for the usual text without any)
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if nfc_unchanged(text):  # fast, sufficient check; NFC itself is slow on Bengali
        return text
    return unicodedata.normalize("NFC", text)


def decode_text(raw: bytes) -> str:
    """Strict UTF-8 decode + normalisation; raises ``InputError`` for unusable bytes."""
    if not raw:
        raise InputError("empty file")
    if b"\x00" in raw:
        raise InputError("binary file (contains NUL bytes)")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        bad = raw[err.start : err.start + 1].hex()
        raise InputError(f"not valid UTF-8 (byte 0x{bad} at offset {err.start})") from None
    return check_text(normalise_text(text))


def check_text(text: str) -> str:
    if not text or text.isspace():  # (not text.strip(): no copy of the text)
        raise InputError("no text (only whitespace)")
    controls = control_count(text)  # Cc characters other than _TEXT_CONTROLS
    if controls > max(2, len(text) // 100):
        raise InputError(f"binary file ({controls} control characters)")
    return text


def make_document(
    doc_id: str,
    text: str,
    raw_sha256: str,
    source_file: str,
    url: str | None = None,
    source: str | None = None,
    published: str | None = None,
    text_sha256: str | None = None,
) -> Document:
    """Attach hashes and language; raises ``LanguageError`` when the language is unusable.

    ``text_sha256``: the text's hash when the reader already knows it (else computed)."""
    lang, prob = detect_language(text)
    return Document(
        doc_id=doc_id,
        text=text,
        source_file=source_file,
        raw_sha256=raw_sha256,
        text_sha256=text_sha256 or sha256_hex(text),
        lang=lang,
        lang_prob=prob,
        url=url,
        source=source,
        published=published,
    )


def input_files(path: Path) -> list[Path]:
    """The input files under ``path`` (itself, if a file), in a stable order."""
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.is_file() and p.suffix in INPUT_SUFFIXES)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file or folder")
    return [path]  # a file, or a pipe streaming JSONL


def read_records(
    path: Path, display_root: Path | None = None, hashes: bool = True
) -> Iterator[dict | Problem]:
    """Yield raw ``{"doc_id", "text", "raw_sha256", ...}`` records without language detection
    (``"text_sha256"`` too where the text is the raw one, else None).

    ``display_root`` shortens the file names used in records and messages. Without
    ``hashes`` the records have neither sha256 (what ``corpus prelabel`` reads: it writes none).
    """
    for file in input_files(path):
        shown = _display(file, display_root)
        if file.suffix == ".jsonl":
            yield from _read_jsonl(file, shown, hashes)
        else:
            yield from _read_txt(file, shown, hashes)


def read_documents(
    path: Path, display_root: Path | None = None, dedupe: bool = True
) -> Iterator[Document | Problem]:
    """Documents (with language) or problems, in input order.

    With ``dedupe`` an exact duplicate (same normalised text) is reported and kept once; that
    needs a hash per document in memory, so streaming pre-labelling turns it off.
    """
    seen: dict[str, str] = {}
    ids: dict[str, str] = {}
    for record in read_records(path, display_root):
        if isinstance(record, Problem):
            yield record
            continue
        origin = record.pop("origin")
        text_hash = (record.get("text_sha256") or sha256_hex(record["text"])) if dedupe else ""
        if dedupe and text_hash in seen:
            yield Problem(origin, f"duplicate of {seen[text_hash]} (same normalised text); kept once")
            continue
        if dedupe and record["doc_id"] in ids:
            yield Problem(
                origin, f"duplicate id {record['doc_id']!r} (also {ids[record['doc_id']]}); skipped"
            )
            continue
        try:
            doc = make_document(**record)
        except LanguageError as err:
            yield Problem(origin, str(err))
            continue
        if dedupe:
            seen[text_hash] = origin
            ids[doc.doc_id] = origin
        yield doc


def split_problems(items: Iterable[Document | Problem]) -> tuple[list[Document], list[Problem]]:
    docs: list[Document] = []
    problems: list[Problem] = []
    for item in items:
        (problems if isinstance(item, Problem) else docs).append(item)
    return docs, problems


def _display(file: Path, root: Path | None) -> str:
    if root is not None:
        try:
            return file.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            pass
    return file.as_posix()


def _read_txt(file: Path, shown: str, hashes: bool = True) -> Iterator[dict | Problem]:
    try:
        raw = file.read_bytes()
        text = decode_text(raw)
    except (OSError, InputError) as err:
        yield Problem(shown, str(err) if isinstance(err, InputError) else err.strerror or str(err))
        return
    yield {"origin": shown, "doc_id": file.stem, "text": text, "source_file": shown} | (
        {"raw_sha256": sha256_hex(raw)} if hashes else {}
    )


READ_GROUP = 32  # lines of a JSONL file decoded, then normalised, as a group: each step's code stays in cache


def _read_jsonl(file: Path, shown: str, hashes: bool = True) -> Iterator[dict | Problem]:
    try:
        handle = file.open("rb", buffering=IO_BUFFER)
    except OSError as err:
        yield Problem(shown, err.strerror or str(err))
        return
    with handle:
        numbered = enumerate(handle, start=1)
        size = READ_GROUP if file.is_file() else 1  # (a pipe: each line as soon as it comes)
        while group := list(islice(numbered, size)):
            yield from _jsonl_records(group, file, shown, hashes)


def _jsonl_records(
    group: list[tuple[int, bytes]], file: Path, shown: str, hashes: bool = True
) -> list[dict | Problem]:
    """The records (or problems) of numbered JSONL lines, one step at a time across them."""
    parsed: list = []
    for lineno, line in group:
        if not line or line.isspace():  # (blank; without copying the line)
            continue
        origin = f"{shown}:{lineno}"
        try:
            record = _parsed_line(line, lineno == 1)
        except UnicodeDecodeError as err:
            bad = line[err.start : err.start + 1].hex()
            parsed.append(Problem(origin, f"not valid UTF-8 (byte 0x{bad} at offset {err.start})"))
            continue
        except json.JSONDecodeError as err:
            parsed.append(Problem(origin, f"not valid JSON ({err.msg})"))
            continue
        if not isinstance(record, dict):
            parsed.append(Problem(origin, f"not a JSON object (got {type(record).__name__})"))
        elif not isinstance(record.get("text"), str):
            parsed.append(Problem(origin, 'record has no "text" string'))
        else:
            parsed.append((origin, lineno, record))
    return [
        item if isinstance(item, Problem) else _jsonl_record(*item, file, shown, hashes) for item in parsed
    ]


def _jsonl_record(
    origin: str, lineno: int, record: dict, file: Path, shown: str, hashes: bool = True
) -> dict | Problem:
    try:
        raw_sha256 = sha256_hex(record["text"]) if hashes else None
        if not hashes:
            _check_encodable(record["text"])
        text = check_text(normalise_text(record["text"]))
    except UnicodeEncodeError as err:
        bad = f"\\u{ord(record['text'][err.start]):04x}"
        return Problem(origin, f"text contains a lone surrogate ({bad} at character {err.start})")
    except InputError as err:
        return Problem(origin, str(err))
    raw_id = record.get("id", record.get("doc_id"))
    doc_id = str(raw_id) if raw_id not in (None, "") else f"{file.stem}-{lineno:07d}"
    read = {
        "origin": origin,
        "doc_id": doc_id,
        "text": text,
        "source_file": shown,
        **{k: _opt_str(record.get(k)) for k in JSONL_OPTIONAL_FIELDS},
    }
    if hashes:  # (text_sha256: hashed once, where the text is the raw one)
        read |= {"raw_sha256": raw_sha256, "text_sha256": raw_sha256 if text == record["text"] else None}
    return read


def _check_encodable(text: str) -> None:
    """Raise ``UnicodeEncodeError`` at a lone surrogate, as encoding ``text`` to hash it
    would. Only a text NFC might change can hold one (a surrogate's flags mark it NFC-unsafe),
    so the usual text is not encoded at all."""
    if not nfc_unchanged(text):
        text.encode("utf-8")


_BOM = "\ufeff".encode()
_FIELDS = ("id", "doc_id", *JSONL_OPTIONAL_FIELDS)  # what ``_read_jsonl`` reads besides "text"


def _parsed_line(line: bytes, first: bool) -> object:
    """``json.loads`` of a UTF-8 JSONL line (a BOM allowed on the first), through orjson where
    that gives the same record: it validates UTF-8 and parses in one pass, ~2× faster. On
    anything orjson refuses (bad UTF-8, NaN, lone surrogates, ...) or reads differently (an
    integer beyond 64 bits becomes a float there) this is ``json.loads`` itself, errors included."""
    try:
        record = orjson.loads(line[3:] if first and line.startswith(_BOM) else line)
    except orjson.JSONDecodeError:
        record = None
    if record is None or isinstance(record, dict) and float in map(type, map(record.get, _FIELDS)):
        decoded = line.decode("utf-8")
        return json.loads(decoded.removeprefix("\ufeff") if first else decoded)
    return record


def _opt_str(value: object) -> str | None:
    return None if value is None else str(value)
