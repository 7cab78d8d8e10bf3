# %% [markdown]
# # Lesson 5: Reptile
#
# MAML (lesson 4) learns an initialisation $\theta$ by differentiating *through* the inner
# loop. Reptile (Nichol, Achiam and Schulman, 2018) gets an initialisation with no
# meta-gradient at all. For each episode of a meta-batch, train an ordinary copy of the
# weights for $k$ steps on the episode's examples, starting from $\theta$; call where it ends
# $\phi_i$. Then move $\theta$ a fraction $\epsilon$ of the way towards the average end point:
#
# $$\theta \leftarrow \theta + \epsilon \Big(\frac{1}{n} \sum_{i=1}^{n} \phi_i - \theta\Big).$$
#
# That is all. Why does it learn to learn? With one inner step, $\phi_i - \theta$ is just
# $-\alpha \nabla L_i(\theta)$, and Reptile is ordinary training on all tasks mixed together
# (useless here: labels are renamed in every episode). With $k > 1$ steps, the later steps
# are taken at points that already moved along the earlier gradients, and a Taylor expansion
# shows that the update then also contains a term $-\alpha\, H_i g_j$ that increases the
# inner product of gradients of different minibatches of a task: Reptile favours weights
# from which steps on one part of a task also help on the rest of it, which is what few-shot
# adaptation needs. First-order MAML captures a similar term; neither needs a Hessian.
#
# The step size $\epsilon$ is *annealed*: it starts at `outer_lr` (1.0 here: $\theta$ jumps
# all the way to the average) and falls linearly to `outer_lr_final` (0) at the end of
# training, so late updates refine instead of jumping around.
#
# This lesson writes one outer step by hand and checks it against `metanumpy/meta/reptile.py`,
# then meta-trains Reptile and first-order MAML on 5-way 1-shot topics and scores them on the
# same fixed test episodes as the baselines of lesson 3.

# %% tags=["parameters"]
"""Lesson 5: Reptile by hand and from the library, against the baselines and FOMAML."""

# Settings. A notebook takes them from here; a script from its flags --seed, --fast,
# --out (these values are their defaults).
SEED = 0      # seeds the data, the models and the episodes
FAST = False  # True: tiny budgets, a seconds-long check (its numbers mean nothing)
OUT = None    # folder for plots and summary.json; None: out/NN_name/ next to this file

# %%
import numpy as np

import metanumpy as mn
from metanumpy import plot, tasks
from metanumpy.experiment import Experiment
from metanumpy.lessons import Report, lesson_args
from metanumpy.meta.baselines import BowNearestCentroid, FinetuneFromScratch
from metanumpy.meta.reptile import whole_episode  # support and query in one batch
from metanumpy.train import train

args = lesson_args("05_reptile", __doc__, seed=SEED, fast=FAST, out=OUT)
report = Report(args)
STEPS = 3 if args.fast else 300             # meta-training steps per learner
TEST_EPISODES = 4 if args.fast else 200     # fixed meta-test episodes (the same for all)
VAL_EPISODES = 2 if args.fast else 25       # meta-validation episodes for the learning curves
FINETUNE_STEPS = 3 if args.fast else 30     # Adam steps of the fine-tune-from-scratch baseline

exp = Experiment(tasks="topics", ways=5, shots=1, seed=args.seed)
test = exp.episodes("test", TEST_EPISODES)
val = exp.episodes("val", VAL_EPISODES)

# %% [markdown]
# ## 1. The annealed step size
#
# `Reptile.step_size(progress)` gives $\epsilon$ at a fraction `progress` of training:

# %%
reptile_sgd = exp.learner("reptile", inner_optimizer="sgd", inner_lr=0.3, inner_steps=3)
for progress in (0.0, 0.5, 0.9):
    print(f"epsilon at {progress:.0%} of training: {reptile_sgd.step_size(progress):.2f}")
# prints: epsilon at 50% of training: 0.50

# %% [markdown]
# ## 2. One outer step, written out by hand
#
# On a meta-batch of two episodes, with plain SGD in the inner loop ($\alpha = 0.3$, $k = 3$
# steps). The inner loop of meta-training uses *all* of an episode's texts, support and
# query together: at meta-training time there is no need to hold anything out, since
# Reptile never evaluates a query loss. The weights live in plain NumPy arrays; the engine
# only computes each step's gradient.

# %%


def reptile_step_by_hand(model, episodes, inner_lr, inner_steps, epsilon):
    """theta + epsilon * mean_i (phi_i - theta), each phi_i from `inner_steps` SGD steps."""
    theta = {name: p.numpy().copy() for name, p in model.named_parameters()}
    ends = []
    for episode in episodes:
        ids, mask = whole_episode(episode)
        labels = np.concatenate([episode.support_labels, episode.query_labels])
        phi = dict(theta)
        for _ in range(inner_steps):
            weights = {name: mn.tensor(a, requires_grad=True) for name, a in phi.items()}
            loss = mn.cross_entropy(model(ids, mask, params=weights), labels)
            grads = mn.grad(loss, list(weights.values()))
            phi = {name: phi[name] - inner_lr * g.numpy() for name, g in zip(phi, grads)}
        ends.append(phi)
    return {name: theta[name] + epsilon / len(ends) * sum(phi[name] - theta[name] for phi in ends)
            for name in theta}


batch = exp.sampler("train").batch(2)
model = reptile_sgd.model
before = {name: p.numpy().copy() for name, p in model.named_parameters()}
by_hand = reptile_step_by_hand(model, batch, reptile_sgd.inner_lr, reptile_sgd.inner_steps,
                               epsilon=reptile_sgd.step_size(0.0))
reptile_sgd.meta_train_step(batch, progress=0.0)             # the library's step, in place
library = {name: p.numpy() for name, p in model.named_parameters()}
report.value("hand_vs_library", max(np.abs(by_hand[n] - library[n]).max() for n in library),
             "largest difference, hand-written step vs Reptile.meta_train_step", fmt="{:.1e}")
report.value("outer_step_size", max(np.abs(library[n] - before[n]).max() for n in library),
             "largest change of a weight in that outer step", fmt="{:.1e}")

# %% [markdown]
# The two steps agree (to float32 rounding at most), far below the size of the step itself.
#
# ## 3. Meta-training Reptile and first-order MAML
#
# The library's Reptile can also use Adam in the inner loop, as the original paper did, and
# it fine-tunes the same way at test time (10 steps on the support set). We use Adam with
# rate 0.03, 5 inner steps, meta-batch 4 and $\epsilon$ annealed from 1 to 0. First-order
# MAML (lesson 4) is the natural comparison: both avoid second derivatives. Both get the same
# number of meta-steps; note how much more one Reptile step costs: 5 inner steps on all 80
# texts of each of 4 episodes, against FOMAML's 3 steps on the 5 support texts.

# %%


def train_and_test(name, key, learner):
    """Meta-train `learner` for STEPS steps, print its seconds per step and test accuracy."""
    history = train(learner, exp.sampler("train"), val, steps=STEPS, meta_batch=4,
                    eval_every=max(1, STEPS // 6), log=lambda line: None)
    report.value(f"{key}_seconds_per_step", history["seconds"] / len(history["step"]),
                 f"{name}: seconds per meta-step", fmt="{:.3f}")
    result = tasks.evaluate(learner.predict, test)
    report.accuracy(key, result, f"{name}, 5-way 1-shot after {STEPS} steps", headline=True)
    return history, result


reptile = exp.learner("reptile", inner_optimizer="adam", inner_lr=0.03, inner_steps=5,
                      eval_inner_steps=10, outer_lr=1.0, outer_lr_final=0.0)
histories, results = {}, {}
histories["Reptile"], results["Reptile"] = train_and_test("Reptile", "reptile", reptile)
histories["FOMAML"], results["FOMAML"] = train_and_test("FOMAML", "fomaml",
                                                        exp.learner("fomaml"))
report.plot(plot.learning_curves(histories, report.path("learning_curves.png"),
                                 f"Reptile and FOMAML, 5-way 1-shot topics ({STEPS} steps)"))

# %% [markdown]
# ## 4. Against the baselines
#
# The same test episodes for everyone. Two baselines from lesson 3: bag-of-words nearest
# centroid (no learning at all), and fine-tuning a fresh, randomly initialised classifier on
# each support set. The second is Reptile's test-time procedure (a few Adam steps on the
# support set) applied to a random initialisation instead of a meta-learned one, so the gap
# between them is what Reptile's meta-training bought.

# %%
results["BoW centroid"] = tasks.evaluate(BowNearestCentroid().predict, test)
report.accuracy("bow", results["BoW centroid"], "BoW nearest centroid", headline=True)
finetune = FinetuneFromScratch(len(exp.vocab), exp.settings.ways, steps=FINETUNE_STEPS,
                               seed=args.seed)
results["fine-tune from scratch"] = tasks.evaluate(finetune.predict, test)
report.accuracy("finetune", results["fine-tune from scratch"],
                f"fine-tune from scratch ({FINETUNE_STEPS} Adam steps)")
report.plot(plot.accuracy_bars(results, report.path("accuracy.png"),
                               f"5-way 1-shot topics, {TEST_EPISODES} test episodes"))


report.value("reptile_beats_finetune", report.beats("reptile", "finetune"),
             "Reptile beats fine-tuning from scratch (non-overlapping 95% intervals)")
report.value("reptile_beats_bow", report.beats("reptile", "bow"),
             "Reptile beats BoW (non-overlapping 95% intervals)")
report.save()

# %% [markdown]
# With the default seed (one BLAS thread, 2 cores; your seconds will differ):
#
# ```
# epsilon at 0% of training: 1.00
# epsilon at 50% of training: 0.50
# epsilon at 90% of training: 0.10
# largest difference, hand-written step vs Reptile.meta_train_step: 0.0e+00
# largest change of a weight in that outer step: 2.2e-02
# Reptile: seconds per meta-step: 0.036
# Reptile, 5-way 1-shot after 300 steps: 36.56% ± 0.97%
# FOMAML: seconds per meta-step: 0.015
# FOMAML, 5-way 1-shot after 300 steps: 41.94% ± 1.19%
# BoW nearest centroid: 40.91% ± 1.00%
# fine-tune from scratch (30 Adam steps): 32.44% ± 0.83%
# Reptile beats fine-tuning from scratch (non-overlapping 95% intervals): True
# Reptile beats BoW (non-overlapping 95% intervals): False
# ```
#
# Reading the numbers: the hand-written step and the library's are the same operations in
# the same order, so they agree exactly. In the learning curves, Reptile's training loss
# drops to almost 0 and its training accuracy to 100% at once: those are measured at the end
# of its inner loop, on the 80 texts it has just trained on for 5 steps, so they say nothing
# about new classes; only the validation points do. After 300 steps Reptile (36.6%) is
# clearly better than fine-tuning a random network on the support set (32.4%): that gap is
# what its meta-training bought. But in this budget it stays below bag-of-words (40.9%) and
# below first-order MAML (41.9%), while one of its steps costs over twice one of
# FOMAML's. Reptile does not beat the baselines here. It is known to need many steps (the
# original paper trains for 100,000): its useful signal is a small second-order effect of
# the inner steps, on top of a joint-training term that, with labels renamed in every
# episode, mostly averages out.
#
# ## Summary
#
# * Reptile's outer update is an interpolation, $\theta \leftarrow \theta + \epsilon(\bar\phi -
#   \theta)$, with $\bar\phi$ the average of the weights that ordinary training reaches on each
#   episode; $\epsilon$ is annealed to 0. No meta-gradient, no Hessian, no `create_graph`.
# * Written by hand in a dozen lines, it gives the library's step to float32 rounding.
# * It only works because the inner loop takes *several* steps: with one step it would be
#   plain joint training, which cannot help when labels are renamed in every episode.
# * It is simple but slow to learn: each meta-step trains on every text of every episode, and
#   the useful signal is a second-order effect of the inner steps.
#
# ## Exercises
#
# 1. Set `inner_steps=1` and retrain. What accuracy do you get, and why (what is
#    $\phi - \theta$ then)?
# 2. Train Reptile for 1200 steps (about four times this lesson's budget). Does it overtake
#    FOMAML, BoW, the pre-trained baseline of lesson 3?
# 3. Keep $\epsilon = 1$ throughout (`outer_lr_final=1.0`). Plot the validation accuracy: is
#    the annealing worth it in a short run?
# 4. Try inner rates 0.01 and 0.1 with Adam. Why can a larger inner step help Reptile, and
#    what goes wrong when it is too large?
