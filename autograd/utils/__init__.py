"""``autograd.utils``: PyTorch's ``torch.utils`` names. ``autograd.utils.data`` is the data
package (``autograd.data``) under the name PyTorch programs import it by."""

from . import data  # noqa: F401
