"""Matching Networks: a query's label is an attention-weighted vote of the support labels.

With an embedding network f (Vinyals et al., 2016):

    a(q, s_j) = softmax_j( tau * cos(f(q), f(s_j)) )          (attention over the support set)
    P(y = k | q) = sum_j a(q, s_j) [y_j = k]                   (attention @ one-hot labels)

The loss is the negative log of P(y = k | q) for the true k, computed stably as a
log-sum-exp over each class's support examples of the log-attention:
log P(k | q) = logsumexp_{j: y_j = k} log a(q, s_j).

About the temperature tau: cosine similarities lie in [-1, 1], so without scaling the softmax
is nearly uniform and training stalls (worse still after a final ReLU, which squashes cosines
into [0, 1]). We multiply them by a fixed `temperature` (default 10). Full-context embeddings
are not used here.
"""

from ..autograd import ops
from ..autograd.functional import class_logsumexp, cosine_similarity, log_softmax, nll
from .learner import MetaLearner, encode_support, evaluation_mode


def attention(query, support, temperature=10.0):
    """Attention of each query over the support set: (n_query, n_support), rows sum to 1."""
    return ops.exp(log_attention(query, support, temperature))


def log_attention(query, support, temperature=10.0):
    """log a(q, s_j) = log_softmax_j(tau * cos(q, s_j)): (n_query, n_support)."""
    ### BEGIN SOLUTION task6_1: log_softmax over the support axis of temperature * cosine
    return log_softmax(cosine_similarity(query, support) * temperature, axis=1)
    ### END SOLUTION


def class_log_probs(log_attn, labels, ways):
    """log P(k | q) = logsumexp over the support examples of class k of log a(q, s_j).

    One fused op, `ClassLogSumExp` in metanumpy/autograd/fused.py: composed from primitives it
    would be a logsumexp over the last axis of log_attn[:, None, :] + offset, where
    offset[k, j] is 0 if y_j = k and -1e30 (the log of a zero weight) otherwise."""
    return class_logsumexp(log_attn, labels, ways)


class MatchingNetwork(MetaLearner):
    name = "matching"

    def __init__(self, model, temperature=10.0, outer_lr=1e-3):
        self.temperature = temperature
        super().__init__(model, outer_lr)

    def logits(self, episode):
        """Class log-probabilities of the query set (they serve as logits)."""
        support, query = encode_support(self.model, episode)
        log_attn = log_attention(query, support, self.temperature)
        return class_log_probs(log_attn, episode.support_labels, episode.ways)

    def episode_loss(self, episode):
        log_probs = self.logits(episode)
        return nll(log_probs, episode.query_labels), log_probs

    @evaluation_mode
    def query_logits(self, episode):
        return self.logits(episode)
