# %% [markdown]
# # Lesson 2: from text to a classifier, and the few-shot problem
#
# Before learning to learn, we learn the ordinary way. This lesson turns sentences into
# numbers (tokenizer, vocabulary, padded batches), reads them with a bag-of-embeddings
# encoder, and trains a small text classifier on five topics, twice:
#
# * with plenty of data (60 sentences per topic): it learns the topics well;
# * with 5 sentences per topic: accuracy on new sentences drops.
#
# The gap between the two runs is the *few-shot problem* that the rest of the course attacks.
# Files to read alongside: `metanumpy/text/tokenizer.py`, `vocab.py`, `encoders.py`,
# `classifier.py`.

# %% tags=["parameters"]
"""Lesson 2: text to a classifier, trained with plenty of data and with 5 examples per class."""

# Settings. A notebook takes them from here; a script from its flags --seed, --fast,
# --out (these values are their defaults).
SEED = 0      # seeds the data, the models and the episodes
FAST = False  # True: tiny budgets, a seconds-long check (its numbers mean nothing)
OUT = None    # folder for plots and summary.json; None: out/NN_name/ next to this file

# %%
import numpy as np

import metanumpy as mn
from metanumpy import plot, tasks
from metanumpy.autograd.functional import accuracy
from metanumpy.lessons import Report, lesson_args
from metanumpy.optim import Adam
from metanumpy.text import BagOfEmbeddings, TextClassifier, Tokenizer, Vocab

args = lesson_args("02_text_encoder", __doc__, seed=SEED, fast=FAST, out=OUT)
report = Report(args)
STEPS = 20 if args.fast else 150          # Adam steps per training run

# %% [markdown]
# ## 1. Tokens, ids and masks
#
# The toy "topics" family (`metanumpy/tasks/topics.py`) writes sentences in a made-up
# language: each topic mixes a few *concepts*, and each concept has 12 synonymous surface
# words. The tokenizer splits a sentence into lower-cased words; the vocabulary, built from
# the meta-training split only, gives each word an id (0 is padding, 1 is "unknown").

# %%
source = tasks.topics(seed=args.seed)
print(source)
vocab = Vocab.build(source.texts("train"))
print(f"vocabulary: {len(vocab)} ids (built from {len(source.texts('train'))} meta-train texts)")
sentences = source.splits["train"][source.classes("train")[0]][:2]
print("tokens:", Tokenizer()(sentences[0]))
ids, mask = vocab.encode(sentences)
print("ids:\n", ids)
print("mask:\n", mask)

# %% [markdown]
# Texts have different lengths, so a batch is padded to the longest one: `ids` is
# (batch, time) and `mask` marks the real tokens with 1.
#
# ## 2. Bag of embeddings
#
# Each id selects a row of an embedding table $E$ (vocabulary x dim). The encoder averages
# the rows of the real tokens, ignoring the padding:
#
# $$h = \frac{\sum_t m_t\, E[x_t]}{\sum_t m_t}.$$
#
# Word order is lost, but for topics that hardly matters, and it is fast. The classifier puts
# a small network on top: $h \to$ Linear $\to$ ReLU $\to$ Linear $\to$ one logit per class.

# %%
encoder = BagOfEmbeddings(len(vocab), dim=8, seed=args.seed)
print("encoded batch:", encoder(ids, mask).shape, "(2 texts, 8 numbers each)")

# %% [markdown]
# ## 3. Training the ordinary way
#
# Five meta-training topics, 80 sentences each: we keep 20 per topic aside as a held-out test
# set and train on the rest. The loop is the usual one: forward pass, cross-entropy loss,
# `backward()`, Adam step.

# %%
rng = np.random.default_rng(args.seed)
topics = [source.classes("train")[i] for i in rng.choice(64, size=5, replace=False)]
print("topics:", ", ".join(topics))
HELD_OUT = 20


def split_texts(per_class):
    """(train texts, train labels, held-out texts, held-out labels), `per_class` to train on."""
    train, train_y, test, test_y = [], [], [], []
    for label, name in enumerate(topics):
        texts = source.splits["train"][name]
        train += texts[:per_class]
        train_y += [label] * per_class
        test += texts[-HELD_OUT:]
        test_y += [label] * HELD_OUT
    return train, np.array(train_y), test, np.array(test_y)


def train_classifier(per_class, steps, batch=32):
    """Train a fresh TextClassifier on `per_class` sentences per topic; returns
    (model, history) with the training loss/accuracy and the held-out accuracy."""
    train, train_y, test, test_y = split_texts(per_class)
    train_ids, train_mask = vocab.encode(train)
    test_ids, test_mask = vocab.encode(test)
    model = TextClassifier(len(vocab), len(topics), seed=args.seed)
    optimizer = Adam(model.parameters(), lr=1e-2)
    batch_rng = np.random.default_rng(args.seed)
    history = {"step": [], "loss": [], "acc": [], "val_step": [], "val_acc": []}
    for step in range(1, steps + 1):
        rows = batch_rng.choice(len(train_y), size=min(batch, len(train_y)), replace=False)
        logits = model(train_ids[rows], train_mask[rows])
        loss = mn.cross_entropy(logits, train_y[rows])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        history["step"].append(step)
        history["loss"].append(loss.item())
        history["acc"].append(accuracy(logits, train_y[rows]))
        if step % max(1, steps // 15) == 0 or step == steps:
            with mn.no_grad():
                history["val_step"].append(step)
                history["val_acc"].append(accuracy(model(test_ids, test_mask), test_y))
    return model, history


plenty_model, plenty = train_classifier(per_class=80 - HELD_OUT, steps=STEPS)
report.value("plenty_acc", plenty["val_acc"][-1], "held-out accuracy, 60 sentences per topic",
             fmt="{:.1%}", headline=True)
few_model, few = train_classifier(per_class=5, steps=STEPS)
report.value("few_acc", few["val_acc"][-1], "held-out accuracy, 5 sentences per topic",
             fmt="{:.1%}", headline=True)
report.plot(plot.learning_curves(
    {"60 per topic": plenty, "5 per topic": few}, report.path("learning_curves.png"),
    "5 topics: plenty of data vs 5 examples per topic", smooth=10))

# %% [markdown]
# With the default seed this prints
#
# ```
# held-out accuracy, 60 sentences per topic: 96.0%
# held-out accuracy, 5 sentences per topic: 59.0%
# ```
#
# With 5 sentences the training accuracy still reaches 100% (see the plot): the model
# memorises its 25 sentences, and the held-out accuracy stays far lower. Why? Count the
# words of the held-out sentences that never occur in the training sentences. A bag of
# embeddings can only learn rows for words it has seen with a label; every other row stays
# at its random start.

# %%


def unseen_share(per_class):
    """Fraction of held-out tokens whose word never occurs in the training sentences."""
    train, _, test, _ = split_texts(per_class)
    tokenize = Tokenizer()
    seen = {w for t in train for w in tokenize(t)}
    test_words = [w for t in test for w in tokenize(t)]
    return np.mean([w not in seen for w in test_words])


report.value("unseen_plenty", unseen_share(60), "held-out words unseen in training, 60 per topic",
             fmt="{:.1%}")
report.value("unseen_few", unseen_share(5), "held-out words unseen in training, 5 per topic",
             fmt="{:.1%}")

# %% [markdown]
# How many examples per topic does the ordinary way need? Train once for each size and
# measure held-out accuracy, with a 95% interval over the 100 held-out sentences
# ($1.96 \sqrt{p (1 - p) / n}$, the normal approximation).

# %%
sizes = [1, 2, 5, 10, 20, 60]
means, cis = [], []
for per_class in sizes:
    model, _ = train_classifier(per_class, STEPS)
    _, _, test, test_y = split_texts(per_class)
    with mn.no_grad():
        predicted = model(*vocab.encode(test)).numpy().argmax(axis=1)
    correct = (predicted == test_y).astype(float)
    means.append(correct.mean())
    cis.append(tasks.confidence_interval(correct))
    report.value(f"acc_{per_class}_per_topic", correct.mean(),
                 f"held-out accuracy, {per_class:>2} per topic", fmt="{:.1%}")
report.plot(plot.accuracy_vs(sizes, {"TextClassifier": (means, cis)},
                             report.path("accuracy_vs_examples.png"),
                             "training sentences per topic (log scale)",
                             "5 topics: held-out accuracy vs training set size", logx=True))

# %% [markdown]
# With the default seed:
#
# ```
# held-out accuracy,  1 per topic: 34.0%
# held-out accuracy,  2 per topic: 37.0%
# held-out accuracy,  5 per topic: 59.0%
# held-out accuracy, 10 per topic: 77.0%
# held-out accuracy, 20 per topic: 90.0%
# held-out accuracy, 60 per topic: 96.0%
# ```
#
# One example per topic gives 34%: above guessing (20%), far below the 96% of plenty of
# data. That is the setting of few-shot learning: 5-way 1-shot.

# %% [markdown]
# The hidden layer of each classifier, projected to 2-D (PCA), shows the same story: trained
# on 60 sentences per topic, held-out sentences of a topic land together; trained on 5 they
# mix.

# %%
_, _, test, test_y = split_texts(5)
test_ids, test_mask = vocab.encode(test)


def hidden_layer(model):
    with mn.no_grad():
        return model.head[1](model.head[0](model.features(test_ids, test_mask))).numpy()


report.plot(plot.embedding_projection(
    [(hidden_layer(plenty_model), test_y, "trained on 60 per topic"),
     (hidden_layer(few_model), test_y, "trained on 5 per topic")],
    None, report.path("hidden_layer.png"), "held-out sentences in the hidden layer (PCA)",
    names=topics))
report.save()

# %% [markdown]
# ## Summary
#
# * Text becomes `ids` + `mask` batches through a tokenizer and a vocabulary built from the
#   meta-training split only.
# * A bag-of-embeddings encoder averages word vectors; a small network on top classifies.
# * Trained the ordinary way, the classifier does well with 60 sentences per topic and much
#   worse with 5: 44% of the words of a new sentence were never seen in the 5 examples (9%
#   with 60), and a synonym of a seen word looks unrelated to it.
# * Meta-learning (lessons 3 and 4) uses *many other* topics to learn, in advance, which
#   words go together, so that 5 (or 1) examples of a new topic are enough.
#
# ## Exercises
#
# 1. Repeat the size sweep with three seeds (`--seed 1`, `--seed 2`). Are the differences
#    between neighbouring sizes larger than the seed-to-seed variation?
# 2. Build the vocabulary with `ngram_buckets=2000`. Does the 5-per-topic run improve? Why
#    could character n-grams help with made-up words, and why might they not help with
#    synonyms?
# 3. Replace the bag of embeddings with `encoder="conv"` in `TextClassifier`. Is it better or
#    worse at 5 per topic, and how much slower?
# 4. The 5-per-topic model reaches 100% training accuracy. Add weight decay or fewer steps:
#    can you trade training accuracy for held-out accuracy?
