"""The fast path trains to the same numbers as the reference path.

Every learner is meta-trained from the same seed twice, with `metanumpy.fast` off and on: the
losses of every step agree to float32 rounding, and so does the accuracy on fixed test
episodes. Reptile is compared with its inner SGD here. With its default inner Adam, the two
paths part after a few steps and only their accuracies stay close (checked below): Adam's
first step is lr * g / |g| elementwise, so an entry whose gradient is rounding noise still
moves by the full learning rate, in a direction the rounding picks.
"""

import numpy as np
import pytest

from metanumpy import fast
from metanumpy.experiment import Experiment
from metanumpy.tasks.evaluate import evaluate

STEPS = 200
TEST_EPISODES = 20


@pytest.fixture(scope="module")
def exp():
    return Experiment(tasks="topics", ways=5, shots=1, seed=0, dim=32, hidden=32)


def train_both_ways(exp, algo, **options):
    """(losses, test accuracy) for the reference path and for the fast path."""
    runs = []
    for on in (False, True):
        with fast.enabled(on):
            learner, sampler = exp.learner(algo, **options), exp.sampler()
            losses = [learner.meta_train_step(sampler.batch(2), progress=i / STEPS)["loss"]
                      for i in range(STEPS)]
            accuracy = evaluate(learner.predict, exp.episodes("test", TEST_EPISODES)).mean
        runs.append((np.array(losses), accuracy))
    return runs


@pytest.mark.parametrize("algo, options", [
    ("maml", {}), ("fomaml", {}), ("matching", {}), ("protonet", {}),
    ("reptile", {"inner_optimizer": "sgd"}), ("maml", {"head": "prototypes"}),
    ("reptile", {"inner_optimizer": "sgd", "head": "prototypes", "distance": "cosine"}),
], ids=["maml", "fomaml", "matching", "protonet", "reptile-sgd", "protomaml",
        "protoreptile-sgd-cosine"])
def test_both_paths_train_to_the_same_losses_and_accuracy(exp, algo, options):
    (reference, ref_acc), (fast_losses, fast_acc) = train_both_ways(exp, algo, **options)
    np.testing.assert_allclose(fast_losses, reference, rtol=2e-5, atol=1e-6)
    assert abs(fast_acc - ref_acc) <= 0.005


def test_reptile_with_inner_adam_reaches_the_same_accuracy(exp):
    (_, ref_acc), (_, fast_acc) = train_both_ways(exp, "reptile")
    assert abs(fast_acc - ref_acc) <= 0.01
