"""``nn.Parameter``: a Tensor registered by a Module as trainable."""

from autograd.tensor import Parameter

__all__ = ["Parameter"]
