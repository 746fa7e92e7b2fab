"""``autograd.utils.data.dataloader``: PyTorch's ``torch.utils.data.dataloader`` names for
``DataLoader``, ``default_collate``, ``default_convert`` and ``get_worker_info`` (defined in
``autograd.data.dataloader``)."""

from ...data.dataloader import (
    DataLoader,
    WorkerInfo,
    default_collate,
    default_convert,
    get_worker_info,
)

__all__ = ["DataLoader", "WorkerInfo", "default_collate", "default_convert", "get_worker_info"]
