"""Matching Networks: a query's label is an attention-weighted vote of the support labels.

With an embedding network f (Vinyals et al., 2016):

    a(q, s_j) = softmax_j( tau * cos(f(q), f(s_j)) )          (attention over the support set)
    P(y = k | q) = sum_j a(q, s_j) [y_j = k]                   (attention @ one-hot labels)

The loss is the negative log of P(y = k | q) for the true k: log(attention @ one_hot(labels)).
(That log never sees a zero: with cosines in [-1, 1] every attention weight is at least
e^{-2 tau} / n_support, about 1e-10 for tau = 10, far above float32's smallest number.)

About the temperature tau: cosine similarities lie in [-1, 1], so without scaling the softmax
is nearly uniform and training stalls (worse still after a final ReLU, which squashes cosines
into [0, 1]). We multiply them by a fixed `temperature` (default 10). Full-context embeddings
are not used here.
"""

from ..autograd import ops
from ..autograd.functional import cosine_similarity, log_softmax, nll, one_hot
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
    """log P(k | q) = log sum_j a(q, s_j) [y_j = k]: the log of attention @ one_hot(labels),
    (n_query, ways), from the log-attention (n_query, n_support) and the support labels."""
    ### BEGIN SOLUTION task6_1: exp the log-attention, @ one_hot(labels, ways), then log
    attn = ops.exp(log_attn)
    return ops.log(ops.matmul(attn, one_hot(labels, ways, attn.dtype)))
    ### END SOLUTION


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
