"""Skip-gram pre-training: the loss's derivatives, what it learns, the file, and the copy."""

import numpy as np
import pytest

import metanumpy as mn
from metanumpy.cli import main
from metanumpy.experiment import Experiment
from metanumpy.pretrain import (
    load_embedding_file, load_embeddings, log_sigmoid, nearest, save_embeddings, sgns_loss,
    skipgram, skipgram_pairs, word_ids, word_statistics,
)
from metanumpy.text import TextClassifier, TextEmbedder, Vocab


def quiet(*args):
    pass


def float64(rng, *shape):
    return mn.tensor(rng.normal(size=shape), requires_grad=True, dtype="float64")


def test_log_sigmoid_is_stable_and_exact():
    x = mn.tensor([-200.0, -3.0, 0.0, 3.0, 200.0], requires_grad=True, dtype="float64")
    y = log_sigmoid(x)
    y.sum().backward()
    host = np.array([-200.0, -3.0, 0.0, 3.0, 200.0])
    assert np.allclose(y.numpy(), -np.logaddexp(0.0, -host))
    # gradient 1 - sigmoid(x), including 1/2 at exactly 0, where every score starts
    assert np.allclose(x.grad.numpy(), 1.0 / (1.0 + np.exp(host)))


def test_sgns_loss_first_and_second_derivatives():
    rng = np.random.default_rng(0)
    with mn.default_dtype("float64"):
        inputs = [float64(rng, 3, 4), float64(rng, 3, 4), float64(rng, 3, 2, 4)]
        assert mn.gradcheck(sgns_loss, inputs)
        assert mn.gradgradcheck(sgns_loss, inputs)
        x = mn.tensor(3.0 * rng.normal(size=6), requires_grad=True, dtype="float64")
        assert mn.gradcheck(log_sigmoid, [x]) and mn.gradgradcheck(log_sigmoid, [x])


def test_sgns_loss_value_and_shape_error():
    v, u = np.array([[1.0, 0.0]]), np.array([[2.0, 0.0]])
    negative = np.array([[[0.0, 1.0], [-1.0, 0.0]]])
    expected = np.logaddexp(0, -2.0) + np.logaddexp(0, 0.0) + np.logaddexp(0, -1.0)
    assert np.isclose(sgns_loss(v, u, negative).item(), expected, rtol=1e-6)
    with pytest.raises(ValueError, match=r"sgns_loss: expected .*\(1, 2\), \(1, 3\)"):
        sgns_loss(v, np.ones((1, 3)), negative)


def test_pairs_stay_inside_sentences_and_skip_unknown_words():
    vocab = Vocab.build(["a b c", "d e"])
    ids, sentence = word_ids(["a b zzz c", "d e"], vocab)
    centres, contexts = skipgram_pairs(ids, sentence, window=1)
    words = sorted((vocab.id_to_token(int(c)), vocab.id_to_token(int(x)))
                   for c, x in zip(centres, contexts))
    assert words == [("a", "b"), ("b", "a"), ("d", "e"), ("e", "d")]


def synthetic_corpus(n=400, seed=0):
    """a1, a2 always next to x; b1, b2 always next to y: a1's neighbours in meaning are a2's."""
    rng = np.random.default_rng(seed)
    return [f"{rng.choice(['a1', 'a2'])} x" if rng.random() < 0.5 else
            f"{rng.choice(['b1', 'b2'])} y" for _ in range(n)]


def cosine(vectors, vocab, w1, w2):
    a, b = vectors[vocab.token_to_id(w1)], vectors[vocab.token_to_id(w2)]
    return float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))


def test_words_in_the_same_contexts_end_up_close():
    texts = synthetic_corpus()
    vocab = Vocab.build(texts)
    vectors = skipgram(texts, vocab, dim=8, window=1, negatives=2, epochs=20, batch=64,
                       subsample=0, seed=0, log=quiet)
    assert vectors.shape == (len(vocab), 8) and vectors.dtype == np.float32
    assert cosine(vectors, vocab, "a1", "a2") > cosine(vectors, vocab, "a1", "b1") + 0.25
    assert nearest(vectors, vocab, "b2", k=1)[0][0] == "b1"


def test_same_seed_same_vectors_other_seed_other_vectors():
    texts = synthetic_corpus(100)
    vocab = Vocab.build(texts)
    run = lambda seed: skipgram(texts, vocab, dim=4, epochs=2, batch=32, seed=seed,  # noqa: E731
                                log=quiet)
    assert np.array_equal(run(3), run(3))
    assert not np.allclose(run(3), run(4))


def test_pretraining_runs_on_every_backend(backend, tmp_path):
    texts = synthetic_corpus(100)
    vocab = Vocab.build(texts)
    vectors = skipgram(texts, vocab, dim=4, epochs=2, batch=32, log=quiet)
    with mn.use_backend("numpy"):
        reference = skipgram(texts, vocab, dim=4, epochs=2, batch=32, log=quiet)
    assert np.allclose(vectors, reference, rtol=1e-3, atol=1e-4)
    save_embeddings(tmp_path / "emb.npz", vectors, vocab)
    model = TextEmbedder(len(vocab), dim=4, out_dim=2)
    assert load_embeddings(model, vocab, tmp_path / "emb.npz") == vocab.n_words - 2
    assert mn.backend.array_kind(model.encoder.embedding.weight.data) == backend


def test_skipgram_errors():
    vocab = Vocab.build(["a b"])
    with pytest.raises(ValueError, match="no pair of known words"):
        skipgram(["a", "zzz b"], vocab, log=quiet)
    with pytest.raises(ValueError, match="dim must be a positive integer"):
        skipgram(["a b"], vocab, dim=0, log=quiet)
    with pytest.raises(KeyError, match="'zzz' is not a word"):
        nearest(np.ones((len(vocab), 2)), vocab, "zzz")


def test_save_load_round_trip_skips_special_rows(tmp_path):
    vocab = Vocab.build(["red green blue"])
    vectors = np.arange(len(vocab) * 3, dtype=np.float32).reshape(len(vocab), 3)
    path = tmp_path / "emb.npz"
    save_embeddings(path, vectors, vocab)
    tokens, loaded = load_embedding_file(path)
    assert tokens == vocab.tokens[2:]
    assert loaded.dtype == np.float32 and np.array_equal(loaded, vectors[2:])
    assert [p.name for p in tmp_path.iterdir()] == ["emb.npz"]  # no temporary file left behind
    with pytest.raises(ValueError, match=r"shape \(5, dim\)"):
        save_embeddings(path, vectors[:2], vocab)


def test_load_embeddings_copies_rows_by_token(tmp_path):
    # the file's vocabulary differs from the model's: other order, one word missing, one extra
    file_vocab = Vocab.build(["cat cat dog fish"])           # <pad> <unk> cat dog fish
    model_vocab = Vocab.build(["bird fish fish dog dog dog"])  # <pad> <unk> dog fish bird
    vectors = np.random.default_rng(0).normal(size=(len(file_vocab), 4)).astype(np.float32)
    path = tmp_path / "emb.npz"
    save_embeddings(path, vectors, file_vocab)
    model = TextClassifier(len(model_vocab), n_classes=3, dim=4, hidden=5, seed=1)
    before = model.encoder.embedding.weight.numpy().copy()
    assert load_embeddings(model, model_vocab, path) == 2
    after = model.encoder.embedding.weight.numpy()
    for word in ("dog", "fish"):
        assert np.array_equal(after[model_vocab.token_to_id(word)],
                              vectors[file_vocab.token_to_id(word)])
    untouched = [0, 1, model_vocab.token_to_id("bird")]     # pad, unk, and a word not in the file
    assert np.array_equal(after[untouched], before[untouched])
    assert model.encoder.embedding.weight.requires_grad and model.encoder.embedding.weight.is_leaf


def test_load_embeddings_errors(tmp_path):
    vocab = Vocab.build(["a b"])
    path = tmp_path / "emb.npz"
    save_embeddings(path, np.zeros((len(vocab), 3), np.float32), vocab)
    with pytest.raises(ValueError, match="dim 3 but encoder.embedding.weight has dim 8"):
        load_embeddings(TextEmbedder(len(vocab), dim=8, out_dim=4), vocab, path)
    with pytest.raises(ValueError, match="has 9 rows but the vocabulary has 4 ids"):
        load_embeddings(TextEmbedder(9, dim=3, out_dim=4), vocab, path)
    with pytest.raises(ValueError, match="none of the 2 words .* is in the vocabulary"):
        load_embeddings(TextEmbedder(4, dim=3), Vocab.build(["c d"]), path)
    with pytest.raises(FileNotFoundError, match="metanumpy pretrain"):
        load_embeddings(TextEmbedder(len(vocab), dim=3), vocab, tmp_path / "missing.npz")
    np.savez(tmp_path / "other.npz", weights=np.zeros(3))
    with pytest.raises(ValueError, match=r"not an embeddings file, missing \['tokens', 'vectors'\]"):
        load_embedding_file(tmp_path / "other.npz")


def sport_and_food_folder(tmp_path):
    """A tiny data folder: two meta-training classes, one class each for val and test."""
    data = tmp_path / "data"
    data.mkdir()
    lines = {"train": ["sport\tgoal match team", "sport\tteam wins match", "food\tbread soup eat",
                       "food\teat soup hot"],
             "val": ["music\tsong guitar loud"], "test": ["art\tpaint canvas brush"]}
    for split, rows in lines.items():
        (data / f"{split}.tsv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return data


def test_command_line_pretrains_on_meta_training_text_only(tmp_path, capsys):
    data = sport_and_food_folder(tmp_path)
    out = tmp_path / "emb.npz"
    main(["pretrain", "--data", str(data), "--out", str(out), "--dim", "4", "--sentences", "50",
          "--epochs", "2", "--show", "soup"])
    printed = capsys.readouterr().out
    assert "epoch 2/2: loss" in printed and "nearest to soup:" in printed
    tokens, vectors = load_embedding_file(out)
    assert tokens == Experiment(tasks=str(data)).vocab.tokens[2:]   # the vocabulary `train` uses
    assert "guitar" not in tokens and "canvas" not in tokens and vectors.shape == (len(tokens), 4)


def test_pretrain_text_adds_unlabelled_files_and_saves_word_statistics(tmp_path, capsys):
    data = sport_and_food_folder(tmp_path)
    extra = tmp_path / "wiki.txt"
    extra.write_text("the soup was hot\n\nsoup and bread\nguitar\n", encoding="utf-8")
    out = tmp_path / "emb.npz"
    main(["pretrain", "--data", str(data), "--out", str(out), "--dim", "4", "--sentences", "4",
          "--epochs", "1", "--text", str(extra)])
    assert "statistics over 7 texts" in capsys.readouterr().out     # 4 sentences + 3 lines
    stats, n = word_statistics(out)
    assert n == 7
    # "soup": 2 of the 4 training texts + 2 lines of the file; each text holds it once
    assert stats["soup"] == (4, 4) and stats["bread"] == (2, 2) and stats["team"] == (2, 2)
    assert "guitar" not in stats              # statistics are kept for the vocabulary's words


def test_pretrain_text_errors_name_the_file(tmp_path):
    data = sport_and_food_folder(tmp_path)
    with pytest.raises(SystemExit, match="pretrain: text file .*nope.txt not found"):
        main(["pretrain", "--data", str(data), "--text", str(tmp_path / "nope.txt")])
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"fine\n\xff\xfe broken\n")
    with pytest.raises(SystemExit, match="bad.txt, line 2: not valid UTF-8"):
        main(["pretrain", "--data", str(data), "--text", str(bad)])
    blank = tmp_path / "blank.txt"
    blank.write_text("\n \n", encoding="utf-8")
    with pytest.raises(SystemExit, match="blank.txt holds no text"):
        main(["pretrain", "--data", str(data), "--text", str(blank)])
