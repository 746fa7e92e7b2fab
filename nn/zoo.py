"""The project's Fashion-MNIST models, built by name (``build_model``).

Models (``MODELS``):

- ``mlp``: 784-256-128-10 ReLU network on standardised pixels.
- ``nielsen``: the 784-30-10 sigmoid network of Michael Nielsen's book *Neural Networks and
  Deep Learning*, with the book's initialisation (it returns logits; the cost applies the
  output sigmoid).
- ``lenet``: LeNet-5-like CNN (conv5x5 6 pad 2, ReLU, maxpool, conv5x5 16, ReLU, maxpool,
  fc 400-120-84-10).
- ``cnn-bn``: a VGG-style CNN with BatchNorm and dropout (two conv3x3 blocks of 32 and 64
  channels, fc 256).
- ``lstm``: ``RowLSTM``, an LSTM reading the image row by row with a linear head.
- ``autoencoder``: ``AutoEncoder``, dense 784-256-64-256-784 (logits; ``reconstruct`` gives
  the images).

Every classifier maps (N, 1, 28, 28) images in [0, 1] to (N, 10) logits; the autoencoder maps
them to (N, 784) logits.

Example:
    >>> import autograd as ag
    >>> from nn.zoo import build_model
    >>> _ = ag.manual_seed(0)
    >>> build_model("lenet")(ag.rand(2, 1, 28, 28)).shape
    (2, 10)
"""

from __future__ import annotations

import math

import autograd as ag

from . import init
from .modules import (
    LSTM,
    BatchNorm1d,
    BatchNorm2d,
    Conv2d,
    Dropout,
    Flatten,
    Linear,
    MaxPool2d,
    Module,
    ReLU,
    Sequential,
    Sigmoid,
)

__all__ = ["FMNIST_MEAN", "FMNIST_STD", "MODELS", "AutoEncoder", "RowLSTM", "Standardize",
           "build_model"]

MODELS = ("mlp", "nielsen", "lenet", "cnn-bn", "lstm", "autoencoder")

# Fashion-MNIST's pixel mean and standard deviation (training split, pixels in [0, 1]).
FMNIST_MEAN, FMNIST_STD = 0.2860, 0.3530


class Standardize(Module):
    """Subtract the dataset's pixel mean and divide by its standard deviation.

    Args:
        mean: the pixel mean (default: Fashion-MNIST's).
        std: the pixel standard deviation (default: Fashion-MNIST's).

    Example:
        >>> Standardize()(ag.full((1, 1, 28, 28), 0.2860)).abs().max().item() < 1e-6
        True
    """

    def __init__(self, mean: float = FMNIST_MEAN, std: float = FMNIST_STD):
        super().__init__()
        self.mean, self.std = mean, std

    def forward(self, x):
        return (x - self.mean) / self.std

    def extra_repr(self) -> str:
        return f"mean={self.mean}, std={self.std}"


class RowLSTM(Module):
    """An LSTM that reads a 28x28 image row by row (28 steps of 28 pixels).

    The logits come from a linear head on the last hidden state.

    Args:
        hidden: the LSTM's hidden size.

    Example:
        >>> RowLSTM(16)(ag.rand(3, 1, 28, 28)).shape
        (3, 10)
    """

    def __init__(self, hidden: int = 128):
        super().__init__()
        self.norm = Standardize()
        self.lstm = LSTM(28, hidden, batch_first=True)
        self.head = Linear(hidden, 10)

    def forward(self, x):
        rows = self.norm(x).reshape(x.shape[0], 28, 28)  # (N, steps, features)
        _, (h, _) = self.lstm(rows)
        return self.head(h[-1])


class AutoEncoder(Module):
    """Dense autoencoder 784-256-64-256-784.

    ``forward`` returns the output layer's logits, (N, 784); the reconstruction is their
    sigmoid (``reconstruct``). Losses should use the logits directly, for numerical
    stability (``F.binary_cross_entropy_with_logits``).

    Example:
        >>> AutoEncoder().reconstruct(ag.rand(2, 1, 28, 28)).shape
        (2, 1, 28, 28)
    """

    def __init__(self):
        super().__init__()
        self.encoder = Sequential(Flatten(), Linear(784, 256), ReLU(), Linear(256, 64), ReLU())
        self.decoder = Sequential(Linear(64, 256), ReLU(), Linear(256, 784))

    def forward(self, x):
        return self.decoder(self.encoder(x))

    def reconstruct(self, x):
        """The reconstructed images, shaped like ``x``, in [0, 1]."""
        return ag.sigmoid(self(x)).reshape(x.shape)


def _conv_bn_relu(cin: int, cout: int) -> list:
    return [Conv2d(cin, cout, 3, padding=1, bias=False), BatchNorm2d(cout), ReLU()]


def build_model(name: str, cost: str = "quadratic") -> Module:
    """Create one of the ``MODELS``, initialised from the package RNG (``ag.manual_seed``).

    Args:
        name: the model's name (see ``MODELS``).
        cost: ``nielsen`` only: ``quadratic`` uses the book's chapter-1 initialisation
            (weights and biases N(0, 1)); ``cross-entropy`` its chapter-3 one (weights
            N(0, 1/n_in), biases N(0, 1)).

    Returns:
        The model; every classifier maps (N, 1, 28, 28) images to (N, 10) logits, the
        autoencoder to (N, 784) logits.

    Raises:
        ValueError: ``name`` is not one of ``MODELS``.
    """
    if name == "mlp":
        return Sequential(Standardize(), Flatten(), Linear(784, 256), ReLU(),
                          Linear(256, 128), ReLU(), Linear(128, 10))
    if name == "nielsen":
        model = Sequential(Flatten(), Linear(784, 30), Sigmoid(), Linear(30, 10))
        for layer in (model[1], model[3]):
            std = 1.0 if cost == "quadratic" else 1.0 / math.sqrt(layer.in_features)
            init.normal_(layer.weight, 0.0, std)
            init.normal_(layer.bias, 0.0, 1.0)
        return model  # logits; the sigmoid of the output layer is applied by the cost
    if name == "lenet":
        return Sequential(
            Standardize(),
            Conv2d(1, 6, 5, padding=2), ReLU(), MaxPool2d(2),
            Conv2d(6, 16, 5), ReLU(), MaxPool2d(2),
            Flatten(), Linear(400, 120), ReLU(), Linear(120, 84), ReLU(), Linear(84, 10))
    if name == "cnn-bn":
        return Sequential(
            Standardize(),
            *_conv_bn_relu(1, 32), *_conv_bn_relu(32, 32), MaxPool2d(2), Dropout(0.25),
            *_conv_bn_relu(32, 64), *_conv_bn_relu(64, 64), MaxPool2d(2), Dropout(0.25),
            Flatten(), Linear(64 * 7 * 7, 256, bias=False), BatchNorm1d(256), ReLU(),
            Dropout(0.5), Linear(256, 10))
    if name == "lstm":
        return RowLSTM(128)
    if name == "autoencoder":
        return AutoEncoder()
    raise ValueError(f"unknown model {name!r}; choose one of {', '.join(MODELS)}")
