import numpy as np
import pytest

from metanumpy.text import Tokenizer, Vocab, char_ngrams, hash_token

# --- tokenizer ----------------------------------------------------------------------------

TOKENIZER_CASES = [
    ("", []),
    ("   \t\n  ", []),
    ("?!...", ["?", "!", ".", ".", "."]),
    ("Hello, World!", ["hello", ",", "world", "!"]),
    ("MiXeD CaSe", ["mixed", "case"]),
    ("café naïve", ["café", "naïve"]),
    ("cafe\u0301", ["café"]),                                  # decomposed accent, NFC-joined
    ("東京 is big", ["東京", "is", "big"]),
    ("Привет, мир", ["привет", ",", "мир"]),
    ("हिन्दी-भाषा", ["हिन्दी-भाषा"]),                              # vowel signs stay in the word
    ("I ❤️ NLP 😀!", ["i", "❤", "nlp", "😀", "!"]),
    ("don't", ["don't"]),
    ("don\u2019t", ["don't"]),
    ("state-of-the-art", ["state-of-the-art"]),
    ("'quoted' -dash- covid-19", ["'", "quoted", "'", "-", "dash", "-", "covid", "-", "19"]),
    ("3.5 1,000 42", ["3.5", "1,000", "42"]),
    ("42. 3,", ["42", ".", "3", ","]),
    ("line one\nline\ttwo\r\n", ["line", "one", "line", "two"]),
    ("a\x00b\x07c", ["a", "b", "c"]),                           # control characters separate
    ("zero\u200bwidth soft\u00adhyphen", ["zerowidth", "softhyphen"]),
    ("snake_case_name", ["snake_case_name"]),
]


@pytest.mark.parametrize("text, expected", TOKENIZER_CASES)
def test_tokenizer_on_tricky_strings(text, expected):
    assert Tokenizer().tokenize(text) == expected
    assert Tokenizer()(text) == expected


def test_tokenizer_can_keep_case():
    assert Tokenizer(lowercase=False)("Hello World") == ["Hello", "World"]


def test_tokenizer_on_very_long_strings():
    assert Tokenizer()("ab, " * 100_000) == ["ab", ","] * 100_000
    assert Tokenizer()("x-" * 100_000) == ["x-" * 99_999 + "x", "-"]
    assert Tokenizer()("a" * 1_000_000) == ["a" * 1_000_000]


@pytest.mark.parametrize("bad", [None, 42, b"bytes", ["a list"]])
def test_tokenizer_rejects_non_strings_naming_the_type(bad):
    with pytest.raises(TypeError, match=type(bad).__name__):
        Tokenizer()(bad)


def test_char_ngrams_of_a_short_word():
    assert char_ngrams("cat") == ["<ca", "cat", "at>", "<cat", "cat>", "<cat>"]
    assert char_ngrams("a", 2, 3) == ["<a", "a>", "<a>"]
    with pytest.raises(ValueError, match="n_min"):
        char_ngrams("cat", 4, 3)


def test_hash_token_is_stable_and_in_range():
    assert hash_token("cat", 1_000_000) == 977832          # CRC-32, the same in every process
    assert hash_token("東京", 2**32) == 2451981039
    assert all(0 <= hash_token(g, 7) < 7 for g in char_ngrams("internationalisation"))
    with pytest.raises(ValueError, match="buckets"):
        hash_token("cat", 0)


# --- vocabulary ---------------------------------------------------------------------------


def test_ids_ordered_by_count_then_alphabet():
    vocab = Vocab.build(["b a a", "c b a", "d"])
    assert vocab.tokens == ["<pad>", "<unk>", "a", "b", "c", "d"]
    assert (Vocab.PAD, Vocab.UNK) == (0, 1)
    assert [vocab.token_to_id(t) for t in "abcd"] == [2, 3, 4, 5]
    assert vocab.id_to_token(3) == "b"
    assert len(vocab) == vocab.n_words == 6
    assert "c" in vocab and "zebra" not in vocab


def test_min_count_and_max_size():
    texts = ["b a a", "c b a", "d"]
    assert Vocab.build(texts, min_count=2).tokens == ["<pad>", "<unk>", "a", "b"]
    assert Vocab.build(texts, max_size=3).tokens == ["<pad>", "<unk>", "a"]
    with pytest.raises(ValueError, match="max_size"):
        Vocab.build(texts, max_size=1)


def test_unknown_words_map_to_unk():
    vocab = Vocab.build(["the cat"])
    assert vocab.token_to_id("dog") == Vocab.UNK
    assert vocab.encode_one("The dog") == [vocab.token_to_id("the"), Vocab.UNK]


def test_no_texts_or_empty_texts_give_pad_and_unk_only():
    for texts in ([], ["", "   "]):
        vocab = Vocab.build(texts)
        assert vocab.tokens == ["<pad>", "<unk>"]
        assert vocab.encode_one("anything") == [Vocab.UNK]


@pytest.mark.task2_2
def test_padding_and_masks_of_a_batch():
    vocab = Vocab.build(["the cat sat", "the dog"])       # the=2, cat=3, dog=4, sat=5
    ids, mask = vocab.encode(["the cat sat", "dog", "The bird"])
    assert ids.dtype == np.int64 and mask.dtype == np.float32
    np.testing.assert_array_equal(ids, [[2, 3, 5], [4, 0, 0], [2, 1, 0]])
    np.testing.assert_array_equal(mask, [[1, 1, 1], [1, 0, 0], [1, 1, 0]])


@pytest.mark.task2_2
def test_truncation_and_empty_rows():
    vocab = Vocab.build(["the cat sat"])                  # ties: cat=2, sat=3, the=4
    ids, mask = vocab.encode(["the cat sat", "cat"], max_len=2)
    np.testing.assert_array_equal(ids, [[4, 2], [2, 0]])
    np.testing.assert_array_equal(mask, [[1, 1], [1, 0]])
    ids, mask = vocab.encode(["", "  "])
    np.testing.assert_array_equal(ids, [[0], [0]])
    np.testing.assert_array_equal(mask, [[0], [0]])
    assert vocab.encode([])[0].shape == (0, 1)


def test_encode_rejects_a_single_string_and_bad_max_len():
    vocab = Vocab.build(["the cat"])
    with pytest.raises(TypeError, match="list of texts"):
        vocab.encode("the cat")
    with pytest.raises(ValueError, match="max_len"):
        vocab.encode(["the cat"], max_len=0)


def test_decode_skips_padding_and_ngrams():
    vocab = Vocab.build(["the cat sat"], ngram_buckets=50)
    ids, _ = vocab.encode(["the cat", "the fish sat"])
    assert vocab.decode(ids[0]) == "the cat"
    assert vocab.decode(ids[1]) == "the <unk> sat"
    assert vocab.id_to_token(vocab.n_words + 7) == "<ngram 7>"
    with pytest.raises(IndexError, match="not in"):
        vocab.id_to_token(len(vocab))


def test_ngram_ids_follow_the_words_and_stay_in_range():
    vocab = Vocab.build(["the cat sat"], ngram_buckets=100)
    assert len(vocab) == vocab.n_words + 100
    ids = vocab.encode_one("cat sat")
    expected = [vocab.token_to_id("cat"), vocab.token_to_id("sat")] + [
        vocab.n_words + hash_token(g, 100) for w in ("cat", "sat") for g in char_ngrams(w)]
    assert ids == expected
    assert all(vocab.n_words <= i < len(vocab) for i in ids[2:])
    batch, mask = vocab.encode(["cat sat"], max_len=3)     # max_len counts words first
    assert batch.tolist() == [ids[:3]] and mask.sum() == 3


def test_an_unseen_word_shares_ngram_ids_with_a_seen_one():
    vocab = Vocab.build(["my cat"], ngram_buckets=10_000)
    cat_ids, cats_ids = vocab.encode_one("cat")[1:], vocab.encode_one("cats")[1:]
    assert vocab.encode_one("cats")[0] == Vocab.UNK
    shared = {vocab.n_words + hash_token(g, 10_000) for g in ("<ca", "cat", "<cat")}
    assert shared <= set(cat_ids) & set(cats_ids)


def test_build_rejects_tokens_with_line_breaks():
    with pytest.raises(ValueError, match="line breaks"):
        Vocab.build(["a b"], tokenizer=lambda text: ["a\nb"])


def test_save_and_load_round_trip(tmp_path):
    vocab = Vocab.build(["Les chats naïfs", "the cat's hat!"], ngram_buckets=64,
                        tokenizer=Tokenizer(lowercase=False), ngram_range=(2, 4))
    path = tmp_path / "vocab.txt"
    vocab.save(path)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "# metanumpy-vocab v1 ngram_buckets=64 ngram_min=2 ngram_max=4 lowercase=0"
    assert lines[1:] == vocab.tokens
    loaded = Vocab.load(path)
    texts = ["Les chats", "the hat of a naïve cat!", ""]
    for a, b in zip(vocab.encode(texts, max_len=20), loaded.encode(texts, max_len=20)):
        np.testing.assert_array_equal(a, b)
    assert loaded.tokens == vocab.tokens and len(loaded) == len(vocab)


HEADER = "# metanumpy-vocab v1 ngram_buckets=0 ngram_min=3 ngram_max=5 lowercase=1\n"
MALFORMED = [
    ("", 1, "header"),
    ("hello\n<pad>\n<unk>\n", 1, "header"),
    (HEADER.replace(" lowercase=1", "") + "<pad>\n<unk>\n", 1, "missing"),
    (HEADER.replace("buckets=0", "buckets=x"), 1, "bad setting"),
    (HEADER.replace("ngram_min=3", "ngram_min=0") + "<pad>\n<unk>\n", 1, "ngram_min"),
    (HEADER + "<unk>\n", 2, "<pad>"),
    (HEADER + "<pad>\n", 3, "<unk>"),
    (HEADER + "<pad>\n<unk>\na\n\nb\n", 5, "empty"),
    (HEADER + "<pad>\n<unk>\na\nb\na\n", 6, "repeats line 4"),
]


@pytest.mark.parametrize("content, line, message", MALFORMED)
def test_malformed_file_names_file_and_line(tmp_path, content, line, message):
    path = tmp_path / "bad_vocab.txt"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ValueError, match=f"line {line}:") as err:
        Vocab.load(path)
    assert str(path) in str(err.value) and message in str(err.value)


def test_invalid_utf8_names_the_line(tmp_path):
    path = tmp_path / "bad_vocab.txt"
    path.write_bytes(HEADER.encode() + b"<pad>\n<unk>\ncaf\xe9\n")
    with pytest.raises(ValueError, match="line 4: not valid UTF-8"):
        Vocab.load(path)


TRICKY_PIECES = ["don't", "state-of-the-art", "3.5", "1,000", "café", "e\u0301", "\u0301", "ΟΣ",
                 "İ", "\u200b", "\u00ad", " ", "  ", "\t", "\n", "-", "'", ".", ",", "x", "東京",
                 "😀", "b1", "42.", "\u2019", "\x07"]


def test_a_token_limit_gives_the_first_tokens_of_the_whole_text():
    """tokenize(text, limit) == tokenize(text)[:limit], though only a prefix is scanned."""
    rng = np.random.default_rng(0)
    tok = Tokenizer()
    for _ in range(300):
        text = "".join(TRICKY_PIECES[i] for i in rng.integers(len(TRICKY_PIECES), size=300))
        full = tok(text)
        for limit in (1, 2, 5, 13, 40, 500):
            assert tok(text, limit) == full[:limit], (text, limit)
    assert tok("word " * 1000 + "x" * 10, 3) == ["word"] * 3
    assert tok("no-spaces-at-all-" * 100, 2) == tok("no-spaces-at-all-" * 100)[:2]


def test_a_long_text_is_tokenised_only_as_far_as_needed():
    """Encoding the first 8 words of a 2 MB text must not scan the whole text."""
    seen = []

    class Counting(Tokenizer):
        def _scan(self, text):
            seen.append(len(text))
            return super()._scan(text)

    vocab = Vocab.build(["a b c"], tokenizer=Counting())
    seen.clear()
    vocab.encode(["a b c " * 350_000], max_len=8)
    assert sum(seen) < 10_000


def test_build_counts_only_the_words_max_len_keeps():
    texts = ["a b c d e f", "a b x y"]
    assert Vocab.build(texts, max_len=2).tokens == ["<pad>", "<unk>", "a", "b"]
    assert len(Vocab.build(texts)) == 2 + 8
