"""Learning to learn works: a short meta-training run of each algorithm beats the baselines.

Sentiment, 2-way 1-shot, a small model and 500 meta-training steps (a few seconds each): every
meta-learner must beat raw bag-of-words and a classifier fine-tuned from scratch on the same
fixed test episodes. (Beating "pretrain then fine-tune" takes longer runs; see the README's
results table.)
"""

import pytest

from metanumpy.experiment import Experiment
from metanumpy.meta import ALGORITHMS
from metanumpy.meta.baselines import BowNearestCentroid, FinetuneFromScratch
from metanumpy.tasks import evaluate
from metanumpy.train import train


@pytest.fixture(scope="module")
def setting():
    exp = Experiment(tasks="sentiment", ways=2, shots=1, queries=5, dim=32, hidden=32)
    test = exp.episodes("test", 100)
    scratch = FinetuneFromScratch(len(exp.vocab), 2, steps=20, lr=3e-2, dim=32, hidden=32)
    bars = {"bag-of-words": evaluate(BowNearestCentroid().predict, test).mean,
            "fine-tune from scratch": evaluate(scratch.predict, test).mean}
    return exp, test, bars


@pytest.mark.parametrize("algo", ALGORITHMS)
def test_a_short_meta_training_run_beats_the_baselines(setting, algo):
    exp, test, bars = setting
    learner = exp.learner(algo)
    before = evaluate(learner.predict, test).mean
    train(learner, exp.sampler(), None, steps=500, log=lambda line: None)
    after = evaluate(learner.predict, test).mean
    assert after > before
    for name, accuracy in bars.items():
        assert after > accuracy, f"{algo}: {after:.1%} is not above {name} ({accuracy:.1%})"
