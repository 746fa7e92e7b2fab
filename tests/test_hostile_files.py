"""Hostile files for ``ag.load`` and ``ag.load_safetensors``: crafted attacks (compression
bombs, many references to one entry, path traversal and duplicate names, object dtypes, huge
or negative shapes, deep JSON, flipped zip fields, bad devices...) and >= 1,000 random
mutations of real files per format, loaded in a worker process under an address-space limit
(RLIMIT_AS), many files per process. Every file must load data identical to the original or
raise ``CheckpointError`` naming the file, with peak memory (tracemalloc, which NumPy reports
its allocations to) at most 2x the array data the file declares plus ``SLACK``.

``AUTOGRAD_FUZZ_SEED`` picks another seed; ``AUTOGRAD_FUZZ_REPORT=path`` writes the figures."""

from __future__ import annotations

import io
import json
import os
import struct
import subprocess
import sys
import zipfile
import zlib
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest

import autograd as ag
import nn
import optim

ROOT = Path(__file__).resolve().parents[1]
SLACK = 8 << 20  # the "small constant" of the memory bound (headers here are < 1 MB)
N_MUTATIONS = 1000  # per format
SEED = int(os.environ.get("AUTOGRAD_FUZZ_SEED", "20261206"))


# ---- building files by hand -------------------------------------------------------------------

def _zip(entries, eocd_count=None) -> bytes:
    """A zip archive from raw entries, each a dict: name, data (bytes as stored), and optional
    method, crc, size (uncompressed), flags, version, local_name, offset_of (an earlier index
    whose local header the central entry points to)."""
    out, central, offsets = bytearray(), bytearray(), []
    for i, e in enumerate(entries):
        name = e["name"].encode("utf-8")
        local = e.get("local_name", e["name"]).encode("utf-8")
        data = e["data"]
        crc = e.get("crc", zlib.crc32(data))
        size = e.get("size", len(data))
        fields = (e.get("version", 20), e.get("flags", 0), e.get("method", 0), 0, 0x21, crc,
                  len(data), size)
        offsets.append(len(out))
        out += struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", *fields, len(local), 0) + local
        out += data
        off = offsets[e["offset_of"]] if "offset_of" in e else offsets[i]
        central += struct.pack("<4sH", b"PK\x01\x02", 20) + struct.pack(
            "<HHHHHIIIHHHHHII", *fields, len(name), 0, 0, 0, 0, 0, off) + name
    n = len(entries) if eocd_count is None else eocd_count
    zip64 = b""
    if n >= 0xFFFF:  # the zip64 end record holds the count
        zip64 = struct.pack("<4sQHHIIQQQQ", b"PK\x06\x06", 44, 45, 45, 0, 0, n, n,
                            len(central), len(out))
        zip64 += struct.pack("<4sIQI", b"PK\x06\x07", 0, len(out) + len(central), 1)
        n = 0xFFFF
    eocd = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, n, n, len(central), len(out), 0)
    return bytes(out + central + zip64 + eocd)


def _npy(arr) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, np.asarray(arr), allow_pickle=True)
    return buf.getvalue()


def _npy_header(descr, shape, version=(1, 0)) -> bytes:
    buf = io.BytesIO()
    d = {"descr": descr, "fortran_order": False, "shape": shape}
    if version == (1, 0):
        np.lib.format.write_array_header_1_0(buf, d)
    else:
        np.lib.format.write_array_header_2_0(buf, d)
    return buf.getvalue()


def _header(arrays, root) -> dict:
    return {"magic": "autograd.save", "format_version": 1, "arrays": arrays, "root": root}


def _spec(i=0, dtype="<f4", shape=(100,), device="cpu", name=None) -> dict:
    return {"name": name or f"data/{i}.npy", "dtype": dtype, "shape": list(shape),
            "device": device}


def _ag(header, entries: dict, raw_header: bytes | None = None, **kw) -> bytes:
    """A stored zip: header.json (the dict, or raw bytes) then the given entries."""
    text = raw_header if raw_header is not None else json.dumps(header).encode()
    return _zip([{"name": "header.json", "data": text}]
                + [{"name": n, "data": d} for n, d in entries.items()], **kw)


W = np.arange(100, dtype=np.float32)
W_NPY = _npy(W)
BIG = np.arange(1 << 18, dtype=np.float32)  # 1 MiB
BIG_NPY = _npy(BIG)


def _small_header():
    return _header([_spec()], {"$": "dict", "items": [["w", {"$": "tensor", "array": 0}],
                                                       ["n", 3]]})


def _deflate_bomb(prefix: bytes, mib: int, crc: bool):
    """A raw deflate stream of ``prefix`` then ``mib`` MiB of spaces, built in O(1) memory
    (full-flush blocks are independent, so one compressed MiB repeats)."""
    co = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = co.compress(prefix) + co.flush(zlib.Z_FULL_FLUSH)
    block = co.compress(b" " * (1 << 20)) + co.flush(zlib.Z_FULL_FLUSH)
    tail = co.flush()
    value = zlib.crc32(prefix)
    if crc:
        spaces = b" " * (1 << 20)
        for _ in range(mib):
            value = zlib.crc32(spaces, value)
    return head + block * mib + tail, len(prefix) + (mib << 20), value if crc else 0


def crafted_ag():
    """(label, file bytes, expect 'error' | 'any', declared bytes, original key)."""
    small = _small_header()
    w = {"data/0.npy": W_NPY}
    out = []

    def add(label, data, expect="error", declared=400, original=None):
        out.append((label, data, expect, declared, original))

    def edit(fn, entries=None, label=None, **kw):
        h = json.loads(json.dumps(small))
        fn(h)
        add(label or fn.__name__, _ag(h, entries or w), **kw)

    # compression bombs in the header
    valid = json.dumps(small).encode()
    for mib, crc, label in [(600, False, "deflate-bomb header, 600 MiB"),
                            (10, True, "deflate-bomb header, 10 MiB (ratio ~1000)")]:
        stream, size, value = _deflate_bomb(valid, mib, crc)
        add(label, _zip([{"name": "header.json", "data": stream, "method": 8, "size": size,
                          "crc": value}, {"name": "data/0.npy", "data": W_NPY}]))
    stream, _, _ = _deflate_bomb(valid, 600, False)
    add("deflated header that lies about its size (600 MiB stream, 2 KB declared)",
        _zip([{"name": "header.json", "data": stream, "method": 8, "size": len(valid) + 5,
               "crc": zlib.crc32(valid + b" " * 5)}, {"name": "data/0.npy", "data": W_NPY}]),
        "any", original="small")
    add("deflated header, honest", _zip([
        {"name": "header.json", "data": zlib.compress(valid)[2:-4], "method": 8,
         "size": len(valid), "crc": zlib.crc32(valid)}, {"name": "data/0.npy", "data": W_NPY}]),
        "any", original="small")
    add("header of 17 MiB", _ag(None, w, raw_header=valid + b" " * (17 << 20)))
    add("header of 2M values", _ag(None, w, raw_header=json.dumps(_header(
        [], [0] * (2 << 20))).encode()))

    # many references to one entry
    n = 5000
    big = {"data/0.npy": BIG_NPY}
    add("5,000 tensor nodes referencing one 1 MiB array",
        _ag(_header([_spec(shape=BIG.shape)], {"$": "list", "v": [
            {"$": "tensor", "array": 0}] * n}), big), "any", declared=BIG.nbytes)
    add("5,000 array descriptions naming one 1 MiB entry",
        _ag(_header([_spec(shape=BIG.shape)] * n, {"$": "list", "v": [
            {"$": "tensor", "array": i} for i in range(n)]}), big), "any",
        declared=BIG.nbytes)
    add("5,000 ndarray and tensor nodes over 5,000 descriptions of one entry",
        _ag(_header([_spec(shape=BIG.shape)] * n, {"$": "list", "v": [
            {"$": "ndarray" if i % 2 else "tensor", "array": i} for i in range(n)]}), big),
        "any", declared=BIG.nbytes)
    add("5,000 scalar nodes referencing one 0-d entry",
        _ag(_header([_spec(shape=())] * n, {"$": "list", "v": [
            {"$": "scalar", "array": i} for i in range(n)]}),
            {"data/0.npy": _npy(np.float32(1.5))}), "any", declared=4)
    add("scalar nodes referencing a 1 MiB entry",
        _ag(_header([_spec(shape=BIG.shape)] * n, {"$": "list", "v": [
            {"$": "scalar", "array": i} for i in range(n)]}), big), declared=BIG.nbytes)
    add("one entry described with two shapes",
        _ag(_header([_spec(shape=(100,)), _spec(shape=(10, 10))], {"$": "list", "v": [
            {"$": "tensor", "array": 0}, {"$": "tensor", "array": 1}]}), w))

    # names
    for bad in ["../../evil.npy", "/abs/evil.npy", "data\\..\\evil.npy", "data/./0.npy",
                "c:/evil.npy"]:
        add(f"entry name {bad!r}", _ag(_header([_spec(name=bad)], {
            "$": "tensor", "array": 0}), {bad: W_NPY}))
    add("a spec naming header.json", _ag(_header([_spec(name="header.json")], {
        "$": "tensor", "array": 0}), w))
    add("two header.json entries", _zip([
        {"name": "header.json", "data": valid}, {"name": "data/0.npy", "data": W_NPY},
        {"name": "header.json", "data": json.dumps(_header([], 1)).encode()}]))
    add("two data/0.npy entries", _zip([
        {"name": "header.json", "data": valid}, {"name": "data/0.npy", "data": W_NPY},
        {"name": "data/0.npy", "data": _npy(W * 2)}]))
    add("central entries sharing one local header", _zip([
        {"name": "header.json", "data": valid.replace(b"data/0", b"data/1")},
        {"name": "data/0.npy", "data": W_NPY},
        {"name": "data/1.npy", "data": W_NPY, "offset_of": 1}]))
    add("local name differs from central name", _zip([
        {"name": "header.json", "data": valid},
        {"name": "data/0.npy", "data": W_NPY, "local_name": "data/9.npy"}]))

    # dtypes
    obj = _npy(np.array([{"a": 1}, None], dtype=object))
    for dt in ["|O", "<f8", "|V8", "|S5", "<U3", "<M8", "<m8", "[('a', '<f4')]", "(2,)<f4",
               "f4", "<f4" + " " * 100, 7]:
        add(f"dtype {dt!r} over an object .npy", _ag(_header([_spec(dtype=dt, shape=(2,))], {
            "$": "ndarray", "array": 0}), {"data/0.npy": obj}))
    add(".npy dtype differs from the header", _ag(small, {"data/0.npy": _npy(W.astype("<f8"))}))
    add(".npy with a big-endian dtype", _ag(_header([_spec(dtype=">f4")], {
        "$": "tensor", "array": 0}), {"data/0.npy": _npy(W.astype(">f4"))}), "any",
        declared=400)

    # shapes
    for shape in [[10 ** 6, 10 ** 6], [-2, -3], [0, 2 ** 64], [2 ** 62, 0], [1] * 65,
                  "abc", [1.5], [True], None, [0, -1], [10 ** 40]]:
        add(f"declared shape {str(shape)[:30]}", _ag(_header([_spec(shape=())], {
            "$": "tensor", "array": 0}), w, raw_header=json.dumps(_header(
                [dict(_spec(), shape=shape)], {"$": "tensor", "array": 0})).encode()))
    for shape in [(-2, -3), (0, 2 ** 64), (10 ** 6, 10 ** 6), (2, 50)]:
        add(f".npy header shape {shape} under a [100] spec",
            _ag(small, {"data/0.npy": _npy_header("<f4", shape) + W.tobytes()}))
    add(".npy 2.0 header claiming 4 GB", _ag(small, {
        "data/0.npy": b"\x93NUMPY\x02\x00" + struct.pack("<I", 0xFFFFFFF0) + b"{" * 50}))
    add(".npy with trailing bytes", _ag(small, {"data/0.npy": W_NPY + b"x"}))
    add(".npy truncated", _ag(small, {"data/0.npy": W_NPY[:-4]}))

    # deep and odd JSON
    add("200,000 nested brackets", _ag(None, w, raw_header=b'{"magic":"autograd.save",'
        b'"format_version":1,"arrays":[],"root":' + b"[" * 200_000 + b"]" * 200_000 + b"}"))
    def raw(root: bytes) -> bytes:
        return b'{"magic":"autograd.save","format_version":1,"arrays":[],"root":' + root + b"}"

    for depth, expect in [(150, "error"), (900, "error"), (50, "any")]:
        node = b'{"$":"list","v":[' * depth + b"1" + b"]}" * depth
        add(f"list nodes {depth} deep", _ag(None, {}, raw_header=raw(node)), expect,
            declared=0)
    key = b'{"$":"tuple","v":[' * 300 + b"1" + b"]}" * 300
    add("a dict key nested 300 deep", _ag(None, {}, raw_header=raw(
        b'{"$":"dict","items":[[' + key + b",1]]}")))
    add("an int of 100,000 digits", _ag(None, w, raw_header=valid[:-1] + b',"x":'
                                        + b"9" * 100_000 + b"}"))
    add("NaN literal", _ag(None, w, raw_header=valid.replace(b"3", b"NaN")))
    add("duplicate keys", _ag(None, w, raw_header=valid[:-1] + b',"root":1}'))
    add("header in UTF-16", _ag(None, w, raw_header=valid.decode().encode("utf-16")))
    add("not JSON", _ag(None, w, raw_header=b"\xff\xfe{garbage"))

    def not_dict(h):
        h.clear()

    def magic(h):
        h["magic"] = "x"

    def arrays_not_list(h):
        h["arrays"] = {"0": h["arrays"][0]}

    def no_root(h):
        del h["root"]

    def version(h):
        h["format_version"] = True

    def requires_grad(h):
        h["root"]["items"][0][1]["requires_grad"] = "yes"

    def index_bool(h):
        h["root"]["items"][0][1]["array"] = True

    def index_negative(h):
        h["root"]["items"][0][1]["array"] = -1

    def index_huge(h):
        h["root"]["items"][0][1]["array"] = 2 ** 70

    def bad_float(h):
        h["root"]["items"][1][1] = {"$": "float", "v": "1e999"}

    def bad_complex(h):
        h["root"]["items"][1][1] = {"$": "complex", "re": "1", "im": 2}

    def unknown_tag(h):
        h["root"] = {"$": "__reduce__", "v": ["os.system", "true"]}

    def tensor_key(h):
        h["root"]["items"][0][0] = {"$": "tensor", "array": 0}

    for fn in [not_dict, magic, arrays_not_list, no_root, version, requires_grad, index_bool,
               index_negative, index_huge, bad_float, bad_complex, unknown_tag, tensor_key]:
        edit(fn)
    for dev, expect in [("tpu", "error"), ("", "error"), ("cuda:x", "error"), (5, "error"),
                        ("CPU", "error"), ("cuda:99999", "error"), ("cuda:0", "any")]:
        def device(h, dev=dev):
            h["arrays"][0]["device"] = dev
        edit(device, label=f"device {dev!r}", expect=expect, original="small")

    # zip fields
    for label, field in [("version needed 9.9", {"version": 99}),
                         ("compression method 99", {"method": 99}),
                         ("encrypted flag", {"flags": 1}),
                         ("compressed-patch flag", {"flags": 1 << 5}),
                         ("strong-encryption flag", {"flags": 1 << 6})]:
        for target in ["header.json", "data/0.npy"]:
            entries = [{"name": "header.json", "data": valid},
                       {"name": "data/0.npy", "data": W_NPY}]
            next(e for e in entries if e["name"] == target).update(field)
            add(f"{label} on {target}", _zip(entries))
    add("deflated array entry", _zip([{"name": "header.json", "data": valid}, {
        "name": "data/0.npy", "data": zlib.compress(W_NPY)[2:-4], "method": 8,
        "size": len(W_NPY), "crc": zlib.crc32(W_NPY)}]))
    add("end record claims 300,000 entries", _ag(small, w, eocd_count=300_000))
    many = [{"name": "header.json", "data": valid}, {"name": "data/0.npy", "data": W_NPY}]
    many += [{"name": f"e/{i}", "data": b""} for i in range(70_000)]
    add("70,000 entries under a count of 2", _zip(many, eocd_count=2))
    add("70,000 entries, counted", _zip(many))
    good = _ag(small, w)
    add("truncated central directory", good[:-30])
    add("array sizes larger than the file", _zip([
        {"name": "header.json", "data": valid},
        {"name": "data/0.npy", "data": W_NPY, "size": 0xFFFFFFF0}]))
    return out


def _st(tensors: dict, metadata=None, header=None, data=None) -> bytes:
    """A safetensors file: given header dict (or one built from ``tensors``) and data."""
    if header is None:
        header, chunks, off = {}, [], 0
        for k, a in tensors.items():
            code = {"float32": "F32", "int64": "I64", "float16": "F16", "bool": "BOOL",
                    "uint8": "U8"}[a.dtype.name]
            header[k] = {"dtype": code, "shape": list(a.shape),
                         "data_offsets": [off, off + a.nbytes]}
            chunks.append(a.tobytes())
            off += a.nbytes
        if metadata is not None:
            header["__metadata__"] = metadata
        data = b"".join(chunks)
    text = header if isinstance(header, bytes) else json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + data


def crafted_st():
    from autograd.serialization import _st_checksum

    a = np.arange(10, dtype=np.float32)
    b = np.arange(3, dtype=np.int64)
    meta = {"autograd.sha256": _st_checksum({"a": a, "b": b})}
    good = _st({"a": a, "b": b}, meta)
    hdr = json.loads(good[8:8 + struct.unpack("<Q", good[:8])[0]])
    data = a.tobytes() + b.tobytes()
    out = []

    def add(label, blob, expect="error", declared=64, original=None):
        out.append((label, blob, expect, declared, original))

    def edit(label, fn, expect="error", blob_data=None):
        h = json.loads(json.dumps(hdr))
        fn(h)
        add(label, _st(None, header=h, data=data if blob_data is None else blob_data), expect)

    add("honest file", good, "any", original="st_small")
    add("empty file", b"")
    add("7 bytes", b"\x08" * 7)
    add("header length 2**63", struct.pack("<Q", 2 ** 63) + good[8:])
    add("header length past the end", struct.pack("<Q", len(good)) + good[8:])
    add("header length of 17 MiB", struct.pack("<Q", 17 << 20) + good[8:])
    add("header not JSON", _st(None, header=b"{garbage", data=data))
    add("header a JSON list", _st(None, header=b"[1, 2]", data=data))
    add("200,000 nested brackets", _st(None, header=b'{"a":' + b"[" * 200_000
                                      + b"]" * 200_000 + b"}", data=b""))
    add("2M values", _st(None, header=json.dumps({"__metadata__": {},
                                                  "x": [0] * (2 << 20)}).encode(), data=b""))
    add("duplicate names", _st(None, header=(
        b'{"a":{"dtype":"F32","shape":[10],"data_offsets":[0,40]},'
        b'"a":{"dtype":"I64","shape":[3],"data_offsets":[40,64]}}'), data=data))
    add("5,000 empty tensors", _st(None, header={f"t{i}": {
        "dtype": "F32", "shape": [0], "data_offsets": [0, 0]} for i in range(5000)}, data=b""),
        "any", declared=0)
    add("5,000 tensors over one 1 MiB region", _st(None, header={f"t{i}": {
        "dtype": "F32", "shape": [1 << 18], "data_offsets": [0, 1 << 20]}
        for i in range(5000)}, data=BIG.tobytes()), declared=1 << 20)
    add("checksum present, a data byte flipped", good[:-1] + bytes([good[-1] ^ 1]))
    no_sum = _st({"a": a, "b": b})
    add("no checksum, a data byte flipped", no_sum[:-1] + bytes([no_sum[-1] ^ 1]), "any")
    add("no checksum (a foreign writer)", no_sum, "any", original="st_small")
    add("data past the tensors", good + b"\0" * 8)

    def setter(name, key, value):
        def fn(h):
            h[name][key] = value
        return fn

    for label, fn in [
        ("overlapping offsets", setter("b", "data_offsets", [0, 24])),
        ("offsets with a gap", setter("b", "data_offsets", [48, 72])),
        ("offsets past the data", setter("b", "data_offsets", [40, 10 ** 12])),
        ("offsets reversed", setter("b", "data_offsets", [64, 40])),
        ("offsets not ints", setter("b", "data_offsets", [40.0, 64])),
        ("offsets three", setter("b", "data_offsets", [40, 64, 64])),
        ("huge shape", setter("a", "shape", [10 ** 6, 10 ** 6])),
        ("negative shape", setter("a", "shape", [-2, -5])),
        ("shape [0, 2**64]", setter("a", "shape", [0, 2 ** 64])),
        ("shape [0, 2**62] (no data, too many elements)", lambda h: h.update(
            z={"dtype": "F32", "shape": [0, 2 ** 62], "data_offsets": [64, 64]})),
        ("shape not a list", setter("a", "shape", "10")),
        ("shape mismatching offsets", setter("a", "shape", [9])),
        ("dtype BF16", setter("a", "dtype", "BF16")),
        ("dtype F8_E4M3", setter("a", "dtype", "F8_E4M3")),
        ("dtype O", setter("a", "dtype", "O")),
        ("dtype F64 (checksum)", setter("b", "dtype", "F64")),
        ("extra key", setter("a", "pickle", "cos\nsystem\n")),
        ("metadata not str", setter("__metadata__", "x", 1)),
        ("checksum changed", setter("__metadata__", "autograd.sha256", "0" * 64)),
        ("shape permuted (checksum)", lambda h: h["a"].update(shape=[2, 5])),
    ]:
        edit(label, fn)
    return out, good


# ---- mutations ---------------------------------------------------------------------------------

INTERESTING = [0, 1, 0x7F, 0x80, 0xFF, 0xFFFF, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 2 ** 63,
               2 ** 64 - 1]


def _mutate(blob: bytes, rng) -> bytes:
    """One random byte-level change, half the time near a structure marker (zip headers,
    .npy headers, JSON), where it is most likely to get past the first checks."""
    b = bytearray(blob)
    if not b:
        return bytes(rng.integers(0, 256, 8, dtype=np.uint8))
    if rng.random() < 0.5:
        marks = [m for sig in (b"PK", b"\x93NUMPY", b"{", b'"shape"', b'"data_offsets"',
                               b'"dtype"') for m in _find_all(blob, sig)]
        pos = (int(rng.choice(marks)) + int(rng.integers(0, 48))) if marks else 0
    else:
        pos = int(rng.integers(0, len(b)))
    pos = min(pos, len(b) - 1)
    op = int(rng.integers(0, 9))
    if op == 0:
        b[pos] ^= 1 << int(rng.integers(0, 8))
    elif op == 1:
        b[pos] = int(rng.integers(0, 256))
    elif op == 2:
        width = int(rng.choice([1, 2, 4, 8]))
        value = int(rng.choice(INTERESTING)) & ((1 << (8 * width)) - 1)
        b[pos:pos + width] = value.to_bytes(width, "little")
    elif op == 3:
        b[pos:pos] = bytes(rng.integers(0, 256, int(rng.integers(1, 17)), dtype=np.uint8))
    elif op == 4:
        del b[pos:pos + int(rng.integers(1, 65))]
    elif op == 5:
        del b[pos:]
    elif op == 6:
        src = int(rng.integers(0, len(b)))
        n = int(rng.integers(1, 65))
        b[pos:pos + n] = blob[src:src + n]
    elif op == 7:  # a digit becomes another digit (shapes, offsets, sizes in text)
        digits = [i for i in range(max(0, pos - 64), min(len(b), pos + 64))
                  if 48 <= b[i] <= 57]
        if digits:
            b[int(rng.choice(digits))] = int(rng.integers(48, 58))
        else:
            b[pos] ^= 0x20
    else:
        b[pos:pos + 1] = bytes([b[pos]]) * int(rng.integers(2, 200))
    return bytes(b)


def _find_all(blob: bytes, sig: bytes):
    out, i = [], blob.find(sig)
    while i >= 0 and len(out) < 64:
        out.append(i)
        i = blob.find(sig, i + 1)
    return out


def _mutate_header(blob: bytes, rng) -> bytes:
    """Change the JSON header of an ag file and rewrite the zip with correct CRCs: what a
    tamperer (not a random flip) produces, so the header checks themselves get exercised."""
    with zipfile.ZipFile(io.BytesIO(blob)) as zf:
        entries = {n: zf.read(n) for n in zf.namelist()}
    name = "header.json" if rng.random() < 0.8 else str(rng.choice(sorted(entries)))
    entries[name] = _mutate(entries[name], rng)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for n, d in entries.items():
            zf.writestr(n, d)
    return buf.getvalue()


def _declared(blob: bytes, kind: str) -> int:
    """The array data an (original, trusted) file declares."""
    if kind == "st":
        n = struct.unpack("<Q", blob[:8])[0]
        return len(blob) - 8 - n
    with zipfile.ZipFile(io.BytesIO(blob)) as zf:
        header = json.loads(zf.read("header.json"))
    sizes = {}
    for s in header["arrays"]:
        sizes[s["name"]] = int(np.prod(s["shape"])) * np.dtype(s["dtype"]).itemsize
    return sum(sizes.values())


# ---- the real files ----------------------------------------------------------------------------

def _checkpoint():
    ag.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 8), nn.Tanh(), nn.Linear(8, 3))
    opt = optim.Adam(model.parameters(), lr=0.01)
    model(ag.randn(4, 6)).sum().backward()
    opt.step()
    return {"model": model.state_dict(), "optim": opt.state_dict(), "epoch": 3,
            "losses": [0.5, 0.25, float("nan")]}


def _mixed():
    w = ag.randn(3, 2, requires_grad=True)
    return {
        "nan": float("nan"), "inf": float("-inf"), "c": 1 + 2j, "t": (1, "a", None, True),
        "od": OrderedDict(b=1, a=2), 3: "int key", (1, 2): "tuple key",
        "dev": ag.device("cpu"), "f32": np.float32(2.5), "i64": np.int64(-7),
        "bool": ag.tensor([True, False]), "f16": ag.tensor(np.arange(6, dtype=np.float16)),
        "c64": np.arange(4, dtype=np.complex64), "u8": np.arange(5, dtype=np.uint8),
        "fortran": np.asfortranarray(np.arange(6.0).reshape(2, 3)), "empty": ag.zeros(0, 3),
        "zero_d": ag.tensor(1.5), "shared": [w, w], "nested": [[{"x": [1, [2, [3]]]}]],
    }


def _run_worker(manifest: Path, results: Path, n: int, env) -> list:
    """Run the worker until every case has a result; a worker that dies (a crash, a hard
    memory kill) is recorded against the case it was on and restarted after it."""
    rows: list = []
    for _ in range(10):
        proc = subprocess.run(
            [sys.executable, str(ROOT / "tests" / "_load_worker.py"), str(manifest),
             str(results), str(len(rows))], env=env, capture_output=True, text=True,
            timeout=300)
        rows = [json.loads(line) for line in results.read_text().splitlines()]
        if len(rows) >= n:
            return rows
        crash = {"i": len(rows), "outcome": "other", "peak": 0, "names_file": None,
                 "error": f"worker died (rc {proc.returncode}): {proc.stderr[-500:]}"}
        with open(results, "a") as f:
            f.write(json.dumps(crash) + "\n")
        rows.append(crash)
    return rows


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs /proc and RLIMIT_AS")
def test_hostile_and_mutated_files(tmp_path):
    rng = np.random.default_rng(SEED)
    originals = {}
    ag.save(_checkpoint(), tmp_path / "ckpt.ag")
    ag.save(_mixed(), tmp_path / "mixed.ag")
    ag.save(_small_obj(), tmp_path / "small.ag")
    model = _checkpoint()["model"]
    ag.save_safetensors(dict(model), tmp_path / "st.safetensors", {"epoch": "3"})
    st_cases, st_small = crafted_st()
    (tmp_path / "st_small.safetensors").write_bytes(st_small)
    for key, kind, fname in [("ckpt", "ag", "ckpt.ag"), ("mixed", "ag", "mixed.ag"),
                             ("small", "ag", "small.ag"), ("st", "st", "st.safetensors"),
                             ("st_small", "st", "st_small.safetensors")]:
        originals[key] = (kind, str(tmp_path / fname))
    blobs = {k: Path(p).read_bytes() for k, (_, p) in originals.items()}

    cases, meta = [], []
    folder = tmp_path / "cases"
    folder.mkdir()

    def add(kind, blob, label, expect, declared, original):
        path = folder / f"{len(cases):05d}.{kind}"
        path.write_bytes(blob)
        cases.append({"id": len(cases), "kind": kind, "path": str(path),
                      "original": original})
        meta.append({"label": label, "expect": expect, "declared": declared, "kind": kind})

    for label, blob, expect, declared, original in crafted_ag():
        add("ag", blob, label, expect, declared, original)
    for label, blob, expect, declared, original in st_cases:
        add("st", blob, label, expect, declared, original)
    n_crafted = len(cases)
    for i in range(N_MUTATIONS):
        key = ["ckpt", "mixed"][i % 2]
        smart = i % 4 == 3  # a quarter re-CRC'd header edits
        blob = (_mutate_header if smart else _mutate)(blobs[key], rng)
        add("ag", blob, f"{key} {'header edit' if smart else 'mutation'} {i}",
            "tamper" if smart else "same", _declared(blobs[key], "ag"), key)
    for i in range(N_MUTATIONS):
        blob = _mutate(blobs["st"], rng)
        add("st", blob, f"safetensors mutation {i}", "same", _declared(blobs["st"], "st"),
            "st")

    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({"originals": originals, "cases": cases}))
    env = dict(os.environ, PYTHONPATH=str(ROOT), OPENBLAS_NUM_THREADS="1",
               OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    rows = _run_worker(manifest, tmp_path / "results.jsonl", len(cases), env)

    problems, worst, counts = [], (0.0, None), {}
    for row, m in zip(rows, meta):
        outcome = row["outcome"]
        group = counts.setdefault(f"{m['kind']} {m['expect']}", {})
        group[outcome] = group.get(outcome, 0) + 1
        allowed = {"error": {"lib"}, "any": {"lib", "same", "different"},
                   "same": {"lib", "same"}, "tamper": {"lib", "same", "different"}}
        if outcome not in allowed[m["expect"]]:
            problems.append(f"{m['label']}: {outcome} {row['error'] or ''}")
        if outcome == "lib" and not row["names_file"]:
            problems.append(f"{m['label']}: the error does not name the file: {row['error']}")
        bound = 2 * m["declared"] + SLACK
        if row["peak"] > bound:
            problems.append(f"{m['label']}: peak {row['peak']} bytes > bound {bound}")
        ratio = row["peak"] / (m["declared"] + (1 << 20))
        if ratio > worst[0]:
            worst = (ratio, f"{m['label']}: peak {row['peak']} B, declared {m['declared']} B")
    report = {"cases": len(rows), "crafted": n_crafted, "mutations": len(rows) - n_crafted,
              "outcomes": counts,
              "not_library_errors": sum(g.get("other", 0) for g in counts.values()),
              "worst_peak_over_declared_plus_1MiB": round(worst[0], 3), "worst_case": worst[1],
              "max_peak_bytes": max(r["peak"] for r in rows)}
    if os.environ.get("AUTOGRAD_FUZZ_REPORT"):
        Path(os.environ["AUTOGRAD_FUZZ_REPORT"]).write_text(json.dumps(report, indent=1))
    assert len(rows) == len(cases)
    assert not problems, "\n".join(problems[:40])


def _small_obj():
    return {"w": ag.arange(100.0), "n": 3}


def test_crafted_files_raise_checkpoint_error_in_process(tmp_path):
    """The crafted attacks once more, in this process, for readable failures: each one that
    must fail raises CheckpointError (a RuntimeError, exported as ag.CheckpointError) naming
    the file."""
    assert ag.CheckpointError is ag.serialization.CheckpointError
    assert issubclass(ag.CheckpointError, RuntimeError)
    st_cases, _ = crafted_st()
    for kind, cases in [("ag", crafted_ag()), ("st", st_cases)]:
        for label, blob, expect, _, _ in cases:
            if expect != "error":
                continue
            path = tmp_path / f"case.{kind}"
            path.write_bytes(blob)
            with pytest.raises(ag.CheckpointError) as info:
                ag.load(path) if kind == "ag" else ag.load_safetensors(path)
            assert str(path) in str(info.value), label
