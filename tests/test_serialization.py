"""``ag.save``/``ag.load`` (a zip of a JSON header and .npy entries, never unpickled),
``ag.save_safetensors``/``ag.load_safetensors``, and checkpoint/resume of training."""

from __future__ import annotations

import io
import json
import os
import pathlib
import pickle
import zipfile
from collections import OrderedDict

import numpy as np
import pytest

import autograd as ag
import nn
import optim
from autograd import serialization
from optim import lr_scheduler

HAS_GPU = ag.cuda.is_available()
gpu = pytest.mark.skipif(not HAS_GPU, reason="needs CuPy and a CUDA GPU")


def roundtrip(obj, tmp_path, **kw):
    path = tmp_path / "obj.ag"
    ag.save(obj, path)
    return ag.load(path, **kw)


def same_tensor(a, b):
    assert isinstance(b, ag.Tensor) and type(b) is ag.Tensor
    assert a.dtype == b.dtype and a.shape == b.shape and a.device == b.device
    assert np.array_equal(a.detach().cpu().numpy(), b.detach().cpu().numpy(), equal_nan=True)


# ---- round trips ---------------------------------------------------------------------------
DTYPES = [np.bool_, np.int8, np.int16, np.int32, np.int64, np.uint8, np.float16, np.float32,
          np.float64, np.complex64, np.complex128]


@pytest.mark.parametrize("dtype", DTYPES, ids=[np.dtype(d).name for d in DTYPES])
@pytest.mark.parametrize("shape", [(), (0, 3), (5,), (2, 3, 4)])
def test_tensor_roundtrip_dtypes_and_shapes(tmp_path, dtype, shape):
    rng = np.random.default_rng(0)
    a = (rng.standard_normal(shape) * 50).astype(dtype)
    t = ag.tensor(a)
    same_tensor(t, roundtrip(t, tmp_path))


def test_special_values_and_layouts(tmp_path):
    a = np.array([np.nan, np.inf, -np.inf, -0.0, 1e-310, np.finfo(np.float64).max])
    same_tensor(ag.tensor(a), roundtrip(ag.tensor(a), tmp_path))
    big = np.array([np.iinfo(np.int64).min, np.iinfo(np.int64).max])
    same_tensor(ag.tensor(big), roundtrip(ag.tensor(big), tmp_path))
    x = ag.arange(12.0).reshape(3, 4)
    same_tensor(x.T, roundtrip(x.T, tmp_path))  # non-contiguous view
    same_tensor(x[::2, 1:], roundtrip(x[::2, 1:], tmp_path))
    f = np.asfortranarray(np.arange(6.0).reshape(2, 3))
    assert np.array_equal(roundtrip(f, tmp_path), f)


def test_requires_grad_and_parameters(tmp_path):
    w = nn.Parameter(ag.randn(3, 2))
    x = ag.randn(2, requires_grad=True)
    y = (x * 2).detach()
    out = roundtrip({"w": w, "x": x, "y": y, "nonleaf": x * 3}, tmp_path)
    assert type(out["w"]) is ag.Tensor and out["w"].requires_grad and out["w"].is_leaf
    assert out["x"].requires_grad and out["x"].is_leaf and not out["y"].requires_grad
    assert out["nonleaf"].is_leaf and out["nonleaf"].requires_grad
    np.testing.assert_array_equal(out["nonleaf"].detach().numpy(), (x * 3).detach().numpy())
    (out["w"].sum() * 2).backward()  # a working leaf
    assert out["w"].grad.tolist() == [[2.0, 2.0]] * 3


def test_nested_python_structures(tmp_path):
    obj = {
        "none": None, "t": True, "f": False, "one": 1, "onef": 1.0, "big": 2 ** 70,
        "neg": -17, "pi": 3.141592653589793, "tiny": 5e-324, "nan": float("nan"),
        "inf": float("inf"), "-inf": float("-inf"), "c": 1 + 2j, "s": "héllo ✓ \"q\"\n",
        "list": [1, [2, [3, []]], ()], "tuple": (1, (2.5, "x"), [None]), "empty": {},
        0: "int key", 1.5: "float key", None: "none key", True: "bool key", (1, "a"): "tuple",
        "od": OrderedDict([("b", 1), ("a", 2)]),
        "np": np.arange(3), "npscalar": np.float32(2.5), "npint": np.int64(7),
        "dev": ag.device("cpu"), "cuda_dev": ag.device("cuda", 1),
    }
    out = roundtrip(obj, tmp_path)
    assert list(out) == list(obj)
    for k in obj:
        if k in ("nan",):
            assert np.isnan(out[k])
        elif k == "np":
            assert isinstance(out[k], np.ndarray) and np.array_equal(out[k], obj[k])
        else:
            assert out[k] == obj[k], k
            assert type(out[k]) is type(obj[k]), k
    assert out["t"] is True and type(out["one"]) is int and type(out["onef"]) is float
    assert out["list"][2] == () and isinstance(out["tuple"][1], tuple)
    assert isinstance(out["tuple"][2], list)
    assert type(out["od"]) is OrderedDict and list(out["od"]) == ["b", "a"]
    assert out["npscalar"].dtype == np.float32 and out["npint"].dtype == np.int64
    assert type(out) is dict
    for top in [[], (), "x", None, 3, 2.5]:
        assert roundtrip(top, tmp_path) == top


def test_shared_tensors_stay_shared(tmp_path):
    t = ag.randn(4)
    out = roundtrip({"a": t, "b": [t, t]}, tmp_path)
    assert out["a"] is out["b"][0] is out["b"][1]
    with zipfile.ZipFile(tmp_path / "obj.ag") as zf:
        assert sorted(zf.namelist()) == ["data/0.npy", "header.json"]


def test_model_and_optimizer_state_dicts(tmp_path):
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    opt = optim.Adam(model.parameters(), lr=0.01, amsgrad=True)
    model(ag.randn(5, 3)).sum().backward()
    opt.step()
    sd = {"model": model.state_dict(), "optim": opt.state_dict()}
    out = roundtrip(sd, tmp_path)
    assert type(out["model"]) is OrderedDict and list(out["model"]) == list(sd["model"])
    for k, v in sd["model"].items():
        same_tensor(v, out["model"][k])
    assert sorted(out["optim"]["state"]) == [0, 1, 2, 3]  # int keys survive
    st = out["optim"]["state"][0]
    assert st["step"].item() == 1 and st["step"].dtype == np.float32
    same_tensor(sd["optim"]["state"][0]["max_exp_avg_sq"], st["max_exp_avg_sq"])
    assert out["optim"]["param_groups"] == sd["optim"]["param_groups"]
    assert out["optim"]["param_groups"][0]["betas"] == (0.9, 0.999)
    opt.load_state_dict(out["optim"])
    assert opt.state[next(iter(model.parameters()))]["step"] == 1.0


def test_file_objects_and_pathlib(tmp_path):
    buf = io.BytesIO()
    ag.save({"x": ag.ones(2)}, buf)
    buf.seek(0)
    assert ag.load(buf)["x"].tolist() == [1.0, 1.0]
    p = pathlib.Path(tmp_path) / "p.ag"
    ag.save([1, 2], p)
    assert ag.load(str(p)) == [1, 2]


def test_unsupported_objects_raise_before_writing(tmp_path):
    path = tmp_path / "x.ag"
    with pytest.raises(TypeError, match=r"obj\['model'\]\[1\].*object"):
        ag.save({"model": [1, object()]}, path)
    with pytest.raises(TypeError, match="dict key"):
        ag.save({frozenset(): 1}, path)
    with pytest.raises(TypeError, match="dtype"):
        ag.save(np.array([1, "a"], dtype=object), path)
    with pytest.raises(TypeError, match="function"):
        ag.save(lambda: 0, path)
    assert os.listdir(tmp_path) == []


# ---- atomic writes ----------------------------------------------------------------------------

@pytest.mark.parametrize("exc", [OSError("disk full"), KeyboardInterrupt()])
def test_failed_write_leaves_old_file_and_no_temp(tmp_path, monkeypatch, exc):
    path = tmp_path / "ckpt.ag"
    ag.save({"v": ag.zeros(3)}, path)
    os.chmod(path, 0o640)
    old = path.read_bytes()
    calls = []
    real = serialization._write_array

    def flaky(f, arr):
        calls.append(1)
        if len(calls) == 2:
            raise exc
        real(f, arr)

    monkeypatch.setattr(serialization, "_write_array", flaky)
    with pytest.raises(type(exc)):
        ag.save({"a": ag.ones(1000), "b": ag.ones(1000), "c": ag.ones(5)}, path)
    assert len(calls) == 2
    assert path.read_bytes() == old
    assert os.listdir(tmp_path) == ["ckpt.ag"]
    assert ag.load(path)["v"].tolist() == [0.0, 0.0, 0.0]
    monkeypatch.undo()
    ag.save({"v": ag.ones(1)}, path)  # a successful overwrite keeps the file's mode
    assert os.stat(path).st_mode & 0o777 == 0o640
    assert os.listdir(tmp_path) == ["ckpt.ag"]


def test_new_file_mode_follows_umask(tmp_path):
    old = os.umask(0o027)
    try:
        ag.save(1, tmp_path / "m.ag")
    finally:
        os.umask(old)
    assert os.stat(tmp_path / "m.ag").st_mode & 0o777 == 0o640


# ---- corrupt, tampered and foreign files ------------------------------------------------------

def _saved(tmp_path, obj=None):
    path = tmp_path / "good.ag"
    ag.save({"w": ag.arange(100.0), "n": 3} if obj is None else obj, path)
    return path


def _rewrite(path, entries: dict, out_name="bad.ag"):
    out = path.parent / out_name
    with zipfile.ZipFile(out, "w") as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return out


def _entries(path):
    with zipfile.ZipFile(path) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def _load_fails(path, match):
    with pytest.raises(RuntimeError, match=match) as info:
        ag.load(path)
    assert path.name in str(info.value)  # names the file


def test_truncated_files(tmp_path):
    data = _saved(tmp_path).read_bytes()
    for cut in [len(data) - 1, len(data) // 2, 10, 3]:
        bad = tmp_path / "bad.ag"
        bad.write_bytes(data[:cut])
        _load_fails(bad, "truncated or corrupt|not an autograd save file")


def test_foreign_files(tmp_path):
    p = tmp_path / "bad.bin"
    p.write_bytes(b"")
    _load_fails(p, "empty")
    p.write_bytes(np.random.default_rng(0).bytes(1000))
    _load_fails(p, "not an autograd save file")
    p.write_bytes(pickle.dumps({"a": np.ones(3)}))
    _load_fails(p, "pickle")
    with open(p, "wb") as f:
        np.save(f, np.ones(3))
    _load_fails(p, "bare .npy")
    p.write_bytes(b"PK\x03\x04" + b"\x00" * 50)
    _load_fails(p, "truncated or corrupt")
    _rewrite(p, {"other.txt": b"hi"}, "bad.bin")
    _load_fails(p, "no 'header.json'")


def test_dtypes_and_sizes_roundtrip_like_torch(tmp_path):
    """dtypes and Sizes in a checkpoint (a config's ``"dtype": torch.float16``, a saved
    shape) load back as themselves, as PyTorch's ``torch.load(weights_only=True)`` gives."""
    torch = pytest.importorskip("torch")

    def config(lib):
        return {"dtype": lib.float16, "dtypes": [lib.bfloat16, lib.int64, lib.bool],
                "shape": lib.Size([2, 3]), "empty": lib.Size([]), "dev": lib.device("cpu"),
                lib.Size([4]): "a Size key"}

    ours = roundtrip(config(ag), tmp_path)
    buf = io.BytesIO()
    torch.save(config(torch), buf)
    buf.seek(0)
    theirs = torch.load(buf, weights_only=True)

    def describe(v):  # the type and value, in names both libraries share
        if isinstance(v, (ag.Size, torch.Size)):
            return ("Size", tuple(v))
        if isinstance(v, list):
            return [describe(x) for x in v]
        return str(v)

    assert list(map(describe, ours)) == list(map(describe, theirs))
    assert list(map(describe, ours.values())) == list(map(describe, theirs.values()))
    assert ours["dtype"] == ag.float16 and ours["dtypes"][0] == ag.bfloat16
    assert type(ours["shape"]) is ag.Size and ours["shape"].numel() == 6
    with pytest.raises(TypeError, match="dtype"):
        ag.save({"d": np.dtype([("a", "f4")])}, tmp_path / "bad.ag")

    def bad_dtype(h):
        h["root"]["items"][0][1] = {"$": "dtype", "v": "object"}

    def bad_size(h):
        h["root"]["items"][0][1] = {"$": "size", "v": [2, -1]}

    for edit, match in [(bad_dtype, "malformed dtype"), (bad_size, "malformed Size")]:
        _load_fails(_tamper_header(tmp_path, edit), match)


def test_torch_checkpoints_are_refused(tmp_path):
    torch = pytest.importorskip("torch")
    p = tmp_path / "bad.pt"
    torch.save({"w": torch.ones(2)}, p)
    _load_fails(p, "torch.save checkpoint")
    torch.save({"w": torch.ones(2)}, p, _use_new_zipfile_serialization=False)
    _load_fails(p, "pickle")


def test_object_arrays_are_never_unpickled(tmp_path):
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (pathlib.Path.touch, (marker,))

    good = _saved(tmp_path)
    entries = _entries(good)
    buf = io.BytesIO()
    np.save(buf, np.array([Evil()], dtype=object), allow_pickle=True)
    entries["data/0.npy"] = buf.getvalue()
    header = json.loads(entries["header.json"])
    header["arrays"][0]["dtype"] = "|O"
    header["arrays"][0]["shape"] = [1]
    entries["header.json"] = json.dumps(header)
    _load_fails(_rewrite(good, entries), "refused dtype '[|]O'")
    header["arrays"][0]["dtype"] = "<f8"  # the header lies: the .npy header is checked too
    entries["header.json"] = json.dumps(header)
    _load_fails(_rewrite(good, entries), "not a plain numeric .npy.*refused")
    assert not marker.exists()


def _tamper_header(tmp_path, edit):
    good = _saved(tmp_path)
    entries = _entries(good)
    header = json.loads(entries["header.json"])
    edit(header)
    entries["header.json"] = json.dumps(header)
    return _rewrite(good, entries)


def test_tampered_headers(tmp_path):
    def missing(h):
        h["arrays"][0]["name"] = "data/99.npy"

    def shape(h):
        h["arrays"][0]["shape"] = [10, 10]

    def dtype(h):
        h["arrays"][0]["dtype"] = "<f8"  # the entry holds float32

    def magic(h):
        h["magic"] = "something else"

    def version(h):
        h["format_version"] = 99

    def tag(h):
        h["root"] = {"$": "pickle", "v": "cos\nsystem\n"}

    def ref(h):
        h["root"]["items"][0][1]["array"] = 7

    def raw_list(h):
        h["root"] = [1, 2]

    def bad_key(h):
        h["root"]["items"][0][0] = {"$": "list", "v": []}

    for edit, match in [(missing, "missing from the archive"), (shape, "tampered"),
                        (dtype, "tampered"), (magic, "wrong magic"),
                        (version, "unsupported format version"), (tag, "unknown node type"),
                        (ref, "does not describe"), (raw_list, "malformed header"),
                        (bad_key, "unhashable dict key")]:
        _load_fails(_tamper_header(tmp_path, edit), match)
    entries = _entries(_saved(tmp_path))
    entries["header.json"] = b"{not json"
    _load_fails(_rewrite(tmp_path / "good.ag", entries), "not valid JSON")


def test_flipped_data_byte_fails_the_crc(tmp_path):
    path = _saved(tmp_path)
    data = bytearray(path.read_bytes())
    i = data.index(b"\x93NUMPY") + 128 + 5  # inside the float data of data/0.npy
    data[i] ^= 0xFF
    bad = tmp_path / "bad.ag"
    bad.write_bytes(bytes(data))
    _load_fails(bad, "corrupt")


def test_trailing_bytes_in_an_entry(tmp_path):
    good = _saved(tmp_path)
    entries = _entries(good)
    entries["data/0.npy"] += b"extra"
    _load_fails(_rewrite(good, entries), "bytes of data, but")


def test_huge_declared_shape_is_refused_before_allocating(tmp_path):
    good = _saved(tmp_path)
    entries = _entries(good)
    head = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        head, {"descr": "<f4", "fortran_order": False, "shape": (10 ** 6, 10 ** 6)})
    entries["data/0.npy"] = head.getvalue() + b"\0" * 400
    header = json.loads(entries["header.json"])
    header["arrays"][0]["shape"] = [10 ** 6, 10 ** 6]
    entries["header.json"] = json.dumps(header)
    _load_fails(_rewrite(good, entries), "needs 4000000000000")


def test_compressed_entries_are_refused(tmp_path):
    good = _saved(tmp_path)
    bad = tmp_path / "bad.ag"
    with zipfile.ZipFile(bad, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in _entries(good).items():
            zf.writestr(name, data)
    _load_fails(bad, "compressed")


# ---- map_location -----------------------------------------------------------------------------

def _saved_on_cuda(tmp_path):
    """A file whose header says its tensor was saved from cuda:0 (works without a GPU)."""
    def to_cuda(h):
        h["arrays"][0]["device"] = "cuda:0"

    return _tamper_header(tmp_path, to_cuda)


def test_map_location(tmp_path):
    path = _saved_on_cuda(tmp_path)
    want = np.arange(100.0, dtype=np.float32)
    for ml in ["cpu", ag.device("cpu"), {"cuda:0": "cpu"}, {"cuda": "cpu"}]:
        w = ag.load(path, map_location=ml)["w"]
        assert w.device == "cpu" and np.array_equal(w.numpy(), want)
    seen = []

    def fn(t, loc):
        seen.append(loc)
        return t * 2

    assert np.array_equal(ag.load(path, map_location=fn)["w"].numpy(), want * 2)
    assert seen == ["cuda:0"]
    plain = _saved(tmp_path)
    assert ag.load(plain, map_location=lambda t, loc: None)["w"].device == "cpu"
    assert ag.load(plain, map_location={"cuda:0": "cuda:1"})["w"].device == "cpu"


@pytest.mark.skipif(HAS_GPU, reason="checks the error raised without a GPU")
def test_cuda_tensor_without_gpu_says_use_map_location(tmp_path):
    with pytest.raises(RuntimeError, match="map_location='cpu'"):
        ag.load(_saved_on_cuda(tmp_path))


@pytest.mark.gpu
@gpu
def test_cuda_tensors_roundtrip(tmp_path):
    t = ag.randn(3, 4, device="cuda")
    out = roundtrip({"t": t, "c": ag.randn(2)}, tmp_path)
    same_tensor(t, out["t"])
    assert out["c"].device == "cpu"
    cpu = ag.load(tmp_path / "obj.ag", map_location="cpu")
    assert cpu["t"].device == "cpu"
    np.testing.assert_array_equal(cpu["t"].numpy(), t.cpu().numpy())
    moved = ag.load(tmp_path / "obj.ag", map_location="cuda")
    assert moved["c"].device == "cuda:0"


# ---- safetensors -----------------------------------------------------------------------------

def test_safetensors_roundtrip(tmp_path):
    st = pytest.importorskip("safetensors")
    rng = np.random.default_rng(0)
    tensors = {
        "f64": ag.tensor(rng.standard_normal((3, 4))),
        "f32": ag.randn(5),
        "f16": ag.tensor(rng.standard_normal(6).astype(np.float16)),
        "i64": ag.arange(7),
        "i8": ag.tensor(np.array([-3, 4], dtype=np.int8)),
        "u8": ag.tensor(np.array([250, 4], dtype=np.uint8)),
        "b": ag.tensor([True, False, True]),
        "scalar": ag.tensor(2.5),
        "empty": ag.zeros(0, 3),
        "view": ag.arange(12.0).reshape(3, 4).T,
    }
    path = tmp_path / "m.safetensors"
    ag.save_safetensors(tensors, path, metadata={"epoch": "3"})
    out = ag.load_safetensors(path)
    assert sorted(out) == sorted(tensors)
    for k, v in tensors.items():
        same_tensor(v, out[k])
    with st.safe_open(str(path), "np") as f:
        meta = f.metadata()
    assert meta.pop("autograd.sha256") == serialization._st_checksum(
        {k: v.numpy() for k, v in tensors.items()})
    assert meta == {"epoch": "3"}
    assert os.listdir(tmp_path) == ["m.safetensors"]


def test_safetensors_errors(tmp_path):
    pytest.importorskip("safetensors")
    path = tmp_path / "m.safetensors"
    with pytest.raises(TypeError, match="dict"):
        ag.save_safetensors([ag.ones(1)], path)
    with pytest.raises(TypeError, match="strings"):
        ag.save_safetensors({1: ag.ones(1)}, path)
    with pytest.raises(TypeError, match="not a Tensor"):
        ag.save_safetensors({"a": [1.0]}, path)
    with pytest.raises(TypeError, match="metadata"):
        ag.save_safetensors({"a": ag.ones(1)}, path, metadata={"epoch": 3})
    assert os.listdir(tmp_path) == []
    path.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{garbage")
    with pytest.raises(RuntimeError, match="not a valid safetensors file"):
        ag.load_safetensors(path)
    with pytest.raises(FileNotFoundError):
        ag.load_safetensors(tmp_path / "missing.safetensors")


def test_safetensors_missing_package_says_pip_install(tmp_path, monkeypatch):
    import sys

    pytest.importorskip("safetensors")
    ag.save_safetensors({"a": ag.ones(2)}, tmp_path / "x.safetensors")
    monkeypatch.setitem(sys.modules, "safetensors", None)
    monkeypatch.setitem(sys.modules, "safetensors.numpy", None)
    with pytest.raises(ImportError, match="pip install safetensors"):
        ag.save_safetensors({"a": ag.ones(1)}, tmp_path / "y.safetensors")
    # reading is done here, without the package
    assert ag.load_safetensors(tmp_path / "x.safetensors")["a"].tolist() == [1.0, 1.0]


def test_safetensors_with_torch(tmp_path):
    pytest.importorskip("safetensors")
    torch = pytest.importorskip("torch")
    from safetensors.torch import load_file, save_file

    # ours -> torch
    model = nn.Sequential(nn.Linear(4, 3), nn.Tanh(), nn.Linear(3, 2))
    ag.save_safetensors(model.state_dict(), tmp_path / "ours.safetensors")
    tsd = load_file(str(tmp_path / "ours.safetensors"))
    tmodel = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Tanh(), torch.nn.Linear(3, 2))
    tmodel.load_state_dict(tsd)
    x = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    want = tmodel(torch.tensor(x)).detach().numpy()
    np.testing.assert_allclose(model(ag.tensor(x)).detach().numpy(), want, rtol=1e-5,
                               atol=1e-6)

    # torch -> ours
    tmodel2 = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Tanh(),
                                  torch.nn.Linear(3, 2)).double()
    save_file(tmodel2.state_dict(), str(tmp_path / "torch.safetensors"))
    sd = ag.load_safetensors(tmp_path / "torch.safetensors")
    model2 = nn.Sequential(nn.Linear(4, 3), nn.Tanh(), nn.Linear(3, 2)).double()
    model2.load_state_dict(sd)
    want = tmodel2(torch.tensor(x, dtype=torch.float64)).detach().numpy()
    np.testing.assert_allclose(model2(ag.tensor(x, dtype=ag.float64)).detach().numpy(), want,
                               rtol=1e-12)
    for k, v in tmodel2.state_dict().items():
        assert np.array_equal(sd[k].numpy(), v.numpy())


# ---- checkpoint and resume ---------------------------------------------------------------------

def _data():
    rng = np.random.default_rng(7)
    return (ag.tensor(rng.standard_normal((16, 4)), dtype=ag.float32),
            ag.tensor(rng.standard_normal((16, 2)), dtype=ag.float32))


def _model(seed):
    ag.manual_seed(seed)
    return nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 8), nn.ReLU(),
                         nn.Linear(8, 2))


def _train(model, opt, sched, steps):
    x, y = _data()
    for _ in range(steps):
        opt.zero_grad()
        ((model(x) - y) ** 2).mean().backward()
        opt.step()
        if isinstance(sched, lr_scheduler.ReduceLROnPlateau):
            sched.step(((model(x) - y) ** 2).mean().item())
        elif sched is not None:
            sched.step()


@pytest.mark.parametrize("make_opt,make_sched", [
    (lambda ps: optim.Adam(ps, lr=0.01), None),
    (lambda ps: optim.AdamW(ps, lr=0.01, amsgrad=True),
     lambda o: lr_scheduler.OneCycleLR(o, max_lr=0.05, total_steps=10)),
    (lambda ps: optim.SGD(ps, lr=0.05, momentum=0.9),
     lambda o: lr_scheduler.MultiStepLR(o, milestones=[3, 6, 6], gamma=0.5)),
    (lambda ps: optim.RMSprop(ps, lr=0.01, centered=True, momentum=0.5),
     lambda o: lr_scheduler.ReduceLROnPlateau(o, mode="max", patience=1, factor=0.5)),
], ids=["Adam", "AdamW+OneCycleLR", "SGD+MultiStepLR", "RMSprop+ReduceLROnPlateau"])
def test_checkpoint_resume_equals_uninterrupted_training(tmp_path, make_opt, make_sched):
    def setup(seed):
        model = _model(seed)
        opt = make_opt(model.parameters())
        return model, opt, make_sched(opt) if make_sched else None

    model, opt, s = setup(0)
    lr0 = opt.param_groups[0]["lr"]
    _train(model, opt, s, 10)
    want = [p.detach().numpy().copy() for p in model.parameters()]
    want_lr = opt.param_groups[0]["lr"]

    model, opt, s = setup(0)
    _train(model, opt, s, 5)
    ckpt = {"model": model.state_dict(), "optim": opt.state_dict(), "epoch": 5}
    if s is not None:
        ckpt["sched"] = s.state_dict()
    ag.save(ckpt, tmp_path / "ckpt.ag")
    del model, opt, s

    model, opt, s = setup(123)  # a different initialization, overwritten by the checkpoint
    loaded = ag.load(tmp_path / "ckpt.ag")
    model.load_state_dict(loaded["model"])
    opt.load_state_dict(loaded["optim"])
    if s is not None:
        s.load_state_dict(loaded["sched"])
    assert loaded["epoch"] == 5
    _train(model, opt, s, 5)
    got = [p.detach().numpy() for p in model.parameters()]
    for g, w in zip(got, want):
        assert np.array_equal(g, w)
    assert opt.param_groups[0]["lr"] == want_lr
    assert (want_lr != lr0) == (s is not None)  # the schedules did change the lr
