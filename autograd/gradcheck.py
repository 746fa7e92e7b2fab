"""Finite-difference checks of gradients (``gradcheck``) and of second derivatives
(``gradgradcheck``), PyTorch's API: central differences in float64 against the analytic
vector-Jacobian products for a random upstream gradient."""

from __future__ import annotations

import warnings

import numpy as np

from .backend import lock, to_numpy, unlock
from .engine import grad as _grad
from .tensor import Tensor, _make, empty


class GradcheckError(RuntimeError):
    pass


def _as_tuple(x):
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _outputs(fn, inputs):
    out = fn(*inputs)
    return _as_tuple(out)


def _numerical_vjp(fn, inputs, idx, vs, eps):
    """d<v, fn(x)>/dx_idx by central differences (in place on x's array, restored after)."""
    x = inputs[idx]
    arr = x._data
    out = np.zeros(arr.shape, dtype=np.float64)
    # the graph gradcheck built for the analytic gradients may hold this array read-only;
    # each perturbation is undone right away, so write through it
    relock = isinstance(arr, np.ndarray) and not arr.flags.writeable
    if relock:
        unlock(arr)
    try:
        _perturb(fn, inputs, arr, vs, eps, out)
    finally:
        if relock:
            lock(arr)
    return out


def _perturb(fn, inputs, arr, vs, eps, out):
    # index the array itself (not a reshaped copy), so non-contiguous inputs work too
    for k in np.ndindex(arr.shape):
        orig = arr[k].item()
        arr[k] = orig + eps
        plus = sum(float((to_numpy(o._data).astype(np.float64) * v).sum())
                   for o, v in zip(_outputs(fn, inputs), vs))
        arr[k] = orig - eps
        minus = sum(float((to_numpy(o._data).astype(np.float64) * v).sum())
                    for o, v in zip(_outputs(fn, inputs), vs))
        arr[k] = orig
        out[k] = (plus - minus) / (2 * eps)


def gradcheck(fn, inputs, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              raise_exception: bool = True, seed: int = 0) -> bool:
    """Check the analytic gradients of ``fn`` at ``inputs`` against finite differences.

    Args:
        fn: a function of Tensors returning a Tensor or a tuple of Tensors.
        inputs: a Tensor or tuple of Tensors; those with ``requires_grad`` are checked.
            Use float64 inputs: float32 is too coarse for central differences.
        eps, atol, rtol: step and tolerances (PyTorch's defaults).
        raise_exception: raise ``GradcheckError`` with details instead of returning False.

    Returns:
        True when every checked gradient matches.
    """
    inputs = _as_tuple(inputs)
    rng = np.random.default_rng(seed)
    outs = _outputs(fn, inputs)
    diff_outs = [o for o in outs if isinstance(o, Tensor) and o._rg]
    vs = [rng.standard_normal(o.shape) for o in diff_outs]
    checked = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t._rg]
    if not diff_outs:
        if raise_exception:
            raise GradcheckError("gradcheck: no output requires grad")
        return False
    for i in checked:
        if inputs[i].dtype != np.float64:
            warnings.warn(f"gradcheck: input {i} is {inputs[i].dtype}, not float64; "
                          "finite differences will be inaccurate", stacklevel=2)
    grad_outs = [_make(np.asarray(v, dtype=o.dtype)) for o, v in zip(diff_outs, vs)]
    analytic = _grad(diff_outs, [inputs[i] for i in checked], grad_outs, allow_unused=True,
                     retain_graph=True)
    for i, a in zip(checked, analytic):
        num = _numerical_vjp(fn, inputs, i, [np.asarray(v) for v in vs], eps)
        an = np.zeros_like(num) if a is None else to_numpy(a._data).astype(np.float64)
        if an.shape != num.shape:
            msg = (f"gradcheck: gradient of input {i} has shape {an.shape}, expected "
                   f"{num.shape}")
            if raise_exception:
                raise GradcheckError(msg)
            return False
        if not np.allclose(an, num, atol=atol, rtol=rtol):
            err = np.abs(an - num).max()
            msg = (f"Jacobian mismatch for input {i} (shape {list(num.shape)}): max abs error "
                   f"{err:.3g}\nnumerical:\n{num}\nanalytical:\n{an}")
            if raise_exception:
                raise GradcheckError(msg)
            return False
    return True


def gradgradcheck(fn, inputs, grad_outputs=None, eps: float = 1e-6, atol: float = 1e-5,
                  rtol: float = 1e-3, raise_exception: bool = True, seed: int = 0) -> bool:
    """Check second derivatives: gradcheck of the function (inputs, v) -> vjp(fn, v)."""
    inputs = _as_tuple(inputs)
    outs = _outputs(fn, inputs)
    diff_outs = [o for o in outs if o._rg]
    if grad_outputs is None:
        # uniform in [-1, 1) from the global generator, as PyTorch's (torch.testing.make_tensor):
        # a seeded program draws the same numbers afterwards
        grad_outputs = [empty(tuple(o.shape), dtype=o.dtype).uniform_(-1, 1)
                        for o in diff_outs]
    else:
        grad_outputs = list(_as_tuple(grad_outputs))
    for g in grad_outputs:
        g.requires_grad_(True)
    checked = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t._rg]
    n = len(inputs)

    def first_grads(*args):
        ins, gos = args[:n], args[n:]
        outs2 = [o for o in _outputs(fn, ins) if o._rg]
        gs = _grad(outs2, [ins[i] for i in checked], list(gos), create_graph=True,
                   allow_unused=True)
        return tuple(g for g in gs if g is not None)

    return gradcheck(first_grads, tuple(inputs) + tuple(grad_outputs), eps=eps, atol=atol,
                     rtol=rtol, raise_exception=raise_exception, seed=seed)
