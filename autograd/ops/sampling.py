"""Random sampling ops (bernoulli, multinomial, normal...), in-place fills (``normal_``,
``uniform_``...) and window functions (``hann_window``...).

Every random op draws from ``generator`` (an ``autograd.Generator``) or the default one, so
``manual_seed`` makes it repeatable (``autograd/random.py``). The draws come from NumPy's
PCG64 (CuPy's generator for GPU tensors), not from PyTorch's Mersenne Twister: the
distributions, dtypes, shapes, errors and gradients are PyTorch's, the numbers are not.

Gradients, as PyTorch's ``derivatives.yaml``: ``bernoulli``, ``poisson`` and ``normal`` pass
a zero gradient to their parameters (the draw is held fixed); the in-place fills give the
overwritten values a zero gradient; integer results (``multinomial``, ``randint_like``)
carry none.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from ..backend import get_array_module
from ..dtypes import get_default_dtype, to_dtype
from ..function import Op
from ..grad_mode import state
from ..random import _gen_for, draw_like
from ..registry import register
from ..tensor import Tensor, _make, _size_args, _xp_for
from .inplace import Overwrite, _write, apply_inplace
from .shape import broadcast_to

_SM = "sampling"


# ---- primitive draws (NumPy Generator or CuPy RandomState) ---------------------------------

def _gen(xp, generator):
    return _gen_for(xp, generator)


def _uniform(xp, g, shape, dtype=np.float64):
    """Uniform [0, 1) draws with ``dtype``'s precision (on the CPU PyTorch's: 53 random
    bits for double, 24 for float...)."""
    if xp is np:
        return g.random(shape, dtype=dtype)
    return g.random_sample(shape).astype(dtype)


def _std_normal(xp, g, shape, dtype=np.float64):
    """Standard normal draws: PyTorch's on the CPU (``autograd.random``), CuPy's on the
    GPU."""
    if xp is not np:
        return g.standard_normal(shape).astype(dtype)
    return g.standard_normal(shape, dtype=dtype)


def _self_uniform(self, generator, dtype=np.float64):
    """Uniform [0, 1) draws for the tensor ``self`` of an in-place sampler, in the order
    PyTorch fills it (its memory order: ``autograd.random.draw_like``)."""
    xp = _xp_of(self)
    g = _gen(xp, generator)
    return draw_like(self._data, lambda sh: _uniform(xp, g, sh, dtype), True)


def _data(x):
    return x._data if isinstance(x, Tensor) else x


def _xp_of(x):
    return get_array_module(_data(x))


def _float_only(name, kernel, dtype):
    if dtype.kind not in "fV":
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{_torch_name(dtype)}': "
                                  f"{name} takes floating tensors")


def _torch_name(dtype) -> str:
    return {"int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char",
            "uint8": "Byte", "bool": "Bool", "float16": "Half", "float32": "Float",
            "float64": "Double"}.get(str(np.dtype(dtype)), str(dtype))


class RandomDraw(Op):
    """A random result drawn from the distribution its inputs parametrise (``bernoulli``,
    ``poisson``, ``normal``): the draw is held fixed, so the gradient to every parameter is
    zero, as PyTorch's ``derivatives.yaml`` has it (``zeros_like(grad)``; ``normal`` is not
    reparametrised there either)."""

    @staticmethod
    def forward(ctx, *params, sample):
        ctx.n = len(params)
        return get_array_module(sample).asarray(sample)

    @staticmethod
    def backward(ctx, gy):
        z = gy * 0.0
        return z if ctx.n == 1 else (z,) * ctx.n


def _t(a):
    """A Tensor holding ``a`` (NumPy returns scalars for 0-d results)."""
    return _make(get_array_module(a).asarray(a))


# ---- bernoulli / poisson / binomial ------------------------------------------------------

def _check_prob(name, p):
    if isinstance(p, Tensor):
        pd = p._data
        with np.errstate(invalid="ignore"):
            ok = bool(((pd >= 0) & (pd <= 1)).all()) if pd.size else True
        if not ok:
            raise RuntimeError("Expected p_in >= 0 && p_in <= 1 to be true, but got false. "
                               f"({name}: every probability must be in [0, 1])")
    elif not 0 <= float(p) <= 1:
        raise RuntimeError(f"{name} expects p to be in [0, 1], but got p={p}")


@register(family=_SM, op=RandomDraw)
def bernoulli(x, p=None, *, generator=None):
    """Draws 1 with probability ``x`` (or with the probability ``p`` for every element)
    and 0 otherwise, in ``x``'s floating dtype; the gradient to ``x`` is zero."""
    xd = _data(x)
    xp = get_array_module(xd)
    g = _gen(xp, generator)
    if p is not None:  # x gives the shape and dtype only (any dtype)
        if isinstance(p, Tensor):
            _float_only("bernoulli", "bernoulli_tensor_cpu_p_", p.dtype)
        _check_prob("bernoulli_", p)
        prob = _data(p)
    else:
        _float_only("bernoulli", "bernoulli_tensor_cpu_p_", xd.dtype)
        _check_prob("bernoulli", x)
        prob = xd
    # PyTorch's: uniforms with the probabilities' precision (a number: double)
    pdt = getattr(prob, "dtype", np.float64)
    u = _uniform(xp, g, xd.shape, pdt)  # PyTorch's result: contiguous, filled in C order
    sample = (u < prob).astype(xd.dtype)
    if p is not None:
        return _t(sample)
    return RandomDraw.apply(x, sample=sample)


@register("bernoulli_", family=_SM, function=False, differentiable=False)
def bernoulli_(self, p=0.5, *, generator=None):
    """Fill with draws of 1 with probability ``p`` (a number or a tensor broadcasting to
    this one), 0 otherwise, in place."""
    if isinstance(p, Tensor):
        _float_only("bernoulli_", "bernoulli_tensor_cpu_p_", p.dtype)
        _check_prob("bernoulli_", p)
        prob = broadcast_to(p, tuple(self.shape))._data
    else:
        _check_prob("bernoulli_", p)
        prob = float(p)
    pdt = prob.dtype if isinstance(p, Tensor) else np.float64
    u = _self_uniform(self, generator, pdt)
    return _fill_with(self, (u < prob).astype(self.dtype))


@register(family=_SM, op=RandomDraw, method=False)
def poisson(x, generator=None):
    """Draws from the Poisson distribution of rate ``x`` (float, x's dtype); the gradient to
    the rate is zero."""
    xd = _data(x)
    _float_only("poisson", "poisson_cpu", xd.dtype)
    with np.errstate(invalid="ignore"):
        if xd.size and not bool((xd >= 0).all()):
            raise RuntimeError("invalid Poisson rate, expected rate to be non-negative")
    xp = get_array_module(xd)
    g = _gen(xp, generator)
    lam = xd.astype(np.float64)
    finite = xp.isfinite(lam)
    s = xp.asarray(g.poisson(xp.where(finite, lam, 0.0))).astype(np.float64)
    s = xp.where(finite, s, lam)  # an infinite rate: infinitely many events
    return RandomDraw.apply(x, sample=s.astype(xd.dtype))


@register(family=_SM, arity=2, differentiable=False, method=False)
def binomial(count, prob, generator=None):
    """Draws from the binomial distributions of ``count`` trials with success probability
    ``prob`` (broadcast; floating tensors, the result in their dtype)."""
    cd, pd = _data(count), _data(prob)
    if cd.dtype.kind not in "fV":
        raise ValueError(f"binomial only supports floating-point dtypes for count, got: "
                         f"{_torch_name(cd.dtype)}")
    if pd.dtype.kind not in "fV":
        raise ValueError(f"binomial only supports floating-point dtypes for prob, got: "
                         f"{_torch_name(pd.dtype)}")
    if cd.dtype == np.float16 or pd.dtype == np.float16:
        raise NotImplementedError("\"binomial_cpu\" not implemented for 'Half'")
    xp = get_array_module(cd)
    shape = np.broadcast_shapes(cd.shape, pd.shape)
    n = xp.broadcast_to(cd, shape).astype(np.float64)
    p = xp.broadcast_to(pd, shape).astype(np.float64)
    with np.errstate(invalid="ignore"):
        ok = (n >= 0) & (p >= 0) & (p <= 1) & xp.isfinite(n)
    g = _gen(xp, generator)
    s = xp.asarray(g.binomial(xp.where(ok, n, 0).astype(np.int64), xp.where(ok, p, 0.0)))
    s = xp.where(ok, s, xp.nan).astype(cd.dtype)  # outside the domain: nan
    return _t(s)


# ---- multinomial -------------------------------------------------------------------------

@register(family=_SM, differentiable=False)
def multinomial(x, num_samples: int, replacement: bool = False, *, generator=None):
    """``num_samples`` category indices (int64) per row of the non-negative weights ``x``
    (1-D or 2-D), drawn with or without ``replacement``, by PyTorch's CPU algorithms (and
    draws): without replacement, or one sample, the ``num_samples`` largest ``x / q`` with
    q ~ Exp(1) (the same law as drawing one category at a time); with replacement, a
    search of the normalised cumulative weights per uniform draw."""
    xd = _data(x)
    if xd.dtype.kind not in "fV":
        raise RuntimeError(f"multinomial only supports floating-point dtypes for input, got: "
                           f"{_torch_name(xd.dtype)}")
    if xd.ndim not in (1, 2):
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    n = int(num_samples)
    if n <= 0:
        raise RuntimeError("cannot sample n_sample <= 0 samples")
    k = xd.shape[-1]
    if not replacement and n > k:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without "
                           "replacement")
    xp = get_array_module(xd)
    w = xd.reshape(-1, k).astype(np.float64)
    rows = w.shape[0]
    if rows == 0:
        return _make(xp.zeros(xd.shape[:-1] + (n,), dtype=np.int64))
    if not bool((xp.isfinite(w) & (w >= 0)).all()):
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    total = w.sum(axis=1, keepdims=True)
    if not bool((total > 0).all()):
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    g = _gen(xp, generator)
    if replacement and n > 1:  # PyTorch's: per row, the first cdf >= u (cdf in x's dtype)
        wd = xd.reshape(-1, k)
        cdf = xp.cumsum(wd, axis=1, dtype=wd.dtype)
        cdf = cdf / cdf[:, -1:]
        u = _uniform(xp, g, (rows, n))
        # every row's search at once: row r's cdf and draws are shifted by 2r (cdf <= 1)
        off = 2.0 * xp.arange(rows, dtype=np.float64)[:, None]
        pos = xp.searchsorted((cdf.astype(np.float64) + off).ravel(), (u + off).ravel(),
                              side="left")
        idx = xp.minimum(pos.reshape(rows, n) - (xp.arange(rows)[:, None] * k), k - 1)
    else:  # PyTorch's: the largest x / q with q ~ Exp(1) (in x's dtype), one per sample
        wd = xd.reshape(-1, k)
        q = (-xp.log1p(-_uniform(xp, g, (rows, k)))).astype(wd.dtype)
        with np.errstate(divide="ignore", invalid="ignore"):
            keys = wd / q
        if n == 1:
            idx = xp.argmax(keys, axis=1)[:, None]
        else:
            idx = xp.argsort(-keys, axis=1, kind="stable")[:, :n] if xp is np else \
                xp.argsort(-keys, axis=1)[:, :n]
    return _make(idx.astype(np.int64).reshape(xd.shape[:-1] + (n,)))


# ---- normal ------------------------------------------------------------------------------

def _check_std(std):
    if isinstance(std, Tensor):
        sd = std._data
        with np.errstate(invalid="ignore"):
            if sd.size and not bool((sd >= 0).all()):
                raise RuntimeError("normal expects all elements of std >= 0.0")
    elif not float(std) >= 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")


@register(family=_SM, arity=2, method=False)
def normal(mean, std=1.0, size=None, *, generator=None, dtype=None, device=None,
           requires_grad: bool = False):
    """Draws from normal distributions: ``normal(mean, std)`` with a tensor mean and/or std
    (broadcast; the result in the mean's dtype, else the std's), or ``normal(mean, std,
    size)`` with numbers. As in PyTorch, the gradient to ``mean`` and ``std`` is zero (the
    draw is not reparametrised; write ``mean + std * randn_like(mean)`` for that)."""
    mt, st = isinstance(mean, Tensor), isinstance(std, Tensor)
    if not mt and not st:
        if size is None:
            raise TypeError("normal() received an invalid combination of arguments: with "
                            "numbers for mean and std, pass size")
        _check_std(std)
        dt = to_dtype(dtype) or get_default_dtype()
        if dt.kind not in "fV":
            raise NotImplementedError(f"\"normal_kernel_cpu\" not implemented for "
                                      f"'{_torch_name(dt)}'")
        shape = _size_args((size,))
        xp, _ = _xp_for(device)
        eps = _std_normal(xp, _gen(xp, generator), shape, dt)
        t = _t((float(std) * eps + float(mean)).astype(dt))
        if requires_grad:
            t.requires_grad_(True)
        return t
    ref = mean if mt else std
    dt = ref.dtype
    if dt.kind not in "fV":
        raise NotImplementedError(f"\"normal_kernel_cpu\" not implemented for "
                                  f"'{_torch_name(dt)}'")
    _check_std(std)
    xp = _xp_of(ref)
    try:
        shape = np.broadcast_shapes(tuple(mean.shape) if mt else (),
                                    tuple(std.shape) if st else ())
    except ValueError:
        raise RuntimeError(f"normal: the shapes of mean {list(mean.shape)} and std "
                           f"{list(std.shape)} are not broadcastable") from None
    eps = _std_normal(xp, _gen(xp, generator), shape, dt)
    with np.errstate(invalid="ignore", over="ignore"):
        sample = (_data(std) * eps + _data(mean)).astype(dt)
    params = tuple(p for p in (mean, std) if isinstance(p, Tensor))
    return RandomDraw.apply(*params, sample=sample)


def _fill_with(self, arr):
    """Write the drawn ``arr`` into ``self`` in place (in a graph: the old values get a
    zero gradient, as PyTorch's in-place fills)."""
    if state.enabled and self._rg:
        return apply_inplace(self, lambda t, v: Overwrite.apply(t, v), (arr,), {})
    _write(self, None, arr)
    return self


def _continuous(name, self):
    if self.dtype.kind not in "fV":
        raise RuntimeError(f"{name} distribution is a continuous probability distribution. "
                           f"dtype must be a floating point but you specified "
                           f"{_torch_name(self.dtype)}")


@register("normal_", family=_SM, function=False, differentiable=False)
def normal_(self, mean: float = 0.0, std: float = 1.0, *, generator=None):
    """Fill with draws from N(``mean``, ``std``^2), in place."""
    _float_only("normal_", "normal_kernel_cpu", self.dtype)
    _check_std(std)
    xp = _xp_of(self)
    g, sd = _gen(xp, generator), self._data
    if xp is np:  # PyTorch's: a non-contiguous tensor is filled element by element
        eps = draw_like(sd, lambda sh: g.normal(0.0, 1.0, sh, sd.dtype,
                                                serial=not sd.flags.c_contiguous), True)
    else:
        eps = _std_normal(xp, g, tuple(self.shape), self.dtype)
    return _fill_with(self, (float(mean) + float(std) * eps).astype(self.dtype))


@register("uniform_", family=_SM, function=False, differentiable=False)
def uniform_(self, from_: float = 0.0, to: float = 1.0, *, generator=None, **kw):
    """Fill with uniform draws from [``from``, ``to``), in place (``from`` may be passed
    by keyword, as in PyTorch)."""
    if "from" in kw:
        from_ = kw.pop("from")
    if kw:
        raise TypeError(f"uniform_() got an unexpected keyword argument {next(iter(kw))!r}")
    _float_only("uniform_", "check_uniform_bounds", self.dtype)
    if float(from_) > float(to):
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found "
                           f"from={from_} > to={to}")
    xp = _xp_of(self)
    g = _gen(xp, generator)
    if xp is np:  # PyTorch's draws (autograd.random), in the tensor's memory order
        return _fill_with(self, draw_like(
            self._data, lambda sh: g.uniform(from_, to, sh, dtype=self.dtype), True))
    u = _uniform(xp, g, tuple(self.shape))
    return _fill_with(self, (float(from_) + (float(to) - float(from_)) * u).astype(self.dtype))


@register("exponential_", family=_SM, function=False, differentiable=False)
def exponential_(self, lambd: float = 1.0, *, generator=None):
    """Fill with draws from the exponential distribution of rate ``lambd``, in place."""
    _continuous("Exponential", self)
    if not float(lambd) > 0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={lambd}")
    xp = _xp_of(self)
    u = _self_uniform(self, generator)  # PyTorch's: -log1p(-u) / lambda
    return _fill_with(self, (-xp.log1p(-u) / float(lambd)).astype(self.dtype))


@register("cauchy_", family=_SM, function=False, differentiable=False)
def cauchy_(self, median: float = 0.0, sigma: float = 1.0, *, generator=None):
    """Fill with draws from the Cauchy distribution (``median``, scale ``sigma``)."""
    _continuous("Cauchy", self)
    if not float(sigma) > 0:
        raise RuntimeError(f"cauchy_ expects sigma > 0.0, but found sigma={sigma}")
    xp = _xp_of(self)
    u = _self_uniform(self, generator)
    return _fill_with(self, (float(median) + float(sigma) * xp.tan(math.pi * (u - 0.5)))
                      .astype(self.dtype))


@register("geometric_", family=_SM, function=False, differentiable=False)
def geometric_(self, p: float, *, generator=None):
    """Fill with the number of Bernoulli(``p``) trials up to the first success (1, 2...),
    in place; ``p`` in (0, 1)."""
    if self.dtype.kind == "b":
        raise NotImplementedError("\"geometric_cpu\" not implemented for 'Bool'")
    if not 0 < float(p) < 1:
        raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={p}")
    xp = _xp_of(self)
    u = _self_uniform(self, generator)  # PyTorch's: log(u) / log1p(-p)
    with np.errstate(divide="ignore"):
        k = xp.ceil(xp.log(u) / math.log1p(-float(p)))
    return _fill_with(self, xp.maximum(k, 1).astype(self.dtype))


@register("log_normal_", family=_SM, function=False, differentiable=False)
def log_normal_(self, mean: float = 1.0, std: float = 2.0, *, generator=None):
    """Fill with ``exp`` of draws from N(``mean``, ``std``^2), in place."""
    _float_only("log_normal_", "log_normal_cpu", self.dtype)
    if not float(std) > 0:
        raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={std}")
    xp = _xp_of(self)
    g = _gen(xp, generator)
    with np.errstate(over="ignore"):
        if xp is np:  # PyTorch's: exp of normal_distribution<double>, element by element
            z = draw_like(self._data, lambda sh: g.normal(float(mean), float(std), sh,
                                                          np.float64, serial=True), True)
            return _fill_with(self, np.exp(z).astype(self.dtype))
        eps = _std_normal(xp, g, tuple(self.shape))
        return _fill_with(self, xp.exp(float(mean) + float(std) * eps).astype(self.dtype))


def _int_range(dtype):
    """PyTorch's default range of ``random_()``: [0, 2**mantissa] for floats, the
    non-negative values for integers."""
    dt = np.dtype(dtype)
    if dt.kind == "b":
        return 0, 2
    if dt.kind in "fV":
        return 0, 2 ** (np.finfo(dt).nmant + 1) + 1
    return 0, int(np.iinfo(dt).max) + 1


def _draw_ints(xp, g, low, high, shape):
    if xp is np:
        return g.integers(low, high, size=shape, dtype=np.int64)
    return g.randint(low, high, size=shape, dtype=np.int64)


def _check_bounds(name, dtype, low, high):
    dt = np.dtype(dtype)
    if dt.kind in "iub":
        lo, hi = (0, 1) if dt.kind == "b" else (int(np.iinfo(dt).min), int(np.iinfo(dt).max))
        tn = {"b": "bool", "u": "unsigned char"}.get(dt.kind, _torch_name(dt).lower())
        if not lo <= low <= hi:
            raise RuntimeError(f"from is out of bounds for {tn}")
        if not lo <= high - 1 <= hi:
            raise RuntimeError(f"to - 1 is out of bounds for {tn}")


@register("random_", family=_SM, function=False, differentiable=False)
def random_(self, from_=None, to=None, *, generator=None, **kw):
    """Fill with integers drawn uniformly from [``from``, ``to``) (``random_(to)``: from
    0; ``random_()``: PyTorch's default range for the dtype), in place."""
    if "from" in kw:
        from_ = kw.pop("from")
    if kw:
        raise TypeError(f"random_() got an unexpected keyword argument {next(iter(kw))!r}")
    if from_ is None and to is None:
        low, high = _int_range(self.dtype)
    elif to is None:
        low, high = 0, int(from_)
    else:
        low, high = (0 if from_ is None else int(from_)), int(to)
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} "
                           f">= to={high}")
    _check_bounds("random_", self.dtype, low, high)
    xp = _xp_of(self)
    g = _gen(xp, generator)
    r = draw_like(self._data, lambda sh: _draw_ints(xp, g, low, high, sh), True)
    return _fill_with(self, r.astype(self.dtype))


@register(family=_SM, differentiable=False, method=False)
def randint_like(x, low=0, high=None, *, dtype=None, device=None, requires_grad=False,
                 generator=None):
    """Integers drawn uniformly from [``low``, ``high``) in ``x``'s shape (and dtype
    unless ``dtype`` is given); ``randint_like(x, high)`` draws from [0, high)."""
    if high is None:
        low, high = 0, low
    low, high = int(low), int(high)
    dt = to_dtype(dtype) or x.dtype
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} "
                           f">= to={high}")
    _check_bounds("randint_like", dt, low, high)
    xp = _xp_of(x)
    g = _gen(xp, generator)
    r = draw_like(_data(x), lambda sh: _draw_ints(xp, g, low, high, sh))  # as empty_like(x)
    t = _t(r.astype(dt, order="C"))
    if requires_grad:
        t.requires_grad_(True)
    return t


# ---- window functions --------------------------------------------------------------------

def _window_dtype(name, window_length, dtype):
    dt = to_dtype(dtype) or get_default_dtype()
    if dt.kind not in "fV":
        raise RuntimeError(f"{name} expects floating point dtypes, got: "
                           f"{_torch_name(dt)}")
    if isinstance(window_length, bool) or not isinstance(window_length, numbers.Integral):
        raise TypeError(f"{name}(): argument 'window_length' must be int, not "
                        f"{type(window_length).__name__}")
    if window_length < 0:
        raise RuntimeError(f"{name} requires non-negative window_length, got "
                           f"window_length={window_length}")
    return dt


def _window(arr, dt, device, requires_grad):
    xp, _ = _xp_for(device)
    t = _make(xp.asarray(arr.astype(dt, copy=False)))
    if requires_grad:
        t.requires_grad_(True)
    return t


def _trivial_window(n, dt, device, requires_grad):
    return _window(np.ones(n, dtype=dt), dt, device, requires_grad)


@register(family=_SM, arity=0, differentiable=False, method=False)
def hamming_window(window_length: int, periodic: bool = True, alpha: float = 0.54,
                   beta: float = 0.46, *, dtype=None, layout=None, device=None,
                   requires_grad: bool = False):
    """``alpha - beta * cos(2 pi n / (N - 1))``; ``periodic`` computes N + 1 points and
    drops the last (for spectral analysis)."""
    dt = _window_dtype("hamming_window", window_length, dtype)
    if window_length <= 1:
        return _trivial_window(window_length, dt, device, requires_grad)
    n = window_length + 1 if periodic else window_length
    w = np.arange(n, dtype=dt) * dt.type(math.pi * 2.0 / (n - 1))
    w = np.cos(w) * dt.type(-beta) + dt.type(alpha)
    return _window(w[:window_length], dt, device, requires_grad)


@register(family=_SM, arity=0, differentiable=False, method=False)
def hann_window(window_length: int, periodic: bool = True, *, dtype=None, layout=None,
                device=None, requires_grad: bool = False):
    """``0.5 - 0.5 * cos(2 pi n / (N - 1))`` (the Hamming window with alpha = beta =
    0.5)."""
    _window_dtype("hann_window", window_length, dtype)
    return hamming_window(window_length, periodic, 0.5, 0.5, dtype=dtype, device=device,
                          requires_grad=requires_grad)


@register(family=_SM, arity=0, differentiable=False, method=False)
def bartlett_window(window_length: int, periodic: bool = True, *, dtype=None, layout=None,
                    device=None, requires_grad: bool = False):
    """The triangular window ``1 - |2 n / (N - 1) - 1|``."""
    dt = _window_dtype("bartlett_window", window_length, dtype)
    if window_length <= 1:
        return _trivial_window(window_length, dt, device, requires_grad)
    n = window_length + 1 if periodic else window_length
    w = np.arange(n, dtype=dt) * dt.type(2.0 / (n - 1))
    half = ((n - 1) >> 1) + 1
    w[half:] = w[half:] * dt.type(-1) + dt.type(2)
    return _window(w[:window_length], dt, device, requires_grad)


@register(family=_SM, arity=0, differentiable=False, method=False)
def blackman_window(window_length: int, periodic: bool = True, *, dtype=None, layout=None,
                    device=None, requires_grad: bool = False):
    """``0.42 - 0.5 cos(2 pi n / (N - 1)) + 0.08 cos(4 pi n / (N - 1))``."""
    dt = _window_dtype("blackman_window", window_length, dtype)
    if window_length <= 1:
        return _trivial_window(window_length, dt, device, requires_grad)
    n = window_length + 1 if periodic else window_length
    w = np.arange(n, dtype=dt) * dt.type(math.pi / (n - 1))
    w = np.cos(w * dt.type(4)) * dt.type(0.08) - np.cos(w * dt.type(2)) * dt.type(0.5) + \
        dt.type(0.42)
    return _window(w[:window_length], dt, device, requires_grad)


@register(family=_SM, arity=0, differentiable=False, method=False)
def kaiser_window(window_length: int, periodic: bool = True, beta: float = 12.0, *,
                  dtype=None, layout=None, device=None, requires_grad: bool = False):
    """``I0(beta sqrt(1 - ((n - a) / a)^2)) / I0(beta)`` with ``a = (N - 1) / 2``."""
    dt = _window_dtype("kaiser_window", window_length, dtype)
    if window_length <= 1:
        return _trivial_window(window_length, dt, device, requires_grad)
    n = window_length + 1 if periodic else window_length
    ct = np.dtype(np.float32 if dt == np.float16 else dt)  # PyTorch's opmath type
    a = ct.type((n - 1) / 2.0)
    ar = np.arange(n, dtype=dt).astype(ct)
    b = ct.type(beta)
    arg = b * np.sqrt(np.abs(1 - ((ar - a) / a) ** 2))
    w = (np.i0(arg.astype(np.float64)) / np.i0(float(b))).astype(dt)
    return _window(w[:window_length], dt, device, requires_grad)
