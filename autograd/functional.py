"""Higher-level differentiation of whole functions (PyTorch's ``torch.autograd.functional``)
plus a JAX-style ``grad`` transform.

Every function here takes a Python function ``func`` of Tensors and the point(s) at which to
differentiate it. Inside, each input is replaced by a fresh tensor that shares its memory but
not its graph (``detach()`` plus ``requires_grad=True``), ``func`` is run under
``enable_grad`` and the products are computed with ``autograd.grad``. Results are detached
unless ``create_graph=True``, in which case they stay connected both to the computation
done here and to whatever produced the original inputs, so they can be differentiated again.

Products with the Jacobian ``J`` of ``func``:

* ``vjp``: ``v^T J`` (one backward sweep);
* ``jvp``: ``J v``, by the double-vjp trick: ``u -> J^T u`` is linear in ``u``, so its own
  vector-Jacobian product with ``v`` is ``(J^T)^T v = J v`` (two backward sweeps, no
  forward-mode machinery needed);
* ``jacobian``: one vjp per output element (reverse mode) or one jvp per input element
  (forward mode);
* ``hessian``, ``hvp``, ``vhp``: the same ideas applied to the gradient of a scalar function.

Example:
    >>> import autograd as ag
    >>> from autograd.functional import jacobian, hvp
    >>> x = ag.tensor([1.0, 2.0], dtype=ag.float64)
    >>> jacobian(lambda x: x ** 2, x)
    tensor([[2., 0.],
            [0., 4.]], dtype=float64)
"""

from __future__ import annotations

import numbers

import numpy as np

from .engine import grad as _ag_grad
from .function import AccumulateGrad
from .grad_mode import enable_grad, is_grad_enabled
from .ops.shape import reshape, stack
from .tensor import Tensor, _make, tensor

__all__ = ["vjp", "jvp", "jacobian", "hessian", "hvp", "vhp", "grad"]


# ---- helpers (mirroring torch/autograd/functional.py) -------------------------------------

def _as_tuple(inp, arg_name: str | None = None, fn_name: str | None = None):
    """Return ``(was_tuple, tuple_of_items)``; check the items are Tensors when named."""
    is_tuple = isinstance(inp, tuple)
    if not is_tuple:
        inp = (inp,)
    if isinstance(inp, list):
        inp = tuple(inp)
    if arg_name is not None:
        for i, el in enumerate(inp):
            if not isinstance(el, Tensor):
                where = f"Entry {i} in the tuple" if is_tuple else "The value"
                raise TypeError(
                    f"The {arg_name} given to {fn_name} must be either a Tensor or a tuple of "
                    f"Tensors but the {where.lower()} given as {arg_name} has type "
                    f"{type(el).__name__}."
                )
    return is_tuple, inp


def _tuple_postprocess(res, to_unpack):
    """Unwrap one (``to_unpack`` a bool) or two (a pair of bools) tuple levels."""
    if isinstance(to_unpack, tuple):
        if not to_unpack[1]:
            res = tuple(el[0] for el in res)
        if not to_unpack[0]:
            res = res[0]
    elif not to_unpack:
        res = res[0]
    return res


def _grad_preprocess(inputs, create_graph: bool, need_graph: bool):
    """Fresh tensors to differentiate with respect to.

    With ``create_graph`` an input that already requires grad is replaced by a
    differentiable identity of itself, so that results stay connected to its history;
    otherwise it is detached (memory shared, graph not) and flagged ``requires_grad``.
    """
    res = []
    for inp in inputs:
        if create_graph and inp.requires_grad:
            res.append(inp.view_as(inp))
        else:
            res.append(inp.detach().requires_grad_(need_graph))
    return tuple(res)


def _grad_postprocess(inputs, create_graph: bool):
    """Detach results unless the caller asked for a differentiable graph."""
    if isinstance(inputs[0], Tensor):
        if not create_graph:
            return tuple(inp.detach() for inp in inputs)
        return inputs
    return tuple(_grad_postprocess(inp, create_graph) for inp in inputs)


def _validate_v(v, other, is_other_tuple: bool) -> None:
    if len(other) != len(v):
        if is_other_tuple:
            raise RuntimeError(
                f"v is a tuple of invalid length: should be {len(other)} but got {len(v)}."
            )
        raise RuntimeError("The given v should contain a single Tensor.")
    for idx, (el_v, el_other) in enumerate(zip(v, other)):
        if tuple(el_v.shape) != tuple(el_other.shape):
            prepend = f"Entry {idx} in " if is_other_tuple else ""
            raise RuntimeError(
                f"{prepend}v has invalid size: should be {tuple(el_other.shape)} but got "
                f"{tuple(el_v.shape)}."
            )


def _check_requires_grad(inputs, input_type: str, strict: bool) -> None:
    """In strict mode, refuse outputs that do not depend on the inputs at all."""
    if not strict:
        return
    if input_type not in ("outputs", "grad_inputs", "jacobian", "hessian"):
        raise RuntimeError("Invalid input_type to _check_requires_grad")
    for i, inp in enumerate(inputs):
        if inp is None:
            raise RuntimeError(
                f"The output of the user-provided function is independent of input {i}. This "
                "is not allowed in strict mode."
            )
        if not inp.requires_grad:
            if input_type == "hessian":
                raise RuntimeError(
                    f"The hessian of the user-provided function with respect to input {i} is "
                    "independent of the input. This is not allowed in strict mode. You should "
                    "ensure that your function is thrice differentiable and that the hessian "
                    "depends on the inputs."
                )
            if input_type == "jacobian":
                raise RuntimeError(
                    "While computing the hessian, found that the jacobian of the user-provided "
                    f"function with respect to input {i} is independent of the input. This is "
                    "not allowed in strict mode. You should ensure that your function is twice "
                    "differentiable and that the jacobian depends on the inputs (this would be "
                    "violated by a linear function for example)."
                )
            if input_type == "grad_inputs":
                raise RuntimeError(
                    f"The gradient with respect to input {i} is independent of the inputs of "
                    "the user-provided function. This is not allowed in strict mode."
                )
            raise RuntimeError(
                f"Output {i} of the user-provided function does not require gradients. The "
                "outputs must be computed in a differentiable manner from the input when "
                "running in strict mode."
            )


def _autograd_grad(outputs, inputs, grad_outputs=None, create_graph=False,
                   retain_graph=None):
    """``autograd.grad`` that skips outputs not requiring grad and returns None (not an
    error) for inputs that do not reach the outputs."""
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    new_outputs, new_grad_outputs = [], []
    for out, g in zip(outputs, grad_outputs):
        if out is not None and out.requires_grad:
            new_outputs.append(out)
            new_grad_outputs.append(g)
    if not new_outputs:
        return (None,) * len(inputs)
    if any(g is None for g in new_grad_outputs):
        # autograd.grad takes ones for a None gradient only as a whole: fill them here
        new_grad_outputs = [_ones_like(o) if g is None else g
                            for o, g in zip(new_outputs, new_grad_outputs)]
    return _ag_grad(new_outputs, inputs, new_grad_outputs, retain_graph=retain_graph,
                    create_graph=create_graph, allow_unused=True)


def _fill_in_zeros(grads, refs, strict: bool, create_graph: bool, stage: str):
    """Replace the None gradients (inputs not used) by zeros, or raise in strict mode."""
    res = []
    for i, (g, ref) in enumerate(zip(grads, refs)):
        if g is None:
            if strict:
                if stage == "back":
                    raise RuntimeError(
                        f"The output of the user-provided function is independent of input "
                        f"{i}. This is not allowed in strict mode."
                    )
                if stage == "back_trick":
                    raise RuntimeError(
                        f"The gradient with respect to the input is independent of entry {i} "
                        "in the grad_outputs when using the double backward trick to compute "
                        "forward mode gradients. This is not allowed in strict mode."
                    )
                if stage == "double_back":
                    raise RuntimeError(
                        f"The jacobian of the user-provided function is independent of input "
                        f"{i}. This is not allowed in strict mode."
                    )
                raise RuntimeError(
                    f"The hessian of the user-provided function is independent of entry {i} "
                    "in the grad_jacobian. This is not allowed in strict mode as it prevents "
                    "from using the double backward trick to replace forward mode AD."
                )
            g = _zeros_like(ref)
        res.append(g)
    return tuple(res)


def _zeros_like(t: Tensor) -> Tensor:
    return _make(np.zeros(t.shape, dtype=t.dtype) if t._data.__class__ is np.ndarray
                 else t._data * 0)


def _ones_like(t: Tensor) -> Tensor:
    return _make(np.ones(t.shape, dtype=t.dtype) if t._data.__class__ is np.ndarray
                 else t._data * 0 + 1)


def _preprocess_v(v, create_graph: bool):
    _, v = _as_tuple(v, "v", "the function")
    return _grad_preprocess(v, create_graph=create_graph, need_graph=False)


def _run_func(func, inputs, fn_name: str):
    outputs = func(*inputs)
    is_outputs_tuple, outputs = _as_tuple(outputs, "outputs of the user-provided function",
                                          fn_name)
    return is_outputs_tuple, outputs


# ---- vector products ----------------------------------------------------------------------

def vjp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """Vector-Jacobian product ``v^T J`` of ``func`` at ``inputs``.

    Args:
        func: a Python function taking Tensors and returning a Tensor or a tuple of Tensors.
        inputs: a Tensor or a tuple of Tensors, the point at which to differentiate.
        v: the vector(s), shaped like the outputs. May be omitted when ``func`` returns a
            single one-element Tensor.
        create_graph: make the results differentiable (higher-order derivatives).
        strict: raise when an output does not depend on some input, instead of returning
            zeros for it.

    Returns:
        ``(func_output, vjp)``: the outputs of ``func(*inputs)`` and the product, with the
        structure of ``inputs``.

    Raises:
        RuntimeError: when ``v`` is missing or mis-shaped, or in strict mode when an output is
            independent of an input.
    """
    with enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "vjp")
        inputs = _grad_preprocess(inputs, create_graph=create_graph, need_graph=True)
        is_outputs_tuple, outputs = _run_func(func, inputs, "vjp")
        _check_requires_grad(outputs, "outputs", strict=strict)
        if v is not None:
            v = _preprocess_v(v, create_graph)
            _validate_v(v, outputs, is_outputs_tuple)
        else:
            if len(outputs) != 1 or outputs[0].numel() != 1:
                raise RuntimeError(
                    "The vector v can only be None if the user-provided function returns a "
                    "single Tensor with a single element."
                )
        grad_res = _autograd_grad(outputs, inputs, v, create_graph=create_graph)
        vjp_res = _fill_in_zeros(grad_res, inputs, strict, create_graph, "back")
    outputs = _grad_postprocess(outputs, create_graph)
    vjp_res = _grad_postprocess(vjp_res, create_graph)
    return (_tuple_postprocess(outputs, is_outputs_tuple),
            _tuple_postprocess(vjp_res, is_inputs_tuple))


def jvp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """Jacobian-vector product ``J v`` of ``func`` at ``inputs``.

    Computed with the double-backward trick: ``g(u) = J^T u`` is linear in ``u``, and the
    vector-Jacobian product of ``g`` with ``v`` is ``J v``.

    Args:
        func: a Python function taking Tensors and returning a Tensor or a tuple of Tensors.
        inputs: a Tensor or a tuple of Tensors, the point at which to differentiate.
        v: the vector(s), shaped like ``inputs``. May be omitted when there is a single
            one-element input.
        create_graph: make the results differentiable (higher-order derivatives).
        strict: raise when an output does not depend on some input, instead of using zeros.

    Returns:
        ``(func_output, jvp)``: the outputs of ``func(*inputs)`` and the product, with the
        structure of the outputs.

    Raises:
        RuntimeError: when ``v`` is missing or mis-shaped, or in strict mode when an output is
            independent of the inputs.
    """
    with enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jvp")
        inputs = _grad_preprocess(inputs, create_graph=create_graph, need_graph=True)
        if v is not None:
            v = _preprocess_v(v, create_graph)
            _validate_v(v, inputs, is_inputs_tuple)
        else:
            if len(inputs) != 1 or inputs[0].numel() != 1:
                raise RuntimeError(
                    "The vector v can only be None if the input to the user-provided function "
                    "is a single Tensor with a single element."
                )
        is_outputs_tuple, outputs = _run_func(func, inputs, "jvp")
        _check_requires_grad(outputs, "outputs", strict=strict)
        if v is None:
            v = (_ones_like(inputs[0]),)
        jvp_res = _jvp_core(outputs, inputs, v, create_graph, strict)
    outputs = _grad_postprocess(outputs, create_graph)
    jvp_res = _grad_postprocess(jvp_res, create_graph)
    return (_tuple_postprocess(outputs, is_outputs_tuple),
            _tuple_postprocess(jvp_res, is_outputs_tuple))


def _jvp_core(outputs, inputs, v, create_graph: bool, strict: bool):
    """``J v`` per output, given outputs already computed from ``inputs`` (graph kept)."""
    # u: dummy output gradients; J^T u is recorded as a graph that is linear in u
    us = tuple(_zeros_like(out).requires_grad_(out.dtype.kind in "fcV") for out in outputs)
    grad_inputs = _autograd_grad(outputs, inputs, us, create_graph=True, retain_graph=True)
    _check_requires_grad(grad_inputs, "grad_inputs", strict=strict)
    idx = [i for i, u in enumerate(us) if u.requires_grad]
    got = [None] * len(outputs)
    if idx and any(g is not None for g in grad_inputs):
        part = _autograd_grad(grad_inputs, [us[i] for i in idx], v,
                              create_graph=create_graph, retain_graph=True)
        for i, g in zip(idx, part):
            got[i] = g
    return _fill_in_zeros(got, outputs, strict, create_graph, "back_trick")


# ---- Jacobian and Hessian -------------------------------------------------------------------

def _basis(shape, dtype, k: int) -> Tensor:
    e = np.zeros(int(np.prod(shape, dtype=np.int64)), dtype=dtype)
    e[k] = 1
    return _make(e.reshape(shape))


def _stack_rows(rows, out_shape, in_shape, ref_dtype, create_graph: bool) -> Tensor:
    """Stack per-element gradients (each shaped ``in_shape``) into ``out_shape + in_shape``."""
    full = tuple(out_shape) + tuple(in_shape)
    if not rows:
        return _make(np.zeros(full, dtype=ref_dtype))
    if create_graph and any(r.requires_grad for r in rows):
        return reshape(stack(list(rows), 0), full)
    return _make(np.stack([r._data for r in rows], 0).reshape(full))


def jacobian(func, inputs, create_graph: bool = False, strict: bool = False,
             vectorize: bool = False, strategy: str = "reverse-mode"):
    """The Jacobian of ``func`` at ``inputs``.

    Args:
        func: a Python function taking Tensors and returning a Tensor or a tuple of Tensors.
        inputs: a Tensor or a tuple of Tensors.
        create_graph: make the Jacobian differentiable (used by ``hessian``).
        strict: raise when an output does not depend on some input, instead of using zeros.
        vectorize: accepted for PyTorch compatibility; the rows are always computed one by
            one here.
        strategy: ``"reverse-mode"`` (one vjp per output element, the default) or
            ``"forward-mode"`` (one jvp per input element; cheaper when the inputs are
            smaller than the outputs).

    Returns:
        For output ``i`` and input ``j``, a Tensor of shape ``out_i.shape + in_j.shape``.
        With a single input and a single output that Tensor itself; with a tuple on one side
        a tuple over it; with tuples on both sides ``jac[i][j]`` (a tuple of tuples).

    Raises:
        ValueError: for an unknown ``strategy``.
        RuntimeError: in strict mode, when an output is independent of an input.
    """
    if strategy not in ("reverse-mode", "forward-mode"):
        raise ValueError(
            f'Expected strategy to be either "forward-mode" or "reverse-mode", got {strategy!r}'
        )
    _ = vectorize
    with enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")
        inputs = _grad_preprocess(inputs, create_graph=create_graph, need_graph=True)
        is_outputs_tuple, outputs = _run_func(func, inputs, "jacobian")
        _check_requires_grad(outputs, "outputs", strict=strict)
        if strategy == "forward-mode":
            jac = _jacobian_forward(outputs, inputs, create_graph, strict)
        else:
            jac = _jacobian_reverse(outputs, inputs, create_graph, strict)
    return _tuple_postprocess(jac, (is_outputs_tuple, is_inputs_tuple))


def _jacobian_reverse(outputs, inputs, create_graph, strict):
    jac = []
    for i, out in enumerate(outputs):
        per_input = [[] for _ in inputs]
        n = out.numel()
        for k in range(n):
            if out.requires_grad:
                e = _basis(out.shape, out.dtype, k)
                gs = _ag_grad([out], list(inputs), [e], retain_graph=True,
                              create_graph=create_graph, allow_unused=True)
            else:
                gs = (None,) * len(inputs)
            for j, (g, inp) in enumerate(zip(gs, inputs)):
                if g is None:
                    if strict:
                        raise RuntimeError(
                            f"Output {i} of the user-provided function is independent of "
                            f"input {j}. This is not allowed in strict mode."
                        )
                    g = _zeros_like(inp)
                per_input[j].append(g)
        row = []
        for j, inp in enumerate(inputs):
            if n == 0 and strict and not out.requires_grad:
                raise RuntimeError(
                    f"Output {i} of the user-provided function is independent of input {j}. "
                    "This is not allowed in strict mode."
                )
            t = _stack_rows(per_input[j], out.shape, inp.shape, inp.dtype, create_graph)
            row.append(t if create_graph else t.detach())
        jac.append(tuple(row))
    return tuple(jac)


def _jacobian_forward(outputs, inputs, create_graph, strict):
    # columns[i][j]: the list of J_ij e_k, one per element k of input j (shape out_i.shape)
    columns = [[[] for _ in inputs] for _ in outputs]
    for j, inp in enumerate(inputs):
        for k in range(inp.numel()):
            v = tuple(_basis(inp.shape, inp.dtype, k) if jj == j else _zeros_like(x)
                      for jj, x in enumerate(inputs))
            cols = _jvp_core(outputs, inputs, v, create_graph, strict)
            for i, c in enumerate(cols):
                columns[i][j].append(c)
    jac = []
    for i, out in enumerate(outputs):
        row = []
        for j, inp in enumerate(inputs):
            cols = columns[i][j]
            # stack along a new trailing axis: out.shape + (numel_j,), then unflatten
            full = tuple(out.shape) + tuple(inp.shape)
            if not cols:
                t = _make(np.zeros(full, dtype=inp.dtype))
            elif create_graph and any(c.requires_grad for c in cols):
                        t = reshape(stack(list(cols), -1), full)
            else:
                t = _make(np.stack([c._data for c in cols], -1).reshape(full))
            row.append(t if create_graph else t.detach())
        jac.append(tuple(row))
    return tuple(jac)


def hessian(func, inputs, create_graph: bool = False, strict: bool = False,
            vectorize: bool = False, outer_jacobian_strategy: str = "reverse-mode"):
    """The Hessian of the scalar function ``func`` at ``inputs``.

    Args:
        func: a Python function taking Tensors and returning a one-element Tensor.
        inputs: a Tensor or a tuple of Tensors.
        create_graph: make the Hessian differentiable.
        strict: raise when the Hessian (or the gradient) is independent of an input, e.g.
            for a linear function, instead of returning zeros.
        vectorize: accepted for PyTorch compatibility.
        outer_jacobian_strategy: the ``strategy`` of the outer Jacobian (of the gradient).

    Returns:
        A Tensor of shape ``in.shape + in.shape`` for a single input; for a tuple of inputs,
        a tuple of tuples where ``H[i][j]`` has shape ``in_i.shape + in_j.shape``.

    Raises:
        RuntimeError: when ``func`` does not return a single one-element Tensor, or in strict
            mode as described above.
    """
    is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "hessian")

    def ensure_single_output_function(*inp):
        out = func(*inp)
        is_out_tuple, t_out = _as_tuple(out, "outputs of the user-provided function",
                                        "hessian")
        _check_requires_grad(t_out, "outputs", strict=strict)
        if is_out_tuple or not isinstance(out, Tensor):
            raise RuntimeError(
                "The function given to hessian should return a single Tensor"
            )
        if out.numel() != 1:
            raise RuntimeError(
                "The Tensor returned by the function given to hessian should contain a single "
                f"element, got shape {tuple(out.shape)}"
            )
        return out.reshape(())

    def jac_func(*inp):
        jac = jacobian(ensure_single_output_function, inp, create_graph=True)
        _check_requires_grad(jac, "jacobian", strict=strict)
        return jac

    res = jacobian(jac_func, inputs, create_graph=create_graph, strict=strict,
                   vectorize=vectorize, strategy=outer_jacobian_strategy)
    return _tuple_postprocess(res, (is_inputs_tuple, is_inputs_tuple))


def vhp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """Vector-Hessian product ``v^T H`` of the scalar function ``func`` at ``inputs``.

    Args:
        func: a Python function taking Tensors and returning a one-element Tensor.
        inputs: a Tensor or a tuple of Tensors.
        v: the vector(s), shaped like ``inputs``; may be omitted for one one-element input.
        create_graph: make the results differentiable.
        strict: raise instead of returning zeros when the product is independent of an
            input.

    Returns:
        ``(func_output, vhp)`` with ``vhp`` structured like ``inputs``.

    Raises:
        RuntimeError: when ``func`` does not return a single one-element Tensor, when ``v``
            is missing or mis-shaped, or in strict mode.
    """
    with enable_grad():
        is_inputs_tuple, inputs, outputs, v = _hess_setup(func, inputs, v, create_graph,
                                                          strict, "vhp")
        jac = _autograd_grad(outputs, inputs, create_graph=True)
        _check_requires_grad(jac, "jacobian", strict=strict)
        grad_res = _autograd_grad(jac, inputs, v, create_graph=create_graph)
        res = _fill_in_zeros(grad_res, inputs, strict, create_graph, "double_back")
    outputs = _grad_postprocess(outputs, create_graph)
    res = _grad_postprocess(res, create_graph)
    return _tuple_postprocess(outputs, False), _tuple_postprocess(res, is_inputs_tuple)


def hvp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """Hessian-vector product ``H v`` of the scalar function ``func`` at ``inputs``.

    Uses the double-backward trick on the gradient ``g(x)``: with a dummy ``u``,
    ``w(u) = (dg/dx)^T u`` is linear in ``u``, and its vjp with ``v`` is ``H v``. (For a
    twice continuously differentiable ``func`` the Hessian is symmetric and ``hvp`` equals
    ``vhp``; ``vhp`` is cheaper.)

    Args:
        func: a Python function taking Tensors and returning a one-element Tensor.
        inputs: a Tensor or a tuple of Tensors.
        v: the vector(s), shaped like ``inputs``; may be omitted for one one-element input.
        create_graph: make the results differentiable.
        strict: raise instead of returning zeros when the product is independent of an
            input.

    Returns:
        ``(func_output, hvp)`` with ``hvp`` structured like ``inputs``.

    Raises:
        RuntimeError: when ``func`` does not return a single one-element Tensor, when ``v``
            is missing or mis-shaped, or in strict mode.
    """
    with enable_grad():
        is_inputs_tuple, inputs, outputs, v = _hess_setup(func, inputs, v, create_graph,
                                                          strict, "hvp")
        jac = _autograd_grad(outputs, inputs, create_graph=True)
        _check_requires_grad(jac, "jacobian", strict=strict)
        grad_jac = tuple(_zeros_like(inp).requires_grad_(True) for inp in inputs)
        double_back = _autograd_grad(jac, inputs, grad_jac, create_graph=True)
        _check_requires_grad(jac, "hessian", strict=strict)
        grad_res = _autograd_grad(double_back, grad_jac, v, create_graph=create_graph)
        res = _fill_in_zeros(grad_res, inputs, strict, create_graph, "double_back_trick")
    outputs = _grad_postprocess(outputs, create_graph)
    res = _grad_postprocess(res, create_graph)
    return _tuple_postprocess(outputs, False), _tuple_postprocess(res, is_inputs_tuple)


def _hess_setup(func, inputs, v, create_graph, strict, name):
    is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", name)
    inputs = _grad_preprocess(inputs, create_graph=create_graph, need_graph=True)
    if v is not None:
        v = _preprocess_v(v, create_graph)
        _validate_v(v, inputs, is_inputs_tuple)
    elif len(inputs) != 1 or inputs[0].numel() != 1:
        raise RuntimeError(
            "The vector v can only be None if the input to the user-provided function is a "
            "single Tensor with a single element."
        )
    outputs = func(*inputs)
    is_outputs_tuple, outputs = _as_tuple(outputs, "outputs of the user-provided function",
                                          name)
    _check_requires_grad(outputs, "outputs", strict=strict)
    if is_outputs_tuple or not isinstance(outputs[0], Tensor):
        raise RuntimeError(f"The function given to {name} should return a single Tensor")
    if outputs[0].numel() != 1:
        raise RuntimeError(
            f"The Tensor returned by the function given to {name} should contain a single "
            f"element, got shape {tuple(outputs[0].shape)}"
        )
    return is_inputs_tuple, inputs, outputs, v


# ---- JAX-style transform --------------------------------------------------------------------

def _to_tensor(x) -> Tensor:
    if isinstance(x, Tensor):
        return x
    if isinstance(x, np.ndarray):
        return tensor(x)
    if isinstance(x, numbers.Number) and not isinstance(x, bool):
        return tensor(float(x))
    return tensor(x)


def _detach_tree(x):
    if isinstance(x, Tensor):
        return x.detach()
    if isinstance(x, tuple) and hasattr(x, "_fields"):  # namedtuple
        return type(x)(*(_detach_tree(e) for e in x))
    if isinstance(x, (list, tuple)):
        return type(x)(_detach_tree(e) for e in x)
    if isinstance(x, dict):
        return {k: _detach_tree(e) for k, e in x.items()}
    return x


def _reaches_outside(out: Tensor, diff) -> bool:
    """True when the graph of ``out`` reaches a tensor requiring grad other than ``diff``."""
    mine = {id(t) for t in diff}
    if out.grad_fn is None:
        return out.requires_grad and id(out) not in mine
    seen = set()
    stack = [out.grad_fn]
    while stack:
        n = stack.pop()
        if id(n) in seen:
            continue
        seen.add(id(n))
        for e in n.next_edges:
            if e is None:
                continue
            c = e[0]
            if c.__class__ is not AccumulateGrad:
                stack.append(c)
            elif id(c.variable) not in mine:
                return True
    return False


def grad(fn, argnums=0, has_aux: bool = False):
    """JAX-style gradient transform: ``grad(f)(x)`` is the gradient of the scalar ``f`` at x.

    Args:
        fn: a Python function returning a one-element Tensor (or ``(value, aux)`` when
            ``has_aux``).
        argnums: which positional argument(s) to differentiate with respect to: an int, or
            a tuple of ints for a tuple of gradients.
        has_aux: ``fn`` returns a pair ``(value, aux)``; the returned function then returns
            ``(gradient, aux)``.

    Returns:
        A function with the signature of ``fn`` returning the gradient(s) as Tensors, shaped
        like the differentiated arguments. Arguments may be Tensors, NumPy arrays or Python
        numbers (converted with ``autograd.tensor``; Python floats give float32). Arguments
        that do not influence the value get zero gradients.

        Gradients are detached, except when the value also depends on tensors that require
        grad from outside the call (an argument that already requires grad, as inside an
        outer ``grad``, or a tensor captured by a closure): then the gradient is computed
        with ``create_graph=True`` so transforms compose, e.g. ``grad(grad(f))``.

    Raises:
        TypeError: for a non-integer ``argnums``, or when ``fn`` does not return a Tensor.
        RuntimeError: when the value is not a one-element Tensor.

    Example:
        >>> df = grad(lambda x: (x ** 3).sum())
        >>> df(ag.tensor([1.0, 2.0]))
        tensor([ 3., 12.])
    """
    single = isinstance(argnums, numbers.Integral)
    nums = (argnums,) if single else tuple(argnums)
    if not nums or not all(isinstance(a, numbers.Integral) for a in nums):
        raise TypeError(f"grad: argnums must be an int or a non-empty tuple of ints, got "
                        f"{argnums!r}")

    def grad_fn(*args, **kwargs):
        args = list(args)
        n = len(args)
        idx = []
        for a in nums:
            if not -n <= a < n:
                raise IndexError(f"grad: argnums {a} is out of range for {n} positional "
                                 "arguments")
            idx.append(a % n)
        enabled = is_grad_enabled()
        diff = []
        for i in idx:
            t = _to_tensor(args[i])
            if t.dtype.kind not in "fcV":
                raise TypeError(
                    f"grad: argument {i} has dtype {t.dtype}; only floating point arguments "
                    "can be differentiated"
                )
            if enabled and t.requires_grad:
                t = t.view_as(t)  # stays connected to an enclosing computation
            else:
                t = t.detach().requires_grad_(True)
            args[i] = t
            diff.append(t)
        with enable_grad():
            out = fn(*args, **kwargs)
            aux = None
            if has_aux:
                if not (isinstance(out, (tuple, list)) and len(out) == 2):
                    raise TypeError(
                        "grad(has_aux=True): the function must return a pair (value, aux)"
                    )
                out, aux = out
            if not isinstance(out, Tensor):
                raise TypeError(
                    f"grad: the function must return a Tensor, got {type(out).__name__}"
                )
            if out.numel() != 1:
                raise RuntimeError(
                    f"grad: the function must return a scalar (one-element) Tensor, got shape "
                    f"{tuple(out.shape)}; reduce it first, e.g. with .sum()"
                )
            # keep the graph of the gradient when the value also depends on tensors from
            # outside that require grad (an enclosing grad, a closure): transforms compose
            create_graph = enabled and _reaches_outside(out, diff)
            if out.requires_grad:
                gs = _ag_grad([out], diff, create_graph=create_graph, allow_unused=True)
            else:
                gs = (None,) * len(diff)
        gs = tuple(_zeros_like(t) if g is None else (g if create_graph else g.detach())
                   for g, t in zip(gs, diff))
        res = gs[0] if single else gs
        if has_aux:
            return res, (aux if create_graph else _detach_tree(aux))
        return res

    grad_fn.__name__ = f"grad_{getattr(fn, '__name__', 'fn')}"
    grad_fn.__doc__ = f"Gradient of {getattr(fn, '__name__', 'fn')} (autograd.functional.grad)."
    return grad_fn
