"""The compiled kernels: built ahead of time by ``pip install``, guarded, equal to numba's JIT."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import unicodedata
from pathlib import Path

import numpy as np
import pytest

from corpus import _kernels
from corpus.ingest import read_records

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

import make_corpus  # noqa: E402

PRELABELS = """
import json, sys
from corpus import _kernels, langid, prelabel
from corpus.repetition import LineStats
texts = json.load(sys.stdin)
corpus = LineStats.of_texts(texts)
labelled = [prelabel.prelabel_text(t, langid.detect_language(t)[0], corpus) for t in texts]
spans = [[(s.start, s.end, s.category, s.score) for s in doc] for doc in labelled]
print(json.dumps({"mode": _kernels.MODE, "spans": spans}))
"""


def test_pip_install_built_the_kernels_ahead_of_time():
    """Without it every process pays numba's import and JIT load (~0.7 s, ~100 MB)."""
    assert _kernels.MODE == "aot", (
        "corpus._kernels_aot is missing or older than corpus/_kernels.py: "
        "rebuild with `CHHANNI_KERNELS=jit python -m corpus._kernels` (or pip install -e . again)"
    )
    code = "import sys, corpus.prelabel, corpus._kernels; print('numba' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout == "False\n"


@pytest.mark.skipif(_kernels.MODE != "aot", reason="the argument check is compiled into the extension")
def test_a_precompiled_kernel_refuses_arguments_of_other_types_instead_of_crashing():
    z = np.zeros(3)
    assert _kernels.logistic(z, True).tolist() == [0.5, 0.5, 0.5]
    refused = {
        "float32[1]": np.zeros(3, dtype=np.float32),
        "float64[2]": np.zeros((3, 1)),  # (unchecked, numba would write a second dimension's shape)
        "float64[1]": np.zeros(6)[::2],  # not contiguous
        ">f8[1]": np.zeros(3, dtype=">f8"),  # same size and kind, other byte order
        "int64[1]": np.zeros(3, dtype=np.int64),  # same size: numba's own check lets it through
    }
    for shown, wrong in refused.items():
        for _ in range(2):  # (refused every time, also after an array of the right type passed)
            message = f"_kernels.logistic: argument 0 is {shown}, not f8[::1]"
            with pytest.raises(TypeError, match=re.escape(message)):
                _kernels.logistic(wrong, True)
            assert _kernels.logistic(z, True).tolist() == [0.5, 0.5, 0.5]
    for wrong, name in ((None, "NoneType"), ([0.0, 1.0], "list")):
        with pytest.raises(TypeError, match=f"_kernels.logistic: argument 0 is a {name}, not f8"):
            _kernels.logistic(wrong, True)
    values = np.array([5, 3, 5], dtype=np.uint64)  # an equal dtype under its other type number passes
    assert _kernels.hash_set(values.astype(np.ulonglong)).tolist() == _kernels.hash_set(values).tolist()
    code = (
        "import corpus._kernels as k\n"
        "try:\n    k.take_flags(None, None, True)\n"
        "except TypeError as err:\n    print(err)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr  # (a crash: -11)
    assert done.stdout == "_kernels.take_flags: argument 0 is a NoneType, not u4[::1]\n"


@pytest.mark.skipif(_kernels.MODE != "aot", reason="the argument check is compiled into the extension")
def test_every_array_argument_of_every_precompiled_kernel_is_checked():
    scalars = {"i8": 0, "f8": 0.0, "b1": False}
    for name, (_, types) in _kernels.KERNELS.items():
        for k, spec in enumerate(types):
            if "[" not in spec:
                continue
            before = []  # valid (empty) arguments before position k: the check reaches k
            for earlier in types[:k]:
                base, dims = (earlier.split("[") + [""])[:2]
                empty = np.zeros((0,) * (dims.count(",") + 1), _kernels._DTYPES[base])
                before.append(empty if dims else scalars[base])
            message = f"_kernels.{name}: argument {k} is a NoneType, not {spec}"
            with pytest.raises(TypeError, match=re.escape(message)):
                getattr(_kernels, name)(*before, None, *[None] * (len(types) - k - 1))


def test_returned_arrays_are_plain_writable_arrays_boxed_without_a_lookup_each():
    """numba's ahead-of-time wrapper unpickled ``numpy.ndarray`` for every array it returned
    (and kept a reference each time); ``build_compiled_module`` looks it up once."""
    values = np.array([5, 3, 5], dtype=np.uint64)
    table, again = _kernels.hash_set(values), _kernels.hash_set(values)
    before = sys.getrefcount(np.ndarray)
    for _ in range(200):
        again = _kernels.hash_set(values)
    taken = sys.getrefcount(np.ndarray) - before  # (outside the assert: pytest keeps its operands)
    assert taken == 0
    assert type(again) is np.ndarray and again.dtype == np.uint64 and again.flags.writeable
    assert again.tolist() == table.tolist() and again is not table
    codes = np.array([0x995, 10, 0x996], dtype=np.uint32)  # "ক\nখ"
    lines = _kernels.lines_scan(codes, codes, 3, *[np.full((1, 1), -1)] * 3)
    assert [type(a) for a in lines[:5]] == [np.ndarray] * 5 and lines[0].tolist() == [[0, 0, 1], [2, 2, 3]]


def test_arrays_a_kernel_returns_hold_their_memory(tmp_path: Path, monkeypatch):
    """The precompiled kernels borrow their array arguments for the call; what they return
    must never point into one (it would dangle once the caller let the argument go)."""
    import gc

    from corpus import cli, stream

    returned: list[tuple[str, list, list]] = []

    def watched(name, kernel):
        def call(*args):
            out = kernel(*args)
            results = out if isinstance(out, tuple) else (out,)
            arrays = [a for a in args if isinstance(a, np.ndarray)]
            returned.append((name, [r for r in results if isinstance(r, np.ndarray)], arrays))
            return out

        return call

    for name in _kernels.KERNELS:
        monkeypatch.setattr(_kernels, name, watched(name, getattr(_kernels, name)))
    make_corpus.write_shards(30, tmp_path, seed=5, shard_size=30)
    lines = list(stream.prelabel_lines(tmp_path, cli.prelabel_json))
    assert len(lines) == 30 and len({name for name, _, _ in returned}) >= 10
    for name, results, arguments in returned:
        for result in results:
            assert result.base is not None or result.flags.owndata, name
            assert not any(np.shares_memory(result, a) for a in arguments), name
    del returned[:-200]
    gc.collect()  # (the arguments gone, the results are still whole)
    assert all(result.sum() is not None for _, results, _ in returned for result in results)


def test_every_kernel_declares_its_argument_types():
    import inspect

    for name, (func, types) in _kernels.KERNELS.items():
        assert len(types) == len(inspect.signature(func).parameters), name
        assert all(t.split("[")[0] in _kernels._DTYPES for t in types), name


@pytest.mark.slow
def test_precompiled_and_jit_kernels_give_the_same_prelabels(tmp_path: Path):
    """The same spans and scores, bit for bit, from the extension and from numba's JIT."""
    make_corpus.write_shards(40, tmp_path, seed=3, shard_size=40)
    texts = [r["text"] for r in read_records(tmp_path)]
    runs = {}
    for mode in ("aot", "jit"):
        env = {**os.environ, "CHHANNI_KERNELS": mode}
        command = [sys.executable, "-c", PRELABELS]
        done = subprocess.run(command, input=json.dumps(texts), env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr[-2000:]
        runs[mode] = json.loads(done.stdout)
    assert runs["jit"]["mode"] == "jit" and runs["aot"]["mode"] == _kernels.MODE
    assert runs["aot"]["spans"] == runs["jit"]["spans"]
    assert sum(map(len, runs["aot"]["spans"])) > 10 * len(texts)


@pytest.mark.parametrize(
    "text",
    ["", "ক", "আজ ঢাকায় বৃষ্টি।\n", "नमस्ते 😀 दुनिया", "\U0010ffff", "a\ud83db", "\ud83d\ude00", "\x00\uffff"],
)
def test_char_flags_code_points_are_the_texts(text):
    """One code point per character (an astral one too, lone surrogates included), from an
    array of UCS-4 or, where the platform has none, from UTF-32; never writable (the kept
    character facts share them)."""
    from corpus import segment

    codes, flags = segment.char_flags(text)
    assert codes.dtype == np.uint32 and codes.tolist() == [ord(ch) for ch in text]
    assert len(flags) == len(text)
    assert segment.code_points(text).tolist() == codes.tolist() and not codes.flags.writeable
    with pytest.raises(ValueError):
        codes[:1] = 0


def test_flag_lookup_makes_the_ingest_verdicts_of_its_flags():
    """``take_flags`` decides NFC and counts controls in its lookup pass: the same answers as
    ``nfc_verdict`` and ``count_flag`` on the flags, on random texts that hit every verdict."""
    import random

    from corpus import segment

    rng = random.Random(3)
    alphabet = list("কখা়\u09be\u09d7\u09cd\u0981\u093c\u0941\u0947 \n\t\x01\x1faé😀\u200d") + ["\u0915\u093c"]
    seen = set()
    for _ in range(2000):
        text = "".join(rng.choices(alphabet, k=rng.randint(0, 12)))
        codes, _ = segment.char_flags(text)
        flags, unbuilt, verdict, controls = _kernels.take_flags(codes, segment._char_table.flags, True)
        assert not unbuilt
        assert verdict == _kernels.nfc_verdict(flags)
        assert controls == _kernels.count_flag(flags, segment.F_CONTROL)
        if verdict == _kernels.NFC_UNCHANGED:  # (sufficient: NFC leaves the text as it is)
            assert unicodedata.normalize("NFC", text) == text, ascii(text)
        seen.add(verdict)
        alone = _kernels.take_flags(codes, segment._char_table.flags, False)  # the lookup alone
        assert alone[0].tolist() == flags.tolist() and alone[1:] == (False, -1, -1)
    assert seen == {_kernels.NFC_UNCHANGED, _kernels.NFC_CHANGES}
    # two combining marks: NFC reorders them only if their classes descend (nukta 7, virama 9)
    for marks, changes in (("\u09bc\u09cd", False), ("\u09cd\u09bc", True), ("\u094d\u093c", True)):
        text = "ব" + marks
        assert (unicodedata.normalize("NFC", text) != text) is changes
        assert segment.nfc_unchanged(text) is not changes
    codes = np.array([0x995, 0x20, 0x996], dtype=np.uint32)  # an entry not built yet is told
    table = segment._char_table.flags
    partly = table.copy()
    partly[0x20] = segment._UNBUILT
    for checks in (True, False):
        assert [_kernels.take_flags(codes, t, checks)[1] for t in (table, partly)] == [False, True]


def test_flags_looked_up_without_the_checks_get_them_when_asked():
    """A text whose flags were looked up alone (``char_flags``, as labelling a text read back
    from the corpus pass does) gets the ingest checks made on its kept flags when a check asks."""
    from corpus import segment

    segment.forget_char_facts()
    for text, unchanged, controls in (
        ("ক\u09cd\u09cd\u09bc x\x01\x02", False, 2),  # virama, virama, nukta: NFC reorders the marks
        ("ক\u09bc\u09cd য", True, 0),  # nukta (7), then virama (9): already in order
        ("\u0915\u093c\u094d", True, 0),
        ("e\u0301 \x01", False, 1),  # composes
    ):
        codes, flags = segment.char_flags(text)
        assert segment._char_facts(text)[3:] == (-1, -1)  # (not made yet)
        assert segment.nfc_unchanged(text) is unchanged
        assert unchanged == (unicodedata.normalize("NFC", text) == text)
        assert segment.control_count(text) == controls
        kept = segment._char_facts(text)
        assert kept[1] is codes and kept[2] is flags and kept[3] >= 0  # (the same arrays, checks added)
        assert segment.char_flags(text)[1] is flags


def test_kernel_rounding_is_pythons_round_or_leaves_it_to_python():
    """``label_spans`` rounds scores itself where ``score_places`` is certain; everywhere it is,
    the result is ``round(x, 4)`` bit for bit, and exact ties (1/32 = 0.03125) go to Python."""
    rng = np.random.default_rng(0)
    ties = np.array([k / 20_000 for k in range(1, 20_000, 2)])  # the representable ones are exact
    edges = [0.0, -0.0, 1.0, 5e-5, 1e-300, -1e-9, 1.0000000000000002, float("nan"), float("inf")]
    xs = [*rng.random(50_000).tolist(), *ties.tolist(), *np.nextafter(ties, 0).tolist(), *edges]
    deferred = []
    for x in xs:
        k = _kernels.score_places(x)
        if k < 0:
            deferred.append(x)
        else:
            assert (k / 10**4).hex() == round(x, 4).hex() and repr(k / 10**4) == repr(round(x, 4)), x
    assert 0.03125 in deferred and round(0.03125, 4) == 0.0312  # (half to even)
    assert all(not 0 < x <= 1 or abs(x * 10**4 % 1 - 0.5) < 1e-6 for x in deferred)  # only near ties
    assert len(deferred) < 20_000 + len(edges) + 10  # of 50,000 random scores, hardly any


def test_compiled_spans_json_is_the_spans_formatted_in_python():
    from corpus.cli import _spans_json
    from corpus.labels import CATEGORY_NAMES
    from corpus.prelabel import KernelArrays, SpanColumns

    rng = np.random.default_rng(1)
    n = 400
    starts = np.sort(rng.integers(0, 10**12, n))
    starts[:2] = [0, 7]
    ends = starts + rng.integers(1, 10**6, n)
    ends[-1] = 2**63 - 1
    categories = rng.integers(0, len(CATEGORY_NAMES), n)
    places = rng.integers(0, 10**4 + 1, n)
    places[:6] = [0, 10**4, 10, 1, 1200, 9999]
    python = SpanColumns(
        starts.tolist(), ends.tolist(), [CATEGORY_NAMES[c] for c in categories], (places / 1e4).tolist()
    )
    formatted = _spans_json(python)
    assert formatted.startswith(b'{"start": 0, "end": ') and b'"score": 0.0}, {"start": 7' in formatted
    compiled = _kernels.spans_json(starts, ends, categories, places, _member_rows())
    assert compiled.tobytes() == formatted
    with_arrays = python._replace(arrays=KernelArrays((starts, ends, categories, places), python[:4]))
    assert with_arrays == python and _spans_json(with_arrays) == formatted
    # arrays only for the lists they were made with: other scores are written as they are
    rescored = with_arrays._replace(scores=[0.5] * n)
    assert with_arrays.arrays.of(rescored) is None and _spans_json(rescored).count(b'"score": 0.5}') == n
    places[5] = -1  # not certain: the kernel writes nothing, Python writes the scores
    assert len(_kernels.spans_json(starts, ends, categories, places, _member_rows())) == 0
    assert _spans_json(with_arrays) == formatted
    empty = SpanColumns([], [], [], [])
    nothing = KernelArrays((np.zeros(0, dtype=np.int64),) * 4, empty[:4])
    assert _spans_json(empty._replace(arrays=nothing)) == b""


def _member_rows():
    from corpus.cli import _member_rows

    return _member_rows()
