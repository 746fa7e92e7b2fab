"""Autograd state is per thread (as PyTorch's): grad mode, inference mode, anomaly mode, the
create-graph flag of a running backward and the observers. These tests use real threads and
events to force the interleavings that a process-wide flag gets wrong."""

from __future__ import annotations

import threading

import numpy as np

import autograd as ag
import nn
import optim

TIMEOUT = 30


def test_no_grad_in_one_thread_does_not_stop_recording_in_another(run_threads):
    inside = threading.Event()
    built = threading.Event()
    seen = {}

    def evaluator():
        with ag.no_grad():
            inside.set()
            assert built.wait(TIMEOUT)
            x = ag.ones(3, requires_grad=True)
            seen["eval"] = (x * 2).requires_grad
            seen["eval_mode"] = ag.is_grad_enabled()

    def trainer():
        assert inside.wait(TIMEOUT)  # the other thread is inside no_grad now
        x = ag.ones(3, requires_grad=True)
        y = (x * 3).sum()
        seen["train"] = y.requires_grad
        seen["train_mode"] = ag.is_grad_enabled()
        y.backward()
        seen["grad"] = x.grad.numpy().copy()
        built.set()

    run_threads(evaluator, trainer)
    assert seen["train"] and seen["train_mode"]
    assert not seen["eval"] and not seen["eval_mode"]
    np.testing.assert_array_equal(seen["grad"], [3.0, 3.0, 3.0])
    assert ag.is_grad_enabled()  # the main thread was never touched


def test_backward_does_not_change_another_threads_mode(run_threads):
    in_backward = threading.Event()
    checked = threading.Event()
    seen = {}

    def slow_backward():
        x = ag.ones(2, requires_grad=True)
        y = x * 2

        def hook(g):
            in_backward.set()  # backward is running (with grad mode off in this thread)
            seen["inside"] = ag.is_grad_enabled()
            assert checked.wait(TIMEOUT)
            return g

        y.register_hook(hook)
        y.sum().backward()

    def other():
        assert in_backward.wait(TIMEOUT)
        seen["other"] = ag.is_grad_enabled()
        x = ag.ones(2, requires_grad=True)
        seen["records"] = (x + 1).grad_fn is not None
        checked.set()

    run_threads(slow_backward, other)
    assert seen["inside"] is False
    assert seen["other"] is True and seen["records"] is True


def test_each_thread_starts_with_the_defaults(run_threads):
    seen = {}
    with ag.no_grad(), ag.detect_anomaly():

        def child():
            seen["grad"] = ag.is_grad_enabled()
            seen["anomaly"] = ag.is_anomaly_enabled()

        run_threads(child)
        assert not ag.is_grad_enabled() and ag.is_anomaly_enabled()
    assert seen == {"grad": True, "anomaly": False}


def _train(seed: int, steps: int = 15):
    ag.manual_seed(seed)  # the initial weights: drawn before the threads start (see below)
    model = nn.Sequential(nn.Linear(6, 16), nn.Tanh(), nn.Linear(16, 3))
    rng = np.random.default_rng(seed)
    x = ag.tensor(rng.standard_normal((32, 6)).astype(np.float32))
    y = ag.tensor(rng.integers(0, 3, 32))
    return model, x, y


def _steps(model, x, y, steps: int = 15):
    opt = optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(steps):
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        for p in model.parameters():
            assert p.grad is not None  # every parameter gets its gradient, every step
        opt.step()
    return [p.detach().numpy().copy() for p in model.parameters()]


def test_two_threads_training_two_models_match_sequential_runs(run_threads):
    # The global RNG is shared by all threads (as PyTorch's default generator), so the
    # models and data are made first, in the main thread, for both runs.
    seq = [_steps(*_train(s)) for s in (1, 2)]
    a, b = _train(1), _train(2)
    got = {}
    run_threads(lambda: got.__setitem__(1, _steps(*a)), lambda: got.__setitem__(2, _steps(*b)))
    for ref, res in zip(seq, (got[1], got[2])):
        for p, q in zip(ref, res):
            np.testing.assert_array_equal(p, q)


def test_training_beside_an_evaluation_thread(run_threads):
    model, x, y = _train(3)
    frozen = nn.Sequential(nn.Linear(6, 16), nn.Tanh(), nn.Linear(16, 3))
    stop = threading.Event()
    evals = []

    def evaluate():
        while not stop.is_set():
            with ag.no_grad():
                out = frozen(x)
            evals.append(out.requires_grad or out.grad_fn is not None)

    def train():
        try:
            _steps(model, x, y, steps=40)
        finally:
            stop.set()

    run_threads(evaluate, train)
    assert evals and not any(evals)


def test_anomaly_mode_is_per_thread(run_threads):
    ready = threading.Event()
    done = threading.Event()
    seen = {}

    def watched():
        with ag.detect_anomaly():
            ready.set()
            assert done.wait(TIMEOUT)
            x = ag.tensor([0.0], requires_grad=True)
            try:
                (x.log() * 0).sum().backward()
            except FloatingPointError:
                seen["raised"] = True

    def unwatched():
        assert ready.wait(TIMEOUT)
        x = ag.tensor([0.0], requires_grad=True)
        (x.log() * 0).sum().backward()  # nan gradient, but no anomaly mode in this thread
        seen["nan"] = bool(np.isnan(x.grad.numpy()).all())
        done.set()

    run_threads(watched, unwatched)
    assert seen == {"raised": True, "nan": True}


def test_set_num_threads_sizes_the_blas_pool():
    pytest = __import__("pytest")
    pytest.importorskip("threadpoolctl")
    before = ag.get_num_threads()
    try:
        ag.set_num_threads(1)
        assert ag.get_num_threads() == 1
        info = [i for i in ag.parallel.blas_info() if i["user_api"] == "blas"]
        assert info and all(i["num_threads"] == 1 for i in info)
        a = np.random.default_rng(0).standard_normal((64, 64)).astype(np.float32)
        np.testing.assert_allclose((ag.tensor(a) @ ag.tensor(a)).numpy(), a @ a, rtol=1e-5)
    finally:
        ag.set_num_threads(before)
    assert ag.get_num_threads() == before
    with pytest.raises(ValueError, match="positive"):
        ag.set_num_threads(0)
    assert ag.get_num_interop_threads() == 1
