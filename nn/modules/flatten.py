from __future__ import annotations

from autograd.ops import shape as S

from .module import Module


class Flatten(Module):
    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x):
        return S.flatten(x, self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


def _require_tuple_int(size) -> None:
    if isinstance(size, (tuple, list)):
        for idx, elem in enumerate(size):
            if not isinstance(elem, int):
                raise TypeError("unflattened_size must be tuple of ints, but found element of "
                                f"type {type(elem).__name__} at pos {idx}")
        return
    raise TypeError("unflattened_size must be a tuple of ints, but found type "
                    f"{type(size).__name__}")


class Unflatten(Module):
    def __init__(self, dim: int, unflattened_size):
        super().__init__()
        _require_tuple_int(unflattened_size)
        # Kept as given (tuple, list or Size): the repr shows it as PyTorch's does
        self.dim, self.unflattened_size = dim, unflattened_size

    def forward(self, x):
        return S.unflatten(x, self.dim, tuple(self.unflattened_size))


    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
