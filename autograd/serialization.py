"""Saving and loading tensors, state dicts and checkpoints, without ever executing code on load.

``save``/``load`` use a zip archive (like NumPy's ``.npz``): one ``header.json`` entry that
describes the saved object, and one ``.npy`` entry per array, read back with
``allow_pickle=False``. Nothing is unpickled, so loading a file from an untrusted source cannot
run code; a file that is not exactly what the header describes is rejected with an error naming
the file and the problem.

What can be saved: Tensors (and Parameters, which load back as plain Tensors), NumPy/CuPy
arrays and scalars, ``None``, bools, ints, floats (``nan``/``inf`` included), complex numbers,
strings, ``ag.device`` objects, and lists, tuples and dicts of these, nested; dict keys may be
strings, numbers, bools, ``None`` or tuples of these (optimizer state dicts have int keys).
``OrderedDict`` comes back as ``OrderedDict``; other dict subclasses as ``dict``. A Tensor
saved twice in one object is stored once and loads back as one object.

Writes are atomic: the file is written to a temporary file in the same directory, flushed and
fsync'ed, then renamed over the destination, so a crash or an exception midway never leaves a
half-written file behind (the old file, if any, stays intact).

``save_safetensors``/``load_safetensors`` read and write the ``safetensors`` format (flat
``name -> tensor`` dicts, exchangeable with PyTorch and others) through the optional
``safetensors`` package.

Example:
    >>> ag.save({"model": model.state_dict(), "optim": opt.state_dict(), "epoch": 3}, "ckpt.ag")
    >>> ckpt = ag.load("ckpt.ag", map_location="cpu")
    >>> model.load_state_dict(ckpt["model"]); opt.load_state_dict(ckpt["optim"])
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
import zipfile
from collections import OrderedDict

import numpy as np

from . import backend
from .backend import Device, parse_device
from .tensor import Tensor, _make

__all__ = ["load", "load_safetensors", "save", "save_safetensors"]

MAGIC = "autograd.save"
FORMAT_VERSION = 1
_HEADER = "header.json"
_DTYPE_KINDS = "biufc"  # bool, ints, unsigned ints, floats, complex: nothing that can hold code


# ---- atomic writes ---------------------------------------------------------------------------

def _umask() -> int:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _atomic_write(path, write) -> None:
    """Call ``write(tmp_path)`` to fill a temporary file next to ``path``, fsync it, then
    rename it over ``path``. On any error the temporary file is removed and ``path`` is left
    as it was."""
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    try:
        mode = os.stat(path).st_mode & 0o7777
    except OSError:
        mode = 0o666 & ~_umask()
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp",
                               dir=directory)
    try:
        os.close(fd)
        write(tmp)
        with open(tmp, "rb+") as f:
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError, AttributeError):  # make the rename itself durable
        dfd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)


# ---- encoding --------------------------------------------------------------------------------

class _Encoder:
    """Turns an object into a JSON tree; arrays become references to ``.npy`` entries."""

    def __init__(self):
        self.arrays: list = []  # the array objects, in entry order
        self.specs: list[dict] = []  # their header descriptions
        self._memo: dict[int, int] = {}  # id(Tensor or array) -> entry index
        self._keep: list = []  # keeps memoized objects alive, so ids stay unique

    def array(self, arr, key) -> int:
        if key is not None and id(key) in self._memo:
            return self._memo[id(key)]
        dt = arr.dtype
        if dt.kind not in _DTYPE_KINDS or dt.fields is not None:
            raise TypeError(f"cannot save an array of dtype {dt}: only bool, integer, float and "
                            "complex arrays can be saved")
        i = len(self.arrays)
        self.arrays.append(arr)
        self.specs.append({"name": f"data/{i}.npy", "dtype": dt.str, "shape": list(arr.shape),
                           "device": str(backend.device_of(arr))})
        if key is not None:
            self._memo[id(key)] = i
            self._keep.append(key)
        return i

    def encode(self, obj, where: str):
        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if isinstance(obj, int):
            return int(obj)
        if isinstance(obj, float):
            v = float(obj)
            return v if math.isfinite(v) else {"$": "float", "v": repr(v)}
        if isinstance(obj, complex):
            return {"$": "complex", "re": self.encode(obj.real, where),
                    "im": self.encode(obj.imag, where)}
        if isinstance(obj, Tensor):
            return {"$": "tensor", "array": self.array(obj._data, obj),
                    "requires_grad": bool(obj.requires_grad)}
        if isinstance(obj, np.ndarray) or backend.is_cupy_array(obj):
            return {"$": "ndarray", "array": self.array(obj, obj)}
        if isinstance(obj, np.generic):
            return {"$": "scalar", "array": self.array(np.asarray(obj), None)}
        if isinstance(obj, Device):
            return {"$": "device", "v": str(obj)}
        if isinstance(obj, dict):
            items = []
            for k, v in obj.items():
                if not _is_key(k):
                    raise TypeError(f"cannot save {where}: dict key {k!r} of type "
                                    f"{type(k).__name__} (keys must be str, int, float, bool, "
                                    "None or tuples of these)")
                items.append([self.encode(k, where), self.encode(v, f"{where}[{k!r}]")])
            return {"$": "odict" if isinstance(obj, OrderedDict) else "dict", "items": items}
        if isinstance(obj, (list, tuple)):
            return {"$": "tuple" if isinstance(obj, tuple) else "list",
                    "v": [self.encode(v, f"{where}[{i}]") for i, v in enumerate(obj)]}
        raise TypeError(
            f"cannot save {where}: objects of type {type(obj).__module__}.{type(obj).__name__} "
            "are not supported (ag.save stores tensors, arrays, numbers, strings, None and "
            "lists/tuples/dicts of these, and never pickles)"
        )


def _is_key(k) -> bool:
    if k is None or isinstance(k, (str, int, float, bool)):
        return True
    return isinstance(k, tuple) and all(_is_key(x) for x in k)


def _write_array(f, arr) -> None:
    np.lib.format.write_array(f, arr, allow_pickle=False)  # (any memory layout)


def _write_zip(fileobj, enc: _Encoder, root) -> None:
    header = {"magic": MAGIC, "format_version": FORMAT_VERSION, "arrays": enc.specs,
              "root": root}
    text = json.dumps(header, allow_nan=False, separators=(",", ":"))
    with zipfile.ZipFile(fileobj, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        zf.writestr(_HEADER, text)
        for spec, arr in zip(enc.specs, enc.arrays):
            host = backend.to_numpy(arr)  # one host copy at a time for CuPy arrays
            with zf.open(spec["name"], "w", force_zip64=True) as f:
                _write_array(f, host)


def save(obj, f) -> None:
    """Save ``obj`` to the file ``f`` (a path, or a writable binary file object).

    Args:
        obj: a Tensor, array, number, string, None, or a (nested) list/tuple/dict of these,
            e.g. ``model.state_dict()``, ``optimizer.state_dict()`` or a checkpoint dict.
        f: a path (written atomically: temporary file, fsync, rename) or a binary file object.

    Raises:
        TypeError: ``obj`` holds something that cannot be saved (the message says where).

    Example:
        >>> ag.save({"weights": ag.randn(3, 3), "step": 10}, "ckpt.ag")
        >>> ag.load("ckpt.ag")["step"]
        10
    """
    enc = _Encoder()
    root = enc.encode(obj, "obj")  # fails before anything is written
    if hasattr(f, "write"):
        _write_zip(f, enc, root)
        return

    def write(tmp):
        with open(tmp, "wb") as fh:
            _write_zip(fh, enc, root)

    _atomic_write(f, write)


# ---- decoding --------------------------------------------------------------------------------

class _Decoder:
    def __init__(self, zf: zipfile.ZipFile, header: dict, name: str, map_location,
                 size: int):
        self.zf, self.name, self.map_location, self.size = zf, name, map_location, size
        self.entries = set(zf.namelist())
        specs = header.get("arrays")
        if not isinstance(specs, list):
            self.fail("the header has no list of arrays")
        self.specs = specs
        self.cache: dict[int, object] = {}  # entry index -> loaded Tensor / array
        self.depth = 0

    def fail(self, what: str):
        raise RuntimeError(f"ag.load({self.name}): {what}")

    def read(self, i) -> np.ndarray:
        if not isinstance(i, int) or isinstance(i, bool) or not 0 <= i < len(self.specs):
            self.fail(f"the header references array {i!r}, which it does not describe "
                      "(corrupt or tampered file)")
        spec = self.specs[i]
        if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
            self.fail(f"array {i} has a malformed description in the header")
        entry = spec["name"]
        if entry not in self.entries:
            self.fail(f"the header references the entry {entry!r}, which is missing from the "
                      "archive (truncated or tampered file)")
        try:
            want = np.dtype(spec.get("dtype"))
        except (TypeError, ValueError):
            self.fail(f"array {i} has a malformed dtype {spec.get('dtype')!r} in the header")
        info = self.zf.getinfo(entry)
        if info.compress_type != zipfile.ZIP_STORED:
            self.fail(f"entry {entry!r} is compressed; this format stores arrays uncompressed "
                      "(tampered or foreign file)")
        if info.file_size > self.size:
            self.fail(f"entry {entry!r} claims {info.file_size} bytes, more than the whole "
                      "file (tampered file)")
        try:
            with self.zf.open(entry) as fh:
                arr = self._read_npy(fh, entry, info.file_size, want, spec.get("shape"))
                extra = fh.read()  # reaching the end also checks the entry's CRC
        except (zipfile.BadZipFile, EOFError, OSError) as e:
            self.fail(f"entry {entry!r} is corrupt or truncated ({e})")
        if extra:
            self.fail(f"entry {entry!r} has {len(extra)} unexpected bytes after the array data")
        return arr

    def _read_npy(self, fh, entry: str, size: int, want, shape) -> np.ndarray:
        """Read a .npy entry by hand: the header is parsed and checked against ours before
        anything is allocated, and the data is read as raw bytes (never unpickled)."""
        fmt = np.lib.format
        try:
            version = fmt.read_magic(fh)
            if version == (1, 0):
                got_shape, fortran, dtype = fmt.read_array_header_1_0(fh)
            elif version == (2, 0):
                got_shape, fortran, dtype = fmt.read_array_header_2_0(fh)
            else:
                raise ValueError(f"unsupported .npy format version {version}")
        except ValueError as e:
            self.fail(f"entry {entry!r} is not a plain numeric .npy array ({e})")
        if dtype.kind not in _DTYPE_KINDS or dtype.fields is not None or dtype.hasobject:
            self.fail(f"entry {entry!r} is not a plain numeric .npy array (its dtype is "
                      f"{dtype}, which is refused: it could only be read by unpickling)")
        if dtype != want or list(got_shape) != shape:
            self.fail(f"entry {entry!r} holds a {dtype} array of shape {list(got_shape)}, "
                      f"but the header says {want} {shape} (tampered file)")
        nbytes = math.prod(got_shape) * dtype.itemsize
        header_len = fh.tell()
        if header_len + nbytes != size:
            self.fail(f"entry {entry!r} has {size - header_len} bytes of data, but a {dtype} "
                      f"array of shape {list(got_shape)} needs {nbytes} (truncated or tampered "
                      "file)")
        buf = bytearray(nbytes)
        view, got = memoryview(buf), 0
        while got < nbytes:
            n = fh.readinto(view[got:])
            if not n:
                self.fail(f"entry {entry!r} ends early (truncated file)")
            got += n
        return np.frombuffer(buf, dtype=dtype).reshape(got_shape, order="F" if fortran else "C")

    def device_for(self, i) -> str:
        dev = self.specs[i].get("device", "cpu")
        if not isinstance(dev, str):
            self.fail(f"array {i} has a malformed device {dev!r}")
        return dev

    def place(self, arr: np.ndarray, saved: str, as_tensor: bool, requires_grad: bool):
        """Move a loaded host array where ``map_location`` says (default: where it was)."""
        ml = self.map_location
        if callable(ml) and not isinstance(ml, (str, Device, dict)):
            t = _make(arr)
            out = ml(t, saved)
            if out is None:
                out = self._to(t._data, saved)
            else:
                out = out._data if isinstance(out, Tensor) else out
        else:
            if ml is None:
                target = saved
            elif isinstance(ml, dict):
                norm = {str(parse_device(k)): v for k, v in ml.items()}
                target = norm.get(str(parse_device(saved)), saved)
            else:
                target = ml
            out = self._to(arr, target)
        if not as_tensor:
            return out
        t = _make(out)
        if requires_grad and t.dtype.kind in "fc":
            t.requires_grad_(True)
        return t

    def _to(self, arr, target):
        dev = parse_device(target)
        if dev.type == "cpu":
            return backend.to_numpy(arr)
        try:
            return backend.to_device(arr, dev)
        except RuntimeError as e:
            raise RuntimeError(
                f"ag.load({self.name}): a tensor saved on {dev} can't be restored there ({e}). "
                "Pass map_location='cpu' to load it onto the CPU."
            ) from e

    def decode(self, node):
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        if not isinstance(node, dict) or not isinstance(node.get("$"), str):
            self.fail(f"malformed header: unexpected {type(node).__name__} node")
        self.depth += 1
        try:
            return self._decode(node, node["$"])
        finally:
            self.depth -= 1

    def _decode(self, node, tag):
        if tag in ("tensor", "ndarray", "scalar"):
            i = node.get("array")
            if tag != "scalar" and isinstance(i, int) and i in self.cache:
                return self.cache[i]
            arr = self.read(i)
            if tag == "scalar":
                return arr[()]
            out = self.place(arr, self.device_for(i), tag == "tensor",
                             bool(node.get("requires_grad", False)))
            self.cache[i] = out
            return out
        if tag in ("list", "tuple"):
            vs = node.get("v")
            if not isinstance(vs, list):
                self.fail(f"malformed {tag} node in the header")
            out = [self.decode(v) for v in vs]
            return tuple(out) if tag == "tuple" else out
        if tag in ("dict", "odict"):
            items = node.get("items")
            if not isinstance(items, list):
                self.fail("malformed dict node in the header")
            out = OrderedDict() if tag == "odict" else {}
            for kv in items:
                if not isinstance(kv, list) or len(kv) != 2:
                    self.fail("malformed dict item in the header")
                k = self.decode(kv[0])
                if not _is_key(k):
                    self.fail(f"malformed header: unhashable dict key {k!r}")
                out[k] = self.decode(kv[1])
            return out
        if tag == "float":
            v = node.get("v")
            if v not in ("nan", "inf", "-inf"):
                self.fail(f"malformed float {v!r} in the header")
            return float(v)
        if tag == "complex":
            re, im = self.decode(node.get("re")), self.decode(node.get("im"))
            if not all(isinstance(x, (int, float)) for x in (re, im)):
                self.fail("malformed complex number in the header")
            return complex(re, im)
        if tag == "device":
            try:
                return parse_device(node.get("v"))
            except (TypeError, ValueError) as e:
                self.fail(f"malformed device in the header ({e})")
        self.fail(f"unknown node type {tag!r} in the header (a newer or tampered file?)")


def _sniff(head: bytes) -> str:
    """What a file that is not a zip archive looks like, for the error message."""
    if not head:
        return "the file is empty"
    if head[:1] == b"\x80" and head[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        return ("it is a pickle file (e.g. from pickle.dump, or torch.save with the legacy "
                "format); ag.load never unpickles, as that could run arbitrary code")
    if head.startswith(b"\x93NUMPY"):
        return "it is a bare .npy file: read it with numpy.load(path, allow_pickle=False)"
    return f"it is not an autograd save file (it starts with {head[:8]!r})"


def load(f, map_location=None):
    """Load an object saved with :func:`save`, never executing code from the file.

    Args:
        f: a path, or a readable, seekable binary file object.
        map_location: where tensors go. ``None`` restores each to the device it was saved
            from; ``'cpu'``, ``'cuda'``, ``'cuda:1'`` or an ``ag.device`` sends all there; a
            dict maps saved devices to targets (``{'cuda:0': 'cpu'}``); a callable
            ``fn(tensor_on_cpu, saved_device: str)`` returns the Tensor to use, or None for the
            default.

    Returns:
        The saved object; Tensors (also saved Parameters) come back as plain leaf Tensors
        with their ``requires_grad`` flag.

    Raises:
        RuntimeError: the file is not an autograd save file, or is truncated, corrupt or
            tampered with (the message names the file and what is wrong).

    Example:
        >>> sd = ag.load("model.ag", map_location="cpu")
        >>> model.load_state_dict(sd)
    """
    if hasattr(f, "read"):
        name = repr(getattr(f, "name", "<file object>"))
        return _load_from(f, name, map_location)
    name = repr(os.fspath(f))
    with open(f, "rb") as fh:
        return _load_from(fh, name, map_location)


def _load_from(fh, name: str, map_location):
    start = fh.tell()
    head = fh.read(8)
    size = fh.seek(0, os.SEEK_END) - start
    fh.seek(start)
    if not head.startswith(b"PK"):
        raise RuntimeError(f"ag.load({name}): {_sniff(head)}")
    try:
        zf = zipfile.ZipFile(fh, "r")
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as e:
        raise RuntimeError(f"ag.load({name}): the file is truncated or corrupt ({e})") from e
    with zf:
        names = zf.namelist()
        if _HEADER not in names:
            if any(n.endswith("data.pkl") for n in names):
                what = ("it is a torch.save checkpoint (a pickle inside a zip); ag.load never "
                        "unpickles. Convert it with torch.load + save_safetensors, or ag.save "
                        "of numpy arrays")
            else:
                what = f"the zip archive has no {_HEADER!r}: not an autograd save file"
            raise RuntimeError(f"ag.load({name}): {what}")
        try:
            header = json.loads(zf.read(_HEADER).decode("utf-8"))
        except (zipfile.BadZipFile, EOFError, OSError) as e:
            raise RuntimeError(f"ag.load({name}): the header entry is corrupt ({e})") from e
        except (UnicodeDecodeError, ValueError, RecursionError) as e:
            raise RuntimeError(f"ag.load({name}): the header is not valid JSON ({e})") from e
        if not isinstance(header, dict) or header.get("magic") != MAGIC:
            raise RuntimeError(f"ag.load({name}): wrong magic in the header: not an autograd "
                               "save file")
        version = header.get("format_version")
        if not isinstance(version, int) or not 1 <= version <= FORMAT_VERSION:
            raise RuntimeError(f"ag.load({name}): unsupported format version {version!r} "
                               f"(this version reads 1 to {FORMAT_VERSION}); upgrade autograd")
        if "root" not in header:
            raise RuntimeError(f"ag.load({name}): the header has no 'root' object")
        dec = _Decoder(zf, header, name, map_location, size)
        try:
            return dec.decode(header["root"])
        except RecursionError as e:
            raise RuntimeError(f"ag.load({name}): the header is nested too deeply") from e


# ---- safetensors -----------------------------------------------------------------------------

def _safetensors_numpy(fn: str):
    try:
        import safetensors.numpy as stn  # noqa: PLC0415  (optional dependency)
    except ImportError as e:
        raise ImportError(
            f"ag.{fn} needs the optional 'safetensors' package: pip install safetensors "
            "(or pip install 'autograd-numpy[safetensors]')"
        ) from e
    return stn


def save_safetensors(tensors: dict, path, metadata: dict | None = None) -> None:
    """Save a flat ``{name: Tensor}`` dict in the safetensors format (atomically).

    The file can be read by any safetensors reader, e.g. ``safetensors.torch.load_file`` in
    PyTorch, so weights move between the two by name.

    Args:
        tensors: names to Tensors (or NumPy/CuPy arrays); a ``model.state_dict()``.
        path: the file to write.
        metadata: optional ``{str: str}`` stored in the file's header.

    Raises:
        ImportError: the ``safetensors`` package is not installed.

    Example:
        >>> ag.save_safetensors(model.state_dict(), "model.safetensors", {"epoch": "3"})
        >>> model.load_state_dict(ag.load_safetensors("model.safetensors"))
    """
    stn = _safetensors_numpy("save_safetensors")
    if not isinstance(tensors, dict):
        raise TypeError(f"save_safetensors expects a dict of name -> Tensor, got "
                        f"{type(tensors).__name__}")
    arrays = {}
    for k, v in tensors.items():
        if not isinstance(k, str):
            raise TypeError(f"save_safetensors: tensor names must be strings, got {k!r}")
        arr = v._data if isinstance(v, Tensor) else v
        if not (isinstance(arr, np.ndarray) or backend.is_cupy_array(arr)):
            raise TypeError(f"save_safetensors: {k!r} is a {type(v).__name__}, not a Tensor")
        host = backend.to_numpy(arr)
        arrays[k] = host if host.flags.c_contiguous else host.copy(order="C")  # keeps 0-d
    if metadata is not None and not (
        isinstance(metadata, dict)
        and all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items())
    ):
        raise TypeError("save_safetensors: metadata must be a dict of str -> str")
    _atomic_write(path, lambda tmp: stn.save_file(arrays, tmp, metadata=metadata))


def load_safetensors(path, device="cpu") -> dict:
    """Load a safetensors file as a ``{name: Tensor}`` dict.

    Args:
        path: the file to read.
        device: where the tensors go ('cpu', 'cuda', 'cuda:N' or an ``ag.device``).

    Raises:
        ImportError: the ``safetensors`` package is not installed.
        RuntimeError: the file is not a valid safetensors file.

    Example:
        >>> weights = ag.load_safetensors("model.safetensors")
        >>> model.load_state_dict(weights)
    """
    stn = _safetensors_numpy("load_safetensors")
    if not os.path.exists(path):
        raise FileNotFoundError(f"load_safetensors: no such file {os.fspath(path)!r}")
    try:
        arrays = stn.load_file(path)
    except Exception as e:  # SafetensorError, or a dtype NumPy lacks (bfloat16)
        raise RuntimeError(
            f"load_safetensors({os.fspath(path)!r}): not a valid safetensors file, or one "
            f"with a dtype NumPy can't hold ({type(e).__name__}: {e})"
        ) from e
    dev = parse_device(device)
    return {k: _make(np.array(a) if dev.type == "cpu" else backend.to_device(a, dev))
            for k, a in arrays.items()}
