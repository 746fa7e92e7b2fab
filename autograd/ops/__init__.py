"""The op families. ``autograd.ops.methods`` attaches them to ``Tensor``."""
