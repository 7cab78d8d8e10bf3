# %% [markdown]
# # Lesson 7: Prototypical Networks
#
# Prototypical Networks (Snell, Swersky and Zemel, 2017) are the simplest metric learner.
# Embed every text with a network $f$; a class's *prototype* is the mean embedding of its
# support texts; a query goes to the nearest prototype. As logits, the negative squared
# Euclidean distance:
#
# $$c_k = \frac{1}{|S_k|} \sum_{x \in S_k} f(x), \qquad
#   \mathrm{logit}_k(q) = -\lVert f(q) - c_k \rVert^2, \qquad
#   L = \mathrm{cross\ entropy}(\mathrm{logits}, y_q).$$
#
# Adapting to a new episode is averaging a few vectors: no inner loop, no fine-tuning, one
# forward pass. Everything learned is in $f$: meta-training on many episodes teaches it to
# put texts of one class close together and different classes apart, for classes it will
# only meet at test time.
#
# This lesson computes prototypes and logits by hand and checks them against
# `metanumpy/meta/protonet.py`, trains, compares with the baselines of lesson 3 on the same
# test episodes, and looks at the embedding space before and after meta-training.

# %% tags=["parameters"]
"""Lesson 7: Prototypical Networks: prototypes, distances, training, the embedding space."""

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
from metanumpy.meta.protonet import prototype_logits, prototypes
from metanumpy.train import train

args = lesson_args("07_prototypical_networks", __doc__, seed=SEED, fast=FAST, out=OUT)
report = Report(args)
STEPS = 3 if args.fast else 2000            # meta-training steps
TEST_EPISODES = 4 if args.fast else 200     # fixed meta-test episodes (the same for all)
VAL_EPISODES = 2 if args.fast else 50       # meta-validation episodes for the learning curve
PRETRAIN_STEPS = 3 if args.fast else 1000   # steps of the pre-trained baseline
TEXTS_PER_CLASS = 5 if args.fast else 30    # texts per test class in the embedding plot

exp = Experiment(tasks="topics", ways=5, shots=1, seed=args.seed)
exp_5shot = Experiment(tasks="topics", ways=5, shots=5, seed=args.seed, vocab=exp.vocab)
test = {1: exp.episodes("test", TEST_EPISODES), 5: exp_5shot.episodes("test", TEST_EPISODES)}
val = exp.episodes("val", VAL_EPISODES)
protonet = exp.learner("protonet")

# %% [markdown]
# ## 1. Prototypes and distances, by hand
#
# With one shot a prototype is just the one support embedding, so take a 5-way **5-shot**
# test episode: 25 support texts, 5 per class. The network is a fresh, untrained
# `TextEmbedder` (bag of embeddings, then one linear layer).

# %%
episode = test[5][0]
support, query = encode_support(protonet.model, episode)      # Tensors (25, 64), (75, 64)
s, q = support.numpy(), query.numpy()

by_hand = np.stack([s[episode.support_labels == k].mean(axis=0) for k in range(episode.ways)])
library = prototypes(support, episode.support_labels, episode.ways).numpy()
report.value("prototypes_hand_vs_library", np.abs(by_hand - library).max(),
             "largest difference, class means by hand vs protonet.prototypes", fmt="{:.1e}")

distances = ((q[:, None, :] - by_hand[None, :, :]) ** 2).sum(axis=2)    # (75, 5)
library_logits = prototype_logits(query, prototypes(support, episode.support_labels,
                                                    episode.ways)).numpy()
report.value("logits_hand_vs_library", np.abs(-distances - library_logits).max(),
             "largest difference, -squared distances by hand vs protonet.prototype_logits",
             fmt="{:.1e}")

# %% [markdown]
# The squared distance expands as $\lVert q \rVert^2 - 2\, c_k \cdot q + \lVert c_k \rVert^2$.
# The first term is the same for every class, and a softmax does not change when the same
# number is added to all logits. So a Prototypical Network is a *linear classifier* on top of
# $f$, with weights $2 c_k$ and bias $-\lVert c_k \rVert^2$ read off the support set:

# %%


def log_softmax(logits):
    shifted = logits - logits.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


linear_logits = q @ (2 * by_hand).T - (by_hand ** 2).sum(axis=1)
report.value("linear_vs_distance", np.abs(log_softmax(linear_logits)
                                          - log_softmax(-distances)).max(),
             "largest difference of log-probabilities, linear form vs distance form",
             fmt="{:.1e}")

# %% [markdown]
# ## 2. The embedding space before training
#
# Thirty texts of each of five meta-test classes, embedded by the untrained network and
# projected on their two main directions (PCA). We also measure how separated the classes
# are: the mean distance between class means divided by the mean distance of a text to its
# own class mean (larger is better separated).

# %%
classes = exp.source.classes("test")[:5]
texts = [t for c in classes for t in exp.source.splits["test"][c][:TEXTS_PER_CLASS]]
labels = np.repeat(np.arange(len(classes)), TEXTS_PER_CLASS)
ids, mask = exp.vocab.encode(texts, max_len=exp.settings.max_len)


def embed_and_separation(model):
    """(embeddings of the chosen texts, between-class / within-class distance ratio)."""
    points = model(ids, mask).numpy()
    means = np.stack([points[labels == k].mean(axis=0) for k in range(len(classes))])
    within = np.linalg.norm(points - means[labels], axis=1).mean()
    pairs = [np.linalg.norm(means[i] - means[j])
             for i in range(len(means)) for j in range(i + 1, len(means))]
    return points, float(np.mean(pairs) / within)


before, separation_before = embed_and_separation(protonet.model)
report.value("separation_before", separation_before,
             "class separation of 5 test classes, untrained", fmt="{:.2f}")

# %% [markdown]
# ## 3. Meta-training
#
# Adam on the query loss of 1-shot training episodes, meta-batch 4 (the library defaults).
# Each step costs one forward and backward pass of the embedding network per episode.

# %%
history = train(protonet, exp.sampler("train"), val, steps=STEPS, meta_batch=4,
                eval_every=max(1, STEPS // 10), log=lambda line: None)
report.value("seconds_per_step", history["seconds"] / len(history["step"]),
             "ProtoNet: seconds per meta-step", fmt="{:.4f}")
report.plot(plot.learning_curves({"ProtoNet": history}, report.path("learning_curves.png"),
                                 f"Prototypical Network, 5-way 1-shot topics ({STEPS} steps)"))

after, separation_after = embed_and_separation(protonet.model)
report.value("separation_after", separation_after,
             "class separation of 5 test classes, after meta-training", fmt="{:.2f}")
report.plot(plot.embedding_projection(
    [(before, labels, "untrained"), (after, labels, f"after {STEPS} steps")], None,
    report.path("embeddings.png"), "Five meta-test topics in the embedding space (PCA)",
    names=classes))

# %% [markdown]
# ## 4. Against the baselines, at 1 and 5 shots
#
# The network was meta-trained on 1-shot episodes, but nothing in it depends on the number
# of shots: with 5 shots a prototype averages 5 texts. Same test episodes for everyone.

# %%
methods = {"ProtoNet": protonet.predict, "BoW centroid": BowNearestCentroid().predict}
pretrained = PretrainThenFinetune(len(exp.vocab), steps=PRETRAIN_STEPS, seed=args.seed)
pretrained.fit(exp.source, exp.vocab)
methods["pre-trained"] = pretrained.predict
results = {}
for shots in (1, 5):
    for name, predict in methods.items():
        key = {"ProtoNet": "protonet", "BoW centroid": "bow", "pre-trained": "pretrain"}[name]
        results[f"{name}, {shots}-shot"] = tasks.evaluate(predict, test[shots])
        report.accuracy(f"{key}_{shots}shot", results[f"{name}, {shots}-shot"],
                        f"{name}, 5-way {shots}-shot", headline=shots == 1)
report.plot(plot.accuracy_bars(results, report.path("accuracy.png"),
                               f"5-way topics, {TEST_EPISODES} test episodes per setting"))


report.value("protonet_beats_bow", report.beats("protonet_1shot", "bow_1shot"),
             "ProtoNet beats BoW at 1-shot (non-overlapping 95% intervals)")
report.value("protonet_beats_pretrain", report.beats("protonet_1shot", "pretrain_1shot"),
             "ProtoNet beats the pre-trained baseline at 1-shot (non-overlapping 95% intervals)")

# %% [markdown]
# ## 5. Your own task: five labelled reviews of a new product
#
# A trained run can be used on a task you bring: a *fixed* support set (here 3 positive
# and 2 negative reviews, unbalanced) and texts to classify. `load_run` rebuilds the learner
# of a run folder; `run.predict` turns the support set and the texts into one `Episode` and
# calls the learner on it, exactly as evaluation does. The product is a meta-test domain of
# the sentiment family: meta-training never saw it. (The command line does the same:
# `python -m metanumpy predict RUN --support support.tsv --query texts.txt`.)

# %%
from metanumpy.run import load_run  # noqa: E402

REVIEW_STEPS = max(1, STEPS // 4)           # a 2-way 5-shot run of the sentiment family
reviews = Experiment(tasks="sentiment", ways=2, shots=5, seed=args.seed)
run_dir = report.path("reviews-run")
reviews.save(run_dir, "protonet", {})       # settings.json and vocab.txt, as `train` writes
train(reviews.learner("protonet"), reviews.sampler("train"), reviews.episodes("val", 20),
      steps=REVIEW_STEPS, eval_every=REVIEW_STEPS, out_dir=run_dir, resume=False,
      log=lambda line: None)
run = load_run(run_dir)

domain = reviews.source.classes("test")[0].split("/")[0]  # an unseen product
good = reviews.source.splits["test"][f"{domain}/positive"]
bad = reviews.source.splits["test"][f"{domain}/negative"]
support = [("positive", t) for t in good[:3]] + [("negative", t) for t in bad[:2]]
texts, truth = good[3:] + bad[2:], ["positive"] * len(good[3:]) + ["negative"] * len(bad[2:])
result = run.predict(support, texts)
for label, probs, text in list(zip(result.labels, result.probabilities, texts))[:3]:
    print(f"{label:>8}  p(positive) {probs[0]:.2f}  {text}")
report.value("new_product_accuracy", result.report(truth).accuracy,
             f"ProtoNet on {len(texts)} reviews of {domain}, from 5 labelled ones", fmt="{:.2%}")
report.save()

# %% [markdown]
# With the default seed (one BLAS thread, 2 cores; your seconds will differ):
#
# ```
# largest difference, class means by hand vs protonet.prototypes: 0.0e+00
# largest difference, -squared distances by hand vs protonet.prototype_logits: 0.0e+00
# largest difference of log-probabilities, linear form vs distance form: 7.2e-07
# class separation of 5 test classes, untrained: 0.45
# ProtoNet: seconds per meta-step: 0.0092
# class separation of 5 test classes, after meta-training: 1.23
# ProtoNet, 5-way 1-shot: 51.35% ± 1.42%
# BoW centroid, 5-way 1-shot: 40.91% ± 1.00%
# pre-trained, 5-way 1-shot: 51.83% ± 1.39%
# ProtoNet, 5-way 5-shot: 73.27% ± 0.99%
# BoW centroid, 5-way 5-shot: 77.67% ± 0.81%
# pre-trained, 5-way 5-shot: 77.22% ± 0.85%
# ProtoNet beats BoW at 1-shot (non-overlapping 95% intervals): True
# ProtoNet beats the pre-trained baseline at 1-shot (non-overlapping 95% intervals): False
# negative  p(positive) 0.33  the low it duzevoun low dakak pozubrat dreadful is really
# positive  p(positive) 0.89  it it gaikut fast dark i superb the traivabrou
# positive  p(positive) 1.00  and gaikut slow sechopai koto dakak brilliant slow was koto the
# ProtoNet on 155 reviews of bikes, from 5 labelled ones: 91.61%
# ```
#
# Reading the numbers: prototypes and logits computed by hand are exactly the library's,
# and the linear form gives the same probabilities as the distance form. Meta-training
# nearly triples the separation of the five test topics (0.45 to 1.23), which the PCA plot
# shows as groups that were a single cloud before; two topics that share a concept
# ("drasam-labrout" and "drasam-luchainur") still overlap. At 1-shot, ProtoNet (51.4%)
# clearly beats bag-of-words (40.9%) and ties the pre-trained baseline (51.8%). Like the
# Matching Network of lesson 6, it fits the meta-training topics far better (training
# accuracy near 100%) than it generalises to new ones (validation below 50%). At 5 shots
# every method gains, ProtoNet the least: trained on 1-shot episodes only, it reaches 73.3%,
# below bag-of-words (77.7%) and the pre-trained baseline (77.2%). With five texts per
# class, a class's texts share enough surface words for raw counts to work, and the
# meta-learned embedding was shaped for prototypes made of a single text (exercise 3).
# Finally, a 2-way 5-shot sentiment run, given five reviews of a product it never saw (3
# positive, 2 negative), labels the other 155 reviews 91.6% right; the first one is a
# positive review it gets wrong ("low" and "dreadful" read as complaints).
#
# ## Summary
#
# * A prototype is the mean support embedding of a class; the logits are negative squared
#   distances to the prototypes. Both are a few lines of NumPy, and the library's versions
#   agree with them to float32 rounding.
# * Because $\lVert q \rVert^2$ is shared by all classes, a Prototypical Network is a linear
#   classifier whose weights are computed from the support set instead of trained on it.
# * All the learning is in the embedding network: meta-training pulls the texts of unseen
#   classes into tighter, better separated groups (the plot and the separation ratio).
# * More shots give better prototypes with no change to the method.
# * A trained run works on a task you bring: `load_run(folder).predict(support, texts)`
#   adapts on a fixed, possibly unbalanced support set and classifies the texts.
#
# ## Exercises
#
# 1. Train with `distance="cosine"` (scaled cosine similarity instead of the squared
#    distance). Compare the accuracy and the embedding plot.
# 2. Snell et al. train with more classes per episode than at test time ("higher way").
#    Meta-train on 10-way 1-shot episodes and test on 5-way: does it help here?
# 3. Meta-train on 5-shot episodes and test on 1-shot (and the reverse). Is it better to
#    train with the number of shots you will test with?
# 4. Add a ReLU at the end of the embedding network. What happens to the distances, and to
#    the accuracy?
