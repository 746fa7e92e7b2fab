from . import utils  # noqa: F401  (nn.modules.utils, as PyTorch's)
from .activation import LogSoftmax, ReLU, Sigmoid, Softmax, Tanh
from .container import ModuleDict, ModuleList, Sequential
from .flatten import Flatten, Unflatten
from .linear import Identity, Linear
from .module import Module

__all__ = ["Flatten", "Identity", "Linear", "LogSoftmax", "Module", "ModuleDict", "ModuleList",
           "ReLU", "Sequential", "Sigmoid", "Softmax", "Tanh", "Unflatten"]

# ---- families in their own files (each helper adds its block below) ----------------------
# conv/pool (conv.py, pooling.py):
from .conv import (  # noqa: E402
    Conv1d,
    Conv2d,
    ConvTranspose1d,
    ConvTranspose2d,
    Fold,
    Unfold,
)
from .pooling import (  # noqa: E402
    AdaptiveAvgPool1d,
    AdaptiveAvgPool2d,
    AvgPool1d,
    AvgPool2d,
    MaxPool1d,
    MaxPool2d,
)
from .upsampling import Upsample  # noqa: E402

__all__ += ["AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AvgPool1d", "AvgPool2d", "Conv1d",
            "Conv2d", "ConvTranspose1d", "ConvTranspose2d", "Fold", "MaxPool1d", "MaxPool2d",
            "Unfold", "Upsample"]
# norm/dropout/embedding/activations/losses (normalization.py, dropout.py, sparse.py, loss.py):
from .activation import ELU, GELU, Hardtanh, LeakyReLU, ReLU6, SiLU, Softplus  # noqa: E402
from .dropout import Dropout, Dropout2d  # noqa: E402
from .linear import Bilinear  # noqa: E402
from .loss import (  # noqa: E402
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    HuberLoss,
    KLDivLoss,
    L1Loss,
    MSELoss,
    NLLLoss,
    SmoothL1Loss,
)
from .normalization import BatchNorm1d, BatchNorm2d, BatchNorm3d, GroupNorm, LayerNorm  # noqa: E402
from .sparse import Embedding  # noqa: E402

__all__ += ["BCELoss", "BCEWithLogitsLoss", "BatchNorm1d", "BatchNorm2d", "BatchNorm3d",
            "Bilinear", "CrossEntropyLoss", "Dropout", "Dropout2d", "ELU", "Embedding", "GELU",
            "GroupNorm", "Hardtanh", "HuberLoss", "KLDivLoss", "L1Loss", "LayerNorm",
            "LeakyReLU", "MSELoss", "NLLLoss", "ReLU6", "SiLU", "SmoothL1Loss", "Softplus"]
# recurrent/attention (rnn.py, activation_attn.py):
from .attention import MultiheadAttention  # noqa: E402
from .rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNBase, RNNCell, RNNCellBase  # noqa: E402

__all__ += ["GRU", "GRUCell", "LSTM", "LSTMCell", "MultiheadAttention", "RNN", "RNNBase",
            "RNNCell", "RNNCellBase"]
# distributed (sync_batchnorm.py):
from .sync_batchnorm import SyncBatchNorm  # noqa: E402

__all__ += ["SyncBatchNorm"]

# ---- helper 'nnact' adds its imports and __all__ entries here ----
from .activation import (  # noqa: E402
    CELU,
    GLU,
    SELU,
    Hardshrink,
    Hardsigmoid,
    Hardswish,
    LogSigmoid,
    Mish,
    PReLU,
    RReLU,
    Softmax2d,
    Softmin,
    Softshrink,
    Softsign,
    Tanhshrink,
    Threshold,
)

__all__ += ["CELU", "GLU", "Hardshrink", "Hardsigmoid", "Hardswish", "LogSigmoid", "Mish",
            "PReLU", "RReLU", "SELU", "Softmax2d", "Softmin", "Softshrink", "Softsign",
            "Tanhshrink", "Threshold"]
from .dropout import AlphaDropout, Dropout1d, Dropout3d, FeatureAlphaDropout  # noqa: E402

__all__ += ["AlphaDropout", "Dropout1d", "Dropout3d", "FeatureAlphaDropout"]
from .normalization import (  # noqa: E402
    CrossMapLRN2d,
    InstanceNorm1d,
    InstanceNorm2d,
    InstanceNorm3d,
    LocalResponseNorm,
    RMSNorm,
)

__all__ += ["CrossMapLRN2d", "InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d",
            "LocalResponseNorm", "RMSNorm"]
from .container import Container, DataParallel, ParameterDict, ParameterList  # noqa: E402

__all__ += ["Container", "DataParallel", "ParameterDict", "ParameterList"]
from . import lazy as _lazy  # noqa: E402
from .lazy import (  # noqa: E402
    LazyBatchNorm1d,
    LazyBatchNorm2d,
    LazyBatchNorm3d,
    LazyConv1d,
    LazyConv2d,
    LazyConvTranspose1d,
    LazyConvTranspose2d,
    LazyInstanceNorm1d,
    LazyInstanceNorm2d,
    LazyInstanceNorm3d,
    LazyLinear,
    LazyModuleMixin,
    UninitializedBuffer,
    UninitializedParameter,
)

__all__ += ["LazyBatchNorm1d", "LazyBatchNorm2d", "LazyBatchNorm3d", "LazyConv1d", "LazyConv2d",
            "LazyConvTranspose1d", "LazyConvTranspose2d", "LazyInstanceNorm1d",
            "LazyInstanceNorm2d", "LazyInstanceNorm3d", "LazyLinear", "LazyModuleMixin",
            "UninitializedBuffer", "UninitializedParameter"]
for _n in _lazy.LAZY_3D:  # LazyConv3d, LazyConvTranspose3d: with the 3-D convolutions
    globals()[_n] = getattr(_lazy, _n)
    __all__.append(_n)
# ---- end 'nnact' ----

# ---- helper 'nnloss' adds its imports and __all__ entries here ----
from .adaptive import AdaptiveLogSoftmaxWithLoss  # noqa: E402
from .distance import CosineSimilarity, PairwiseDistance  # noqa: E402
from .loss import (  # noqa: E402
    CosineEmbeddingLoss,
    CTCLoss,
    GaussianNLLLoss,
    HingeEmbeddingLoss,
    LinearCrossEntropyLoss,
    MarginRankingLoss,
    MultiLabelMarginLoss,
    MultiLabelSoftMarginLoss,
    MultiMarginLoss,
    NLLLoss2d,
    PoissonNLLLoss,
    SoftMarginLoss,
    TripletMarginLoss,
    TripletMarginWithDistanceLoss,
)

__all__ += ["AdaptiveLogSoftmaxWithLoss", "CTCLoss", "CosineEmbeddingLoss", "CosineSimilarity",
            "GaussianNLLLoss", "HingeEmbeddingLoss", "LinearCrossEntropyLoss",
            "MarginRankingLoss", "MultiLabelMarginLoss",
            "MultiLabelSoftMarginLoss", "MultiMarginLoss", "NLLLoss2d", "PairwiseDistance",
            "PoissonNLLLoss", "SoftMarginLoss", "TripletMarginLoss",
            "TripletMarginWithDistanceLoss"]
from .sparse import EmbeddingBag  # noqa: E402
from .transformer import (  # noqa: E402
    Transformer,
    TransformerDecoder,
    TransformerDecoderLayer,
    TransformerEncoder,
    TransformerEncoderLayer,
)

__all__ += ["EmbeddingBag", "Transformer", "TransformerDecoder", "TransformerDecoderLayer",
            "TransformerEncoder", "TransformerEncoderLayer"]
# ---- end 'nnloss' ----

# ---- helper 'vision' adds its imports and __all__ entries here ----
from .padding import (  # noqa: E402
    CircularPad1d,
    CircularPad2d,
    CircularPad3d,
    ConstantPad1d,
    ConstantPad2d,
    ConstantPad3d,
    ReflectionPad1d,
    ReflectionPad2d,
    ReflectionPad3d,
    ReplicationPad1d,
    ReplicationPad2d,
    ReplicationPad3d,
    ZeroPad1d,
    ZeroPad2d,
    ZeroPad3d,
)

__all__ += ["CircularPad1d", "CircularPad2d", "CircularPad3d", "ConstantPad1d", "ConstantPad2d",
            "ConstantPad3d", "ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d",
            "ReplicationPad1d", "ReplicationPad2d", "ReplicationPad3d", "ZeroPad1d",
            "ZeroPad2d", "ZeroPad3d"]
from .channelshuffle import ChannelShuffle  # noqa: E402
from .pixelshuffle import PixelShuffle, PixelUnshuffle  # noqa: E402

__all__ += ["ChannelShuffle", "PixelShuffle", "PixelUnshuffle"]
from .pooling import (  # noqa: E402
    AdaptiveAvgPool3d,
    AdaptiveMaxPool1d,
    AdaptiveMaxPool2d,
    AdaptiveMaxPool3d,
    AvgPool3d,
    FractionalMaxPool2d,
    FractionalMaxPool3d,
    LPPool1d,
    LPPool2d,
    LPPool3d,
    MaxPool3d,
    MaxUnpool1d,
    MaxUnpool2d,
    MaxUnpool3d,
)

__all__ += ["AdaptiveAvgPool3d", "AdaptiveMaxPool1d", "AdaptiveMaxPool2d", "AdaptiveMaxPool3d",
            "AvgPool3d", "FractionalMaxPool2d", "FractionalMaxPool3d", "LPPool1d", "LPPool2d",
            "LPPool3d", "MaxPool3d", "MaxUnpool1d", "MaxUnpool2d", "MaxUnpool3d"]
from .conv import Conv3d, ConvTranspose3d  # noqa: E402

__all__ += ["Conv3d", "ConvTranspose3d"]
from .upsampling import UpsamplingBilinear2d, UpsamplingNearest2d  # noqa: E402

__all__ += ["UpsamplingBilinear2d", "UpsamplingNearest2d"]
# ---- end 'vision' ----
