"""MNIST and Fashion-MNIST from the standard IDX files.

Where the files are looked up, in order: ``root`` (if given), ``$AUTOGRAD_DATA/<name>/``,
``~/.cache/autograd/<name>/``, and Debian's ``/usr/share/datasets/<name>/`` (the
``dataset-fashion-mnist`` package). ``download=True`` fetches the official files into
``root/<name>`` or the cache, with a progress bar, resuming a partial download (HTTP Range),
verifying checksums, and renaming into place only when complete, so a failed or interrupted
download never leaves a half-written file under the final name. Processes that download into
the same folder at once take turns on an ``flock`` of ``<folder>/.lock``: one downloads, the
others wait and then load what it fetched.

Download settings, each a constructor argument or else an environment variable:
``mirror=`` / ``$AUTOGRAD_DATA_MIRROR`` (base URLs, comma- or space-separated, tried in order;
default: the class's ``mirrors``), ``timeout=`` / ``$AUTOGRAD_DATA_TIMEOUT`` (seconds per
request, default 60), ``retries=`` / ``$AUTOGRAD_DATA_RETRIES`` (tries per file and mirror,
default 3).

Checksums: SHA-256 of the decompressed IDX content (so re-compressed mirrors, such as
Debian's, verify too) and/or the MD5 of the official ``.gz`` files.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import http.client
import os
import re
import sys
import time
import urllib.error
import urllib.request

import numpy as np
from tqdm import tqdm

from ..tensor import _make
from .dataset import Dataset

try:
    import fcntl
except ImportError:  # not POSIX: downloads are not locked against other processes
    fcntl = None

DEBIAN_DIR = "/usr/share/datasets"


class IDXError(ValueError):
    """A file is not a valid IDX file (wrong magic, truncated, inconsistent sizes)."""


_IDX_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4",
              0x0E: ">f8"}


def read_idx(path: str) -> np.ndarray:
    """Read an IDX file (optionally .gz) into a NumPy array, checking its header."""
    opener = gzip.open if path.endswith(".gz") else open
    try:
        with opener(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError) as e:
        raise IDXError(f"{path}: cannot read ({e}); the file is truncated or not gzip") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_TYPES:
        raise IDXError(
            f"{path}: not an IDX file (magic bytes {raw[:4].hex() if raw else 'missing'}; "
            "expected 00 00 <type> <ndim>)"
        )
    ndim = raw[3]
    head = 4 + 4 * ndim
    if len(raw) < head:
        raise IDXError(f"{path}: truncated IDX header")
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    dtype = np.dtype(_IDX_TYPES[raw[2]])
    need = int(np.prod(dims)) * dtype.itemsize
    if len(raw) - head != need:
        raise IDXError(
            f"{path}: IDX header says shape {dims} ({need} bytes of data) but the file holds "
            f"{len(raw) - head} bytes: truncated or corrupt"
        )
    return np.frombuffer(raw, dtype=dtype, offset=head).reshape(dims).astype(
        dtype.newbyteorder("=") if dtype.byteorder == ">" else dtype)


def _content_sha256(path: str) -> str:
    opener = gzip.open if path.endswith(".gz") else open
    h = hashlib.sha256()
    with opener(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _md5(path: str) -> str:
    h = hashlib.md5()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def verify(path: str, checks: dict) -> bool:
    """True when ``path`` matches any of the given checksums (or none are given)."""
    if not checks:
        return True
    try:
        if "md5" in checks and _md5(path) == checks["md5"]:
            return True
        if "sha256_content" in checks and _content_sha256(path) == checks["sha256_content"]:
            return True
    except (OSError, EOFError, gzip.BadGzipFile):
        return False
    return False


class DownloadError(RuntimeError):
    """A download failed: HTTP error, network failure after the retries, or checksum mismatch
    of a complete, fresh download."""


def _content_range_start(value) -> int | None:
    """The first byte of a ``Content-Range: bytes START-END/TOTAL`` reply, or None."""
    m = re.fullmatch(r"\s*bytes\s+(\d+)-\d+/(\d+|\*)\s*", value or "")
    return int(m.group(1)) if m else None


def download_url(url: str, dest: str, checks: dict | None = None, timeout: float = 60.0,
                 retries: int = 3, progress: bool = True, max_bytes: int = 1 << 30) -> str:
    """Download ``url`` to ``dest`` atomically and resumably, verifying ``checks``.

    Bytes go to ``dest + '.part'``; an interrupted transfer is resumed with an HTTP Range
    request (on the next try or the next call); only a complete, verified file is renamed to
    ``dest``. A resumed file that fails its checksum (a stale ``.part`` of another version, or
    a server that answered the Range wrongly) is downloaded once more from the start; only a
    fresh download that fails it is reported as a mismatch. HTTP errors other than timeouts,
    429 and 5xx are not retried. A file longer than ``max_bytes`` is refused (a mirror that
    never stops sending would fill the disk). Callers that may run concurrently hold a lock (see
    ``MNIST``): the ``.part`` file belongs to one writer.

    Raises:
        DownloadError: (a RuntimeError) the download failed; the message says why.
    """
    part = dest + ".part"
    os.makedirs(os.path.dirname(os.path.abspath(dest)), exist_ok=True)
    last_err, tries, restarted = None, 0, False
    while tries < max(retries, 1):
        tries += 1
        have = os.path.getsize(part) if os.path.exists(part) else 0
        req = urllib.request.Request(url, headers={"Range": f"bytes={have}-"} if have else {})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                status = getattr(resp, "status", 200)
                got = _content_range_start(resp.headers.get("Content-Range"))
                if have and status == 206 and got != have:  # a reply for other bytes
                    os.remove(part)
                    last_err = ConnectionError(f"asked for bytes {have}- but the server sent "
                                               f"{resp.headers.get('Content-Range')!r}")
                    continue
                if have and status != 206:  # Range ignored: the whole file follows
                    have = 0
                total = resp.headers.get("Content-Length")
                total = int(total) + have if total is not None and total.isdigit() else None
                if total is not None and total > max_bytes:
                    raise DownloadError(f"download of {url}: the server announces {total} "
                                        f"bytes, more than max_bytes={max_bytes}")
                with open(part, "ab" if have else "wb") as f, tqdm(
                    total=total, initial=have, unit="B", unit_scale=True,
                    desc=os.path.basename(dest), disable=not progress, leave=False,
                ) as bar:
                    while True:
                        chunk = resp.read(1 << 16)
                        if not chunk:
                            break
                        f.write(chunk)
                        bar.update(len(chunk))
                        if f.tell() > max_bytes:
                            f.close()
                            os.remove(part)
                            raise DownloadError(f"download of {url}: more than "
                                                f"max_bytes={max_bytes} bytes, stopped")
                    f.flush()
                    os.fsync(f.fileno())
                if total is not None and os.path.getsize(part) < total:
                    raise ConnectionError(
                        f"connection dropped after {os.path.getsize(part)} of {total} bytes"
                    )
        except urllib.error.HTTPError as e:
            if e.code == 416 and have:  # nothing past what we have: maybe complete already
                pass
            elif e.code in (408, 429) or e.code >= 500:
                last_err = e
                time.sleep(min(0.2 * tries, 2.0))
                continue
            else:
                raise DownloadError(f"download of {url}: HTTP error {e.code} ({e.reason})"
                                    ) from None
        except (urllib.error.URLError, http.client.HTTPException, ConnectionError, OSError,
                TimeoutError) as e:
            last_err = e
            continue
        if verify(part, checks or {}):
            os.replace(part, dest)
            return dest
        os.remove(part)
        if have and not restarted:  # resumed onto a stale prefix: once more, from zero
            restarted = True
            tries -= 1
            continue
        raise DownloadError(
            f"download of {url}: checksum mismatch (expected {checks}); the file was "
            "deleted. The mirror may be corrupt: try again or another mirror."
        )
    kept = (f" (partial data kept in {part}; calling again resumes)"
            if os.path.exists(part) else "")
    raise DownloadError(f"download of {url} failed after {tries} tries: {last_err}{kept}")


def _env(name: str, parse, what: str):
    value = os.environ.get(name)
    if value is None or not value.strip():
        return None
    try:
        return parse(value)
    except ValueError:
        raise ValueError(f"${name}={value!r} is not {what}") from None


@contextlib.contextmanager
def _folder_lock(folder: str, who: str):
    """Hold an exclusive flock on ``folder/.lock``: one process downloads, the others wait."""
    if fcntl is None:
        yield
        return
    fd = os.open(os.path.join(folder, ".lock"), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"{who}: waiting for another process downloading into {folder}",
                  file=sys.stderr)
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


class MNIST(Dataset):
    """The MNIST handwritten digits (28x28 grey images, 10 classes).

    Args:
        root: a folder holding the IDX files (``train-images-idx3-ubyte.gz``...), or None to
            search ``$AUTOGRAD_DATA``, ``~/.cache/autograd`` and ``/usr/share/datasets``.
        train: the 60,000-image training split (else the 10,000-image test split).
        download: fetch the files if they are not found.
        transform: applied to each image (a float32 Tensor (1, 28, 28) in [0, 1]).
        target_transform: applied to each label (an int).
        mirror: base URL or list of base URLs to download from (default:
            ``$AUTOGRAD_DATA_MIRROR``, else ``mirrors``).
        timeout: seconds per request (default: ``$AUTOGRAD_DATA_TIMEOUT``, else 60).
        retries: tries per file and mirror (default: ``$AUTOGRAD_DATA_RETRIES``, else 3).

    Raises:
        RuntimeError: the files are missing and ``download`` is False; ``DownloadError`` (a
            RuntimeError) when a download fails.

    Attributes:
        data: uint8 Tensor (N, 28, 28); targets: int64 Tensor (N,); classes: names.
    """

    name = "mnist"
    mirrors = ["https://ossci-datasets.s3.amazonaws.com/mnist/",
               "http://yann.lecun.com/exdb/mnist/"]
    resources = {
        "train-images-idx3-ubyte.gz": {"md5": "f68b3c2dcbeaaa9fbdd348bbdeb94873"},
        "train-labels-idx1-ubyte.gz": {"md5": "d53e105ee54ea40749a09fcbcd1e9432"},
        "t10k-images-idx3-ubyte.gz": {"md5": "9fb629c4189551a2d022fa330f9573f3"},
        "t10k-labels-idx1-ubyte.gz": {"md5": "ec29112dd5afa0611ce80d1b7f02629c"},
    }
    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five",
               "6 - six", "7 - seven", "8 - eight", "9 - nine"]

    def __init__(self, root: str | None = None, train: bool = True, download: bool = False,
                 transform=None, target_transform=None, *, mirror=None,
                 timeout: float | None = None, retries: int | None = None):
        self.train = train
        if download:  # (the settings, and their environment variables, matter only then)
            self._mirrors = self._pick_mirrors(mirror)
            self._timeout = self._pick(timeout, "AUTOGRAD_DATA_TIMEOUT", float, 60.0,
                                       "a number of seconds")
            self._retries = self._pick(retries, "AUTOGRAD_DATA_RETRIES", int, 3,
                                       "an integer")
        self.transform = transform
        self.target_transform = target_transform
        prefix = "train" if train else "t10k"
        self._files = (f"{prefix}-images-idx3-ubyte.gz", f"{prefix}-labels-idx1-ubyte.gz")
        folder = self._find(root)
        if folder is None:
            if not download:
                raise RuntimeError(
                    f"{type(self).__name__}: dataset files {list(self._files)} not found in "
                    f"{self._search_path(root)}. Pass download=True, set AUTOGRAD_DATA, or "
                    f"install Debian's dataset package (apt-get install dataset-fashion-mnist)."
                )
            folder = self._download(root)
        self.root = folder
        images = read_idx(os.path.join(folder, self._files[0]))
        labels = read_idx(os.path.join(folder, self._files[1]))
        if images.ndim != 3 or labels.ndim != 1 or images.shape[0] != labels.shape[0]:
            raise IDXError(f"{folder}: images {images.shape} and labels {labels.shape} do not "
                           "match (expected (N, 28, 28) and (N,))")
        self.data = _make(np.ascontiguousarray(images))
        self.targets = _make(labels.astype(np.int64))

    # ---- locating and downloading ----
    def _search_path(self, root):
        out = []
        if root is not None:
            out += [root, os.path.join(root, self.name)]
        env = os.environ.get("AUTOGRAD_DATA")
        if env:
            out.append(os.path.join(env, self.name))
        out.append(os.path.join(os.path.expanduser("~"), ".cache", "autograd", self.name))
        out.append(os.path.join(DEBIAN_DIR, self.name))
        return out

    def _find(self, root):
        for d in self._search_path(root):
            if all(os.path.exists(os.path.join(d, f)) for f in self._files):
                return d
        return None

    def _pick_mirrors(self, mirror) -> list:
        if mirror is None:
            mirror = _env("AUTOGRAD_DATA_MIRROR", lambda v: v.replace(",", " ").split(),
                          "a list of URLs")
        if mirror is None:
            mirror = self.mirrors
        if isinstance(mirror, str):
            mirror = mirror.replace(",", " ").split()
        out = [m if m.endswith("/") else m + "/" for m in mirror]
        if not out:
            raise ValueError(f"{type(self).__name__}: no mirror given")
        return out

    @staticmethod
    def _pick(value, env: str, parse, default, what: str):
        if value is None:
            value = _env(env, parse, what)
        value = default if value is None else parse(value)
        if value <= 0 if parse is float else value < 1:
            raise ValueError(f"{env.split('_')[-1].lower()} must be positive, got {value}")
        return value

    def _download(self, root):
        dest = os.path.join(root, self.name) if root is not None else os.path.join(
            os.path.expanduser("~"), ".cache", "autograd", self.name)
        os.makedirs(dest, exist_ok=True)
        with _folder_lock(dest, type(self).__name__):  # the others wait, then find the files
            for fname in self._files:
                target = os.path.join(dest, fname)
                if os.path.exists(target) and verify(target, self.resources.get(fname, {})):
                    continue
                errors = []
                for base in self._mirrors:
                    try:
                        download_url(base + fname, target, self.resources.get(fname),
                                     timeout=self._timeout, retries=self._retries)
                        break
                    except DownloadError as e:
                        errors.append(str(e))
                else:
                    raise DownloadError(
                        f"{type(self).__name__}: could not download {fname} into {dest}:\n  "
                        + "\n  ".join(errors)
                        + "\n(mirrors: the mirror= argument or $AUTOGRAD_DATA_MIRROR; "
                        "timeout=/retries= or $AUTOGRAD_DATA_TIMEOUT/$AUTOGRAD_DATA_RETRIES)")
        return dest

    # ---- access ----
    def __len__(self) -> int:
        return self.data.shape[0]

    def _image(self, arr):
        return _make((arr.astype(np.float32) / 255.0)[..., None, :, :])

    def __getitem__(self, i):
        img = self._image(self.data._data[i])
        label = int(self.targets._data[i])
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            label = self.target_transform(label)
        return img, label

    def __getitems__(self, indices):
        if self.transform is not None or self.target_transform is not None:
            return [self[i] for i in indices]
        idx = np.asarray(indices, dtype=np.int64)
        return self._image(self.data._data[idx]), _make(self.targets._data[idx])

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(split={'train' if self.train else 'test'}, "
                f"n={len(self)}, root={self.root!r})")


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST (28x28 grey clothing images, 10 classes; MIT licence).

    Same arguments as ``MNIST``. ``root="sample"`` loads the small sample bundled with the
    package (``autograd/data/sample``: the first 4,000 training and 1,000 test images).
    """

    name = "fashion-mnist"
    mirrors = ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"]
    resources = {
        "train-images-idx3-ubyte.gz": {
            "md5": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
            "sha256_content": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888"},
        "train-labels-idx1-ubyte.gz": {
            "md5": "25c81989df183df01b3e8a0aad5dffbe",
            "sha256_content": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9"},
        "t10k-images-idx3-ubyte.gz": {
            "md5": "bef4ecab320f06d8554ea6380940ec79",
            "sha256_content": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b"},
        "t10k-labels-idx1-ubyte.gz": {
            "md5": "bb300cfdad3c16e7a12a480ee83cd310",
            "sha256_content": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"},
    }
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
               "Sneaker", "Bag", "Ankle boot"]

    def __init__(self, root: str | None = None, train: bool = True, download: bool = False,
                 transform=None, target_transform=None, *, mirror=None,
                 timeout: float | None = None, retries: int | None = None):
        if root == "sample":
            root = sample_dir()
        super().__init__(root, train, download, transform, target_transform, mirror=mirror,
                         timeout=timeout, retries=retries)


def sample_dir() -> str:
    """The folder of the Fashion-MNIST sample shipped inside the package."""
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), "sample")

