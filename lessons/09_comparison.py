# %% [markdown]
# # Lesson 9: All the algorithms, side by side
#
# Lessons 4 to 7 met four meta-learners one at a time. Here they run side by side on the
# same data, with the two baselines of lesson 3, and we look at three things a practitioner
# asks about:
#
# 1. **Accuracy against the number of shots** (1, 2, 5, 10 examples per class). To fit in a
#    minute, each algorithm is meta-trained *once*, on 5-way 2-shot episodes (a middle
#    value), for a short budget of its own (cheap steps get more of them), and then evaluated
#    at every shot count on fixed test episodes, the same for everyone. Metric learners and
#    the gradient-based ones both accept any number of shots at test time; whether they
#    would do better if trained at each shot count is an exercise.
# 2. **Training time per algorithm**: seconds per meta-step.
# 3. **Memory of second-order MAML**: the graph that differentiates through the inner loop
#    keeps every inner step's intermediate results alive until the outer gradient is
#    computed, so memory should grow with the number of inner steps $k$; first-order MAML
#    drops that graph, so its memory should not. We measure the peak memory of one
#    meta-step with Python's `tracemalloc` (NumPy reports its array allocations to it) for
#    $k$ = 1, 2, 5, 10.

# %% tags=["parameters"]
"""Lesson 9: every algorithm on topics: accuracy vs shots, training time, MAML's memory."""

# Settings. A notebook takes them from here; a script from its flags --seed, --fast,
# --out (these values are their defaults).
SEED = 0      # seeds the data, the models and the episodes
FAST = False  # True: tiny budgets, a seconds-long check (its numbers mean nothing)
OUT = None    # folder for plots and summary.json; None: out/NN_name/ next to this file

# %%
import tracemalloc

import metanumpy as mn
from metanumpy import fast, plot, tasks
from metanumpy.experiment import Experiment
from metanumpy.lessons import Report, lesson_args
from metanumpy.meta.baselines import BowNearestCentroid, PretrainThenFinetune
from metanumpy.train import train

args = lesson_args("09_comparison", __doc__, seed=SEED, fast=FAST, out=OUT)
report = Report(args)
TRAIN_SHOTS = 2                             # every learner meta-trains on 5-way 2-shot
SHOTS = [1, 2, 5, 10]                       # ... and is evaluated at each of these
TEST_EPISODES = 3 if args.fast else 100     # fixed meta-test episodes per shot count
PRETRAIN_STEPS = 3 if args.fast else 1000   # steps of the pre-trained baseline
STEPS = {"maml": 300, "fomaml": 300, "reptile": 200, "matching": 1000, "protonet": 1000}
if args.fast:
    STEPS = {algo: 2 for algo in STEPS}
INNER_STEPS = [1, 2, 5, 10]                 # for the memory measurement

exp = Experiment(tasks="topics", ways=5, shots=TRAIN_SHOTS, seed=args.seed)
test = {shots: Experiment(tasks="topics", ways=5, shots=shots, seed=args.seed,
                          vocab=exp.vocab).episodes("test", TEST_EPISODES)
        for shots in SHOTS}

# %% [markdown]
# ## 1. Meta-training each algorithm once
#
# Library defaults for every algorithm (`ALGO_DEFAULTS` in `metanumpy/experiment.py`),
# meta-batch 4, no validation (to save time).

# %%
NAMES = {"maml": "MAML", "fomaml": "FOMAML", "reptile": "Reptile", "matching": "Matching",
         "protonet": "ProtoNet"}
predictors = {}
for algo, steps in STEPS.items():
    learner = exp.learner(algo)
    history = train(learner, exp.sampler("train"), None, steps=steps, meta_batch=4,
                    log=lambda line: None)
    seconds = history["seconds"] / len(history["step"])
    report.value(f"{algo}_seconds_per_step", seconds,
                 f"{NAMES[algo]:>8}: {steps} steps, seconds per meta-step", fmt="{:.4f}")
    report.value(f"{algo}_training_seconds", history["seconds"],
                 f"{NAMES[algo]:>8}: training seconds", fmt="{:.1f}")
    predictors[NAMES[algo]] = learner.predict
pretrained = PretrainThenFinetune(len(exp.vocab), steps=PRETRAIN_STEPS, seed=args.seed)
pretrained.fit(exp.source, exp.vocab)
predictors["pre-trained"] = pretrained.predict
predictors["BoW centroid"] = BowNearestCentroid().predict

# %% [markdown]
# ## 2. Accuracy against the number of shots

# %%
series = {}
for name, predict in predictors.items():
    results = [tasks.evaluate(predict, test[shots]) for shots in SHOTS]
    series[name] = ([r.mean for r in results], [r.ci95 for r in results])
    key = name.lower().replace(" ", "_").replace("-", "")
    for shots, result in zip(SHOTS, results):
        report.accuracy(f"{key}_{shots}shot", result, f"{name:>12}, 5-way {shots:>2}-shot",
                        headline=shots == 1 and name in ("ProtoNet", "MAML", "BoW centroid"))
report.plot(plot.accuracy_vs(SHOTS, series, report.path("accuracy_vs_shots.png"),
                             "shots (support texts per class)",
                             f"5-way topics, trained at {TRAIN_SHOTS}-shot, "
                             f"{TEST_EPISODES} test episodes per point", logx=True))

# %% [markdown]
# ## 3. Memory of second-order MAML against the number of inner steps
#
# The meta-gradient of one fixed meta-batch (4 episodes), for each number of inner steps,
# second order and first order: the meta-loss (inner loops and query passes) and its
# gradient with respect to $\theta$. The optimizer's own update is left out: it is the same
# for both. `tracemalloc` counts only what is allocated after it starts, so the model's
# weights are not included: the peak is the memory that the meta-gradient itself needs.
#
# First-order MAML is measured twice. The library's code (the reference path) runs the inner
# loop with `create_graph=False`: each inner gradient is a constant, but each step
# $\phi_{k+1} = \phi_k - \alpha g_k$ is still recorded, so that the query loss can send its
# gradient back to $\theta$ through them ($d\phi / d\theta = I$). The fast path
# (`metanumpy.fast`, switched on here for that one measurement) runs the inner loop on a
# detached copy of $\theta$ and links the final $\phi$ back to $\theta$ with a single node whose
# gradient is the identity (`FirstOrderLink` in `metanumpy/fast/fused.py`): the same
# meta-gradient, with nothing of the inner steps kept alive.

# %%


def peak_memory_mb(learner, episodes):
    """Peak memory (MB) traced by tracemalloc while computing one meta-gradient."""
    tracemalloc.start()
    loss, _ = learner.meta_loss(episodes)
    mn.grad(loss, learner.meta_parameters())
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


batch = exp.sampler("train", seed=args.seed + 1).batch(4)
VARIANTS = [("MAML (second order)", "maml", False), ("FOMAML (first order)", "fomaml", False),
            ("FOMAML, fast path", "fomaml", True)]
memory = {name: [] for name, _, _ in VARIANTS}
for k in INNER_STEPS:
    for name, algo, fast_path in VARIANTS:
        with fast.enabled(fast_path):
            megabytes = peak_memory_mb(exp.learner(algo, inner_steps=k), batch)
        memory[name].append(megabytes)
        key = f"{algo}_fast" if fast_path else algo
        report.value(f"{key}_memory_{k}_steps", megabytes,
                     f"{name:>20}, {k:>2} inner steps: peak MB", fmt="{:.2f}")
report.plot(plot.xy_plot(INNER_STEPS, memory, report.path("maml_memory.png"),
                         "Peak memory of one meta-gradient (meta-batch 4, 5-way 2-shot)",
                         "inner steps", "peak memory (MB, tracemalloc)"))
growth = memory["MAML (second order)"][-1] / memory["MAML (second order)"][0]
report.value("maml_memory_growth", growth,
             f"second-order MAML: memory at {INNER_STEPS[-1]} inner steps / at "
             f"{INNER_STEPS[0]}", fmt="{:.1f}x")
report.value("maml_over_fomaml", memory["MAML (second order)"][-1]
             / memory["FOMAML (first order)"][-1],
             f"at {INNER_STEPS[-1]} inner steps, second-order / first-order memory", fmt="{:.1f}x")
report.value("fomaml_over_fast", memory["FOMAML (first order)"][-1]
             / memory["FOMAML, fast path"][-1],
             f"at {INNER_STEPS[-1]} inner steps, first-order memory, reference / fast path",
             fmt="{:.1f}x")
report.save()

# %% [markdown]
# With the default seed (one BLAS thread, 2 cores; your seconds will differ):
#
# ```
#     MAML: 300 steps, seconds per meta-step: 0.0236
#     MAML: training seconds: 7.1
#   FOMAML: 300 steps, seconds per meta-step: 0.0153
#   FOMAML: training seconds: 4.6
#  Reptile: 200 steps, seconds per meta-step: 0.0318
#  Reptile: training seconds: 6.4
# Matching: 1000 steps, seconds per meta-step: 0.0083
# Matching: training seconds: 8.3
# ProtoNet: 1000 steps, seconds per meta-step: 0.0092
# ProtoNet: training seconds: 9.2
#         MAML, 5-way  1-shot: 45.41% ± 1.70%
#         MAML, 5-way  2-shot: 57.24% ± 1.84%
#         MAML, 5-way  5-shot: 63.51% ± 1.70%
#         MAML, 5-way 10-shot: 66.61% ± 1.48%
#       FOMAML, 5-way  1-shot: 42.83% ± 1.58%
#       FOMAML, 5-way  2-shot: 51.48% ± 1.88%
#       FOMAML, 5-way  5-shot: 57.49% ± 1.35%
#       FOMAML, 5-way 10-shot: 60.43% ± 1.40%
#      Reptile, 5-way  1-shot: 34.93% ± 1.34%
#      Reptile, 5-way  2-shot: 42.85% ± 1.37%
#      Reptile, 5-way  5-shot: 55.79% ± 1.47%
#      Reptile, 5-way 10-shot: 70.48% ± 1.21%
#     Matching, 5-way  1-shot: 57.85% ± 1.80%
#     Matching, 5-way  2-shot: 67.89% ± 1.72%
#     Matching, 5-way  5-shot: 75.35% ± 1.58%
#     Matching, 5-way 10-shot: 80.09% ± 1.16%
#     ProtoNet, 5-way  1-shot: 48.20% ± 2.01%
#     ProtoNet, 5-way  2-shot: 62.76% ± 2.06%
#     ProtoNet, 5-way  5-shot: 73.11% ± 1.53%
#     ProtoNet, 5-way 10-shot: 78.28% ± 1.27%
#  pre-trained, 5-way  1-shot: 51.57% ± 1.89%
#  pre-trained, 5-way  2-shot: 65.49% ± 1.62%
#  pre-trained, 5-way  5-shot: 77.64% ± 1.22%
#  pre-trained, 5-way 10-shot: 82.28% ± 1.07%
# BoW centroid, 5-way  1-shot: 41.65% ± 1.38%
# BoW centroid, 5-way  2-shot: 54.87% ± 1.46%
# BoW centroid, 5-way  5-shot: 78.23% ± 1.05%
# BoW centroid, 5-way 10-shot: 90.87% ± 0.86%
#  MAML (second order),  1 inner steps: peak MB: 17.88
# FOMAML (first order),  1 inner steps: peak MB: 11.48
#    FOMAML, fast path,  1 inner steps: peak MB: 1.44
#  MAML (second order),  2 inner steps: peak MB: 27.80
# FOMAML (first order),  2 inner steps: peak MB: 17.29
#    FOMAML, fast path,  2 inner steps: peak MB: 1.44
#  MAML (second order),  5 inner steps: peak MB: 55.36
# FOMAML (first order),  5 inner steps: peak MB: 34.71
#    FOMAML, fast path,  5 inner steps: peak MB: 1.43
#  MAML (second order), 10 inner steps: peak MB: 101.39
# FOMAML (first order), 10 inner steps: peak MB: 63.75
#    FOMAML, fast path, 10 inner steps: peak MB: 1.44
# second-order MAML: memory at 10 inner steps / at 1: 5.7x
# at 10 inner steps, second-order / first-order memory: 1.6x
# at 10 inner steps, first-order memory, reference / fast path: 44.4x
# ```
#
# Reading the numbers:
#
# * **Time.** The metric learners are the cheapest per step (one forward and backward pass
#   per episode); FOMAML adds 3 inner steps on the support set, second-order MAML costs
#   about 1.5 times FOMAML, and Reptile, which trains on every text of every episode for 5
#   steps, costs 1.3 to 3.8 times as much as the others.
# * **Accuracy at 1 and 2 shots.** The Matching Network is best (57.9% at 1-shot), then the
#   pre-trained baseline, ProtoNet and MAML, all four above bag-of-words at 1-shot. FOMAML
#   is within the intervals of bag-of-words, and Reptile, with the smallest step budget, is
#   below it.
# * **Accuracy at 5 and 10 shots.** Everyone gains, but bag-of-words gains the most: it ties
#   the pre-trained baseline at 5 shots and is the best method at 10 shots (90.9%). With ten
#   support texts, a class's synonyms mostly appear somewhere in its support set, and
#   counting words is enough. MAML and FOMAML flatten out (a few SGD steps on a classifier
#   head), while Reptile, which fine-tunes with 10 Adam steps, gains most among the
#   meta-learners and passes both at 10 shots (70.5% against 66.6% and 60.4%). In this
#   budget, meta-learning pays off when examples are scarce.
# * **Memory.** The peak memory of second-order MAML's meta-gradient grows with the inner
#   steps, 5.7 times from 1 to 10 steps (17.9 to 101.4 MB), because the graph of every inner
#   step and of its gradient stays alive until the outer backward pass; on this reference
#   path each step of each task also holds a full copy of the embedding table's gradient.
#   First-order MAML as the library writes it, the same inner loop with
#   `create_graph=False`, grows too (11.5 to 63.8 MB): its inner gradients are constants, but
#   every step $\phi_{k+1} = \phi_k - \alpha g_k$ is recorded and keeps $\phi_k$ and
#   $\alpha g_k$, because that chain is what carries the query gradient back to $\theta$.
#   At 10 steps second order still needs 1.6 times as much. The fast path's first-order MAML
#   stays flat (1.44 MB at every step count, 44 times less at 10 steps): it runs the inner
#   loop on a detached copy of $\theta$ and links the final $\phi$ back with one node whose
#   gradient is the identity, so nothing of the inner steps stays alive. Same gradient, two
#   memory profiles: the plain formula is the one to read, the linked one the one to run on a
#   large model. (`tracemalloc` also counts some of Python's own small allocations, so the
#   last digit of a peak can differ by 0.01 MB from run to run.)
#
# ## Summary
#
# * One training run per algorithm, evaluated at every shot count on the same fixed
#   episodes, gives an honest comparison in a minute; the price is that nobody was trained
#   for the shot count it is tested on.
# * No method wins everywhere. Metric meta-learners (Matching, ProtoNet) and supervised
#   pre-training lead at 1 to 2 shots; raw bag-of-words catches up at 5 shots and leads at
#   10. Always report the baselines next to a meta-learner.
# * Cost matters as much as accuracy: seconds per step differ by about 4 times between
#   the algorithms, and second-order MAML's memory grows with the number of inner steps;
#   first-order MAML's stays flat only when its inner loop is linked back with one node
#   (the fast path), not as the plain formula.
#
# ## Exercises
#
# 1. Train each algorithm at the shot count it is tested on (four runs each). Which
#    algorithms gain from matching the training shots to the test shots?
# 2. Give every algorithm the same *time* budget instead of a step budget (stop `train` after
#    a number of seconds). Does the ranking change?
# 3. Measure the memory of ANIL (`exp.learner("maml", anil=True)`) against the inner steps.
#    Which part of the network's graph does it avoid keeping?
# 4. Repeat the comparison on `sentiment` (2-way) and `crossdomain`. Which algorithm is the
#    most robust across families?
