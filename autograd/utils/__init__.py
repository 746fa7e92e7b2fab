"""Utilities on top of the engine (PyTorch's ``torch.utils``): ``autograd.utils.checkpoint``."""
