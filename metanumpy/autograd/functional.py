"""Composite ops built from the primitives: softmax, losses, similarities, pooling.

Most of these need no backward of their own: each is a short expression of differentiable
primitives, so its gradient (of any order) comes for free. Where a naive formula is
unstable, the stable primitive (`log_softmax`, `logsumexp`) does the delicate part. The hot
ones of meta-training (cross-entropy, nll, l2 normalisation, the embedding bag) check their
inputs here and then run as one fused op from `fused.py`, which gives the same numbers.
"""

from .. import backend as B
from . import fused, ops
from .fused import bag_sum, cross_entropy_loss, nll_loss, one_hot  # noqa: F401 (one_hot re-exported)
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


def nll(log_probs, labels):
    """Mean negative log-likelihood of integer `labels` under rows of `log_probs`."""
    log_probs = as_tensor(log_probs)
    labels = _labels(labels, log_probs, "nll")
    _labels_in_range(labels, log_probs.shape[1], "nll")
    return nll_loss(log_probs, labels)


def cross_entropy(logits, labels):
    """Mean cross-entropy of integer `labels`: nll(log_softmax(logits)), as one fused op."""
    logits = as_tensor(logits)
    labels = _labels(labels, logits, "cross_entropy")
    _labels_in_range(labels, logits.shape[1], "cross_entropy")
    return cross_entropy_loss(logits, labels)


def class_logsumexp(x, labels, ways):
    """$out_{qk} = \\log \\sum_{j:\\, y_j = k} e^{x_{qj}}$ for (n, m) scores `x` and the integer
    labels (m,) of its columns, in 0..ways-1: (n, ways), one fused op."""
    x = as_tensor(x)
    labels = constant(labels)
    if labels.dtype.kind not in "iu":
        raise TypeError(f"class_logsumexp: labels must be integers, not {labels.dtype}")
    if x.ndim != 2 or tuple(labels.shape) != x.shape[1:]:
        raise ValueError(
            f"class_logsumexp: expected scores of shape (n, m) and labels of shape (m,), "
            f"got {x.shape} and {tuple(labels.shape)}"
        )
    _labels_in_range(labels, ways, "class_logsumexp")
    return fused.class_logsumexp(x, labels, ways)


def accuracy(logits, labels):
    """Fraction of rows whose arg-max equals the label (a plain float, no gradient)."""
    pred = B.to_numpy(as_tensor(logits).data.argmax(axis=-1))
    labels = B.to_numpy(labels.data if isinstance(labels, Tensor) else labels)
    return float((pred == labels).mean())


def l2_normalize(x, axis=-1, eps=1e-8):
    """$x / \\sqrt{|x|^2 + \\epsilon}$: unit length, and safe (zero, finite gradient) at x = 0."""
    return fused.l2_normalize(as_tensor(x), axis, eps)  # one op; its backward has five


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


def _table_and_ids(table, ids, op):
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


def embedding(table, ids):
    """Rows of the (vocab, dim) `table` for integer `ids` of any shape -> ids.shape + (dim,)."""
    table, ids = _table_and_ids(table, ids, "embedding")
    return ops.take_rows(table, ids)


def embedding_bag(table, ids, weights):
    """Weighted sums of embeddings: $out_b = \\sum_t w_{bt}\\, E[ids_{bt}]$ -> (batch, dim).

    ids: (batch, time) integers; weights: a constant (batch, time) array. The U distinct rows
    the batch uses are taken from the table once (`take_distinct_rows`), and a fused op sums
    them per text (`BagSum`). So the gradient with respect to the table has U rows, stored
    row-sparse, and no (batch, time, dim) array is kept for the backward pass. The batch's
    distinct rows and backward plan are remembered for the next step of an inner loop
    (`fused.RecentBags`).
    """
    table, ids = _table_and_ids(table, ids, "embedding_bag")
    weights = constant(weights, dtype=table.dtype)
    if ids.ndim != 2 or tuple(weights.shape) != tuple(ids.shape):
        raise ValueError(
            f"embedding_bag: expected ids and weights of the same shape (batch, time), "
            f"got {tuple(ids.shape)} and {tuple(weights.shape)}"
        )
    rows, bags = fused.recent_bags.get(ids, weights, table.shape[0])  # reused in inner loops
    return fused.BagSum(bags)(ops.take_distinct_rows(table, rows))


def embedding_mean(table, ids, mask):
    """The masked mean of the embeddings of `ids` (batch, time) -> (batch, dim), in one step:
    `masked_mean(embedding(table, ids), mask)`, computed by `embedding_bag`."""
    mask = constant(mask, dtype=B.default_float)
    return embedding_bag(table, ids, mask / B.xp.maximum(mask.sum(axis=1, keepdims=True), 1))
