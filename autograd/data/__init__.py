"""Datasets and batching: ``Dataset``, ``TensorDataset``, ``DataLoader`` (PyTorch's API)."""

from .dataloader import DataLoader, default_collate
from .dataset import ConcatDataset, Dataset, Subset, TensorDataset, random_split

__all__ = ["ConcatDataset", "DataLoader", "Dataset", "Subset", "TensorDataset",
           "default_collate", "random_split"]

from .distributed import DistributedSampler  # noqa: E402

__all__ += ["DistributedSampler"]
