"""Saving and loading tensors, state dicts and checkpoints, without ever executing code on load.

``save``/``load`` use a zip archive (like NumPy's ``.npz``): one ``header.json`` entry that
describes the saved object, and one ``.npy`` entry per array, read back with
``allow_pickle=False``. Nothing is unpickled, so loading a file from an untrusted source cannot
run code; a file that is not exactly what the header describes is rejected with a
:class:`CheckpointError` naming the file and the problem.

Loading takes bounded memory, whatever the file holds: the header may be at most
``MAX_HEADER_BYTES`` long once decompressed (and, if compressed, expand at most
``MAX_HEADER_RATIO`` times) with at most ``MAX_HEADER_VALUES`` JSON values and ``MAX_DEPTH``
levels of nesting; the archive at most ``MAX_ENTRIES`` entries. Each array's declared dtype and
shape are checked against the size of its entry before anything is allocated, and each entry is
read at most once, shared by every reference to it. So loading needs about the size of the
array data the file declares, plus a few megabytes. The limits are module attributes: raise
them (``autograd.serialization.MAX_HEADER_BYTES = ...``) for a trusted file that exceeds them,
as with ``PIL.Image.MAX_IMAGE_PIXELS``.

What can be saved: Tensors (and Parameters, which load back as plain Tensors), NumPy/CuPy
arrays and scalars, ``None``, bools, ints, floats (``nan``/``inf`` included), complex numbers,
strings, ``ag.device`` objects, dtypes (``ag.float16``...), ``ag.Size`` objects, and lists,
tuples and dicts of these, nested; dict keys may be
strings, numbers, bools, ``None`` or tuples of these (optimizer state dicts have int keys).
``OrderedDict`` comes back as ``OrderedDict``; other dict subclasses as ``dict``. A Tensor
saved twice in one object is stored once and loads back as one object.

Writes are atomic: the file is written to a temporary file ``.<name>.<16 hex digits>.tmp`` in
the same directory, flushed and fsync'ed, then renamed over the destination (and the directory
fsync'ed), so a crash or an exception midway never leaves a half-written file behind (the old
file, if any, stays intact). The writer holds an ``flock`` on its temporary file; a temporary
file left by a writer that was killed is removed by the next save to the same path. Saving to
a symlink writes the file it points to (as ``torch.save`` does) and leaves the link in place.

``save_safetensors``/``load_safetensors`` read and write the ``safetensors`` format (flat
``name -> tensor`` dicts, exchangeable with PyTorch and others); writing needs the optional
``safetensors`` package. ``save_safetensors`` stores a SHA-256 of the tensors in the metadata
(key ``autograd.sha256``) and ``load_safetensors`` verifies it when present.

Example:
    >>> ag.save({"model": model.state_dict(), "optim": opt.state_dict(), "epoch": 3}, "ckpt.ag")
    >>> ckpt = ag.load("ckpt.ag", map_location="cpu")
    >>> model.load_state_dict(ckpt["model"]); opt.load_state_dict(ckpt["optim"])
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import re
import secrets
import zipfile
from collections import OrderedDict

import numpy as np

from . import backend
from . import dtypes as _dt
from .backend import Device, parse_device
from .tensor import Size, Tensor, _make

try:
    import fcntl
except ImportError:  # not POSIX: no locks; a live writer's open file can't be unlinked there
    fcntl = None

__all__ = ["CheckpointError", "load", "load_safetensors", "save", "save_safetensors"]

MAGIC = "autograd.save"
FORMAT_VERSION = 1
_HEADER = "header.json"
_DTYPE_KINDS = "biufc"  # bool, ints, unsigned ints, floats, complex: nothing that can hold code

# Limits on what a file may make ``load``/``load_safetensors`` allocate (see the module doc).
MAX_HEADER_BYTES = 16 << 20
MAX_HEADER_RATIO = 200
MAX_HEADER_VALUES = 1 << 20
MAX_DEPTH = 100
MAX_ENTRIES = 1 << 16
MAX_NDIM = 64

_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_ST_CHECKSUM = "autograd.sha256"
_ST_DTYPES = {"BOOL": "|b1", "U8": "|u1", "I8": "|i1", "U16": "<u2", "I16": "<i2",
              "U32": "<u4", "I32": "<i4", "U64": "<u8", "I64": "<i8", "F16": "<f2",
              "F32": "<f4", "F64": "<f8", "C64": "<c8"}
_ST_CODES = {np.dtype(v): k for k, v in _ST_DTYPES.items()}
_SPEC_DTYPE = re.compile(r"[<>|=][biufc][0-9]{1,2}\Z")
_SPEC_DEVICE = re.compile(r"(cpu|cuda(:[0-9]{1,4})?)\Z")
_SAVED_DTYPES = frozenset((  # the dtypes a checkpoint may hold as values (torch.float16...)
    "bool", "uint8", "int8", "uint16", "int16", "uint32", "int32", "uint64", "int64",
    "float16", "bfloat16", "float32", "float64", "complex64", "complex128"))


class CheckpointError(RuntimeError):
    """A file given to ``ag.load`` or ``ag.load_safetensors`` is not a valid file of that
    format: truncated, corrupt, tampered with, foreign, or beyond the loader's memory limits.
    The message names the file and what is wrong. Also raised when saved tensors can't be
    restored on their device (pass ``map_location='cpu'``). A subclass of RuntimeError."""


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


def _temp_pattern(base: str):
    return re.compile(r"\." + re.escape(base[:200]) + r"\.[0-9a-f]{16}\.tmp\Z")


def _remove_stale_temps(directory: str, base: str) -> None:
    """Remove the temporary files of earlier saves to ``base`` whose writers died: a live
    writer holds an flock on its file, so a file we can lock has no writer left."""
    pattern = _temp_pattern(base)
    try:
        names = [n for n in os.listdir(directory) if pattern.match(n)]
    except OSError:
        return
    for n in names:
        p = os.path.join(directory, n)
        try:
            fd = os.open(p, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | _CLOEXEC)
        except OSError:
            continue
        try:
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # fails while its writer lives
            if os.stat(p, follow_symlinks=False).st_ino == os.fstat(fd).st_ino:
                os.unlink(p)
        except OSError:
            pass
        finally:
            os.close(fd)


def _create_temp(directory: str, base: str):
    """A new, flock'ed temporary file next to the target: (fd, path)."""
    for _ in range(100):
        tmp = os.path.join(directory, f".{base[:200]}.{secrets.token_hex(8)}.tmp")
        fd = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_EXCL | _CLOEXEC, 0o600)
        if fcntl is None:
            return fd, tmp
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:  # a cleaner may have locked and removed it before our lock: then take another
            if os.stat(tmp, follow_symlinks=False).st_ino == os.fstat(fd).st_ino:
                return fd, tmp
        except OSError:
            pass
        os.close(fd)
    raise OSError(f"could not create a temporary file in {directory!r}")


def _atomic_write(path, write) -> None:
    """Call ``write(fileobj, tmp_path)`` to fill a temporary file next to ``path``, fsync it,
    rename it over ``path`` and fsync the directory. On any error the temporary file is
    removed and ``path`` is left as it was. A symlink at ``path`` is followed (its target is
    replaced, the link stays); temporary files of killed earlier saves are removed."""
    target = os.path.realpath(os.fspath(path))
    directory, base = os.path.split(target)
    try:
        mode = os.stat(target).st_mode & 0o7777
    except OSError:
        mode = 0o666 & ~_umask()
    _remove_stale_temps(directory, base)
    fd, tmp = _create_temp(directory, base)
    try:  # the fd (and its lock) stays open until the rename, so no cleaner can take the file
        try:
            with os.fdopen(fd, "wb", closefd=False) as f:
                write(f, tmp)
            os.fsync(fd)
            os.chmod(tmp, mode)
            if fcntl is None:  # no locks to keep, and Windows can't rename an open file
                os.close(fd)
                fd = None
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
    finally:
        if fd is not None:
            os.close(fd)
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
        view = None
        if dt.kind == "V" and dt.name == "bfloat16":  # stored as its bits, read back as such
            arr, dt, view = arr.view(np.uint16), np.dtype(np.uint16), "bfloat16"
        if dt.kind not in _DTYPE_KINDS or dt.fields is not None:
            raise TypeError(f"cannot save an array of dtype {dt}: only bool, integer, float and "
                            "complex arrays can be saved")
        i = len(self.arrays)
        self.arrays.append(arr)
        spec = {"name": f"data/{i}.npy", "dtype": dt.str, "shape": list(arr.shape),
                "device": str(backend.device_of(arr))}
        if view is not None:
            spec["view"] = view
        self.specs.append(spec)
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
        if isinstance(obj, (np.dtype, _dt.dtype)):
            if obj.name not in _SAVED_DTYPES:
                raise TypeError(f"cannot save {where}: the dtype {obj} (only bool, integer, "
                                "float, bfloat16 and complex dtypes can be saved)")
            return {"$": "dtype", "v": obj.name}
        if isinstance(obj, Size):
            return {"$": "size", "v": [int(n) for n in obj]}
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
        f: a path (written atomically: temporary file, fsync, rename; a symlink is
            followed and its target replaced) or a binary file object.

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

    _atomic_write(f, lambda fh, tmp: _write_zip(fh, enc, root))


# ---- reading untrusted files -----------------------------------------------------------------

def _count_values(raw: bytes) -> int:
    """An upper bound on the JSON values in ``raw``: each but the first follows one of these."""
    return raw.count(b",") + raw.count(b":") + raw.count(b"[")


def _parse_json(raw: bytearray, fail, what: str = "header"):
    """Parse a header, refusing what could take far more memory than its bytes: too many
    values (``,``, ``:`` and ``[`` bound their number), duplicate keys, NaN literals."""
    values = _count_values(raw) + 1
    if values > MAX_HEADER_VALUES:
        fail(f"the {what} holds up to {values} JSON values, more than the limit of "
             f"{MAX_HEADER_VALUES} (autograd.serialization.MAX_HEADER_VALUES); large numeric "
             "data belongs in arrays")

    def pairs(kv):
        out = dict(kv)
        if len(out) != len(kv):
            raise ValueError("duplicate key in a JSON object")
        return out

    def constant(s):
        raise ValueError(f"non-standard JSON constant {s}")

    try:
        return json.loads(raw.decode("utf-8"), object_pairs_hook=pairs,
                          parse_constant=constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        fail(f"the {what} is not valid JSON ({type(e).__name__}: {str(e)[:200]})")


def _check_shape(shape, itemsize: int, room: int, where: str, fail) -> tuple:
    """Validate a declared shape before allocating: a list of non-negative ints whose data
    fits in ``room`` bytes. Returns (shape tuple, nbytes)."""
    if (not isinstance(shape, list) or len(shape) > MAX_NDIM
            or not all(type(d) is int and 0 <= d < 1 << 62 for d in shape)):
        fail(f"{where} has a malformed shape {str(shape)[:100]} (expected a list of at most "
             f"{MAX_NDIM} non-negative ints)")
    nbytes = math.prod(shape) * itemsize
    if nbytes > room:
        fail(f"{where} is declared with shape {shape}, which needs {nbytes} bytes, more than "
             f"the {room} bytes the file holds for it (truncated or tampered file)")
    return tuple(shape), nbytes


def _read_exactly(fh, arr: np.ndarray, fail) -> None:
    """Fill ``arr`` from ``fh`` in 1 MiB chunks (never a second full-size buffer)."""
    view = memoryview(arr.reshape(-1).view(np.uint8)) if arr.size else memoryview(b"")
    got, n = 0, len(view)
    while got < n:
        chunk = fh.read(min(1 << 20, n - got))
        if not chunk:
            fail(f"ends early after {got} of {n} bytes (truncated file)")
        view[got:got + len(chunk)] = chunk
        got += len(chunk)


def _zip_directory(fh, start: int, size: int):
    """(entry count, central directory size) from the end-of-central-directory record, read
    before ``zipfile`` builds one object per entry; None when the record can't be found
    (zipfile then says what is wrong)."""
    tail = min(size, 22 + 65535)
    fh.seek(start + size - tail)
    buf = fh.read(tail)
    i = buf.rfind(b"PK\x05\x06")
    if i < 0 or len(buf) < i + 22:
        return None
    total = int.from_bytes(buf[i + 10:i + 12], "little")
    cd_size = int.from_bytes(buf[i + 12:i + 16], "little")
    if (total == 0xFFFF or cd_size == 0xFFFFFFFF) and i >= 20 and \
            buf[i - 20:i - 16] == b"PK\x06\x07":
        off = int.from_bytes(buf[i - 12:i - 4], "little")
        if 0 <= off <= size - 56:
            fh.seek(start + off)
            rec = fh.read(56)
            if rec[:4] == b"PK\x06\x06":
                total = int.from_bytes(rec[32:40], "little")
                cd_size = int.from_bytes(rec[40:48], "little")
    return total, cd_size


def _empty(shape: tuple, dtype, fail, order: str = "C") -> np.ndarray:
    try:
        return np.empty(shape, dtype=dtype, order=order)
    except ValueError as e:  # e.g. (0, 2**62): no data, but more elements than NumPy indexes
        fail(f"shape {list(shape)} can't be allocated ({e})")


def _safe_entry_name(n: str) -> bool:
    return (bool(n) and not n.startswith("/") and "\\" not in n and ":" not in n
            and all(p not in ("", ".", "..") for p in n.split("/")))


class _Decoder:
    def __init__(self, zf: zipfile.ZipFile, infos: dict, name: str, map_location,
                 size: int):
        self.zf, self.infos, self.name = zf, infos, name
        self.map_location, self.size = map_location, size
        self.specs: list = []
        self.host: dict[str, np.ndarray] = {}  # entry name -> its array, read once
        self.placed: dict = {}  # (entry name, target device) -> array there
        self.cache: dict = {}  # (array index, node type) -> loaded Tensor / array
        self.depth = 0

    def fail(self, what: str):
        raise CheckpointError(f"ag.load({self.name}): {what}")

    def zip_call(self, entry: str, fn):
        """Run a zipfile read, turning whatever a malformed archive makes zipfile raise
        (BadZipFile, zlib.error, NotImplementedError, EOFError...) into CheckpointError."""
        try:
            return fn()
        except (CheckpointError, MemoryError):
            raise
        except Exception as e:  # noqa: BLE001  (a trust boundary: any failure means corrupt)
            self.fail(f"entry {entry!r} is corrupt or truncated ({type(e).__name__}: {e})")

    def open_entry(self, entry: str):
        info = self.infos[entry]
        if info.flag_bits & 0x1:
            self.fail(f"entry {entry!r} is encrypted; autograd save files never are "
                      "(tampered or foreign file)")
        if info.compress_size > self.size:
            self.fail(f"entry {entry!r} claims {info.compress_size} stored bytes, more than "
                      "the whole file (tampered file)")
        return self.zip_call(entry, lambda: self.zf.open(info))

    def read_header(self) -> dict:
        info = self.infos[_HEADER]
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            self.fail(f"the header is compressed with method {info.compress_type}; only "
                      "stored or deflated headers are read")
        if info.file_size > MAX_HEADER_BYTES:
            self.fail(f"the header is {info.file_size} bytes, more than the limit of "
                      f"{MAX_HEADER_BYTES} (autograd.serialization.MAX_HEADER_BYTES)")
        if info.compress_type == zipfile.ZIP_DEFLATED and info.file_size > max(
                1 << 16, MAX_HEADER_RATIO * info.compress_size):
            self.fail(f"the header expands from {info.compress_size} to {info.file_size} "
                      f"bytes, more than {MAX_HEADER_RATIO} times (a compression bomb?)")
        fh = self.open_entry(_HEADER)
        raw, values = bytearray(), 0
        with fh:  # read no more than declared (zipfile stops decompressing at file_size),
            while True:  # in chunks, counting JSON values to stop early at too many
                chunk = self.zip_call(_HEADER, lambda: fh.read(1 << 20))
                if not chunk:
                    break
                raw += chunk
                values += _count_values(chunk)
                if len(raw) > info.file_size or values > MAX_HEADER_VALUES:
                    break
        if len(raw) != info.file_size:
            self.fail(f"the header entry is truncated or corrupt ({len(raw)} bytes read, "
                      f"{info.file_size} declared)")
        return _parse_json(raw, self.fail)

    def spec(self, i):
        """The validated description of array ``i``: (entry, dtype, shape, nbytes, device)."""
        if type(i) is not int or not 0 <= i < len(self.specs):
            self.fail(f"the header references array {i!r}, which it does not describe "
                      "(corrupt or tampered file)")
        spec = self.specs[i]
        if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
            self.fail(f"array {i} has a malformed description in the header")
        entry = spec["name"]
        if entry == _HEADER or entry not in self.infos:
            self.fail(f"the header references the entry {entry[:100]!r}, which is missing "
                      "from the archive (truncated or tampered file)")
        dt = spec.get("dtype")
        if not isinstance(dt, str) or not _SPEC_DTYPE.match(dt):
            self.fail(f"array {i} has a malformed or refused dtype {str(dt)[:40]!r} in the "
                      "header (only bool, integer, float and complex arrays are read)")
        try:
            want = np.dtype(dt)
        except (TypeError, ValueError):
            self.fail(f"array {i} has a malformed dtype {dt!r} in the header")
        info = self.infos[entry]
        shape, nbytes = _check_shape(spec.get("shape"), want.itemsize, info.file_size,
                                     f"array {i} ({entry!r})", self.fail)
        dev = spec.get("device", "cpu")
        if not isinstance(dev, str) or not _SPEC_DEVICE.match(dev):
            self.fail(f"array {i} has a malformed device {str(dev)[:40]!r} in the header "
                      "(expected 'cpu', 'cuda' or 'cuda:N')")
        return entry, want, shape, nbytes, dev

    def read(self, i) -> tuple[np.ndarray, str]:
        """Array ``i`` on the host (its entry read at most once) and its saved device."""
        entry, want, shape, nbytes, dev = self.spec(i)
        arr = self.host.get(entry)
        if arr is None:
            arr = self.read_entry(entry, want, shape, nbytes)
            self.host[entry] = arr
        elif arr.dtype != want or arr.shape != shape:
            self.fail(f"entry {entry!r} is described twice, as {arr.dtype} {list(arr.shape)} "
                      f"and as {want} {list(shape)} (tampered file)")
        view = self.specs[i].get("view")
        if view is not None:
            if view != "bfloat16" or want != np.uint16:
                self.fail(f"entry {entry!r}: unknown view {view!r} of a {want} array")
            arr = arr.view(_dt.bfloat16_dtype())
        return arr, dev

    def read_entry(self, entry: str, want, shape, nbytes) -> np.ndarray:
        info = self.infos[entry]
        if info.compress_type != zipfile.ZIP_STORED:
            self.fail(f"entry {entry!r} is compressed; this format stores arrays uncompressed "
                      "(tampered or foreign file)")
        fh = self.open_entry(entry)
        with fh:
            arr = self.zip_call(entry, lambda: self._read_npy(fh, entry, info.file_size, want,
                                                              shape, nbytes))
            extra = self.zip_call(entry, lambda: fh.read(1))  # the end also checks the CRC
        if extra:
            self.fail(f"entry {entry!r} has unexpected bytes after the array data")
        return arr

    def _read_npy(self, fh, entry: str, size: int, want, shape, nbytes) -> np.ndarray:
        """Read a .npy entry by hand: its header is parsed and checked against ours before
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
        except (ValueError, SyntaxError, TypeError) as e:
            self.fail(f"entry {entry!r} is not a plain numeric .npy array ({e})")
        if dtype.kind not in _DTYPE_KINDS or dtype.fields is not None or dtype.hasobject:
            self.fail(f"entry {entry!r} is not a plain numeric .npy array (its dtype is "
                      f"{dtype}, which is refused: it could only be read by unpickling)")
        if dtype != want or tuple(got_shape) != shape:
            self.fail(f"entry {entry!r} holds a {dtype} array of shape {list(got_shape)}, "
                      f"but the header says {want} {list(shape)} (tampered file)")
        header_len = fh.tell()
        if header_len + nbytes != size:
            self.fail(f"entry {entry!r} has {size - header_len} bytes of data, but a {dtype} "
                      f"array of shape {list(shape)} needs {nbytes} (truncated or tampered "
                      "file)")
        arr = _empty(shape, dtype, lambda what: self.fail(f"entry {entry!r}: {what}"),
                     "F" if fortran else "C")
        flat = arr.T if fortran else arr  # the file holds the data in this C order
        _read_exactly(fh, flat, lambda what: self.fail(f"entry {entry!r} {what}"))
        return arr

    def place(self, i, as_tensor: bool, requires_grad: bool):
        """Array ``i``, moved where ``map_location`` says (default: where it was saved)."""
        arr, saved = self.read(i)
        entry = self.specs[i]["name"]
        ml = self.map_location
        if callable(ml) and not isinstance(ml, (str, Device, dict)):
            t = _make(arr)
            out = ml(t, saved)
            if out is None:
                out = self._to(t._data, saved, entry)
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
            out = self._to(arr, target, entry)
        if not as_tensor:
            return out
        t = _make(out)
        if requires_grad and t.dtype.kind in "fcV":
            t.requires_grad_(True)
        return t

    def _to(self, arr, target, entry: str):
        dev = parse_device(target)
        if dev.type == "cpu":
            return backend.to_numpy(arr)
        key = (entry, str(dev))
        if key not in self.placed:
            try:
                self.placed[key] = backend.to_device(arr, dev)
            except RuntimeError as e:
                raise CheckpointError(
                    f"ag.load({self.name}): a tensor saved on {dev} can't be restored there "
                    f"({e}). Pass map_location='cpu' to load it onto the CPU."
                ) from e
        return self.placed[key]

    def decode(self, node):
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        if not isinstance(node, dict) or not isinstance(node.get("$"), str):
            self.fail(f"malformed header: unexpected {type(node).__name__} node")
        if self.depth >= MAX_DEPTH:
            self.fail(f"the header is nested more than {MAX_DEPTH} levels deep "
                      "(autograd.serialization.MAX_DEPTH)")
        self.depth += 1
        try:
            return self._decode(node, node["$"])
        finally:
            self.depth -= 1

    def _decode(self, node, tag):
        if tag in ("tensor", "ndarray", "scalar"):
            i = node.get("array")
            key = (i, tag) if type(i) is int else None
            if key in self.cache:
                return self.cache[key]
            if tag == "scalar":
                arr, _ = self.read(i)
                if arr.ndim:
                    self.fail(f"scalar node references array {i}, which is not 0-d")
                out = arr[()]
            else:
                rg = node.get("requires_grad", False)
                if not isinstance(rg, bool):
                    self.fail(f"malformed requires_grad {str(rg)[:40]!r} in the header")
                out = self.place(i, tag == "tensor", rg)
            self.cache[key] = out
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
                    self.fail(f"malformed header: unhashable dict key {str(k)[:100]}")
                out[k] = self.decode(kv[1])
            return out
        if tag == "float":
            v = node.get("v")
            if v not in ("nan", "inf", "-inf"):
                self.fail(f"malformed float {str(v)[:40]!r} in the header")
            return float(v)
        if tag == "complex":
            re_, im = self.decode(node.get("re")), self.decode(node.get("im"))
            if not all(type(x) in (int, float) for x in (re_, im)):
                self.fail("malformed complex number in the header")
            return complex(re_, im)
        if tag == "device":
            v = node.get("v")
            if not isinstance(v, str) or not _SPEC_DEVICE.match(v):
                self.fail(f"malformed device {str(v)[:40]!r} in the header")
            return parse_device(v)
        if tag == "dtype":
            v = node.get("v")
            if v not in _SAVED_DTYPES:
                self.fail(f"malformed dtype {str(v)[:40]!r} in the header")
            return _dt.dtype.of(_dt.to_dtype(v))
        if tag == "size":
            v = node.get("v")
            if not isinstance(v, list) or not all(type(n) is int and n >= 0 for n in v):
                self.fail("malformed Size in the header")
            return Size(v)
        self.fail(f"unknown node type {tag[:40]!r} in the header (a newer or tampered file?)")


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


def _check_map_location(ml) -> None:
    """Refuse a malformed ``map_location`` up front (the caller's error, not the file's)."""
    if ml is None or isinstance(ml, Device) or (callable(ml) and not isinstance(ml, str)):
        return
    if isinstance(ml, str):
        parse_device(ml)
    elif isinstance(ml, dict):
        for k, v in ml.items():
            parse_device(k)
            parse_device(v)
    else:
        raise TypeError(f"map_location must be None, a device, a dict or a callable, got "
                        f"{type(ml).__name__}")


def load(f, map_location=None, pickle_module=None, *, weights_only=None, mmap=None,
         **pickle_load_args):
    """Load an object saved with :func:`save`, never executing code from the file.

    Memory stays bounded whatever the file holds (see the module doc): about the size of the
    array data it declares, plus a few megabytes.

    Args:
        f: a path, or a readable, seekable binary file object.
        map_location: where tensors go. ``None`` restores each to the device it was saved
            from; ``'cpu'``, ``'cuda'``, ``'cuda:1'`` or an ``ag.device`` sends all there; a
            dict maps saved devices to targets (``{'cuda:0': 'cpu'}``); a callable
            ``fn(tensor_on_cpu, saved_device: str)`` returns the Tensor to use, or None for the
            default.
        pickle_module, weights_only, mmap: PyTorch's arguments, accepted for its programs.
            This format holds only tensors, numbers, strings and containers and never
            unpickles, so ``weights_only`` has nothing to restrict: ``True``, ``None`` and
            ``False`` (which PyTorch programs pass to load a full checkpoint) all load the
            same objects, without unpickling. A ``pickle_module`` or unpickling keyword
            argument raises a ValueError that says so. ``mmap`` has no effect (arrays are
            read into memory).

    Returns:
        The saved object; Tensors (also saved Parameters) come back as plain leaf Tensors
        with their ``requires_grad`` flag.

    Raises:
        CheckpointError: (a RuntimeError) the file is not an autograd save file, or is
            truncated, corrupt, tampered with or beyond the limits (the message names the file
            and what is wrong), or a saved device is not available here.
        ValueError, TypeError: ``map_location`` is malformed.

    Example:
        >>> sd = ag.load("model.ag", map_location="cpu")
        >>> model.load_state_dict(sd)
    """
    if pickle_module is not None or pickle_load_args:
        raise ValueError(
            "ag.load: this format never unpickles (it stores tensors, numbers, strings and "
            "containers as JSON and .npy entries), so there is no pickle_module or unpickling "
            "argument to honour; call ag.load(f). To save a whole module, save its "
            "state_dict()."
        )
    _check_map_location(map_location)
    if hasattr(f, "read"):
        name = repr(getattr(f, "name", "<file object>"))
        return _load_from(f, name, map_location)
    name = repr(os.fspath(f))
    with open(f, "rb") as fh:
        return _load_from(fh, name, map_location)


def _load_from(fh, name: str, map_location):
    def fail(what, cause=None):
        raise CheckpointError(f"ag.load({name}): {what}") from cause

    start = fh.tell()
    head = fh.read(8)
    size = fh.seek(0, os.SEEK_END) - start
    fh.seek(start)
    if not head.startswith(b"PK"):
        fail(_sniff(head))
    directory = _zip_directory(fh, start, size)
    if directory is not None:  # zipfile keeps ~0.5 KB per entry
        count, cd_size = directory
        if count > MAX_ENTRIES:
            fail(f"the archive declares {count} entries, more than the limit of "
                 f"{MAX_ENTRIES} (autograd.serialization.MAX_ENTRIES)")
        if cd_size > 4096 + 256 * count:  # zipfile walks the directory by size, not count
            fail(f"the archive's directory is {cd_size} bytes for {count} entries: it holds "
                 "more entries than it declares (tampered file)")
    fh.seek(start)
    try:
        zf = zipfile.ZipFile(fh, "r")
    except MemoryError:
        raise
    except Exception as e:  # noqa: BLE001  (BadZipFile, NotImplementedError, ValueError...)
        fail(f"the file is truncated or corrupt ({type(e).__name__}: {e})", e)
    with zf:
        if len(zf.infolist()) > MAX_ENTRIES:
            fail(f"the archive holds {len(zf.infolist())} entries, more than the limit of "
                 f"{MAX_ENTRIES} (autograd.serialization.MAX_ENTRIES)")
        infos = {}
        for info in zf.infolist():
            n = info.filename
            if n in infos:
                fail(f"the archive holds the entry {n[:100]!r} twice (tampered file)")
            if not _safe_entry_name(n):
                fail(f"the archive holds an entry with the unsafe name {n[:100]!r} "
                     "(tampered or foreign file)")
            infos[n] = info
        if _HEADER not in infos:
            if any(n.endswith("data.pkl") for n in infos):
                what = ("it is a torch.save checkpoint (a pickle inside a zip); ag.load never "
                        "unpickles. Convert it with torch.load + save_safetensors, or ag.save "
                        "of numpy arrays")
            else:
                what = f"the zip archive has no {_HEADER!r}: not an autograd save file"
            fail(what)
        dec = _Decoder(zf, infos, name, map_location, size)
        header = dec.read_header()
        if not isinstance(header, dict) or header.get("magic") != MAGIC:
            fail("wrong magic in the header: not an autograd save file")
        version = header.get("format_version")
        if type(version) is not int or not 1 <= version <= FORMAT_VERSION:
            fail(f"unsupported format version {str(version)[:40]!r} (this version reads 1 to "
                 f"{FORMAT_VERSION}); upgrade autograd")
        if "root" not in header:
            fail("the header has no 'root' object")
        if not isinstance(header.get("arrays"), list):
            fail("the header has no list of arrays")
        dec.specs = header["arrays"]
        try:
            return dec.decode(header["root"])
        except RecursionError as e:
            fail("the header is nested too deeply", e)


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


def _st_checksum(arrays: dict) -> str:
    """SHA-256 over, for each tensor in name order, the JSON ``[name, dtype code, shape]``
    and the tensor's little-endian bytes."""
    h = hashlib.sha256()
    for k in sorted(arrays):
        a = arrays[k]
        le = a.dtype.newbyteorder("<")
        code = _ST_CODES.get(le, le.str)
        h.update(json.dumps([k, code, list(a.shape)]).encode("utf-8"))
        if a.size:
            h.update(np.ascontiguousarray(a, dtype=le).reshape(-1).view(np.uint8))
    return h.hexdigest()


def save_safetensors(tensors: dict, path, metadata: dict | None = None) -> None:
    """Save a flat ``{name: Tensor}`` dict in the safetensors format (atomically).

    The file can be read by any safetensors reader, e.g. ``safetensors.torch.load_file`` in
    PyTorch, so weights move between the two by name. The metadata gets one more key,
    ``autograd.sha256``: a checksum of the tensors that :func:`load_safetensors` verifies.

    Args:
        tensors: names to Tensors (or NumPy/CuPy arrays); a ``model.state_dict()``.
        path: the file to write (a symlink is followed, as in :func:`save`).
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
    meta = dict(metadata or {})
    meta[_ST_CHECKSUM] = _st_checksum(arrays)
    _atomic_write(path, lambda f, tmp: stn.save_file(arrays, tmp, metadata=meta))


def load_safetensors(path, device="cpu") -> dict:
    """Load a safetensors file as a ``{name: Tensor}`` dict.

    The file is parsed here (no ``safetensors`` package needed) with the limits of
    :func:`load`: the header is checked whole (offsets contiguous and within the file, sizes
    matching dtypes and shapes) before any tensor is allocated, so memory stays about the size
    of the tensor data. A checksum written by :func:`save_safetensors` is verified.

    Args:
        path: the file to read.
        device: where the tensors go ('cpu', 'cuda', 'cuda:N' or an ``ag.device``).

    Raises:
        FileNotFoundError: there is no such file.
        CheckpointError: (a RuntimeError) the file is not a valid safetensors file, holds a
            dtype NumPy lacks (bfloat16, float8), or fails its checksum.

    Example:
        >>> weights = ag.load_safetensors("model.safetensors")
        >>> model.load_state_dict(weights)
    """
    dev = parse_device(device)
    name = os.fspath(path)
    if not os.path.exists(name):
        raise FileNotFoundError(f"load_safetensors: no such file {name!r}")

    def fail(what):
        raise CheckpointError(f"load_safetensors({name!r}): not a valid safetensors file: "
                              f"{what}")

    with open(name, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        head = f.read(8)
        if len(head) < 8:
            fail(f"the file is {size} bytes long, too short for the header length")
        n = int.from_bytes(head, "little")
        if n > MAX_HEADER_BYTES:
            fail(f"the header claims {n} bytes, more than the limit of {MAX_HEADER_BYTES} "
                 "(autograd.serialization.MAX_HEADER_BYTES)")
        if 8 + n > size:
            fail(f"the header claims {n} bytes, but the file has only {size - 8} after the "
                 "length (truncated file)")
        raw, values = bytearray(), 0
        while len(raw) < n and values <= MAX_HEADER_VALUES:  # stop early at too many values
            chunk = f.read(min(1 << 20, n - len(raw)))
            if not chunk:
                fail("the header is truncated")
            raw += chunk
            values += _count_values(chunk)
        if values > MAX_HEADER_VALUES:
            _parse_json(raw, fail)  # says so, without parsing
        if raw[:1] != b"{":  # the format requires it (spaces may pad the end only)
            fail("the header is not a JSON object")
        header = _parse_json(raw, fail)
        if not isinstance(header, dict):
            fail("the header is not a JSON object")
        meta = header.pop("__metadata__", None)
        if meta is not None and not (isinstance(meta, dict) and all(
                isinstance(v, str) for v in meta.values())):
            fail("the __metadata__ is not a dict of str -> str")
        data_size = size - 8 - n
        specs = []
        for k, spec in header.items():
            if not isinstance(spec, dict) or set(spec) != {"dtype", "shape", "data_offsets"}:
                fail(f"tensor {k[:100]!r} has a malformed description")
            code, offsets = spec["dtype"], spec["data_offsets"]
            if not isinstance(code, str) or code not in _ST_DTYPES:
                fail(f"tensor {k[:100]!r} has the dtype {str(code)[:40]!r}, which NumPy can't "
                     f"hold or which is unknown (readable: {', '.join(_ST_DTYPES)})")
            dtype = np.dtype(_ST_DTYPES[code])
            if (not isinstance(offsets, list) or len(offsets) != 2
                    or not all(type(o) is int for o in offsets)
                    or not 0 <= offsets[0] <= offsets[1] <= data_size):
                fail(f"tensor {k[:100]!r} has data offsets {str(offsets)[:100]} outside the "
                     f"{data_size} bytes of data")
            shape, nbytes = _check_shape(spec["shape"], dtype.itemsize,
                                         offsets[1] - offsets[0], f"tensor {k[:100]!r}", fail)
            if nbytes != offsets[1] - offsets[0]:
                fail(f"tensor {k[:100]!r} is {dtype} {list(shape)} ({nbytes} bytes), but its "
                     f"offsets span {offsets[1] - offsets[0]} bytes")
            specs.append((offsets[0], offsets[1], k, dtype, shape))
        specs.sort()
        end = 0
        for begin, stop, k, _, _ in specs:  # the data must be covered exactly, no overlap
            if begin != end:
                fail(f"tensor {k[:100]!r} starts at byte {begin}, expected {end} (gap or "
                     "overlap between tensors)")
            end = stop
        if end != data_size:
            fail(f"the tensors cover {end} bytes, but the file holds {data_size} bytes of "
                 "data after the header")
        arrays = {}
        for begin, _, k, dtype, shape in specs:
            arr = _empty(shape, dtype, lambda what, k=k: fail(f"tensor {k[:100]!r}: {what}"))
            f.seek(8 + n + begin)
            _read_exactly(f, arr, lambda what, k=k: fail(f"tensor {k[:100]!r} {what}"))
            arrays[k] = arr
    arrays = {k: arrays[k] for k in header}  # the file's order
    want = (meta or {}).get(_ST_CHECKSUM)
    if want is not None and _st_checksum(arrays) != want:
        raise CheckpointError(
            f"load_safetensors({name!r}): checksum mismatch: the tensors do not match the "
            f"{_ST_CHECKSUM} their writer stored (corrupt or tampered file)")
    if dev.type == "cpu":
        return {k: _make(a) for k, a in arrays.items()}
    return {k: _make(backend.to_device(arrays.pop(k), dev)) for k in list(arrays)}
