"""The layers a text model is built from: Linear, Embedding, Sequential, activations,
Dropout and LayerNorm.

Every layer reads its weights as `self.weight`, `self.bias`, ... inside `forward`, so each one
works unchanged under `model(x, params=fast)` (see module.py). A bad input shape is reported
by the layer that receives it, with the layer's own sizes in the message.
"""

import numpy as np

from .. import backend as B
from ..autograd import functional as F
from ..autograd import ops
from ..autograd.tensor import Tensor, tensor
from . import init
from .module import Module, Parameter


def _as_tensor(x):
    """Tensors pass through; arrays and lists become constant Tensors on the current backend."""
    return x if isinstance(x, Tensor) else tensor(x)


def _check_last_dim(layer, x, expected):
    if x.ndim == 0 or x.shape[-1] != expected:
        raise ValueError(
            f"{layer!r}: expected input with last dimension {expected}, got shape {x.shape}"
        )


class Linear(Module):
    """$y = x W + b$ with W of shape (n_in, n_out); x may have any leading dimensions.

    W and b start as $U(-1/\\sqrt{n\\_in}, 1/\\sqrt{n\\_in})$, drawn from `rng`: a numpy Generator,
    an int seed, or None (seed 0). Layers sharing one Generator get different draws.
    """

    def __init__(self, n_in, n_out, bias=True, rng=None):
        super().__init__()
        rng = init.generator(0 if rng is None else rng)
        self.n_in, self.n_out = n_in, n_out
        self.weight = Parameter(init.uniform_fan_in((n_in, n_out), n_in, rng))
        if bias:
            self.bias = Parameter(init.uniform_fan_in((n_out,), n_in, rng))
        self.has_bias = bias

    def forward(self, x):
        x = _as_tensor(x)
        _check_last_dim(self, x, self.n_in)
        y = x @ self.weight
        return y + self.bias if self.has_bias else y

    def extra_repr(self):
        return f"{self.n_in} -> {self.n_out}" + ("" if self.has_bias else ", bias=False")


class Embedding(Module):
    """A (n, dim) table of learned vectors; forward(ids) -> ids.shape + (dim,).

    Weights start as N(0, 1), drawn from `rng` (Generator, int seed, or None for seed 0). With
    `padding_idx`, that row starts at zero; the encoders also mask padded positions, which is
    what guarantees that padding has no effect.
    """

    def __init__(self, n, dim, rng=None, padding_idx=None):
        super().__init__()
        table = init.normal((n, dim), 1.0, init.generator(0 if rng is None else rng))
        if padding_idx is not None:
            table[padding_idx] = 0.0
        self.n, self.dim, self.padding_idx = n, dim, padding_idx
        self.weight = Parameter(table)

    def forward(self, ids):
        return F.embedding(self.weight, ids)

    def extra_repr(self):
        pad = "" if self.padding_idx is None else f", padding_idx={self.padding_idx}"
        return f"{self.n}, {self.dim}{pad}"


class Sequential(Module):
    """Modules applied one after the other; their names are "0", "1", ..."""

    def __init__(self, *modules):
        super().__init__()
        for i, m in enumerate(modules):
            if not isinstance(m, Module):
                raise TypeError(f"Sequential: item {i} is a {type(m).__name__}, not a Module")
            setattr(self, str(i), m)

    def forward(self, x):
        for m in self._modules.values():
            x = m(x)
        return x

    def __getitem__(self, i):
        return list(self._modules.values())[i]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(list(self._modules.values()))


class ReLU(Module):
    """$\\max(x, 0)$"""

    def forward(self, x):
        return ops.relu(x)


class Tanh(Module):
    """$\\tanh x$"""

    def forward(self, x):
        return ops.tanh(x)


class Dropout(Module):
    """In training, zero each entry with probability p and scale the rest by 1/(1-p).

    The mask comes from the layer's own seeded host generator and is moved to the backend; in
    eval mode (and for p = 0) the layer is the identity.
    """

    def __init__(self, p=0.5, seed=0):
        super().__init__()
        if not 0.0 <= p < 1.0:
            raise ValueError(f"Dropout: p must lie in [0, 1), got {p}")
        self.p = p
        self.rng = init.generator(seed)

    def forward(self, x):
        x = _as_tensor(x)
        if not self.training or self.p == 0.0:
            return x
        keep = (self.rng.random(x.shape) >= self.p) / (1.0 - self.p)
        return x * Tensor(B.asarray(keep, dtype=x.dtype))

    def extra_repr(self):
        return f"p={self.p}"


class LayerNorm(Module):
    """$(x - \\mu) / \\sqrt{\\sigma^2 + \\epsilon} \\cdot g + b$ over the last dimension."""

    def __init__(self, dim, eps=1e-5):
        super().__init__()
        self.dim, self.eps = dim, eps
        self.gain = Parameter(np.ones(dim))
        self.bias = Parameter(np.zeros(dim))

    def forward(self, x):
        x = _as_tensor(x)
        _check_last_dim(self, x, self.dim)
        centred = x - ops.mean(x, axis=-1, keepdims=True)
        variance = ops.mean(centred * centred, axis=-1, keepdims=True)
        return centred / ops.sqrt(variance + self.eps) * self.gain + self.bias

    def extra_repr(self):
        return f"{self.dim}, eps={self.eps}"
