"""A tiny tensor autograd engine with gradients of any order.

Files, in reading order: `tensor.py` (Tensor, Function, no_grad), `ops.py` (primitive ops,
forward on arrays, backward on Tensors), `functional.py` (softmax, losses, distances, pooling
built from the primitives), `grad.py` (the backward walk), `check.py` (finite differences).
"""

from . import functional, ops
from .check import GradcheckError, gradcheck, gradgradcheck
from .grad import backward, grad
from .tensor import Function, Tensor, is_grad_enabled, no_grad, tensor

__all__ = [
    "Function", "GradcheckError", "Tensor", "backward", "functional", "grad", "gradcheck",
    "gradgradcheck", "is_grad_enabled", "no_grad", "ops", "tensor",
]
