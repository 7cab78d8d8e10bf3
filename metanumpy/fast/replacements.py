"""What the fast path puts in place of the reference code: one function per replaced piece.

Each takes the same arguments as the reference function or method it replaces (named in its
docstring), checks its input the same way, and returns the same numbers up to float32
rounding (`tests/test_fast.py` trains every learner both ways and compares).
"""

from ..autograd import functional as F
from ..autograd.ops import as_tensor
from ..autograd.tensor import constant
from ..meta.learner import adapt
from ..meta.maml import MAML
from ..optim import named_grads, rate_for
from ..text.encoders import padded_batch
from .bags import embedding_mean, take_rows
from .fused import FirstOrderLink, SGDUpdate, class_logsumexp, cross_entropy_loss, nll_loss
from .fused import l2_normalize as fused_l2_normalize
from .rowsparse import add_all, dense

_reference_fast_weights = MAML.fast_weights  # imported by enable() before it swaps anything


def cross_entropy(logits, labels):
    """functional.cross_entropy as one fused op."""
    logits = as_tensor(logits)
    labels = F._labels(labels, logits, "cross_entropy")
    F._labels_in_range(labels, logits.shape[1], "cross_entropy")
    return cross_entropy_loss(logits, labels)


def nll(log_probs, labels):
    """functional.nll as one fused op."""
    log_probs = as_tensor(log_probs)
    labels = F._labels(labels, log_probs, "nll")
    F._labels_in_range(labels, log_probs.shape[1], "nll")
    return nll_loss(log_probs, labels)


def l2_normalize(x, axis=-1, eps=1e-8):
    """functional.l2_normalize as one op (its backward has five)."""
    return fused_l2_normalize(as_tensor(x), axis, eps)


def embedding(table, ids):
    """functional.embedding through the distinct rows, so its gradient is row-sparse."""
    table, ids = F.checked_table_and_ids(table, ids, "embedding")
    return take_rows(table, ids)


def bag_of_embeddings_forward(self, ids, mask):
    """BagOfEmbeddings.forward as one embedding bag: no (batch, time, dim) intermediate."""
    ids, mask = padded_batch(ids, mask, "BagOfEmbeddings")
    table, ids = F.checked_table_and_ids(self.embedding.weight, ids, "BagOfEmbeddings")
    return embedding_mean(table, ids, mask)


def class_log_probs(log_attn, labels, ways):
    """matching.class_log_probs, log(attention @ one_hot), as a per-class logsumexp of the
    log-attention (n, m) over the columns of each of the `ways` classes (labels (m,))."""
    x = as_tensor(log_attn)
    labels = constant(labels)
    if labels.dtype.kind not in "iu":
        raise TypeError(f"class_logsumexp: labels must be integers, not {labels.dtype}")
    if x.ndim != 2 or tuple(labels.shape) != x.shape[1:]:
        raise ValueError(
            f"class_logsumexp: expected scores of shape (n, m) and labels of shape (m,), "
            f"got {x.shape} and {tuple(labels.shape)}"
        )
    F._labels_in_range(labels, ways, "class_logsumexp")
    return class_logsumexp(x, labels, ways)


def sgd_step(params, grads, lr):
    """optim.sgd_step with the fused update: a row-sparse gradient patches only its rows."""
    return {name: p if g is None else SGDUpdate()(p, g, rate_for(lr, name, p))
            for name, p, g in named_grads(params, grads)}


def add_n_forward(self, *arrays):
    """ops.AddN.forward: row-sparse gradients are merged in one pass."""
    return add_all(arrays)


def optimizer_step(self):
    """Optimizer.step, storing a dense table where an update came out row-sparse."""
    self.steps += 1
    for i, p in enumerate(self.params):
        if p.grad is not None:
            p.data = dense(self._update(i, p.data, p.grad.data))


def maml_fast_weights(self, episode, steps, create_graph):
    """MAML.fast_weights; first order adapts a detached copy and links phi to theta by one
    node with d phi / d theta = I, so memory does not grow with the number of inner steps."""
    if create_graph or self.meta_sgd:
        return _reference_fast_weights(self, episode, steps, create_graph)
    theta = self.adapted_parameters()
    start = {n: p.detach().requires_grad_() for n, p in theta.items()}
    phi = adapt(self.model, start, episode.support_ids, episode.support_mask,
                episode.support_labels, steps, self.inner_lr)
    return {n: FirstOrderLink(phi[n].data)(theta[n]) for n in theta}


def reptile_outer_step(self, phis, eps):
    """Reptile.outer_step as theta + eps/k * sum_i(phi_i - theta): for an embedding table each
    move phi_i - theta is row-sparse, so only the moved rows are computed."""
    for name, p in self.model.named_parameters():
        moves = [phi[name].data - p.data for phi in phis]
        p.data = dense(p.data + (eps / len(phis)) * add_all(moves))
