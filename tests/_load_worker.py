"""Worker for tests/test_hostile_files.py: loads many hostile files in one process under an
address-space limit (RLIMIT_AS) and reports, per file, what happened and the peak memory.

Usage: python tests/_load_worker.py MANIFEST RESULTS START

MANIFEST is a JSON object {"originals": {key: [kind, path]}, "cases": [case...]}, each case
{"id", "kind": "ag" | "st", "path", "original": key or null}. One JSON line per case, from
index START on, is appended to RESULTS (flushed, so a crash loses only the case it hit):
{"i", "outcome": "same" | "different" | "lib" | "other", "peak", "error", "names_file"}.
"""

from __future__ import annotations

import json
import resource
import signal
import sys
import tracemalloc

import numpy as np

import autograd as ag
from autograd.serialization import CheckpointError

HEADROOM = 768 << 20  # address space allowed above what the started worker maps


def _vm_size() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmSize in /proc/self/status")


def same(a, b) -> bool:
    """Identical data and structure (types, dict order, dtypes, shapes, bits, flags)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, ag.Tensor):
        return (a.requires_grad == b.requires_grad and same(a.detach().numpy(),
                                                            b.detach().numpy()))
    if isinstance(a, (np.ndarray, np.generic)):
        return (a.dtype == b.dtype and a.shape == b.shape
                and np.ascontiguousarray(a).tobytes() == np.ascontiguousarray(b).tobytes())
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, float):
        return a == b or (a != a and b != b)
    return a == b


def _load(kind: str, path: str):
    return ag.load(path) if kind == "ag" else ag.load_safetensors(path)


class Hang(BaseException):  # not an Exception, so no except clause in the loader eats it
    pass


def _timeout(signum, frame):
    raise Hang("the load took more than 20 s")


def main() -> None:
    manifest_path, results_path, start = sys.argv[1], sys.argv[2], int(sys.argv[3])
    with open(manifest_path) as f:
        manifest = json.load(f)
    originals = {k: _load(kind, p) for k, (kind, p) in manifest["originals"].items()}
    # Importing CuPy (where it is installed) is a one-time cost of the first file that names
    # a GPU device, not memory the loader holds for that file: pay it before measuring.
    ag.cuda.is_available()
    limit = _vm_size() + HEADROOM
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    signal.signal(signal.SIGALRM, _timeout)
    tracemalloc.start()
    with open(results_path, "a") as out:
        for i in range(start, len(manifest["cases"])):
            case = manifest["cases"][i]
            res = {"i": i, "error": None, "names_file": None}
            base = tracemalloc.get_traced_memory()[0]
            tracemalloc.reset_peak()
            signal.alarm(20)
            try:
                obj = _load(case["kind"], case["path"])
            except CheckpointError as e:
                res["outcome"] = "lib"
                res["error"] = str(e)[:300]
                res["names_file"] = case["path"] in str(e)
            except (Exception, Hang) as e:  # noqa: BLE001  (what the test looks for)
                res["outcome"] = "other"
                res["error"] = f"{type(e).__name__}: {str(e)[:300]}"
            else:
                orig = originals.get(case["original"])
                res["outcome"] = "same" if orig is not None and same(obj, orig) else "different"
                del obj
            finally:
                signal.alarm(0)
            res["peak"] = tracemalloc.get_traced_memory()[1] - base
            out.write(json.dumps(res) + "\n")
            out.flush()


if __name__ == "__main__":
    main()
