"""The engine's own threads (``autograd.parallel.parallel_groups``): how work is split, that
errors and nesting are safe, that BLAS runs at one thread inside a region, and that the
CPU convolutions give the same numbers on 1, 2 and 3 threads."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import numpy as np
import pytest

import autograd as ag
from autograd import parallel
from nn import functional as F

try:
    import torch
except ImportError:  # the PyTorch comparisons below skip
    torch = None


@pytest.fixture
def threads(monkeypatch):
    """Set the engine's thread count for one test (BLAS's pool is left alone)."""
    def set_(n):
        monkeypatch.setattr(parallel, "_requested", n)
    return set_


def test_groups_are_contiguous_cover_the_items_and_come_back_in_order(threads):
    threads(3)
    seen = []
    together = threading.Barrier(3, timeout=20)  # broken unless 3 groups run at once

    def fn(group):
        together.wait()
        seen.append((threading.get_ident(), list(group)))
        return list(group)

    out = parallel.parallel_groups(fn, list(range(8)))
    assert out == [[0, 1], [2, 3, 4], [5, 6, 7]]
    assert sorted(g for _, g in seen) == out
    assert len({t for t, _ in seen}) == 3  # three threads did the work
    assert parallel.parallel_groups(lambda g: list(g), [5]) == [[5]]  # one item: a plain call
    threads(1)
    assert parallel.parallel_groups(lambda g: list(g), list(range(4))) == [[0, 1, 2, 3]]


def test_threads_argument_caps_the_groups(threads):
    threads(3)
    assert parallel.parallel_groups(lambda g: list(g), list(range(4)), 2) == [[0, 1], [2, 3]]
    assert parallel.parallel_groups(lambda g: list(g), list(range(4)), 1) == [[0, 1, 2, 3]]
    # never more than the engine's threads
    assert len(parallel.parallel_groups(lambda g: list(g), list(range(8)), 5)) == 3


def test_a_pass_too_small_to_split_runs_blas_at_one_thread(threads):
    """``threads=1`` on a multi-threaded engine (a convolution pass below
    ``_SPLIT_MIN_MACS`` per thread): one group in the calling thread, BLAS at one thread
    (its own wake-ups would not pay either), restored after."""
    pytest.importorskip("threadpoolctl")
    threads(2)
    before = [i["num_threads"] for i in parallel.blas_info() if i["user_api"] == "blas"]
    if not before:
        pytest.skip("no BLAS library that threadpoolctl can see")
    seen = []

    def fn(group):
        ctl = parallel._controller()
        seen.append((threading.get_ident(), list(group),
                     [c.num_threads for c in ctl.lib_controllers if c.user_api == "blas"]))
        return group

    assert parallel.parallel_groups(fn, [0, 1, 2], 1) == [[0, 1, 2]]
    assert seen == [(threading.get_ident(), [0, 1, 2], [1] * len(before))]
    assert [i["num_threads"] for i in parallel.blas_info() if i["user_api"] == "blas"] == before


def test_conv_chunks_split_only_work_worth_a_region(threads):
    """A convolution pass runs on as many threads as have ``_SPLIT_MIN_MACS`` multiply-adds
    each (a region's wake-ups cost more than a small pass gains), its chunk count a multiple
    of that."""
    from nn.functional import conv

    threads(2)
    small, t = conv._chunks(64, 1, conv._SPLIT_MIN_MACS)
    assert t == 1 and small == [(0, 64)]
    big, t = conv._chunks(64, conv._CHUNK_BYTES // 2, 2 * conv._SPLIT_MIN_MACS)
    assert t == 2 and len(big) % 2 == 0 and big[0] == (0, 2) and big[-1][1] == 64
    threads(1)
    assert conv._chunks(64, 1, 10 * conv._SPLIT_MIN_MACS)[1] == 1


def test_more_threads_than_items_gives_one_group_per_item(threads):
    threads(8)
    assert parallel.parallel_groups(lambda g: g, ["a", "b"]) == [["a"], ["b"]]


def test_a_nested_region_runs_in_its_caller(threads):
    threads(2)
    inner = []

    def outer(group):
        inner.append(parallel.parallel_groups(lambda g: list(g), [1, 2, 3]))
        return group

    assert parallel.parallel_groups(outer, [0, 1]) == [[0], [1]]
    assert inner == [[[1, 2, 3]], [[1, 2, 3]]]  # no nested split, no deadlock


@pytest.mark.parametrize("where", [0, 1])
def test_an_error_in_any_group_is_raised_after_every_group_finished(threads, where):
    threads(2)
    done = []

    def fn(group):
        if group == [where]:
            raise ValueError(f"group {where} failed")
        done.append(group)

    with pytest.raises(ValueError, match=f"group {where} failed"):
        parallel.parallel_groups(fn, [0, 1])
    assert done == [[1 - where]]
    # the region is free again
    assert parallel.parallel_groups(lambda g: g, [0, 1]) == [[0], [1]]


def test_blas_runs_at_one_thread_inside_a_region_and_is_restored(threads):
    pytest.importorskip("threadpoolctl")
    threads(2)
    before = [i["num_threads"] for i in parallel.blas_info() if i["user_api"] == "blas"]
    if not before:
        pytest.skip("no BLAS library that threadpoolctl can see")
    inside = []

    def fn(group):
        ctl = parallel._controller()
        inside.append([c.num_threads for c in ctl.lib_controllers if c.user_api == "blas"])

    parallel.parallel_groups(fn, [0, 1])
    assert inside and all(v == [1] * len(before) for v in inside)
    after = [i["num_threads"] for i in parallel.blas_info() if i["user_api"] == "blas"]
    assert after == before


def _conv_run(n_threads, monkeypatch, seed=0, groups=1, stride=1, padding=1, bias=True):
    from nn.functional import conv

    monkeypatch.setattr(parallel, "_requested", n_threads)
    monkeypatch.setattr(conv, "_CHUNK_BYTES", 1)  # one sample per chunk: several chunks
    monkeypatch.setattr(conv, "_SPLIT_MIN_MACS", 1)  # and split however small the work
    monkeypatch.setattr(conv, "_KERNEL_MIN_WORK", 1)  # (the compiled kernels' threshold)
    monkeypatch.setattr(conv, "_layout", lambda n, wo: False)  # C order: the chunked path
    rng = np.random.default_rng(seed)
    x = ag.tensor(rng.standard_normal((7, 4, 9, 8)), requires_grad=True)
    w = ag.tensor(rng.standard_normal((6, 4 // groups, 3, 3)), requires_grad=True)
    b = ag.tensor(rng.standard_normal(6), requires_grad=True) if bias else None
    y = F.conv2d(x, w, b, stride=stride, padding=padding, groups=groups)
    gy = rng.standard_normal(y.shape)
    y.backward(ag.tensor(gy))
    out = [y.detach().numpy(), x.grad.numpy(), w.grad.numpy()]
    return out, (x, w, b, gy)


@pytest.mark.parametrize("groups,stride,padding,bias", [(1, 1, 1, True), (2, 2, 0, False)])
def test_conv2d_gives_the_same_numbers_on_1_2_and_3_threads(monkeypatch, groups, stride,
                                                            padding, bias):
    calls = []
    real = parallel.parallel_groups

    def spy(fn, items, threads=None):
        out = real(fn, items, threads)
        calls.append(len(out))
        return out

    from nn.functional import conv
    monkeypatch.setattr(conv, "parallel_groups", spy)  # the NumPy chunks
    monkeypatch.setattr(parallel, "parallel_groups", spy)  # the kernels (parallel_slices)
    ref, (x, w, b, gy) = _conv_run(1, monkeypatch, groups=groups, stride=stride,
                                   padding=padding, bias=bias)
    assert calls and set(calls) == {1}
    for n in (2, 3):
        calls.clear()
        got, _ = _conv_run(n, monkeypatch, groups=groups, stride=stride, padding=padding,
                           bias=bias)
        assert calls and set(calls) == {n}  # forward, weight and input gradients: n groups
        for a, r in zip(got, ref):
            np.testing.assert_allclose(a, r, rtol=1e-12, atol=1e-12)
    if torch is not None:
        xt = torch.tensor(x.detach().numpy(), requires_grad=True)
        wt = torch.tensor(w.detach().numpy(), requires_grad=True)
        bt = None if b is None else torch.tensor(b.detach().numpy())
        yt = torch.nn.functional.conv2d(xt, wt, bt, stride=stride, padding=padding,
                                        groups=groups)
        yt.backward(torch.tensor(gy))
        for a, r in zip(got, [yt.detach(), xt.grad, wt.grad]):
            np.testing.assert_allclose(a, r.numpy(), rtol=1e-10, atol=1e-10)


def test_conv2d_float32_training_step_matches_across_thread_counts(monkeypatch):
    ref, _ = _conv_run(1, monkeypatch, seed=3)
    got, _ = _conv_run(2, monkeypatch, seed=3)
    for a, r in zip(got, ref):
        np.testing.assert_allclose(a, r, rtol=1e-12, atol=1e-12)


def test_conv2d_from_two_user_threads_at_once(monkeypatch, run_threads):
    """Two threads each running convolutions: one holds the region, the other runs its
    chunks serially; both get the right numbers."""
    from nn.functional import conv

    monkeypatch.setattr(parallel, "_requested", 2)
    monkeypatch.setattr(conv, "_CHUNK_BYTES", 1)
    monkeypatch.setattr(conv, "_SPLIT_MIN_MACS", 1)
    rng = np.random.default_rng(1)
    xs = [rng.standard_normal((5, 3, 12, 12)) for _ in range(2)]
    w = rng.standard_normal((4, 3, 3, 3))
    expect = [F.conv2d(ag.tensor(x), ag.tensor(w), padding=1).numpy() for x in xs]
    results = [None, None]

    def run(i):
        for _ in range(20):
            results[i] = F.conv2d(ag.tensor(xs[i]), ag.tensor(w), padding=1).numpy()

    run_threads(lambda: run(0), lambda: run(1))
    for r, e in zip(results, expect):
        np.testing.assert_allclose(r, e, rtol=1e-12)


def test_importing_autograd_first_leaves_no_environment_variable_behind():
    code = ("import os, autograd, numpy; "
            "print(repr(os.environ.get('OPENBLAS_THREAD_TIMEOUT')))")
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_THREAD_TIMEOUT"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, timeout=120, check=True)
    assert out.stdout.strip() == "None"
    env["OPENBLAS_THREAD_TIMEOUT"] = "7"  # the user's own value is kept
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, timeout=120, check=True)
    assert out.stdout.strip() == "'7'"


def _relu_case(n_threads, monkeypatch, gy_special=False):
    monkeypatch.setattr(parallel, "_requested", n_threads)
    rng = np.random.default_rng(4)
    a = rng.standard_normal(3 * parallel._ELEMENTWISE_MIN + 10).astype(np.float32)
    a[7], a[-3], a[100] = -0.0, np.nan, 0.0  # relu(-0.) is -0., nan stays nan
    x = ag.tensor(a.reshape(-1, 2), requires_grad=True)
    y = F.relu(x)
    g = rng.standard_normal(a.size).astype(np.float32)
    if gy_special:
        g[8], g[9] = np.inf, np.nan
    y.backward(ag.tensor(g.reshape(-1, 2)))
    return y.detach().numpy(), x.grad.numpy()


@pytest.mark.parametrize("gy_special", [False, True])
def test_relu_of_a_large_array_is_the_same_on_1_2_and_3_threads(monkeypatch, gy_special):
    ref = _relu_case(1, monkeypatch, gy_special)
    for n in (2, 3):
        got = _relu_case(n, monkeypatch, gy_special)
        for a, r in zip(got, ref):
            np.testing.assert_array_equal(a, r)  # bitwise, nan and the sign of zero too
    y, gx = ref
    assert np.signbit(y.reshape(-1)[7]) and np.isnan(y.reshape(-1)[-3])
    if torch is not None:
        monkeypatch.setattr(parallel, "_requested", 2)
        rng = np.random.default_rng(4)
        a = rng.standard_normal(3 * parallel._ELEMENTWISE_MIN + 10).astype(np.float32)
        a[7], a[-3], a[100] = -0.0, np.nan, 0.0
        g = rng.standard_normal(a.size).astype(np.float32)
        if gy_special:
            g[8], g[9] = np.inf, np.nan
        xt = torch.tensor(a.reshape(-1, 2), requires_grad=True)
        yt = torch.relu(xt)
        yt.backward(torch.tensor(g.reshape(-1, 2)))
        np.testing.assert_array_equal(y, yt.detach().numpy())
        np.testing.assert_array_equal(gx, xt.grad.numpy())


def test_relu_inside_a_busy_region_runs_its_slices_serially(monkeypatch):
    monkeypatch.setattr(parallel, "_requested", 2)
    a = np.random.default_rng(5).standard_normal(4 * parallel._ELEMENTWISE_MIN)
    out = parallel.parallel_groups(lambda g: F.relu(ag.tensor(a)).numpy(), [0, 1])
    for o in out:
        np.testing.assert_array_equal(o, np.maximum(a, 0))


def test_the_team_replaces_itself_when_more_threads_are_asked_and_ends_the_old_workers(
        monkeypatch):
    monkeypatch.setattr(parallel, "_requested", 2)
    assert parallel.parallel_groups(lambda g: sum(g), list(range(10))) == [10, 35]
    old = parallel._pool
    monkeypatch.setattr(parallel, "_requested", 4)
    assert parallel.parallel_groups(lambda g: list(g), list(range(4))) == [[0], [1], [2], [3]]
    assert parallel._pool is not old and parallel._pool.k == 3
    for t in old.threads:  # the old team's workers return once woken
        t.join(timeout=10)
        assert not t.is_alive()
    assert all(t.is_alive() for t in parallel._pool.threads)


@pytest.mark.parametrize("spin", [True, False])
def test_the_team_runs_with_and_without_its_spin_loop(monkeypatch, spin):
    """Workers that poll (the compiled loop) and workers that block at once (no numba) give
    the same groups, many regions in a row, and hand a worker's error to the caller."""
    monkeypatch.setattr(parallel, "_requested", 3)
    monkeypatch.setattr(parallel, "_pool", None)
    if not spin:
        monkeypatch.setattr(parallel, "_spin_kernel", lambda: None)
    for i in range(200):
        assert parallel.parallel_groups(lambda g: [x * i for x in g], [1, 2, 3]) == \
            [[i], [2 * i], [3 * i]]
    assert (parallel._pool.spin is not None) == (spin and parallel._spin_kernel() is not None)
    with pytest.raises(KeyError):
        parallel.parallel_groups(lambda g: {}[g[0]] if g[0] == 3 else g, [1, 2, 3])
    parallel._pool.close()


_TIMEOUT_PROBE = """
import ctypes, os, sys
{first}
import numpy as np
from autograd.parallel import _controller
libs = [c for c in _controller().lib_controllers if c.internal_api == "openblas"
        and getattr(c, "threading_layer", "") == "pthreads"]
if not libs:
    print("none"); sys.exit()
try:
    f = ctypes.CDLL(libs[0].filepath).openblas_thread_timeout
except AttributeError:
    print("none"); sys.exit()
f.restype = ctypes.c_int
autograd.set_num_threads(2)
rng = np.random.default_rng(0)
a, b = rng.standard_normal((300, 200)), rng.standard_normal((200, 250))
ok = np.allclose(a @ b, np.einsum("ij,jk->ik", a, b))  # BLAS's threads start again
print(f(), ok, repr(os.environ.get("OPENBLAS_THREAD_TIMEOUT")))
"""


@pytest.mark.parametrize("numpy_first", [False, True], ids=["autograd-first", "numpy-first"])
def test_openblas_spin_is_short_whatever_the_import_order(numpy_first):
    pytest.importorskip("threadpoolctl")
    first = "import numpy\nimport autograd" if numpy_first else "import autograd"
    code = _TIMEOUT_PROBE.format(first=first)
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_THREAD_TIMEOUT"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, timeout=120, check=True).stdout.split()
    if out == ["none"]:
        pytest.skip("NumPy's BLAS is not a pthreads OpenBLAS that reports its timeout")
    assert out == [str(parallel.BLAS_SPIN_LOG2), "True", "None"]
    env["OPENBLAS_THREAD_TIMEOUT"] = "7"  # the user's own value is kept
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, timeout=120, check=True).stdout.split()
    assert out == ["7", "True", "'7'"]


@pytest.mark.parametrize("threads,rows", [(1, 300), (2, 300), (3, 200), (2, 100)])
def test_matmul_rows_equals_matmul(threads, rows, monkeypatch):
    """``matmul_rows``: the product ``np.matmul`` gives (to rounding: BLAS may block fewer
    rows differently), blocks of at least 64 rows on the engine's threads."""
    monkeypatch.setattr(parallel, "_requested", threads)
    seen = []
    real = parallel.parallel_slices
    monkeypatch.setattr(parallel, "parallel_slices",
                        lambda fn, ranges: seen.append(ranges) or real(fn, ranges))
    rng = np.random.default_rng(2)
    for dtype in (np.float32, np.float64):
        a = rng.standard_normal((rows, 29)).astype(dtype)
        b = rng.standard_normal((40, 29)).astype(dtype).T  # a transposed view, as the LSTM's
        out = np.empty((rows, 40), dtype)
        parallel.matmul_rows(a, b, out)
        np.testing.assert_allclose(out, a @ b, rtol=1e-6 if dtype == np.float32 else 1e-14)
    want = min(threads, rows // 64)
    assert (len(seen[0]) == want) if want > 1 else not seen


def test_openblas_spin_left_alone_while_another_thread_runs():
    """With another Python thread alive (it could be inside a BLAS call, and stopping
    OpenBLAS's threads under it is not safe), importing autograd after NumPy leaves
    OpenBLAS's timeout as it was."""
    pytest.importorskip("threadpoolctl")
    code = _TIMEOUT_PROBE.format(first=(
        "import threading, time, numpy\n"
        "stop = threading.Event()\n"
        "t = threading.Thread(target=stop.wait)\n"
        "t.start()\n"
        "import autograd\n"
        "stop.set()\n"
        "t.join()"))
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_THREAD_TIMEOUT"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, timeout=120, check=True).stdout.split()
    if out == ["none"]:
        pytest.skip("NumPy's BLAS is not a pthreads OpenBLAS that reports its timeout")
    assert out == ["0", "True", "None"]
