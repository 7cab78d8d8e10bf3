"""Text encoders: a padded batch of token ids -> one vector per text.

Input: `ids`, an integer (batch, time) array from the vocabulary, and `mask`, a float
(batch, time) array with 1 for a real token and 0 for padding (pad id 0). Host NumPy arrays
are fine; they are moved to the current backend. Padded positions never affect the output.

* `BagOfEmbeddings`: the mean of the token embeddings, $h = \\sum_t m_t E[x_t] / \\sum_t m_t$.
  Fast, order-blind, and the benchmark's encoder.
* `ConvEncoder`: a 1-D convolution over the embeddings (each position sees `width` neighbouring
  tokens), a nonlinearity, then the maximum over time (width 3):
  $h_c = \\max_t f(W_c \\cdot [e_{t-1}; e_t; e_{t+1}] + b_c)$.
"""

from .. import backend as B
from ..autograd import functional as F
from ..autograd import ops
from ..autograd.tensor import Tensor, constant
from ..nn import Embedding, Linear, Module
from ..nn.init import generator


def padded_batch(ids, mask, who):
    """`ids` (batch, time) as integers and `mask` as floats, on the backend, shapes checked."""
    ids = constant(ids)
    mask = constant(mask, dtype=B.default_float)
    if ids.ndim != 2 or tuple(ids.shape) != tuple(mask.shape):
        raise ValueError(
            f"{who}: expected ids and mask of the same shape (batch, time), "
            f"got ids {tuple(ids.shape)} and mask {tuple(mask.shape)}"
        )
    if ids.dtype.kind not in "iu":
        raise TypeError(f"{who}: ids must be integers, not {ids.dtype}")
    return ids, mask


class BagOfEmbeddings(Module):
    """Embedding -> masked mean over time -> (batch, dim).

    If the vocabulary hashes character n-grams, they arrive as extra ids in the same sequence
    (with mask 1), so they are simply averaged in with the words: nothing special is needed here.
    `seed` is an int or a numpy Generator.
    """

    def __init__(self, vocab_size, dim, seed=0):
        super().__init__()
        self.embedding = Embedding(vocab_size, dim, rng=generator(seed), padding_idx=0)
        self.out_dim = dim

    def forward(self, ids, mask):
        ids, mask = padded_batch(ids, mask, "BagOfEmbeddings")
        return F.masked_mean(self.embedding(ids), mask)


_ACTIVATIONS = {"tanh": (ops.tanh, -1.0), "relu": (ops.relu, 0.0)}
"""name -> (function, its smallest value): padded positions get that value before the max."""


class ConvEncoder(Module):
    """Embedding -> 1-D convolution over time -> tanh or relu -> max over real positions.

    The convolution is built from engine ops, so its gradients of any order come for free:
    zero the padded embeddings, pad `width - 1` zero vectors around the sequence, lay the
    `width` shifted copies side by side ((batch, time, width * dim)), and apply one Linear
    layer. The max-pool replaces padded positions by the activation's smallest value, which
    never beats a real token, so a text with no real token gets that constant, not -inf.
    """

    def __init__(self, vocab_size, dim, channels=None, width=3, seed=0, activation="tanh"):
        super().__init__()
        if activation not in _ACTIVATIONS:
            raise ValueError(
                f"ConvEncoder: activation must be one of {sorted(_ACTIVATIONS)}, not {activation!r}"
            )
        if width < 1:
            raise ValueError(f"ConvEncoder: width must be at least 1, got {width}")
        rng = generator(seed)
        channels = channels or dim
        self.embedding = Embedding(vocab_size, dim, rng=rng, padding_idx=0)
        self.conv = Linear(width * dim, channels, rng=rng)
        self.dim, self.width, self.activation, self.out_dim = dim, width, activation, channels

    def windows(self, x):
        """(batch, time, dim) -> (batch, time, width * dim): each position with its neighbours."""
        batch, time, dim = x.shape
        left = (self.width - 1) // 2
        right = self.width - 1 - left
        padded = ops.concatenate(
            [Tensor(B.xp.zeros((batch, left, dim), dtype=x.dtype)), x,
             Tensor(B.xp.zeros((batch, right, dim), dtype=x.dtype))],
            axis=1,
        )
        shifted = [padded[:, k : k + time, :] for k in range(self.width)]
        return ops.concatenate(shifted, axis=2)

    def forward(self, ids, mask):
        ids, mask = padded_batch(ids, mask, "ConvEncoder")
        real = mask.reshape(tuple(mask.shape) + (1,))
        x = self.embedding(ids)
        x = x * Tensor(real.astype(x.dtype))
        activate, lowest = _ACTIVATIONS[self.activation]
        h = activate(self.conv(self.windows(x)))
        return ops.max(ops.where(real > 0, h, lowest), axis=1)

    def extra_repr(self):
        return f"width={self.width}, {self.activation}"


def make_encoder(encoder, vocab_size, dim, rng):
    """"bag" or "conv" -> a new encoder of that kind; a Module (with .out_dim) is used as is."""
    if isinstance(encoder, Module):
        if not hasattr(encoder, "out_dim"):
            raise ValueError(f"encoder {type(encoder).__name__} must have an .out_dim attribute")
        return encoder
    if encoder == "bag":
        return BagOfEmbeddings(vocab_size, dim, seed=rng)
    if encoder == "conv":
        return ConvEncoder(vocab_size, dim, seed=rng)
    raise ValueError(f"encoder must be 'bag', 'conv' or a Module, not {encoder!r}")
