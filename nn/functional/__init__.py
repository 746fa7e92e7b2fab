"""Stateless neural-network functions (``nn.functional``, imported as ``F``).

One file per family, mirroring ``nn/modules/<family>.py`` (PyTorch's ``functional.py`` vs
``modules/<family>.py``; Chainer's ``functions/`` vs ``links/``): the Module in
``nn/modules/conv.py`` calls the function in ``nn/functional/conv.py``, and so on. The
families import ``autograd`` and each other downward (``_utils`` < ``activation`` <
``loss``; ``linear``, ``dropout`` < ``rnn``, ``attention``; ``pooling`` < ``upsampling``),
never ``nn.modules``. This package only re-exports them.
"""

from .activation import (
    LogSoftmax,
    Softmax,
    elu,
    gelu,
    hardtanh,
    leaky_relu,
    log_softmax,
    logsigmoid,
    relu,
    relu6,
    relu_,
    sigmoid,
    silu,
    softmax,
    softplus,
    tanh,
)
from .attention import multi_head_attention_forward, scaled_dot_product_attention
from .conv import conv1d, conv2d, conv_transpose1d, conv_transpose2d, fold, unfold
from .dropout import dropout, dropout2d
from .linear import Linear, bilinear, linear
from .loss import (
    CrossEntropy,
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    huber_loss,
    kl_div,
    l1_loss,
    mse_loss,
    nll_loss,
    smooth_l1_loss,
)
from .normalization import batch_norm, group_norm, layer_norm, normalize
from .padding import pad
from .pooling import (
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    avg_pool1d,
    avg_pool2d,
    max_pool1d,
    max_pool2d,
)
from .sparse import embedding, one_hot
from .upsampling import interpolate

__all__ = [
    "adaptive_avg_pool1d", "adaptive_avg_pool2d", "avg_pool1d", "avg_pool2d", "batch_norm",
    "bilinear", "binary_cross_entropy", "binary_cross_entropy_with_logits", "conv1d", "conv2d",
    "conv_transpose1d", "conv_transpose2d", "cross_entropy", "dropout", "dropout2d", "elu",
    "embedding", "fold", "gelu", "group_norm", "hardtanh", "huber_loss", "interpolate",
    "kl_div", "l1_loss", "layer_norm", "leaky_relu", "linear", "log_softmax", "logsigmoid",
    "max_pool1d", "max_pool2d", "mse_loss", "multi_head_attention_forward", "nll_loss",
    "normalize", "one_hot", "pad", "relu", "relu6", "relu_", "scaled_dot_product_attention",
    "sigmoid", "silu", "smooth_l1_loss", "softmax", "softplus", "tanh", "unfold",
]
# the fused Op classes stay reachable as before (F.Linear, F.CrossEntropy, ...), outside __all__
_ops = (CrossEntropy, Linear, LogSoftmax, Softmax)

# ---- helper 'nnact' adds its imports and __all__ entries here ----
from .activation import (  # noqa: E402
    celu,
    celu_,
    elu_,
    glu,
    gumbel_softmax,
    hardshrink,
    hardsigmoid,
    hardswish,
    hardtanh_,
    leaky_relu_,
    mish,
    prelu,
    rrelu,
    rrelu_,
    selu,
    selu_,
    softmin,
    softshrink,
    softsign,
    tanhshrink,
    threshold,
    threshold_,
)

__all__ += ["celu", "celu_", "elu_", "glu", "gumbel_softmax", "hardshrink", "hardsigmoid",
            "hardswish", "hardtanh_", "leaky_relu_", "mish", "prelu", "rrelu", "rrelu_", "selu",
            "selu_", "softmin", "softshrink", "softsign", "tanhshrink", "threshold",
            "threshold_"]
from .dropout import alpha_dropout, dropout1d, dropout3d, feature_alpha_dropout  # noqa: E402

__all__ += ["alpha_dropout", "dropout1d", "dropout3d", "feature_alpha_dropout"]
from .normalization import instance_norm, local_response_norm, rms_norm  # noqa: E402

__all__ += ["instance_norm", "local_response_norm", "rms_norm"]
# ---- end 'nnact' ----

# ---- helper 'nnloss' adds its imports and __all__ entries here ----
from .distance import cosine_similarity, pairwise_distance, pdist  # noqa: E402
from .loss import (  # noqa: E402
    cosine_embedding_loss,
    ctc_loss,
    gaussian_nll_loss,
    hinge_embedding_loss,
    linear_cross_entropy,
    margin_ranking_loss,
    multi_margin_loss,
    multilabel_margin_loss,
    multilabel_soft_margin_loss,
    poisson_nll_loss,
    soft_margin_loss,
    triplet_margin_loss,
    triplet_margin_with_distance_loss,
)
from .sparse import embedding_bag  # noqa: E402

__all__ += ["cosine_embedding_loss", "cosine_similarity", "ctc_loss", "embedding_bag",
            "gaussian_nll_loss", "hinge_embedding_loss", "linear_cross_entropy",
            "margin_ranking_loss", "multi_margin_loss",
            "multilabel_margin_loss", "multilabel_soft_margin_loss", "pairwise_distance",
            "pdist", "poisson_nll_loss", "soft_margin_loss", "triplet_margin_loss",
            "triplet_margin_with_distance_loss"]
# ---- end 'nnloss' ----

# ---- helper 'vision' adds its imports and __all__ entries here ----
from .vision import (  # noqa: E402
    affine_grid,
    channel_shuffle,
    grid_sample,
    native_channel_shuffle,
    pixel_shuffle,
    pixel_unshuffle,
)

__all__ += ["affine_grid", "channel_shuffle", "grid_sample", "native_channel_shuffle",
            "pixel_shuffle", "pixel_unshuffle"]
from .pooling import (  # noqa: E402
    adaptive_avg_pool3d,
    adaptive_max_pool1d,
    adaptive_max_pool1d_with_indices,
    adaptive_max_pool2d,
    adaptive_max_pool2d_with_indices,
    adaptive_max_pool3d,
    adaptive_max_pool3d_with_indices,
    avg_pool3d,
    fractional_max_pool2d,
    fractional_max_pool2d_with_indices,
    fractional_max_pool3d,
    fractional_max_pool3d_with_indices,
    lp_pool1d,
    lp_pool2d,
    lp_pool3d,
    max_pool1d_with_indices,
    max_pool2d_with_indices,
    max_pool3d,
    max_pool3d_with_indices,
    max_unpool1d,
    max_unpool2d,
    max_unpool3d,
)

__all__ += ["adaptive_avg_pool3d", "adaptive_max_pool1d", "adaptive_max_pool1d_with_indices",
            "adaptive_max_pool2d", "adaptive_max_pool2d_with_indices", "adaptive_max_pool3d",
            "adaptive_max_pool3d_with_indices", "avg_pool3d", "fractional_max_pool2d",
            "fractional_max_pool2d_with_indices", "fractional_max_pool3d",
            "fractional_max_pool3d_with_indices", "lp_pool1d", "lp_pool2d", "lp_pool3d",
            "max_pool1d_with_indices", "max_pool2d_with_indices", "max_pool3d",
            "max_pool3d_with_indices", "max_unpool1d", "max_unpool2d", "max_unpool3d"]
from .conv import conv3d, conv_tbc, conv_transpose3d  # noqa: E402

__all__ += ["conv3d", "conv_tbc", "conv_transpose3d"]
from .upsampling import upsample, upsample_bilinear, upsample_nearest  # noqa: E402

__all__ += ["upsample", "upsample_bilinear", "upsample_nearest"]
# ---- end 'vision' ----
