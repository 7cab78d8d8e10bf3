"""Option plumbing: every setting that only matters when it is not the default is seen to matter.

The formula tests (test_meta.py, test_ops.py) check each computation by hand; these check that
the options reach it. Each test here fails for a realistic one-line bug that leaves every
formula right: an option dropped on its way from the command line to the learner, Meta-SGD's
learned rates left out of the outer optimizer, test-time inner steps ignoring
`eval_inner_steps`, a resumed run losing its learned rates or its best validation score, a
meta-batch loss summed instead of averaged.
"""

import numpy as np
import pytest

from metanumpy import checkpoint
from metanumpy.cli import algo_options, build_parser, settings_from
from metanumpy.experiment import Experiment, Settings
from metanumpy.train import Trainer, train

from test_train import exp, params, quiet  # noqa: F401 (exp is a fixture)


def signature(exp, algo, **options):
    """What a run of `algo` produces: the losses of two meta-steps, then query logits."""
    learner = exp.learner(algo, **options)
    sampler = exp.sampler()
    losses = [learner.meta_train_step(sampler.batch(2), progress=0.5)["loss"] for _ in range(2)]
    episode = exp.episodes("val", 1)[0]
    return losses, learner.query_logits(episode).numpy()


# Each row: an algorithm and one option away from its default. If the option were ignored,
# the run would be the default run.
NON_DEFAULT = [
    ("maml", {"inner_lr": 0.1}), ("maml", {"inner_steps": 1}), ("maml", {"outer_lr": 0.05}),
    ("maml", {"eval_inner_steps": 6}), ("maml", {"anil": True}), ("maml", {"meta_sgd": True}),
    ("fomaml", {"inner_steps": 1}), ("fomaml", {"eval_inner_steps": 6}),
    ("reptile", {"inner_lr": 0.1}), ("reptile", {"inner_steps": 2}),
    ("reptile", {"eval_inner_steps": 3}), ("reptile", {"outer_lr": 0.5}),
    ("reptile", {"inner_optimizer": "sgd"}),
    ("maml", {"head": "prototypes"}), ("fomaml", {"head": "prototypes"}),
    ("reptile", {"head": "prototypes"}), ("maml", {"head": "prototypes", "distance": "cosine"}),
    ("reptile", {"head": "prototypes", "distance": "cosine"}),
    ("matching", {"temperature": 3.0}), ("matching", {"outer_lr": 0.05}),
    ("protonet", {"distance": "cosine"}), ("protonet", {"outer_lr": 0.05}),
]


@pytest.mark.parametrize("algo, option", NON_DEFAULT, ids=lambda x: str(x))
def test_a_non_default_option_changes_the_run(exp, algo, option):
    default_losses, default_logits = signature(exp, algo)
    losses, logits = signature(exp, algo, **option)
    assert losses != default_losses or not np.array_equal(logits, default_logits), \
        f"{algo} with {option} ran exactly like the default: the option is ignored"


def test_fomaml_is_not_maml(exp):
    assert signature(exp, "fomaml")[0] != signature(exp, "maml")[0]


def test_meta_sgd_learns_its_inner_rates(exp):
    """The learned rates are meta-parameters: the outer optimizer must move them."""
    learner = exp.learner("maml", meta_sgd=True)
    before = {k: v.copy() for k, v in learner.state_dict()["extra"].items()}
    assert before, "Meta-SGD must checkpoint its learned rates"
    learner.meta_train_step(exp.sampler().batch(2))
    after = learner.state_dict()["extra"]
    moved = [k for k in before if not np.array_equal(before[k], after[k])]
    assert moved, "no learned inner rate changed: they are left out of the outer update"


@pytest.mark.parametrize("algo, default_eval_steps", [("maml", 3), ("fomaml", 3),
                                                       ("reptile", 10)])
def test_test_time_adaptation_takes_eval_inner_steps(exp, algo, default_eval_steps):
    """query_logits adapts for eval_inner_steps steps, whatever inner_steps is: the same
    logits as a learner whose inner_steps equal them, other logits than with fewer steps."""
    episode = exp.episodes("val", 1)[0]
    n = default_eval_steps
    assert np.array_equal(exp.learner(algo).query_logits(episode).numpy(),
                          exp.learner(algo, inner_steps=n, eval_inner_steps=n)
                          .query_logits(episode).numpy()), "the default eval_inner_steps"
    mixed = exp.learner(algo, inner_steps=1, eval_inner_steps=4).query_logits(episode).numpy()
    same = exp.learner(algo, inner_steps=4, eval_inner_steps=4).query_logits(episode).numpy()
    fewer = exp.learner(algo, inner_steps=1, eval_inner_steps=1).query_logits(episode).numpy()
    np.testing.assert_array_equal(mixed, same)
    assert not np.array_equal(mixed, fewer)


@pytest.mark.parametrize("algo", ["maml", "protonet", "matching", "reptile"])
def test_meta_batch_loss_is_the_mean_over_episodes_not_the_sum(exp, algo):
    """A meta-batch of four copies of one episode reports the loss of that episode."""
    episode = exp.sampler().sample()
    one = exp.learner(algo).meta_train_step([episode])
    four = exp.learner(algo).meta_train_step([episode] * 4)
    assert four["loss"] == pytest.approx(one["loss"], rel=1e-5)
    assert four["acc"] == pytest.approx(one["acc"])


def test_reptile_update_averages_the_moves_of_the_meta_batch(exp):
    episode = exp.sampler().sample()
    one, four = exp.learner("reptile"), exp.learner("reptile")
    one.meta_train_step([episode])
    four.meta_train_step([episode] * 4)
    for name, value in params(one).items():
        np.testing.assert_allclose(params(four)[name], value, rtol=1e-5, atol=1e-6)


def test_a_resumed_meta_sgd_run_keeps_its_learned_rates(exp, tmp_path):
    val = exp.episodes("val", 2)
    whole = exp.learner("maml", meta_sgd=True)
    train(whole, exp.sampler(), val, steps=4, meta_batch=2, eval_every=2,
          out_dir=str(tmp_path / "whole"), log=quiet)
    train(exp.learner("maml", meta_sgd=True), exp.sampler(), val, steps=2, meta_batch=2,
          eval_every=2, out_dir=str(tmp_path / "split"), log=quiet)
    saved = checkpoint.load(tmp_path / "split" / "checkpoint.npz")["learner"]["extra"]
    resumed = exp.learner("maml", meta_sgd=True)
    trainer = Trainer(resumed, exp.sampler(), val, steps=4, meta_batch=2, eval_every=2,
                      out_dir=str(tmp_path / "split"), log=quiet)
    assert trainer.resume()
    for name, value in saved.items():
        np.testing.assert_array_equal(resumed.state_dict()["extra"][name], value)
    trainer.run()
    for name, value in whole.state_dict()["extra"].items():
        np.testing.assert_array_equal(resumed.state_dict()["extra"][name], value)
    for name, value in params(whole).items():
        np.testing.assert_array_equal(params(resumed)[name], value)


def test_a_resumed_run_remembers_its_best_validation_score(exp, tmp_path):
    """After resuming, a worse validation must not overwrite best.npz."""
    val = exp.episodes("val", 3)
    train(exp.learner("protonet"), exp.sampler(), val, steps=2, meta_batch=2, eval_every=2,
          out_dir=str(tmp_path), log=quiet)
    best = checkpoint.load(tmp_path / "best.npz")
    assert best["step"] == 2 and best["val_acc"] > 0
    resumed = exp.learner("protonet")
    trainer = Trainer(resumed, exp.sampler(), val, steps=4, meta_batch=2, eval_every=2,
                      out_dir=str(tmp_path), log=quiet)
    assert trainer.resume() and trainer.best == best["val_acc"]
    resumed.predict = lambda episode: np.full(len(episode.query_labels), -1)  # accuracy 0
    trainer.run()
    assert trainer.history["val_acc"][-1] == 0.0
    assert checkpoint.load(tmp_path / "best.npz")["step"] == 2, "best.npz was overwritten"


# --- from the command line to the learner and the data -------------------------------------

ALGO_FLAGS = [
    ("maml", ["--inner-lr", "0.25"], "inner_lr", 0.25),
    ("maml", ["--inner-steps", "2"], "inner_steps", 2),
    ("maml", ["--eval-inner-steps", "7"], "eval_inner_steps", 7),
    ("maml", ["--outer-lr", "0.01"], "outer_lr", 0.01),
    ("maml", ["--anil"], "anil", True),
    ("maml", ["--meta-sgd"], "meta_sgd", True),
    ("fomaml", ["--eval-inner-steps", "7"], "eval_inner_steps", 7),
    ("reptile", ["--inner-optimizer", "sgd"], "inner_optimizer", "sgd"),
    ("reptile", ["--eval-inner-steps", "4"], "eval_inner_steps", 4),
    ("reptile", ["--outer-lr", "0.5"], "outer_lr", 0.5),
    ("matching", ["--temperature", "4"], "temperature", 4.0),
    ("protonet", ["--distance", "cosine"], "distance", "cosine"),
    ("maml", ["--head", "prototypes", "--distance", "cosine"], "distance", "cosine"),
    ("fomaml", ["--head", "prototypes", "--distance", "cosine"], "distance", "cosine"),
    ("reptile", ["--head", "prototypes", "--distance", "cosine"], "distance", "cosine"),
]


@pytest.mark.parametrize("algo, flag, attribute, value", ALGO_FLAGS, ids=lambda x: str(x))
def test_every_algorithm_flag_reaches_the_learner(exp, algo, flag, attribute, value):
    args = build_parser().parse_args(["train", "--algo", algo, *flag])
    learner = exp.learner(algo, **algo_options(args))
    assert getattr(learner, attribute) == value


def test_reptile_evaluates_with_ten_inner_steps_by_default(exp):
    args = build_parser().parse_args(["train", "--algo", "reptile"])
    assert exp.learner("reptile", **algo_options(args)).eval_inner_steps == 10


TASK_FLAGS = [
    (["--ways", "4"], "ways", 4), (["--shots", "2"], "shots", 2),
    (["--queries", "3"], "queries", 3), (["--seed", "5"], "seed", 5),
    (["--max-len", "9"], "max_len", 9), (["--ngram-buckets", "16"], "ngram_buckets", 16),
    (["--dim", "12"], "dim", 12), (["--hidden", "6"], "hidden", 6),
    (["--encoder", "conv"], "encoder", "conv"), (["--min-count", "3"], "min_count", 3),
    (["--max-vocab", "50"], "max_vocab", 50), (["--data", "somewhere"], "tasks", "somewhere"),
]


@pytest.mark.parametrize("flag, field, value", TASK_FLAGS, ids=lambda x: str(x))
def test_every_task_flag_reaches_the_settings(flag, field, value):
    settings = settings_from(build_parser().parse_args(["train", *flag]))
    assert getattr(settings, field) == value != getattr(Settings(), field)


def test_vocabulary_bounds_and_max_len_shape_the_data():
    base = Experiment(tasks="topics", ways=3, shots=1, queries=2)
    rare = Experiment(tasks="topics", ways=3, shots=1, queries=2, min_count=20)
    small = Experiment(tasks="topics", ways=3, shots=1, queries=2, max_vocab=40)
    assert len(rare.vocab) < len(base.vocab) and len(small.vocab) == 40
    short = Experiment(tasks="topics", ways=3, shots=1, queries=2, max_len=3)
    assert short.episodes("val", 1)[0].query_ids.shape[1] == 3
    assert base.episodes("val", 1)[0].query_ids.shape[1] > 3
