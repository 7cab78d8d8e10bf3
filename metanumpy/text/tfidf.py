"""Lexical features: tf-idf of words and character n-grams, with IDF from a corpus.

    features = LexicalFeatures().fit(train_texts)          # document frequencies of the corpus
    rows = features.transform(["book a flight", "flights to rome"])   # one {feature: weight} each
    features.cosine(rows[0], rows[1])                      # shares "<fl", "fli", "lig", ...

A text becomes two bags of features:

* its words, with punctuation dropped (a token with no letter or digit is not a word);
* the character 3- to 5-grams of each word, inside word boundaries: "cat" gives
  "<ca", "cat", "at>", "<cat", "cat>", "<cat>" (`char_ngrams`), so "flight" and "flights"
  share most of their n-grams even though they are different words.

Each bag is weighted by tf-idf, $tf(f) \\cdot idf(f)$, with the smoothed
$idf(f) = \\ln\\frac{1 + n}{1 + df(f)} + 1$ (the form of scikit-learn), where n is the number
of corpus texts and df(f) the number of them holding f. The corpus is the meta-training
text (plus any unlabelled text you have), never the 5-25 texts of a support set: a word
that is rare in general English is informative even if two support texts share it. A
feature the corpus never saw gets the largest idf, $\\ln(1 + n) + 1$.
The two bags are joined into one vector and L2-normalised, so the cosine of two texts is a
dot product. (Normalising each bag on its own, so that words and n-grams count equally,
measured a point lower on Banking77 at 1-shot: n-grams, being more numerous, rightly dominate.)
"""

from collections import Counter

import numpy as np

from .tokenizer import Tokenizer, char_ngrams


def smoothed_idf(n_texts, df):
    """$\\ln\\frac{1 + n}{1 + df} + 1$ for a feature found in `df` of `n_texts` texts (df may be
    an array): rarer features weigh more, and one in every text still counts a little."""
    return np.log((1.0 + n_texts) / (1.0 + np.asarray(df, dtype=np.float64))) + 1.0


def is_word(token):
    """True for a token with at least one letter or digit ("don't", "3.5"); False for "?"."""
    return any(c.isalnum() for c in token)


def _unit(bag):
    norm = np.sqrt(sum(w * w for w in bag.values()))
    return {f: w / norm for f, w in bag.items()} if norm > 0 else {}


class LexicalFeatures:
    """Word + character n-gram tf-idf vectors as {feature: weight} dicts (sparse).

    Features are strings: "w:flight" for a word, "c:<fl" for an n-gram, so the two kinds
    never collide. `fit(texts)` counts document frequencies (call it again to add more text);
    `transform(texts)` gives one unit vector per text.
    """

    def __init__(self, ngram_range=(3, 5), tokenizer=None):
        n_min, n_max = ngram_range
        if not 1 <= n_min <= n_max:
            raise ValueError(f"LexicalFeatures: ngram_range must be (n_min, n_max) with "
                             f"1 <= n_min <= n_max, got {ngram_range!r}")
        self.ngram_range = (int(n_min), int(n_max))
        self.tokenizer = Tokenizer() if tokenizer is None else tokenizer
        self.df = Counter()
        self.n_texts = 0
        self._cache = {}

    def bag(self, text):
        """The feature counts of one text (a Counter of "w:..." and "c:..." strings)."""
        words = [w for w in self.tokenizer(text) if is_word(w)]
        bag = Counter("w:" + w for w in words)
        for w in words:
            if w not in self._cache:
                self._cache[w] = ["c:" + g for g in char_ngrams(w, *self.ngram_range)]
            bag.update(self._cache[w])
        return bag

    def fit(self, texts):
        """Add `texts` (a list of str) to the corpus the document frequencies come from."""
        if isinstance(texts, str):
            raise TypeError("LexicalFeatures.fit takes a list of texts, got one str; wrap it")
        for text in texts:
            self.df.update(self.bag(text).keys())
            self.n_texts += 1
        return self

    def idf(self, feature):
        """$\\ln\\frac{1 + n}{1 + df} + 1$ for a feature string ("w:flight", "c:<fl")."""
        return float(smoothed_idf(self.n_texts, self.df.get(feature, 0)))

    def transform(self, texts):
        """One unit-length {feature: tf-idf weight} dict per text (empty for a text of
        punctuation only)."""
        if isinstance(texts, str):
            raise TypeError("LexicalFeatures.transform takes a list of texts, got one str")
        if self.n_texts == 0:
            raise RuntimeError("LexicalFeatures: call fit(corpus texts) before transform")
        return [_unit({f: c * self.idf(f) for f, c in self.bag(text).items()}) for text in texts]

    @staticmethod
    def matrix(rows):
        """(dense array (len(rows), F), column names): the dicts over their own F features."""
        columns = {}
        for row in rows:
            for f in row:
                columns.setdefault(f, len(columns))
        dense = np.zeros((len(rows), len(columns)))
        for r, row in enumerate(rows):
            for f, w in row.items():
                dense[r, columns[f]] = w
        return dense, list(columns)

    @staticmethod
    def cosine(a, b):
        """Cosine of two rows of `transform` (dicts)."""
        if len(a) > len(b):
            a, b = b, a
        dot = sum(w * b.get(f, 0.0) for f, w in a.items())
        na, nb = np.sqrt(sum(w * w for w in a.values())), np.sqrt(sum(w * w for w in b.values()))
        return dot / (na * nb) if na > 0 and nb > 0 else 0.0

    def __repr__(self):
        return (f"LexicalFeatures(ngram_range={self.ngram_range}, corpus of {self.n_texts} "
                f"texts, {len(self.df)} features)")
