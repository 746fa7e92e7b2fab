"""The op families, each registering its ops in ``autograd.registry`` when imported.

They import each other in one fixed order, without cycles: elementwise, shape (uses
elementwise), indexing and reduction (use both), linalg (uses shape), inplace (uses
indexing), conversion (uses elementwise). ``autograd.ops.methods`` binds them to ``Tensor``.
"""

from . import (  # noqa: F401
    activation,  # torch.celu/selu/threshold/hardshrink/rrelu/prelu (helper 'nnact')
    conversion,
    dropout,  # torch.dropout/alpha_dropout/feature_dropout/native_dropout (helper 'nnact')
    elementwise,
    indexing,
    inplace,
    linalg,
    products,  # addmm, kron, tensordot... (helper 'linalg')
    reduction,
    sampling,  # random sampling ops (helper 'reduce')
    scan,  # scans, sorting, statistics (helper 'reduce')
    shape,
    special,  # element-wise special functions (helper 'elem')
)
