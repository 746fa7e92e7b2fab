"""``autograd.utils.data.sampler``: PyTorch's ``torch.utils.data.sampler`` names for the
samplers (defined in ``autograd.data.sampler``)."""

from ...data.sampler import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)

__all__ = ["BatchSampler", "RandomSampler", "Sampler", "SequentialSampler",
           "SubsetRandomSampler", "WeightedRandomSampler"]
