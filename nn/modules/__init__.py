from .activation import LogSoftmax, ReLU, Sigmoid, Softmax, Tanh
from .container import ModuleDict, ModuleList, Sequential
from .flatten import Flatten, Unflatten
from .linear import Identity, Linear
from .module import Module

__all__ = ["Flatten", "Identity", "Linear", "LogSoftmax", "Module", "ModuleDict", "ModuleList",
           "ReLU", "Sequential", "Sigmoid", "Softmax", "Tanh", "Unflatten"]

# ---- families in their own files (each helper adds its block below) ----------------------
# conv/pool (conv.py, pooling.py):
# norm/dropout/embedding/activations/losses (normalization.py, dropout.py, sparse.py, loss.py):
# recurrent/attention (rnn.py, activation_attn.py):
