"""The four meta-learners (and the baselines they must beat), behind one interface.

    learner = make_learner("maml", vocab_size=len(vocab), ways=5)
    stats = learner.meta_train_step(sampler.batch(4))
    predictions = learner.predict(episode)

Files: `learner.py` (the shared interface and the inner loop), `maml.py` (MAML, FOMAML, ANIL,
Meta-SGD), `reptile.py`, `matching.py`, `protonet.py`, `baselines.py`.
"""

from ..text import TextClassifier, TextEmbedder
from .learner import MetaLearner, TrainingDiverged, adapt
from .maml import MAML
from .matching import MatchingNetwork
from .protonet import ProtoNet
from .reptile import Reptile

ALGORITHMS = ("maml", "fomaml", "reptile", "matching", "protonet")


def make_model(algo, vocab_size, ways, dim=64, hidden=64, encoder="bag", seed=0):
    """The network an algorithm trains: a classifier with `ways` outputs for the
    gradient-based learners, an embedding network (no final ReLU) for the metric learners."""
    if algo in ("matching", "protonet"):
        return TextEmbedder(vocab_size, dim=dim, out_dim=hidden, encoder=encoder, seed=seed)
    return TextClassifier(vocab_size, ways, dim=dim, hidden=hidden, encoder=encoder, seed=seed)


def make_learner(algo, vocab_size, ways, dim=64, hidden=64, encoder="bag", seed=0, model=None,
                 **options):
    """Build a meta-learner by name with its network (or with `model`, when given);
    `options` go to the algorithm."""
    if algo not in ALGORITHMS:
        raise ValueError(f"unknown algorithm {algo!r}: choose one of {', '.join(ALGORITHMS)}")
    if model is None:
        model = make_model(algo, vocab_size, ways, dim, hidden, encoder, seed)
    if algo == "maml":
        return MAML(model, **options)
    if algo == "fomaml":
        return MAML(model, first_order=True, **options)
    if algo == "reptile":
        return Reptile(model, **options)
    if algo == "matching":
        return MatchingNetwork(model, **options)
    return ProtoNet(model, **options)


__all__ = [
    "ALGORITHMS", "MAML", "MatchingNetwork", "MetaLearner", "ProtoNet", "Reptile",
    "TrainingDiverged", "adapt", "make_learner", "make_model",
]
