"""Composite ops built from the primitives: softmax, losses, similarities, pooling.

None of these needs its own backward: each is a short expression of differentiable
primitives, so its gradient (of any order) comes for free. Where a naive formula is
unstable, the stable primitive (`log_softmax`, `logsumexp`) does the delicate part.
"""

from .. import backend as B
from . import ops
from .ops import as_tensor, log_softmax, logsumexp  # noqa: F401  (re-exported)
from .tensor import Tensor


def softmax(x, axis=-1):
    """$e^{x_i} / \\sum_j e^{x_j}$, computed as exp(log_softmax(x))."""
    return ops.exp(log_softmax(x, axis))


def _labels(labels, logits, op):
    labels = B.asarray(labels.data if isinstance(labels, Tensor) else labels)
    if labels.dtype.kind not in "iu":
        raise TypeError(f"{op}: labels must be integers, not {labels.dtype}")
    if logits.ndim != 2 or tuple(labels.shape) != logits.shape[:1]:
        raise ValueError(
            f"{op}: expected logits of shape (n, classes) and labels of shape (n,), "
            f"got {logits.shape} and {tuple(labels.shape)}"
        )
    return labels


def one_hot(labels, n_classes, dtype=None):
    """A constant (n, n_classes) Tensor with a 1 at each label."""
    labels = B.asarray(labels.data if isinstance(labels, Tensor) else labels)
    eye = B.xp.eye(n_classes, dtype=dtype or B.default_float)
    return Tensor(eye[labels])


def nll(log_probs, labels):
    """Mean negative log-likelihood of integer `labels` under rows of `log_probs`."""
    log_probs = as_tensor(log_probs)
    labels = _labels(labels, log_probs, "nll")
    n, c = log_probs.shape
    if n and (int(labels.min()) < 0 or int(labels.max()) >= c):
        raise ValueError(f"nll: labels must lie in 0..{c - 1}, got {int(labels.min())}..{int(labels.max())}")
    picked = log_probs * one_hot(labels, c, log_probs.dtype)
    return -ops.sum(picked) * (1.0 / n)


def cross_entropy(logits, labels):
    """Mean cross-entropy of integer `labels`: nll(log_softmax(logits))."""
    logits = as_tensor(logits)
    _labels(labels, logits, "cross_entropy")
    return nll(log_softmax(logits, axis=-1), labels)


def accuracy(logits, labels):
    """Fraction of rows whose arg-max equals the label (a plain float, no gradient)."""
    pred = B.to_numpy(as_tensor(logits).data.argmax(axis=-1))
    labels = B.to_numpy(labels.data if isinstance(labels, Tensor) else labels)
    return float((pred == labels).mean())


def l2_normalize(x, axis=-1, eps=1e-8):
    """$x / \\sqrt{|x|^2 + \\epsilon}$: unit length, and safe (zero, finite gradient) at x = 0."""
    x = as_tensor(x)
    return x / ops.sqrt(ops.sum(x * x, axis, keepdims=True) + eps)


def cosine_similarity(a, b, eps=1e-8):
    """All pairwise cosines between rows of a (n, d) and rows of b (m, d): shape (n, m)."""
    a, b = as_tensor(a), as_tensor(b)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise ValueError(f"cosine_similarity: expected (n, d) and (m, d), got {a.shape} and {b.shape}")
    return ops.matmul(l2_normalize(a, eps=eps), ops.swap_last(l2_normalize(b, eps=eps)))


def pairwise_sq_dists(a, b):
    """All pairwise squared Euclidean distances $|a_i - b_j|^2$: shape (n, m).

    Written as a broadcast difference (exact, never negative) rather than the
    $|a|^2 + |b|^2 - 2ab$ trick; episodes are small, so the extra memory does not matter.
    """
    a, b = as_tensor(a), as_tensor(b)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise ValueError(f"pairwise_sq_dists: expected (n, d) and (m, d), got {a.shape} and {b.shape}")
    diff = ops.reshape(a, (a.shape[0], 1, a.shape[1])) - ops.reshape(b, (1,) + b.shape)
    return ops.sum(diff * diff, axis=-1)


def masked_mean(x, mask, axis=1):
    """Mean of `x` over `axis`, counting only positions where the constant `mask` is 1.

    x: (batch, time, dim), mask: (batch, time) -> (batch, dim). Rows with no valid
    position give zeros (not NaN).
    """
    x = as_tensor(x)
    mask = B.asarray(mask.data if isinstance(mask, Tensor) else mask)
    if tuple(mask.shape) != x.shape[: mask.ndim]:
        raise ValueError(f"masked_mean: mask shape {tuple(mask.shape)} does not match x shape {x.shape}")
    mask = mask.astype(x.dtype)
    weights = mask / B.xp.maximum(mask.sum(axis=axis, keepdims=True), 1)
    weights = weights.reshape(tuple(mask.shape) + (1,) * (x.ndim - mask.ndim))
    return ops.sum(x * Tensor(weights), axis=axis)


def embedding(table, ids):
    """Rows of the (vocab, dim) `table` for integer `ids` of any shape -> ids.shape + (dim,)."""
    table = as_tensor(table)
    if table.ndim != 2:
        raise ValueError(f"embedding: the table must be (vocab, dim), got {table.shape}")
    ids_data = B.asarray(ids.data if isinstance(ids, Tensor) else ids)
    if ids_data.size and (int(ids_data.min()) < 0 or int(ids_data.max()) >= table.shape[0]):
        raise ValueError(
            f"embedding: ids must lie in 0..{table.shape[0] - 1}, "
            f"got {int(ids_data.min())}..{int(ids_data.max())}"
        )
    return ops.take_rows(table, ids_data)
