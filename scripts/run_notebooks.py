"""Execute the tutorial notebooks (notebooks/*.ipynb) top to bottom, in order.

    python scripts/run_notebooks.py            # run every notebook, report, change nothing
    python scripts/run_notebooks.py --quick    # NOTEBOOK_QUICK=1: small data, few epochs
    python scripts/run_notebooks.py --write    # run and save the outputs into the files
    python scripts/run_notebooks.py notebooks/03_*.ipynb --write   # only some notebooks

Each notebook runs in a fresh "python3" Jupyter kernel (ipykernel) with notebooks/ as the
working directory and the repository root on PYTHONPATH. The exit status is non-zero when
any cell fails; the failing notebook, cell and error are printed. ``--write`` saves a
notebook only when all of its cells ran.
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import os
import re
import sys
import time
from dataclasses import dataclass

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NOTEBOOK_DIR = os.path.join(ROOT, "notebooks")
KERNEL = "python3"


@dataclass
class Result:
    path: str
    ok: bool
    seconds: float
    error: str = ""


def notebook_paths(patterns=None) -> list[str]:
    """The notebooks to run, sorted by name (01_..., 02_...): all of notebooks/*.ipynb, or
    those matching ``patterns`` (paths or globs)."""
    if not patterns:
        found = glob.glob(os.path.join(NOTEBOOK_DIR, "*.ipynb"))
    else:
        found = []
        for p in patterns:
            hits = glob.glob(p) or glob.glob(os.path.join(NOTEBOOK_DIR, p))
            if not hits:
                raise FileNotFoundError(f"no notebook matches {p!r}")
            found += hits
    return sorted({os.path.abspath(p) for p in found if ".ipynb_checkpoints" not in p},
                  key=os.path.basename)


_THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


@contextlib.contextmanager
def _kernel_env(quick: bool, threads: int | None = 1):
    """Environment the kernel inherits: NOTEBOOK_QUICK, the repository on PYTHONPATH and
    (unless already set) the BLAS thread count. The notebooks multiply small matrices, where
    BLAS threads only add overhead, and a lot of it on a busy machine."""
    saved = {k: os.environ.get(k) for k in ("NOTEBOOK_QUICK", "PYTHONPATH", *_THREAD_VARS)}
    if quick:
        os.environ["NOTEBOOK_QUICK"] = "1"
    else:
        os.environ.pop("NOTEBOOK_QUICK", None)
    path = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = ROOT + (os.pathsep + path if path else "")
    if threads:
        for k in _THREAD_VARS:
            os.environ.setdefault(k, str(threads))
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def _describe_error(exc: Exception, nb, max_lines: int = 30) -> str:
    """The failing cell (number and first lines of its source) and the error, with the end
    of the traceback (colour codes removed)."""
    from nbclient.exceptions import CellExecutionError, CellTimeoutError

    cell_no, tb = None, []
    for i, cell in enumerate(nb.cells):
        errs = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        if cell.cell_type == "code" and errs:
            cell_no, tb = i, errs[0].get("traceback", [])
            break
    out = []
    if cell_no is not None:
        src = nb.cells[cell_no].source.splitlines()
        out.append(f"cell {cell_no}:\n    " + "\n    ".join(src[:8])
                   + ("\n    ..." if len(src) > 8 else ""))
    if isinstance(exc, CellTimeoutError):
        out.append(f"timed out: {exc}")
    elif isinstance(exc, CellExecutionError):
        lines = _ANSI.sub("", "\n".join(tb)).splitlines()
        if len(lines) > max_lines:
            lines = ["..."] + lines[-max_lines:]
        out.append("\n".join(lines) if lines else f"{exc.ename}: {exc.evalue}")
    else:
        out.append(f"{type(exc).__name__}: {exc}")
    return "\n".join(out)


def run_notebook(path: str, quick: bool = False, timeout: int = 600, write: bool = False,
                 kernel_name: str = KERNEL, threads: int | None = 1) -> Result:
    """Execute one notebook in a fresh kernel (cwd = its folder).

    Args:
        path: the .ipynb file.
        quick: set NOTEBOOK_QUICK=1 for the kernel (small data, few epochs).
        timeout: seconds allowed per cell.
        write: save the executed notebook (outputs included) back to ``path`` on success.
        kernel_name: the Jupyter kernel (ipykernel's "python3").
        threads: BLAS threads for the kernel when the environment does not say (None: leave
            BLAS's default).

    Returns:
        A ``Result`` with ok, the seconds taken and, on failure, the cell and error.
    """
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name=kernel_name,
                            resources={"metadata": {"path": os.path.dirname(path)}},
                            record_timing=False, coalesce_streams=True)
    t0 = time.perf_counter()
    try:
        with _kernel_env(quick, threads):
            client.execute()
    except Exception as e:  # a failing cell, a timeout, a kernel that died
        return Result(path, False, time.perf_counter() - t0, _describe_error(e, nb))
    seconds = time.perf_counter() - t0
    if write:
        nb.metadata.pop("widgets", None)
        nbformat.write(nb, path)
    return Result(path, True, seconds)


def check_kernel(kernel_name: str = KERNEL) -> str | None:
    """None when the kernel can be started, else what is missing and how to fix it."""
    try:
        import ipykernel  # noqa: F401
        import nbclient  # noqa: F401
        import nbformat  # noqa: F401
        from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
    except ImportError as e:
        return f"{e.name} is not installed: pip install -e \".[notebooks]\""
    try:
        KernelSpecManager().get_kernel_spec(kernel_name)
    except NoSuchKernel:
        return (f"no Jupyter kernel named {kernel_name!r}: "
                f"python -m ipykernel install --user --name {kernel_name}")
    return None


def _display(path: str) -> str:
    rel = os.path.relpath(path, ROOT)
    return path if rel.startswith("..") else rel


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("notebooks", nargs="*", help="notebooks to run (default: all, in order)")
    ap.add_argument("--quick", action="store_true",
                    help="set NOTEBOOK_QUICK=1: shrink data and epochs (seconds per notebook)")
    ap.add_argument("--write", action="store_true",
                    help="save the outputs back into each notebook that ran without error")
    ap.add_argument("--timeout", type=int, default=600, help="seconds allowed per cell")
    ap.add_argument("--kernel", default=KERNEL, help="Jupyter kernel name (default python3)")
    ap.add_argument("--threads", type=int, default=1,
                    help="BLAS threads in the kernel unless OPENBLAS_NUM_THREADS/OMP_NUM_THREADS "
                         "are set (default 1; 0 leaves BLAS's default)")
    args = ap.parse_args(argv)

    problem = check_kernel(args.kernel)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    try:
        paths = notebook_paths(args.notebooks)
    except FileNotFoundError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if not paths:
        print("error: no notebooks found", file=sys.stderr)
        return 2
    if args.write and args.quick:
        print("note: --quick --write saves quick-mode outputs; commit full runs instead")

    results = []
    for p in paths:
        name = _display(p)
        print(f"running {name} ...", flush=True)
        r = run_notebook(p, quick=args.quick, timeout=args.timeout, write=args.write,
                         kernel_name=args.kernel, threads=args.threads or None)
        results.append(r)
        if r.ok:
            print(f"  ok in {r.seconds:.1f} s" + ("  (outputs written)" if args.write else ""))
        else:
            print(f"  FAILED after {r.seconds:.1f} s in {name}, {r.error}", file=sys.stderr)
    failed = [r for r in results if not r.ok]
    total = sum(r.seconds for r in results)
    print(f"{len(results) - len(failed)}/{len(results)} notebooks ran without error "
          f"in {total:.1f} s" + (" (quick mode)" if args.quick else ""))
    for r in failed:
        print(f"failed: {_display(r.path)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
