"""Prototypical Networks: classify a query by its distance to each class's mean embedding.

With an embedding network f (Snell et al., 2017):

    c_k = mean of f(x) over the support examples of class k          (the prototypes)
    logits_k(q) = -|f(q) - c_k|^2                                    (negative squared distance)
    loss = cross_entropy(logits, query labels)

No inner loop: adapting to a new task is just averaging its support embeddings, so the whole
episode is one differentiable forward pass. `distance="cosine"` uses scaled cosine similarity
instead of the squared Euclidean distance.
"""

from ..autograd import ops
from ..autograd.functional import cosine_similarity, cross_entropy, one_hot, pairwise_sq_dists
from .learner import MetaLearner, encode_support, evaluation_mode


DISTANCES = ("euclidean", "cosine")


def check_distance(who, distance):
    """ValueError naming `who` unless `distance` is one of DISTANCES."""
    if distance not in DISTANCES:
        raise ValueError(f"{who}: distance must be 'euclidean' or 'cosine', not {distance!r}")


def prototypes(support, labels, ways):
    """Class means of the support embeddings: (ways, dim), as one-hot^T @ support / counts."""
    ### BEGIN SOLUTION task7_1: one-hot^T @ support, divided by each class's count
    hot = one_hot(labels, ways, support.dtype)  # (n_support, ways), a constant
    counts = hot.data.sum(axis=0).reshape(-1, 1)
    return ops.matmul(ops.transpose(hot), support) / counts
    ### END SOLUTION


def prototype_logits(query, protos, distance="euclidean", scale=10.0):
    """Logits of each query for each prototype: -squared distance, or scale * cosine."""
    ### BEGIN SOLUTION task7_2: -pairwise squared distances, or scale * cosine similarity
    if distance == "euclidean":
        return -pairwise_sq_dists(query, protos)
    if distance == "cosine":
        return cosine_similarity(query, protos) * scale
    ### END SOLUTION
    raise ValueError(f"ProtoNet: distance must be 'euclidean' or 'cosine', not {distance!r}")


class ProtoNet(MetaLearner):
    name = "protonet"

    def __init__(self, model, distance="euclidean", outer_lr=1e-3):
        check_distance("ProtoNet", distance)
        self.distance = distance
        super().__init__(model, outer_lr)

    def logits(self, episode):
        support, query = encode_support(self.model, episode)
        protos = prototypes(support, episode.support_labels, episode.ways)
        return prototype_logits(query, protos, self.distance)

    def episode_loss(self, episode):
        logits = self.logits(episode)
        return cross_entropy(logits, episode.query_labels), logits

    @evaluation_mode
    def query_logits(self, episode):
        return self.logits(episode)
