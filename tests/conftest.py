"""Shared pytest configuration.

* A small, deadline-free hypothesis profile (float64 gradient checks are slow enough that
  per-example deadlines only produce flaky failures).
* ``--cuda-sim``: serve ``device="cuda"`` with the strict CuPy stand-in of ``tests/cupy_sim``
  (installed before any test module is imported, so their ``ag.cuda.is_available()`` is
  True and every ``"cuda"`` case runs). ``pytest --cuda-sim -m gpu`` runs just those.
"""

import pathlib
import sys

import pytest
from hypothesis import settings

settings.register_profile("ci", max_examples=25, deadline=None)
settings.load_profile("ci")


def pytest_addoption(parser):
    parser.addoption("--cuda-sim", action="store_true", default=False,
                     help="run the 'cuda' cases on the CuPy stand-in (tests/cupy_sim)")


def pytest_configure(config):
    if config.getoption("--cuda-sim"):
        here = str(pathlib.Path(__file__).resolve().parent)
        if here not in sys.path:
            sys.path.insert(0, here)
        import cupy_sim  # noqa: PLC0415 - only with --cuda-sim

        from autograd import backend  # noqa: PLC0415

        backend.use_cupy_module(cupy_sim.module, cupy_sim.cupyx)
        config.cuda_sim = cupy_sim


def pytest_report_header(config):
    sim = getattr(config, "cuda_sim", None)
    if sim is not None:
        return f"cuda: CuPy stand-in (namespace of CuPy {sim.VERSION}), not a GPU"
    return None


@pytest.fixture
def sim():
    """``device="cuda"`` served by the strict CuPy stand-in for one test (any run); yields
    the stand-in's ``cupy`` module and restores what the backend had afterwards."""
    here = str(pathlib.Path(__file__).resolve().parent)
    if here not in sys.path:
        sys.path.insert(0, here)
    import cupy_sim  # noqa: PLC0415 - the stand-in, only for the tests that ask for it

    from autograd import backend  # noqa: PLC0415 - keep conftest free of package imports

    prev = (backend._cupy, backend._cupyx)
    backend.use_cupy_module(cupy_sim.module, cupy_sim.cupyx)
    try:
        yield cupy_sim.module
    finally:
        backend.use_cupy_module(*prev)


@pytest.fixture
def run_threads():
    """``run_threads(*targets)``: each callable in its own thread, all joined (60 s each);
    the first exception any of them raised is re-raised in the test's thread."""
    import threading

    def run(*targets):
        errors = []

        def wrap(fn):
            def go():
                try:
                    fn()
                except BaseException as e:  # noqa: BLE001 - reported to the test's thread
                    errors.append(e)
            return go

        threads = [threading.Thread(target=wrap(t)) for t in targets]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
            assert not t.is_alive(), "a thread did not finish"
        if errors:
            raise errors[0]
    return run
