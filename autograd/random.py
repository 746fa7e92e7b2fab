"""Seeded random number generation shared by creation functions, dropout, ``nn.init`` and
the DataLoader.

On the CPU the draws are PyTorch's: a ``Generator`` runs the same Mersenne Twister
(MT19937, seeded as ``std::mt19937`` is) as PyTorch's CPU generator and turns its 32-bit
words into numbers with PyTorch's CPU kernels' formulas (``_TorchStream``), so that
``ag.manual_seed(0); ag.rand(3)``, ``randn``, ``randint``, ``randperm``, ``bernoulli_``,
dropout masks, ``nn.init`` and the modules' default initialisation, ``random_split`` and a
shuffling DataLoader give PyTorch's numbers after ``torch.manual_seed(0)`` (float32
normals to within an ulp: PyTorch's vectorised log/sin/cos). Distributions PyTorch draws
with other algorithms (Poisson, binomial, gamma, multinomial...) use NumPy's on the same
stream: seeded and reproducible, not PyTorch's numbers. On the GPU, CuPy's generator is
seeded from this one (PyTorch's CUDA generator, Philox, is not reproduced).
"""

from __future__ import annotations

import contextlib
import os

import numpy as np

from . import backend
from ._numba import kernel
from ._numeric import fma as _fma


def _mt_key(seed: int) -> np.ndarray:
    """The 624-word state ``std::mt19937(seed)`` starts from (PyTorch: the low 32 bits)."""
    key = np.empty(624, np.uint32)
    s = seed & 0xFFFFFFFF
    key[0] = s
    for j in range(1, 624):
        s = (1812433253 * (s ^ (s >> 30)) + j) & 0xFFFFFFFF
        key[j] = s
    return key


_M24, _M53 = np.uint64((1 << 24) - 1), np.uint64((1 << 53) - 1)
_MANT = {np.dtype(np.float64): 53}  # every other floating dtype: 24 (float's), rounded


class _TorchStream:
    """PyTorch's CPU generator: MT19937 words turned into numbers as ATen's CPU kernels do
    (``uniform_real_distribution``, ``normal_fill`` / ``normal_distribution`` with its cached
    second sample, ``random_from_to``, ``randperm_cpu``). It offers the methods of a NumPy
    ``Generator`` the package calls (``random``, ``uniform``, ``standard_normal``,
    ``normal``, ``integers``, ``permutation``) with PyTorch's algorithms, and any other
    (``poisson``, ``gamma``...) as NumPy's ``Generator`` on the same bit stream."""

    def __init__(self, seed: int):
        self.bit_generator = np.random.MT19937()
        self.seed(seed)

    def seed(self, seed: int) -> None:
        self.bit_generator.state = {"bit_generator": "MT19937",
                                    "state": {"key": _mt_key(int(seed)), "pos": 624}}
        self._np = np.random.Generator(self.bit_generator)
        self._normal_cache = None  # normal_distribution's second Box-Muller sample

    def __getattr__(self, name):  # the rest of NumPy's Generator, on this stream
        return getattr(self.__dict__["_np"], name)

    @property
    def state(self) -> dict:
        return {"mt19937": self.bit_generator.state, "normal_cache": self._normal_cache}

    @state.setter
    def state(self, st: dict) -> None:
        self.bit_generator.state = st["mt19937"]
        self._normal_cache = st["normal_cache"]

    # -- words ---------------------------------------------------------------------------
    def _u32(self, n: int) -> np.ndarray:
        """n words, as uint64 (for the arithmetic on them)."""
        kern = _mt_words.get() if n >= _COMPILED_WORDS else None
        if kern is None:
            return self.bit_generator.random_raw(n)
        return self._compiled(kern, np.empty(n, np.uint32)).astype(np.uint64)

    def _compiled(self, kern, out, *args):
        """Run the compiled generator ``kern(key, pos, *args, out)`` on this stream's state
        (NumPy's bit generator: read and written back, ~0.1 ms, so large draws only)."""
        st = self.bit_generator.state
        key = np.array(st["state"]["key"], np.uint32)
        pos = kern(key, int(st["state"]["pos"]), *args, out)
        st["state"] = {"key": key, "pos": int(pos)}
        self.bit_generator.state = st
        return out

    def _u64(self, n: int) -> np.ndarray:
        w = self._u32(2 * n).reshape(n, 2)  # random64(): the first word is the high half
        return (w[:, 0] << np.uint64(32)) | w[:, 1]

    # -- floats --------------------------------------------------------------------------
    def _unit(self, n: int, dtype) -> np.ndarray:
        """n uniforms in [0, 1) as float64, with ``dtype``'s mantissa bits: doubles from
        64-bit draws, narrower floats from one 32-bit word each."""
        bits = _MANT.get(np.dtype(dtype), 24)
        words = n * (2 if bits == 53 else 1)
        kern = _mt_units.get() if words >= _COMPILED_WORDS else None
        if kern is not None:  # the words and their conversion in one compiled pass
            return self._compiled(kern, np.empty(n, np.float64), bits)
        if bits == 53:
            return (self._u64(n) & _M53).astype(np.float64) * 2.0 ** -53
        mask = np.uint64((1 << bits) - 1)
        return (self._u32(n) & mask).astype(np.float64) * 2.0 ** -bits

    def random(self, size=None, dtype=np.float64, out=None):
        """Uniform [0, 1) in ``dtype`` (PyTorch's ``rand``/``uniform_``)."""
        shape = _shape(size)
        r = self._unit(_prod(shape), dtype).astype(dtype, copy=False).reshape(shape)
        if out is not None:
            out[...] = r
            return out
        return r if size is not None else r[()]

    def uniform(self, low=0.0, high=1.0, size=None, dtype=np.float64):
        """Uniform [low, high) as ``uniform_real_distribution<T>``: the bounds and their
        difference in ``dtype`` (float for the narrower types), ``x * (high - low) + low``
        with one rounding (a fused multiply-add: exact in double for 24-bit x)."""
        shape = _shape(size)
        u = self._unit(_prod(shape), dtype).reshape(shape)
        if np.ndim(low) or np.ndim(high):  # array bounds: NumPy's broadcasting semantics
            return (u * (np.asarray(high) - low) + low).astype(dtype)
        if np.dtype(dtype) == np.float64:
            r = _fma(u, float(high) - float(low), float(low))
        else:  # 24 random bits times a float: exact in double, then one rounding
            lo, hi = np.float32(low), np.float32(high)
            r = (u * np.float64(hi - lo) + np.float64(lo)).astype(dtype)
        return r if size is not None else r[()]

    def standard_normal(self, size=None, dtype=np.float64, out=None):
        r = self.normal(0.0, 1.0, size, dtype)
        if out is not None:
            out[...] = r
            return out
        return r

    def normal(self, loc=0.0, scale=1.0, size=None, dtype=np.float64, serial=False):
        """PyTorch's ``normal_``: 16 or more values by ``normal_fill`` (Box-Muller on blocks
        of 16 uniforms of the dtype, the last block redrawn when the size is not a multiple
        of 16), fewer (or any number when ``serial``: the kernels that draw element by
        element, as ``log_normal_``) one at a time by ``normal_distribution<double>`` (a
        pair of 64-bit uniforms gives two values; the second is kept for the next draw)."""
        if np.ndim(loc) or np.ndim(scale):  # array parameters: standard draws, scaled
            shape = _shape(size) if size is not None else np.broadcast_shapes(
                np.shape(loc), np.shape(scale))
            z = self.normal(0.0, 1.0, shape, dtype, serial)
            return (z * np.asarray(scale) + loc).astype(dtype)
        shape = _shape(size)
        n = _prod(shape)
        dt = np.dtype(dtype)
        if n >= 16 and not serial:  # (float16, bfloat16: as float, then rounded)
            work = np.float64 if dt == np.float64 else np.float32
            out = self._unit(n, dt).astype(work)
            _normal_fill(out, n - n % 16, work(loc), work(scale))
            if n % 16:
                tail = self._unit(16, dt).astype(work)
                _normal_fill(tail, 16, work(loc), work(scale))
                out[n - 16:] = tail
            return out.astype(dt).reshape(shape)
        z = []
        if n and self._normal_cache is not None:  # the cached second value goes first
            z.append(np.array([self._normal_cache]))
            self._normal_cache = None
        m = n - len(z)
        if m:  # pairs (u1, u2) of double uniforms give (r cos t, r sin t), t = 2 pi u1
            u = self._unit(2 * ((m + 1) // 2), np.float64).reshape(-1, 2)
            r = np.sqrt(-2.0 * np.log1p(-u[:, 1]))
            theta = 2.0 * np.pi * u[:, 0]
            pairs = np.stack([r * np.cos(theta), r * np.sin(theta)], axis=1).reshape(-1)
            if m % 2:
                self._normal_cache = float(pairs[-1])
            z.append(pairs[:m])
        out = (np.concatenate(z) if z else np.empty(0)) * float(scale) + float(loc)
        r = out.astype(dt).reshape(shape)
        return r if size is not None else r[()]

    # -- integers ------------------------------------------------------------------------
    def integers(self, low, high=None, size=None, dtype=np.int64, endpoint=False):
        """Uniform integers in [low, high) (``random_from_to``: a 32-bit word modulo the
        range, a 64-bit one for ranges of 2**32 or more)."""
        if high is None:
            low, high = 0, low
        if np.ndim(low) or np.ndim(high):
            return self._np.integers(low, high, size=size, dtype=dtype, endpoint=endpoint)
        low, high = int(low), int(high) + bool(endpoint)
        shape = _shape(size)
        n, rng = _prod(shape), high - low
        if rng <= 0:
            raise ValueError(f"integers: low >= high ({low} >= {high})")
        w = self._u32(n) if rng < 1 << 32 else self._u64(n)
        v = (w % np.uint64(rng)).astype(np.int64) + low if rng < 1 << 63 else \
            np.array([low + int(x) % rng for x in w], dtype=object)
        r = np.asarray(v).astype(dtype).reshape(shape)
        return r if size is not None else r[()]

    def random_int64(self) -> int:
        """``torch.empty((), dtype=torch.int64).random_()``: a 64-bit draw below 2**63."""
        return int(self._u64(1)[0] & np.uint64((1 << 63) - 1))

    def permutation(self, x):
        """``randperm(n)`` (Fisher-Yates with ``word % (n - i)``); an array argument: its
        elements in that order (NumPy's ``permutation`` of an array)."""
        if not isinstance(x, (int, np.integer)):
            a = np.asarray(x)
            return a[self.permutation(len(a))]
        n = int(x)
        r = np.arange(n, dtype=np.int64)
        if n > 1:
            words = self._u32(n - 1) if n < 0xFFFFFFFF // 20 else self._u64(n - 1)
            _shuffle(r, words)
        return r


def _dense(a) -> bool:
    """Whether ``a`` covers a block of memory without gaps or overlaps (PyTorch's
    ``is_non_overlapping_and_dense``: ``empty_like`` keeps the layout of such a tensor)."""
    dims = sorted((abs(st), n) for st, n in zip(a.strides, a.shape) if n != 1)
    expect = a.itemsize
    for st, n in dims:
        if st != expect:
            return False
        expect *= n
    return True


def draw_like(a, draw, inplace: bool = False):
    """``draw(shape)`` for an array shaped like ``a``, its values assigned in the order
    PyTorch's CPU kernels fill a tensor laid out like ``a``: memory order (the axes by
    decreasing stride), for ``a`` itself (``inplace``, as ``a.uniform_()``) or for
    ``empty_like(a)``, which keeps the layout of a dense tensor and is C-contiguous
    otherwise. A transposed tensor (an RNN's batch-first output) gets PyTorch's numbers."""
    shape = tuple(a.shape)
    if len(shape) < 2 or a.flags.c_contiguous or (not inplace and not _dense(a)):
        return draw(shape)
    order = sorted(range(len(shape)), key=lambda d: (-abs(a.strides[d]), d))
    if order == list(range(len(shape))):
        return draw(shape)
    u = draw(tuple(shape[d] for d in order))
    return u.transpose(np.argsort(order))


def _normal_fill(a, m: int, mean, std) -> None:
    """ATen's ``normal_fill_16`` over the first m (a multiple of 16) values of ``a`` (which
    hold uniforms): per block of 16, values j and j + 8 from (1 - u_j, u_{j+8})."""
    b = a[:m].reshape(-1, 16)
    u1 = 1 - b[:, :8]
    u2 = b[:, 8:].copy()
    radius = np.sqrt(-2 * np.log(u1))
    theta = 2.0 * np.pi * u2
    b[:, :8] = radius * np.cos(theta) * std + mean
    b[:, 8:] = radius * np.sin(theta) * std + mean


def _shuffle(r, words) -> None:
    kern = _fisher_yates.get()
    if kern is not None:
        kern(r, words)
        return
    n = len(r)
    idx = (words % np.arange(n, 1, -1, dtype=np.uint64)).astype(np.int64) + np.arange(n - 1)
    for i, k in enumerate(idx.tolist()):
        r[i], r[k] = r[k], r[i]


def _shape(size) -> tuple:
    if size is None:
        return ()
    return (int(size),) if np.ndim(size) == 0 else tuple(int(s) for s in size)


def _prod(shape) -> int:
    n = 1
    for s in shape:
        n *= s
    return n


class Generator:
    """A seeded generator (PyTorch's ``torch.Generator``): on the CPU, PyTorch's own stream
    (``_TorchStream``)."""

    def __init__(self, device="cpu"):
        self.device = device
        self._seed = 67280421310721  # PyTorch's default seed
        self._np = _TorchStream(self._seed)
        self._cp = None

    def manual_seed(self, seed: int) -> Generator:
        """Seed with an integer in ``[-2**63, 2**64)``, kept modulo 2**64 as PyTorch's
        uint64 seed (``manual_seed(-1).initial_seed()`` is ``2**64 - 1``; the same stream).
        Floats, bools and tensors are refused (``autograd.manual_seed`` converts with
        ``int`` first, as ``torch.manual_seed``)."""
        if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
            raise RuntimeError(f"manual_seed expected a long, but got {type(seed).__name__}")
        seed = int(seed)
        if not -(1 << 63) <= seed < (1 << 64):
            raise ValueError("Overflow when unpacking long long")
        self._seed = seed % (1 << 64)
        self._np.seed(self._seed)
        self._cp = None
        return self

    def seed(self) -> int:
        """Seed from a non-deterministic source; return that seed."""
        s = int.from_bytes(os.urandom(8), "little") & ((1 << 63) - 1)
        self.manual_seed(s)
        return s

    def initial_seed(self) -> int:
        return self._seed

    # the state as bytes (PyTorch's ByteTensor; its own layout): seed, position in the key,
    # whether a normal sample is cached, that sample, the 624 words of the key
    _STATE_BYTES = 8 * 4 + 4 * 624
    _wrap_state = staticmethod(lambda a: a)  # autograd.tensor makes it a uint8 Tensor

    def get_state(self):
        """The generator's state: a uint8 tensor of ``_STATE_BYTES`` bytes."""
        st = self._np.state
        cache = st["normal_cache"]
        head = np.array([self._seed, st["mt19937"]["state"]["pos"], cache is not None],
                        np.uint64)
        parts = [head.view(np.uint8), np.array([cache or 0.0], np.float64).view(np.uint8),
                 np.asarray(st["mt19937"]["state"]["key"], np.uint32).view(np.uint8)]
        return self._wrap_state(np.concatenate(parts))

    def set_state(self, new_state) -> None:
        """Restore a state ``get_state`` returned."""
        if isinstance(new_state, dict):
            raise RuntimeError("set_state: a dict is the state of this package's former "
                               "generator (NumPy's PCG64, before its streams became "
                               "PyTorch's): it cannot be restored into PyTorch's Mersenne "
                               "Twister; seed instead (or load the checkpoint without its "
                               "RNG state)")
        a = np.asarray(getattr(new_state, "_data", new_state))
        if a.dtype != np.uint8 or a.shape != (self._STATE_BYTES,):
            raise RuntimeError(f"set_state: expected a uint8 tensor of {self._STATE_BYTES} "
                               f"bytes (what get_state returns), got {a.dtype} of shape "
                               f"{tuple(a.shape)}")
        a = np.ascontiguousarray(a)
        seed, pos, cached = (int(v) for v in a[:24].view(np.uint64))
        cache = float(a[24:32].view(np.float64)[0])
        key = a[32:].view(np.uint32).copy()
        if pos > 624:
            raise RuntimeError(f"set_state: not a generator state (position {pos} > 624)")
        self._np.state = {"mt19937": {"bit_generator": "MT19937",
                                      "state": {"key": key, "pos": pos}},
                          "normal_cache": cache if cached else None}
        self._seed = seed

    def _cupy(self):
        if self._cp is None:
            cp = backend.require_cupy()
            seed = int(self._np.integers(0, 2**63 - 1))
            self._cp = cp.random.RandomState(seed)
        return self._cp


default_generator = Generator()
default_generator.seed()  # as PyTorch: a fresh process starts from a non-deterministic seed


def manual_seed(seed: int) -> Generator:
    """Seed every random number generator of the package (CPU and GPU); ``seed`` goes
    through ``int`` first (a float, a bool or a one-element tensor is accepted)."""
    default_generator.manual_seed(int(seed))
    return default_generator


def seed() -> int:
    """Seed the generators from a non-deterministic source; return that seed (PyTorch's
    ``torch.seed()``)."""
    return default_generator.seed()


def initial_seed() -> int:
    return default_generator.initial_seed()


def get_rng_state():
    return default_generator.get_state()


def set_rng_state(st) -> None:
    default_generator.set_state(st)


def _gen_for(xp, generator=None):
    g = generator or default_generator
    return g._np if xp is np else g._cupy()


def thread_safe_generator():
    """The generator random transforms should use inside a DataLoader worker thread. This
    engine's workers are processes (each seeded, with its own global generator), so it is
    always None, as PyTorch returns in the main process and in process workers: pass it as
    ``generator=`` and the global generator is used."""
    return None


@kernel()
def _fisher_yates(r, words):  # pragma: no cover - compiled
    """randperm_cpu's swaps: r[i] <-> r[i + words[i] % (n - i)] for i < n - 1."""
    n = len(r)
    for i in range(n - 1):
        k = i + np.int64(words[i] % np.uint64(n - i))
        t = r[i]
        r[i] = r[k]
        r[k] = t


@contextlib.contextmanager
def fork_rng(devices=None, enabled: bool = True, _caller: str = "fork_rng",
             _devices_kw: str = "devices", device_type: str = "cuda"):
    """Within the block the default generator may be used freely: its state is restored
    when the block ends (PyTorch's ``torch.random.fork_rng``, for the CPU generator; CuPy's
    generator is not forked)."""
    if not enabled:
        yield
        return
    state = default_generator.get_state()
    try:
        yield
    finally:
        default_generator.set_state(state)


# From this many words a draw runs the compiled generator (2.4x NumPy's ``random_raw``;
# a dropout mask of a (64, 32, 14, 14) activation: 802,816 words), below NumPy's.
_COMPILED_WORDS = 1 << 16


@kernel()
def _mt_twist(key):  # pragma: no cover - compiled
    """The next block of 624 words of the MT19937 key, in place."""
    n_, m_ = 624, 397
    upper, lower, matrix = np.uint32(0x80000000), np.uint32(0x7fffffff), np.uint32(0x9908b0df)
    one, zero = np.uint32(1), np.uint32(0)
    for k in range(n_ - m_):
        y = (key[k] & upper) | (key[k + 1] & lower)
        key[k] = key[k + m_] ^ (y >> one) ^ (matrix if y & one else zero)
    for k in range(n_ - m_, n_ - 1):
        y = (key[k] & upper) | (key[k + 1] & lower)
        key[k] = key[k + m_ - n_] ^ (y >> one) ^ (matrix if y & one else zero)
    y = (key[n_ - 1] & upper) | (key[0] & lower)
    key[n_ - 1] = key[m_ - 1] ^ (y >> one) ^ (matrix if y & one else zero)


@kernel()
def _mt_temper(y):  # pragma: no cover - compiled
    y ^= y >> np.uint32(11)
    y ^= (y << np.uint32(7)) & np.uint32(0x9d2c5680)
    y ^= (y << np.uint32(15)) & np.uint32(0xefc60000)
    return y ^ (y >> np.uint32(18))


@kernel()
def _mt_words(key, pos, out):  # pragma: no cover - compiled
    """MT19937 (as std::mt19937 and NumPy's MT19937): fill ``out`` with the next words of
    the generator whose 624-word key is ``key``, ``pos`` words of it used; ``key`` is
    updated in place; returns the new position. (The tempering runs over whole blocks: a
    loop the compiler vectorises.)"""
    n = out.shape[0]
    i = 0
    while i < n:
        if pos >= 624:
            _mt_twist(key)
            pos = 0
        m = min(n - i, 624 - pos)
        for j in range(m):
            out[i + j] = _mt_temper(key[pos + j])
        pos += m
        i += m
    return pos


@kernel()
def _mt_units(key, pos, bits, out):  # pragma: no cover - compiled
    """``out`` (float64) filled with uniforms in [0, 1) of ``bits`` random bits, PyTorch's:
    53 from two words (the first gives the high 21 bits), fewer from the low bits of one.
    Words are made a chunk at a time into a small buffer. Returns the new position."""
    per = 2 if bits == 53 else 1
    chunk = 1 << 15
    words = np.empty(chunk * per, np.uint32)
    mask = np.uint32((1 << bits) - 1) if bits < 32 else np.uint32(0xFFFFFFFF)
    scale = 1.0 / (1 << bits)
    n = out.shape[0]
    i = 0
    while i < n:
        m = min(n - i, chunk)
        w = words[:m * per]
        pos = _mt_words(key, pos, w)
        if bits == 53:
            for j in range(m):
                hi = np.int64(w[2 * j] & np.uint32((1 << 21) - 1))
                out[i + j] = np.float64((hi << 32) | np.int64(w[2 * j + 1])) * scale
        else:
            for j in range(m):
                out[i + j] = np.float64(w[j] & mask) * scale
        i += m
    return pos
