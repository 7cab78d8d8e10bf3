# %% [markdown]
# # Lesson 4: MAML, step by step
#
# Model-Agnostic Meta-Learning (Finn et al., 2017) learns an *initialisation* $\theta$ of the
# text classifier such that a few gradient steps on a new episode's support set give a good
# classifier for that episode. For each episode of a meta-batch:
#
# $$\phi = \theta - \alpha \nabla_\theta L_{support}(\theta), \qquad
#   \theta \leftarrow \theta - \beta \nabla_\theta \textstyle\sum_{episodes} L_{query}(\phi).$$
#
# The outer gradient goes *through* the inner step, so it contains the support loss's Hessian
# (lesson 1):
#
# $$\nabla_\theta L_{query}(\phi) = (I - \alpha H_{support}) \nabla_\phi L_{query}(\phi).$$
#
# This lesson writes one inner step by hand and checks it against `metanumpy/meta/maml.py`,
# shows the classic fast-weights bug and measures what it costs, compares second-order with
# first-order MAML, varies the number of inner steps at test time, and tries two variants
# (ANIL, Meta-SGD), all on 5-way 1-shot topics against the BoW baseline of lesson 3.

# %% tags=["parameters"]
"""Lesson 4: MAML by hand, the fast-weights trap, first vs second order, ANIL, Meta-SGD."""

# Settings. A notebook takes them from here; a script from its flags --seed, --fast,
# --out (these values are their defaults).
SEED = 0      # seeds the data, the models and the episodes
FAST = False  # True: tiny budgets, a seconds-long check (its numbers mean nothing)
OUT = None    # folder for plots and summary.json; None: out/NN_name/ next to this file

# %%
import numpy as np

import metanumpy as mn
from metanumpy import plot, tasks
from metanumpy.experiment import ALGO_DEFAULTS, Experiment
from metanumpy.lessons import Report, lesson_args
from metanumpy.meta import MAML
from metanumpy.meta.baselines import BowNearestCentroid
from metanumpy.optim import sgd_step
from metanumpy.train import train

args = lesson_args("04_maml", __doc__, seed=SEED, fast=FAST, out=OUT)
report = Report(args)
STEPS = 3 if args.fast else 300             # meta-training steps per learner
TEST_EPISODES = 4 if args.fast else 200     # fixed meta-test episodes (the same for all)
SWEEP_EPISODES = 4 if args.fast else 100    # episodes per point of the inner-steps sweep
VAL_EPISODES = 2 if args.fast else 25       # meta-validation episodes for the learning curves

exp = Experiment(tasks="topics", ways=5, shots=1, seed=args.seed)
test = exp.episodes("test", TEST_EPISODES)
val = exp.episodes("val", VAL_EPISODES)
bow = report.accuracy("bow", tasks.evaluate(BowNearestCentroid().predict, test),
                      f"BoW nearest centroid, 5-way 1-shot ({TEST_EPISODES} episodes)",
                      headline=True)

# %% [markdown]
# ## 1. One inner step, written out by hand
#
# The model is lesson 2's TextClassifier, called *functionally*: `model(ids, mask,
# params=fast)` runs it with the weights in the dict `fast` instead of its own, without
# changing the model. The inner step:
#
# 1. support loss at $\theta$;
# 2. its gradient with `create_graph=True`, so that the gradient is itself a recorded
#    function of $\theta$;
# 3. `sgd_step` builds new Tensors $\phi = \theta - \alpha g$ (it never writes into $\theta$);
# 4. query loss at $\phi$, differentiated back to $\theta$.

# %%
one_step = exp.learner("maml", inner_steps=1)   # MAML with one inner step, as written below
model = one_step.model
episode = exp.sampler("train").sample()
params = dict(model.named_parameters())          # name -> the model's own Parameter (theta)
names = list(params)

support_loss = mn.cross_entropy(model(episode.support_ids, episode.support_mask),
                                episode.support_labels)
inner_grads = mn.grad(support_loss, [params[n] for n in names], create_graph=True)
fast = sgd_step(params, dict(zip(names, inner_grads)), one_step.inner_lr)   # phi
query_loss = mn.cross_entropy(model(episode.query_ids, episode.query_mask, params=fast),
                              episode.query_labels)
by_hand = mn.grad(query_loss, [params[n] for n in names])

library_loss, _ = one_step.episode_loss(episode)
library = mn.grad(library_loss, [params[n] for n in names])


def flat(grads):
    return np.concatenate([g.numpy().ravel() for g in grads])


def relative_difference(a, b):
    """|a - b| / |b| for two lists of gradients (0: identical)."""
    return float(np.linalg.norm(flat(a) - flat(b)) / np.linalg.norm(flat(b)))


report.value("hand_vs_library", relative_difference(by_hand, library),
             "relative difference, hand-written step vs MAML.episode_loss", fmt="{:.1e}")

# %% [markdown]
# The two agree (a difference of 0 or float32 rounding). How much of the meta-gradient is the
# second-order term? First-order MAML treats the inner gradient as a constant
# ($d\phi / d\theta = I$), so its meta-gradient is simply $\nabla_\phi L_{query}(\phi)$:

# %%
first_order = mn.grad(query_loss, [fast[n] for n in names])
report.value("first_vs_second_order", relative_difference(first_order, by_hand),
             "relative difference, first-order vs second-order meta-gradient", fmt="{:.3f}")

# %% [markdown]
# ## 2. The fast-weights trap
#
# The most common MAML bug: adapt the weights, then forget to *use* them in the query pass,
# `model(query_ids, query_mask)` instead of `model(query_ids, query_mask, params=fast)`.
# Nothing crashes. But the query loss is now computed at $\theta$, so the support set plays
# no part and the "meta-gradient" is an ordinary gradient:

# %%
trap_loss = mn.cross_entropy(model(episode.query_ids, episode.query_mask),     # forgot params=fast
                             episode.query_labels)
trap = mn.grad(trap_loss, [params[n] for n in names])
report.value("trap_vs_correct", relative_difference(trap, by_hand),
             "relative difference, trap meta-gradient vs correct", fmt="{:.3f}")

# %% [markdown]
# What does it cost after training? The learner below has exactly this bug; everything else
# (the inner loop at test time included) is MAML.

# %%


class ForgetfulMAML(MAML):
    """MAML with the fast-weights bug: the query pass uses theta instead of phi."""

    def episode_loss(self, episode):
        self.fast_weights(episode, self.inner_steps, create_graph=True)  # computed, then ignored
        logits = self.model(episode.query_ids, episode.query_mask)      # forgot params=fast
        return mn.cross_entropy(logits, episode.query_labels), logits


def train_and_test(name, key, learner):
    """Meta-train `learner` for STEPS steps and score it on the test episodes.

    Returns (training history, the trained learner)."""
    history = train(learner, exp.sampler("train"), val, steps=STEPS, meta_batch=4,
                    eval_every=max(1, STEPS // 6), log=lambda line: None)
    seconds = history["seconds"] / len(history["step"])
    report.value(f"{key}_seconds_per_step", seconds, f"{name}: seconds per meta-step",
                 fmt="{:.3f}")
    report.accuracy(key, tasks.evaluate(learner.predict, test),
                    f"{name}, 5-way 1-shot after {STEPS} steps", headline=key in ("maml", "trap"))
    return history, learner


forgetful = ForgetfulMAML(exp.learner("maml").model, **ALGO_DEFAULTS["maml"])
histories = {}
histories["trap (no params=fast)"], _ = train_and_test("MAML with the trap", "trap", forgetful)

# %% [markdown]
# ## 3. Second order versus first order
#
# Now the real thing, with the default settings of `metanumpy/experiment.py` (3 inner steps,
# inner rate 0.5, Adam outer rate 0.003, meta-batch 4): second-order MAML, and first-order
# MAML (FOMAML), which skips the Hessian term and is cheaper per step.

# %%
histories["MAML"], maml = train_and_test("MAML (second order)", "maml", exp.learner("maml"))
histories["FOMAML"], fomaml = train_and_test("FOMAML (first order)", "fomaml",
                                             exp.learner("fomaml"))

# %% [markdown]
# ## 4. Inner steps at test time
#
# MAML was trained to adapt in 3 steps, but at test time we may take any number. With 0
# steps the classifier is the initialisation $\theta$ itself: labels are renamed in every
# episode, so it can only guess (20%). The first step does most of the work.

# %%
sweep_steps = [0, 1, 3, 5, 10]
sweep_episodes = test[:SWEEP_EPISODES]
sweep = {}
for name, learner in [("MAML", maml), ("FOMAML", fomaml)]:
    results = [tasks.evaluate(lambda ep: learner.query_logits(ep, steps=k).numpy().argmax(-1),
                              sweep_episodes) for k in sweep_steps]
    sweep[name] = ([r.mean for r in results], [r.ci95 for r in results])
    for k, r in zip(sweep_steps, results):
        report.value(f"{name.lower()}_{k}_inner_steps", r.mean,
                     f"{name} with {k:>2} inner steps at test time", fmt="{:.1%}")
bow_sweep = tasks.evaluate(BowNearestCentroid().predict, sweep_episodes)
sweep["BoW (no adaptation)"] = ([bow_sweep.mean] * len(sweep_steps),
                                [bow_sweep.ci95] * len(sweep_steps))
report.plot(plot.accuracy_vs(sweep_steps, sweep, report.path("inner_steps.png"),
                             "inner SGD steps at test time",
                             f"5-way 1-shot topics, {len(sweep_episodes)} test episodes"))

# %% [markdown]
# ## 5. Two variants: ANIL and Meta-SGD
#
# * **ANIL** (Raghu et al., 2020) adapts only the classifier head in the inner loop; the
#   encoder is meta-learned but used as is. Often just as good: most of MAML's benefit comes
#   from the features it learns. It saves the inner gradients of the encoder (a small saving
#   for our tiny encoder, a large one for a big network).
# * **Meta-SGD** (Li et al., 2017) also learns the inner learning rate, one per weight:
#   $\phi = \theta - \alpha \odot \nabla L_{support}(\theta)$ with $\alpha$ meta-trained.

# %%
histories["ANIL"], _ = train_and_test("ANIL", "anil", exp.learner("maml", anil=True))

# how far does MAML's inner loop move each weight? |phi - theta| / |theta| on one test episode
theta = dict(maml.model.named_parameters())
phi = maml.fast_weights(test[0], maml.inner_steps, create_graph=False)
for name in ("encoder.embedding.weight", "head.2.weight"):
    change = np.linalg.norm((phi[name] - theta[name]).numpy()) / np.linalg.norm(theta[name].numpy())
    report.value(f"inner_change_{name}", change, f"MAML inner loop moves {name} by", fmt="{:.2%}")
histories["Meta-SGD"], _ = train_and_test("Meta-SGD", "metasgd",
                                          exp.learner("maml", meta_sgd=True))
report.plot(plot.learning_curves(histories, report.path("learning_curves.png"),
                                 f"5-way 1-shot topics, meta-training ({STEPS} steps)"))
best = max(["maml", "fomaml", "anil", "metasgd"], key=lambda k: report.values[k])
beats = report.values[best] - report.values[f"{best}_ci95"] > bow + report.values["bow_ci95"]
report.value("best_beats_bow", beats, f"best here, {best} ({report.values[best]:.1%}), beats "
             f"BoW ({bow:.1%}) with non-overlapping 95% intervals")
report.save()

# %% [markdown]
# With the default seed (300 meta-steps each, 200 test episodes, one BLAS thread, 2 cores;
# your seconds will differ):
#
# ```
# BoW nearest centroid, 5-way 1-shot (200 episodes): 40.91% ± 1.00%
# relative difference, hand-written step vs MAML.episode_loss: 0.0e+00
# relative difference, first-order vs second-order meta-gradient: 0.194
# relative difference, trap meta-gradient vs correct: 0.375
# MAML with the trap: seconds per meta-step: 0.018
# MAML with the trap, 5-way 1-shot after 300 steps: 24.11% ± 0.70%
# MAML (second order): seconds per meta-step: 0.024
# MAML (second order), 5-way 1-shot after 300 steps: 46.52% ± 1.33%
# FOMAML (first order): seconds per meta-step: 0.015
# FOMAML (first order), 5-way 1-shot after 300 steps: 41.94% ± 1.19%
# MAML with  0 inner steps at test time: 20.0%
# MAML with  1 inner steps at test time: 37.4%
# MAML with  3 inner steps at test time: 47.4%
# MAML with  5 inner steps at test time: 47.8%
# MAML with 10 inner steps at test time: 47.9%
# FOMAML with  0 inner steps at test time: 20.0%
# FOMAML with  1 inner steps at test time: 33.0%
# FOMAML with  3 inner steps at test time: 42.4%
# FOMAML with  5 inner steps at test time: 43.5%
# FOMAML with 10 inner steps at test time: 43.7%
# ANIL: seconds per meta-step: 0.017
# ANIL, 5-way 1-shot after 300 steps: 46.44% ± 1.30%
# MAML inner loop moves encoder.embedding.weight by: 0.02%
# MAML inner loop moves head.2.weight by: 76.89%
# Meta-SGD: seconds per meta-step: 0.027
# Meta-SGD, 5-way 1-shot after 300 steps: 47.27% ± 1.40%
# best here, metasgd (47.3%), beats BoW (40.9%) with non-overlapping 95% intervals: True
# ```
#
# Reading the numbers: the trap raises no error, but its training loss never leaves
# $\ln 5 \approx 1.61$ (chance; see the plot), and its test accuracy stays near 20%, far
# below BoW: the query pass at $\theta$ ignores the support set, and with labels renamed in
# every episode there is nothing else to learn from. Second-order MAML costs about 1.6x the
# time per step of FOMAML and is clearly better after 300 steps (46.5% against 41.9%). ANIL,
# adapting only the head, matches MAML so closely that its curves hide MAML's in the plot:
# MAML's inner loop hardly moves the embedding table (a word's row only gets gradient from
# the support sentences it occurs in), so adapting the head is nearly all it does. Meta-SGD
# is a little ahead, within the intervals. All of them beat BoW (40.9%), but after 300 steps
# none reaches the pre-trained baseline of lesson 3 (51.8% on the same test episodes): a
# few seconds of meta-training are not enough for that.
#
# ## Summary
#
# * One MAML step is: support loss, `grad(..., create_graph=True)`, `sgd_step` into new fast
#   weights, query loss *with the fast weights*, gradient back to $\theta$. The library's
#   `MAML.episode_loss` does exactly this.
# * Forgetting `params=fast` in the query pass changes the meta-gradient (here by 38% of its
#   length) and silently turns MAML into ordinary training on randomly relabelled classes,
#   which learns nothing (24% after training, below the 41% of BoW).
# * First-order MAML drops the Hessian term; it is cheaper per step, and here it learned
#   less in the same number of steps.
# * At test time the number of inner steps is a free choice; 0 steps is chance level.
#
# ## Exercises
#
# 1. Train MAML for 1000 steps (`python -m metanumpy train --algo maml --steps 1000`). Does
#    it overtake the pre-trained baseline of lesson 3?
# 2. Set `inner_lr` to 0.05 and to 2.0 (`--inner-lr 2.0 --out runs/maml-lr2`: each setting
#    needs its own run folder). What happens to the learning curves (`curves.png` in the run
#    folder), and why (think of the factor $1 - \alpha H$ of lesson 1)?
# 3. Train with 1 inner step and test with 1, 3, 10. Is it better to train with the number of
#    steps you will use at test time?
# 4. Measure the memory of second-order MAML against the number of inner steps. Why does it
#    grow, and why does FOMAML's not?
