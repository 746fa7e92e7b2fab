"""autograd.data: DataLoader semantics, IDX parsing, dataset lookup and downloads."""

from __future__ import annotations

import gzip
import hashlib
import http.server
import os
import threading

import numpy as np
import pytest

import autograd as ag
from autograd.data import DataLoader, Dataset, TensorDataset, default_collate, random_split
from autograd.data.datasets import (
    MNIST,
    FashionMNIST,
    IDXError,
    download_url,
    read_idx,
)

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
    assert floats.dtype == np.float32
    custom = DataLoader(DictDataset(), batch_size=2, collate_fn=lambda b: len(b))
    assert list(custom) == [2, 2, 1]
    assert default_collate([ag.ones(2), ag.zeros(2)]).shape == (2, 2)


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

    def log_message(self, *a):
        pass

    def do_GET(self):
        name = self.path.lstrip("/")
        if name not in self.files:
            self.send_error(404)
            return
        data = self.files[name]
        start = 0
        rng = self.headers.get("Range")
        if rng:
            start = int(rng.split("=")[1].split("-")[0])
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        body = data[start:]
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if name in self.drop_once:  # send half, then drop the connection
            self.drop_once.discard(name)
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.connection.shutdown(2)
            return
        self.wfile.write(body)


@pytest.fixture
def server():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    th = threading.Thread(target=srv.serve_forever, daemon=True)
    th.start()
    _Handler.files = {}
    _Handler.drop_once = set()
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
    with pytest.raises(RuntimeError, match="failed after 2 tries"):
        download_url(server + "missing.bin", str(tmp_path / "m.bin"), retries=2,
                     progress=False)
    assert not (tmp_path / "m.bin").exists()
