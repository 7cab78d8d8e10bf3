"""Turn raw text into tokens, and words into hashed character n-grams.

    tok = Tokenizer()
    tok("Don't panic: 3.5 café-owners!")   # ["don't", 'panic', ':', '3.5', 'café-owners', '!']
    char_ngrams("cat")                      # ['<ca', 'cat', 'at>', '<cat', 'cat>', '<cat>']
    hash_token("<ca", 1000)                 # the same number on every machine and every run

The n-grams give a word that was never seen in training some features anyway: "cats" shares
"<ca", "cat", "<cat" with "cat" (the fastText trick). Hashing maps the unbounded set of
n-grams onto a fixed number of buckets: $id = hash(g) \\bmod buckets$.
"""

import re
import unicodedata
import zlib


def _combining_mark_class():
    """A regex class body ("\\u0300-\\u036f...") of the combining marks of the BMP.

    Python's `\\w` leaves out combining marks: the vowel signs of Hindi ("हिन्दी"), the dot of
    a lower-cased "İ". Words must keep them, so the word pattern adds them explicitly.
    Variation selectors (U+FE00-FE0F) are marks too, but they only style the character
    before them (an emoji); the tokenizer deletes them instead.
    """
    marks = [c for c in range(0x10000)
             if unicodedata.category(chr(c)).startswith("M") and not 0xFE00 <= c <= 0xFE0F]
    ranges, start = [], marks[0]
    for previous, current in zip(marks, marks[1:]):
        if current != previous + 1:
            ranges.append((start, previous))
            start = current
    ranges.append((start, marks[-1]))
    return "".join(f"\\u{first:04x}-\\u{last:04x}" for first, last in ranges)


_MARKS = _combining_mark_class()
_WORD_CHAR = rf"[\w{_MARKS}]"                   # letter, digit, underscore or combining mark
_LETTER = rf"(?:[^\W\d_]|[{_MARKS}])"           # the same without digits and underscore
_JOINER = rf"(?:(?<={_LETTER})['-](?={_LETTER})|(?<=\d)[.,](?=\d))"
_TOKEN = re.compile(rf"{_WORD_CHAR}+(?:{_JOINER}{_WORD_CHAR}+)*|\S")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")                      # become spaces
_INVISIBLE = re.compile("[\u00ad\u200b-\u200d\u2060\ufe00-\ufe0f\ufeff]")   # are deleted


class Tokenizer:
    """Split a text into lower-cased words and single-character symbols.

    The rules, in order:

    1. Normalise: Unicode NFC (a decomposed "e" + accent becomes "é"), lower-case (unless
       `lowercase=False`), the typographic apostrophe "’" becomes "'", control characters
       become spaces, and invisible characters (soft hyphen, zero-width space and joiners,
       byte-order mark, emoji variation selectors) are deleted.
    2. A word is a run of Unicode letters, digits, underscores and combining marks, so accents
       and other scripts are part of words: "café", "naïve", "東京", "हिन्दी".
    3. An apostrophe or hyphen *between two letters* stays inside the word:
       "don't" -> ["don't"], "state-of-the-art" -> ["state-of-the-art"];
       but "'quoted'" -> ["'", "quoted", "'"] and "covid-19" -> ["covid", "-", "19"].
    4. A "." or "," *between two digits* stays inside the number: "3.5", "1,000", "v1.2";
       "42." -> ["42", "."].
    5. Every other non-space character is a token of its own: "!" , "?", "😀", "+".
       (One code point each: a flag or a family emoji becomes several tokens.)

    Examples:
        Tokenizer()("Hello, World!")     -> ['hello', ',', 'world', '!']
        Tokenizer()("")                  -> []
        Tokenizer(lowercase=False)("Hi") -> ['Hi']

    No token is empty or contains whitespace, so a vocabulary file can hold one per line.
    """

    def __init__(self, lowercase=True):
        self.lowercase = bool(lowercase)

    def tokenize(self, text, limit=None):
        """The list of tokens of `text` (a str); with `limit`, only its first `limit` tokens.

        With a limit, a long text is not normalised and scanned in full: it is cut just before
        a space (nothing on one side of a space changes the tokens on the other side), and the
        cut moves further only until the part before it holds `limit` tokens.
        """
        if not isinstance(text, str):
            raise TypeError(f"Tokenizer.tokenize expects a str, got {type(text).__name__}")
        if limit is None:
            return self._scan(text)
        size = 8 * limit + 64  # characters: a few per token, and then some
        while size < len(text):
            cut = text.rfind(" ", 0, size)
            tokens = self._scan(text[:cut]) if cut > 0 else []
            if len(tokens) >= limit:
                return tokens[:limit]
            size *= 4
        return self._scan(text)[:limit]

    def _scan(self, text):
        """All tokens of `text`: the rules of the class docstring."""
        text = unicodedata.normalize("NFC", text)
        if self.lowercase:
            text = text.lower()
        text = _INVISIBLE.sub("", _CONTROL.sub(" ", text.replace("\u2019", "'")))
        return _TOKEN.findall(text)

    __call__ = tokenize

    def __repr__(self):
        return f"Tokenizer(lowercase={self.lowercase})"


def char_ngrams(word, n_min=3, n_max=5):
    """All n-grams of "<word>" for n_min <= n <= n_max, shortest first, left to right.

    char_ngrams("cat") -> ['<ca', 'cat', 'at>', '<cat', 'cat>', '<cat>']
    The markers "<" and ">" tell a prefix or suffix from the middle of a word ("<ca" vs "ca").
    """
    if not isinstance(word, str):
        raise TypeError(f"char_ngrams expects a str, got {type(word).__name__}")
    if not 1 <= n_min <= n_max:
        raise ValueError(f"char_ngrams needs 1 <= n_min <= n_max, got n_min={n_min}, n_max={n_max}")
    marked = f"<{word}>"
    return [marked[i:i + n] for n in range(n_min, n_max + 1) for i in range(len(marked) - n + 1)]


def hash_token(s, buckets):
    """A bucket in [0, buckets) for the string `s`: CRC-32 of its UTF-8 bytes, mod `buckets`.

    Deterministic on every machine and in every run. (Python's own `hash()` of a str is salted
    per process, so a vocabulary saved by one run would hash differently in the next.)
    """
    if not isinstance(s, str):
        raise TypeError(f"hash_token expects a str, got {type(s).__name__}")
    if isinstance(buckets, bool) or not isinstance(buckets, int) or buckets < 1:
        raise ValueError(f"hash_token needs a positive integer number of buckets, got {buckets!r}")
    return zlib.crc32(s.encode("utf-8")) % buckets
