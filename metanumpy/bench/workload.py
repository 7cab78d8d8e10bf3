"""What the benchmark runs: the fixed model, the synthetic episodes, and the five learners.

The spec (README "Benchmark", keep it comparable across versions):

* model: `TextClassifier(V, 5, dim=D, hidden=H)`, i.e. Embedding(V, D) -> masked mean ->
  Linear(D, H) -> ReLU -> Linear(H, 5), float32;
* episodes: 5-way 5-shot with 15 queries per class (25 support and 75 query texts), random
  token ids 1..V-1, each text between T/2 and T tokens long, padded with id 0 to T;
* a meta-batch is 4 episodes; MAML, first-order MAML and Reptile take 5 inner SGD steps with
  step size 0.1; ProtoNet and Matching Networks use the classifier's outputs as embeddings.
"""

from dataclasses import dataclass

import numpy as np

from ..meta import MAML, MatchingNetwork, ProtoNet, Reptile
from ..tasks.episodes import Episode
from ..text import TextClassifier

WAYS, SHOTS, QUERIES, META_BATCH, INNER_STEPS, INNER_LR = 5, 5, 15, 4, 5, 0.1


@dataclass(frozen=True)
class Size:
    """Vocabulary V, embedding D, hidden H and maximum text length T of one benchmark size."""

    vocab: int
    dim: int
    hidden: int
    time: int


SIZES = {
    "S": Size(vocab=2000, dim=32, hidden=64, time=32),
    "M": Size(vocab=10000, dim=128, hidden=256, time=64),
    "L": Size(vocab=30000, dim=300, hidden=512, time=128),
}

ALGORITHMS = ("maml", "fomaml", "reptile", "protonet", "matching")
INNER_LOOP = ("maml", "fomaml", "reptile")
"""The algorithms with an inner loop (the others ignore `inner_steps`)."""


def _texts(rng, n, size):
    """n random padded texts: ids (n, T) int64 and mask (n, T) float32."""
    lengths = rng.integers(size.time // 2, size.time + 1, size=n)
    mask = (np.arange(size.time) < lengths[:, None]).astype(np.float32)
    ids = rng.integers(1, size.vocab, size=(n, size.time)) * (mask > 0)
    return ids.astype(np.int64), mask


def episode(rng, size):
    """One synthetic 5-way 5-shot episode with 15 queries per class."""
    support_ids, support_mask = _texts(rng, WAYS * SHOTS, size)
    query_ids, query_mask = _texts(rng, WAYS * QUERIES, size)
    support_labels = np.repeat(np.arange(WAYS), SHOTS)
    query_labels = rng.permutation(np.repeat(np.arange(WAYS), QUERIES))
    classes = tuple(f"class{k}" for k in range(WAYS))
    return Episode(support_ids, support_mask, support_labels, query_ids, query_mask, query_labels,
                   classes, [], [], WAYS, SHOTS, QUERIES)


def meta_batches(size, n, seed=0):
    """`n` meta-batches of META_BATCH episodes each, the same for every algorithm."""
    rng = np.random.default_rng(seed)
    return [[episode(rng, size) for _ in range(META_BATCH)] for _ in range(n)]


def learner(algo, size, inner_steps=INNER_STEPS, seed=0):
    """A fresh benchmark model wrapped in the learner `algo`."""
    model = TextClassifier(size.vocab, WAYS, dim=size.dim, hidden=size.hidden, seed=seed)
    if algo == "maml":
        return MAML(model, inner_lr=INNER_LR, inner_steps=inner_steps)
    if algo == "fomaml":
        return MAML(model, inner_lr=INNER_LR, inner_steps=inner_steps, first_order=True)
    if algo == "reptile":
        return Reptile(model, inner_lr=INNER_LR, inner_steps=inner_steps, inner_optimizer="sgd")
    if algo == "protonet":
        return ProtoNet(model)
    if algo == "matching":
        return MatchingNetwork(model)
    raise ValueError(f"bench: unknown algorithm {algo!r}; choose from {', '.join(ALGORITHMS)}")
