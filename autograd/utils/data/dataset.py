"""``autograd.utils.data.dataset``: PyTorch's ``torch.utils.data.dataset`` names for the
datasets and ``random_split`` (defined in ``autograd.data.dataset``)."""

from ...data.dataset import (
    ChainDataset,
    ConcatDataset,
    Dataset,
    IterableDataset,
    Subset,
    TensorDataset,
    random_split,
)

__all__ = ["ChainDataset", "ConcatDataset", "Dataset", "IterableDataset", "Subset",
           "TensorDataset", "random_split"]
