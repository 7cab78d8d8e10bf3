# %% [markdown]
# # Lesson 3: episodes, honest evaluation, and the baselines to beat
#
# Few-shot learning is judged on *classes never seen in training*. This lesson sets up that
# judgement, the way every later lesson uses it:
#
# 1. task families and their three class-disjoint splits (meta-train, meta-val, meta-test);
# 2. N-way K-shot *episodes*: a support set to learn from and a query set to be scored on,
#    with labels renamed 0..N-1 in every episode;
# 3. three baselines, scored with a 95% confidence interval on fixed meta-test episodes at
#    5-way 1-shot and 5-way 5-shot. A meta-learner has to beat them to be worth anything.
#
# Files: `metanumpy/tasks/source.py`, `episodes.py`, `evaluate.py`, `metanumpy/meta/baselines.py`.

# %% tags=["parameters"]
"""Lesson 3: N-way K-shot episodes, class-disjoint splits, and three baselines with 95% CIs."""

# Settings. A notebook takes them from here; a script from its flags --seed, --fast,
# --out (these values are their defaults).
SEED = 0      # seeds the data, the models and the episodes
FAST = False  # True: tiny budgets, a seconds-long check (its numbers mean nothing)
OUT = None    # folder for plots and summary.json; None: out/NN_name/ next to this file

# %%
from metanumpy import plot, tasks
from metanumpy.experiment import Experiment
from metanumpy.lessons import Report, lesson_args
from metanumpy.meta.baselines import BowNearestCentroid, FinetuneFromScratch, PretrainThenFinetune

args = lesson_args("03_episodes_and_baselines", __doc__, seed=SEED, fast=FAST, out=OUT)
report = Report(args)
TEST_EPISODES = 5 if args.fast else 200       # fixed meta-test episodes per setting
PRETRAIN_STEPS = 30 if args.fast else 1000    # PretrainThenFinetune's training steps
FINETUNE_STEPS = 5 if args.fast else 50       # FinetuneFromScratch's steps per episode

# %% [markdown]
# ## 1. Task families and class-disjoint splits
#
# Three toy families are built in: `topics` (the main one), `sentiment` (product domains whose
# polarity words differ) and `crossdomain` (meta-test topics written in another style). Each
# is a `TextSource`: labelled sentences in three splits that share no class.

# %%
exp = Experiment(tasks="topics", ways=5, shots=1, seed=args.seed)
source = exp.source
print(source.describe(n_examples=2, n_classes=2))

# %%
splits = {name: set(source.classes(name)) for name in tasks.SPLITS}
shared = sum(len(splits[a] & splits[b]) for a, b in [("train", "val"), ("train", "test"),
                                                      ("val", "test")])
print({name: len(classes) for name, classes in splits.items()}, "classes per split")
report.value("classes_shared_between_splits", shared, "classes shared between splits")
report.value("splits_disjoint", shared == 0, "splits are class-disjoint", headline=True)

# %% [markdown]
# `TextSource` refuses a class that sits in two splits: a leak would let a model "recognise"
# a meta-test class it was trained on, and the score would mean nothing.
#
# ## 2. Episodes
#
# An N-way K-shot episode picks N classes of one split, then K *support* and Q *query*
# sentences from each (all distinct). The learner sees the N x K labelled support sentences
# and must label the N x Q query sentences. Here N = 5, K = 1, Q = 15.

# %%
sampler = exp.sampler("train")
episode = sampler.sample()
print(f"support ids {episode.support_ids.shape}, query ids {episode.query_ids.shape}, "
      f"query labels {episode.query_labels.shape}")
for label, text in zip(episode.support_labels, episode.support_texts):
    print(f"  support, label {label} ({episode.classes[label]}): {text}")
overlap = len(set(episode.support_texts) & set(episode.query_texts))
report.value("support_query_overlap", overlap, "sentences in both support and query")

# %% [markdown]
# **Labels are renamed in every episode.** Label 0 means "whichever class came first in
# this episode", never "class bashir-chishubo". If a class always had the same label, a
# network could memorise it instead of learning from the support set. Follow one class
# through many episodes:

# %%
labels_of = {}
for ep in sampler.batch(200):
    for label, name in enumerate(ep.classes):
        labels_of.setdefault(name, []).append(label)
name, seen = max(labels_of.items(), key=lambda item: len(item[1]))
print(f"class {name!r} appeared in {len(seen)} of 200 episodes with labels {seen[:12]} ...")
report.value("distinct_labels_of_one_class", len(set(seen)),
             f"distinct labels given to {name!r}")

# %% [markdown]
# ## 3. Three baselines
#
# Every method is scored on the same fixed list of meta-test episodes
# (`exp.episodes("test", n)`): mean query accuracy over the episodes, with a 95% confidence
# interval $1.96\, \sigma / \sqrt{n}$ ($\sigma$: standard deviation of the per-episode
# accuracies). Two methods whose intervals overlap are not clearly different.
#
# * **BoW nearest centroid**: no learning at all. Each sentence becomes a tf-idf word-count
#   vector; a query gets the class of the nearest support centroid (cosine).
# * **Fine-tune from scratch**: a fresh TextClassifier trained with Adam on each support set
#   (lesson 2's few-shot run, once per episode).
# * **Pre-train, then nearest centroid**: one classifier trained the ordinary way on all 64
#   meta-train topics at once; on a new episode, its hidden layer embeds support and query,
#   and the nearest centroid decides. The strong baseline of the literature.

# %%
pretrained = PretrainThenFinetune(len(exp.vocab), steps=PRETRAIN_STEPS, seed=args.seed)
pretrained.fit(source, exp.vocab)
baselines = {
    "BoW nearest centroid": BowNearestCentroid(),
    "fine-tune from scratch": FinetuneFromScratch(len(exp.vocab), ways=5, steps=FINETUNE_STEPS,
                                                  seed=args.seed),
    "pre-train + centroid": pretrained,
}
keys = {"BoW nearest centroid": "bow", "fine-tune from scratch": "finetune",
        "pre-train + centroid": "pretrain"}
results = {}
for shots in (1, 5):
    test = Experiment(tasks="topics", ways=5, shots=shots, seed=args.seed,
                      vocab=exp.vocab).episodes("test", TEST_EPISODES)
    results[f"5-way {shots}-shot"] = {}
    for name, method in baselines.items():
        result = tasks.evaluate(method.predict, test)
        results[f"5-way {shots}-shot"][name] = result
        report.accuracy(f"{keys[name]}_{shots}shot", result,
                        f"{name}, 5-way {shots}-shot ({result.n} episodes)",
                        headline=shots == 1 and keys[name] != "finetune")
report.plot(plot.accuracy_bars(results, report.path("baselines.png"),
                               f"baselines on meta-test topics ({TEST_EPISODES} episodes)"))

# %% [markdown]
# With the default seed (200 episodes per setting; chance is 20%):
#
# ```
# BoW nearest centroid, 5-way 1-shot (200 episodes): 40.91% ± 1.00%
# fine-tune from scratch, 5-way 1-shot (200 episodes): 32.57% ± 0.82%
# pre-train + centroid, 5-way 1-shot (200 episodes): 51.83% ± 1.39%
# BoW nearest centroid, 5-way 5-shot (200 episodes): 77.67% ± 0.81%
# fine-tune from scratch, 5-way 5-shot (200 episodes): 58.15% ± 0.94%
# pre-train + centroid, 5-way 5-shot (200 episodes): 77.22% ± 0.85%
# ```
#
# Three lessons in these numbers. Training a network from scratch on the support set is the
# worst of all: with one sentence per class it mostly memorises. Plain word overlap (BoW) is
# much better, and at 5-shot it is as good as anything here, because five sentences usually
# share some surface words with the query. At 1-shot, knowledge from *other* topics
# (pre-training) wins clearly: it knows which words go together. Meta-learning (lesson 4)
# trains for exactly this 1-shot situation.

# %%
bow_1 = results["5-way 1-shot"]["BoW nearest centroid"]
print(f"per-episode accuracies of BoW at 1-shot range from {bow_1.accuracies.min():.0%} to "
      f"{bow_1.accuracies.max():.0%}: a single episode says little, hence many episodes and a CI")
report.save()

# %% [markdown]
# ## Summary
#
# * A task family is split into meta-train, meta-val and meta-test *classes*, disjoint.
# * An N-way K-shot episode: N classes, K support and Q query sentences each, labels renamed
#   0..N-1 at random in every episode.
# * Scores are mean query accuracy over a fixed list of meta-test episodes, with a 95%
#   confidence interval; every method sees the same episodes.
# * The bars to clear at 5-way 1-shot on topics: BoW nearest centroid (no learning) and the
#   pre-trained network's features (ordinary training on the meta-train classes).
#
# ## Exercises
#
# 1. Run `python -m metanumpy describe --tasks sentiment` and explain why a sentiment
#    episode draws both its classes from one product domain.
# 2. Score the BoW baseline with 20, 100 and 600 episodes. How does the interval shrink?
#    (It should go as $1/\sqrt{n}$.)
# 3. Change `BowNearestCentroid(weighting="counts")`. Does tf-idf help at 1-shot? At 5-shot?
# 4. Break the rules on purpose: evaluate the pre-trained baseline on *meta-train* episodes
#    (`exp.episodes("train", 200)`). How much higher is the score, and why is it meaningless?
