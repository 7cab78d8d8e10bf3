"""A vocabulary: words <-> integer ids, and padded `ids` + `mask` batches for the encoders.

    vocab = Vocab.build(train_texts, min_count=2)    # from the meta-training split only
    ids, mask = vocab.encode(["a good film", "bad"])
    # ids  = [[w_a, w_good, w_film], [w_bad, 0, 0]]     int64, 0 is <pad>
    # mask = [[1, 1, 1], [1, 0, 0]]                        float32, 1 marks a real token

Id layout: 0 = <pad>, 1 = <unk> (any word not in the vocabulary), then the words by descending
count (ties alphabetical, so the same texts always give the same ids), then, with
`ngram_buckets=K`, K ids for hashed character n-grams: $id(g) = n\\_words + hash(g) \\bmod K$.

The arrays are host NumPy arrays: `mn.tensor(ids)` moves them to the current backend.
"""

from collections import Counter
from pathlib import Path

import numpy as np

from .tokenizer import Tokenizer, char_ngrams, hash_token

_MAGIC = "# metanumpy-vocab v1"
_SETTINGS = ("ngram_buckets", "ngram_min", "ngram_max", "lowercase")


def _check_int(name, value, minimum):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"Vocab: {name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _check_texts(texts, where):
    if isinstance(texts, str):
        raise TypeError(f"Vocab.{where} takes a list of texts, got one str; wrap it: [text]")
    return list(texts)


def _words(tokenizer, text, limit):
    """The first `limit` tokens of `text` (all with None); a metanumpy Tokenizer stops early."""
    if isinstance(tokenizer, Tokenizer):
        return tokenizer.tokenize(text, limit)
    return tokenizer(text)[:limit]


class Vocab:
    """Token <-> id maps plus the settings needed to encode text the same way later."""

    PAD = 0
    UNK = 1
    PAD_TOKEN = "<pad>"
    UNK_TOKEN = "<unk>"

    def __init__(self, tokens, tokenizer=None, ngram_buckets=0, ngram_range=(3, 5)):
        """`tokens` lists every word in id order, starting with "<pad>", "<unk>" (use `build`)."""
        tokens = list(tokens)
        if tokens[:2] != [self.PAD_TOKEN, self.UNK_TOKEN]:
            raise ValueError(f"Vocab: tokens must start with '<pad>', '<unk>', got {tokens[:2]}")
        for i, token in enumerate(tokens):
            if not isinstance(token, str) or token == "" or "\n" in token or "\r" in token:
                raise ValueError(f"Vocab: token {i} ({token!r}) must be a non-empty str "
                                 "without line breaks (the vocabulary file has one per line)")
        self._tokens = tokens
        self._ids = {token: i for i, token in enumerate(tokens)}
        if len(self._ids) != len(tokens):
            duplicates = sorted(t for t, c in Counter(tokens).items() if c > 1)
            raise ValueError(f"Vocab: duplicate tokens {duplicates[:5]}")
        self.tokenizer = Tokenizer() if tokenizer is None else tokenizer
        self.ngram_buckets = _check_int("ngram_buckets", ngram_buckets, 0)
        n_min, n_max = ngram_range
        if not 1 <= n_min <= n_max:
            raise ValueError("Vocab: ngram_range must be (n_min, n_max) with "
                             f"1 <= n_min <= n_max, got {ngram_range!r}")
        self.ngram_range = (int(n_min), int(n_max))
        self._ngram_cache = {}

    @classmethod
    def build(cls, texts, tokenizer=None, min_count=1, max_size=None, ngram_buckets=0,
              ngram_range=(3, 5), max_len=None):
        """Count the words of `texts` (the training texts only) and give each kept word an id.

        min_count: drop words seen fewer times. max_size: at most this many ids, counting
        <pad> and <unk> but not the n-gram buckets (the rarest words are dropped).
        max_len: count only the first `max_len` words of each text, the ones that
        `encode(texts, max_len)` keeps (a word the model never sees needs no id).
        """
        texts = _check_texts(texts, "build")
        tokenizer = Tokenizer() if tokenizer is None else tokenizer
        min_count = _check_int("min_count", min_count, 1)
        if max_len is not None:
            max_len = _check_int("max_len", max_len, 1)
        counts = Counter()
        for text in texts:
            counts.update(_words(tokenizer, text, max_len))
        words = sorted((w for w, c in counts.items() if c >= min_count),
                       key=lambda w: (-counts[w], w))
        if max_size is not None:
            words = words[:_check_int("max_size", max_size, 2) - 2]
        return cls([cls.PAD_TOKEN, cls.UNK_TOKEN] + words, tokenizer, ngram_buckets, ngram_range)

    # --- lookups --------------------------------------------------------------------------

    @property
    def n_words(self):
        """Number of word ids, <pad> and <unk> included (n-gram buckets excluded)."""
        return len(self._tokens)

    @property
    def tokens(self):
        """The words in id order (a copy): tokens[0] == "<pad>", tokens[1] == "<unk>"."""
        return list(self._tokens)

    def __len__(self):
        """Number of ids, n-gram buckets included: the row count of an embedding table."""
        return self.n_words + self.ngram_buckets

    def __contains__(self, token):
        return token in self._ids

    def token_to_id(self, token):
        """The id of a word, or UNK (1) for a word not in the vocabulary."""
        return self._ids.get(token, self.UNK)

    def id_to_token(self, i):
        """The word with id `i`; an n-gram bucket id gives a placeholder such as "<ngram 17>"."""
        if isinstance(i, bool) or not isinstance(i, (int, np.integer)) or not 0 <= i < len(self):
            raise IndexError(f"Vocab.id_to_token: id {i!r} is not in [0, {len(self)})")
        return self._tokens[i] if i < self.n_words else f"<ngram {i - self.n_words}>"

    # --- encoding -------------------------------------------------------------------------

    def _ngram_ids(self, word):
        """Hashed n-gram ids of one word, cached (the same words come back again and again)."""
        if word not in self._ngram_cache:
            self._ngram_cache[word] = [self.n_words + hash_token(g, self.ngram_buckets)
                                       for g in char_ngrams(word, *self.ngram_range)]
        return self._ngram_cache[word]

    def encode_one(self, text, max_len=None):
        """The ids of one text: its word ids, then (with n-gram buckets) its words' n-gram ids.

        max_len: tokenise no further than the first `max_len` words (the caller cuts the ids).
        """
        words = _words(self.tokenizer, text, max_len)
        lookup = self._ids.get
        ids = [lookup(w, self.UNK) for w in words]  # token_to_id, without a call per word
        if self.ngram_buckets:
            for w in words:
                ids.extend(self._ngram_ids(w))
        return ids

    def encode(self, texts, max_len=None):
        """A padded batch: `ids` int64 (B, T) and `mask` float32 (B, T), host NumPy arrays.

        T is the longest encoded text, capped at `max_len`, at least 1 (an empty text gives an
        all-zero mask row). `max_len` cuts the final sequence, words first: with n-grams a
        long text may lose some or all of its n-gram ids, never its first words.
        """
        texts = _check_texts(texts, "encode")
        if max_len is not None:
            max_len = _check_int("max_len", max_len, 1)
        rows = [self.encode_one(text, max_len)[:max_len] for text in texts]
        ### BEGIN SOLUTION task2_2: pad rows with PAD to (B, T) ids; mask is 1 on real tokens
        width = max([1] + [len(row) for row in rows])
        ids = np.full((len(rows), width), self.PAD, dtype=np.int64)
        mask = np.zeros((len(rows), width), dtype=np.float32)
        for r, row in enumerate(rows):
            ids[r, :len(row)] = row
            mask[r, :len(row)] = 1.0
        return ids, mask
        ### END SOLUTION

    def decode(self, ids):
        """The words of one sequence of ids, joined by spaces; pad and n-gram ids are skipped."""
        if getattr(ids, "ndim", 1) != 1:
            raise ValueError(f"Vocab.decode takes one sequence of ids, got shape {ids.shape}; "
                             "decode a batch row by row")
        ngram_ids = range(self.n_words, len(self))
        return " ".join(self.id_to_token(i) for i in map(int, ids)
                        if i != self.PAD and i not in ngram_ids)

    # --- files ----------------------------------------------------------------------------

    def save(self, path):
        """Write a UTF-8 text file: one header line of settings, then one token per line."""
        if not isinstance(self.tokenizer, Tokenizer):
            raise TypeError(f"Vocab.save can only record a metanumpy Tokenizer, "
                            f"not a {type(self.tokenizer).__name__}")
        n_min, n_max = self.ngram_range
        header = (f"{_MAGIC} ngram_buckets={self.ngram_buckets} ngram_min={n_min} "
                  f"ngram_max={n_max} lowercase={int(self.tokenizer.lowercase)}")
        with open(path, "w", encoding="utf-8", newline="\n") as f:
            f.write("\n".join([header] + self._tokens) + "\n")

    @classmethod
    def load(cls, path):
        """Read a file written by `save`; a malformed file raises ValueError naming the line."""
        raw = Path(path).read_bytes()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as err:
            line = raw.count(b"\n", 0, err.start) + 1
            raise ValueError(f"{path}, line {line}: not valid UTF-8 ({err.reason})") from None
        lines = [line.removesuffix("\r") for line in text.split("\n")]
        if lines[-1] == "":
            lines.pop()
        settings = cls._parse_header(path, lines[0] if lines else "")
        tokens, seen = lines[1:], {}
        expected = {2: cls.PAD_TOKEN, 3: cls.UNK_TOKEN}
        for lineno, token in enumerate(tokens, start=2):
            if lineno in expected and token != expected[lineno]:
                raise ValueError(f"{path}, line {lineno}: expected {expected[lineno]!r}, "
                                 f"got {token!r}")
            if token == "" or "\r" in token:
                raise ValueError(f"{path}, line {lineno}: a token cannot be empty or hold a "
                                 f"line break, got {token!r}")
            if token in seen:
                raise ValueError(f"{path}, line {lineno}: token {token!r} repeats "
                                 f"line {seen[token]}")
            seen[token] = lineno
        if len(tokens) < 2:
            raise ValueError(f"{path}, line {len(lines) + 1}: missing '<pad>' and '<unk>' lines")
        return cls(tokens, Tokenizer(lowercase=settings["lowercase"]), settings["ngram_buckets"],
                   (settings["ngram_min"], settings["ngram_max"]))

    @staticmethod
    def _parse_header(path, header):
        """{"ngram_buckets": 0, ...} from the first line, or ValueError naming line 1."""
        if not header.startswith(_MAGIC + " "):
            raise ValueError(f"{path}, line 1: expected a header starting with {_MAGIC!r}, "
                             f"got {header[:60]!r}")
        settings = {}
        for field in header[len(_MAGIC):].split():
            key, _, value = field.partition("=")
            if key not in _SETTINGS or not (value.isascii() and value.isdigit()) or key in settings:
                raise ValueError(f"{path}, line 1: bad setting {field!r} "
                                 f"(expected {'=N, '.join(_SETTINGS)}=N, each once)")
            settings[key] = int(value)
        missing = [key for key in _SETTINGS if key not in settings]
        if missing:
            raise ValueError(f"{path}, line 1: missing settings {missing}")
        if not 1 <= settings["ngram_min"] <= settings["ngram_max"] or settings["lowercase"] > 1:
            raise ValueError(f"{path}, line 1: need 1 <= ngram_min <= ngram_max and lowercase "
                             f"0 or 1, got {header[len(_MAGIC) + 1:]!r}")
        return settings

    def __repr__(self):
        return (f"Vocab(n_words={self.n_words}, ngram_buckets={self.ngram_buckets}, "
                f"ngram_range={self.ngram_range})")
