"""Composite ops built from the primitives: softmax, losses, similarities, pooling.

None of these needs a backward of its own: each is a short expression of differentiable
primitives, so its gradient (of any order) comes for free. Where a naive formula is
unstable, the stable primitive (`log_softmax`, `logsumexp`) does the delicate part.
(`metanumpy.fast` can replace a few of them by fused ops that give the same numbers faster;
what you read here is what runs unless you switch it on.)
"""

from .. import backend as B
from . import ops
from .ops import as_tensor, log_softmax, logsumexp  # noqa: F401  (re-exported)
from .tensor import Tensor, constant


def softmax(x, axis=-1):
    """$e^{x_i} / \\sum_j e^{x_j}$, computed as exp(log_softmax(x))."""
    return ops.exp(log_softmax(x, axis))


def _labels(labels, logits, op):
    labels = constant(labels)
    if labels.dtype.kind not in "iu":
        raise TypeError(f"{op}: labels must be integers, not {labels.dtype}")
    if logits.ndim != 2 or tuple(labels.shape) != logits.shape[:1]:
        raise ValueError(
            f"{op}: expected logits of shape (n, classes) and labels of shape (n,), "
            f"got {logits.shape} and {tuple(labels.shape)}"
        )
    return labels


def _labels_in_range(labels, n_classes, op):
    if labels.size and (int(labels.min()) < 0 or int(labels.max()) >= n_classes):
        raise ValueError(
            f"{op}: labels must lie in 0..{n_classes - 1}, "
            f"got {int(labels.min())}..{int(labels.max())}"
        )


def one_hot(labels, n_classes, dtype=None):
    """A constant (n, n_classes) Tensor with a 1 at each label: row i is $e_{y_i}$."""
    labels = constant(labels)
    return Tensor(B.xp.eye(n_classes, dtype=dtype or B.default_float)[labels])


def nll(log_probs, labels):
    """Mean negative log-likelihood of integer `labels`: $-\\frac1n \\sum_i \\log p_{i, y_i}$,
    written as the one-hot product $-\\frac1n \\sum_{ik} [y_i = k] \\log p_{ik}$."""
    log_probs = as_tensor(log_probs)
    labels = _labels(labels, log_probs, "nll")
    _labels_in_range(labels, log_probs.shape[1], "nll")
    return _picked_mean(log_probs, labels)


def _picked_mean(log_probs, labels):
    n, classes = log_probs.shape
    picked = log_probs * one_hot(labels, classes, log_probs.dtype)
    return ops.sum(picked) * (-1.0 / n)


def cross_entropy(logits, labels):
    """Mean cross-entropy of integer `labels`: nll(log_softmax(logits))."""
    logits = as_tensor(logits)
    labels = _labels(labels, logits, "cross_entropy")
    _labels_in_range(labels, logits.shape[1], "cross_entropy")
    return _picked_mean(log_softmax(logits, axis=1), labels)


def accuracy(logits, labels):
    """Fraction of rows whose arg-max equals the label (a plain float, no gradient)."""
    pred = B.to_numpy(as_tensor(logits).data.argmax(axis=-1))
    labels = B.to_numpy(labels.data if isinstance(labels, Tensor) else labels)
    return float((pred == labels).mean())


def l2_normalize(x, axis=-1, eps=1e-8):
    """$x / \\sqrt{|x|^2 + \\epsilon}$: unit length, and safe (zero, finite gradient) at x = 0."""
    x = as_tensor(x)
    return x / ops.sqrt(ops.sum(x * x, axis=axis, keepdims=True) + eps)


def cosine_similarity(a, b, eps=1e-8):
    """All pairwise cosines between rows of a (n, d) and rows of b (m, d): shape (n, m)."""
    a, b = as_tensor(a), as_tensor(b)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise ValueError(f"cosine_similarity: expected (n, d) and (m, d), got {a.shape} and {b.shape}")
    return ops.matmul(l2_normalize(a, eps=eps), l2_normalize(b, eps=eps), transpose_b=True)


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
    mask = constant(mask)
    if tuple(mask.shape) != x.shape[: mask.ndim]:
        raise ValueError(f"masked_mean: mask shape {tuple(mask.shape)} does not match x shape {x.shape}")
    ### BEGIN SOLUTION task2_1: weights mask / count (count at least 1), then sum x * weights
    mask = mask.astype(x.dtype)
    weights = mask / B.xp.maximum(mask.sum(axis=axis, keepdims=True), 1)
    weights = weights.reshape(tuple(mask.shape) + (1,) * (x.ndim - mask.ndim))
    return ops.sum(x * Tensor(weights), axis=axis)
    ### END SOLUTION


def embedding(table, ids):
    """Rows of the (vocab, dim) `table` for integer `ids` of any shape -> ids.shape + (dim,).

    A gather, `table[ids]`: its gradient scatter-adds each token's gradient into its row
    (`getitem`'s backward), so a word used twice gets both contributions.
    """
    table, ids = checked_table_and_ids(table, ids, "embedding")
    return ops.getitem(table, ids)


def checked_table_and_ids(table, ids, op):
    """(table Tensor, ids array) after checking that `table` is (vocab, dim) and `ids` are
    integers in 0..vocab-1; errors name `op`."""
    table = as_tensor(table)
    if table.ndim != 2:
        raise ValueError(f"{op}: the table must be (vocab, dim), got {table.shape}")
    ids = constant(ids)
    if ids.dtype.kind not in "iu":
        raise TypeError(f"{op}: ids must be integers, not {ids.dtype}")
    if ids.size and (int(ids.min()) < 0 or int(ids.max()) >= table.shape[0]):
        raise ValueError(
            f"{op}: ids must lie in 0..{table.shape[0] - 1}, got {int(ids.min())}..{int(ids.max())}"
        )
    return table, ids
