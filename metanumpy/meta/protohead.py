"""Proto-MAML: MAML and Reptile with a classifier head that starts every task as ProtoNet.

MAML and Reptile put a classifier head (one output per class) on the encoder and learn where
it starts. But a task's classes are new and come in a random order, so no single starting
head suits them: the few inner steps must build the head almost from nothing. Triantafillou
et al. (2020, "Meta-Dataset") build it from the support set instead. With the class means
c_k of the support embeddings f(x),

    W_k = 2 c_k,   b_k = -|c_k|^2      so that     f(x) . W_k + b_k = -|f(x) - c_k|^2 + |f(x)|^2,

the same softmax as ProtoNet's -|f(x) - c_k|^2 (the |f(x)|^2 term is shared by all classes).
With `distance="cosine"` the embeddings are unit-normalised before the head, and
W_k = scale * c_k / |c_k|, b_k = 0: ProtoNet's scaled cosine. So before any inner step the
learner *is* ProtoNet, and the inner loop fine-tunes the head (and, unless `anil`, the
encoder) from a start that already classifies. In MAML the head is a function of theta (through the prototypes), so the
meta-gradient reaches the encoder through the head's start as well as through the inner loop.

The model is an embedding network (as for ProtoNet); the head is not a parameter of it: it is
built for each task, adapted, and thrown away. `make_learner(..., head="prototypes")` builds
these learners. (The fast path speeds up their ops but not their inner loop: its one-node
first-order link is written for plain MAML, so first-order ProtoMAML keeps its inner graph.)
"""

from .. import backend as B
from ..autograd import no_grad, ops
from ..autograd.functional import cross_entropy, l2_normalize
from ..autograd.tensor import Tensor
from .learner import adapt
from .maml import MAML
from .protonet import check_distance, prototypes
from .reptile import Reptile

HEAD = ("head.weight", "head.bias")


def prototype_head(features, labels, ways, distance="euclidean", scale=10.0):
    """The head that scores `features`' class means like ProtoNet: {"head.weight": (dim, ways),
    "head.bias": (ways,)}, differentiable with respect to `features`."""
    protos = prototypes(features, labels, ways)
    if distance == "cosine":
        weight = ops.transpose(l2_normalize(protos)) * scale
        return {"head.weight": weight,
                "head.bias": Tensor(B.xp.zeros(ways, dtype=weight.dtype), requires_grad=True)}
    return {"head.weight": ops.transpose(protos) * 2.0,
            "head.bias": -ops.sum(protos * protos, axis=1)}


def head_logits(model, ids, mask, params, distance="euclidean"):
    """Logits of the embedding `model` under `params`, followed by the head in `params`."""
    body = {n: p for n, p in params.items() if n not in HEAD}
    features = model(ids, mask, params=body)
    if distance == "cosine":
        features = l2_normalize(features)
    return features @ params["head.weight"] + params["head.bias"]


class ProtoMAML(MAML):
    """MAML (second or first order, ANIL too) whose head starts each task at the prototypes."""

    def __init__(self, model, distance="euclidean", scale=10.0, **options):
        check_distance("ProtoMAML", distance)
        if options.get("meta_sgd"):
            raise ValueError("ProtoMAML: meta_sgd learns one inner rate per weight, but the head "
                             "is rebuilt for every task; use a single inner_lr")
        self.distance, self.scale = distance, scale
        super().__init__(model, **options)

    def logits(self, ids, mask, params):
        return head_logits(self.model, ids, mask, params, self.distance)

    def fast_weights(self, episode, steps, create_graph):
        """Theta (the adapted part) plus the prototype head, after `steps` SGD steps."""
        support = self.model(episode.support_ids, episode.support_mask)
        # theta + 0: the same values as new graph nodes, so that the first inner gradient is
        # the partial derivative in theta; with theta itself it would also run through the head,
        # which was built from theta. The meta-gradient still reaches theta by both ways.
        start = {**{n: p + 0.0 for n, p in self.adapted_parameters().items()},
                 **prototype_head(support, episode.support_labels, episode.ways, self.distance,
                                  self.scale)}
        return adapt(self.logits, start, episode.support_ids, episode.support_mask,
                     episode.support_labels, steps, self.inner_lr, create_graph)

    def episode_loss(self, episode):
        fast = self.fast_weights(episode, self.inner_steps, create_graph=not self.first_order)
        logits = self.logits(episode.query_ids, episode.query_mask, fast)
        return cross_entropy(logits, episode.query_labels), logits

    def query_logits(self, episode, steps=None):
        fast = self.fast_weights(episode, self.eval_inner_steps if steps is None else steps,
                                 create_graph=False)
        with no_grad():
            return self.logits(episode.query_ids, episode.query_mask, fast)


class ProtoReptile(Reptile):
    """Reptile whose head starts each task at the prototypes of the examples it trains on;
    the outer step moves only the encoder (the head belongs to one task)."""

    def __init__(self, model, distance="euclidean", scale=10.0, **options):
        check_distance("ProtoReptile", distance)
        self.distance, self.scale = distance, scale
        super().__init__(model, **options)

    def start(self, ids, mask, labels, ways):
        with no_grad():
            head = prototype_head(self.model(ids, mask), labels, ways, self.distance, self.scale)
        return {**super().start(ids, mask, labels, ways), **head}

    def logits(self, ids, mask, params):
        return head_logits(self.model, ids, mask, params, self.distance)
