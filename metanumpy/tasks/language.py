"""The small generative language behind the built-in task families.

Why learning to learn matters on these tasks, in three ingredients:

1. Concepts and synonyms. The language has a few hundred latent *concepts*; each is written
   with several synonymous pseudo-words ("brasto", "tirel", "doumek" may all mean the same).
   A sentence picks a concept, then one of its words at random. Two sentences about the same
   thing therefore share concepts far more often than words: a 1-shot support sentence and
   its query may have no word in common, and raw bag-of-words matching fails. An encoder that
   has learnt on the meta-training classes which words mean the same thing succeeds.
2. Shared concepts. Every split draws on the same concepts (an unseen test class is a new
   *combination* of known concepts), so what the encoder learnt transfers to it.
3. Noise. Frequent filler words ("the", "of") and stray concepts carry no class information.

Building blocks (the families in topics.py, sentiment.py and crossdomain.py combine them):

    pseudo_words(rng, n)          n distinct word-like strings made of syllables
    make_lexicon(rng, n, k)       n concepts, each written with k synonymous pseudo-words
    WordMixture                   a probability distribution over surface words
    SentenceModel                 one class: each token picks a part (fillers, topic, noise)
                                  by its share, then a word from that part's mixture
    concept_sets(rng, n, pool, k) n sets of k distinct concepts, each concept used equally often
    generated_source(...)         sample every class and wrap the result as a TextSource

Everything random comes from one `numpy.random.default_rng(seed)`, consumed in a fixed
order (lists and dicts, never set iteration or Python's salted `hash`), so the same seed
gives the same sentences on every machine.
"""

from dataclasses import dataclass

import numpy as np

from .source import TextSource

ONSETS = ("b", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z",
          "br", "dr", "gr", "pl", "st", "tr", "sh", "ch")
VOWELS = ("a", "e", "i", "o", "u", "a", "e", "i", "o", "u", "ai", "ou")
CODAS = ("", "", "", "", "n", "r", "l", "s", "m", "t", "k")


def check_count(name, value, minimum=1):
    """`value` as an int if it is an integer >= minimum; ValueError naming the knob otherwise."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def pseudo_words(rng, n, taken=()):
    """`n` distinct pronounceable pseudo-words ("brasto", "doumek"), none of them in `taken`.

    A word is 2 syllables (75%) or 3, each an onset and a vowel, plus an optional final coda.
    """
    taken, words = set(taken), []
    while len(words) < n:
        m = 2 * (n - len(words)) + 8                      # candidates; a few collide
        n_syllables = rng.choice((2, 3), size=m, p=(0.75, 0.25))
        onsets = rng.integers(len(ONSETS), size=(m, 3))
        vowels = rng.integers(len(VOWELS), size=(m, 3))
        codas = rng.integers(len(CODAS), size=m)
        for i in range(m):
            k = n_syllables[i]
            word = "".join(ONSETS[o] + VOWELS[v] for o, v in zip(onsets[i, :k], vowels[i, :k]))
            word += CODAS[codas[i]]
            if word not in taken:
                taken.add(word)
                words.append(word)
                if len(words) == n:
                    break
    return words


def make_lexicon(rng, n_concepts, synonyms, taken=()):
    """A list of `n_concepts` tuples, each the `synonyms` surface words of one concept."""
    words = pseudo_words(rng, n_concepts * synonyms, taken)
    return [tuple(words[c * synonyms:(c + 1) * synonyms]) for c in range(n_concepts)]


@dataclass(frozen=True, eq=False)
class WordMixture:
    """A probability distribution over surface words: `words[i]` has probability `probs[i]`."""

    words: tuple
    probs: np.ndarray

    @classmethod
    def uniform(cls, words):
        return cls(tuple(words), np.full(len(words), 1.0 / len(words)))

    @classmethod
    def zipf(cls, words, exponent=1.0):
        """$p_i \\propto 1 / (i + 1)^s$: the first words are the most frequent, as in real text."""
        weights = 1.0 / np.arange(1, len(words) + 1) ** exponent
        return cls(tuple(words), weights / weights.sum())

    @classmethod
    def of_concepts(cls, lexicon, concepts, weights=None):
        """Pick a concept by `weights` (uniform if None), then one of its synonyms uniformly."""
        weights = np.ones(len(concepts)) if weights is None else np.asarray(weights, float)
        weights = weights / weights.sum()
        words = [w for c in concepts for w in lexicon[c]]
        probs = np.concatenate([np.full(len(lexicon[c]), p / len(lexicon[c]))
                                for c, p in zip(concepts, weights)])
        return cls(tuple(words), probs)

    @classmethod
    def combine(cls, weighted):
        """One mixture from [(weight, mixture), ...]: pick a mixture by weight, then a word."""
        total = sum(w for w, _ in weighted)
        words = tuple(word for _, m in weighted for word in m.words)
        probs = np.concatenate([m.probs * (w / total) for w, m in weighted])
        return cls(words, probs)


class SentenceModel:
    """How one class writes sentences.

    parts:    ((share, WordMixture), ...): each token picks a part with probability share
              (shares are normalised), then a word from that part's mixture.
    length:   (shortest, longest) number of tokens, drawn uniformly per sentence.
    required: index of a part that appears at least once in every sentence (the part that
              carries the label), or None.
    """

    def __init__(self, parts, length=(6, 12), required=None):
        shortest, longest = length
        if not 1 <= shortest <= longest:
            raise ValueError(f"sentence length must be (shortest, longest) with "
                             f"1 <= shortest <= longest, got {length!r}")
        shares = np.array([share for share, _ in parts], dtype=float)
        if np.any(shares < 0) or shares.sum() <= 0:
            raise ValueError(f"part shares must be >= 0 with a positive sum, got {shares.tolist()}")
        self.parts, self.length, self.required = tuple(parts), (shortest, longest), required
        self.shares = shares / shares.sum()
        sizes = [len(m.words) for _, m in self.parts]
        self.offsets = np.cumsum([0] + sizes[:-1])              # where each part's words start
        self.vocabulary = np.array([w for _, m in self.parts for w in m.words], dtype=object)

    def sample(self, rng, n):
        """`n` sentences (str), each a space-separated sequence of words."""
        if n == 0:
            return []
        shortest, longest = self.length
        lengths = rng.integers(shortest, longest + 1, size=n)
        kinds = rng.choice(len(self.parts), size=(n, longest), p=self.shares)
        if self.required is not None:
            kinds[np.arange(n), rng.integers(0, lengths)] = self.required
        picks = [rng.choice(len(m.words), size=(n, longest), p=m.probs) for _, m in self.parts]
        ids = self.offsets[kinds] + np.choose(kinds, picks)
        return [" ".join(self.vocabulary[ids[i, :lengths[i]]]) for i in range(n)]


def concept_sets(rng, n_sets, pool, size):
    """`n_sets` lists of `size` distinct concepts from `pool`, each concept used equally often.

    The sets are cut, in turn, from shuffled copies of the pool laid end to end, so every
    concept of the pool appears once `n_sets * size >= len(pool)`. A set that straddles two
    copies may repeat a concept; the repeat is replaced by a random other one.
    """
    pool = [int(c) for c in pool]
    if size > len(pool):
        raise ValueError(f"cannot draw {size} distinct concepts from a pool of {len(pool)}")
    copies = -(-n_sets * size // len(pool))
    stream = [int(c) for _ in range(copies) for c in rng.permutation(pool)]
    sets = []
    for i in range(n_sets):
        chosen = stream[i * size:(i + 1) * size]
        for j in range(size):
            while chosen[j] in chosen[:j]:
                chosen[j] = pool[rng.integers(len(pool))]
        sets.append(chosen)
    return sets


def generated_source(name, models, per_class, rng, groups=None, group_episodes=False):
    """Sample `per_class` sentences of every class and wrap them as a TextSource.

    models: {"train"|"val"|"test": {class_name: SentenceModel}}; the models are kept so that
    `source.unlabelled(n)` can write fresh meta-train sentences.
    """
    per_class = check_count("per_class", per_class)
    splits = {split: {c: model.sample(rng, per_class) for c, model in by_class.items()}
              for split, by_class in models.items()}
    generators = {c: model for by_class in models.values() for c, model in by_class.items()}
    return TextSource(name, splits, groups, group_episodes, generators)
