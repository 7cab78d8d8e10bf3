# %% [markdown]
# # Lesson 8: Pre-training and meta-learning
#
# Pre-training and meta-learning answer the same question: what can we learn *before* we see
# the few examples of a new task? Pre-training learns a representation from lots of data
# (here: word vectors from unlabelled text, or a classifier of all the meta-training classes
# at once); meta-learning learns a representation *for adapting*, from episodes that imitate
# the test. Meta-learning is best seen as an extension of pre-training, not a rival: it can
# start from pre-trained weights instead of random ones. This lesson measures three ways to
# use the meta-training split, and their combination:
#
# 1. **Self-supervised pre-training**: skip-gram word vectors (`metanumpy/pretrain.py`),
#    trained on unlabelled sentences of the meta-training split only. For a word $w$ and a
#    word $c$ near it in a sentence, and $K$ random "negative" words $n_k$,
#    $$L = -\log \sigma(u_c \cdot v_w) - \textstyle\sum_k \log \sigma(-u_{n_k} \cdot v_w):$$
#    words used in the same contexts get similar vectors $v$. For the toy language, that
#    means synonyms of one concept, which a 1-shot support text and its query rarely share.
# 2. **Supervised pre-training**: one classifier over all 64 meta-training topics, whose
#    hidden layer is reused with nearest centroids (`PretrainThenFinetune`, lesson 3).
# 3. **Meta-learning**: a Prototypical Network (lesson 7), from a random start, and from the
#    skip-gram vectors copied into its embedding table (`load_embeddings`).
#
# Then the same comparison *across domains*: meta-train on "news" topics, test on "science"
# topics, which write the same concepts with other words.

# %% tags=["parameters"]
"""Lesson 8: skip-gram pre-training, supervised pre-training and meta-learning, combined."""

# Settings. A notebook takes them from here; a script from its flags --seed, --fast,
# --out (these values are their defaults).
SEED = 0      # seeds the data, the models and the episodes
FAST = False  # True: tiny budgets, a seconds-long check (its numbers mean nothing)
OUT = None    # folder for plots and summary.json; None: out/NN_name/ next to this file

# %%
import os

from metanumpy import plot, tasks
from metanumpy.experiment import Experiment
from metanumpy.lessons import Report, lesson_args
from metanumpy.meta.baselines import BowNearestCentroid, PretrainThenFinetune
from metanumpy.pretrain import load_embeddings, nearest, probe_words, save_embeddings, skipgram
from metanumpy.train import train

args = lesson_args("08_pretraining_and_meta_learning", __doc__, seed=SEED, fast=FAST, out=OUT)
report = Report(args)
SENTENCES = 200 if args.fast else 10_000    # unlabelled meta-training sentences for skip-gram
EPOCHS = 1 if args.fast else 3              # skip-gram passes over them
PRETRAIN_STEPS = 3 if args.fast else 1000   # steps of supervised pre-training
STEPS = 3 if args.fast else 1000            # ProtoNet meta-training steps per start
TEST_EPISODES = 4 if args.fast else 200     # fixed meta-test episodes (the same for all)
VAL_EPISODES = 2 if args.fast else 50       # meta-validation episodes for the learning curves

# %% [markdown]
# ## 1. The pieces, on topics
#
# `compare(exp)` runs the whole comparison on one experiment (a task family, 5-way
# 1-shot) and scores everything on the same fixed test episodes. The skip-gram vectors go
# to an `.npz` file, exactly what `python -m metanumpy pretrain --out emb.npz` writes and
# `python -m metanumpy train --init emb.npz` reads.

# %%


def compare(exp):
    """All methods on one experiment's family; returns (results, histories, word vectors)."""
    family = exp.settings.tasks
    test, val = exp.episodes("test", TEST_EPISODES), exp.episodes("val", VAL_EPISODES)
    results, histories = {}, {}
    results["BoW centroid"] = tasks.evaluate(BowNearestCentroid().predict, test)

    # 1. self-supervised: skip-gram on unlabelled meta-training sentences
    texts = exp.source.unlabelled(SENTENCES, seed=args.seed)
    vectors = skipgram(texts, exp.vocab, dim=exp.settings.dim, epochs=EPOCHS, seed=args.seed,
                       log=lambda line: None)
    embeddings_file = report.path(f"{family}_embeddings.npz")
    save_embeddings(embeddings_file, vectors, exp.vocab)
    report.value(f"{family}_embeddings_bytes", os.path.getsize(embeddings_file),
                 f"{family}: bytes written to OUT/{family}_embeddings.npz")

    # 2. supervised: one classifier over all meta-training classes
    supervised = PretrainThenFinetune(len(exp.vocab), steps=PRETRAIN_STEPS, seed=args.seed)
    supervised.fit(exp.source, exp.vocab)
    results["supervised pre-training"] = tasks.evaluate(supervised.predict, test)

    # 3. meta-learning from a random start and from the skip-gram vectors
    for start in ("random", "skip-gram"):
        learner = exp.learner("protonet")
        if start == "skip-gram":
            rows = load_embeddings(learner.model, exp.vocab, embeddings_file)
            report.value(f"{family}_loaded_rows", rows,
                         f"{family}: rows of the embedding table loaded from that file")
        results[f"{start} start, no meta-training"] = tasks.evaluate(learner.predict, test)
        histories[f"{start} start"] = train(learner, exp.sampler("train"), val, steps=STEPS,
                                            meta_batch=4, eval_every=max(1, STEPS // 5),
                                            log=lambda line: None)
        results[f"ProtoNet, {start} start"] = tasks.evaluate(learner.predict, test)

    keys = {"BoW centroid": "bow", "supervised pre-training": "supervised",
            "random start, no meta-training": "random_untrained",
            "skip-gram start, no meta-training": "skipgram_untrained",
            "ProtoNet, random start": "protonet_random",
            "ProtoNet, skip-gram start": "protonet_skipgram"}
    for name, result in results.items():
        report.accuracy(f"{family}_{keys[name]}", result, f"{family}: {name}",
                        headline=keys[name] in ("bow", "protonet_skipgram"))
    best = max(results, key=lambda name: results[name].mean)
    print(f"{family}: best is {best} ({results[best]})")
    report.plot(plot.accuracy_bars(results, report.path(f"{family}_accuracy.png"),
                                   f"{family}, 5-way 1-shot, {TEST_EPISODES} test episodes"))
    report.plot(plot.learning_curves(histories, report.path(f"{family}_learning_curves.png"),
                                     f"ProtoNet on {family}: random vs skip-gram start"))
    return results, histories, vectors


topics = Experiment(tasks="topics", ways=5, shots=1, seed=args.seed)
topic_results, _, topic_vectors = compare(topics)

# %% [markdown]
# What did skip-gram learn? The nearest neighbours (cosine) of a few words. The words of the
# toy language are invented, so they cannot be judged by eye: the accuracies above are the
# real test of whether words used alike got similar vectors.

# %%
for word in probe_words(topics.vocab, n=3):
    neighbours = nearest(topic_vectors, topics.vocab, word, k=4)
    print(f"nearest to {word}: " + ", ".join(f"{w} {c:.2f}" for w, c in neighbours))

# %% [markdown]
# ## 2. Across domains: news to science
#
# The `crossdomain` family has the concepts and topics of `topics`, but the meta-test topics
# are written in a "science" style: other filler words, and most concept words carry a
# suffix or a prefix ("bakon" becomes "neobakonic"). The vocabulary, the skip-gram text and
# every kind of training see only the news split. How much of the science text does the news
# vocabulary even know?

# %%
crossdomain = Experiment(tasks="crossdomain", ways=5, shots=1, seed=args.seed)
for split in ("train", "test"):
    ids, mask = crossdomain.vocab.encode(crossdomain.source.texts(split),
                                         max_len=crossdomain.settings.max_len)
    report.value(f"crossdomain_unknown_{split}", ((ids == 1) * mask).sum() / mask.sum(),
                 f"crossdomain: share of <unk> tokens in the {split} split", fmt="{:.1%}")
print("a news sentence:   ", crossdomain.source.texts("train")[0])
print("a science sentence:", crossdomain.source.texts("test")[0])

# %%
crossdomain_results, _, _ = compare(crossdomain)
report.save()

# %% [markdown]
# With the default seed (one BLAS thread, 2 cores):
#
# ```
# topics: bytes written to OUT/topics_embeddings.npz: 880288
# topics: rows of the embedding table loaded from that file: 2894
# topics: BoW centroid: 40.91% ± 1.00%
# topics: supervised pre-training: 51.83% ± 1.39%
# topics: random start, no meta-training: 26.03% ± 0.64%
# topics: ProtoNet, random start: 48.55% ± 1.41%
# topics: skip-gram start, no meta-training: 55.12% ± 1.38%
# topics: ProtoNet, skip-gram start: 65.99% ± 1.37%
# topics: best is ProtoNet, skip-gram start (65.99% ± 1.37%)
# nearest to rishoukai: nasofes 0.54, kafai 0.54, fugrounuk 0.52, bezuk 0.51
# nearest to drusas: shiko 0.59, shema 0.55, zager 0.55, gochatrai 0.51
# nearest to gesha: graikoun 0.60, kagis 0.55, mouplanul 0.54, noume 0.54
# crossdomain: share of <unk> tokens in the train split: 0.0%
# crossdomain: share of <unk> tokens in the test split: 85.1%
# a news sentence:    officials buvis kaitrak trizi tripuk chutovo
# a science sentence: thus nabrilate data grainenate plagim tratrar model stitrim
# crossdomain: bytes written to OUT/crossdomain_embeddings.npz: 880288
# crossdomain: rows of the embedding table loaded from that file: 2894
# crossdomain: BoW centroid: 41.31% ± 1.03%
# crossdomain: supervised pre-training: 36.70% ± 1.26%
# crossdomain: random start, no meta-training: 30.05% ± 1.03%
# crossdomain: ProtoNet, random start: 38.65% ± 1.30%
# crossdomain: skip-gram start, no meta-training: 38.69% ± 1.27%
# crossdomain: ProtoNet, skip-gram start: 44.66% ± 1.52%
# crossdomain: best is ProtoNet, skip-gram start (44.66% ± 1.52%)
# ```
#
# Reading the numbers, on **topics**: the skip-gram vectors alone, with no meta-training
# (averaged and passed through the untrained linear layer), already give 55.1%, above
# supervised pre-training (51.8%) and far above a random embedding (26.0%): knowing which
# words are used alike is most of what 1-shot topic classification needs here. Meta-learning
# from a random start reaches 48.6% in 1000 steps; from the skip-gram start it reaches 66.0%,
# the best of all by a wide margin. Pre-training and meta-learning add up.
#
# Across **domains**, 85% of the science tokens are `<unk>` to the news vocabulary, so
# every learned method loses most of its input. Bag-of-words, which learns nothing and
# builds its vocabulary from each episode, keeps its 41%. Supervised pre-training (36.7%),
# meta-learning from a random start (38.7%) and skip-gram alone (38.7%) all fall *below* it.
# Only the combination, ProtoNet from the skip-gram start (44.7%), beats bag-of-words, by a
# few points. What transfers is what the science text still shares with the news text: the
# 20% of concepts written the same way.
#
# ## Summary
#
# * Self-supervised pre-training, supervised pre-training and meta-learning all extract
#   knowledge from the meta-training split before the few-shot task arrives; they combine.
#   Here the combination (skip-gram vectors as the start of meta-learning) wins on both
#   families, by 11 points over the next best on topics.
# * Skip-gram needs no labels: it learns which words are used alike, which is exactly what a
#   1-shot support text and its query share in this language.
# * No pre-training helps with words it never saw. Across domains most test words are
#   `<unk>` to a vocabulary built on the source domain, and everything trained on that domain
#   struggles; bag-of-words, which learns nothing, is hard to beat there, and only the
#   combination does.
#
# ## Exercises
#
# 1. Build the cross-domain vocabulary with character n-grams
#    (`Experiment(tasks="crossdomain", ngram_buckets=2000)`), so that "neobakonic" shares
#    features with "bakon". Rerun `compare`. Which methods gain?
# 2. Pre-train skip-gram on more sentences (50,000) or for more epochs. Does the ProtoNet
#    from the skip-gram start improve further, and how does its advantage at step 0 change?
# 3. Freeze the loaded embedding table during meta-training (train only the projection).
#    Better or worse than fine-tuning it, and why?
# 4. Start MAML (lesson 4) from the skip-gram vectors. Does the benefit carry over to a
#    gradient-based meta-learner?
