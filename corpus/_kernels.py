"""Compiled inner loops of the fast paths.

Each kernel is a plain loop over code points or character flags that the pure Python/numpy
fast paths used to spread over dozens of numpy calls and per-piece Python. They compute the
same numbers (integer counts, index scans, the float arithmetic of langdetect's random walk
in the same order); tests/test_bench.py and tests/test_prelabel.py compare every result with
the reference paths.

They are written for numba and run one of two ways:

* **ahead of time** (the default): ``pip install`` compiles the ``@kernel`` functions, with
  the argument types they declare, into the extension module ``corpus._kernels_aot``
  (``python -m corpus._kernels`` rebuilds it). Importing it takes milliseconds and does not
  load numba or LLVM: start-up and memory are those of numpy. Array arguments are checked
  against the declared types in C before numba unboxes them (``_kernels_arguments.c``).
* **just in time**, when the extension is missing or was built from another version of this
  file (its source digest differs), or ``CHHANNI_KERNELS=jit``: numba compiles each kernel
  on first use and caches the machine code on disk (next to this file, or numba's user
  cache if the package is read-only).
"""

from __future__ import annotations

import hashlib
import math
import os
import sys
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from corpus import segment as _segment
from corpus.classifier import DENSE_FEATURES, ZONES
from corpus.labels import CATEGORY_NAMES
from corpus.langid import AZ_ENTRY as _AZ_ENTRY  # (the code table script_ngrams reads)
from corpus.langid import LOW_BIT as _LOW_BIT

ARGUMENT_CHECK = Path(__file__).with_name("_kernels_arguments.c")  # linked into the extension
_IMPORTED = (  # the values the compiled code takes from other modules: part of its digest
    sorted((k, v) for k, v in vars(_segment).items() if k.startswith(("F_", "CUT_", "INDIC_", "PYTHON_"))),
    (_segment._UNBUILT, _AZ_ENTRY, _LOW_BIT, DENSE_FEATURES, ZONES, CATEGORY_NAMES),
)
SOURCE_DIGEST = int(
    hashlib.sha256(
        Path(__file__).read_bytes() + ARGUMENT_CHECK.read_bytes() + repr(_IMPORTED).encode()
    ).hexdigest()[:15],
    16,
)
KERNELS: dict[str, tuple[Callable, tuple[str, ...]]] = {}  # name → (Python function, argument types)


def _compiled_module():
    """``corpus._kernels_aot`` if it was built from this very file, else None."""
    if os.environ.get("CHHANNI_KERNELS") == "jit":
        return None
    try:
        from corpus import _kernels_aot
    except ImportError:
        return None
    return _kernels_aot if _kernels_aot.source_digest() == SOURCE_DIGEST else None


_AOT = _compiled_module()
MODE = "aot" if _AOT is not None else "jit"


def _load_numba_registries() -> None:
    """Load numba's typing and lowering registries now, with two optional probes failing:
    BLAS (imports ``scipy.linalg``, ~0.25 s of start-up) and cffi (imports ``pycparser``,
    ~0.08 s). No kernel here uses either; both modules import normally afterwards."""
    from numba.core.registry import cpu_target

    blocked = [name for name in ("scipy.linalg", "cffi") if name not in sys.modules]
    for name in blocked:
        sys.modules[name] = None  # type: ignore[assignment]  # "import name" raises ImportError
    try:
        cpu_target.typing_context.refresh()
        cpu_target.target_context.refresh()
    finally:
        for name in blocked:
            del sys.modules[name]


if _AOT is None:
    _load_numba_registries()


def njit(**options):
    """``numba.njit`` with an on-disk cache when there is a writable place for one (helpers
    that only kernels call; left as plain functions when the kernels are precompiled)."""

    def wrap(func):
        if _AOT is not None:
            return func
        import numba

        try:
            return numba.njit(**options)(func)
        except RuntimeError:  # "no locator available": compile in every process instead
            return numba.njit(**{**options, "cache": False})(func)

    return wrap


def kernel(*types: str):
    """A kernel Python calls, with its argument types in numba's notation (``u4[::1]`` a
    contiguous uint32 array, ``i8[:, ::1]`` a C-ordered 2-D int64 array, ``i8[:]`` any
    strides, ``i8``/``f8``/``b1`` scalars): the precompiled function (which checks its array
    arguments against these types, ``_kernels_arguments.c``), or numba's."""

    def wrap(func):
        KERNELS[func.__name__] = (func, types)
        if _AOT is None:
            return njit(cache=True, nogil=True)(func)
        return getattr(_AOT, func.__name__)

    return wrap


_DTYPES = {"u1": np.uint8, "u2": np.uint16, "u4": np.uint32, "u8": np.uint64, "i2": np.int16, "i4": np.int32}
_DTYPES |= {"i8": np.int64, "f8": np.float64, "b1": np.bool_}


def _array_check(spec: str) -> tuple[int, int, int, int] | None:
    """What ``chhanni_check_array`` is told of an argument declared ``spec``: the dtype's type
    number and its twin (the other number of an equal dtype, e.g. ``long long`` for int64 on
    Linux), dimensions, whether C-contiguous; None for a scalar."""
    if "[" not in spec:
        return None
    base, dims = spec.split("[")
    dtype = np.dtype(_DTYPES[base])
    numeric = (np.dtype(code) for code in np.typecodes["All"] if code not in "SUVOMm")
    equal = [other.num for other in numeric if other == dtype]
    twin = next((num for num in equal if num != dtype.num), dtype.num)
    return dtype.num, twin, dims.count(",") + 1, int(dims.endswith("::1]"))


def build_compiled_module(target: Path) -> Path:
    """Compile every ``@kernel`` ahead of time into the extension module file ``target``
    (``corpus/_kernels_aot<EXT_SUFFIX>``), with the digest of this file's source."""
    import warnings

    from numba.pycc import CC

    assert _AOT is None, "build from the numba kernels: CHHANNI_KERNELS=jit"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # numba.pycc's pending deprecation
        cc = CC("_kernels_aot")
    cc.output_dir = str(target.parent)
    cc.output_file = target.name
    cc.target_cpu = ""  # the architecture's baseline: a built wheel runs on any CPU of it
    cc.verbose = False
    cc._mixin_sources = [*cc._mixin_sources, str(ARGUMENT_CHECK)]  # (an absolute path: joined as is)
    for name, (func, types) in KERNELS.items():
        cc.export(name, f"({', '.join(types)},)")(func)
    digest = SOURCE_DIGEST
    cc.export("source_digest", "i8()")(lambda: digest)
    target.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings(), _array_type_looked_up_once(), _array_arguments_checked():
        warnings.simplefilter("ignore")
        cc.compile()
    return target


@contextmanager
def _array_type_looked_up_once():
    """While compiling ahead of time: box returned arrays with ``numpy.ndarray`` unpickled
    once per process, not once per array.

    numba's array boxing unpickles the array's Python type from a constant each time it boxes
    an array (``PythonAPI.unserialize``). The JIT memoises that unpickling; an ahead-of-time
    module does not, so every returned array cost a ``pickle.loads``, an import lookup and a
    reference to the type (a kernel returning ten arrays took 15 µs on a one-character text,
    7 µs under the JIT). Here, inside the boxing only, ``unserialize`` keeps what it unpickled
    in a global of the compiled module, unpickled the first time. The boxing never releases
    that object (``NRT_adapt_ndarray_to_python_acqref`` takes its own reference), so one
    reference, the global's, is all it needs; every other ``unserialize`` is numba's own.
    """
    from numba.core import cgutils, pythonapi

    api = pythonapi.PythonAPI
    boxing, unserialize = api.nrt_adapt_ndarray_to_python, api.unserialize

    def unserialize_once(self, structptr):
        name = f"chhanni.unpickled.{structptr.name}"
        kept = self.module.globals.get(name)
        if kept is None:
            kept = cgutils.add_global_variable(self.module, self.pyobj, name)
            kept.linkage, kept.initializer = "internal", self.pyobj(None)
        with self.builder.if_then(cgutils.is_null(self.builder, self.builder.load(kept)), likely=False):
            self.builder.store(unserialize(self, structptr), kept)
        return self.builder.load(kept)

    def boxing_with_the_type_kept(self, aryty, ary, dtypeptr):
        self.unserialize = unserialize_once.__get__(self)
        try:
            return boxing(self, aryty, ary, dtypeptr)
        finally:
            del self.unserialize

    api.nrt_adapt_ndarray_to_python = boxing_with_the_type_kept
    try:
        yield
    finally:
        api.nrt_adapt_ndarray_to_python = boxing


@contextmanager
def _array_arguments_checked():
    """While compiling ahead of time: each kernel's wrapper checks an array argument
    (``chhanni_check_array``, ``_kernels_arguments.c``) and raises ``TypeError`` naming the
    kernel and the argument instead of reading it as the declared type; an array that passes
    is borrowed for the call, as numba does without its runtime (``numba_adapt_ndarray``), not
    wrapped in a reference-counted record (a ``malloc``, an incref and a ``free`` per array,
    ~60 arrays a document). The caller holds the arguments until the kernel returns, and an
    array the kernel returns that points into a borrowed one is copied
    (``chhanni_owned_array``): no kernel returns one, and none could hand out memory it does
    not hold.

    numba builds one wrapper per kernel, unboxing the arguments in order
    (``PythonAPI.to_native_value``); the wrapper's symbol names the kernel. Wrappers of the
    helpers kernels call (never called from Python), and what numba's JIT compiles and caches
    meanwhile (a kernel another calls), are left as numba makes them."""
    import ctypes

    from llvmlite import binding as llvm
    from llvmlite import ir
    from numba.core import cgutils, pythonapi, types

    api = pythonapi.PythonAPI
    to_native_value, boxing = api.to_native_value, api.nrt_adapt_ndarray_to_python
    unboxed: dict = {}  # wrapper (an LLVM function) → arguments it unboxed so far
    i32 = ir.IntType(32)

    def checked_to_native_value(self, typ, obj):
        builder = self.builder
        index = unboxed[builder.function] = unboxed.get(builder.function, -1) + 1
        name = _wrapped_function(builder.function.name)
        if not self.context.aot_mode or name not in KERNELS or not isinstance(typ, types.Array):
            return to_native_value(self, typ, obj)
        declared = KERNELS[name][1][index]
        check = _array_check(declared)
        assert check is not None, (name, index, declared)
        arguments = (self.pyobj, i32, i32, i32, i32, self.cstring, i32, self.cstring)
        function = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(i32, arguments), "chhanni_check_array"
        )
        texts = [self.context.insert_const_string(builder.module, text) for text in (name, declared)]
        passed = builder.call(function, [obj, *map(i32, check), texts[0], i32(index), texts[1]])
        array = self.context.make_array(typ)(self.context, builder)
        failed = cgutils.alloca_once_value(builder, cgutils.true_bit)
        with builder.if_then(builder.icmp_unsigned("!=", passed, i32(0)), likely=True):
            adapt = cgutils.get_or_insert_function(
                builder.module, ir.FunctionType(i32, (self.pyobj, self.voidptr)), "numba_adapt_ndarray"
            )
            error = builder.call(adapt, [obj, builder.bitcast(array._getpointer(), self.voidptr)])
            builder.store(cgutils.is_not_null(builder, error), failed)
        return pythonapi.NativeValue(array._getvalue(), is_error=builder.load(failed))

    def owned_boxing(self, aryty, ary, dtypeptr):
        boxed = boxing(self, aryty, ary, dtypeptr)
        if not self.context.aot_mode:
            return boxed
        function = cgutils.get_or_insert_function(
            self.builder.module, ir.FunctionType(self.pyobj, (self.pyobj,)), "chhanni_owned_array"
        )
        return self.builder.call(function, [boxed])

    # numba links each compiled module in this process too: the symbols must resolve here,
    # though nothing calls them before the extension is built and loaded
    never_called = ctypes.CFUNCTYPE(ctypes.c_int)(lambda: 0)
    for symbol in ("chhanni_check_array", "chhanni_owned_array"):
        llvm.add_symbol(symbol, ctypes.cast(never_called, ctypes.c_void_p).value)
    api.to_native_value, api.nrt_adapt_ndarray_to_python = checked_to_native_value, owned_boxing
    try:
        yield
    finally:
        api.to_native_value, api.nrt_adapt_ndarray_to_python = to_native_value, boxing


def _wrapped_function(symbol: str) -> str | None:
    """The function a numba CPython wrapper's symbol wraps, e.g. ``take_flags`` for
    ``_ZN7cpython6corpus8_kernels10take_flagsB2v1B38...`` (Itanium mangling: each name
    preceded by its length), or None for any other symbol."""
    prefix = "_ZN7cpython"
    if not symbol.startswith(prefix):
        return None
    names, at = [], len(prefix)
    while at < len(symbol) and symbol[at].isdigit():
        digits = at
        while symbol[at].isdigit():
            at += 1
        size = int(symbol[digits:at])
        names.append(symbol[at : at + size])
        at += size
    return names[-1] if names else None


# flag bits of corpus.segment.char_flags
ALPHA, SPACE, DIGIT, LATIN = _segment.F_ALPHA, _segment.F_SPACE, _segment.F_DIGIT, _segment.F_LATIN
_DIGIT_SHIFT, _LATIN_SHIFT = DIGIT.bit_length() - 1, LATIN.bit_length() - 1
assert ALPHA == 1  # (counted as the bit itself)
TOKSTART, STRIP, SENT, DOT = _segment.F_TOKSTART, _segment.F_STRIP, _segment.F_SENT, _segment.F_DOT
WORD = _segment.F_WORD
OTHER_LETTER = _segment.F_OTHER_LETTER
UNBUILT = _segment._UNBUILT  # a flag-table entry not computed yet
# characters ``str.rstrip`` removes before the end-of-piece test: " ' ” ’ » ) ]
_CLOSERS = np.array([0x22, 0x27, 0x201D, 0x2019, 0xBB, 0x29, 0x5D], dtype=np.int64)
N_COLUMNS = 9
(COL_ALPHA, COL_SPACE, COL_DIGIT, COL_LATIN, COL_SENTENCES, COL_WORDS, COL_STOPS, COL_END) = range(8)
COL_CHARS = 8
END_NONE, END_PERIOD, END_EXCLAIM = 0, 1, 2


@kernel(
    "u4[::1]", "u4[::1]", "i8[::1]", "i8[::1]", "u8[::1]", "i8", "i8", "i8", "b1", "i8[:, ::1]", "u1[::1]"
)  # fmt: skip
def piece_counts(codes, flags, starts, ends, keys, shortest, longest, packable, stops, long_words, heads):
    """Per piece ``[starts[i], ends[i])``: the counts ``piece_features`` derives from its text.

    Columns (``COL_*``): letters, whitespace, digits, Latin letters, sentence ends (``[।॥!?]``
    or ``.`` before whitespace or the end), tokens (``_TOKEN``: a token-start character, then
    everything up to whitespace), stop words among the tokens (those whose stripped form has
    at most ``packable`` code points, matched as packed integers against ``keys``, a
    ``hash_set`` of them, once ``heads`` says a word of its length starts with its first code
    point; longer ones against the rows of ``long_words``, code points padded with -1), and
    how the piece ends once closing quotes/brackets are stripped (``END_*``), and its length.
    """
    p = len(starts)
    out = np.zeros((p, N_COLUMNS), dtype=np.int64)
    for k in range(p):
        s = starts[k]
        e = ends[k]
        alpha = space = digit = latin = sentences = words = hits = 0
        i = s
        while i < e:
            f = flags[i]
            if f & SPACE:
                space += 1
                i += 1
                continue
            # a token runs from a token-start character to the next whitespace (or the piece's
            # end); any other character stands alone. Its characters are counted as it is read;
            # a "." ends a sentence where whitespace or the end follows it
            b = i
            while True:
                g = flags[np.uint64(b)]  # (unsigned: no wrap-around test)
                alpha += g & ALPHA
                digit += (g & DIGIT) >> _DIGIT_SHIFT
                latin += (g & LATIN) >> _LATIN_SHIFT
                sentences += (g & SENT) != 0
                b += 1
                if b == e or not f & TOKSTART or flags[np.uint64(b)] & SPACE:
                    break
            if g & DOT and not g & SENT and (b == e or flags[np.uint64(b)] & SPACE):
                sentences += 1
            if f & TOKSTART:
                words += 1
            if stops and f & TOKSTART:
                a = i
                z = b
                # str.strip(TOKEN_STRIP): one character per side and round, as in Python
                while a < z and flags[a] & STRIP:
                    a += 1
                while z > a and flags[z - 1] & STRIP:
                    z -= 1
                size = z - a
                first = np.int64(codes[a]) - 0x08FF  # (a stop word's first code point, if one)
                if size >= shortest and size <= packable and 1 <= first <= 256 and heads[first * 8 + size]:
                    key = 0
                    for j in range(size):
                        v = np.int64(codes[a + j]) - 0x08FF
                        if v < 1 or v > 256:
                            v = 300
                        key |= v << (9 * j)
                    if _in_hash_set(keys, np.uint64(key)):
                        hits += 1
                elif size > packable and size >= shortest and size <= longest:
                    for w in range(len(long_words)):
                        if _same_word(codes, a, size, long_words[w]):
                            hits += 1
                            break
            i = b
        end = END_NONE
        j = e - 1
        while j >= s:
            c = codes[j]
            closer = False
            for x in _CLOSERS:
                if c == x:
                    closer = True
                    break
            if not closer:
                break
            j -= 1
        if j >= s:
            c = codes[j]
            if c == 0x0964 or c == 0x0965 or c == 0x2E:  # । ॥ .
                end = END_PERIOD
            elif c == 0x21 or c == 0x3F:  # ! ?
                end = END_EXCLAIM
        out[k, COL_ALPHA] = alpha
        out[k, COL_SPACE] = space
        out[k, COL_DIGIT] = digit
        out[k, COL_LATIN] = latin
        out[k, COL_SENTENCES] = sentences
        out[k, COL_WORDS] = words
        out[k, COL_STOPS] = hits
        out[k, COL_END] = end
        out[k, COL_CHARS] = e - s
    return out


@njit(cache=True, nogil=True)
def _same_word(codes, a, size, word, fold_ascii=False):
    """``codes[a:a + size]`` is ``word`` (a row of code points padded with -1); with
    ``fold_ascii``, once its ASCII capitals are lower-cased."""
    if size > len(word) or (size < len(word) and word[size] != -1):
        return False
    for j in range(size):
        c = np.int64(codes[a + j])
        if fold_ascii and 0x41 <= c <= 0x5A:
            c += 0x20
        if c != word[j]:
            return False
    return True


# --- language id (corpus.langid's exact fast path) ------------------------------------------


assert _LOW_BIT == 0x8000 and _AZ_ENTRY == 0xFFFF  # (script_ngrams: v >> 15, v & 0x7FFF)


@kernel("u4[::1]", "u2[::1]", "i2[::1]", "i4[::1]", "i2[::1]", "i8")
def script_ngrams(codes, table, t1, pairs, t3, size):
    """The n-gram ids langdetect extracts from a Bengali/Devanagari text, in its order.

    Returns ``(ok, ids)``; ``ok`` is False when langdetect must decide (a character of class
    "other", Latin letters that would count, no n-gram at all). Same steps as the numpy
    version this replaces: drop ASCII letters, map to the profile alphabet (0 = space),
    collapse runs of spaces, then per position the 1-, 2- and 3-gram ids that exist, in one
    pass. ``table`` is ``langid._code_table``: a code point's alphabet index + 1 (0: "other",
    ``AZ_ENTRY``: A-z, ``LOW_BIT``: a class counted apart). A pair of characters ``(first,
    second)`` has one entry of ``pairs``: its bigram id in the high 16 bits, in the low 16
    the row of ``t3`` of the trigrams it starts (row 0: none, all -1; a trigram id is
    ``t3[row * size + third]``), read for the next position while the pair is at hand.
    """
    n = len(codes)
    n_az = n_low = 0
    empty = np.empty(0, dtype=np.int64)
    ids = np.empty(3 * n, dtype=np.int64)
    width = np.uint64(size)
    # (unsigned indices: no wrap-around test; each id is written, and kept, k advancing, only
    # if it exists: no branch to mispredict)
    k = np.uint64(0)
    m = 1  # characters kept, a leading space included
    prev = np.uint64(0)  # the last character kept (0 = space; the text starts after one)
    row = np.uint64(0)  # the trigram row of the last two kept (0: none, or a space in the middle)
    for i in range(n):
        v = table[codes[i]]
        if v == 0:
            return False, empty
        if v == _AZ_ENTRY:
            n_az += 1
            continue
        n_low += v >> 15
        cur = np.uint64(v & 0x7FFF) - np.uint64(1)
        if cur == 0 and prev == 0:
            continue  # runs of spaces count once
        m += 1
        g = np.int64(t1[cur])
        ids[k] = g
        k += np.uint64(g >= 0)
        pair = pairs[prev * width + cur]
        g = np.int64(pair >> 16)
        ids[k] = g
        k += np.uint64(g >= 0)
        g = np.int64(t3[row * width + cur])
        ids[k] = g
        k += np.uint64(g >= 0)
        row = np.uint64(pair & 0xFFFF)
        prev = cur
    non_latin = n - (n_low + n_az)
    if n_az * 2 >= non_latin or m < 2 or k == 0:
        return False, empty
    return True, ids[:k]


@njit(cache=True, nogil=True)
def walk(ids, dense, stream, pos, weight, positions, n_langs, conv, limit, compensated):
    """One trial of langdetect's random walk from stream position ``pos``, operation for operation.

    ``dense[g]`` are n-gram ``g``'s probabilities in the script languages (at ``positions`` in
    langdetect's language order); the other languages share one value. Every fifth step the
    55 values are normalised by their sum, taken left to right in language order like
    Python's builtin ``sum`` (with Neumaier's compensation when ``compensated``: Python >= 3.12).
    Returns ``(u, other, pos)``; ``pos == -1`` means the stream ran out (extend it, call again).
    """
    n = len(ids)
    n_script = len(positions)
    shift = 32 - _bit_length(n)
    size = len(stream)
    u = np.empty(n_script, dtype=np.float64)
    for k in range(n_script):
        u[k] = 1.0 / n_langs
    other = 1.0 / n_langs
    values = np.empty(n_langs, dtype=np.float64)
    i = 0
    while True:
        if pos >= size:
            return u, other, -1
        r = stream[pos] >> shift
        pos += 1
        while r >= n:
            if pos >= size:
                return u, other, -1
            r = stream[pos] >> shift
            pos += 1
        g = ids[r]
        for k in range(n_script):
            u[k] = u[k] * (weight + dense[g, k])
        other *= weight + 0.0
        if i % 5 == 0:
            for k in range(n_langs):
                values[k] = other
            for k in range(n_script):
                values[positions[k]] = u[k]
            total = builtin_sum(values, compensated)
            for k in range(n_script):
                u[k] = u[k] / total
            other = other / total
            top = u[0]
            for k in range(1, n_script):
                if u[k] > top:
                    top = u[k]
            if other > top:
                top = other
            if top > conv or i >= limit:
                break
        i += 1
    return u, other, pos


@kernel("i8[::1]", "f8[:, ::1]", "i8[::1]", "i8[::1]", "i8", "f8", "i8", "b1", "i8", "f8", "f8", "f8")
def replay(ids, dense, stream, positions, n_langs, conv, limit, compensated, trials, alpha, width, base):
    """langdetect's ``n_trial`` walks from stream position 0, each with its ``gauss``-drawn
    weight (``random.gauss(0.0, 1.0)``, Box-Muller with a spare, emulated word by word on the
    Mersenne Twister stream): ``(acc, other)``, the trials' ``u / trials`` summed in order, or
    ``other == -1.0`` when the stream ran out (extend it, call again)."""
    n_script = len(positions)
    acc = np.zeros(n_script, dtype=np.float64)
    acc_other = 0.0
    pos = 0
    spare = 0.0
    has_spare = False
    for _ in range(trials):
        if has_spare:
            z = 0.0 + spare * 1.0
            has_spare = False
        else:
            if pos + 4 > len(stream):
                return acc, -1.0
            x = ((stream[pos] >> 5) * 67108864.0 + (stream[pos + 1] >> 6)) * (1.0 / 9007199254740992.0)
            y = ((stream[pos + 2] >> 5) * 67108864.0 + (stream[pos + 3] >> 6)) * (1.0 / 9007199254740992.0)
            pos += 4
            x2pi = x * (2.0 * np.pi)
            g2rad = np.sqrt(-2.0 * np.log(1.0 - y))
            z = 0.0 + np.cos(x2pi) * g2rad * 1.0
            spare = np.sin(x2pi) * g2rad
            has_spare = True
        weight = (alpha + z * width) / base
        u, other, pos = walk(ids, dense, stream, pos, weight, positions, n_langs, conv, limit, compensated)
        if pos < 0:
            return acc, -1.0
        for k in range(n_script):
            acc[k] += u[k] / trials
        acc_other += other / trials
    return acc, acc_other


@kernel("f8[::1]", "f8", "i8[::1]", "i8", "f8")
def best_language(acc, other, positions, first_other, threshold):
    """langdetect's pick from a walk's probabilities (``acc`` of the script languages at
    ``positions`` in its language order, ``other`` for the rest, the first of which is at
    ``first_other``, -1 if none): the largest above ``threshold``, the first in language order
    on a tie (its sort is stable). ``(position, probability)``, or ``(-1, 0.0)`` if none is
    above."""
    best = -1
    prob = 0.0
    for k in range(len(positions)):
        v = acc[k]
        if v > threshold and (best < 0 or v > prob or (v == prob and positions[k] < best)):
            best = positions[k]
            prob = v
    if first_other >= 0 and other > threshold:
        if best < 0 or other > prob or (other == prob and first_other < best):
            best = first_other
            prob = other
    return best, prob


@kernel("f8[::1]", "b1")
def builtin_sum(values, compensated):
    """Python's ``sum(values)`` of floats: left to right from ``values[0]``; from Python 3.12 on
    with Neumaier's compensation, added at the end if non-zero and finite (``bltinmodule.c``)."""
    total = values[0]
    c = 0.0
    for k in range(1, len(values)):
        x = values[k]
        t = total + x
        if compensated:
            if abs(total) >= abs(x):
                c += (total - t) + x
            else:
                c += (x - t) + total
        total = t
    if compensated and c != 0.0 and np.isfinite(c):
        total += c
    return total


@njit(cache=True)
def _bit_length(n):
    b = 0
    while n:
        n >>= 1
        b += 1
    return b


# --- segmentation ---------------------------------------------------------------------------

assert _segment.INDIC_LETTER == "\u0980-\u09ff\u0900-\u097f"  # one block: U+0900..U+09FF


@njit(cache=True, nogil=True)
def _is_indic(c):
    return 0x0900 <= c <= 0x09FF


@njit(cache=True, nogil=True)
def _is_upper(c):
    return 0x41 <= c <= 0x5A


@njit(cache=True, nogil=True)
def _is_lower(c):
    return 0x61 <= c <= 0x7A


# the cut rules of corpus.segment._cuts_in_line that lines_scan gates, as bits of its candidates
CUT_TERMINATOR, CUT_LATIN_CAP = _segment.CUT_TERMINATOR, _segment.CUT_LATIN_CAP
CUT_CAMEL, CUT_TRAILING_TAG = _segment.CUT_CAMEL, _segment.CUT_TRAILING_TAG
CUT_BYLINE, CUT_CUE, CUT_AGENCY = _segment.CUT_BYLINE, _segment.CUT_CUE, _segment.CUT_AGENCY
_PYTHON_CUTS = np.uint8(_segment.PYTHON_CUTS)


@kernel("u4[::1]", "u4[::1]", "i8", "i8[:, ::1]", "i8[:, ::1]", "i8[:, ::1]")
def lines_scan(codes, flags, min_half, bylines, cues, agencies):
    """Lines, candidate lines and the words the compound rule can split, in one pass.

    Returns ``(lines, candidate, runs, keys, maybe, pieces, cuts, python_lines)``:

    * ``lines[k] = (start, first, end)``: line ``k`` (``text.split("\\n")``) starts at ``start``;
      ``[first, end)`` is it without surrounding whitespace (``str.strip``; empty if blank);
    * ``candidate[k]`` has bit ``CUT_*`` set when that rule of ``segment._cuts_in_line`` may
      cut line ``k``: exactly for the rules ``segment.KERNEL_CUTS`` (``_GLUE_AFTER_TERMINATOR``,
      ``_INDIC_THEN_LATIN_CAP``, ``_CAMEL_KICKER``, ``_TRAILING_LATIN_TAG``), a superset for
      the others: the byline rule a line whose text starts with a row of ``bylines`` and that
      holds one of ``:|।``; the in-line cue rule ``[।.!?]``, then whitespace within the line,
      then a row of ``cues``; the agency rule a line holding a row of ``agencies``,
      ``(name)`` (rows are code points padded with -1, sorted by first code point);
    * ``runs``: ``(start, end)`` of the runs of Indic letters of ``min_half``+ code points
      (the ``_WORD5`` matches), in order;
    * ``keys``: each run's hash (``_run_keys``);
    * ``maybe``: indices into ``runs`` of words of ``2 * min_half``+ code points that have a
      prefix and a suffix of ``min_half``+ code points equal to some word of ``runs``
      (compared by a 64-bit hash, so a collision only adds a candidate): every word that
      ``segment._splits`` can split is among them;
    * ``pieces``: ``(starts, ends, line numbers, glued)`` of each line's pieces as
      ``segment._cuts_in_line`` cuts it with the rules ``segment.KERNEL_CUTS`` alone, trimmed; final
      for every line whose ``candidate`` holds no other bit;
    * ``cuts``: those rules' cuts, ascending (``line_pieces`` makes ``pieces`` of them);
    * ``python_lines``: how many lines a rule other than ``segment.KERNEL_CUTS`` may cut.
    """
    n = len(codes)
    n_lines = 1
    for i in range(n):
        if codes[i] == 10:
            n_lines += 1
    lines = np.empty((n_lines, 3), dtype=np.int64)
    candidate = np.zeros(n_lines, dtype=np.uint8)
    runs = np.empty((n // max(min_half, 1) + 1, 2), dtype=np.int64)
    n_runs = 0
    cuts = np.empty(2 * n + 2, dtype=np.int64)  # segment.KERNEL_CUTS' cuts (two may cut at one place)
    n_cuts = 0
    k = 0
    start = 0
    first = -1
    last = -1
    colon = False
    bar = False  # "|" or "।" in the line
    i = 0
    while i <= n:
        if i == n or codes[i] == 10:
            lines[k, 0] = start
            if first < 0:
                lines[k, 1] = i
                lines[k, 2] = i
            else:
                lines[k, 1] = first
                lines[k, 2] = last + 1
                if codes[last] == 0x29:
                    tag = _trailing_tag(codes, flags, start, last)
                    if tag >= 0:
                        candidate[k] |= CUT_TRAILING_TAG
                        cuts[n_cuts] = tag
                        n_cuts += 1
                if (colon or bar) and _any_at(codes, first, n, bylines):  # (the rule ends in [:|।])
                    candidate[k] |= CUT_BYLINE
            k += 1
            start = i + 1
            first = last = -1
            colon = bar = False
            i += 1
            continue
        c = codes[np.uint64(i)]  # (unsigned index: no wrap-around test)
        if _is_indic(c) and (i == 0 or not _is_indic(codes[i - 1])):
            # a run of Indic letters: a word for the vocabulary if long enough; without a
            # danda (the block's only code points another test here reads), only its last
            # code point can start a cut (an Indic letter, then a Latin capital)
            j = i + 1
            danda = c == 0x0964 or c == 0x0965
            while j < n:
                d = codes[np.uint64(j)]  # (unsigned: no wrap-around test for a negative index)
                if not _is_indic(d):
                    break
                if d == 0x0964 or d == 0x0965:
                    danda = True
                j += 1
            if j - i >= min_half:
                runs[n_runs, 0] = i
                runs[n_runs, 1] = j
                n_runs += 1
            if not danda:
                if first < 0:
                    first = i
                last = j - 1
                if j + 1 < n and _is_upper(codes[j]) and _is_lower(codes[j + 1]):
                    candidate[k] |= CUT_LATIN_CAP
                    cuts[n_cuts] = j
                    n_cuts += 1
                i = j
                continue
        f = flags[np.uint64(i)]
        if not f & SPACE:
            if first < 0:
                first = i
            last = i
        nxt = codes[np.uint64(i + 1)] if i + 1 < n else 0
        if f & SENT:  # one of segment._TERMINATORS (। and ॥ are in the Indic block too)
            if _is_indic(nxt) or _is_upper(nxt) or _is_lower(nxt):
                candidate[k] |= CUT_TERMINATOR
                cuts[n_cuts] = i + 1
                n_cuts += 1
        if c == 0x0964 or c == 0x2E or c == 0x21 or c == 0x3F:  # । . ! ?
            j = i + 1
            while j < n and codes[j] != 10 and flags[j] & SPACE:
                j += 1
            if _any_at(codes, j, n, cues):
                candidate[k] |= CUT_CUE
        if c == 0x7C or c == 0x0964:
            bar = True
        if c == 0x3A:
            colon = True
        elif c == 0x28:
            if _any_at(codes, i, n, agencies):
                candidate[k] |= CUT_AGENCY
        elif c == 0x2E:
            if _is_indic(nxt):
                candidate[k] |= CUT_TERMINATOR
                cuts[n_cuts] = i + 1
                n_cuts += 1
        elif _is_indic(c):
            if _is_upper(nxt) and i + 2 < n and _is_lower(codes[i + 2]):
                candidate[k] |= CUT_LATIN_CAP
                cuts[n_cuts] = i + 1
                n_cuts += 1
        elif _is_lower(c):
            if _is_upper(nxt) and i + 2 < n and _is_lower(codes[i + 2]) and _kicker_at(codes, flags, i + 3):
                candidate[k] |= CUT_CAMEL
                cuts[n_cuts] = i + 1
                n_cuts += 1
        i += 1
    runs = runs[:n_runs]
    # polynomial hashes (mod 2**64) of every word, then of the prefixes and suffixes of the
    # long ones: prefix hashes accumulate, a suffix's is the word's minus its prefix's shifted
    base = np.uint64(0x100000001B3)
    longest = 0
    for r in range(n_runs):
        longest = max(longest, runs[r, 1] - runs[r, 0])
    power = np.empty(longest + 1, dtype=np.uint64)
    power[0] = np.uint64(1)
    for j in range(longest):
        power[j + 1] = power[j] * base
    prefix = np.empty(longest + 1, dtype=np.uint64)
    keys = _run_keys(codes, runs)
    known = hash_set(keys)
    maybe = np.empty(n_runs, dtype=np.int64)
    n_maybe = 0
    for r in range(n_runs):
        a = runs[r, 0]
        b = runs[r, 1]
        size = b - a
        if size < 2 * min_half:
            continue
        prefix[0] = np.uint64(0)
        for j in range(size):
            prefix[j + 1] = prefix[j] * base + np.uint64(codes[a + j] + 1)
        head = False
        for i in range(min_half, size - min_half + 1):
            if _in_hash_set(known, _keyed(prefix[i], i)):
                head = True
                break
        if not head:
            continue
        for i in range(min_half, size - min_half + 1):
            tail = prefix[size] - prefix[i] * power[size - i]
            if _in_hash_set(known, _keyed(tail, size - i)):
                maybe[n_maybe] = r
                n_maybe += 1
                break
    cuts = np.sort(cuts[:n_cuts])
    python_lines = 0
    for k in range(n_lines):
        python_lines += (candidate[k] & _PYTHON_CUTS) != 0
    return lines, candidate, runs, keys, maybe[:n_maybe], _line_pieces(flags, lines, cuts), cuts, python_lines


@njit(cache=True, nogil=True)
def _trimmed(flags, a, b):
    """``[a, b)`` without whitespace at either end (``document.trim``; empty: ``a == b``)."""
    while a < b and flags[a] & SPACE:
        a += 1
    while b > a and flags[b - 1] & SPACE:
        b -= 1
    return a, b


@kernel("u4[::1]", "i8[:, ::1]", "i8[::1]")
def line_pieces(flags, lines, cuts):
    """``_line_pieces``, called from Python (with the compound rule's cuts added)."""
    return _line_pieces(flags, lines, cuts)


@njit(cache=True, nogil=True)
def _line_pieces(flags, lines, cuts):
    """``(starts, ends, line numbers, glued)`` of the pieces of ``lines`` (``lines_scan``'s)
    cut at ``cuts`` (ascending positions inside lines), trimmed of whitespace."""
    n_lines = len(lines)
    size = n_lines + len(cuts)  # (a cut adds one piece at most)
    starts = np.empty(size, dtype=np.int64)
    ends = np.empty(size, dtype=np.int64)
    numbers = np.empty(size, dtype=np.int64)
    glued = np.empty(size, dtype=np.int64)
    p = 0
    c = 0
    for k in range(n_lines):
        start, first, end = lines[k, 0], lines[k, 1], lines[k, 2]
        if first == end:  # blank
            continue
        if c == len(cuts) or cuts[c] >= end:  # no cut in this line
            starts[p], ends[p], numbers[p], glued[p] = first, end, k, 0
            p += 1
            continue
        left = start
        while True:
            right = cuts[c] if c < len(cuts) and cuts[c] < end else end
            a, b = _trimmed(flags, left, right)
            if a < b:
                starts[p], ends[p], numbers[p], glued[p] = a, b, k, 1
                p += 1
            if right == end:
                break
            left = right
            c += 1
    return starts[:p], ends[:p], numbers[:p], glued[:p]


@njit(cache=True, nogil=True)
def _tag_char(c):
    """[A-Za-z &-]"""
    return _is_upper(c) or _is_lower(c) or c == 0x20 or c == 0x26 or c == 0x2D


@njit(cache=True, nogil=True)
def _trailing_tag(codes, flags, start, last):
    """Where ``segment._TRAILING_LATIN_TAG`` cuts the line that starts at ``start`` and whose
    last non-whitespace character, ``)``, is at ``last`` (its ``(``), or -1: ``(`` + [A-Za-z]
    + 2 to 60 of [A-Za-z &-] + ``)``, after whitespace that follows one of ``।॥!?.``."""
    p = last - 1
    while p >= start and last - p <= 62 and _tag_char(codes[p]):
        p -= 1
    inside = last - p - 1
    if p < start or codes[p] != 0x28 or inside < 3 or inside > 61:
        return -1
    if not (_is_upper(codes[p + 1]) or _is_lower(codes[p + 1])):
        return -1
    q = p - 1
    while q >= start and flags[q] & SPACE:
        q -= 1
    if q == p - 1 or q < start:
        return -1
    c = codes[q]
    return p if c == 0x0964 or c == 0x0965 or c == 0x21 or c == 0x3F or c == 0x2E else -1


@njit(cache=True, nogil=True)
def _alnum(c):
    """[A-Za-z0-9]"""
    return _is_upper(c) or _is_lower(c) or 0x30 <= c <= 0x39


@njit(cache=True, nogil=True)
def _kicker_at(codes, flags, i):
    r"""``segment._CAMEL_KICKER``'s lookahead holds where ``[A-Z][a-z]`` ends at ``i``: the rest
    of ``[A-Za-z0-9]*(?: [A-Za-z0-9]+){0,4} ?:\s`` (no backtracking can help: a word never
    ends before a letter or digit, so the match, if any, is the greedy one)."""
    n = len(codes)
    while i < n and _alnum(codes[i]):
        i += 1
    for _ in range(4):
        if i + 1 < n and codes[i] == 0x20 and _alnum(codes[i + 1]):
            i += 1
            while i < n and _alnum(codes[i]):
                i += 1
        else:
            break
    if i < n and codes[i] == 0x20:
        i += 1
    return i + 1 < n and codes[i] == 0x3A and codes[i + 1] != 10 and (flags[i + 1] & SPACE) != 0


@kernel("u4[::1]", "u4[::1]", "i8[:, ::1]", "i8[:, ::1]", "u8[::1]", "i8[::1]", "i8")
def compound_splits(codes, flags, lines, runs, hashes, maybe, min_half):
    """Per word ``runs[maybe[j]]`` (``lines_scan``'s lines and runs, and the runs' ``hashes``;
    words are compared here code point by code point, not by hash): where
    ``segment._compound_cuts`` cuts it, or 0. A word is cut only if no other run equals it
    and no sentence ended between its line's start and it (``segment._PERIOD``: ``[।॥]`` or
    ``.`` and whitespace), at the first ``i`` from ``min_half`` to ``len - min_half`` where
    the head does not end in a virama, the tail starts with a letter (category Lo) and both
    are words of ``runs`` (the vocabulary: every word of ``min_half``+ code points)."""
    base = np.uint64(0x100000001B3)
    order = np.argsort(hashes)
    sorted_hashes = hashes[order]
    out = np.zeros(len(maybe), dtype=np.int64)
    longest = 0
    for j in range(len(maybe)):
        longest = max(longest, runs[maybe[j], 1] - runs[maybe[j], 0])
    prefix = np.empty(longest + 1, dtype=np.uint64)
    power = np.empty(longest + 1, dtype=np.uint64)
    power[0] = np.uint64(1)
    for i in range(longest):
        power[i + 1] = power[i] * base
    for j in range(len(maybe)):
        a = runs[maybe[j], 0]
        b = runs[maybe[j], 1]
        size = b - a
        if _runs_equal_to(codes, runs, order, sorted_hashes, hashes[maybe[j]], a, b) != 1:
            continue
        if _period_before(codes, flags, lines[np.searchsorted(lines[:, 0], a, side="right") - 1, 0], a):
            continue
        prefix[0] = np.uint64(0)
        for i in range(size):
            prefix[i + 1] = prefix[i] * base + np.uint64(codes[a + i] + 1)
        for i in range(min_half, size - min_half + 1):
            last = codes[a + i - 1]
            if last == 0x09CD or last == 0x094D or not flags[a + i] & OTHER_LETTER:
                continue
            head = _keyed(prefix[i], i)
            tail = _keyed(prefix[size] - prefix[i] * power[size - i], size - i)
            if _runs_equal_to(codes, runs, order, sorted_hashes, head, a, a + i) > 0 and (
                _runs_equal_to(codes, runs, order, sorted_hashes, tail, a + i, b) > 0
            ):
                out[j] = i
                break
    return out


@njit(cache=True, nogil=True)
def _period_before(codes, flags, a, b):
    r"""``segment._PERIOD`` (``[।॥]|\.\s``) matches inside ``codes[a:b]``."""
    for i in range(a, b):
        c = codes[i]
        if c == 0x0964 or c == 0x0965 or (c == 0x2E and i + 1 < b and flags[i + 1] & SPACE):
            return True
    return False


@njit(cache=True, nogil=True)
def _run_keys(codes, runs):
    """Each run's polynomial hash (mod 2**64, base ``0x100000001B3``, code point + 1 per
    step), keyed with its length (``_keyed``)."""
    base = np.uint64(0x100000001B3)
    keys = np.empty(len(runs), dtype=np.uint64)
    for r in range(len(runs)):
        h = np.uint64(0)
        for j in range(runs[r, 0], runs[r, 1]):
            h = h * base + np.uint64(codes[np.uint64(j)] + 1)
        keys[r] = _keyed(h, runs[r, 1] - runs[r, 0])
    return keys


@njit(cache=True, nogil=True)
def _runs_equal_to(codes, runs, order, sorted_hashes, key, a, b):
    """How many runs hold exactly ``codes[a:b]`` (whose keyed hash is ``key``)."""
    at = np.searchsorted(sorted_hashes, key)
    found = 0
    while at < len(sorted_hashes) and sorted_hashes[at] == key:
        r = order[at]
        if _same_text(codes, runs[r, 0], runs[r, 1], a, b):
            found += 1
        at += 1
    return found


@kernel("u8[::1]")
def hash_set(values):
    """``values`` as an open-addressing set (linear probing, at most half full, 0 = empty;
    a value 0 is stored as 1, so ``_in_hash_set`` may say yes for 0 or 1: a superset)."""
    size = 16
    while size < 2 * len(values):
        size *= 2
    table = np.zeros(size, dtype=np.uint64)
    mask = size - 1
    for i in range(len(values)):
        v = values[i] if values[i] != 0 else np.uint64(1)
        at = _slot(v, mask)
        while table[at] != 0 and table[at] != v:
            at = (at + 1) & mask
        table[at] = v
    return table


@njit(cache=True, nogil=True)
def _in_hash_set(table, value):
    v = value if value != 0 else np.uint64(1)
    mask = len(table) - 1
    at = _slot(v, mask)
    while table[at] != 0:
        if table[at] == v:
            return True
        at = (at + 1) & mask
    return False


@njit(cache=True, nogil=True)
def _keyed(h, length):
    return (h ^ np.uint64(length)) * np.uint64(0x9E3779B97F4A7C15)


# --- ingest checks (corpus.segment.nfc_unchanged, control_count) ----------------------------

NFC_UNCHANGED, NFC_CHANGES = 0, 1
_NFC_UNSAFE, _NFC_ROLES, _CONTROL = _segment.F_NFC_UNSAFE, _segment.F_NFC_ROLES, _segment.F_CONTROL
_CCC = _segment.F_CCC
_SHIFTS = ("F_NFC_ROLES", "F_CCC")  # where fields of the flag word start: not flag bits
_UNBUILT_BIT = np.uint32(1 << 31)  # set in UNBUILT, in no flag word: the classes' bits end below it
_FLAG_BITS = [v for k, v in vars(_segment).items() if k.startswith("F_") and k not in _SHIFTS]
assert UNBUILT & _UNBUILT_BIT and max(_FLAG_BITS) < _UNBUILT_BIT and (1 << (_NFC_ROLES + 6)) <= (1 << _CCC)
assert _CCC + 8 == 31  # (a class is at most 254)


@njit(cache=True, nogil=True)
def _marks_descend(before, f, pair):
    """1 if ``pair`` (the roles of neighbours ``before``, ``f``) holds role 2, two combining
    marks, and their classes descend: NFC reorders them."""
    return ((pair >> 2) & 1) & np.uint32((before >> _CCC) > (f >> _CCC))


@kernel("u4[::1]", "u4[::1]", "b1")
def take_flags(codes, table, checks):
    """``segment.char_flags``' lookup, with the ingest checks on it in the same pass when
    ``checks``: ``(table[codes], whether some entry is still unbuilt, nfc_verdict(flags),
    count_flag(flags, F_CONTROL))``, the last two -1 without ``checks`` and meaningless when
    an entry is unbuilt. (The lookup alone, for a text checked before: ~3× fewer instructions.)"""
    n = len(codes)
    flags = np.empty(n, dtype=np.uint32)
    seen = np.uint32(0)  # every bit any flag word has (the top one: an entry is unbuilt)
    if not checks:
        for i in range(n):
            f = table[codes[i]]
            flags[i] = f
            seen |= f
        return flags, (seen & _UNBUILT_BIT) != 0, -1, -1
    roles = np.uint32(0)  # every role pair of neighbours (roles 0 and 1: NFC changes the text)
    descend = np.uint32(0)  # two combining marks whose classes descend (NFC reorders them)
    before = np.uint32(0)
    controls = 0
    for i in range(n):
        f = table[codes[i]]
        flags[i] = f
        seen |= f
        pair = (before >> _NFC_ROLES) & (f >> (_NFC_ROLES + 3)) & np.uint32(7)
        roles |= pair
        descend |= _marks_descend(before, f, pair)
        controls += (f & _CONTROL) != 0
        before = f
    unbuilt = (seen & _UNBUILT_BIT) != 0
    verdict = NFC_CHANGES if seen & _NFC_UNSAFE or roles & 3 or descend else NFC_UNCHANGED
    return flags, unbuilt, verdict, controls


@kernel("u4[::1]")
def nfc_verdict(flags):
    """``NFC_CHANGES`` if a character is NFC-unsafe, a neighbour pair composes or decomposes
    (roles 0 and 1) or is two combining marks whose classes descend (role 2: NFC reorders
    them), else ``NFC_UNCHANGED``: then NFC leaves the text as it is."""
    n = len(flags)
    for i in range(n):
        f = flags[i]
        if f & _NFC_UNSAFE:
            return NFC_CHANGES
        if i + 1 < n:
            after = flags[i + 1]
            pair = (f >> _NFC_ROLES) & (after >> (_NFC_ROLES + 3)) & 7
            if pair & 3 or _marks_descend(f, after, pair):
                return NFC_CHANGES
    return NFC_UNCHANGED


@kernel("u4[::1]", "i8")
def count_flag(flags, bit):
    """How many flag words have ``bit`` set."""
    count = 0
    for i in range(len(flags)):
        if flags[i] & bit:
            count += 1
    return count


# --- line keys (corpus.repetition) -----------------------------------------------------------

FNV_OFFSET, FNV_PRIME = 0xCBF29CE484222325, 0x100000001B3


@njit(cache=True, nogil=True)
def lane_hash(codes, a, b):
    """A 64-bit hash of ``codes[a:b]``: FNV-1a run in four lanes (code point ``j`` in lane
    ``(j - a) % 4``), then FNV-1a's step over the four lanes' values in order and the
    length. Four short dependency chains instead of one: ~3× faster than plain FNV-1a on a
    line, as good a hash (``repetition.lane_hash`` is the same in Python)."""
    prime = np.uint64(FNV_PRIME)
    h0 = h1 = h2 = h3 = np.uint64(FNV_OFFSET)
    j = a
    while j + 4 <= b:
        h0 = (h0 ^ np.uint64(codes[np.uint64(j)])) * prime  # (unsigned index)
        h1 = (h1 ^ np.uint64(codes[np.uint64(j + 1)])) * prime
        h2 = (h2 ^ np.uint64(codes[np.uint64(j + 2)])) * prime
        h3 = (h3 ^ np.uint64(codes[np.uint64(j + 3)])) * prime
        j += 4
    if j < b:
        h0 = (h0 ^ np.uint64(codes[np.uint64(j)])) * prime
    if j + 1 < b:
        h1 = (h1 ^ np.uint64(codes[np.uint64(j + 1)])) * prime
    if j + 2 < b:
        h2 = (h2 ^ np.uint64(codes[np.uint64(j + 2)])) * prime
    h = (np.uint64(FNV_OFFSET) ^ h0) * prime
    h = (h ^ h1) * prime
    h = (h ^ h2) * prime
    h = (h ^ h3) * prime
    return (h ^ np.uint64(b - a)) * prime


@kernel("u4[::1]")
def text_key(codes):
    """``repetition.document_key``: ``lane_hash`` of all of a text's code points."""
    return lane_hash(codes, 0, len(codes))


@kernel("u4[::1]", "u4[::1]")
def line_hashes(codes, flags):
    """Per line (split at LF): ``lane_hash`` of its code points, whitespace trimmed at both
    ends, never 0; and its trimmed length. A blank line gets key 0 and length 0."""
    n = len(codes)
    n_lines = 1
    for i in range(n):
        if codes[i] == 10:
            n_lines += 1
    keys = np.zeros(n_lines, dtype=np.uint64)
    sizes = np.zeros(n_lines, dtype=np.int64)
    line = 0
    start = 0
    for i in range(n + 1):
        if i < n and codes[i] != 10:
            continue
        a, b = _trimmed(flags, start, i)
        if b > a:
            h = lane_hash(codes, a, b)
            keys[line] = h if h != 0 else np.uint64(1)
            sizes[line] = b - a
        line += 1
        start = i + 1
    return keys, sizes


@kernel("u8[::1]")
def distinct_keys(keys):
    """``np.unique(keys[keys != 0])``: a document's line keys, sorted, once each."""
    ordered = np.sort(keys)
    out = np.empty(len(keys), dtype=np.uint64)
    m = 0
    for k in range(len(ordered)):
        if ordered[k] != 0 and (m == 0 or out[m - 1] != ordered[k]):
            out[m] = ordered[k]
            m += 1
    return out[:m].copy()


@njit(cache=True, nogil=True)
def _slot(key, mask):
    return np.int64((key * np.uint64(0x9E3779B97F4A7C15)) >> np.uint64(20)) & mask


@kernel("u8[::1]", "i8[::1]")
def key_table(keys, counts):
    """``keys`` (unique, none 0) and their ``counts`` as an open-addressing hash table (linear
    probing, at most half full, 0 = empty slot): one or two cache lines per lookup instead
    of a binary search's dozen over a table of megabytes."""
    size = 16
    while size < 2 * len(keys):
        size *= 2
    table_keys = np.zeros(size, dtype=np.uint64)
    table_counts = np.zeros(size, dtype=np.int64)
    mask = size - 1
    for i in range(len(keys)):
        at = _slot(keys[i], mask)
        while table_keys[at] != 0:
            at = (at + 1) & mask
        table_keys[at] = keys[i]
        table_counts[at] = counts[i]
    return table_keys, table_counts


@kernel("u8[::1]", "i8[::1]", "u8[::1]", "i8[::1]", "i8")
def line_repeats(keys, sizes, table_keys, table_counts, itself):
    """``LineStats.line_repeats``: each line's count in the ``key_table`` (minus ``itself``, 0
    for a blank or unknown line) beyond the median count over the document's trimmed
    characters."""
    n = len(keys)
    counts = np.zeros(n, dtype=np.int64)
    mask = len(table_keys) - 1
    total = 0
    for i in range(n):
        total += sizes[i]
        if keys[i] == 0:
            continue
        at = _slot(keys[i], mask)
        while table_keys[at] != 0:
            if table_keys[at] == keys[i]:
                counts[i] = max(table_counts[at] - itself, 0)
                break
            at = (at + 1) & mask
    if total == 0:
        return counts
    unrepeated = 0  # the characters of lines found in no other document: the median is 0 if
    for i in range(n):  # they are half (stably sorted by count, they come first)
        unrepeated += sizes[i] * (counts[i] == 0)
    if 2 * unrepeated >= total:
        return counts
    order = np.argsort(counts, kind="mergesort")
    seen = 0
    median = 0
    for k in range(n):
        seen += sizes[order[k]]
        if 2 * seen >= total:
            median = counts[order[k]]
            break
    for i in range(n):
        counts[i] = max(counts[i] - median, 0)
    return counts


# --- pre-labelling (corpus.prelabel's rules, classifier and merge, per document) ------------
#
# A document's pieces are rows of small arrays: the counts of ``piece_counts`` and the facts
# Python's regexes found (``FACT_*``: the cue as a category code in ``CATEGORIES`` order or
# ``NO_CUE``, repetition, dates, tag lists, menus). ``rules`` is ``prelabel.rule_pass``, ``classifier_logits``
# ``Classifier.probabilities`` before the logistic (which Python applies: libm's ``exp``, as
# the reference) and ``decide_and_merge`` ``Classifier.relabel`` (or ``rules_only``) followed
# by ``merge_pieces``. Floats are combined in the reference's order, without fused operations.

CATEGORIES = CATEGORY_NAMES  # category codes are indices into the label set
TITLE, SUBHEADING, BODY, NAVIGATION, TAGS, RELATED_LINKS, LISTING, TIMESTAMP, OTHER = map(
    CATEGORIES.index,
    ("title", "subheading", "body", "navigation", "tags", "related_links", "listing", "timestamp", "other"),
)
ATTRIBUTION = CATEGORIES.index("attribution")  # (a desk code's cue)
NO_CUE = -1
HEAD, BODY_ZONE, TAIL = map(ZONES.index, ("head", "body", "tail"))
# the fields of ``prelabel.Features``, the columns of the feature table ``rules`` returns
FEATURES = (
    "n_chars",
    "n_words",
    "n_sentences",
    "period_end",
    "exclaim_end",
    "stop_density",
    "latin_share",
    "digit_share",
    "letter_share",
    "cue",
    "repeated",
    "date_like",
)
(F_CHARS, F_WORDS, F_SENTENCES, F_PERIOD, F_EXCLAIM, F_STOPS, F_LATIN, F_DIGIT, F_LETTER) = range(9)
F_CUE, F_REPEATED, F_DATE = range(9, 12)
# rows of the per-piece facts Python finds (cue as a category code or NO_CUE, the rest 0/1)
FACT_CUE, FACT_REPEATED, FACT_DATE, FACT_TAG_ITEMS, FACT_MENU_WORDS = range(5)
# characters ``prelabel._is_menu`` strips from a word: | » › > / • · , :
_MENU_STRIP = np.array([0x7C, 0xBB, 0x203A, 0x3E, 0x2F, 0x2022, 0xB7, 0x2C, 0x3A], dtype=np.int64)
_MENU_SEPARATORS = np.array([0x7C, 0xBB, 0x203A, 0x3E, 0x2F, 0x2022], dtype=np.int64)  # | » › > / •


@njit(cache=True, nogil=True)
def _one(condition):
    """1.0 if ``condition`` else 0.0: a Python bool in arithmetic."""
    return 1.0 if condition else 0.0


@njit(cache=True, nogil=True)
def _member_of(c, values):
    for x in values:
        if c == x:
            return True
    return False


@kernel("u4[::1]", "i8", "i8")
def word_key(codes, a, b):
    """``(hash, True)`` of ``codes[a:b]`` lower-cased (ASCII letters only), or ``(0, False)``
    if it holds a character outside ASCII and the Indic block (whose ``str.lower`` this does
    not know)."""
    h = np.uint64(0)
    base = np.uint64(0x100000001B3)
    for j in range(a, b):
        c = np.int64(codes[np.uint64(j)])  # (unsigned index: no wrap-around test)
        if 0x41 <= c <= 0x5A:
            c += 0x20
        elif c >= 0x80 and not _is_indic(c):
            return np.uint64(0), False
        h = h * base + np.uint64(c + 1)
    return _keyed(h, b - a), True


@kernel("u4[::1]", "u4[::1]", "i8[::1]", "i8[::1]", "i8[:, ::1]", "u8[::1]", "u8[::1]", "i8[:, ::1]")
def menu_scan(codes, flags, starts, ends, counts, section_keys, section_sorted, section_rows):
    """Per piece that is not prose (``counts`` of ``piece_counts``; the rules read neither
    test for prose): ``(separator, menu_words, undecided)``. ``separator``: whether
    ``prelabel._MENU`` matches (a separator with non-space on both sides). ``menu_words``:
    ``prelabel._menu_words``, at least 3 and 60 % of the words (split on whitespace, stripped
    like ``_is_menu``) section words, where ``undecided`` is 0: a word counts when its hash is
    in ``section_keys`` (a ``hash_set``) and its code points, ASCII lower-cased, are those of
    the row of ``section_rows`` (code points padded with -1) at that hash in ``section_sorted``.
    A word with a character ``word_key`` cannot lower-case might be one, so where such words
    could make the share, the piece is ``undecided`` (left to Python)."""
    p = len(starts)
    separator = np.zeros(p, dtype=np.uint8)
    menu_words = np.zeros(p, dtype=np.uint8)
    undecided = np.zeros(p, dtype=np.uint8)
    for k in range(p):
        words = counts[k, COL_WORDS]
        if (counts[k, COL_END] == END_PERIOD and words >= 5) or (
            counts[k, COL_SENTENCES] >= 2 and words >= 12
        ):
            continue
        s = starts[k]
        e = ends[k]
        first, end = _trimmed(flags, s, e)
        for i in range(first + 1, end - 1):
            if _member_of(np.int64(codes[np.uint64(i)]), _MENU_SEPARATORS):
                separator[k] = 1
                break
        words = hits = unknown = 0
        remaining = counts[k, COL_SPACE] + 1  # at most this many words are left to read
        i = s
        while i < e:
            if flags[i] & SPACE:
                i += 1
                continue
            # stop once even all the words left could not make the share (``hits + unknown``
            # never exceeds ``words``, so (found + left) / (read + left) is the best share left)
            found = hits + unknown
            if found + remaining < 3 or 5 * (found + remaining) < 3 * (words + remaining):
                break
            remaining -= 1
            b = i
            while b < e and not flags[np.uint64(b)] & SPACE:
                b += 1
            a, z = i, b
            i = b
            while a < z and _member_of(np.int64(codes[a]), _MENU_STRIP):
                a += 1
            while z > a and _member_of(np.int64(codes[z - 1]), _MENU_STRIP):
                z -= 1
            if a == z:
                continue
            words += 1
            key, known = word_key(codes, a, z)
            if not known:
                unknown += 1
            elif _in_hash_set(section_keys, key):
                hits += _section_word(codes, a, z, key, section_sorted, section_rows)
        if hits + unknown >= 3 and hits + unknown >= 0.6 * words:
            if unknown:
                undecided[k] = 1
            else:
                menu_words[k] = 1
    return separator, menu_words, undecided


@njit(cache=True, nogil=True)
def _section_word(codes, a, z, key, section_sorted, section_rows):
    """Whether ``codes[a:z]``, ASCII lower-cased, is a row of ``section_rows`` whose key in
    ``section_sorted`` is ``key`` (one row per key, unless two words share a key)."""
    at = np.searchsorted(section_sorted, key)
    while at < len(section_sorted) and section_sorted[at] == key:
        if _same_word(codes, a, z - a, section_rows[at], True):
            return True
        at += 1
    return False


@njit(cache=True, nogil=True)
def _prose(f, k):
    return (f[k, F_PERIOD] == 1 and f[k, F_WORDS] >= 5) or (f[k, F_SENTENCES] >= 2 and f[k, F_WORDS] >= 12)


@njit(cache=True, nogil=True)
def _headline_like(f, k):
    return f[k, F_PERIOD] == 0 and 2 <= f[k, F_WORDS] <= 30 and f[k, F_LETTER] > 0.5


@njit(cache=True, nogil=True)
def _features_table(counts, facts):
    """The ``Features`` of every piece as a float table (``FEATURES`` columns; booleans 0/1)."""
    p = len(counts)
    f = np.zeros((p, len(FEATURES)), dtype=np.float64)
    for k in range(p):
        words = counts[k, COL_WORDS]
        alpha = counts[k, COL_ALPHA]
        visible = counts[k, COL_CHARS] - counts[k, COL_SPACE]
        if visible == 0:
            visible = 1
        f[k, F_CHARS] = counts[k, COL_CHARS]
        f[k, F_WORDS] = words
        f[k, F_SENTENCES] = counts[k, COL_SENTENCES]
        f[k, F_PERIOD] = counts[k, COL_END] == END_PERIOD
        f[k, F_EXCLAIM] = counts[k, COL_END] == END_EXCLAIM
        f[k, F_STOPS] = counts[k, COL_STOPS] / max(words, 1)
        f[k, F_LATIN] = counts[k, COL_LATIN] / max(alpha, 1)
        f[k, F_DIGIT] = counts[k, COL_DIGIT] / visible
        f[k, F_LETTER] = alpha / visible
        f[k, F_CUE] = facts[FACT_CUE, k]
        f[k, F_REPEATED] = facts[FACT_REPEATED, k]
        f[k, F_DATE] = facts[FACT_DATE, k]
    return f


@njit(cache=True, nogil=True)
def _categorise(f, k, zone, title_seen, open_list, tag_items, menu_words, separator):
    """``prelabel._categorise`` of piece ``k``: ``(category, confidence)``."""
    prose = _prose(f, k)
    headline = _headline_like(f, k)
    words = f[k, F_WORDS]
    if f[k, F_LETTER] == 0:
        return OTHER, 0.9
    if f[k, F_CUE] != NO_CUE:
        return np.int64(f[k, F_CUE]), 0.9
    if tag_items and f[k, F_PERIOD] == 0 and words <= 15 and f[k, F_STOPS] == 0:
        return TAGS, 0.75
    if f[k, F_DATE] == 1 and not prose and (words <= 8 or f[k, F_DIGIT] >= 0.12):
        return TIMESTAMP, 0.75
    if menu_words and not prose and words >= 3:
        return NAVIGATION, 0.75
    if open_list != NO_CUE and (zone == TAIL or (headline and not prose)):
        return open_list, 0.7
    if zone == HEAD:
        if separator and not prose:
            return NAVIGATION, 0.7
        if headline and words >= 3 and not title_seen and f[k, F_REPEATED] == 0:
            return TITLE, 0.65
        if prose:
            return BODY, 0.6
        if words <= 3:
            return NAVIGATION, 0.6
        return OTHER, 0.4
    if zone == BODY_ZONE:
        if prose:
            return BODY, 0.8
        if f[k, F_REPEATED] == 1:
            return LISTING, 0.5
        if headline and words <= 15:
            return SUBHEADING, 0.55
        if words <= 2:
            return OTHER, 0.4
        return BODY, 0.5
    if f[k, F_REPEATED] == 1 or headline:
        return LISTING, 0.55
    if prose:
        return BODY, 0.5
    return OTHER, 0.4


@kernel("i8[:, ::1]", "i8[:, ::1]", "i8[::1]", "i8[::1]", "u1[::1]")
def rules(counts, facts, lines, glued, separator):
    """``prelabel.rule_pass``: the feature table and ``(zone, category, confidence, z)`` per
    piece, ``z`` the logit of ``Features.p_content``. ``facts`` (``FACT_*`` rows) and
    ``separator`` (``menu_scan``) are what Python's regexes found, the text tests
    ``_tag_items``/``_menu_words``/``_MENU`` only where the rules read them."""
    f = _features_table(counts, facts)
    p = len(f)
    zone = np.empty(p, dtype=np.int64)
    category = np.empty(p, dtype=np.int64)
    confidence = np.empty(p, dtype=np.float64)
    z = np.empty(p, dtype=np.float64)
    longest = 0.0
    for k in range(p):
        if _prose(f, k) and f[k, F_CHARS] > longest:
            longest = f[k, F_CHARS]
    first = p
    last = -1
    threshold = max(100.0, 0.4 * longest)
    for k in range(p):
        if _prose(f, k) and f[k, F_CHARS] >= threshold:
            if first == p:
                first = k
            last = k
    prose_line = np.zeros(lines[p - 1] + 1 if p else 0, dtype=np.uint8)
    for k in range(p):
        if glued[k] and _prose(f, k):
            prose_line[lines[k]] = 1
    title_seen = False
    open_list = NO_CUE
    for k in range(p):
        zone[k] = HEAD if k < first else TAIL if k > last else BODY_ZONE
        texts = facts[FACT_TAG_ITEMS, k], facts[FACT_MENU_WORDS, k], separator[k]
        cat, conf = _categorise(f, k, zone[k], title_seen, open_list, *texts)
        cue = np.int64(f[k, F_CUE])
        if (
            (cat == TIMESTAMP or cat == NAVIGATION or cat == OTHER)
            and cue == NO_CUE
            and prose_line[lines[k]]
            and (k == 0 or lines[k - 1] != lines[k])
        ):
            cat, conf = BODY, 0.6
        if cat == TITLE:
            title_seen = True
        if cue == RELATED_LINKS or cue == LISTING:
            open_list = cue
        elif zone[k] != TAIL and _prose(f, k):
            open_list = NO_CUE
        elif cue != NO_CUE and zone[k] != TAIL:
            open_list = NO_CUE
        category[k] = cat
        confidence[k] = conf
        z[k] = (
            -2.0
            + 2.5 * f[k, F_PERIOD]
            + 0.8 * f[k, F_EXCLAIM]
            + 1.2 * min(f[k, F_SENTENCES], 3.0) / 3
            + 2.5 * min(f[k, F_WORDS], 40.0) / 40
            + 6.0 * min(f[k, F_STOPS], 0.35)
            - 3.0 * f[k, F_DIGIT]
            - 1.5 * f[k, F_LATIN]
            - 2.0 * f[k, F_REPEATED]
            - 3.0 * _one(f[k, F_LETTER] < 0.3)
            - 2.5 * _one(cue != NO_CUE)
        )
    return f, zone, category, confidence, z


@kernel("u4[::1]", "i8[::1]", "i8[::1]")
def piece_repeats(codes, starts, ends):
    """``rule_pass``'s ``repeated`` per piece: its text is another piece's too, or, longer than
    10 code points, it ends the previous piece (whose text differs)."""
    p = len(starts)
    out = np.zeros(p, dtype=np.int64)
    h = np.empty(p, dtype=np.uint64)
    for k in range(p):
        h[k] = lane_hash(codes, starts[k], ends[k])
    order = np.argsort(h, kind="mergesort")
    i = 0
    while i < p:
        j = i + 1
        while j < p and h[order[j]] == h[order[i]]:
            j += 1
        for a in range(i, j):
            for b in range(a + 1, j):
                x = order[a]
                y = order[b]
                if not (out[x] and out[y]) and _same_text(codes, starts[x], ends[x], starts[y], ends[y]):
                    out[x] = 1
                    out[y] = 1
        i = j
    for k in range(1, p):
        size = ends[k] - starts[k]
        if size > 10 and ends[k - 1] - starts[k - 1] > size:
            if _same_text(codes, ends[k - 1] - size, ends[k - 1], starts[k], ends[k]):
                out[k] = 1
    return out


CHECK_CUE, CHECK_MENU_WORDS = 1, 4


@kernel(
    "u4[::1]", "u4[::1]", "i8[::1]", "i8[::1]", "u8[::1]", "i8", "i8", "i8", "b1", "i8[:, ::1]", "u1[::1]",
    "u8[::1]", "u8[::1]", "i8[:, ::1]", "i8[:, ::1]", "i8[:, ::1]", "i8[:, ::1]", "i8", "b1", "i8[:, ::1]",
    "i8[:, ::1]",
)  # fmt: skip
def piece_scan(
    codes, flags, starts, ends, keys, shortest, longest, packable, stops, long_words, heads, section_keys,
    section_sorted, section_rows, cue_rows, cue_info, needles, code_needles, cue_gate, months, agos,
):  # fmt: skip
    """Everything the rules need from the characters of each piece, in one call:
    ``(counts, separator, facts, checks)``. ``counts`` as ``piece_counts``; ``separator``
    as ``menu_scan``; ``facts`` (``FACT_*`` rows) with ``repeated``, ``date`` (``date_in``,
    on pieces of at most 80 code points with a digit or one of the "ago" words), ``tag_items``
    (``_tag_items``, on pieces of at most 15 words, no stop word, two ",", no period at the
    end) and ``menu_words`` (``menu_scan``) filled in, and the cue where this decides it (a
    desk code, ``_desk_code``, or ``cue_at``); ``checks`` the bits ``CHECK_*`` of the text
    tests Python still has to run on a piece, set only where they can say yes: cue phrases (at
    most 200 code points, and, with ``cue_gate``, where ``cue_at`` leaves it to a regex or the
    piece holds a code marker) and menus (``menu_scan``'s ``undecided``). ``needles``: rows
    "/", ",", then ``code_needles`` code markers (``prelabel._CODE`` needs one), then the "ago"
    words."""
    counts = piece_counts(
        codes, flags, starts, ends, keys, shortest, longest, packable, stops, long_words, heads
    )
    separator, menu_words, undecided = menu_scan(
        codes, flags, starts, ends, counts, section_keys, section_sorted, section_rows
    )
    p = len(starts)
    wanted = np.zeros(p, dtype=np.uint8)  # the pieces whose gates the loop below reads
    for k in range(p):
        small = counts[k, COL_CHARS] <= 200
        wanted[k] = small or (counts[k, COL_WORDS] <= 15 and counts[k, COL_STOPS] == 0)
    held = piece_gates(codes, starts, ends, needles, wanted)
    date_heads = np.zeros(1024, dtype=np.uint8)  # (date_in's heads)
    for rows in (months, agos):
        for r in range(len(rows)):
            date_heads[rows[r, 0] & 1023] = 1
    facts = np.zeros((5, p), dtype=np.int64)
    facts[FACT_REPEATED] = piece_repeats(codes, starts, ends)
    checks = np.zeros(p, dtype=np.uint8)
    for k in range(p):
        facts[FACT_CUE, k] = NO_CUE
        size = counts[k, COL_CHARS]
        code = ago = 0
        for r in range(2, 2 + code_needles):
            code += held[k, r]
        for r in range(2 + code_needles, len(needles)):
            ago += held[k, r]
        if size <= 80 and (counts[k, COL_DIGIT] > 0 or ago > 0):  # (what a date needs)
            facts[FACT_DATE, k] = date_in(codes, flags, starts[k], ends[k], months, agos, date_heads)
        if size <= 200:
            if not cue_gate or code > 0:
                checks[k] |= CHECK_CUE
            elif held[k, 0] > 0 and _desk_code(codes, starts[k], ends[k]):
                facts[FACT_CUE, k] = ATTRIBUTION
            else:
                cue, regex = cue_at(codes, flags, starts[k], ends[k], cue_rows, cue_info)
                if regex:
                    checks[k] |= CHECK_CUE
                else:
                    facts[FACT_CUE, k] = cue
        if counts[k, COL_WORDS] <= 15 and counts[k, COL_STOPS] == 0 and held[k, 1] >= 2:
            if counts[k, COL_END] != END_PERIOD:
                facts[FACT_TAG_ITEMS, k] = _tag_items(codes, flags, starts[k], ends[k])
        facts[FACT_MENU_WORDS, k] = menu_words[k]
        if undecided[k]:
            checks[k] |= CHECK_MENU_WORDS
    return counts, separator, facts, checks


@njit(cache=True, nogil=True)
def _desk_code(codes, s, e):
    """``prelabel._DESK_CODE.match(text[s:e])`` (no line break in it): runs of 1 to 8 letters
    (U+0900..U+09FF, A-Z) joined by single "/", at least two."""
    groups = run = 0
    for i in range(s, e):
        c = codes[i]
        if c == 0x2F:
            if run == 0:
                return False
            groups += 1
            run = 0
        elif _is_indic(c) or 0x41 <= c <= 0x5A:
            run += 1
            if run > 8:
                return False
        else:
            return False
    return groups > 0 and run > 0


@njit(cache=True, nogil=True)
def _tag_items(codes, flags, s, e):
    """``prelabel._tag_items`` of ``codes[s:e]``: two or more "," (three items), no ":", and
    one to three words (runs of non-whitespace, as ``str.split``) in every item."""
    commas = words = 0
    inside = False
    for i in range(s, e):
        c = codes[i]
        if c == 0x3A:
            return False
        if c == 0x2C:
            if words == 0 or words > 3:
                return False
            commas += 1
            words = 0
            inside = False
        elif flags[i] & SPACE:
            inside = False
        elif not inside:
            words += 1
            inside = True
    return commas >= 2 and 0 < words <= 3


@njit(cache=True, nogil=True)
def _date_digit(c):
    """``prelabel._DIGITS``: [০-৯0-9०-९]."""
    return 0x30 <= c <= 0x39 or 0x09E6 <= c <= 0x09EF or 0x0966 <= c <= 0x096F


@njit(cache=True, nogil=True)
def _digits_at(codes, i, e):
    """How many ``_DIGITS`` run from ``codes[i]`` (before ``e``)."""
    j = i
    while j < e and _date_digit(codes[j]):
        j += 1
    return j - i


@njit(cache=True, nogil=True)
def date_in(codes, flags, s, e, months, agos, heads):
    """``bool(prelabel._DATE.search(text))`` for ``text = codes[s:e]``, form by form, at every
    position (``months``, ``agos``: rows of month names and "<unit> <ago word>" phrases,
    sorted by first code point). A run of digits a form reads with a bounded count must end
    where the form's next part (a separator, whitespace, a month name) starts, so each form
    is tried with the whole rest of the run from a position; ``\\w*`` and ``\\s`` stop at the
    first character outside them (flags ``WORD``, ``SPACE``), as no backtracking helps there.
    ``heads[c % 1024]`` is set for the first code point ``c`` of every row of ``months`` and
    ``agos``: a position whose code point is neither such nor a digit starts no form."""
    for i in range(s, e):
        first = codes[np.uint64(i)]
        if not heads[first & 1023] and not _date_digit(first):
            continue
        if _any_at(codes, i, e, agos):  # (?:unit) word
            return True
        r = _digits_at(codes, i, e)
        if r:
            j = i + r
            if r <= 2:
                k = j  # D{1,2}\s*(?:MONTHS)
                while k < e and flags[k] & SPACE:
                    k += 1
                if _any_at(codes, k, e, months):
                    return True
                if j < e and codes[j] == 0x3A and _digits_at(codes, j + 1, e) >= 2:  # D{1,2}:D{2}
                    return True
            if r <= 4 and j < e and (codes[j] == 0x2F or codes[j] == 0x2D):  # D{1,4}[/-]D{1,2}[/-]D{2,4}
                m = _digits_at(codes, j + 1, e)
                k = j + 1 + m
                if 1 <= m <= 2 and k < e and (codes[k] == 0x2F or codes[k] == 0x2D):
                    if _digits_at(codes, k + 1, e) >= 2:
                        return True
            continue
        # (?:MONTHS)\w*\s+D{1,2}, with every month name that starts here
        c = np.int64(codes[i])
        at = _first_row(months, c)
        while at < len(months) and months[at, 0] == c:
            row = months[at]
            at += 1
            if not _at(codes, i, e, row):
                continue
            k = i
            for x in row:
                if x >= 0:
                    k += 1
            while k < e and flags[k] & WORD:
                k += 1
            spaces = k
            while k < e and flags[k] & SPACE:
                k += 1
            if k > spaces and k < e and _date_digit(codes[k]):
                return True
    return False


@njit(cache=True, nogil=True)
def piece_gates(codes, starts, ends, needles, wanted):
    """Per piece where ``wanted``: how many times each row of ``needles`` (code points padded
    with -1) occurs inside it (0 elsewhere: most of a text is in paragraphs no gate is read for)."""
    p = len(starts)
    held = np.zeros((p, len(needles)), dtype=np.int64)
    heads = np.zeros(1024, dtype=np.uint8)  # a needle may start at c only if heads[c % 1024]
    for r in range(len(needles)):
        heads[needles[r, 0] & 1023] = 1
    for k in range(p):
        if not wanted[k]:
            continue
        a = starts[k]
        e = ends[k]
        for i in range(a, e):
            if heads[codes[np.uint64(i)] & 1023]:
                for r in range(len(needles)):
                    if codes[i] == needles[r, 0] and _at(codes, i, e, needles[r]):
                        held[k, r] += 1
    return held


# ``cue_at``'s rows: one per text a cue phrase can match (``lexicon.finite_forms``) or per
# literal start of one that is a real regex; ``info`` columns: the phrase's position in the
# cue order, its category code, its kind and the row's length.
CUE_INFO_ORDER, CUE_INFO_CATEGORY, CUE_INFO_KIND, CUE_INFO_LENGTH = range(4)
CUE_PREFIX, CUE_WHOLE, CUE_REGEX = range(3)


@njit(cache=True, nogil=True)
def cue_at(codes, flags, s, e, rows, info):
    """``(category, regex)`` of the first cue phrase (in cue order) that matches
    ``codes[s:e]``: a row of kind ``CUE_PREFIX`` it starts with, or one of kind
    ``CUE_WHOLE`` it is (or is followed by a final newline: ``$``). ``regex`` is True when a
    phrase of kind ``CUE_REGEX`` whose literal start it starts with comes first, or the text
    starts with whitespace (``\\s*`` before the phrases): then its regex decides."""
    if s >= e or flags[s] & SPACE:
        return NO_CUE, s < e
    c = np.int64(codes[s])
    r = _first_row(rows, c)
    best = -1
    category = NO_CUE
    regex = -1
    while r < len(rows) and rows[r, 0] == c:
        if _at(codes, s, e, rows[r]):
            order = info[r, CUE_INFO_ORDER]
            kind = info[r, CUE_INFO_KIND]
            end = s + info[r, CUE_INFO_LENGTH]
            if kind == CUE_REGEX:
                if regex < 0 or order < regex:
                    regex = order
            elif kind == CUE_PREFIX or end == e or (end == e - 1 and codes[end] == 10):
                if best < 0 or order < best:
                    best = order
                    category = info[r, CUE_INFO_CATEGORY]
        r += 1
    if regex >= 0 and (best < 0 or regex < best):
        return NO_CUE, True
    return category, False


@njit(cache=True, nogil=True)
def _any_at(codes, i, e, rows):
    """Some row of ``rows`` (sorted by first code point) occurs at ``codes[i]``, before ``e``."""
    if i >= e:
        return False
    c = np.int64(codes[i])
    r = _first_row(rows, c)
    while r < len(rows) and rows[r, 0] == c:
        if _at(codes, i, e, rows[r]):
            return True
        r += 1
    return False


@njit(cache=True, nogil=True)
def _first_row(rows, c):
    """The first row of ``rows`` (sorted by first code point) that starts with ``c`` or later."""
    lo = 0
    hi = len(rows)
    while lo < hi:
        mid = (lo + hi) >> 1
        if rows[mid, 0] < c:
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit(cache=True, nogil=True)
def _at(codes, i, e, row):
    """``row`` (code points padded with -1) occurs at ``codes[i]``, before ``e``."""
    for j in range(len(row)):
        if row[j] < 0:
            return True
        if i + j >= e or codes[i + j] != row[j]:
            return False
    return True


@njit(cache=True, nogil=True)
def _same_text(codes, a, b, c, d):
    if b - a != d - c:
        return False
    for i in range(b - a):
        if codes[a + i] != codes[c + i]:
            return False
    return True


@kernel("f8[::1]", "b1")
def logistic(z, floor):
    """``1 / (1 + exp(-z))`` per value with libm's ``exp``, the function Python's ``math.exp``
    calls (so the same bits); ``floor``: 0.0 at ``z <= -700``, as ``classifier._logistic``."""
    out = np.empty(len(z), dtype=np.float64)
    for k in range(len(z)):
        out[k] = 0.0 if floor and not z[k] > -700 else 1.0 / (1.0 + math.exp(-z[k]))
    return out


@kernel("f8[:, ::1]", "i8[::1]", "f8[::1]", "f8[::1]", "f8[::1]", "u1[::1]", "f8[::1]")
def dense_features(f, category, confidence, p_content, log_chars, is_content, corpus_repeats):
    """``classifier.dense_columns`` as a (pieces × ``DENSE_FEATURES``) table.

    ``p_content`` is ``Features.p_content`` per piece, ``log_chars[n]`` is ``log1p(n) / 6``,
    ``is_content[c]`` whether category ``c``'s label is content and ``corpus_repeats`` the
    repetition feature of each piece's line (all from Python)."""
    p = len(f)
    x = np.empty((p, len(DENSE_FEATURES)), dtype=np.float64)
    for k in range(p):
        content = _one(is_content[category[k]])
        x[k, 0] = f[k, F_PERIOD]
        x[k, 1] = f[k, F_EXCLAIM]
        x[k, 2] = min(f[k, F_SENTENCES], 3.0) / 3
        x[k, 3] = min(f[k, F_WORDS], 40.0) / 40
        x[k, 4] = log_chars[np.int64(f[k, F_CHARS])]
        x[k, 5] = f[k, F_STOPS]
        x[k, 6] = f[k, F_LATIN]
        x[k, 7] = f[k, F_DIGIT]
        x[k, 8] = f[k, F_LETTER]
        x[k, 9] = _one(f[k, F_CUE] != NO_CUE)
        x[k, 10] = f[k, F_REPEATED]
        x[k, 11] = f[k, F_DATE]
        x[k, 12] = _one(_prose(f, k))
        x[k, 13] = _one(_headline_like(f, k))
        x[k, 14] = content
        x[k, 15] = confidence[k] if content else 1.0 - confidence[k]
        x[k, 16] = k / p
        x[k, 17] = (p - 1 - k) / p
        x[k, 22] = p_content[k]
        x[k, 27] = corpus_repeats[k]
    for k in range(p):
        x[k, 18] = x[k - 1, 12] if k > 0 else 0.0
        x[k, 19] = x[k + 1, 12] if k + 1 < p else 0.0
        x[k, 20] = x[k - 1, 14] if k > 0 else 0.0
        x[k, 21] = x[k + 1, 14] if k + 1 < p else 0.0
        x[k, 23] = x[k - 1, 22] if k > 0 else 0.5
        x[k, 24] = x[k + 1, 22] if k + 1 < p else 0.5
        x[k, 25] = x[k - 1, 9] if k > 0 else 0.0
        previous_cue = np.int64(f[k - 1, F_CUE]) if k > 0 else NO_CUE
        x[k, 26] = _one(previous_cue == RELATED_LINKS or previous_cue == LISTING)
    return x


@kernel("f8[:, ::1]", "i8[::1]", "i8[::1]", "f8[::1]", "f8", "f8[::1]", "f8[::1]")
def classifier_logits(x, zone, category, weights, bias, category_weights, zone_weights):
    """``Classifier.probabilities`` before the logistic: the same sums, in the same order."""
    p = len(x)
    z = np.empty(p, dtype=np.float64)
    for k in range(p):
        s = bias
        for j in range(len(weights)):
            s = s + weights[j] * x[k, j]
        s = s + category_weights[category[k]]
        z[k] = s + zone_weights[zone[k]]
    return z


@njit(cache=True, nogil=True)
def _fallback(content, zone, f, k):
    """``classifier.fallback_category``."""
    words = f[k, F_WORDS]
    headline = _headline_like(f, k)
    if content:
        if headline and not _prose(f, k) and 3 <= words <= 15:
            return TITLE if zone == HEAD else SUBHEADING if zone == BODY_ZONE else BODY
        return BODY
    if zone == HEAD:
        return NAVIGATION if words <= 4 else OTHER
    if zone == TAIL and headline:
        return LISTING
    return OTHER


@kernel("f8[:, ::1]", "i8[::1]", "i8[::1]", "i8[::1]", "i8[::1]", "f8[::1]", "f8[::1]", "u1[::1]", "f8", "b1")
def decide_and_merge(f, starts, ends, zone, category, confidence, p, is_content, threshold, relabel):
    """``Classifier.relabel`` (``relabel``; else ``prelabel.rules_only``) then ``merge_pieces``:
    ``(start, end, category, score)`` of each span, the score not yet rounded."""
    n = len(starts)
    out_start = np.empty(n, dtype=np.int64)
    out_end = np.empty(n, dtype=np.int64)
    out_category = np.empty(n, dtype=np.int64)
    out_score = np.empty(n, dtype=np.float64)
    m = -1
    total = weight = 0.0
    merged = False
    for k in range(n):
        cat = category[k]
        conf = confidence[k]
        if relabel:
            content = p[k] >= threshold
            if (is_content[cat] == 1) != content:
                cat, conf = _fallback(content, zone[k], f, k), 0.5
        else:
            content = is_content[cat] == 1
        value = 0.5 * conf + 0.5 * (p[k] if content else 1.0 - p[k])
        size = ends[k] - starts[k]
        if m >= 0 and out_category[m] == cat:
            total += value * size
            weight += size
            out_end[m] = ends[k]
            merged = True
            continue
        if m >= 0 and merged:
            out_score[m] = total / weight
        m += 1
        out_start[m] = starts[k]
        out_end[m] = ends[k]
        out_category[m] = cat
        out_score[m] = value
        merged = False
        total, weight = value * size, float(size)
    if m >= 0 and merged:
        out_score[m] = total / weight
    m += 1
    return out_start[:m], out_end[:m], out_category[:m], out_score[:m]


@kernel(
    "i8[:, ::1]", "i8[:, ::1]", "i8[::1]", "i8[::1]", "u1[::1]", "i8[::1]", "i8[::1]", "u1[::1]", "b1",
    "f8[::1]", "f8", "f8[::1]", "f8[::1]", "f8", "f8[::1]", "i8[::1]", "f8[::1]",
)  # fmt: skip
def label_spans(
    counts, facts, lines, glued, separator, starts, ends, is_content, relabel,
    weights, bias, category_weights, zone_weights, threshold, log_chars, line_repeats, repeat_values,
):  # fmt: skip
    """``rules``, ``Features.p_content``, then (``relabel``) the classifier's features, logits
    and probabilities, then ``decide_and_merge``: the spans, in one call. ``line_repeats``:
    the corpus repeats of each line (empty: none known), ``repeat_values[r]`` the classifier's
    feature for ``r`` (the last one for ``r`` beyond)."""
    f, zones, categories, confidences, z = rules(counts, facts, lines, glued, separator)
    p = logistic(z, False)
    if relabel:
        corpus_repeats = np.zeros(len(starts), dtype=np.float64)
        if len(line_repeats):
            cap = len(repeat_values) - 1
            for k in range(len(starts)):
                corpus_repeats[k] = repeat_values[min(line_repeats[lines[k]], cap)]
        x = dense_features(f, categories, confidences, p, log_chars, is_content, corpus_repeats)
        logits = classifier_logits(x, zones, categories, weights, bias, category_weights, zone_weights)
        p = logistic(logits, True)
    starts, ends, categories, scores = decide_and_merge(
        f, starts, ends, zones, categories, confidences, p, is_content, threshold, relabel
    )
    places = np.empty(len(scores), dtype=np.int64)
    uncertain = 0
    for k in range(len(scores)):
        places[k] = score_places(scores[k])
        if places[k] < 0:
            uncertain += 1
        else:
            scores[k] = places[k] / SCORE_SCALE
    return starts, ends, categories, scores, places, uncertain


SCORE_PLACES = 4  # decimal places of a written score (``round(score, 4)``)
SCORE_SCALE = 10.0**SCORE_PLACES


@njit(cache=True, nogil=True)
def score_places(x):
    """``round(x, 4) * 10**4`` as an integer, when the float arithmetic makes it certain; else
    -1 (``x`` outside [0, 1] or -0.0, or within 1e-6 of a tie, where only Python's correctly
    rounded ``round`` can say). ``x * 10**4`` is within 2e-12 of the exact product, so off a tie its
    nearest integer is the exact product's, and ``k / 10**4`` (correctly rounded) is the float
    nearest ``k`` ten-thousandths: what ``round`` returns."""
    if not (0.0 <= x <= 1.0) or math.copysign(1.0, x) < 0:
        return -1
    y = x * SCORE_SCALE
    if abs(y - math.floor(y) - 0.5) < 1e-6:
        return -1
    return int(math.floor(y + 0.5))


_SPAN_START = np.frombuffer(b'{"start": ', dtype=np.uint8)
_SPAN_END = np.frombuffer(b', "end": ', dtype=np.uint8)
_SPAN_SCORE = np.frombuffer(b', "score": ', dtype=np.uint8)


@njit(cache=True, nogil=True)
def _put(out, at, chars):
    for c in chars:
        out[at] = c
        at += 1
    return at


@njit(cache=True, nogil=True)
def _put_int(out, at, value):
    if value < 0:
        out[at] = 45  # -
        at += 1
        value = -value
    digits = 1
    while digits < 19 and value >= 10**digits:
        digits += 1
    for d in range(digits - 1, -1, -1):
        out[at + d] = 48 + value % 10
        value //= 10
    return at + digits


@kernel("i8[::1]", "i8[::1]", "i8[::1]", "i8[::1]", "i8[:, ::1]")
def spans_json(starts, ends, categories, places, members):
    """``corpus prelabel``'s spans, the inside of its ``"spans": [...]``, as ASCII bytes:
    ``{"start": S, "end": E, <members[category]>, "score": F}`` joined by ``", "``, with ``F``
    the ``repr`` of the score ``places / 10**4``. ``members``: each category's ``"label"``
    and ``"category"`` members as rows of code points (padded with -1, all ASCII). Empty
    when a score is not certain (``places`` -1: the caller writes them in Python)."""
    n = len(starts)
    out = np.empty(n * (members.shape[1] + 96), dtype=np.uint8)
    at = 0
    for k in range(n):
        if places[k] < 0 or places[k] > 10**SCORE_PLACES:
            return out[:0]
        if k:
            out[at] = 44  # ,
            out[at + 1] = 32
            at += 2
        at = _put(out, at, _SPAN_START)
        at = _put_int(out, at, starts[k])
        at = _put(out, at, _SPAN_END)
        at = _put_int(out, at, ends[k])
        out[at] = 44
        out[at + 1] = 32
        at += 2
        for c in members[categories[k]]:
            if c < 0:
                break
            out[at] = c
            at += 1
        at = _put(out, at, _SPAN_SCORE)
        whole, part = divmod(places[k], 10**SCORE_PLACES)
        out[at] = 48 + whole
        out[at + 1] = 46  # .
        at += 2
        digits = SCORE_PLACES
        while digits > 1 and part % 10 == 0:  # repr: no trailing zeros, at least one digit
            part //= 10
            digits -= 1
        for d in range(digits - 1, -1, -1):
            out[at + d] = 48 + part % 10
            part //= 10
        at += digits
        out[at] = 125  # }
        at += 1
    return out[:at]


if __name__ == "__main__":  # python -m corpus._kernels [TARGET]: (re)build corpus._kernels_aot
    import sysconfig

    default = Path(__file__).with_name("_kernels_aot" + sysconfig.get_config_var("EXT_SUFFIX"))
    print(build_compiled_module(Path(sys.argv[1]) if len(sys.argv) > 1 else default))
