"""Baselines: the bars every meta-learner must clear.

Four of them, from weakest to strongest:

* `BowNearestCentroid`: raw bag-of-words, no learning at all (the *simple* baseline);
* `TfidfNearestCentroid`: no learning either, but tf-idf of words *and* character n-grams with
  IDF from the meta-training corpus (the *strong* training-free baseline, see below);
* `FinetuneFromScratch`: a fresh network trained on each support set;
* `PretrainThenFinetune`: one network trained on all meta-training classes jointly, whose
  features are reused on each new task (the strong baseline of the few-shot literature).

`BowNearestCentroid` learns nothing at all. For each episode it builds a vocabulary from the
episode's own texts, turns every text into a bag-of-words vector, averages the support
vectors of each class into a centroid, and labels each query with the class of the nearest
centroid by cosine similarity:

    $\\hat y(q) = \\arg\\max_c \\cos(v(q), \\frac{1}{K} \\sum_{s \\in S_c} v(s))$

with $v$ the L2-normalised tf-idf vector (idf from the support set,
$idf(w) = \\ln\\frac{1 + n}{1 + df(w)} + 1$, the smoothed form of scikit-learn) or the
L2-normalised word counts. Because it only sees surface words, it fails exactly where the
toy tasks put the difficulty: a query that says the same thing with synonyms shares no word
with its support sentence. A meta-learner that does not beat it has learnt nothing useful.

`TfidfNearestCentroid` is the same nearest centroid over better vectors (`LexicalFeatures`):
words and character 3-5-grams within words, punctuation dropped, IDF counted on the
meta-training text (plus unlabelled text if you have some) instead of the handful of support
texts. On real intent data it is much stronger than the simple BoW (README, "Real text"):
beating the simple BoW proves little, the strong one is the honest bar.
"""

import numpy as np

from .. import backend as B
from ..autograd import no_grad
from ..autograd.functional import cross_entropy
from ..optim import Adam
from ..text.classifier import TextClassifier
from ..text.tfidf import LexicalFeatures, smoothed_idf
from ..text.tokenizer import Tokenizer


def _l2_normalise(rows):
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return rows / np.where(norms == 0, 1.0, norms)


def nearest_centroid(support, labels, ways, query):
    """Label of the nearest class centroid (cosine) for each query row; a centroid is the
    mean of the class's support rows, as given (normalise them first for a mean of directions)."""
    labels = np.asarray(labels)
    centroids = np.stack([support[labels == c].mean(axis=0) for c in range(ways)])
    similarity = _l2_normalise(query) @ _l2_normalise(centroids).T
    return similarity.argmax(axis=1).astype(np.int64)


class BowNearestCentroid:
    """Raw bag-of-words nearest centroid, no training: `predict(episode) -> query labels`."""

    WEIGHTINGS = ("tfidf", "counts")

    def __init__(self, weighting="tfidf", tokenizer=None):
        if weighting not in self.WEIGHTINGS:
            raise ValueError(f"BowNearestCentroid: unknown weighting {weighting!r}, "
                             f"choose one of {self.WEIGHTINGS}")
        self.weighting = weighting
        self.tokenizer = Tokenizer() if tokenizer is None else tokenizer

    def predict(self, episode):
        """Labels (int64, one per query text) of the nearest support-class centroid."""
        n_support = len(episode.support_texts)
        tokens = [self.tokenizer(t) for t in episode.support_texts + episode.query_texts]
        vocabulary = {}                               # word -> column, in first-seen order
        for words in tokens:
            for word in words:
                vocabulary.setdefault(word, len(vocabulary))
        counts = np.zeros((len(tokens), len(vocabulary)))
        for row, words in enumerate(tokens):
            for word in words:
                counts[row, vocabulary[word]] += 1.0
        support_vectors, query_vectors = counts[:n_support], counts[n_support:]
        if self.weighting == "tfidf":
            df = (support_vectors > 0).sum(axis=0)
            idf = smoothed_idf(n_support, df)
            support_vectors, query_vectors = support_vectors * idf, query_vectors * idf
        ### BEGIN SOLUTION task3_3: mean of each class's unit support vectors; nearest by cosine
        support_vectors = _l2_normalise(support_vectors)
        labels = np.asarray(episode.support_labels)
        centroids = np.stack([support_vectors[labels == c].mean(axis=0)
                              for c in range(episode.ways)])
        similarity = _l2_normalise(query_vectors) @ _l2_normalise(centroids).T
        return similarity.argmax(axis=1).astype(np.int64)
        ### END SOLUTION


class TfidfNearestCentroid:
    """The strong training-free baseline: nearest centroid over word + character n-gram tf-idf.

    `fit(texts)` counts document frequencies on a corpus (the meta-training texts, plus any
    unlabelled text); `predict(episode)` needs no training at all.
    """

    def __init__(self, features=None):
        self.features = LexicalFeatures() if features is None else features

    def fit(self, texts):
        """Count the corpus's document frequencies (may be called again to add more text)."""
        self.features.fit(texts)
        return self

    def predict(self, episode):
        """Labels (int64, one per query text) of the nearest support-class centroid."""
        if self.features.n_texts == 0:
            raise RuntimeError("TfidfNearestCentroid: call fit(meta-training texts) before "
                               "predict")
        rows = self.features.transform(episode.support_texts + episode.query_texts)
        vectors, _ = self.features.matrix(rows)
        n_support = len(episode.support_texts)
        return nearest_centroid(vectors[:n_support], episode.support_labels, episode.ways,
                                vectors[n_support:])


class FinetuneFromScratch:
    """A new, randomly initialised classifier trained on each support set (no meta-learning).

    `steps` Adam steps on the K x N support examples, then predict the query set. This is what
    "just train a model" means with five examples: it shows how little a few shots give you
    when nothing was learnt beforehand.
    """

    def __init__(self, vocab_size, ways, steps=50, lr=1e-2, dim=64, hidden=64, seed=0):
        self.vocab_size, self.ways, self.steps, self.lr = vocab_size, ways, steps, lr
        self.dim, self.hidden, self.seed = dim, hidden, seed

    def predict(self, episode):
        model = TextClassifier(self.vocab_size, episode.ways, dim=self.dim, hidden=self.hidden,
                               seed=self.seed)
        fit_classifier(model, episode.support_ids, episode.support_mask, episode.support_labels,
                       self.steps, self.lr)
        with no_grad():
            logits = model(episode.query_ids, episode.query_mask)
        return B.to_numpy(logits.data.argmax(axis=-1))


def fit_classifier(model, ids, mask, labels, steps, lr, batch=None, rng=None, params=None):
    """Train `model` (or only `params`) with Adam on (ids, mask, labels); returns the losses."""
    optimizer = Adam(params if params is not None else model.parameters(), lr=lr)
    losses = []
    for _ in range(steps):
        rows = slice(None) if batch is None else rng.choice(len(labels), size=batch, replace=False)
        loss = cross_entropy(model(ids[rows], mask[rows]), labels[rows])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


class PretrainThenFinetune:
    """The strong baseline: ordinary supervised training on all meta-training classes at once,
    then reuse the features on each new task.

    `fit(source, vocab)` trains one TextClassifier over every meta-training class jointly
    (a single many-way problem, mini-batches of `batch` texts). `predict(episode)` then embeds
    support and query with the trained network up to its last hidden layer and labels each
    query by the nearest class centroid (cosine), as in "SimpleShot"/"Baseline++" (Chen et al.,
    2019): no gradient step at test time.
    """

    def __init__(self, vocab_size, steps=1000, lr=3e-3, batch=64, dim=64, hidden=64, seed=0,
                 max_len=48):
        self.vocab_size, self.steps, self.lr, self.batch = vocab_size, steps, lr, batch
        self.dim, self.hidden, self.seed, self.max_len = dim, hidden, seed, max_len
        self.model = None

    def fit(self, source, vocab):
        """Train on every text of the meta-training split; returns the loss curve."""
        classes = source.classes("train")
        texts, labels = [], []
        for label, name in enumerate(classes):
            texts += source.splits["train"][name]
            labels += [label] * len(source.splits["train"][name])
        ids, mask = vocab.encode(texts, max_len=self.max_len)
        self.model = TextClassifier(self.vocab_size, len(classes), dim=self.dim,
                                    hidden=self.hidden, seed=self.seed)
        rng = np.random.default_rng(self.seed)
        return fit_classifier(self.model, ids, mask, np.asarray(labels), self.steps, self.lr,
                              batch=min(self.batch, len(labels)), rng=rng)

    def features(self, ids, mask):
        """The last hidden layer: encoder -> Linear -> ReLU (the new task's feature space)."""
        hidden = self.model.head[1](self.model.head[0](self.model.features(ids, mask)))
        return B.to_numpy(hidden.data)

    def predict(self, episode):
        if self.model is None:
            raise RuntimeError("PretrainThenFinetune: call fit(source, vocab) before predict")
        with no_grad():
            support = self.features(episode.support_ids, episode.support_mask)
            query = self.features(episode.query_ids, episode.query_mask)
        return nearest_centroid(support, episode.support_labels, episode.ways, query)
