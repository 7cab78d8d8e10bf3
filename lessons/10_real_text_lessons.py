# %% [markdown]
# # Lesson 10: what real text teaches, and starting meta-learning from a strong baseline
#
# On the toy families the meta-learners win. On real intent data (README, "Real text") they
# did not: a nearest centroid over **tf-idf of words and character n-grams**, with the idf
# counted on the meta-training text, needs no training at all and beat every meta-learner
# that starts from random word vectors. Two reasons, both general:
#
# * the words that decide one class are rarely the words that decide the next, so word
#   vectors tuned on the meta-training classes transfer poorly to new ones (Bao et al.,
#   2020, "Few-shot text classification with distributional signatures");
# * a 1-shot support set is too small to say which of its words matter, but the corpus can:
#   a word that is rare in general is informative (idf), and character n-grams match word
#   forms the support text spells differently ("flight" / "flights").
#
# The fix measured on real data: let meta-learning *start from* that baseline. The lexical
# encoder (`metanumpy/text/features.py`) outputs the exact tf-idf vector joined with a small
# learned part, so a cosine ProtoNet begins as the baseline and meta-training only decides
# what to add. Lessons cannot ship real data, so this lesson reproduces the finding and the
# fix on the built-in family that behaves like real text: `crossdomain`, whose meta-test
# topics are written in another style (most test words never occur in meta-training, as
# across CLINC150's domains).
#
# Files: `metanumpy/text/tfidf.py`, `metanumpy/meta/baselines.py` (`TfidfNearestCentroid`),
# `metanumpy/text/features.py` (`LexicalEncoder`), `metanumpy/meta/protohead.py` (Proto-MAML).

# %% tags=["parameters"]
"""Lesson 10: the strong tf-idf baseline, and ProtoNet started from it (crossdomain)."""

# Settings. A notebook takes them from here; a script from its flags --seed, --fast,
# --out (these values are their defaults).
SEED = 0      # seeds the data, the models and the episodes
FAST = False  # True: tiny budgets, a seconds-long check (its numbers mean nothing)
OUT = None    # folder for plots and summary.json; None: out/NN_name/ next to this file

# %%
from metanumpy import plot, tasks
from metanumpy.experiment import Experiment
from metanumpy.lessons import Report, lesson_args
from metanumpy.meta.baselines import BowNearestCentroid, TfidfNearestCentroid
from metanumpy.text.tfidf import LexicalFeatures
from metanumpy.train import train

args = lesson_args("10_real_text_lessons", __doc__, seed=SEED, fast=FAST, out=OUT)
report = Report(args)
STEPS = 3 if args.fast else 150            # ProtoNet meta-training steps per encoder
MAML_STEPS = 2 if args.fast else 30         # first-order MAML meta-training steps
TEST_EPISODES = 4 if args.fast else 200    # fixed meta-test episodes (the same for all)
VAL_EPISODES = 2 if args.fast else 30      # meta-validation episodes (best model)

# %% [markdown]
# ## 1. Two baselines that learn nothing
#
# The *simple* bag-of-words centroid (lesson 3) builds its vocabulary and its idf from the
# episode's own 5 texts. The *strong* one counts document frequencies once, on every
# meta-training text, and adds the character 3- to 5-grams of each word. Here is what it
# sees of one science sentence: words and n-grams, each with its idf.

# %%
exp = Experiment(tasks="crossdomain", ways=5, shots=1, seed=args.seed)
features = LexicalFeatures().fit(exp.source.texts("train"))
sentence = exp.source.texts("test")[0]
(row,) = features.transform([sentence])
print("a science sentence:", sentence)
top = sorted(row.items(), key=lambda item: -item[1])[:6]
print("its heaviest features:", ", ".join(f"{f} {w:.2f}" for f, w in top))
report.value("features_per_sentence", len(row), "features of that sentence (words + n-grams)")

# %%
test = exp.episodes("test", TEST_EPISODES)
results = {
    "simple BoW": tasks.evaluate(BowNearestCentroid().predict, test),
    "strong tf-idf": tasks.evaluate(TfidfNearestCentroid(features).predict, test),
}

# %% [markdown]
# ## 2. ProtoNet from random word vectors, and from the strong baseline
#
# The same algorithm, the same steps and episodes, two encoders: the default bag of
# embeddings, and the lexical encoder (exact tf-idf over words and hashed n-grams, plus an
# idf-weighted mean of learned word vectors, scaled by a learned $\alpha$ that starts at
# 0.3). For the lexical encoder the vocabulary hashes character n-grams into buckets, and
# `max_len` is long enough to keep them all; ProtoNet compares by cosine, so before any
# training it is the strong baseline, up to two differences: hash collisions between
# n-grams, and whole words the news vocabulary lacks (they become `<unk>`, which the
# encoder ignores; their n-grams still count). The learners are validated every
# `STEPS // 10` steps and the best meta-validation model is kept.

# %%
val = exp.episodes("val", VAL_EPISODES)
lexical = Experiment(tasks="crossdomain", ways=5, shots=1, seed=args.seed, encoder="lexical",
                     ngram_buckets=32768, max_len=160)
histories = {}
for name, setting in (("bag", exp), ("lexical", lexical)):
    learner = setting.learner("protonet")
    episodes = setting.episodes("test", TEST_EPISODES)  # the same texts, this vocabulary's ids
    results[f"ProtoNet {name}, untrained"] = tasks.evaluate(learner.predict, episodes)
    histories[name] = train(learner, setting.sampler("train"), setting.episodes("val", len(val)),
                            steps=STEPS, eval_every=max(1, STEPS // 10), log=lambda line: None)
    results[f"ProtoNet {name}, meta-trained"] = tasks.evaluate(learner.predict, episodes)

# %% [markdown]
# ## 3. The same start for MAML: a head built from the prototypes
#
# MAML and Reptile put a classifier head on the encoder and learn where it starts. But a
# task's five classes are new and come in a random order, so a learned start cannot know
# them: before its inner steps MAML guesses, and a few steps on five texts must build the
# head from nothing. Proto-MAML (Triantafillou et al., 2020) builds the start from the
# support set instead: with the class means $c_k$ of the support embeddings,
# $W_k = 10\, c_k / |c_k|$ scores a unit-length query exactly like the cosine ProtoNet, so
# the inner steps begin at the strong baseline and fine-tune from there
# (`metanumpy/meta/protohead.py`; `head="prototypes"`, the lexical encoder's default for
# MAML, first-order MAML and Reptile). First-order MAML, both heads, same encoder:

# %%
lexical_test = lexical.episodes("test", TEST_EPISODES)
for head in ("learned", "prototypes"):
    learner = lexical.learner("fomaml", head=head)
    results[f"FOMAML lexical, {head} head, untrained"] = tasks.evaluate(learner.predict,
                                                                        lexical_test)
histories["FOMAML lexical, prototype head"] = train(
    learner, lexical.sampler("train"), lexical.episodes("val", len(val)), steps=MAML_STEPS,
    eval_every=max(1, MAML_STEPS // 5), log=lambda line: None)
results["FOMAML lexical, prototypes head, meta-trained"] = tasks.evaluate(learner.predict,
                                                                          lexical_test)

keys = {"simple BoW": "bow", "strong tf-idf": "tfidf", "ProtoNet bag, untrained": "bag_untrained",
        "ProtoNet bag, meta-trained": "bag", "ProtoNet lexical, untrained": "lexical_untrained",
        "ProtoNet lexical, meta-trained": "lexical",
        "FOMAML lexical, learned head, untrained": "fomaml_learned_untrained",
        "FOMAML lexical, prototypes head, untrained": "fomaml_proto_untrained",
        "FOMAML lexical, prototypes head, meta-trained": "fomaml_proto"}
for name, result in results.items():
    report.accuracy(keys[name], result, f"crossdomain 5-way 1-shot: {name}",
                    headline=keys[name] in ("tfidf", "bag", "lexical", "fomaml_proto"))
report.plot(plot.accuracy_bars(results, report.path("accuracy.png"),
                               f"crossdomain, 5-way 1-shot, {TEST_EPISODES} test episodes"))
report.plot(plot.learning_curves(histories, report.path("learning_curves.png"),
                                 "crossdomain: ProtoNet (bag, lexical), FOMAML (prototype head)"))
report.save()

# %% [markdown]
# With the default seed (one BLAS thread, 2 cores):
#
# ```
# a science sentence: thus nabrilate data grainenate plagim tratrar model stitrim
# its heaviest features: c:ate> 0.16, c:ate 0.14, w:thus 0.12, w:nabrilate 0.12, w:data 0.12, w:grainenate 0.12
# features of that sentence (words + n-grams): 135
# crossdomain 5-way 1-shot: simple BoW: 41.31% ± 1.03%
# crossdomain 5-way 1-shot: strong tf-idf: 53.51% ± 1.09%
# crossdomain 5-way 1-shot: ProtoNet bag, untrained: 30.05% ± 1.03%
# crossdomain 5-way 1-shot: ProtoNet bag, meta-trained: 32.59% ± 1.13%
# crossdomain 5-way 1-shot: ProtoNet lexical, untrained: 49.15% ± 1.09%
# crossdomain 5-way 1-shot: ProtoNet lexical, meta-trained: 49.09% ± 1.11%
# crossdomain 5-way 1-shot: FOMAML lexical, learned head, untrained: 22.09% ± 0.66%
# crossdomain 5-way 1-shot: FOMAML lexical, prototypes head, untrained: 49.15% ± 1.09%
# crossdomain 5-way 1-shot: FOMAML lexical, prototypes head, meta-trained: 49.25% ± 1.10%
# ```
#
# Reading the numbers: the strong baseline learns nothing and is 12 points above the simple
# one (53.5% vs 41.3%): the science words share n-grams ("ate>" of "nabrilate",
# "grainenate") that a whole-word vocabulary cannot see, and corpus idf knows which of them
# are common. ProtoNet from random word vectors is far below both, even after meta-training
# (32.6%): this is the finding on real text, in miniature. From the lexical encoder it starts
# at 49.2%, 16 points higher, without any training; meta-training (best meta-validation
# model) keeps it there (49.1%). It stays 4 points below the baseline because 85% of the
# science tokens are `<unk>` to the news vocabulary (lesson 8), so their whole-word features
# are lost. On the real intent data of the README, where far fewer test words are unknown,
# the same pipeline is level with the strong baseline across domains (CLINC150) and above it
# within one domain (Banking77, +2.9 points at 1-shot).
#
# First-order MAML shows the same with its head. With a learned head, before meta-training,
# it is at chance (22.1% on 5 ways): three inner steps on five texts cannot build a head
# from nothing. With the prototype head it starts exactly where the lexical ProtoNet starts
# (49.15%: its three inner steps changed no digit here), and a short meta-training keeps it
# there (49.25%). On the README's real data, MAML and Reptile with this head beat the simple
# bag-of-words at 5-shot on both sets, and MAML is level with the strong baseline across
# domains and above it within one; with a learned head, first-order MAML over the same
# encoder stayed far below the simple bag-of-words (Banking77, 5-shot).
#
# ## Summary
#
# * Before crediting a meta-learner, compare it with the strongest baseline that learns
#   nothing: here, tf-idf of words and character n-grams with corpus idf. Beating the simple
#   bag-of-words proves little.
# * What transfers to new classes is general knowledge about words (how rare they are, how
#   they are spelled, which are used alike), not the identity of the words that mattered for
#   the training classes.
# * Starting meta-learning from the baseline (an encoder that contains it) turns "meta-learning
#   loses by 20 points" into "meta-learning starts level and adds what transfers", with the
#   best meta-validation model as the guard when nothing does. For MAML and Reptile the
#   start also needs a head that begins at the support set's prototypes (Proto-MAML).
#
# ## Exercises
#
# 1. Count the idf on the support set only (`BowNearestCentroid`) but keep the n-grams.
#    Which of the two changes (corpus idf, n-grams) buys more on crossdomain?
# 2. Start the lexical encoder's word vectors from skip-gram (lesson 8, `load_embeddings`).
#    Does ProtoNet gain more than from the random start?
# 3. Train the lexical ProtoNet for 2000 steps and plot the validation curve. When does it
#    peak, and what does the learned $\alpha$ (`learner.model.mix`) do meanwhile?
# 4. Close the gap to the baseline: give unknown words hashed ids of their own (so a science
#    word seen in the support and the query still matches as a whole word). How much of
#    the 4 points comes back?
