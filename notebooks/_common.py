"""Small helpers shared by the tutorial notebooks (``from _common import ...``).

The stable API (other notebooks rely on it):

- ``QUICK``: True when the environment variable ``NOTEBOOK_QUICK=1`` is set. Notebooks then
  shrink data and epochs so that each runs in seconds (the test suite uses this).
- ``load_fashion(n_train, n_test, flat=True)``: Fashion-MNIST as autograd tensors
  ``(x_train, y_train, x_test, y_test)``; images float32 in [0, 1], labels int64.
- ``set_style()``: one consistent matplotlib look for every notebook.
- ``show_graph(dot)``: display a ``graphviz.Digraph`` (from ``autograd.viz.to_dot``) inline.

Also here: ``FASHION_CLASSES``, ``image_grid`` and ``plot_curves``.

Importing this module also makes the checkout's ``autograd``/``nn``/``optim`` importable
when the package is not installed (the notebooks live one folder below the repository).
"""

from __future__ import annotations

import os
import sys

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if os.path.isfile(os.path.join(_REPO, "autograd", "__init__.py")) and _REPO not in sys.path:
    sys.path.insert(0, _REPO)

# The notebooks multiply small matrices: BLAS threads only add overhead there (a lot of it on a
# busy machine). Takes effect only if NumPy is not imported yet; an explicit setting wins.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

import autograd as ag  # noqa: E402

QUICK: bool = os.environ.get("NOTEBOOK_QUICK", "").strip().lower() in ("1", "true", "yes")

FASHION_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                   "Sneaker", "Bag", "Ankle boot"]

__all__ = ["FASHION_CLASSES", "QUICK", "image_grid", "load_fashion", "plot_curves",
           "set_style", "show_graph"]


def _fashion_split(train: bool):
    from autograd.data.datasets import FashionMNIST

    if os.environ.get("AUTOGRAD_DATA"):
        try:  # the full data set (60,000 + 10,000 images), when $AUTOGRAD_DATA holds it
            return FashionMNIST(root=None, train=train)
        except RuntimeError:
            pass
    return FashionMNIST(root="sample", train=train)  # 4,000 + 1,000 images, shipped


def load_fashion(n_train: int | None = None, n_test: int | None = None, flat: bool = True):
    """Fashion-MNIST as tensors: ``(x_train, y_train, x_test, y_test)``.

    Uses the full data set when ``$AUTOGRAD_DATA`` points to it, else the sample shipped with
    the package (4,000 training and 1,000 test images).

    Args:
        n_train, n_test: keep only the first ``n`` images of each split (None: all).
        flat: images as (N, 784) rows (for MLPs) instead of (N, 1, 28, 28).

    Returns:
        float32 images in [0, 1] and int64 labels, as ``autograd`` tensors.
    """
    out = []
    for train, n in ((True, n_train), (False, n_test)):
        ds = _fashion_split(train)
        n = len(ds) if n is None else min(int(n), len(ds))
        x = ds.data.numpy()[:n].astype(np.float32) / 255.0
        x = x.reshape(n, 784) if flat else x.reshape(n, 1, 28, 28)
        out += [ag.tensor(x), ag.tensor(ds.targets.numpy()[:n].astype(np.int64))]
    return tuple(out)


def set_style() -> None:
    """A clean, consistent matplotlib style (inline figures of a readable size)."""
    import matplotlib as mpl

    mpl.rcParams.update({
        "figure.figsize": (6.4, 4.0),
        "figure.dpi": 90,
        "axes.grid": True,
        "grid.alpha": 0.3,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.titlesize": 11,
        "axes.labelsize": 10,
        "legend.fontsize": 9,
        "legend.frameon": False,
        "image.cmap": "gray_r",
    })


def show_graph(dot, size: str | None = None):
    """Display a ``graphviz.Digraph`` inline (as SVG); without Graphviz's ``dot`` program,
    print its DOT source instead. ``size`` (e.g. ``"8,5"``, inches) bounds the drawing."""
    import shutil

    from IPython.display import SVG, display

    if size is not None:
        dot.graph_attr["size"] = size
    if shutil.which("dot") is None:
        print("(Graphviz's `dot` program is not installed: showing the DOT source)")
        print(dot.source)
        return
    display(SVG(dot.pipe(format="svg").decode("utf-8")))


def image_grid(images, titles=None, ncols: int = 8, colors=None, figsize=None):
    """Show images (N, 784), (N, 28, 28) or (N, 1, 28, 28) in a grid, with optional titles
    (and title colours)."""
    import matplotlib.pyplot as plt

    imgs = images.numpy() if hasattr(images, "numpy") else np.asarray(images)
    imgs = imgs.reshape(len(imgs), 28, 28)
    nrows = (len(imgs) + ncols - 1) // ncols
    fig, axes = plt.subplots(nrows, ncols, figsize=figsize or (1.3 * ncols, 1.5 * nrows))
    for k, ax in enumerate(np.atleast_1d(axes).ravel()):
        ax.axis("off")
        if k < len(imgs):
            ax.imshow(imgs[k], cmap="gray_r")
            if titles is not None:
                kw = {} if colors is None else {"color": colors[k]}
                ax.set_title(titles[k], fontsize=7, **kw)
    fig.tight_layout()
    return fig


def plot_curves(curves: dict, ax=None, xlabel: str = "epoch", ylabel: str = "",
                title: str | None = None, logy: bool = False, **plot_kw):
    """Plot several named curves ``{label: values}`` on one axis."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots()
    for label, values in curves.items():
        ax.plot(np.arange(1, len(values) + 1), values, label=label, **plot_kw)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if logy:
        ax.set_yscale("log")
    if title:
        ax.set_title(title)
    ax.legend()
    return ax
