"""The lexical encoder: exact tf-idf over words and n-grams, plus a learned, differentiable part."""

import math

import numpy as np
import pytest

import metanumpy as mn
from metanumpy.experiment import Experiment
from metanumpy.text import Vocab
from metanumpy.text.features import LexicalEncoder, idf_weights

CORPUS = ["a cat sat", "a dog ran!", "the cat ran"]


def small_vocab():
    return Vocab.build(CORPUS, ngram_buckets=50)


def test_idf_weights_by_hand():
    vocab = small_vocab()
    weights = idf_weights(vocab, CORPUS)
    idf = {w: weights[vocab.token_to_id(w)] for w in ("a", "cat", "dog", "the")}
    assert idf["a"] == pytest.approx(math.log(4 / 3) + 1)          # in 2 of the 3 texts
    assert idf["dog"] == pytest.approx(math.log(4 / 2) + 1)        # in 1
    assert weights[vocab.token_to_id("!")] == 0.0                   # punctuation
    assert weights[vocab.PAD] == 0.0 and weights[vocab.UNK] == 0.0
    assert weights.shape == (len(vocab),) and (weights[vocab.n_words:] > 0).all()


def test_exact_part_is_the_unit_tfidf_vector_of_the_ids():
    vocab = small_vocab()
    weights = idf_weights(vocab, CORPUS)
    encoder = LexicalEncoder(len(vocab), weights, dim=4, mix=0.5)
    ids, mask = vocab.encode(["cat cat dog", "ran"])
    out = encoder(ids, mask).numpy()
    assert out.shape == (2, len(vocab) + 4) == (2, encoder.out_dim)
    expected = np.zeros(len(vocab))
    for i in vocab.encode_one("cat cat dog"):
        expected[i] += weights[i]
    np.testing.assert_allclose(out[0, :len(vocab)], expected / np.linalg.norm(expected),
                               rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(np.linalg.norm(out[:, len(vocab):], axis=1), 0.5, rtol=1e-5)


def test_padding_does_not_change_the_output():
    vocab = small_vocab()
    encoder = LexicalEncoder(len(vocab), idf_weights(vocab, CORPUS), dim=3)
    ids, mask = vocab.encode(["a cat", "the dog ran"])
    junk = np.where(mask > 0, ids, 7)
    np.testing.assert_array_equal(encoder(junk, mask).numpy(), encoder(ids, mask).numpy())


@pytest.mark.parametrize("exact", [True, False])
def test_gradients_first_and_second_order(exact):
    vocab = small_vocab()
    with mn.default_dtype("float64"):
        encoder = LexicalEncoder(len(vocab), idf_weights(vocab, CORPUS), dim=3, exact=exact)
    ids, mask = vocab.encode(["a cat sat", "dog"])
    names = [n for n, _ in encoder.named_parameters()]
    weights = [mn.tensor(p.numpy(), True, np.float64) for p in encoder.parameters()]

    def run(*ws):
        return encoder(ids, mask, params=dict(zip(names, ws)))

    assert mn.gradcheck(run, weights)
    assert mn.gradgradcheck(run, weights)


def test_lexical_experiment_needs_ngrams_and_starts_protonet_at_cosine():
    with pytest.raises(ValueError, match="--ngram-buckets"):
        Experiment(tasks="topics", encoder="lexical").learner("protonet")
    exp = Experiment(tasks="topics", encoder="lexical", ngram_buckets=64, max_len=96, dim=8)
    learner = exp.learner("protonet")
    assert learner.distance == "cosine" and isinstance(learner.model, LexicalEncoder)
    maml = exp.learner("maml", head="learned", inner_steps=1)
    assert maml.model.encoder.out_dim == 8 and not maml.model.encoder.exact
    assert maml.meta_train_step(exp.sampler().batch(2))["loss"] > 0


def test_n_words_keeps_ngram_rows_out_of_the_learned_part():
    vocab = small_vocab()
    encoder = LexicalEncoder(len(vocab), idf_weights(vocab, CORPUS), dim=3, exact=False,
                             n_words=vocab.n_words)
    ids, mask = vocab.encode(["a cat sat"])
    before = encoder(ids, mask).numpy()
    encoder.embedding.weight.data[vocab.n_words:] += 1.0      # move every n-gram row
    np.testing.assert_array_equal(encoder(ids, mask).numpy(), before)
    encoder.embedding.weight.data[vocab.token_to_id("cat")] += 1.0
    assert not np.allclose(encoder(ids, mask).numpy(), before)
