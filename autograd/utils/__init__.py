"""``autograd.utils``: PyTorch's ``torch.utils`` names. ``autograd.utils.data`` is the data
package (``autograd.data``) under the name PyTorch programs import it by;
``autograd.utils.checkpoint`` is activation checkpointing."""

from . import checkpoint, data  # noqa: F401
