from .activation import LogSoftmax, ReLU, Sigmoid, Softmax, Tanh
from .container import ModuleDict, ModuleList, Sequential
from .flatten import Flatten, Unflatten
from .linear import Identity, Linear
from .module import Module

__all__ = ["Flatten", "Identity", "Linear", "LogSoftmax", "Module", "ModuleDict", "ModuleList",
           "ReLU", "Sequential", "Sigmoid", "Softmax", "Tanh", "Unflatten"]
