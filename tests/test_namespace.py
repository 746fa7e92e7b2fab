"""PyTorch's namespaces under ``import autograd as torch``: torch.nn, torch.optim,
torch.utils.data, torch.autograd, torch.backends, torch.cuda, torch.accelerator, Size, dtype,
load(weights_only=...), and a clear error when a foreign ``autograd`` package shadows ours."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import autograd as torch  # noqa: ICN001 - the point of these tests
import nn
import optim

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_nn_and_optim_are_the_top_level_packages():
    assert torch.nn is nn and torch.optim is optim
    assert torch.nn.functional is nn.functional
    assert torch.optim.lr_scheduler is optim.lr_scheduler
    with pytest.raises(AttributeError, match="no attribute 'nonexistent'"):
        torch.nonexistent  # noqa: B018


def test_a_pytorch_style_training_step_through_the_namespaces():
    torch.manual_seed(0)
    torch.cuda.manual_seed_all(0)
    torch.backends.cudnn.benchmark = True
    x = torch.randn(16, 4)
    y = torch.randint(0, 3, (16,))
    ds = torch.utils.data.TensorDataset(x, y)
    loader = torch.utils.data.DataLoader(ds, batch_size=8, shuffle=True)
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    model.to(device)
    for xb, yb in loader:
        loss = torch.nn.functional.cross_entropy(model(xb), yb)
        opt.zero_grad()
        loss.backward()
        opt.step()
    sched.step()
    assert np.isfinite(loss.item()) and f"{loss:.3f}" == f"{loss.item():.3f}"


def test_autograd_submodule():
    x = torch.tensor(2.0, requires_grad=True)
    (g,) = torch.autograd.grad(x ** 3, x)
    assert g.item() == 12.0
    assert torch.autograd.Function is torch.Function
    assert torch.autograd.gradcheck is torch.gradcheck
    with torch.autograd.set_grad_enabled(False):
        assert not torch.is_grad_enabled()


def test_backends_settings_are_real():
    cudnn = torch.backends.cudnn
    old = cudnn.deterministic
    cudnn.deterministic = True
    assert cudnn.deterministic is True
    with cudnn.flags(deterministic=False, benchmark=True):
        assert cudnn.deterministic is False and cudnn.benchmark is True
    assert cudnn.deterministic is True
    cudnn.deterministic = old
    torch.backends.cuda.matmul.allow_tf32 = True
    assert torch.backends.cuda.matmul.allow_tf32 is True
    with pytest.raises(AttributeError, match="no setting"):
        cudnn.made_up_flag = 1
    assert torch.backends.mps.is_available() is False


def test_cuda_and_accelerator_queries_without_a_gpu():
    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    assert torch.cuda.device_count() == 0
    assert torch.accelerator.is_available() is False
    assert torch.accelerator.current_accelerator() is None
    torch.cuda.manual_seed(1)
    torch.cuda.manual_seed_all(1)
    assert torch.cuda.memory_allocated() == 0


def test_version_module():
    """``torch.version``, which scripts print to describe their environment."""
    assert torch.version.__version__ == torch.__version__
    assert torch.version.hip is None and torch.version.debug is False
    assert torch.version.git_version is None
    if torch.cuda.is_available():
        major, minor = torch.version.cuda.split(".")
        assert major.isdigit() and minor.isdigit()
    else:
        assert torch.version.cuda is None  # as a CPU-only PyTorch build's
    with pytest.raises(AttributeError):
        torch.version.nonexistent  # noqa: B018


def test_size_dtype_seed():
    s = torch.Size([2, 3, 4])
    assert s == (2, 3, 4) and s.numel() == 24 and isinstance(s, tuple)
    assert isinstance(torch.ones(2).dtype, torch.dtype)
    assert isinstance(torch.float64, torch.dtype)
    s1 = torch.seed()
    assert isinstance(s1, int) and torch.initial_seed() == s1


def test_load_weights_only(tmp_path):
    p = tmp_path / "w.ag"
    torch.save({"w": torch.ones(2)}, p)
    for kw in ({}, {"weights_only": True}, {"weights_only": None, "mmap": True},
               {"weights_only": False}):  # False: PyTorch's spelling for a full checkpoint
        np.testing.assert_array_equal(torch.load(p, **kw)["w"].numpy(), [1.0, 1.0])
    with pytest.raises(ValueError, match="never unpickles"):
        torch.load(p, pickle_module=object())


def test_a_foreign_autograd_package_is_reported(tmp_path):
    fake = tmp_path / "fake" / "autograd"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("# the PyPI package 'autograd' (HIPS) stands here\n")
    code = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(tmp_path / "fake")!r})
        sys.path.insert(1, {ROOT!r})
        try:
            import optim
        except ImportError as e:
            print("ImportError:", e)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60, env={**os.environ, "PYTHONPATH": ""})
    assert "ImportError:" in out.stdout, out.stdout + out.stderr
    assert "HIPS" in out.stdout and "pip uninstall autograd" in out.stdout


def test_constants_and_data_submodules():
    """torch.pi/e/inf/nan/newaxis, and the torch.utils.data submodule import paths."""
    import math

    assert torch.pi == math.pi and torch.e == math.e and torch.inf == math.inf
    assert math.isnan(torch.nan) and torch.newaxis is None
    from autograd.utils.data.dataloader import DataLoader, default_collate  # noqa: F401
    from autograd.utils.data.dataset import ConcatDataset, Dataset  # noqa: F401
    from autograd.utils.data.sampler import Sampler  # noqa: F401
    cd = ConcatDataset([[1, 2], [3]])
    assert cd.cumulative_sizes == [2, 3] and cd[2] == 3
