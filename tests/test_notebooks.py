"""The tutorial notebooks (notebooks/*.ipynb).

Each one must run top to bottom in quick mode (NOTEBOOK_QUICK=1), executed exactly as
``python scripts/run_notebooks.py --quick`` does it; those tests are skipped when the
notebook tooling (the ``notebooks`` extra) is not installed. Each committed notebook must
also carry its outputs, open with "What you will learn", have an "Exercises" section, and
contain no absolute paths.
"""

from __future__ import annotations

import glob
import importlib.util
import json
import os
import re
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NOTEBOOKS = sorted(glob.glob(os.path.join(ROOT, "notebooks", "*.ipynb")))
IDS = [os.path.basename(p) for p in NOTEBOOKS]
TOOLS = ("nbclient", "nbformat", "ipykernel", "matplotlib")
# an absolute path into a machine's folders: /work/..., /home/..., /root/..., /tmp/...
ABS_PATH = re.compile(r"(?<![\w.~/-])/(?:work|home|root|tmp)(?:/|\b)")
TEXT_MIME = ("text/plain", "text/html", "text/markdown", "text/latex", "image/svg+xml")


def _runner():
    """scripts/run_notebooks.py as a module (scripts/ is not a package)."""
    name = "_run_notebooks_under_test"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            name, os.path.join(ROOT, "scripts", "run_notebooks.py"))
        mod = importlib.util.module_from_spec(spec)
        sys.modules[name] = mod  # dataclasses look their module up here
        spec.loader.exec_module(mod)
    return sys.modules[name]


def _skip_without_tools():
    for name in TOOLS:
        if importlib.util.find_spec(name) is None:
            pytest.skip(f"{name} is not installed: the notebook tests need the notebooks "
                        f"extra (pip install -e \".[notebooks]\")")
    problem = _runner().check_kernel()
    if problem:
        pytest.skip(problem)


def _load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def _text(src) -> str:
    return "".join(src) if isinstance(src, list) else (src or "")


def test_notebooks_exist():
    assert NOTEBOOKS, "no notebooks found in notebooks/"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_runs_in_quick_mode(path):
    _skip_without_tools()
    result = _runner().run_notebook(path, quick=True, timeout=300, write=False)
    assert result.ok, f"{os.path.basename(path)} failed in quick mode:\n{result.error}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_structure(path):
    nb = _load(path)
    cells = nb["cells"]
    assert cells and cells[0]["cell_type"] == "markdown", "the first cell must be markdown"
    assert "What you will learn" in _text(cells[0]["source"]), \
        'the first cell must contain "What you will learn"'
    headings = [line for c in cells if c["cell_type"] == "markdown"
                for line in _text(c["source"]).splitlines() if line.lstrip().startswith("#")]
    assert any(re.match(r"\s*#+\s*Exercises\b", h) for h in headings), \
        'no "Exercises" heading'
    assert nb.get("metadata", {}).get("kernelspec", {}).get("name") == "python3"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_committed_with_outputs(path):
    code = [c for c in _load(path)["cells"] if c["cell_type"] == "code"]
    not_run = [i for i, c in enumerate(code) if c.get("execution_count") is None]
    assert not not_run, (f"code cells {not_run} have not been executed: regenerate with "
                         "`python scripts/run_notebooks.py --write`")
    assert any(c.get("outputs") for c in code), "the notebook has no outputs"
    errors = [o.get("ename") for c in code for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    assert not errors, f"the committed outputs contain errors: {errors}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_has_no_absolute_paths(path):
    found = []
    for i, c in enumerate(_load(path)["cells"]):
        texts = [_text(c.get("source"))]
        for o in c.get("outputs", []):
            texts.append(_text(o.get("text")))
            texts += [_text(o.get("data", {}).get(m)) for m in TEXT_MIME]
            texts += o.get("traceback", [])
        for t in texts:
            found += [f"cell {i}: ...{t[max(m.start() - 30, 0):m.end() + 30]}..."
                      for m in ABS_PATH.finditer(t)]
    assert not found, "absolute paths in the notebook:\n" + "\n".join(found[:10])


def test_runner_reports_a_failing_cell(tmp_path, capsys):
    _skip_without_tools()
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("x = 1"),
                nbformat.v4.new_code_cell("raise ValueError('boom in cell')")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    path = tmp_path / "broken.ipynb"
    nbformat.write(nb, str(path))
    rc = _runner().main([str(path), "--quick", "--timeout", "60"])
    err = capsys.readouterr().err
    assert rc == 1
    assert "cell 1" in err and "ValueError" in err and "boom in cell" in err
