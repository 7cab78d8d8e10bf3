"""An encoder on lexical features, so that meta-learning starts from the strong tf-idf baseline.

    vocab = Vocab.build(train_texts, ngram_buckets=32768)   # words + hashed char 3-5-grams
    weights = idf_weights(vocab, corpus_texts)               # one idf per id, 0 for punctuation
    encoder = LexicalEncoder(len(vocab), weights, dim=64)    # (ids, mask) -> (batch, out_dim)

On real text a training-free nearest centroid over tf-idf of words and character n-grams
(`meta/baselines.py`, `TfidfNearestCentroid`) beats meta-learners that start from random word
vectors: the words that matter for one class are rarely those that matter for the next, so
what is learnt on the meta-training classes transfers poorly. This encoder keeps that strong
signal exactly and lets meta-learning add to it. Its output joins two parts:

* **exact**: the text's tf-idf vector over the vocabulary ids (words and n-gram buckets),
  $x_i = tf_i \\cdot idf_i$, L2-normalised. A constant of the input: nothing in it is learnt.
  The cosine of two such vectors is the strong baseline's similarity (up to n-gram hash
  collisions and words the vocabulary lacks, which still match through their n-grams).
* **learned**: $\\alpha \\cdot u / |u|$ with $u = \\sum_t idf(x_t)\\, E[x_t]$ over the text's
  words and n-grams, an idf-weighted mean of learned vectors, scaled by a learned
  $\\alpha$. `E` is a plain `embedding.weight` table, so `train --init emb.npz` can start
  its word rows from skip-gram vectors. (Measured on Banking77 at 1-shot: with the n-gram
  rows in this part, meta-validation accuracy kept rising for 250 steps; with words only it
  peaked after 50-100 steps. `n_words` keeps the n-grams out.)

Both parts have length 1 and $\\alpha$ respectively, so the cosine of two outputs is
$(\\cos_{exact} + \\alpha^2 \\cos_{learned}) / (1 + \\alpha^2)$: with a small starting
$\\alpha$ a cosine-based learner (ProtoNet with `distance="cosine"`, Matching Networks)
begins as the baseline, and meta-training decides how much the learned similarity adds.
So do MAML and Reptile with a head built from the cosine prototypes (meta/protohead.py, their
default with this encoder). `exact=False` keeps only the learned part (dim `dim`), for MAML
and Reptile with a learned head (`head="learned"`), which would otherwise need a row per
vocabulary id.

Everything is built from the engine's primitives (embedding lookup, multiply, sum, sqrt,
concatenate), so MAML's second-order gradients go through it.
"""

import numpy as np

from .. import backend as B
from ..autograd import ops
from ..autograd.tensor import Tensor
from ..nn import Embedding, Module, Parameter
from ..nn.init import generator
from .encoders import padded_batch
from .tfidf import is_word, smoothed_idf


def idf_weights(vocab, texts, max_len=None):
    """One weight per vocabulary id: $\\ln\\frac{1 + n}{1 + df} + 1$ over the corpus `texts`.

    <pad>, <unk> and punctuation get 0 (they say nothing about a class); an id the corpus
    never holds gets the largest weight, $\\ln(1 + n) + 1$. Returns a float64 host array.
    """
    if isinstance(texts, str):
        raise TypeError("idf_weights takes a list of texts, got one str; wrap it: [text]")
    texts = list(texts)
    if not texts:
        raise ValueError("idf_weights: the corpus holds no text")
    df = np.zeros(len(vocab))
    for start in range(0, len(texts), 1000):
        ids, mask = vocab.encode(texts[start:start + 1000], max_len)
        rows = np.repeat(np.arange(len(ids)), ids.shape[1])[mask.ravel() > 0]
        pairs = np.unique(np.stack([rows, ids.ravel()[mask.ravel() > 0]]), axis=1)
        df += np.bincount(pairs[1], minlength=len(vocab))
    weights = smoothed_idf(len(texts), df)
    weights[[vocab.PAD, vocab.UNK]] = 0.0
    punctuation = [i for i, t in enumerate(vocab.tokens) if i > 1 and not is_word(t)]
    weights[punctuation] = 0.0
    return weights


def unit_rows(x, eps=1e-12):
    """$x / \\sqrt{|x|^2 + \\epsilon}$ row by row, from primitives (a zero row stays zero)."""
    return x / ops.sqrt(ops.sum(x * x, axis=1, keepdims=True) + eps)


class LexicalEncoder(Module):
    """(ids, mask) -> [exact unit tf-idf over the ids (len(weights)); alpha * learned (dim)].

    weights: one idf per vocabulary id (`idf_weights`). mix: the starting alpha. exact=False:
    only the learned part. n_words: ids from n_words on (n-gram buckets) stay out of the
    learned part (None: none do). `seed` is an int or a numpy Generator.
    """

    def __init__(self, vocab_size, weights, dim=64, mix=0.3, exact=True, n_words=None, seed=0):
        super().__init__()
        weights = np.asarray(weights, dtype=np.float64)
        if weights.shape != (vocab_size,):
            raise ValueError(f"LexicalEncoder: need one weight per id ({vocab_size}), got an "
                             f"array of shape {weights.shape}")
        self.embedding = Embedding(vocab_size, dim, rng=generator(seed), padding_idx=0)
        self.mix = Parameter(np.array([mix]))
        self.weights = weights
        self.n_words = n_words if n_words is not None else vocab_size
        self.vocab_size, self.dim, self.exact = vocab_size, dim, bool(exact)
        self.out_dim = vocab_size + dim if self.exact else dim

    def token_weights(self, ids, mask):
        """idf(id) at every real position, 0 at padding: a constant (batch, time) array."""
        table = B.asarray(self.weights, dtype=B.default_float)
        return table[ids] * mask

    def exact_part(self, ids, weights):
        """The unit tf-idf vector over the vocabulary ids: a constant (batch, vocab_size)."""
        batch = ids.shape[0]
        dense = B.xp.zeros((batch, self.vocab_size), dtype=B.default_float)
        rows = B.xp.repeat(B.xp.arange(batch), ids.shape[1]).reshape(ids.shape)
        B.scatter_add(dense, (rows, ids), weights)
        norms = B.xp.sqrt((dense * dense).sum(axis=1, keepdims=True))
        return Tensor(dense / B.xp.maximum(norms, 1e-12))

    def forward(self, ids, mask):
        ids, mask = padded_batch(ids, mask, "LexicalEncoder")
        weights = self.token_weights(ids, mask)
        words = weights * (ids < self.n_words)
        bag = ops.sum(self.embedding(ids) * Tensor(words.reshape(tuple(words.shape) + (1,))),
                      axis=1)
        learned = unit_rows(bag) * self.mix
        if not self.exact:
            return learned
        return ops.concatenate([self.exact_part(ids, weights), learned], axis=1)

    def extra_repr(self):
        return f"{self.vocab_size} ids, dim={self.dim}, exact={self.exact}"


def lexical_model(embedder, vocab, corpus, ways, dim=64, hidden=64, seed=0, max_len=None):
    """The network a learner trains with the lexical encoder (idf from the `corpus` texts).

    embedder=True (ProtoNet, Matching Networks, and MAML or Reptile with a prototype head):
    the encoder itself, exact + learned parts, no projection on top, so the learner starts as
    the baseline. embedder=False (a learned classifier head): a TextClassifier over the
    learned part only.
    """
    from .classifier import TextClassifier

    if vocab.ngram_buckets == 0:
        raise ValueError("the lexical encoder needs character n-grams: set ngram_buckets "
                         "(--ngram-buckets 32768) and a max_len that keeps them (--max-len 256)")
    weights = idf_weights(vocab, corpus, max_len)
    if embedder:
        return LexicalEncoder(len(vocab), weights, dim=dim, seed=seed)
    encoder = LexicalEncoder(len(vocab), weights, dim=dim, exact=False, seed=seed)
    return TextClassifier(len(vocab), ways, dim=dim, hidden=hidden, encoder=encoder, seed=seed)
