"""Text encoders, the classifier and the embedder: padding, gradients, and a training check."""

import numpy as np
import pytest

import metanumpy as mn
from metanumpy import backend as B
from metanumpy import nn
from metanumpy.autograd.functional import accuracy
from metanumpy.optim import Adam, sgd_step
from metanumpy.text.classifier import TextClassifier, TextEmbedder
from metanumpy.text.encoders import BagOfEmbeddings, ConvEncoder

VOCAB = 6

MODELS = {
    "bag": lambda: BagOfEmbeddings(VOCAB, 3, seed=1),
    "conv": lambda: ConvEncoder(VOCAB, 3, channels=2, width=3, seed=1),
    "conv-relu-width2": lambda: ConvEncoder(VOCAB, 3, 2, width=2, seed=1, activation="relu"),
    "classifier": lambda: TextClassifier(VOCAB, 2, dim=3, hidden=4, seed=1),
    "classifier-conv": lambda: TextClassifier(VOCAB, 2, dim=3, hidden=4, encoder="conv", seed=1),
    "embedder": lambda: TextEmbedder(VOCAB, dim=3, out_dim=2, seed=1),
}


def padded(lengths, time, vocab=VOCAB, seed=0, pad_with=None):
    """ids (batch, time) with random real tokens, then padding (id 0, or random junk ids)."""
    rng = np.random.default_rng(seed)
    ids = rng.integers(1, vocab, size=(len(lengths), time))
    mask = (np.arange(time) < np.array(lengths)[:, None]).astype(np.float32)
    if pad_with is None:
        filler = 0
    else:
        filler = np.random.default_rng(pad_with).integers(1, vocab, ids.shape)
    return np.where(mask > 0, ids, filler), mask


@pytest.mark.parametrize("name", MODELS)
def test_padded_positions_have_no_effect(name):
    model = MODELS[name]()
    ids, mask = padded([4, 2, 0, 5], time=5)
    junk_ids, _ = padded([4, 2, 0, 5], time=5, pad_with=9)
    assert (junk_ids != ids).any()
    out = model(ids, mask).numpy()
    np.testing.assert_array_equal(model(junk_ids, mask).numpy(), out)
    assert out.shape == (4, model.out_dim) and np.isfinite(out).all()  # row 2 has no token at all


@pytest.mark.parametrize("name", ["bag", "conv", "classifier", "classifier-conv"])
def test_gradients_through_each_model_match_finite_differences(name):
    with mn.default_dtype("float64"):
        model = MODELS[name]()
    ids, mask = padded([3, 1, 4], time=4, seed=2)
    names = [n for n, _ in model.named_parameters()]
    weights = [mn.tensor(p.numpy(), True, np.float64) for p in model.parameters()]

    def run(*ws):
        return model(ids, mask, params=dict(zip(names, ws)))

    assert all(w.dtype == np.float64 for w in weights)
    assert mn.gradcheck(run, weights)
    assert mn.gradgradcheck(run, weights)


def test_bag_of_embeddings_is_the_masked_mean_of_the_rows():
    model = BagOfEmbeddings(VOCAB, 3, seed=0)
    ids, mask = np.array([[1, 4, 0]]), np.array([[1.0, 1.0, 0.0]])
    table = model.embedding.weight.numpy()
    np.testing.assert_allclose(model(ids, mask).numpy()[0], (table[1] + table[4]) / 2, rtol=1e-6)


def test_conv_encoder_sees_its_neighbours_and_pools_over_time():
    model = ConvEncoder(VOCAB, 2, channels=3, width=3, seed=0)
    ids, mask = np.array([[1, 2, 3]]), np.ones((1, 3))
    table = model.embedding.weight.numpy()
    w, b = model.conv.weight.numpy(), model.conv.bias.numpy()
    e = np.concatenate([np.zeros((1, 2)), table[[1, 2, 3]], np.zeros((1, 2))])
    windows = np.stack([np.concatenate([e[t], e[t + 1], e[t + 2]]) for t in range(3)])
    expected = np.tanh(windows @ w + b).max(axis=0)
    np.testing.assert_allclose(model(ids, mask).numpy()[0], expected, rtol=1e-5)


def test_default_classifier_is_the_benchmark_model():
    model = TextClassifier(50, 5, dim=8, hidden=16)
    shapes = {n: p.shape for n, p in model.named_parameters()}
    assert shapes == {
        "encoder.embedding.weight": (50, 8),
        "head.0.weight": (8, 16), "head.0.bias": (16,),
        "head.2.weight": (16, 5), "head.2.bias": (5,),
    }
    assert [type(m).__name__ for m in model.head] == ["Linear", "ReLU", "Linear"]
    ids, mask = padded([3, 6], time=6, vocab=50)
    np.testing.assert_allclose(model.features(ids, mask).numpy(), model.encoder(ids, mask).numpy())


def test_embedder_ends_without_a_relu():
    model = TextEmbedder(VOCAB, dim=4, out_dim=8, seed=0)
    out = model(*padded([3, 2, 4, 1], time=4)).numpy()
    assert out.shape == (4, 8) and (out < 0).any()


def test_a_custom_encoder_module_can_be_plugged_in():
    encoder = BagOfEmbeddings(VOCAB, 5, seed=3)  # any Module with .out_dim and forward(ids, mask)
    model = TextClassifier(VOCAB, 3, hidden=4, encoder=encoder)
    assert model.encoder is encoder and model.head[0].n_in == 5
    with pytest.raises(ValueError, match="must have an .out_dim"):
        TextClassifier(VOCAB, 3, encoder=nn.ReLU())
    with pytest.raises(ValueError, match="'bag', 'conv' or a Module"):
        TextEmbedder(VOCAB, encoder="lstm")


def test_bad_batches_are_reported_by_the_encoder():
    model = BagOfEmbeddings(VOCAB, 3)
    with pytest.raises(ValueError, match=r"BagOfEmbeddings: .*ids \(2, 4\) and mask \(2, 3\)"):
        model(np.zeros((2, 4), dtype=np.int64), np.ones((2, 3)))
    with pytest.raises(TypeError, match="ConvEncoder: ids must be integers"):
        ConvEncoder(VOCAB, 3)(np.zeros((2, 3)), np.ones((2, 3)))


def separable_texts(n, seed):
    """Class 0 uses ids 2-9, class 1 uses ids 10-17; lengths 1-8, padded to 8."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, n)
    lengths = rng.integers(1, 9, n)
    ids = rng.integers(2, 10, (n, 8)) + 8 * labels[:, None]
    mask = (np.arange(8) < lengths[:, None]).astype(np.float32)
    return ids * (mask > 0), mask, labels


def test_text_classifier_learns_a_separable_task_with_adam():
    model = TextClassifier(18, 2, dim=16, hidden=16, seed=0)
    ids, mask, labels = separable_texts(64, seed=0)
    opt = Adam(model.parameters(), lr=0.05)
    for _ in range(40):
        opt.zero_grad()
        mn.cross_entropy(model(ids, mask), labels).backward()
        opt.step()
    test_ids, test_mask, test_labels = separable_texts(200, seed=1)
    with mn.no_grad():
        assert accuracy(model.eval()(test_ids, test_mask), test_labels) >= 0.95


def second_order_meta_step(encoder):
    """One MAML-style step (inner sgd_step with create_graph, query pass with the fast weights,
    outer Adam step) from host data; returns the query loss and the new weights, on the host."""
    model = TextClassifier(VOCAB, 2, dim=3, hidden=4, encoder=encoder, seed=1)
    (ids, mask), (q_ids, q_mask) = padded([3, 1, 4, 2], 4, seed=3), padded([2, 4, 3], 4, seed=4)
    params = dict(model.named_parameters())
    support_loss = mn.cross_entropy(model(ids, mask), np.array([0, 1, 1, 0]))
    grads = mn.grad(support_loss, list(params.values()), create_graph=True)
    fast = sgd_step(params, grads, lr=0.5)
    query_loss = mn.cross_entropy(model(q_ids, q_mask, params=fast), np.array([1, 0, 1]))
    opt = Adam(model.parameters(), lr=0.1)
    for p, g in zip(model.parameters(), mn.grad(query_loss, model.parameters())):
        p.grad = g
    opt.step()
    return [np.float32(query_loss.item())] + [p.numpy() for p in model.parameters()]


@pytest.mark.parametrize("encoder", ["bag", "conv"])
def test_a_second_order_meta_step_gives_the_same_numbers_on_every_backend(backend, encoder):
    got = second_order_meta_step(encoder)
    with B.use_backend("numpy"):
        expected = second_order_meta_step(encoder)
    for a, b in zip(got, expected):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
