"""Pre-train word embeddings on unlabelled text (skip-gram, negative sampling), then reuse them.

Labelled few-shot data is short and scarce, but unlabelled text of the meta-training split is
plentiful. Word2vec's skip-gram (Mikolov et al., 2013) learns from it which words occur in the
same contexts; synonyms do, so they end up close together, and every algorithm's encoder can
start from these vectors instead of random ones (meta-learning as an extension of pre-training).

Each word w has an input vector $v_w$ (the one we keep) and an output vector $u_w$. For a pair
(centre w, context c) at most `window` words apart in a sentence, and K "negative" words n_k
drawn from the unigram distribution raised to the power 3/4, the loss is

    $L = -\\log \\sigma(u_c \\cdot v_w) - \\sum_k \\log \\sigma(-u_{n_k} \\cdot v_w)$

which pulls real pairs together and pushes random pairs apart. It is written with engine ops
(`embedding`, products, sums) and trained with Adam, so no gradient is written by hand.
As in word2vec, very frequent words are randomly dropped from each epoch (subsampling).

    vectors = skipgram(texts, vocab, dim=64)          # (len(vocab), dim) host array
    save_embeddings("emb.npz", vectors, vocab)
    load_embeddings(model, vocab, "emb.npz")          # copy rows into model's embedding table
    nearest(vectors, vocab, "brasto")                 # [(word, cosine), ...]

Command line: `python -m metanumpy pretrain --tasks topics --out emb.npz`, then
`python -m metanumpy train --init emb.npz ...`. `--text FILE [FILE ...]` adds unlabelled text
you bring (one text a line) to the meta-training sentences.

Word statistics travel with the vectors: for every word of the vocabulary the file also holds
its count and its document frequency over all the pre-training texts, and their number
(`word_statistics(path)`), so an encoder can weight words by how informative they are in
general text (idf), not only in the few texts of one episode.

Special ids: <pad> never occurs in a sentence; pairs with <unk> are skipped (it stands for
every unknown word, so its neighbours say nothing) and <unk> is never drawn as a negative.
Neither is saved nor loaded: the model keeps its own zero pad row and its own <unk> row.
Only word ids are trained; hashed character n-gram rows keep their initial values.
"""

import os
import time

import numpy as np

from . import backend as B
from .autograd import functional as F
from .autograd import ops
from .checkpoint import atomic_write
from .nn import Parameter
from .optim import Adam

SPECIAL_TOKENS = ("<pad>", "<unk>")


# --- the loss -------------------------------------------------------------------------------


def log_sigmoid(x):
    """$\\log \\sigma(x) = (x - |x|) / 2 - \\log(1 + e^{-|x|})$, stable for any x.

    `log(sigmoid(x))` gives -inf once sigmoid(x) rounds to 0 (x below about -100 in float32);
    here the exponent is never positive, so nothing overflows. Its gradient is $1 - \\sigma(x)$.
    Why $(x - |x|)/2$ for $\\min(x, 0)$ and not the textbook $-\\mathrm{relu}(-x)$: at exactly
    x = 0 the engine's relu and abs both take slope 0, so that version has gradient 0 instead
    of 1/2 there; word2vec starts the output vectors at zero, every score is then exactly 0,
    and training would never start. Here the slopes at 0 are 1/2 and 0: the right 1/2.
    """
    x = ops.as_tensor(x)
    magnitude = ops.abs(x)
    return (x - magnitude) * 0.5 - ops.log(1.0 + ops.exp(-magnitude))


def sgns_loss(centre, context, negative):
    """Mean skip-gram negative-sampling loss of a batch of pairs.

    centre: (B, d) input vectors $v_w$; context: (B, d) output vectors $u_c$;
    negative: (B, K, d) output vectors $u_{n_k}$ of K sampled words per pair.
    """
    centre, context, negative = (ops.as_tensor(t) for t in (centre, context, negative))
    b, d = centre.shape
    if context.shape != (b, d) or negative.ndim != 3 or negative.shape[::2] != (b, d):
        raise ValueError(f"sgns_loss: expected centre (B, d), context (B, d) and negative "
                         f"(B, K, d), got {centre.shape}, {context.shape} and {negative.shape}")
    positive_score = ops.sum(centre * context, axis=1)                                  # (B,)
    negative_score = ops.sum(negative * ops.reshape(centre, (b, 1, d)), axis=2)         # (B, K)
    per_pair = log_sigmoid(positive_score) + ops.sum(log_sigmoid(-negative_score), axis=1)
    return -ops.mean(per_pair)


# --- the training data ------------------------------------------------------------------------


def word_ids(texts, vocab):
    """(ids, sentence) int64 host arrays: every word of every text, and the text it came from."""
    if isinstance(texts, str):
        raise TypeError("word_ids takes a list of texts, got one str; wrap it: [text]")
    ids, sentence = [], []
    for s, text in enumerate(texts):
        words = [vocab.token_to_id(w) for w in vocab.tokenizer(text)]
        ids.extend(words)
        sentence.extend([s] * len(words))
    return np.array(ids, dtype=np.int64), np.array(sentence, dtype=np.int64)


def skipgram_pairs(ids, sentence, window):
    """(centres, contexts): every ordered pair of words at most `window` apart in one sentence.

    Vectorised by offset: for o = 1..window, position i pairs with i + o (both directions)
    when both lie in the same sentence. Pairs with <unk> on either side are dropped.
    """
    centres, contexts = [], []
    for offset in range(1, window + 1):
        left, right = ids[:-offset], ids[offset:]
        same = sentence[:-offset] == sentence[offset:]
        centres += [left[same], right[same]]
        contexts += [right[same], left[same]]
    centres = np.concatenate(centres) if centres else np.zeros(0, np.int64)
    contexts = np.concatenate(contexts) if contexts else np.zeros(0, np.int64)
    known = (centres > 1) & (contexts > 1)        # 0 = <pad>, 1 = <unk>
    return centres[known], contexts[known]


def noise_distribution(ids, size, power=0.75):
    """$P(w) \\propto count(w)^{3/4}$ over `size` ids (pad and unk get 0): the negatives' law.

    The power flattens the distribution, so rare words are drawn more often than their counts
    alone would say, and "the" less often.
    """
    counts = np.bincount(ids, minlength=size).astype(np.float64)
    counts[:2] = 0.0
    if counts.sum() == 0:
        raise ValueError("skipgram: the texts contain no word of the vocabulary")
    weights = counts**power
    return weights / weights.sum()


def keep_probabilities(ids, size, threshold):
    """Word2vec's subsampling: keep each occurrence of w with probability $\\min(1, \\sqrt{t/f_w})$.

    $f_w$ is w's share of all words. Very frequent words ("the", "of") are mostly dropped, as
    they say little about their neighbours; words rarer than the threshold t are always kept.
    threshold None or 0: keep everything.
    """
    if not threshold:
        return np.ones(size)
    share = np.bincount(ids, minlength=size) / max(len(ids), 1)
    return np.minimum(1.0, np.sqrt(threshold / np.maximum(share, 1e-12)))


# --- training ------------------------------------------------------------------------------------


def skipgram(texts, vocab, dim=64, window=2, negatives=5, epochs=5, lr=0.03, batch=4096,
             subsample=1e-3, seed=0, log=print):
    """Train skip-gram with negative sampling on `texts`; return the (len(vocab), dim) $v$ vectors.

    Each epoch subsamples the words (`subsample` is word2vec's threshold t; 0 keeps all),
    pairs every kept word with the kept words at most `window` positions away in its text, and
    visits these pairs once in a random order, in mini-batches of `batch` pairs, each pair
    with `negatives` noise words. The input vectors start as N(0, 1), like the encoders'
    embedding tables, so a word missing from `texts` just keeps a fresh random vector; the
    output vectors start at zero (as in word2vec). All randomness comes from
    `numpy.random.default_rng(seed)`. Returns a host float32 NumPy array.
    """
    for name, value in (("dim", dim), ("window", window), ("negatives", negatives),
                        ("epochs", epochs), ("batch", batch)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"skipgram: {name} must be a positive integer, got {value!r}")
    rng = np.random.default_rng(seed)
    ids, sentence = word_ids(texts, vocab)
    if len(skipgram_pairs(ids, sentence, window)[0]) == 0:
        raise ValueError(f"skipgram: no pair of known words within {window} of each other in "
                         f"{len(texts)} texts")
    noise = noise_distribution(ids, len(vocab))
    keep = keep_probabilities(ids, len(vocab), subsample)

    v = Parameter(B.asarray(rng.normal(0.0, 1.0, size=(len(vocab), dim)), B.default_float))
    u = Parameter(B.xp.zeros((len(vocab), dim), dtype=B.default_float))
    optimizer = Adam([v, u], lr=lr)
    log(f"skip-gram: {len(texts)} texts, {len(ids)} words, vocabulary {len(vocab)}, "
        f"dim {dim}, {epochs} epochs")
    for epoch in range(1, epochs + 1):
        start, total = time.perf_counter(), 0.0
        kept = rng.random(len(ids)) < keep[ids]          # a fresh subsample every epoch
        centres, contexts = skipgram_pairs(ids[kept], sentence[kept], window)
        order = rng.permutation(len(centres))
        for first in range(0, len(order), batch):
            pick = order[first:first + batch]
            sampled = rng.choice(len(vocab), size=(len(pick), negatives), p=noise)
            loss = sgns_loss(F.embedding(v, centres[pick]), F.embedding(u, contexts[pick]),
                             F.embedding(u, sampled))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(pick)
        log(f"epoch {epoch}/{epochs}: loss {total / max(len(order), 1):.4f} over "
            f"{len(order)} pairs ({time.perf_counter() - start:.1f}s)")
    return np.array(B.to_numpy(v.data), dtype=np.float32)


def nearest(vectors, vocab, word, k=5):
    """The `k` words whose vectors have the largest cosine with `word`'s: [(word, cosine), ...].

    <pad>, <unk> and the word itself are left out.
    """
    vectors = np.asarray(vectors, dtype=np.float64)
    if word not in vocab or word in SPECIAL_TOKENS:
        raise KeyError(f"nearest: {word!r} is not a word of the vocabulary")
    if vectors.shape[0] < vocab.n_words:
        raise ValueError(f"nearest: {vectors.shape[0]} vectors for {vocab.n_words} words")
    words = vectors[:vocab.n_words]
    unit = words / np.maximum(np.linalg.norm(words, axis=1, keepdims=True), 1e-12)
    cosines = unit @ unit[vocab.token_to_id(word)]
    cosines[[0, 1, vocab.token_to_id(word)]] = -np.inf
    best = np.argsort(-cosines, kind="stable")[:k]
    return [(vocab.id_to_token(int(i)), float(cosines[i])) for i in best]


# --- files ---------------------------------------------------------------------------------------


def read_texts(paths):
    """Every non-blank line of the UTF-8 files `paths` (one text a line), in order.

    Raises FileNotFoundError for a missing file and ValueError naming the file and line of
    bad UTF-8, or a file with no text at all.
    """
    texts = []
    for path in paths:
        if not os.path.isfile(path):
            raise FileNotFoundError(f"text file {path} not found")
        with open(path, "rb") as f:
            lines = f.read().split(b"\n")
        found = 0
        for number, raw in enumerate(lines, start=1):
            try:
                line = raw.decode("utf-8").removeprefix("\ufeff").strip()
            except UnicodeDecodeError as err:
                raise ValueError(f"{path}, line {number}: not valid UTF-8 ({err.reason})") from None
            if line:
                texts.append(line)
                found += 1
        if not found:
            raise ValueError(f"{path} holds no text (one text a line expected)")
    return texts


def count_words(texts, vocab):
    """(counts, df, n): each vocabulary id's number of occurrences and of texts holding it,
    over `texts` (int64 arrays of len(vocab); <unk> collects unknown words), and len(texts)."""
    ids, sentence = word_ids(texts, vocab)
    counts = np.bincount(ids, minlength=len(vocab)).astype(np.int64)
    pairs = np.unique(np.stack([sentence, ids]), axis=1) if len(ids) else np.zeros((2, 0), int)
    df = np.bincount(pairs[1], minlength=len(vocab)).astype(np.int64)
    return counts, df, len(texts)


def save_embeddings(path, vectors, vocab, statistics=None):
    """Write the word rows of `vectors` to an .npz: `tokens` (str) and `vectors` (float32).

    Rows of <pad>, <unk> and of n-gram buckets are not written (see the module docstring).
    statistics: optional (counts, df, n) from `count_words`, saved for the same words.
    The file is written next to `path` and renamed over it, so it is never half-written.
    """
    vectors = np.asarray(B.to_numpy(vectors), dtype=np.float32)
    if vectors.ndim != 2 or vectors.shape[0] != len(vocab):
        raise ValueError(f"save_embeddings: expected vectors of shape ({len(vocab)}, dim) for "
                         f"the vocabulary, got {vectors.shape}")
    tokens = np.array(vocab.tokens[2:], dtype=str)
    arrays = {"tokens": tokens, "vectors": vectors[2:vocab.n_words]}
    if statistics is not None:
        counts, df, n = statistics
        arrays.update(counts=np.asarray(counts)[2:vocab.n_words],
                      df=np.asarray(df)[2:vocab.n_words], n_texts=np.int64(n))
    atomic_write(path, lambda f: np.savez(f, **arrays))


def word_statistics(path):
    """{word: (count, df)} and the number of texts, from a file `pretrain` wrote.

    idf of a word: $\\ln\\frac{1 + n}{1 + df} + 1$ (see metanumpy/text/tfidf.py).
    """
    tokens, _ = load_embedding_file(path)
    with np.load(path, allow_pickle=False) as data:
        if "df" not in data.files:
            raise ValueError(f"{path}: holds no word statistics; make it again with "
                             "`python -m metanumpy pretrain`")
        counts, df, n = data["counts"], data["df"], int(data["n_texts"])
    return {t: (int(c), int(d)) for t, c, d in zip(tokens, counts, df)}, n


def load_embedding_file(path):
    """(tokens, vectors) from a `save_embeddings` file: a list of str, an (n, dim) float32 array."""
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path} not found: make it with `python -m metanumpy pretrain "
                                f"--out {path}`")
    with np.load(path, allow_pickle=False) as data:
        missing = [key for key in ("tokens", "vectors") if key not in data.files]
        if missing:
            raise ValueError(f"{path}: not an embeddings file, missing {missing} "
                             f"(it holds {data.files})")
        tokens, vectors = data["tokens"].tolist(), data["vectors"].astype(np.float32)
    if vectors.ndim != 2 or vectors.shape[0] != len(tokens):
        raise ValueError(f"{path}: {len(tokens)} tokens but vectors of shape {vectors.shape}")
    if len(set(tokens)) != len(tokens):
        raise ValueError(f"{path}: some tokens appear twice")
    return tokens, vectors


def embedding_tables(model):
    """The (name, Parameter) pairs of `model` whose name ends with "embedding.weight"."""
    tables = [(n, p) for n, p in model.named_parameters() if n.endswith("embedding.weight")]
    if not tables:
        names = [n for n, _ in model.named_parameters()]
        raise ValueError(f"load_embeddings: {type(model).__name__} has no parameter named "
                         f"'...embedding.weight' (it has {names})")
    return tables


def load_embeddings(model, vocab, path):
    """Copy the file's vectors into the model's embedding table(s), matching rows by token.

    A row whose word is not in the file (and the <pad> and <unk> rows) keeps its value. This is
    initialisation, not training: the Parameter's `.data` is replaced, no graph is built.
    Returns the number of rows copied (summed over tables, if the model has several).
    """
    tokens, vectors = load_embedding_file(path)
    file_rows = [i for i, t in enumerate(tokens) if t in vocab and t not in SPECIAL_TOKENS]
    model_rows = np.array([vocab.token_to_id(tokens[i]) for i in file_rows], dtype=np.int64)
    if not file_rows:
        raise ValueError(f"load_embeddings: none of the {len(tokens)} words in {path} is in the "
                         f"vocabulary; was it pretrained on other tasks or with another --seed?")
    copied = 0
    for name, table in embedding_tables(model):
        if table.shape[0] != len(vocab):
            raise ValueError(f"load_embeddings: {name} has {table.shape[0]} rows but the "
                             f"vocabulary has {len(vocab)} ids: is it the model's vocabulary?")
        if table.shape[1] != vectors.shape[1]:
            raise ValueError(f"load_embeddings: {path} holds vectors of dim {vectors.shape[1]} "
                             f"but {name} has dim {table.shape[1]}; pretrain with "
                             f"--dim {table.shape[1]} or train with --dim {vectors.shape[1]}")
        host = np.array(B.to_numpy(table.data), copy=True)
        host[model_rows] = vectors[file_rows]
        table.data = B.asarray(host, dtype=table.dtype)
        copied += len(model_rows)
    return copied


# --- the command line ---------------------------------------------------------------------------


def probe_words(vocab, n=4):
    """`n` words spread over the frequent half of the vocabulary, to show their neighbours.

    The most frequent 10% are skipped: in most corpora they are function words ("the", "of").
    """
    words = vocab.tokens[2:]
    ranks = np.linspace(0.1, 0.5, n) * len(words)
    return [words[int(r)] for r in ranks] if words else []


def pretrain(source, vocab, out, sentences=20000, seed=0, show=None, log=print, texts=(),
             **options):
    """`python -m metanumpy pretrain`: skip-gram on `sentences` unlabelled meta-training texts
    plus `texts` (unlabelled text you bring, e.g. from `read_texts`).

    source: a TextSource (its `unlabelled` never returns val/test text); vocab: the vocabulary
    that `train` will use; options go to `skipgram`. Saves the vectors and the word
    statistics of all these texts to `out`, prints a few neighbours, returns the vectors.
    """
    unknown = [w for w in show or () if w not in vocab or w in SPECIAL_TOKENS]
    if unknown:
        raise ValueError(f"pretrain: cannot show neighbours of {unknown}: not in the vocabulary")
    texts = source.unlabelled(sentences, seed=seed) + list(texts)
    vectors = skipgram(texts, vocab, seed=seed, log=log, **options)
    save_embeddings(out, vectors, vocab, count_words(texts, vocab))
    log(f"saved {vocab.n_words - 2} word vectors and their statistics over {len(texts)} texts "
        f"to {out}")
    for word in show or probe_words(vocab):
        neighbours = ", ".join(f"{w} {c:.2f}" for w, c in nearest(vectors, vocab, word))
        log(f"  nearest to {word}: {neighbours}")
    return vectors
