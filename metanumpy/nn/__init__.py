"""Neural-network building blocks with explicit parameters.

`module.py` (Module, Parameter, functional_call: run a model with other weights, the heart of
MAML), `layers.py` (Linear, Embedding, Sequential, ReLU, Tanh, Dropout, LayerNorm), `init.py`
(seeded initial weights), `losses.py` (cross_entropy, nll).
"""

from . import init
from .layers import Dropout, Embedding, LayerNorm, Linear, ReLU, Sequential, Tanh
from .losses import cross_entropy, nll
from .module import Module, Parameter, functional_call

__all__ = [
    "Dropout", "Embedding", "LayerNorm", "Linear", "Module", "Parameter", "ReLU", "Sequential",
    "Tanh", "cross_entropy", "functional_call", "init", "nll",
]
