# %% [markdown]
# # Lesson 6: Matching Networks
#
# MAML and Reptile adapt a classifier with gradient steps. Matching Networks (Vinyals et al.,
# 2016) adapt with no step at all: an embedding network $f$ maps every text to a vector, and
# a query takes the labels of the support texts it resembles, weighted by *attention*:
#
# $$a(q, s_j) = \mathrm{softmax}_j\big(\tau \cos(f(q), f(s_j))\big), \qquad
#   P(y = k \mid q) = \sum_j a(q, s_j)\,[y_j = k].$$
#
# In words: cosine similarity of the query with each support text, scaled by a temperature
# $\tau$, turned into weights that sum to one (softmax over the support set), and the
# weights of each class's support texts added up. In matrix form the last step is
# `attention @ one_hot(support_labels)`. Training minimises $-\log P(\text{true label} \mid q)$
# over the queries of many training episodes, which teaches $f$ to put texts of the same
# class close together *for classes it has never seen*.
#
# This lesson computes the attention by hand and checks it against `metanumpy/meta/matching.py`,
# shows why the temperature matters (and measures it), trains, and compares with the
# baselines of lesson 3 on the same test episodes.

# %% tags=["parameters"]
"""Lesson 6: Matching Networks: attention over the support set, the temperature, training."""

# Settings. A notebook takes them from here; a script from its flags --seed, --fast,
# --out (these values are their defaults).
SEED = 0      # seeds the data, the models and the episodes
FAST = False  # True: tiny budgets, a seconds-long check (its numbers mean nothing)
OUT = None    # folder for plots and summary.json; None: out/NN_name/ next to this file

# %%
import numpy as np

from metanumpy import plot, tasks
from metanumpy.experiment import Experiment
from metanumpy.lessons import Report, lesson_args
from metanumpy.meta.baselines import BowNearestCentroid, PretrainThenFinetune
from metanumpy.meta.learner import encode_support
from metanumpy.meta.matching import attention
from metanumpy.train import train

args = lesson_args("06_matching_networks", __doc__, seed=SEED, fast=FAST, out=OUT)
report = Report(args)
STEPS = 3 if args.fast else 1500            # meta-training steps per learner
TEST_EPISODES = 4 if args.fast else 200     # fixed meta-test episodes (the same for all)
VAL_EPISODES = 2 if args.fast else 50       # meta-validation episodes for the learning curves
PRETRAIN_STEPS = 3 if args.fast else 1000   # steps of the pre-trained baseline

exp = Experiment(tasks="topics", ways=5, shots=1, seed=args.seed)
test = exp.episodes("test", TEST_EPISODES)
val = exp.episodes("val", VAL_EPISODES)
episode = test[0]

# %% [markdown]
# ## 1. Attention, by hand
#
# Take one test episode (5 classes, 1 support text each, 15 queries per class) and the
# embedding network of a fresh, untrained Matching Network: `TextEmbedder`, a bag of
# embeddings followed by one linear layer, *without* a final ReLU (see below).

# %%
matching = exp.learner("matching", temperature=10.0)
support, query = encode_support(matching.model, episode)      # Tensors (5, 64) and (75, 64)


def attention_by_hand(query, support, temperature):
    """softmax over the support set of temperature * cosine; also returns the cosines."""
    def unit(rows):
        return rows / np.linalg.norm(rows, axis=1, keepdims=True)

    cosines = unit(query) @ unit(support).T                    # (n_query, n_support)
    scores = temperature * cosines
    weights = np.exp(scores - scores.max(axis=1, keepdims=True))   # stable softmax
    return weights / weights.sum(axis=1, keepdims=True), cosines


weights, cosines = attention_by_hand(query.numpy(), support.numpy(), temperature=10.0)
one_hot = np.eye(episode.ways)[episode.support_labels]          # (n_support, ways)
class_probs = weights @ one_hot                                  # P(y = k | q)

library_weights = attention(query, support, temperature=10.0).numpy()
untrained_weights = library_weights                             # for section 3
library_probs = np.exp(matching.query_logits(episode).numpy())  # it returns log P(k | q)
report.value("attention_hand_vs_library", np.abs(weights - library_weights).max(),
             "largest difference, attention by hand vs matching.attention", fmt="{:.1e}")
report.value("probs_hand_vs_library", np.abs(class_probs - library_probs).max(),
             "largest difference, class probabilities by hand vs the library", fmt="{:.1e}")
report.value("attention_row_sum_error", np.abs(library_weights.sum(axis=1) - 1).max(),
             "largest |row sum - 1| of the attention matrix", fmt="{:.1e}")
report.value("probs_row_sum_error", np.abs(library_probs.sum(axis=1) - 1).max(),
             "largest |row sum - 1| of the class probabilities", fmt="{:.1e}")

# %% [markdown]
# Every row of the attention matrix sums to one (a query distributes one unit of attention
# over the support set), and so does every row of the class probabilities.
#
# ## 2. The temperature
#
# Cosines lie in $[-1, 1]$. With $\tau = 1$ the largest possible ratio between two attention
# weights is $e^{2} \approx 7.4$, so with 5 support texts the attention can never be sharp:
# even a perfect embedding gives the right class at most $e / (e + 4 e^{-1}) \approx 65\%$,
# and the loss cannot fall below $-\log 0.65 \approx 0.43$. After a final ReLU it would be
# worse: every coordinate is $\geq 0$, so every cosine is in $[0, 1]$ and the attention is
# nearly uniform. Scaling by $\tau = 10$ lets the same cosines give sharp weights. Here are the
# untrained network's cosines and the attention they give:

# %%
report.value("cosine_min", cosines.min(), "smallest cosine, untrained", fmt="{:.2f}")
report.value("cosine_max", cosines.max(), "largest cosine, untrained", fmt="{:.2f}")
for tau in (1.0, 10.0):
    weights_tau, _ = attention_by_hand(query.numpy(), support.numpy(), tau)
    report.value(f"max_weight_tau{tau:g}", weights_tau.max(axis=1).mean(),
                 f"tau = {tau:>4g}: mean largest attention weight of a query "
                 f"(uniform: {1 / len(support.numpy()):.2f})", fmt="{:.2f}")

# %% [markdown]
# Does it matter after training? Train two Matching Networks that differ only in $\tau$, for
# the same number of steps:

# %%


def train_and_test(name, key, learner):
    """Meta-train `learner` for STEPS steps, print its seconds per step and test accuracy."""
    history = train(learner, exp.sampler("train"), val, steps=STEPS, meta_batch=4,
                    eval_every=max(1, STEPS // 8), log=lambda line: None)
    report.value(f"{key}_seconds_per_step", history["seconds"] / len(history["step"]),
                 f"{name}: seconds per meta-step", fmt="{:.4f}")
    report.value(f"{key}_final_loss", np.mean(history["loss"][-50:]),
                 f"{name}: training loss, mean of the last 50 steps", fmt="{:.3f}")
    result = tasks.evaluate(learner.predict, test)
    report.accuracy(key, result, f"{name}, 5-way 1-shot after {STEPS} steps", headline=True)
    return history, result


histories, results = {}, {}
histories["tau = 10"], results["Matching, tau = 10"] = train_and_test(
    "Matching Network, tau = 10", "matching_tau10", matching)
histories["tau = 1"], results["Matching, tau = 1"] = train_and_test(
    "Matching Network, tau = 1", "matching_tau1", exp.learner("matching", temperature=1.0))
report.plot(plot.learning_curves(histories, report.path("learning_curves.png"),
                                 f"Matching Networks, 5-way 1-shot topics ({STEPS} steps)"))

# %% [markdown]
# ## 3. What the trained network attends to
#
# The same test episode, before and after meta-training ($\tau = 10$): three queries of each
# class (rows, sorted by class) against the five support texts (columns, one per class).
# A good embedding puts the weight of each row on the column of its own class: a diagonal of
# blocks.

# %%
support, query = encode_support(matching.model, episode)
trained_weights = attention(query, support, temperature=10.0).numpy()
rows = np.concatenate([np.flatnonzero(episode.query_labels == k)[:3] for k in range(episode.ways)])
for when, weights_now in (("before", untrained_weights), ("after", trained_weights)):
    on_true_class = (weights_now @ one_hot)[np.arange(len(episode.query_labels)),
                                            episode.query_labels]
    report.value(f"attention_on_true_class_{when}", on_true_class.mean(),
                 f"mean attention on the true class, all queries, {when} training", fmt="{:.2f}")
report.plot(plot.attention_heatmap(
    [(untrained_weights[rows], "untrained"), (trained_weights[rows], f"after {STEPS} steps")],
    report.path("attention.png"), "Matching Network attention, one 5-way 1-shot test episode",
    row_labels=episode.query_labels[rows], col_labels=episode.support_labels))

# %% [markdown]
# ## 4. Against the baselines
#
# On the same test episodes: bag-of-words nearest centroid, and the strong baseline of
# lesson 3, a classifier pre-trained on all meta-training classes at once whose hidden layer
# is reused with nearest centroids.

# %%
results["BoW centroid"] = tasks.evaluate(BowNearestCentroid().predict, test)
report.accuracy("bow", results["BoW centroid"], "BoW nearest centroid", headline=True)
pretrained = PretrainThenFinetune(len(exp.vocab), steps=PRETRAIN_STEPS, seed=args.seed)
pretrained.fit(exp.source, exp.vocab)
results["pre-trained"] = tasks.evaluate(pretrained.predict, test)
report.accuracy("pretrain", results["pre-trained"],
                f"pre-trained classifier + centroids ({PRETRAIN_STEPS} steps)", headline=True)
report.plot(plot.accuracy_bars(results, report.path("accuracy.png"),
                               f"5-way 1-shot topics, {TEST_EPISODES} test episodes"))


report.value("tau10_beats_tau1", report.beats("matching_tau10", "matching_tau1"),
             "tau = 10 beats tau = 1 (non-overlapping 95% intervals)")
report.value("matching_beats_bow", report.beats("matching_tau10", "bow"),
             "Matching (tau = 10) beats BoW (non-overlapping 95% intervals)")
report.value("matching_beats_pretrain", report.beats("matching_tau10", "pretrain"),
             "Matching (tau = 10) beats the pre-trained baseline (non-overlapping 95% intervals)")
report.save()

# %% [markdown]
# With the default seed (one BLAS thread, 2 cores; your seconds will differ):
#
# ```
# largest difference, attention by hand vs matching.attention: 6.0e-08
# largest difference, class probabilities by hand vs the library: 1.2e-07
# largest |row sum - 1| of the attention matrix: 2.4e-07
# largest |row sum - 1| of the class probabilities: 2.4e-07
# smallest cosine, untrained: -0.24
# largest cosine, untrained: 0.62
# tau =    1: mean largest attention weight of a query (uniform: 0.20): 0.24
# tau =   10: mean largest attention weight of a query (uniform: 0.20): 0.59
# Matching Network, tau = 10: seconds per meta-step: 0.0082
# Matching Network, tau = 10: training loss, mean of the last 50 steps: 0.037
# Matching Network, tau = 10, 5-way 1-shot after 1500 steps: 57.56% ± 1.30%
# Matching Network, tau = 1: seconds per meta-step: 0.0103
# Matching Network, tau = 1: training loss, mean of the last 50 steps: 0.982
# Matching Network, tau = 1, 5-way 1-shot after 1500 steps: 48.20% ± 1.52%
# mean attention on the true class, all queries, before training: 0.24
# mean attention on the true class, all queries, after training: 0.44
# BoW nearest centroid: 40.91% ± 1.00%
# pre-trained classifier + centroids (1000 steps): 51.83% ± 1.39%
# tau = 10 beats tau = 1 (non-overlapping 95% intervals): True
# Matching (tau = 10) beats BoW (non-overlapping 95% intervals): True
# Matching (tau = 10) beats the pre-trained baseline (non-overlapping 95% intervals): True
# ```
#
# Reading the numbers: the attention computed by hand matches the library to float32
# rounding, and its rows sum to one. Before training, $\tau = 1$ gives each query an
# almost uniform attention (largest weight 0.24 where uniform is 0.20); $\tau = 10$ gives the
# same cosines a clear preference (0.59). After 1500 steps, the network trained with
# $\tau = 1$ is stuck at a training loss near 1.0, far above the 0.04 of $\tau = 10$ (the
# bound above says it can never go below 0.43), and it tests 9 points lower (48.2% against
# 57.6%). The heatmap shows the trained network concentrating the attention of most queries
# on their own class's support text (0.44 of the weight on average, against 0.24
# untrained), but far from all of them: one support sentence is little to go on. Note also
# the gap between training accuracy (near 100% in the learning curves) and validation
# accuracy: the network fits the 64 meta-training topics much better than it generalises to
# new ones. With $\tau = 10$, Matching Networks beat both bag-of-words (40.9%) and the
# pre-trained baseline (51.8%) in this budget, with non-overlapping intervals.
#
# ## Summary
#
# * A Matching Network classifies a query by attention over the support set: cosine
#   similarities, times a temperature, softmax over the support texts, then
#   `attention @ one_hot(labels)` gives the class probabilities. Rows of both sum to one.
# * There is no inner loop: adapting to a new episode is one forward pass, so training and
#   testing are cheap.
# * Cosines are bounded, so the temperature sets how sharp the attention can be. Too small,
#   and the loss has a floor and the gradients fade; an embedding that ends in a ReLU makes
#   it worse.
#
# ## Exercises
#
# 1. Make the temperature a learned parameter (a `Parameter` in the learner, multiplied in
#    `log_attention`). Where does it go during training?
# 2. Add a ReLU at the end of the `TextEmbedder` and train with $\tau = 1$ and $\tau = 10$.
#    Print the smallest cosine before training. What happens?
# 3. Evaluate the trained network on 5-way 5-shot episodes (`Experiment(shots=5)` with the
#    same vocabulary). How does the attention spread over the five texts of a class?
# 4. Replace the cosine by the negative squared distance. Which lesson's algorithm is that
#    close to, and what is still different?
