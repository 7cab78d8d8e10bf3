"""The four meta-learners (and the baselines they must beat), behind one interface.

    learner = make_learner("maml", vocab_size=len(vocab), ways=5)
    stats = learner.meta_train_step(sampler.batch(4))
    predictions = learner.predict(episode)

Files: `learner.py` (the shared interface and the inner loop), `maml.py` (MAML, FOMAML, ANIL,
Meta-SGD), `reptile.py`, `matching.py`, `protonet.py`, `protohead.py` (MAML and Reptile with a
head that starts each task at the prototypes: `head="prototypes"`), `baselines.py`.
"""

from ..text import TextClassifier, TextEmbedder
from .learner import MetaLearner, TrainingDiverged, adapt
from .maml import MAML
from .matching import MatchingNetwork
from .protohead import ProtoMAML, ProtoReptile
from .protonet import ProtoNet
from .reptile import Reptile

ALGORITHMS = ("maml", "fomaml", "reptile", "matching", "protonet")
HEADS = ("learned", "prototypes")
"""The classifier head of MAML, FOMAML and Reptile: learned with the rest, or built for each
task from the support set's prototypes (protohead.py)."""


def uses_embedder(algo, head="learned"):
    """True when `algo` trains an embedding network (metric learners, and the prototype head)
    rather than a classifier with `ways` outputs."""
    return algo in ("matching", "protonet") or head == "prototypes"


def make_model(algo, vocab_size, ways, dim=64, hidden=64, encoder="bag", seed=0, head="learned"):
    """The network an algorithm trains: a classifier with `ways` outputs for the
    gradient-based learners, an embedding network (no final ReLU) for the metric learners
    and for a prototype head."""
    if uses_embedder(algo, head):
        return TextEmbedder(vocab_size, dim=dim, out_dim=hidden, encoder=encoder, seed=seed)
    return TextClassifier(vocab_size, ways, dim=dim, hidden=hidden, encoder=encoder, seed=seed)


def check_head(algo, head, options):
    """ValueError for a head or distance that `algo` would not use (never ignored silently)."""
    if head not in HEADS:
        raise ValueError(f"head must be one of {', '.join(HEADS)}, not {head!r}")
    if head == "prototypes" and algo in ("matching", "protonet"):
        raise ValueError(f"head='prototypes' is for maml, fomaml and reptile: {algo} has no "
                         "classifier head")
    if "distance" in options and algo in ("maml", "fomaml", "reptile") and head != "prototypes":
        raise ValueError(f"distance (--distance) applies to protonet, or to {algo} with "
                         "head='prototypes' (--head prototypes)")
    if "distance" in options and algo == "matching":
        raise ValueError("distance (--distance) applies to protonet, and to maml, fomaml and "
                         "reptile with head='prototypes'; Matching Networks always use cosine")


def make_learner(algo, vocab_size, ways, dim=64, hidden=64, encoder="bag", seed=0, model=None,
                 head="learned", **options):
    """Build a meta-learner by name with its network (or with `model`, when given);
    `options` go to the algorithm. head="prototypes": MAML/FOMAML/Reptile start each task's
    head at the support set's prototypes (ProtoMAML / ProtoReptile)."""
    if algo not in ALGORITHMS:
        raise ValueError(f"unknown algorithm {algo!r}: choose one of {', '.join(ALGORITHMS)}")
    check_head(algo, head, options)
    if model is None:
        model = make_model(algo, vocab_size, ways, dim, hidden, encoder, seed, head)
    proto = head == "prototypes"
    if algo == "maml":
        return (ProtoMAML if proto else MAML)(model, **options)
    if algo == "fomaml":
        return (ProtoMAML if proto else MAML)(model, first_order=True, **options)
    if algo == "reptile":
        return (ProtoReptile if proto else Reptile)(model, **options)
    if algo == "matching":
        return MatchingNetwork(model, **options)
    return ProtoNet(model, **options)


__all__ = [
    "ALGORITHMS", "HEADS", "MAML", "MatchingNetwork", "MetaLearner", "ProtoMAML", "ProtoNet",
    "ProtoReptile", "Reptile", "TrainingDiverged", "adapt", "make_learner", "make_model",
    "uses_embedder",
]
