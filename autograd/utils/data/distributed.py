"""``autograd.utils.data.distributed``: PyTorch's ``torch.utils.data.distributed`` name for
``DistributedSampler`` (defined in ``autograd.data.distributed``)."""

from ...data.distributed import DistributedSampler

__all__ = ["DistributedSampler"]
