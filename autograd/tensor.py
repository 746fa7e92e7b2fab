"""The Tensor: an xp array plus what autograd needs (``grad_fn``, ``requires_grad``, ``grad``).

A Tensor made by an op holds its ``grad_fn`` node; the node holds edges to its inputs'
producers, never its outputs (see ``function.py``). In-place ops bump a version counter
shared by a tensor and its views; a node records the version of every tensor it saved and
backward refuses to use a saved tensor whose version moved on.
"""

from __future__ import annotations

import builtins
import functools
import numbers
import warnings
import weakref

import numpy as np

from . import _tensor_str, backend
from . import dtypes as _dt
from . import hooks as _hooks
from ._numeric import fma as _fma
from .backend import CPU, Device, device_of, get_array_module, lock, parse_device, unlock
from .grad_mode import no_grad, state
from .random import Generator, _gen_for, draw_like


def _make(data, grad_fn=None, requires_grad=False, nr=0):
    """Internal fast constructor (no checks)."""
    t = _new(Tensor)
    t._data = data
    t.grad_fn = grad_fn
    t._rg = requires_grad
    t._vc = [0]
    t._saved_by = None  # weakref to the last node that saved our array
    if nr:
        t._nr = nr
    return t


_new = object.__new__

# PyTorch warns once per process on float() of a tensor that requires grad (TORCH_WARN_ONCE)
_scalar_warned = False


def _warn_scalar_requires_grad() -> None:
    global _scalar_warned
    if not _scalar_warned:
        _scalar_warned = True
        warnings.warn("Converting a tensor with requires_grad=True to a scalar may lead to "
                      "unexpected behavior.\nConsider using tensor.detach() first.",
                      UserWarning, stacklevel=3)


class _Lock:
    """Owns the read-only flag set on some saved arrays; restores it when dropped."""

    __slots__ = ("arrays",)

    def __init__(self):
        self.arrays = []

    def add(self, a) -> None:
        # Lock the array and every array it views, so writes through the user's handle fail.
        while a is not None and hasattr(a, "flags"):
            if lock(a):
                self.arrays.append(a)
            a = a.base

    def __del__(self):
        for a in self.arrays:
            unlock(a)


def complex_grad_message(t, op: str | None = None) -> str:
    """Why a complex tensor cannot be part of a graph here."""
    where = f"{op}: " if op else ""
    return (f"{where}gradients of complex tensors are not supported by this engine (PyTorch's "
            f"Wirtinger calculus is not implemented): a tensor of dtype "
            f"{_dt.dtype.of(t.dtype)} and shape {tuple(t.shape)} cannot require gradients. "
            "Differentiate real tensors instead (e.g. keep the real and imaginary parts as "
            "two real tensors).")


def _is_float(dtype) -> bool:
    return dtype.kind in "fcV"


class Size(tuple):
    """A shape, as PyTorch's ``torch.Size`` (what ``Tensor.shape`` and ``size()`` return): a
    tuple of ints with ``numel()``, printed ``torch.Size([2, 3])`` as PyTorch prints it."""

    __slots__ = ()

    def numel(self) -> int:
        n = 1
        for s in self:
            n *= s
        return n

    def __getitem__(self, i):
        out = tuple.__getitem__(self, i)
        return Size(out) if isinstance(i, slice) else out

    def __add__(self, other):
        return Size(tuple.__add__(self, tuple(other)))

    def __radd__(self, other):
        return Size(tuple.__add__(tuple(other), self))

    def __repr__(self) -> str:
        return f"torch.Size({list(self)})"


SAME_DTYPE = object()  # Tensor.grad_dtype's default: gradients keep the tensor's dtype


class Tensor:
    """A multi-dimensional array that records the operations applied to it.

    Create tensors with ``ag.tensor``, ``ag.zeros``, ``ag.randn``..., not with this class.
    """

    __slots__ = ("_data", "grad_fn", "_rg", "_vc", "_saved_by", "__dict__", "__weakref__")
    __array_priority__ = 1000

    # rarely set attributes: class-level defaults, stored per instance only when set
    _grad = None  # .grad (the property below checks what is assigned)
    _nr = 0  # which output of grad_fn this tensor is
    _exposed = False  # the user may hold a raw handle to our array
    _hooks = None  # leaf hooks
    _retains_grad = False
    _base = None  # for views made by basic indexing: the tensor viewed
    _view_index = None
    _name = None
    _acc = None  # leaves: weakref to their AccumulateGrad node while a graph uses them
    _post_acc_hooks = None  # leaves: hooks run after .grad was accumulated
    _grad_dtype = SAME_DTYPE  # leaves: the dtype .grad is cast to (default: self.dtype)

    @property
    def grad(self):
        """The gradient accumulated by backward (None until one reached this tensor). A
        non-leaf keeps none unless ``retain_grad()``; reading it then warns, as PyTorch."""
        g = self._grad
        if g is None and self.grad_fn is not None and not self._retains_grad:
            warnings.warn(_NONLEAF_GRAD_MSG, UserWarning, stacklevel=2)
        return g

    @grad.setter
    def grad(self, value) -> None:
        if value is not None:
            _check_grad_assign(self, value)
        self._grad = value

    @grad.deleter
    def grad(self) -> None:
        self._grad = None

    @property
    def grad_dtype(self):
        """The dtype gradients are cast to when accumulated into ``.grad`` (leaves only):
        ``self.dtype`` by default, another dtype when set, None for any dtype."""
        if self.grad_fn is not None:
            raise RuntimeError("grad_dtype can only be accessed on leaf tensors.")
        return self.dtype if self._grad_dtype is SAME_DTYPE else self._grad_dtype

    @grad_dtype.setter
    def grad_dtype(self, value) -> None:
        if self.grad_fn is not None:
            raise RuntimeError("grad_dtype can only be set on leaf tensors.")
        self._grad_dtype = None if value is None else _dt.to_dtype(value)

    @property
    def name(self):
        """An optional label, shown by ``autograd.viz`` drawings."""
        return self._name

    @name.setter
    def name(self, value) -> None:
        self._name = value
        fn = self.grad_fn
        if fn is not None:  # an intermediate: drawings label its node (outputs die early)
            _hooks.node_names.setdefault(fn, {})[self._nr] = value

    def __init__(self, *args, dtype=None, device=None, requires_grad=False):
        """PyTorch's legacy constructor: ``Tensor()`` (empty), ``Tensor(2, 3)`` (a shape,
        uninitialised) or ``Tensor(data)``, in the default float dtype unless ``dtype`` is
        given. Prefer ``autograd.tensor(data)``, which keeps the data's dtype."""
        dt = dtype if dtype is not None else _dt.get_default_dtype()
        if not args:
            t = empty(0, dtype=dt, device=device, requires_grad=requires_grad)
        elif all(isinstance(a, numbers.Integral) and not isinstance(a, bool) for a in args):
            t = empty(*args, dtype=dt, device=device, requires_grad=requires_grad)
        elif len(args) == 1:
            data = args[0]
            if isinstance(data, Tensor):
                data = data.detach()
            t = tensor(data, dtype=dt, device=device, requires_grad=requires_grad)
        else:
            raise TypeError(f"Tensor(): expected a shape (ints) or one sequence of data, got "
                            f"{args!r}")
        self._data = t._data
        self.grad_fn = None
        self._rg = t._rg
        self._vc = [0]
        self._saved_by = None

    # ---- attributes ----------------------------------------------------------------------
    @property
    def shape(self) -> Size:
        return Size(self._data.shape)

    @property
    def dtype(self) -> _dt.dtype:
        return _dt.dtype.of(self._data.dtype)

    @property
    def device(self) -> Device:
        d = self._data
        if d.__class__ is np.ndarray:
            return CPU
        return device_of(d)

    @property
    def is_cuda(self) -> bool:
        return self.device.type == "cuda"

    @property
    def volatile(self) -> bool:
        """Removed in PyTorch 0.4 (use ``no_grad``): always False, with PyTorch's warning."""
        warnings.warn("volatile was removed (Variable.volatile is always False)", UserWarning,
                      stacklevel=2)
        return False

    def is_distributed(self) -> bool:
        """False: a tensor lives in one process here."""
        return False

    # PyTorch's kinds of tensor that do not exist here: library code asks (``if x.is_sparse``)
    is_sparse = is_sparse_csr = is_quantized = is_meta = is_nested = is_mkldnn = property(
        lambda self: False)
    is_xpu = is_mps = is_ipu = is_xla = is_vulkan = is_maia = is_mtia = property(
        lambda self: False)

    @property
    def layout(self):
        """``torch.strided``: every tensor here is dense."""
        return _dt.strided

    def to_dense(self, dtype=None, *, masked_grad=None) -> Tensor:
        """The tensor itself (already dense), or converted to ``dtype``."""
        return self if dtype is None else self.to(dtype)

    @property
    def ndim(self) -> int:
        return self._data.ndim

    @property
    def requires_grad(self) -> bool:
        return self._rg

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        self.requires_grad_(value)

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    @property
    def data(self) -> Tensor:
        """A tensor sharing this one's memory, detached from the graph (PyTorch's ``.data``)."""
        t = _make(self._data)
        t._exposed = self._exposed
        t._saved_by = self._saved_by
        return t

    @data.setter
    def data(self, value) -> None:
        arr = value._data if isinstance(value, Tensor) else value
        if not hasattr(arr, "shape"):
            raise TypeError(f"Tensor.data must be set to a Tensor or an array, got {type(arr)}")
        self._data = arr

    @property
    def _version(self) -> int:
        return self._vc[0]

    @property
    def T(self) -> Tensor:
        return self.permute(*range(self.ndim - 1, -1, -1))

    @property
    def mT(self) -> Tensor:
        """The transpose of the last two dims (batches of matrices)."""
        if self.ndim < 2:
            if self.ndim == 0:  # PyTorch: the identity, deprecated
                warnings.warn("Tensor.mT is deprecated on 0-D tensors. This function is the "
                              "identity in these cases.", UserWarning, stacklevel=2)
                return self
            raise RuntimeError("tensor.mT is only supported on matrices or batches of "
                               f"matrices. Got {self.ndim}-D tensor.")
        return self.transpose(-2, -1)

    @property
    def itemsize(self) -> int:
        return self._data.itemsize

    @property
    def nbytes(self) -> int:
        return self._data.nbytes

    def size(self, dim: int | None = None):
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[dim]

    def dim(self) -> int:
        return self._data.ndim

    def numel(self) -> int:
        return int(self._data.size)

    def element_size(self) -> int:
        return self._data.itemsize

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(self.unbind(0))

    def item(self):
        if self._data.size != 1:
            raise RuntimeError(
                f"a Tensor with {self._data.size} elements cannot be converted to Scalar"
            )
        return self._data.item()

    def tolist(self):
        return backend.to_numpy(self._data).tolist()

    def numpy(self, force: bool = False) -> np.ndarray:
        """The NumPy array behind this tensor (shared memory, like PyTorch's ``numpy()``).

        While a graph holds this array for backward, it is returned read-only, so that
        writing into it raises instead of silently corrupting the gradient.
        """
        if self._rg and not force and state.enabled:  # (under no_grad PyTorch allows it)
            raise RuntimeError(
                "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() "
                "instead."
            )
        if self._data.__class__ is not np.ndarray:
            if force:
                return backend.to_numpy(self._data)
            raise TypeError(
                f"can't convert {self.device} tensor to numpy. Use Tensor.cpu() to copy the "
                "tensor to host memory first."
            )
        self._expose()
        return self._data

    def _expose(self) -> None:
        """Mark our array as visible to the user; lock it now if a live graph saved it."""
        self._exposed = True
        ref = self._saved_by
        if ref is not None:
            node = ref()
            if node is not None and not node._released:
                if node._lock is None:
                    node._lock = _Lock()
                node._lock.add(self._data)

    # -- copying and pickling ------------------------------------------------------------
    # A copy is a new leaf: the graph state (grad_fn, the AccumulateGrad node a live graph
    # reaches this leaf through, the node that saved our array, view bookkeeping) stays
    # with the original. All of it is kept in slots or in __dict__ entries that shadow a
    # class-level default, so what remains of __dict__ is the user's own attributes.

    def _user_state(self) -> dict:
        """The attributes the user set on this tensor (not the engine's bookkeeping)."""
        return {k: v for k, v in self.__dict__.items() if not hasattr(Tensor, k)}

    def __deepcopy__(self, memo):
        """``copy.deepcopy``, as PyTorch: a leaf is copied with its ``requires_grad``, its
        ``.grad`` and its attributes; a non-leaf raises a RuntimeError. The copy has a graph
        of its own (a model copied while a graph uses it does not send its gradients to the
        original)."""
        if self.grad_fn is not None:
            raise RuntimeError(
                "Only Tensors created explicitly by the user (graph leaves) support the "
                "deepcopy protocol at the moment.  If you were attempting to deepcopy a "
                "module, this may be because of a torch.nn.utils.weight_norm usage, see "
                "https://github.com/pytorch/pytorch/pull/103001")
        if id(self) in memo:
            return memo[id(self)]
        import copy
        t = _rebuild_tensor(type(self), copy.deepcopy(self._data, memo), self._rg, None)
        memo[id(self)] = t
        if self.grad is not None:
            t.grad = copy.deepcopy(self.grad, memo)
        for k, v in self._user_state().items():
            t.__dict__[k] = copy.deepcopy(v, memo)
        return t

    def __reduce_ex__(self, protocol):
        """Pickling, as PyTorch's: the data, ``requires_grad`` and the user's attributes
        travel; the graph and ``.grad`` do not (an unpickled tensor is a leaf)."""
        return (_rebuild_tensor, (type(self), self._data, self._rg, self._user_state()))

    def __repr__(self) -> str:
        """PyTorch's layout: ``tensor([1.5000, 2.0000], grad_fn=<MulBackward0>)``."""
        arr = backend.to_numpy(self._data)
        prefix = "tensor("
        body = _tensor_str.array_str(arr, len(prefix))
        suffixes = []
        if self.device.type != "cpu":
            suffixes.append(f"device='{self.device}'")
        if (arr.ndim != 1 if arr.size == 0 else not _tensor_str.PRINT_OPTS.edgeitems):
            suffixes.append(f"size={tuple(arr.shape)}")
        # int64 and bool show in their values (``1``, ``True``), and the complex dtype of the
        # default float one is implied too; an empty tensor has no values, so any dtype but
        # the default float one is named
        default = _dt._default_float
        implied = (default,) if arr.size == 0 else (
            default, np.complex128 if default == np.float64 else np.complex64, np.int64,
            np.bool_)
        if arr.dtype not in implied:
            suffixes.append(f"dtype={_dt.dtype.of(arr.dtype)}")
        if self.grad_fn is not None:
            suffixes.append(f"grad_fn=<{self.grad_fn.backward_name()}>")
        elif self._rg:
            suffixes.append("requires_grad=True")
        return _tensor_str.add_suffixes(prefix + body, suffixes, len(prefix))

    def __format__(self, spec: str) -> str:
        """``f"{loss:.4f}"`` formats the value of a one-element 0-d tensor, as in PyTorch."""
        if self._data.ndim == 0:
            return self.item().__format__(spec)
        return object.__format__(self, spec)

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise RuntimeError(
                "Boolean value of Tensor with no values is ambiguous" if self._data.size == 0
                else "Boolean value of Tensor with more than one value is ambiguous"
            )
        return bool(self._data.item())

    def __float__(self) -> float:
        """The one value as a Python float; the first ``float()`` of a tensor that requires
        grad in a process warns (UserWarning) as PyTorch's does (``float(loss)`` drops the
        graph), while grad mode is on only: under ``no_grad`` (e.g. in ``LBFGS.step``) the
        conversion is deliberate and PyTorch stays silent."""
        if self.requires_grad and state.enabled:
            _warn_scalar_requires_grad()
        return builtins.float(self._scalar())

    def __int__(self) -> int:
        return builtins.int(self._scalar())

    def _scalar(self):
        """The one value of ``float(t)``/``int(t)``; ValueError otherwise, as in PyTorch."""
        if self._data.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return self._data.item()

    def __index__(self) -> int:
        if self._data.dtype.kind not in "biu" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return builtins.int(self.item())

    __hash__ = object.__hash__

    # ---- autograd ------------------------------------------------------------------------
    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        if self.grad_fn is not None:
            if not requires_grad:
                raise RuntimeError(
                    "you can only change requires_grad flags of leaf variables. If you want to "
                    "use a computed variable in a subgraph that doesn't require differentiation "
                    "use var_no_grad = var.detach()."
                )
            return self
        if requires_grad and self._data.dtype.kind == "c":
            raise RuntimeError(complex_grad_message(self))
        if requires_grad and not _is_float(self._data.dtype):
            raise RuntimeError(
                f"only Tensors of floating point dtype can require gradients; this tensor has "
                f"dtype {self._data.dtype} (shape {tuple(self.shape)}). Convert it first, "
                "e.g. t.float().requires_grad_()."
            )
        self._rg = bool(requires_grad)
        return self

    def detach(self) -> Tensor:
        t = _make(self._data)
        t._vc = self._vc  # shares memory, so shares the version counter
        t._exposed = self._exposed
        t._saved_by = self._saved_by  # so a NumPy handle taken from it is locked too
        return t

    def detach_(self) -> Tensor:
        self.grad_fn = None
        self._rg = False
        return self

    def retain_grad(self) -> None:
        """Keep ``.grad`` for this non-leaf tensor after backward."""
        if self.grad_fn is None:
            if not self._rg:
                raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
            return
        if self._retains_grad:
            return
        self._retains_grad = True
        ref = weakref.ref(self)

        def _retain(g):
            t = ref()
            if t is not None:
                g = g.detach()
                t.grad = g if t._grad is None else t._grad + g
            return None

        _retain._is_retain = True
        self.register_hook(_retain)

    @property
    def retains_grad(self) -> bool:
        return self._retains_grad

    def register_hook(self, hook):
        """Register ``hook(grad) -> Tensor or None`` run when this tensor's gradient is
        computed; returns a handle with ``remove()``."""
        if not self._rg:
            raise RuntimeError(
                "cannot register a hook on a tensor that doesn't require gradient"
            )
        if self.grad_fn is None:
            if self._hooks is None:
                self._hooks = []
            lst = self._hooks
        else:
            fn = self.grad_fn
            if fn._pre_hooks is None:
                fn._pre_hooks = {}
            lst = fn._pre_hooks.setdefault(self._nr, [])
        if lst and getattr(lst[-1], "_is_retain", False):
            # PyTorch runs the retain_grad hook after every other hook of the tensor,
            # whenever it was registered: .grad sees the gradient the hooks produced
            lst.insert(len(lst) - 1, hook)
        else:
            lst.append(hook)
        return _HookHandle(lst, hook)

    def register_post_accumulate_grad_hook(self, hook):
        """Register ``hook(tensor)``, run after a backward pass has accumulated this leaf's
        ``.grad`` (PyTorch's; distributed training starts its gradient all-reduce there).
        Returns a handle with ``remove()``."""
        if self.grad_fn is not None:
            raise RuntimeError(
                "post accumulate grad hooks cannot be registered on non-leaf tensors "
                f"(this tensor, shape {tuple(self.shape)}, was made by "
                f"{self.grad_fn.name()})"
            )
        if not self._rg:
            raise RuntimeError(
                "cannot register a hook on a tensor that doesn't require gradient"
            )
        if self._post_acc_hooks is None:
            self._post_acc_hooks = []
        self._post_acc_hooks.append(hook)
        return _HookHandle(self._post_acc_hooks, hook)

    def is_floating_point(self) -> bool:
        return self._data.dtype.kind in "fV"

    # ---- PyTorch's complex, storage and pinning queries, for real CPU/CUDA arrays ---------
    def is_complex(self) -> bool:
        return self._data.dtype.kind == "c"

    def conj(self) -> Tensor:
        """The complex conjugate (computed: there is no lazy conjugate bit); a real tensor
        itself, as in PyTorch."""
        d = self._data
        return self if d.dtype.kind != "c" else _make(d.conj())

    def resolve_conj(self) -> Tensor:
        """The tensor itself: no lazy conjugate or negative bits exist here."""
        return self

    resolve_neg = resolve_conj

    def is_conj(self) -> bool:
        return False

    def is_neg(self) -> bool:
        return False

    def _part(self, arr) -> Tensor:
        t = _make(arr)
        t._vc = self._vc  # a view of this tensor's memory (writes go through)
        return t

    @property
    def real(self) -> Tensor:
        """The real part: of a complex tensor a view of its memory; a real tensor itself."""
        d = self._data
        return self if d.dtype.kind != "c" else self._part(d.real)

    @property
    def imag(self) -> Tensor:
        """The imaginary part of a complex tensor, a view of its memory."""
        d = self._data
        if d.dtype.kind != "c":
            raise RuntimeError("imag is not implemented for tensors with non-complex dtypes.")
        return self._part(d.imag)

    def data_ptr(self) -> int:
        """The address of the first element (tensors sharing memory from the same start
        give the same number)."""
        d = self._data
        return d.__array_interface__["data"][0] if d.__class__ is np.ndarray else d.data.ptr

    def storage_offset(self) -> int:
        """How many elements the first element lies past the start of the memory it views
        (0 for a tensor that owns its memory; ``x[1:]`` of a contiguous x gives a row)."""
        d = self._data
        base = d
        while getattr(base, "base", None) is not None and hasattr(base.base, "dtype"):
            base = base.base
        if base is d:
            return 0
        ptr = (lambda a: a.__array_interface__["data"][0]) if d.__class__ is np.ndarray \
            else (lambda a: a.data.ptr)
        return (ptr(d) - ptr(base)) // d.itemsize

    def pin_memory(self, device=None) -> Tensor:
        """The tensor itself: page-locked memory speeds up CUDA copies in PyTorch; here
        there is nothing to pin."""
        return self

    def is_pinned(self, device=None) -> bool:
        return False

    def share_memory_(self) -> Tensor:
        """The tensor itself (PyTorch moves it to shared memory for multiprocessing; the
        DataLoader's worker processes here send arrays by pickling)."""
        return self

    def is_shared(self) -> bool:
        return False

    @property
    def output_nr(self) -> int:
        """Which output of its ``grad_fn`` this tensor is (0 for a leaf)."""
        return self._nr

    # ---- NumPy and DLPack protocols -------------------------------------------------------
    def __array__(self, dtype=None, copy=None):
        if self._data.__class__ is not np.ndarray:
            raise TypeError(
                f"can't convert {self.device} tensor to a NumPy array implicitly; call .cpu()"
            )
        self._expose()
        a = self._data
        if dtype is not None and np.dtype(dtype) != a.dtype:
            return a.astype(dtype)
        if copy:
            return a.copy()
        return a

    def __dlpack__(self, *args, **kwargs):
        self._expose()
        return self._data.__dlpack__(*args, **kwargs)

    def __dlpack_device__(self):
        return self._data.__dlpack_device__()


_NONLEAF_GRAD_MSG = (
    "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad "
    "attribute won't be populated during autograd.backward(). If you indeed want the .grad "
    "field to be populated for a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor. "
    "If you access the non-leaf Tensor by mistake, make sure you access the leaf Tensor "
    "instead. See github.com/pytorch/pytorch/pull/30531 for more information.")

# the C++ type names PyTorch's messages about assigned gradients print
_CPP_TYPE = {"float32": "float", "float64": "double", "float16": "c10::Half",
             "bfloat16": "c10::BFloat16", "int64": "long int", "int32": "int",
             "int16": "short int", "int8": "signed char", "uint8": "unsigned char",
             "bool": "bool", "complex64": "c10::complex<float>",
             "complex128": "c10::complex<double>"}



def _check_grad_assign(t: Tensor, g) -> None:
    """``t.grad = g``: PyTorch's checks (a Tensor of t's size, dtype and device)."""
    if not isinstance(g, Tensor):
        raise TypeError(f"assigned grad expected to be a Tensor or None but got grad of type "
                        f"{type(g).__name__}")
    if tuple(g.shape) != tuple(t.shape):
        raise RuntimeError(
            f"attempting to assign a gradient of size '{list(g.shape)}' to a tensor of size "
            f"'{list(t.shape)}'. Please ensure that the gradient and the tensor are the same "
            "size")
    want = t.dtype if t._grad_dtype is SAME_DTYPE else t._grad_dtype
    if want is not None and g.dtype != want:
        gn = g.dtype.name
        raise RuntimeError(
            f"attempting to assign a gradient with dtype '{_CPP_TYPE.get(gn, gn)}' to a tensor "
            f"with grad_dtype '{_dt.scalar_type_name(want)}'. The gradient must match the "
            "tensor's grad_dtype (defaults to the tensor's dtype). You can set the tensor's "
            "grad_dtype attribute with a specific dtype, or None to allow any dtype. Set "
            "grad_dtype with caution. Diverging the dtypes of a tensor and its gradient may "
            "break downstream systems that assume they match.")
    if g.device != t.device:
        raise RuntimeError(
            f"attempting to assign a gradient located on device with index "
            f"'{g.device.index if g.device.index is not None else -1}' to a tensor located on "
            f"device with index '{t.device.index if t.device.index is not None else -1}'. "
            "Please ensure that the gradient and the tensor are on the same device")


class _HookHandle:
    def __init__(self, lst, hook):
        self._lst = lst
        self._hook = hook

    def remove(self) -> None:
        try:
            self._lst.remove(self._hook)
        except ValueError:
            pass


def _looks_like_dtype(a) -> bool:
    if isinstance(a, Device):
        return False
    s = str(a).lower()
    return not (s == "cpu" or s.startswith("cuda"))


def _rebuild_tensor(cls, data, requires_grad, state):
    """A leaf of class ``cls`` holding ``data`` (the inverse of ``Tensor.__reduce_ex__``)."""
    t = _new(cls)
    t._data = data
    t.grad_fn = None
    t._rg = bool(requires_grad)
    t._vc = [0]
    t._saved_by = None
    if state:
        t.__dict__.update(state)
    return t


class Parameter(Tensor):
    """A Tensor that is a module parameter (a leaf that requires grad by default)."""

    def __new__(cls, data=None, requires_grad: bool = True):
        if data is None:
            data = np.empty((0,), dtype=_dt.get_default_dtype())
        arr = data._data if isinstance(data, Tensor) else np.asarray(data)
        return _rebuild_tensor(cls, arr, requires_grad, None)

    def __init__(self, data=None, requires_grad: bool = True):
        pass

    def __deepcopy__(self, memo):
        """As PyTorch's ``Parameter.__deepcopy__``: a new Parameter holding a copy of the
        data with the same ``requires_grad``; ``.grad`` is not copied."""
        if id(self) in memo:
            return memo[id(self)]
        import copy
        t = _rebuild_tensor(type(self), copy.deepcopy(self._data, memo), self._rg, None)
        memo[id(self)] = t
        return t

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


# ---------------------------------------------------------------------------------------
# creation functions
# ---------------------------------------------------------------------------------------

def _infer_array(data, dtype):
    """Build a NumPy array from Python data with PyTorch's default dtypes."""
    if isinstance(data, Tensor):
        return data._data
    if isinstance(data, np.ndarray) or isinstance(data, np.generic):
        return np.asarray(data)
    if backend.is_cupy_array(data):
        return data
    if isinstance(data, (list, tuple)) and any(isinstance(d, Tensor) for d in _flat(data)):
        data = _tensors_to_lists(data)
    arr = np.asarray(data)
    if dtype is None:
        if arr.dtype.kind in "fV":
            arr = arr.astype(_dt.get_default_dtype())
        elif arr.dtype.kind in "iu":
            arr = arr.astype(np.int64)
        elif arr.dtype.kind == "c":
            arr = arr.astype(np.complex64)
        elif arr.dtype.kind not in "b":
            raise TypeError(f"tensor(): cannot make a tensor from {type(data).__name__} data "
                            f"of NumPy dtype {arr.dtype}")
    return arr


def _flat(data):
    for d in data:
        if isinstance(d, (list, tuple)):
            yield from _flat(d)
        else:
            yield d


def _tensors_to_lists(data):
    if isinstance(data, Tensor):
        return backend.to_numpy(data._data)
    if isinstance(data, (list, tuple)):
        return [_tensors_to_lists(d) for d in data]
    return data


def _finish(arr, dtype, device, requires_grad) -> Tensor:
    if dtype is not None:
        dt = _dt.to_dtype(dtype)
        if arr.dtype != dt:
            arr = arr.astype(dt)
    if device is not None:
        dev = parse_device(device)
        if dev != device_of(arr):
            arr = backend.to_device(arr, dev)
    t = _make(arr)
    if requires_grad:
        t.requires_grad_(True)
    return t


def tensor(data, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Create a tensor that owns a copy of ``data``.

    Args:
        data: a number, a (nested) list or tuple, a NumPy/CuPy array or a Tensor.
        dtype: defaults to float32 for Python floats, int64 for ints, bool for bools; NumPy
            input keeps its dtype.
        device: 'cpu' (default, or the device of a CuPy input) or 'cuda'.
        requires_grad: record operations on the new tensor.
    """
    arr = _infer_array(data, dtype)
    if isinstance(data, (np.ndarray, Tensor)) or backend.is_cupy_array(data):
        arr = arr.copy()
    return _finish(arr, dtype, device, requires_grad)


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """Like ``tensor`` but shares memory with a NumPy/CuPy array when it can."""
    if isinstance(data, Tensor) and dtype is None and device is None:
        return data
    shares = isinstance(data, np.ndarray) or backend.is_cupy_array(data)
    arr = _infer_array(data, dtype)
    t = _finish(arr, dtype, device, False)
    if shares and t._data is data:
        t._exposed = True
    return t


def from_numpy(a: np.ndarray) -> Tensor:
    """A tensor sharing memory with the NumPy array ``a`` (writes to one show in the other)."""
    if not isinstance(a, np.ndarray):
        raise TypeError(f"from_numpy expects a numpy.ndarray, got {type(a).__name__}")
    t = _make(a)
    t._exposed = True
    return t


def from_dlpack(ext) -> Tensor:
    """Zero-copy import of any DLPack object (a NumPy/CuPy array, a PyTorch tensor...)."""
    if isinstance(ext, Tensor):
        return ext
    dev_type = ext.__dlpack_device__()[0] if hasattr(ext, "__dlpack_device__") else 1
    if dev_type in (1, 3):  # kDLCPU, kDLCUDAHost
        arr = np.from_dlpack(ext)
    elif dev_type in (2, 13):  # kDLCUDA, kDLCUDAManaged
        arr = backend.require_cupy().from_dlpack(ext)
    else:
        raise RuntimeError(f"from_dlpack: unsupported DLPack device type {dev_type}")
    t = _make(arr)
    t._exposed = True
    return t


def to_dlpack(t: Tensor):
    return t.__dlpack__()


def _size_args(size):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    out = []
    for s in size:
        if not isinstance(s, numbers.Integral) and not (
            isinstance(s, Tensor) and s.numel() == 1
        ):
            raise TypeError(f"size must be a sequence of ints, got {size!r}")
        s = builtins.int(s)
        if s < 0:
            raise RuntimeError(f"negative dimension {s} in size {tuple(size)}")
        out.append(s)
    return tuple(out)


def _xp_for(device):
    dev = parse_device(device)
    if dev.type == "cuda":
        return backend.require_cupy(), dev
    return np, dev


def _filled(fill, size, dtype, device, requires_grad, default=None):
    shape = _size_args(size)
    dt = _dt.to_dtype(dtype) or default or _dt.get_default_dtype()
    xp, dev = _xp_for(device)
    if xp is np:
        arr = np.full(shape, fill, dtype=dt) if fill is not None else np.empty(shape, dtype=dt)
    else:
        with xp.cuda.Device(dev.index or 0):
            arr = xp.full(shape, fill, dtype=dt) if fill is not None else xp.empty(shape, dt)
    t = _make(arr)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _torch_layout(fn):
    """Accept PyTorch's ``layout``, ``pin_memory`` and ``memory_format`` keywords on a
    factory: dense (strided) tensors only; a memory format gives the same values (arrays here
    are C-ordered); pinning speeds up CUDA copies in PyTorch and changes nothing here."""
    name = fn.__name__

    @functools.wraps(fn)
    def f(*args, layout=None, pin_memory=False, memory_format=None, **kwargs):
        if layout is not None and layout is not _dt.strided:
            raise RuntimeError(f"{name}: only the strided (dense) layout exists here, got "
                               f"{layout!r}")
        if memory_format is not None and not isinstance(memory_format, _dt.memory_format):
            raise TypeError(f"{name}(): argument 'memory_format' must be a memory format "
                            f"(autograd.contiguous_format...), not "
                            f"{type(memory_format).__name__}")
        return fn(*args, **kwargs)

    return f


def _size_keyword(fn):
    """Accept PyTorch's ``size=`` keyword on a factory that takes its size as ``*size``:
    ``randn(size=(2, 3))`` (d2l's ``normal(shape)`` helper) is ``randn(2, 3)``. Giving the
    size both ways is a TypeError, as in PyTorch."""
    name = fn.__name__

    @functools.wraps(fn)
    def f(*size, **kwargs):
        if "size" in kwargs:
            if size:
                raise TypeError(f"{name}() got multiple values for argument 'size'")
            size = (kwargs.pop("size"),)
        return fn(*size, **kwargs)

    return f


@_torch_layout
@_size_keyword
def zeros(*size, dtype=None, device=None, requires_grad=False) -> Tensor:
    """A tensor of zeros of the given size (default dtype float32)."""
    return _filled(0, size, dtype, device, requires_grad)


@_torch_layout
@_size_keyword
def ones(*size, dtype=None, device=None, requires_grad=False) -> Tensor:
    """A tensor of ones of the given size (default dtype float32)."""
    return _filled(1, size, dtype, device, requires_grad)


@_torch_layout
@_size_keyword
def empty(*size, dtype=None, device=None, requires_grad=False) -> Tensor:
    """An uninitialised tensor of the given size."""
    return _filled(None, size, dtype, device, requires_grad)


@_torch_layout
def full(size, fill_value, dtype=None, device=None, requires_grad=False) -> Tensor:
    """A tensor filled with ``fill_value``; dtype inferred from it like ``tensor``."""
    if dtype is None:
        if isinstance(fill_value, builtins.bool):
            dtype = _dt.bool_
        elif isinstance(fill_value, numbers.Integral):
            dtype = _dt.int64
    return _filled(fill_value, (tuple(size),) if not isinstance(size, numbers.Integral)
                   else (size,), dtype, device, requires_grad)


def _like(t, dtype, device):
    return (dtype if dtype is not None else t.dtype), (device if device is not None else t.device)


@_torch_layout
def zeros_like(input, dtype=None, device=None, requires_grad=False) -> Tensor:
    dt, dev = _like(input, dtype, device)
    return zeros(input.shape, dtype=dt, device=dev, requires_grad=requires_grad)


@_torch_layout
def ones_like(input, dtype=None, device=None, requires_grad=False) -> Tensor:
    dt, dev = _like(input, dtype, device)
    return ones(input.shape, dtype=dt, device=dev, requires_grad=requires_grad)


@_torch_layout
def empty_like(input, dtype=None, device=None, requires_grad=False) -> Tensor:
    dt, dev = _like(input, dtype, device)
    return empty(input.shape, dtype=dt, device=dev, requires_grad=requires_grad)


@_torch_layout
def full_like(input, fill_value, dtype=None, device=None, requires_grad=False) -> Tensor:
    dt, dev = _like(input, dtype, device)
    return full(input.shape, fill_value, dtype=dt, device=dev, requires_grad=requires_grad)


@_torch_layout
def eye(n: int, m: int | None = None, dtype=None, device=None, requires_grad=False) -> Tensor:
    """A 2-D tensor with ones on the diagonal."""
    xp, dev = _xp_for(device)
    dt = _dt.to_dtype(dtype) or _dt.get_default_dtype()
    return _finish(np.eye(n, m, dtype=dt), None, dev if dev.type != "cpu" else None,
                   requires_grad)


@_torch_layout
def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Values from ``start`` to ``end`` (exclusive) by ``step``; int64 for ints, else float32."""
    if end is None:
        start, end = 0, start
    vals = [builtins.float(v) if isinstance(v, Tensor) else v for v in (start, end, step)]
    if step == 0:
        raise RuntimeError("arange: step must be nonzero")
    if (vals[1] - vals[0]) * vals[2] < 0:  # PyTorch: an error, not an empty range
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")
    if dtype is None:
        dtype = _dt.int64 if all(isinstance(v, numbers.Integral) for v in vals) else None
    dt = _dt.to_dtype(dtype) or _dt.get_default_dtype()
    arr = np.arange(*vals, dtype=np.float64 if dt.kind in "fV" else None).astype(dt)
    return _finish(arr, None, device, requires_grad)


@_torch_layout
def linspace(start, end, steps: int, dtype=None, device=None, requires_grad=False) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive."""
    dt = _dt.to_dtype(dtype) or _dt.get_default_dtype()
    if dt.kind == "b":
        raise NotImplementedError("linspace: not implemented for bool (as in PyTorch)")
    return _finish(_linspace(start, end, int(steps), dt), None, device, requires_grad)


def _linspace(start, end, steps: int, dt):
    """PyTorch's linspace values: ``step = (end - start) / (steps - 1)`` in the dtype (double
    for integers), the first half ``start + step * i`` and the second ``end - step * (steps
    - 1 - i)``, each rounded once (the kernel's fused multiply-add): exactly symmetric, and
    ending on ``end``."""
    if steps < 0:
        raise RuntimeError(f"linspace: number of steps must be non-negative, got {steps}")
    if steps <= 1:
        return np.full(steps, start).astype(dt)
    i = np.arange(steps)
    lo = i < steps // 2
    k = np.where(lo, i, steps - 1 - i).astype(np.float64)
    if dt == np.float64 or dt.kind != "f" and dt.kind != "V":
        if dt.kind in "fV":
            s, e = float(start), float(end)
        else:  # integers: the bounds in the dtype, the step in double
            s, e = float(dt.type(start)), float(dt.type(end))
        step = (e - s) / (steps - 1)
        vals = np.where(lo, _fma(k, step, s), _fma(k, -step, e))
    else:  # float32 (float16/bfloat16: the bounds and step rounded to the dtype, the rest in
        # float): a product of two short mantissas is exact in double
        s, e = np.float32(dt.type(start)), np.float32(dt.type(end))
        step = np.float64(dt.type((e - s) / np.float32(steps - 1)))
        vals = np.where(lo, np.float64(s) + step * k, np.float64(e) - step * k)
    return vals.astype(dt)


@_torch_layout
def logspace(start, end, steps: int, base: float = 10.0, dtype=None, device=None) -> Tensor:
    dt = _dt.to_dtype(dtype) or _dt.get_default_dtype()
    return _finish(np.logspace(start, end, steps, base=base).astype(dt), None, device, False)


def _random(kind, size, dtype, device, requires_grad, low=0, high=1, generator=None):
    shape = _size_args(size)
    xp, dev = _xp_for(device)
    gen = _gen_for(xp, generator)
    dt = _dt.to_dtype(dtype)
    if kind == "randint":
        dt = dt or _dt.int64
        arr = gen.integers(low, high, size=shape) if xp is np else gen.randint(low, high, shape)
        arr = arr.astype(dt)
    else:
        dt = dt or _dt.get_default_dtype()
        if dt.kind not in "fV":  # PyTorch's kernels have no integer or bool variant
            kernel = "check_uniform_bounds" if kind == "rand" else "normal_kernel_cpu"
            raise NotImplementedError(f'"{kernel}" not implemented for '
                                      f"'{_INT_NAMES.get(dt.str[1:], dt)}'")
        if xp is np:  # PyTorch's draws for the dtype (autograd.random)
            arr = (gen.random(shape, dtype=dt) if kind == "rand"
                   else gen.standard_normal(shape, dtype=dt))
        else:
            with xp.cuda.Device(dev.index or 0):
                arr = (gen.random_sample(shape) if kind == "rand"
                       else gen.standard_normal(shape)).astype(dt)
    t = _make(arr)
    if requires_grad:
        t.requires_grad_(True)
    return t


# PyTorch's names of the integer and bool dtypes in its "not implemented for" errors
_INT_NAMES = {"b1": "Bool", "u1": "Byte", "i1": "Char", "i2": "Short", "i4": "Int", "i8": "Long"}


# generators' states are uint8 tensors, as in PyTorch (autograd.random sits below Tensor)
Generator._wrap_state = staticmethod(lambda a: _make(a))


@_torch_layout
@_size_keyword
def rand(*size, dtype=None, device=None, requires_grad=False, generator=None) -> Tensor:
    """Uniform random numbers in [0, 1)."""
    return _random("rand", size, dtype, device, requires_grad, generator=generator)


@_torch_layout
@_size_keyword
def randn(*size, dtype=None, device=None, requires_grad=False, generator=None) -> Tensor:
    """Standard normal random numbers."""
    return _random("randn", size, dtype, device, requires_grad, generator=generator)


@_torch_layout
def randint(low, high=None, size=None, dtype=None, device=None, generator=None) -> Tensor:
    """Random integers in [low, high)."""
    if size is None and isinstance(high, (tuple, list)):  # randint(high, size), PyTorch's form
        high, size = None, high
    if size is None:
        raise TypeError("randint() missing the required argument 'size'")
    if high is None:
        low, high = 0, low
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} "
                           f">= to={high}")
    return _random("randint", (tuple(size),), dtype, device, False, low, high, generator)


@_torch_layout
def randperm(n: int, dtype=None, device=None, generator=None) -> Tensor:
    """A random permutation of ``0..n-1``."""
    if n < 0:
        raise RuntimeError(f"Trying to create tensor with negative dimension {n}: [{n}]")
    perm = _gen_for(np, generator).permutation(n).astype(_dt.to_dtype(dtype) or _dt.int64)
    return _finish(perm, None, device, False)


@_torch_layout
def rand_like(input, dtype=None, device=None, requires_grad=False) -> Tensor:
    dt, dev = _like(input, dtype, device)
    return _random_like(input, "rand", dt, dev, requires_grad)


@_torch_layout
def randn_like(input, dtype=None, device=None, requires_grad=False) -> Tensor:
    dt, dev = _like(input, dtype, device)
    return _random_like(input, "randn", dt, dev, requires_grad)


def _random_like(t, kind, dt, dev, requires_grad):
    """rand/randn in ``t``'s shape with PyTorch's values for ``t``'s layout: PyTorch fills
    ``empty_like(t)``, which keeps a dense tensor's layout (in memory order; a non-contiguous
    one by the element-wise normal)."""
    src = t._data if isinstance(t, Tensor) else np.asarray(t)
    if (dev is not None and parse_device(dev).type != "cpu") or src.__class__ is not np.ndarray \
            or src.flags.c_contiguous or _random_dtype(dt).kind not in "fV":
        return _random(kind, (tuple(t.shape),), dt, dev, requires_grad)
    gen, dtf = _gen_for(np), _random_dtype(dt)
    if kind == "rand":
        arr = draw_like(src, lambda sh: gen.random(sh, dtype=dtf))
    else:
        arr = draw_like(src, lambda sh: gen.normal(0.0, 1.0, sh, dtf, serial=True))
    out = _make(arr.astype(arr.dtype, order="C"))
    if requires_grad:
        out.requires_grad_(True)
    return out


def _random_dtype(dt):
    return _dt.to_dtype(dt) or _dt.get_default_dtype()


def is_tensor(obj) -> bool:
    return isinstance(obj, Tensor)


_ = (get_array_module, no_grad, state)
