"""Function transforms (PyTorch's ``torch.func``): ``grad``, ``grad_and_value``, ``vjp``,
``jvp``, ``jacrev``, ``jacfwd``, ``hessian``, ``functional_call``, ``stack_module_state`` and
``vmap``.

Each transform takes a function of tensors and returns a function. They compose the way
``torch.func`` transforms do for the cases that matter in practice:

* ``grad(grad(f))``, ``jacrev(grad(f))``: reverse over reverse (the inner one records its
  backward pass when its input takes part in an outer graph);
* ``hessian(f) = jacfwd(jacrev(f))``: forward over reverse (``autograd.forward_ad``);
* ``vmap(grad(loss), in_dims=(None, 0, 0))``: per-sample gradients in one batched pass
  (see ``vmap`` and ``autograd/vmap.py``);
* ``vmap(vmap(f))``, ``vmap(jacrev(f))``.

``jvp`` is true forward mode (one forward pass with tangents); ``jacfwd`` is one forward pass
per input element, ``jacrev`` one backward pass per output element.
"""

from __future__ import annotations

from contextlib import contextmanager

from . import forward_ad as fwAD
from .backend import get_array_module
from .engine import grad as _ag_grad
from .grad_mode import state
from .ops.shape import reshape, stack
from .tensor import Tensor, _make, zeros_like
from .vmap import BatchedTensor, _current_vmap, vmap

__all__ = ["grad", "grad_and_value", "vjp", "jvp", "jacrev", "jacfwd", "hessian",
           "functional_call", "stack_module_state", "vmap"]


def _tuple_argnums(argnums, n):
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    for a in nums:
        if not -n <= a < n:
            raise ValueError(f"argnums {argnums!r} out of range for {n} positional arguments")
    return tuple(a % n for a in nums)


def _flatten(tree):
    """(leaves, rebuild): the Tensors of a dict / list / tuple nest, and a function that
    rebuilds the same nest from new leaves."""
    if isinstance(tree, dict):
        keys = list(tree)
        parts = [_flatten(tree[k]) for k in keys]
        counts = [len(p[0]) for p in parts]

        def rebuild(leaves):
            out, i = {}, 0
            for k, (_, rb), n in zip(keys, parts, counts):
                out[k] = rb(leaves[i:i + n])
                i += n
            return type(tree)(out) if type(tree) is not dict else out

        return [leaf for p in parts for leaf in p[0]], rebuild
    if isinstance(tree, (list, tuple)):
        parts = [_flatten(t) for t in tree]
        counts = [len(p[0]) for p in parts]

        def rebuild(leaves):
            out, i = [], 0
            for (_, rb), n in zip(parts, counts):
                out.append(rb(leaves[i:i + n]))
                i += n
            return type(tree)(out) if isinstance(tree, tuple) else out

        return [leaf for p in parts for leaf in p[0]], rebuild
    return [tree], lambda leaves: leaves[0]


def _detach_tree(tree):
    """``tree`` (a has_aux output) with its Tensors detached: what a transform returns
    besides its result carries no graph of the transform's own inputs, as in PyTorch."""
    leaves, rebuild = _flatten(tree)
    out = []
    for x in leaves:
        if isinstance(x, BatchedTensor):
            x = BatchedTensor(x._phys.detach(), x._level)
        elif isinstance(x, Tensor):
            x = x.detach()
        out.append(x)
    return rebuild(out)


def _connected_input(x: Tensor) -> Tensor:
    """A tensor equal to ``x`` that requires grad: a view of ``x`` when ``x`` is part of an
    outer graph (so outer transforms can differentiate through), else a new leaf. A forward
    AD tangent of ``x`` is kept."""
    if not isinstance(x, Tensor):
        raise TypeError(f"grad: expected Tensor arguments to differentiate, got "
                        f"{type(x).__name__}")
    if x._rg:
        return reshape(x, tuple(x.shape))  # recorded (and, under dual_level, carries x's tangent)
    y = _make(x._data, None, True)
    fw = x.__dict__.get("_fw")
    if fw is not None:
        y._fw = fw
    return y


def _nested(xs) -> bool:
    """Whether the gradient must itself be differentiable (an outer transform watches)."""
    return any(x._rg or x.__dict__.get("_fw") is not None for x in xs)


def grad_and_value(func, argnums=0, has_aux: bool = False):
    """``func``'s gradient with respect to argument(s) ``argnums`` and its value:
    ``grad_and_value(f)(*args) -> (grad, value)`` (``((grad, (value, aux))`` with
    ``has_aux``). ``func`` must return a one-element tensor."""

    def wrapper(*args, **kwargs):
        nums = _tuple_argnums(argnums, len(args))
        vm = _current_vmap()
        if vm is not None and any(isinstance(leaf, BatchedTensor) and leaf._level == vm.level
                                  for a in args for leaf in _flatten(a)[0]):
            return _vmapped_grad(func, vm, args, kwargs, nums, argnums, has_aux)
        args = list(args)
        trees = [_flatten(args[i]) for i in nums]
        outer = _nested([leaf for lv, _ in trees for leaf in lv])
        ins = []
        for i, (lv, rb) in zip(nums, trees):
            new = [_connected_input(leaf) for leaf in lv]
            ins.extend(new)
            args[i] = rb(new)
        with _grad_on():
            out = func(*args, **kwargs)
        aux = None
        if has_aux:
            out, aux = out
            aux = aux if outer else _detach_tree(aux)
        if not isinstance(out, Tensor) or out.numel() != 1:
            raise RuntimeError(
                f"grad: the function must return a one-element Tensor, got "
                f"{type(out).__name__}{tuple(getattr(out, 'shape', ()))}; use jacrev or vjp "
                "for other outputs"
            )
        if out._rg:
            gs = _ag_grad(out, ins, create_graph=outer, allow_unused=True)
        else:
            gs = (None,) * len(ins)
        gs = [zeros_like(x) if g is None else g for g, x in zip(gs, ins)]
        res, k = [], 0
        for lv, rb in trees:
            res.append(rb(gs[k:k + len(lv)]))
            k += len(lv)
        g = res[0] if isinstance(argnums, int) else tuple(res)
        value = out if outer else out.detach()
        return (g, (value, aux)) if has_aux else (g, value)

    return wrapper


def grad(func, argnums=0, has_aux: bool = False):
    """``grad(f)(*args)``: the gradient of the scalar ``f(*args)`` with respect to argument
    ``argnums`` (a tuple of them for a tuple of gradients), as ``torch.func.grad``."""
    gv = grad_and_value(func, argnums, has_aux)

    def wrapper(*args, **kwargs):
        g, v = gv(*args, **kwargs)
        return (g, v[1]) if has_aux else g

    return wrapper


@contextmanager
def _grad_on():
    prev = state.enabled
    state.enabled = True
    try:
        yield
    finally:
        state.enabled = prev


def _vmapped_grad(func, vm, args, kwargs, nums, argnums, has_aux):
    """``grad`` directly inside ``vmap``: each sample's function depends only on its own
    slice, so the gradient of the sum over the batch with respect to batch-expanded
    inputs is the batch of per-sample gradients (one backward pass for all samples)."""
    args = list(args)
    leaves = []
    trees = [_flatten(args[i]) for i in nums]
    for i, (lv, rb) in zip(nums, trees):
        new = []
        for a in lv:
            if isinstance(a, BatchedTensor) and a._level == vm.level:
                phys = a._phys
            else:
                phys = _expand(a, vm.size)
            leaf = _make(phys._data, None, True)
            leaves.append(leaf)
            new.append(BatchedTensor(leaf, vm.level))
        args[i] = rb(new)
    with _grad_on():
        out = func(*args, **kwargs)
    aux = None
    if has_aux:
        out, aux = out
        aux = _detach_tree(aux)
    if not isinstance(out, BatchedTensor):
        raise RuntimeError("grad inside vmap: the function's output does not depend on the "
                           "batched inputs")
    phys_out = out._phys
    if phys_out._rg:
        total = phys_out.sum()
        gs = _ag_grad(total, leaves, allow_unused=True)
    else:
        gs = (None,) * len(leaves)
    gs = [BatchedTensor(zeros_like(lf) if g is None else g, vm.level)
          for g, lf in zip(gs, leaves)]
    res, k = [], 0
    for lv, rb in trees:
        res.append(rb(gs[k:k + len(lv)]))
        k += len(lv)
    g = res[0] if isinstance(argnums, int) else tuple(res)
    value = BatchedTensor(phys_out.detach(), vm.level)
    return (g, (value, aux)) if has_aux else (g, value)


def _expand(a: Tensor, size: int) -> Tensor:
    """``a`` repeated ``size`` times along a new dim 0 (a read-only broadcast view)."""
    d = a._data
    xp = get_array_module(d)
    return _make(xp.broadcast_to(d, (size,) + tuple(d.shape)))  # a view: no copy


def vjp(func, *primals, has_aux: bool = False):
    """``(output, vjp_fn)``: ``vjp_fn(cotangent)`` returns the tuple of the gradients of
    ``<output, cotangent>`` with respect to ``primals`` (as ``torch.func.vjp``)."""
    outer = _nested(primals)
    ins = [_connected_input(p) for p in primals]
    with _grad_on():
        out = func(*ins)
    aux = None
    if has_aux:
        out, aux = out
        aux = aux if outer else _detach_tree(aux)
    outs = out if isinstance(out, (tuple, list)) else (out,)

    def vjp_fn(*cotangents):
        cts = cotangents[0] if len(cotangents) == 1 and isinstance(out, (tuple, list)) \
            else cotangents
        roots, gos = [], []
        for o, c in zip(outs, cts):
            if isinstance(o, Tensor) and o._rg:
                roots.append(o)
                gos.append(c)
        if not roots:
            return tuple(zeros_like(x) for x in ins)
        vm = _current_vmap()
        if vm is not None and any(isinstance(c, BatchedTensor) and c._level == vm.level
                                  for c in gos):
            # vmap(vjp_fn)(cotangents): the graph was recorded outside this vmap, so run it
            # backwards once per cotangent of the batch (is_grads_batched)
            phys = [c._phys if isinstance(c, BatchedTensor) and c._level == vm.level
                    else _expand(c, vm.size) for c in gos]
            gs = _ag_grad(roots, ins, grad_outputs=phys, retain_graph=True,
                          create_graph=outer or _nested(phys), is_grads_batched=True,
                          materialize_grads=True)
            return tuple(BatchedTensor(g, vm.level) for g in gs)
        gs = _ag_grad(roots, ins, grad_outputs=gos, retain_graph=True,
                      create_graph=outer or _nested(gos), allow_unused=True)
        return tuple(zeros_like(x) if g is None else g for g, x in zip(gs, ins))

    res = out if outer else (tuple(o.detach() for o in outs) if isinstance(out, (tuple, list))
                             else out.detach())
    return (res, vjp_fn, aux) if has_aux else (res, vjp_fn)


def jvp(func, primals, tangents, *, has_aux: bool = False):
    """``(output, jvp_out)``: the Jacobian of ``func`` at ``primals`` times ``tangents``,
    computed in forward mode in the same pass as the output (``torch.func.jvp``)."""
    primals = tuple(primals)
    tangents = tuple(tangents)
    if len(primals) != len(tangents):
        raise RuntimeError(f"jvp: got {len(primals)} primals but {len(tangents)} tangents")
    with fwAD.dual_level():
        duals = [fwAD.make_dual(p, t) for p, t in zip(primals, tangents)]
        out = func(*duals)
        aux = None
        if has_aux:
            out, aux = out
        outs = out if isinstance(out, (tuple, list)) else (out,)
        res = []
        for o in outs:
            p, t = fwAD.unpack_dual(o)
            res.append((p, zeros_like(o) if t is None else t))
    if isinstance(out, (tuple, list)):
        r = (tuple(p for p, _ in res), tuple(t for _, t in res))
    else:
        r = res[0]
    return (r[0], r[1], aux) if has_aux else r


def jacrev(func, argnums=0, *, has_aux: bool = False):
    """The Jacobian of ``func`` with respect to argument(s) ``argnums`` by reverse mode, one
    backward pass per output element: shape ``out.shape + arg.shape``."""

    def wrapper(*args):
        nums = _tuple_argnums(argnums, len(args))
        vm = _current_vmap()
        if vm is not None and any(isinstance(args[i], BatchedTensor) and
                                  args[i]._level == vm.level for i in range(len(args))):
            return _vmapped_jacrev(func, vm, args, nums, argnums, has_aux)
        args = list(args)
        outer = _nested([args[i] for i in nums])
        ins = []
        for i in nums:
            args[i] = _connected_input(args[i])
            ins.append(args[i])
        with _grad_on():
            out = func(*args)
        aux = None
        if has_aux:
            out, aux = out
            aux = aux if outer else _detach_tree(aux)
        flat = reshape(out, (-1,))
        rows = [[] for _ in ins]
        n = flat.shape[0]
        for k in range(n):
            if flat._rg:
                gs = _ag_grad(flat[k], ins, retain_graph=True, create_graph=outer,
                              allow_unused=True)
            else:
                gs = (None,) * len(ins)
            for j, (g, x) in enumerate(zip(gs, ins)):
                rows[j].append(zeros_like(x) if g is None else g)
        jacs = tuple(reshape(stack(r, 0), tuple(out.shape) + tuple(x.shape)) if r else
                     reshape(zeros_like(x), (0,) + tuple(x.shape)) for r, x in zip(rows, ins))
        if not outer:
            jacs = tuple(j.detach() for j in jacs)
        res = jacs[0] if isinstance(argnums, int) else jacs
        return (res, aux) if has_aux else res

    return wrapper


def _vmapped_jacrev(func, vm, args, nums, argnums, has_aux):
    """``jacrev`` directly inside ``vmap``: row k of every sample's Jacobian is the gradient
    of the sum over the batch of output element k (samples are independent), so each row
    costs one backward pass for the whole batch."""
    args = list(args)
    leaves = []
    for i in nums:
        a = args[i]
        phys = a._phys if isinstance(a, BatchedTensor) and a._level == vm.level else \
            _expand(a, vm.size)
        leaf = _make(phys._data, None, True)
        leaves.append(leaf)
        args[i] = BatchedTensor(leaf, vm.level)
    with _grad_on():
        out = func(*args)
    aux = None
    if has_aux:
        out, aux = out
        aux = _detach_tree(aux)
    if not isinstance(out, BatchedTensor) or out._level != vm.level:
        raise RuntimeError("jacrev inside vmap: the function's output does not depend on the "
                           "batched inputs")
    po = out._phys  # (B, *out_shape)
    flat = reshape(po, (vm.size, -1))
    rows = [[] for _ in leaves]
    for k in range(flat.shape[1]):
        gs = _ag_grad(flat[:, k].sum(), leaves, retain_graph=True, allow_unused=True) \
            if flat._rg else (None,) * len(leaves)
        for j, (g, lf) in enumerate(zip(gs, leaves)):
            rows[j].append(zeros_like(lf) if g is None else g)
    out_shape = tuple(po.shape[1:])
    jacs = tuple(BatchedTensor(reshape(stack(r, 1), (vm.size,) + out_shape +
                                       tuple(lf.shape[1:])), vm.level)
                 for r, lf in zip(rows, leaves))
    res = jacs[0] if isinstance(argnums, int) else jacs
    return (res, aux) if has_aux else res


def jacfwd(func, argnums=0, *, has_aux: bool = False):
    """The Jacobian of ``func`` with respect to argument(s) ``argnums`` by forward mode, one
    forward pass per input element: shape ``out.shape + arg.shape``."""

    def wrapper(*args):
        nums = _tuple_argnums(argnums, len(args))
        jacs = []
        aux = None
        for i in nums:
            x = args[i]

            def f_i(xi, _i=i):
                return func(*args[:_i], xi, *args[_i + 1:])

            cols = []
            out_shape = None
            for k in range(x.numel()):
                e = zeros_like(x).detach()
                e._data.reshape(-1)[k] = 1  # the k-th basis vector (a fresh array)
                res = jvp(f_i, (x,), (e,), has_aux=has_aux)
                if has_aux:
                    aux = res[2]
                out_shape = tuple(res[0].shape)
                cols.append(reshape(res[1], (-1,)))
            if cols:
                jac = reshape(stack(cols, 1), out_shape + tuple(x.shape))
            else:  # an empty input: an empty Jacobian
                out = func(*args)
                out = out[0] if has_aux else out
                jac = reshape(zeros_like(out), tuple(out.shape) + tuple(x.shape))
            jacs.append(jac)
        res = jacs[0] if isinstance(argnums, int) else tuple(jacs)
        return (res, aux) if has_aux else res

    return wrapper


def hessian(func, argnums=0):
    """The Hessian of the scalar ``func``: ``jacfwd(jacrev(func))`` (forward over reverse),
    shape ``arg.shape + arg.shape``."""
    return jacfwd(jacrev(func, argnums), argnums)


def functional_call(module, parameter_and_buffer_dicts, args=(), kwargs=None, *,
                    tie_weights: bool = True, strict: bool = False):
    """Call ``module(*args, **kwargs)`` with its parameters and buffers replaced by the
    tensors in ``parameter_and_buffer_dicts`` (a dict of dotted names, or a tuple of
    dicts), restoring them afterwards (``torch.func.functional_call``)."""
    dicts = parameter_and_buffer_dicts
    if isinstance(dicts, (tuple, list)):
        merged = {}
        for d in dicts:
            for k, v in d.items():
                if k in merged:
                    raise ValueError(f"functional_call: {k!r} appears in several dicts")
                merged[k] = v
    else:
        merged = dict(dicts)
    if not isinstance(args, tuple):
        args = (args,)
    # every name of a tied tensor is a key (PyTorch's functional_call unties them)
    known = ({n for n, _ in module.named_parameters(remove_duplicate=False)}
             | {n for n, _ in module.named_buffers(remove_duplicate=False)})
    if strict:
        missing = known - set(merged)
        unexpected = set(merged) - known
        if missing or unexpected:
            raise RuntimeError(f"functional_call: missing keys {sorted(missing)}, unexpected "
                               f"keys {sorted(unexpected)}")
    saved = []
    try:
        for name, value in merged.items():
            mod = module
            *path, leaf = name.split(".")
            for p in path:
                mod = getattr(mod, p)
            for table in ("_parameters", "_buffers"):
                d = mod.__dict__[table]
                if leaf in d:
                    saved.append((d, leaf, d[leaf]))
                    d[leaf] = value
                    break
            else:
                raise AttributeError(f"functional_call: {type(module).__name__} has no "
                                     f"parameter or buffer {name!r}")
        return module(*args, **(kwargs or {}))
    finally:
        for d, leaf, old in reversed(saved):
            d[leaf] = old


def stack_module_state(models):
    """``(params, buffers)``: the parameters and buffers of ``models`` (instances of one
    class, all in train or all in eval mode) stacked along a new leading dim, by name
    (``torch.func.stack_module_state``). Model ensembling runs them all at once with
    ``vmap(lambda p, b, x: functional_call(model, (p, b), (x,)))(params, buffers, x)``.

    The stacked parameters are new leaves (they require grad when the originals do, and
    share no memory with them), so an optimizer can train the ensemble directly."""
    models = list(models)
    if not models:
        raise RuntimeError("stack_module_state: Expected at least one model, got 0.")
    if len({m.training for m in models}) > 1:
        raise RuntimeError("stack_module_state: Expected all models to have the same "
                           "training/eval mode.")
    if len({type(m) for m in models}) > 1:
        raise RuntimeError("stack_module_state: Expected all models to be of the same class.")

    def stacked(tensors, name):
        rg = {t.requires_grad for t in tensors}
        if len(rg) > 1:
            raise RuntimeError(f"Expected {name} from each model to have the same "
                               ".requires_grad")
        out = stack(list(tensors)).detach()
        return out.requires_grad_() if rg == {True} else out

    all_params = [dict(m.named_parameters()) for m in models]
    all_buffers = [dict(m.named_buffers()) for m in models]
    params = {k: stacked([p[k] for p in all_params], k) for k in all_params[0]}
    buffers = {k: stacked([b[k] for b in all_buffers], k) for k in all_buffers[0]}
    return params, buffers
