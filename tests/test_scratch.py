"""autograd.backend.ScratchPool, the one recycling allocator of nn's large temporaries: its
in-use rule (never hand out a buffer that is leased or referenced, also across threads),
its limits, and that conv/rnn results stay correct while the pool recycles."""

from __future__ import annotations

import gc
import threading

import numpy as np
import pytest

import autograd as ag
import nn
import nn.functional as F
from autograd import backend
from autograd.backend import ScratchPool

SHAPE, DT = (64, 256), np.float32  # 64 KiB: above min_bytes


def test_reference_count_probe_works_here():
    assert backend._FREE_REFS > 0  # else the pool is off (a free-threaded build)


def test_referenced_buffers_are_never_handed_out_again():
    pool = ScratchPool()
    a = pool.empty(np, SHAPE, DT)
    b = pool.empty(np, SHAPE, DT)
    assert a is not b and not np.shares_memory(a, b)
    view = b[3:]  # a view keeps its base busy
    t = ag.tensor(a)  # so does a Tensor around it (or a graph that saved it)
    del a, b
    c = pool.empty(np, SHAPE, DT)
    assert not np.shares_memory(c, view) and not np.shares_memory(c, t.numpy())
    del c  # c is free again: handed out next
    d = pool.empty(np, SHAPE, DT)
    assert not np.shares_memory(d, view) and not np.shares_memory(d, t.numpy())
    held = id(d)
    del d
    assert id(pool.empty(np, SHAPE, DT)) == held  # reused once nothing refers to it
    del view, t
    gc.collect()
    x, y, z = (pool.empty(np, SHAPE, DT) for _ in range(3))
    assert len({id(x), id(y), id(z)}) == 3


def test_leased_buffers_wait_for_release():
    pool = ScratchPool()
    with pool.borrow(np, SHAPE, DT) as a:
        ident = id(a)
        del a  # no reference left, but the lease holds
        b = pool.empty(np, SHAPE, DT)
        assert id(b) != ident
        del b
    assert id(pool.empty(np, SHAPE, DT)) == ident  # released and unreferenced
    a = pool.empty(np, SHAPE, DT, lease=True)
    ident = id(a)
    pool.release(a)
    assert id(pool.empty(np, SHAPE, DT)) != ident  # released, but still referenced by a
    del a
    assert id(pool.empty(np, SHAPE, DT)) == ident
    pool.release(np.empty(3))  # not leased by the pool: ignored


def test_read_only_buffers_are_not_handed_out():
    pool = ScratchPool()
    a = pool.empty(np, SHAPE, DT)
    ident = id(a)
    a.flags.writeable = False  # as a graph locks what it saved
    del a
    b = pool.empty(np, SHAPE, DT)
    assert id(b) != ident and b.flags.writeable


def test_limits_and_bypass():
    pool = ScratchPool(max_bytes=4 * 65536, per_key=2)
    keep = [pool.empty(np, SHAPE, DT) for _ in range(3)]  # the third is not kept
    assert pool.nbytes == 2 * 65536
    small = pool.empty(np, (4,), DT)
    assert pool.empty(np, (4,), DT) is not small  # below min_bytes: plain np.empty
    big = pool.empty(np, (2, 64, 256), DT)  # 128 KiB
    assert pool.nbytes <= 4 * 65536
    other = pool.empty(np, (3, 64, 256), DT)  # 192 KiB: forgets the least recent keys
    assert pool.nbytes <= 4 * 65536
    assert all(k.flags.writeable for k in keep) and big.shape == (2, 64, 256)
    assert other.shape == (3, 64, 256)
    huge = pool.empty(np, (8, 64, 256), DT)  # larger than max_bytes: never kept
    assert pool.nbytes <= 4 * 65536 and huge.size == 8 * 64 * 256
    pool.clear()
    assert pool.nbytes == 0


@pytest.mark.parametrize("lease", [False, True])
def test_threads_never_share_a_buffer(lease):
    """Many threads take, fill, check and drop buffers of one key: no buffer is ever held by
    two at once, and no thread sees another's writes."""
    pool = ScratchPool(per_key=4)
    owners: dict = {}
    guard = threading.Lock()
    errors = []

    def work(tid):
        for i in range(300):
            if lease:
                with pool.borrow(np, SHAPE, DT) as a:
                    errors.extend(_use(a, tid, i, owners, guard))
            else:
                a = pool.empty(np, SHAPE, DT)
                errors.extend(_use(a, tid, i, owners, guard))
                del a

    threads = [threading.Thread(target=work, args=(k,)) for k in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[:3]


def _use(a, tid, i, owners, guard):
    errs = []
    with guard:
        if id(a) in owners:
            errs.append(f"buffer held by threads {owners[id(a)]} and {tid}")
        owners[id(a)] = tid
    a.fill(tid * 1000 + i)
    for _ in range(3):  # let the other threads run
        threading.Event().wait(0)
    if not (a == tid * 1000 + i).all():
        errs.append(f"thread {tid} step {i}: buffer overwritten")
    with guard:
        owners.pop(id(a), None)
    return errs


def test_conv_and_lstm_results_survive_recycling():
    """Graphs alive at once (and arrays kept from .numpy()) keep their own memory while the
    shared pool recycles buffers of the same shapes between conv, pool and LSTM calls."""
    rng = np.random.default_rng(0)
    conv = nn.Conv2d(3, 8, 3, padding=1)
    lstm = nn.LSTM(16, 32)
    xs = [ag.tensor(rng.standard_normal((16, 3, 32, 32)).astype(np.float32),
                    requires_grad=True) for _ in range(3)]
    ss = [ag.tensor(rng.standard_normal((20, 8, 16)).astype(np.float32), requires_grad=True)
          for _ in range(3)]
    outs = [F.max_pool2d(conv(x), 2) for x in xs]
    seqs = [lstm(s)[0] for s in ss]
    kept = [o.detach().numpy().copy() for o in outs] + [q.detach().numpy().copy()
                                                        for q in seqs]
    views = [o.detach().numpy() for o in outs] + [q.detach().numpy() for q in seqs]
    total = sum((o * o).sum() for o in outs) + sum((q * q).sum() for q in seqs)
    total.backward()
    for v, k in zip(views, kept):
        np.testing.assert_array_equal(v, k)
    grads = [x.grad.numpy().copy() for x in xs + ss]
    for x in xs + ss:  # each graph alone gives the same gradients
        x.grad = None
    for x, g in zip(xs, grads[:3]):
        (F.max_pool2d(conv(x), 2) ** 2).sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), g, rtol=1e-5, atol=1e-6)
    for s, g in zip(ss, grads[3:]):
        (lstm(s)[0] ** 2).sum().backward()
        np.testing.assert_allclose(s.grad.numpy(), g, rtol=1e-5, atol=1e-6)


def test_borrow_flat_rounds_up_and_shares_across_sizes():
    """borrow_flat leases a 1-D buffer of a power-of-two length at least the size asked for,
    so requests of different sizes (the chunks of an op, the layers of a network) take the
    same buffer in turn; prefixes of it are C-contiguous arrays of any shape that fits."""
    pool = ScratchPool()
    with pool.borrow_flat(np, 40000, DT) as a:
        assert a.shape == (65536,) and a.dtype == DT
        base = a.__array_interface__["data"][0]
        v = a[:3 * 100 * 120].reshape(3, 100, 120)
        assert v.flags.c_contiguous and np.shares_memory(v, a)
        with pool.borrow_flat(np, 50000, DT) as b:  # a is leased: another buffer
            assert not np.shares_memory(a, b)
        del v
    del a
    with pool.borrow_flat(np, 65000, DT) as c:  # released and unreferenced: reused
        assert c.__array_interface__["data"][0] == base
    assert pool.nbytes == 2 * 65536 * 4
    with pool.borrow_flat(np, 1, DT) as d:  # below min_bytes: a plain array
        assert d.shape == (1,)


@pytest.mark.parametrize("c,k,size", [(1, 5, 28), (8, 5, 10), (16, 3, 12), (8, 3, 20)],
                         ids=["direct", "narrow", "winograd", "c-order"])
def test_conv_results_are_not_scratch_buffers(c, k, size):
    """What a convolution returns (its output, the input and weight gradients) lives in the
    graph or with the user, so it is a plain array, never one the pool keeps: the pool holds
    only per-chunk temporaries, so its size does not grow with the network's activations."""
    rng = np.random.default_rng(1)
    pool = backend.scratch_pool
    pool.clear()
    x = ag.tensor(rng.standard_normal((64, c, size, size)).astype(np.float32),
                  requires_grad=True)
    w = ag.tensor(rng.standard_normal((16, c, k, k)).astype(np.float32), requires_grad=True)
    y = F.conv2d(x, w, padding=1)
    (y * y).sum().backward()
    kept = [e[0] for entries in pool._keys.values() for e in entries]
    for a in (y.detach().numpy(), x.grad.numpy(), w.grad.numpy()):
        assert not any(np.shares_memory(a, b) for b in kept)
    assert pool.nbytes <= 8 << 20


@pytest.mark.parametrize("batch_first", [False, True])
def test_lstm_step_keeps_one_buffer_per_sequence_shape(batch_first, monkeypatch):
    """A training step of an LSTM leaves no pool key beyond the per-sequence ones (T, N, H)
    and (T, N, 4H): the input projection, in the input's own layout when batch-first, is
    taken under the gates' key so that backward's dG reuses it (a key of its own kept one
    more (N, T, 4H) buffer, 3.5 MiB at the benchmark's size)."""
    T, N, I, H = 7, 48, 5, 64
    lstm = nn.LSTM(I, H, batch_first=batch_first)
    rng = np.random.default_rng(0)
    x = ag.tensor(rng.standard_normal((N, T, I) if batch_first else (T, N, I))
                  .astype(np.float32))
    pool = backend.ScratchPool(min_bytes=1)
    monkeypatch.setattr(backend, "scratch_pool", pool)
    for _ in range(3):
        out, _ = lstm(x)
        out.sum().backward()
    shapes = {k[0] for k in pool._keys}
    assert shapes <= {(T, N, H), (T, N, 4 * H)}, shapes
