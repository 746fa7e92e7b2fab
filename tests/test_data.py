"""autograd.data: DataLoader semantics, IDX parsing, dataset lookup and downloads."""

from __future__ import annotations

import gzip
import hashlib
import http.server
import json
import os
import pathlib
import select
import socket
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

import autograd as ag
from autograd.data import DataLoader, Dataset, TensorDataset, default_collate, random_split
from autograd.data.datasets import (
    MNIST,
    DownloadError,
    FashionMNIST,
    IDXError,
    download_url,
    read_idx,
)

ROOT = pathlib.Path(__file__).resolve().parents[1]

# ---- DataLoader ------------------------------------------------------------------------

def _ds(n=10):
    return TensorDataset(ag.arange(n), ag.arange(n) * 10)


@pytest.mark.parametrize("bs,drop_last", [(3, False), (3, True), (5, False), (10, True)])
def test_every_sample_once_per_epoch(bs, drop_last):
    loader = DataLoader(_ds(10), batch_size=bs, shuffle=True, drop_last=drop_last)
    for _ in range(2):
        seen = np.concatenate([x.numpy() for x, _ in loader])
        if drop_last:
            assert len(seen) == 10 - 10 % bs and len(set(seen)) == len(seen)
        else:
            assert sorted(seen) == list(range(10))
    sizes = [len(x) for x, _ in loader]
    assert len(loader) == len(sizes)
    assert sizes[-1] == (bs if drop_last or 10 % bs == 0 else 10 % bs)


def test_order_reproducible_from_seed_and_pairs_kept():
    ag.manual_seed(7)
    a = [x.numpy().copy() for x, _ in DataLoader(_ds(20), batch_size=4, shuffle=True)]
    ag.manual_seed(7)
    b = [x.numpy().copy() for x, _ in DataLoader(_ds(20), batch_size=4, shuffle=True)]
    assert all(np.array_equal(p, q) for p, q in zip(a, b))
    g = ag.Generator().manual_seed(3)
    c = [x.numpy().copy() for x, _ in DataLoader(_ds(20), batch_size=4, shuffle=True,
                                                 generator=g)]
    assert not all(np.array_equal(p, q) for p, q in zip(a, c))
    for x, y in DataLoader(_ds(20), batch_size=4, shuffle=True):
        np.testing.assert_array_equal(y.numpy(), x.numpy() * 10)


def test_no_shuffle_is_in_order():
    got = np.concatenate([x.numpy() for x, _ in DataLoader(_ds(7), batch_size=3)])
    np.testing.assert_array_equal(got, np.arange(7))


class DictDataset(Dataset):
    def __len__(self):
        return 5

    def __getitem__(self, i):
        return {"x": np.full(2, i, dtype=np.float32), "y": i, "name": f"s{i}"}, (i, float(i))


def test_collate_tuples_and_dicts():
    batch = next(iter(DataLoader(DictDataset(), batch_size=3)))
    d, (ints, floats) = batch
    assert d["x"].shape == (3, 2) and d["x"].dtype == np.float32
    assert d["y"].dtype == np.int64 and d["y"].tolist() == [0, 1, 2]
    assert d["name"] == ["s0", "s1", "s2"]
    assert floats.dtype == np.float64  # Python floats: float64, as PyTorch
    assert isinstance(batch, list)  # tuple samples give a list of batches, as PyTorch
    custom = DataLoader(DictDataset(), batch_size=2, collate_fn=lambda b: len(b))
    assert list(custom) == [2, 2, 1]
    assert default_collate([ag.ones(2), ag.zeros(2)]).shape == (2, 2)
    assert default_collate([np.float32(1), np.float32(2)]).dtype == np.float32
    assert default_collate([True, False]).dtype == np.bool_
    with pytest.raises(RuntimeError):
        default_collate([ag.ones(2), ag.zeros(3)])
    with pytest.raises(RuntimeError, match="equal size"):
        default_collate([[1, 2], [3]])


def test_no_batching_converts_numpy_and_tuples():
    """``batch_size=None`` applies ``default_convert``: NumPy to tensors, tuples to lists."""
    loader = DataLoader([(np.arange(3), 1.5)], batch_size=None)
    (sample,) = list(loader)
    assert isinstance(sample, list) and isinstance(sample[0], ag.Tensor)
    assert sample[0].tolist() == [0, 1, 2] and sample[1] == 1.5


def test_device_option_and_random_split():
    loader = DataLoader(_ds(6), batch_size=2, device="cpu")
    x, _ = next(iter(loader))
    assert x.device == "cpu"
    parts = random_split(_ds(10), [7, 3])
    assert len(parts[0]) == 7 and len(parts[1]) == 3
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader(_ds(3), batch_size=0)


# ---- IDX files ---------------------------------------------------------------------------

def write_idx(path, arr, gz=True):
    head = bytes([0, 0, 0x08, arr.ndim]) + b"".join(int(d).to_bytes(4, "big")
                                                    for d in arr.shape)
    data = head + arr.astype(np.uint8).tobytes()
    if gz:
        data = gzip.compress(data, mtime=0)
    with open(path, "wb") as f:
        f.write(data)
    return data


def make_split(folder, n=6, seed=0, prefix="train"):
    rng = np.random.default_rng(seed)
    imgs = rng.integers(0, 256, (n, 28, 28)).astype(np.uint8)
    labs = rng.integers(0, 10, n).astype(np.uint8)
    os.makedirs(folder, exist_ok=True)
    write_idx(os.path.join(folder, f"{prefix}-images-idx3-ubyte.gz"), imgs)
    write_idx(os.path.join(folder, f"{prefix}-labels-idx1-ubyte.gz"), labs)
    return imgs, labs


def test_idx_good_truncated_and_wrong_magic(tmp_path):
    arr = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    write_idx(str(tmp_path / "a.gz"), arr)
    np.testing.assert_array_equal(read_idx(str(tmp_path / "a.gz")), arr)
    write_idx(str(tmp_path / "raw"), arr, gz=False)
    np.testing.assert_array_equal(read_idx(str(tmp_path / "raw")), arr)
    raw = open(tmp_path / "raw", "rb").read()
    (tmp_path / "trunc").write_bytes(raw[:-5])
    with pytest.raises(IDXError, match="truncated or corrupt"):
        read_idx(str(tmp_path / "trunc"))
    (tmp_path / "magic").write_bytes(b"\x12\x34" + raw[2:])
    with pytest.raises(IDXError, match="not an IDX file"):
        read_idx(str(tmp_path / "magic"))
    (tmp_path / "bad.gz").write_bytes(gzip.compress(raw)[:40])
    with pytest.raises(IDXError, match="truncated or not gzip"):
        read_idx(str(tmp_path / "bad.gz"))


def test_dataset_from_root_and_env(tmp_path, monkeypatch):
    imgs, labs = make_split(str(tmp_path / "mine"))
    ds = FashionMNIST(root=str(tmp_path / "mine"))
    assert len(ds) == 6 and ds.data.dtype == np.uint8
    x, y = ds[2]
    assert x.shape == (1, 28, 28) and x.dtype == np.float32 and y == labs[2]
    np.testing.assert_allclose(x.numpy()[0], imgs[2] / 255.0, rtol=1e-6)
    make_split(str(tmp_path / "env" / "fashion-mnist"), n=4, seed=1, prefix="t10k")
    monkeypatch.setenv("AUTOGRAD_DATA", str(tmp_path / "env"))
    monkeypatch.setattr("autograd.data.datasets.DEBIAN_DIR", str(tmp_path / "none"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert len(FashionMNIST(train=False)) == 4
    with pytest.raises(RuntimeError, match="not found.*download=True"):
        MNIST(train=False)
    xb, yb = next(iter(DataLoader(ds, batch_size=4)))
    assert xb.shape == (4, 1, 28, 28) and yb.dtype == np.int64


def test_bundled_sample():
    tr = FashionMNIST(root="sample")
    te = FashionMNIST(root="sample", train=False)
    assert len(tr) == 4000 and len(te) == 1000
    assert sorted(set(tr.targets.numpy().tolist())) == list(range(10))


# ---- downloads from a local server ---------------------------------------------------------

class _Handler(http.server.BaseHTTPRequestHandler):
    files: dict = {}
    drop_once: set = set()
    ranges: list = []  # the Range header of each request (None without)
    requests: list = []
    bad_range = False  # answer 206 from byte 0 whatever was asked
    slow = False  # send in small chunks with pauses
    no_length = False  # no Content-Length header (the body ends when the connection does)

    def log_message(self, *a):
        pass

    def do_GET(self):
        name = self.path.lstrip("/")
        rng = self.headers.get("Range")
        type(self).ranges.append(rng)
        type(self).requests.append((name, rng))
        if name not in self.files:
            self.send_error(404)
            return
        data = self.files[name]
        start = 0
        if rng:
            start = 0 if self.bad_range else int(rng.split("=")[1].split("-")[0])
            if start >= len(data):
                self.send_error(416)
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        body = data[start:]
        if not self.no_length:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if name in self.drop_once:  # send half, then drop the connection
            self.drop_once.discard(name)
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.connection.shutdown(2)
            return
        step = 8192 if self.slow else len(body) or 1
        for i in range(0, len(body), step):
            self.wfile.write(body[i:i + step])
            if self.slow:
                self.wfile.flush()
                time.sleep(0.005)


@pytest.fixture
def server():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    th = threading.Thread(target=srv.serve_forever, daemon=True)
    th.start()
    _Handler.files = {}
    _Handler.drop_once = set()
    _Handler.ranges = []
    _Handler.requests = []
    _Handler.bad_range = False
    _Handler.slow = False
    _Handler.no_length = False
    yield f"http://127.0.0.1:{srv.server_address[1]}/"
    srv.shutdown()
    srv.server_close()


def _serve_split(tmp_path, prefix="train"):
    src = tmp_path / "src"
    imgs, labs = make_split(str(src), n=5, prefix=prefix)
    files, checks = {}, {}
    for f in os.listdir(src):
        data = (src / f).read_bytes()
        files[f] = data
        checks[f] = {"md5": hashlib.md5(data).hexdigest()}
    return files, checks, imgs


def test_download_verifies_and_installs(tmp_path, server, monkeypatch):
    files, checks, imgs = _serve_split(tmp_path)
    _Handler.files = files
    monkeypatch.setattr(FashionMNIST, "mirrors", [server])
    monkeypatch.setattr(FashionMNIST, "resources", checks)
    ds = FashionMNIST(root=str(tmp_path / "dl"), download=True)
    np.testing.assert_array_equal(ds.data.numpy(), imgs)
    assert not [f for f in os.listdir(tmp_path / "dl" / "fashion-mnist") if f.endswith(".part")]


def test_corrupt_download_is_rejected_and_removed(tmp_path, server, monkeypatch):
    files, checks, _ = _serve_split(tmp_path)
    name = "train-images-idx3-ubyte.gz"
    files[name] = files[name][:-10] + b"0123456789"  # corrupt the served copy
    _Handler.files = files
    monkeypatch.setattr(FashionMNIST, "mirrors", [server])
    monkeypatch.setattr(FashionMNIST, "resources", checks)
    with pytest.raises(RuntimeError, match="checksum mismatch"):
        FashionMNIST(root=str(tmp_path / "dl"), download=True)
    folder = tmp_path / "dl" / "fashion-mnist"
    assert not (folder / name).exists() and not (folder / (name + ".part")).exists()


def test_dropped_connection_resumes(tmp_path, server):
    data = os.urandom(200_000)
    _Handler.files = {"blob.bin": data}
    _Handler.drop_once = {"blob.bin"}
    dest = str(tmp_path / "blob.bin")
    out = download_url(server + "blob.bin", dest, {"md5": hashlib.md5(data).hexdigest()},
                       timeout=10, progress=False)
    assert open(out, "rb").read() == data
    assert not os.path.exists(dest + ".part")


def test_download_gives_up_cleanly(tmp_path, server):
    _Handler.files = {}
    with pytest.raises(DownloadError, match="HTTP error 404") as info:
        download_url(server + "missing.bin", str(tmp_path / "m.bin"), retries=2,
                     progress=False)
    assert ".part" not in str(info.value)  # no partial file exists to speak of
    assert os.listdir(tmp_path) == []
    port = server.rsplit(":", 1)[1].rstrip("/")
    _Handler.files = {"x.bin": b"abc"}
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}/x.bin"
    assert dead != server + "x.bin" and port
    with pytest.raises(DownloadError, match="failed after 2 tries") as info:
        download_url(dead, str(tmp_path / "x.bin"), retries=2, timeout=5, progress=False)
    assert ".part" not in str(info.value)


def test_stale_part_is_resumed_or_restarted_never_called_corrupt(tmp_path, server):
    data = os.urandom(100_000)
    _Handler.files = {"blob.bin": data}
    checks = {"md5": hashlib.md5(data).hexdigest()}
    dest = tmp_path / "blob.bin"
    (tmp_path / "blob.bin.part").write_bytes(data[:30_000])  # a killed earlier download
    download_url(server + "blob.bin", str(dest), checks, timeout=10, progress=False)
    assert dest.read_bytes() == data and _Handler.ranges == ["bytes=30000-"]
    dest.unlink()
    _Handler.ranges = []
    (tmp_path / "blob.bin.part").write_bytes(os.urandom(5_000))  # another version's bytes
    download_url(server + "blob.bin", str(dest), checks, timeout=10, progress=False)
    assert dest.read_bytes() == data and _Handler.ranges == ["bytes=5000-", None]
    dest.unlink()
    (tmp_path / "blob.bin.part").write_bytes(os.urandom(200_000))  # longer than the file
    download_url(server + "blob.bin", str(dest), checks, timeout=10, progress=False)
    assert dest.read_bytes() == data and os.listdir(tmp_path) == ["blob.bin"]


def test_endless_download_is_cut(tmp_path, server):
    _Handler.files = {"big.bin": b"x" * 300_000}
    with pytest.raises(DownloadError, match="more than max_bytes"):
        download_url(server + "big.bin", str(tmp_path / "big.bin"), max_bytes=100_000,
                     progress=False)
    _Handler.no_length = True  # no Content-Length: cut while streaming
    with pytest.raises(DownloadError, match="more than max_bytes"):
        download_url(server + "big.bin", str(tmp_path / "big.bin"), max_bytes=100_000,
                     progress=False)
    assert os.listdir(tmp_path) == []


def test_wrong_range_reply_starts_over(tmp_path, server):
    data = os.urandom(50_000)
    _Handler.files = {"blob.bin": data}
    _Handler.bad_range = True  # answers 206 from byte 0 whatever was asked
    (tmp_path / "blob.bin.part").write_bytes(data[:1000])
    out = download_url(server + "blob.bin", str(tmp_path / "blob.bin"),
                       {"md5": hashlib.md5(data).hexdigest()}, timeout=10, progress=False)
    assert open(out, "rb").read() == data


def test_download_settings_from_arguments_and_environment(tmp_path, server, monkeypatch):
    files, checks, imgs = _serve_split(tmp_path)
    _Handler.files = files
    monkeypatch.setattr(FashionMNIST, "resources", checks)
    monkeypatch.setenv("AUTOGRAD_DATA_MIRROR", server.rstrip("/"))  # no trailing slash
    monkeypatch.setenv("AUTOGRAD_DATA_TIMEOUT", "7.5")
    monkeypatch.setenv("AUTOGRAD_DATA_RETRIES", "2")
    ds = FashionMNIST(root=str(tmp_path / "env"), download=True)
    np.testing.assert_array_equal(ds.data.numpy(), imgs)
    assert ds._mirrors == [server] and ds._timeout == 7.5 and ds._retries == 2
    ds = FashionMNIST(root=str(tmp_path / "arg"), download=True, timeout=3, retries=1,
                      mirror=["http://127.0.0.1:1/nothing", server])  # the first one fails
    np.testing.assert_array_equal(ds.data.numpy(), imgs)
    assert ds._timeout == 3.0 and ds._retries == 1
    monkeypatch.setenv("AUTOGRAD_DATA_RETRIES", "many")
    assert len(FashionMNIST(root=str(tmp_path / "arg"))) == 5  # not downloading: not read
    with pytest.raises(ValueError, match="AUTOGRAD_DATA_RETRIES"):
        FashionMNIST(root=str(tmp_path / "arg"), download=True)
    monkeypatch.delenv("AUTOGRAD_DATA_RETRIES")
    with pytest.raises(ValueError, match="timeout must be positive"):
        FashionMNIST(root=str(tmp_path / "arg"), download=True, timeout=0)
    _Handler.files = {}
    with pytest.raises(DownloadError, match=r"(?s)HTTP error 404.*AUTOGRAD_DATA_MIRROR"):
        FashionMNIST(root=str(tmp_path / "none"), download=True)
    assert not [f for f in os.listdir(tmp_path / "none" / "fashion-mnist")
                if f.endswith(".part")]


# ---- concurrent downloads: 4 processes x 3 rounds ------------------------------------------

WORKER = """
import hashlib, json, sys
from autograd.data.datasets import FashionMNIST

class Tiny(FashionMNIST):
    resources = json.loads(sys.argv[1])

for root in sys.stdin:
    try:
        ds = Tiny(root=root.strip(), download=True)
        h = hashlib.sha256(ds.data.numpy().tobytes() + ds.targets.numpy().tobytes())
        print(json.dumps({"ok": True, "sha": h.hexdigest()}), flush=True)
    except Exception as e:
        print(json.dumps({"ok": False, "error": f"{type(e).__name__}: {e}"}), flush=True)
"""


def _read_lines(procs, deadline):
    out = {}
    while len(out) < len(procs):
        ready, _, _ = select.select([p.stdout for p in procs if p.pid not in out], [], [],
                                    max(0.0, deadline - time.monotonic()))
        if not ready:
            raise AssertionError(f"workers did not answer in time: {len(out)} answered")
        for p in procs:
            if p.stdout in ready:
                out[p.pid] = json.loads(p.stdout.readline() or '{"ok": false}')
    return [out[p.pid] for p in procs]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="POSIX flock and select")
def test_concurrent_downloads_into_one_root(tmp_path, server):
    src = tmp_path / "src"
    make_split(str(src), n=64, seed=3)
    files = {f: (src / f).read_bytes() for f in os.listdir(src)}
    checks = {f: {"md5": hashlib.md5(d).hexdigest()} for f, d in files.items()}
    want = FashionMNIST(root=str(src))
    sha = hashlib.sha256(want.data.numpy().tobytes() + want.targets.numpy().tobytes())
    _Handler.files = files
    _Handler.slow = True  # small chunks with pauses, so the processes overlap
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env.update(PYTHONPATH=str(ROOT), AUTOGRAD_DATA_MIRROR=server, AUTOGRAD_DATA_TIMEOUT="20",
               AUTOGRAD_DATA_RETRIES="3", NO_PROXY="127.0.0.1", OPENBLAS_NUM_THREADS="1")
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, json.dumps(checks)], env=env,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True) for _ in range(4)]
    loaded, total, gets = 0, 0, []
    try:
        for rnd in range(3):
            root = tmp_path / f"round{rnd}"
            folder = root / "fashion-mnist"
            if rnd == 1:  # a stale, corrupt .part from a killed run
                folder.mkdir(parents=True)
                (folder / "train-images-idx3-ubyte.gz.part").write_bytes(os.urandom(3000))
            if rnd == 2:  # the connection drops once mid-file
                _Handler.drop_once = {"train-images-idx3-ubyte.gz"}
            _Handler.requests = []
            for p in procs:
                p.stdin.write(f"{root}\n")
                p.stdin.flush()
            results = _read_lines(procs, time.monotonic() + 120)
            total += len(results)
            loaded += sum(r["ok"] and r["sha"] == sha.hexdigest() for r in results)
            assert all(r["ok"] for r in results), results
            assert all(r["sha"] == sha.hexdigest() for r in results)
            gets.append(len(_Handler.requests))
            # one process downloaded each file; the others waited for it (a restart or a
            # resume adds a request)
            assert len(_Handler.requests) <= 2 + (rnd > 0), _Handler.requests
            assert sorted(os.listdir(folder)) == [".lock"] + sorted(files)
    finally:
        for p in procs:
            p.stdin.close()
            p.wait(timeout=30)
            p.stdout.close()
    if os.environ.get("AUTOGRAD_DOWNLOAD_REPORT"):
        pathlib.Path(os.environ["AUTOGRAD_DOWNLOAD_REPORT"]).write_text(json.dumps(
            {"processes": 4, "rounds": 3, "loaded": loaded, "total": total,
             "requests_per_round": gets}))
    assert loaded == total == 12
