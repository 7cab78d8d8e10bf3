"""MAML and Reptile with a prototype head (meta/protohead.py), checked against their formulas.

- The head built from the support set scores like ProtoNet: cosine logits equal ProtoNet's,
  Euclidean ones differ from -|x - c_k|^2 only by |x|^2, the same for every class.
- With no inner step, ProtoMAML and ProtoReptile predict exactly what ProtoNet predicts.
- ProtoMAML's meta-gradient equals finite differences of the post-adaptation query loss (second
  order); first order, it is that derivative with the inner gradients held fixed, so it still
  reaches the encoder through the head's start.
- ProtoReptile's outer step moves only the encoder, by theta + eps * (mean phi_i - theta).
"""

import numpy as np
import pytest

import metanumpy as mn
from metanumpy.autograd.functional import cross_entropy
from metanumpy.experiment import Experiment
from metanumpy.meta import ProtoMAML, ProtoNet, ProtoReptile, make_learner
from metanumpy.meta.protohead import head_logits, prototype_head
from metanumpy.meta.reptile import whole_episode
from metanumpy.text import TextEmbedder
from metanumpy.text.features import LexicalEncoder

from test_meta import toy_episode


@pytest.fixture
def float64():
    with mn.default_dtype("float64"):
        yield


def embedder(seed=0):
    return TextEmbedder(12, dim=3, out_dim=4, seed=seed)


@pytest.mark.parametrize("distance", ["euclidean", "cosine"])
def test_the_prototype_head_scores_like_protonet(float64, distance):
    episode = toy_episode(ways=3, shots=2, queries=3, seed=2)
    model = embedder()
    support = model(episode.support_ids, episode.support_mask)
    head = prototype_head(support, episode.support_labels, 3, distance)
    params = {**dict(model.named_parameters()), **head}
    logits = head_logits(model, episode.query_ids, episode.query_mask, params, distance).numpy()
    protonet = ProtoNet(model, distance=distance).logits(episode).numpy()
    if distance == "cosine":
        np.testing.assert_allclose(logits, protonet, rtol=1e-10)
    else:  # x . 2c - |c|^2 = -|x - c|^2 + |x|^2
        query = model(episode.query_ids, episode.query_mask).numpy()
        np.testing.assert_allclose(logits, protonet + (query ** 2).sum(1, keepdims=True),
                                   rtol=1e-10)


@pytest.mark.parametrize("distance", ["euclidean", "cosine"])
def test_without_inner_steps_both_predict_what_protonet_predicts(distance):
    exp = Experiment(tasks="topics", ways=5, shots=1, seed=0)
    episodes = exp.episodes("test", 10)
    protonet = exp.learner("protonet", distance=distance)
    for algo in ("maml", "fomaml", "reptile"):
        learner = exp.learner(algo, head="prototypes", distance=distance, eval_inner_steps=0)
        assert isinstance(learner, ProtoReptile if algo == "reptile" else ProtoMAML)
        learner.model.load_state_dict(protonet.model.state_dict())
        for ep in episodes:
            np.testing.assert_array_equal(learner.predict(ep), protonet.predict(ep))
        with_steps = exp.learner(algo, head="prototypes", distance=distance, eval_inner_steps=3,
                                 inner_lr=5.0)
        with_steps.model.load_state_dict(protonet.model.state_dict())
        assert not np.allclose(with_steps.query_logits(episodes[0]).numpy(),
                               learner.query_logits(episodes[0]).numpy())


def post_adaptation_loss(model, episode, theta, distance, steps, lr, frozen=None):
    """L_query after `steps` SGD steps from theta plus the prototype head, written without
    the learner. frozen: the inner moves (name -> array) to add instead of computing them."""
    params = {n: mn.tensor(v, requires_grad=True) for n, v in theta.items()}
    support = model(episode.support_ids, episode.support_mask, params=params)
    start = {**params, **prototype_head(support, episode.support_labels, episode.ways,
                                        distance)}
    if frozen is not None:
        phi = {n: p + mn.tensor(frozen[n]) for n, p in start.items()}
    else:
        phi, moves = {n: p.detach().requires_grad_() for n, p in start.items()}, None
        for _ in range(steps):
            loss = cross_entropy(head_logits(model, episode.support_ids, episode.support_mask,
                                             phi, distance), episode.support_labels)
            grads = mn.grad(loss, list(phi.values()))
            phi = {n: mn.tensor(p.numpy() - lr * g.numpy(), requires_grad=True)
                   for (n, p), g in zip(phi.items(), grads)}
        if steps:
            moves = {n: phi[n].numpy() - start[n].numpy() for n in phi}
            return post_adaptation_loss(model, episode, theta, distance, steps, lr, moves)
    return cross_entropy(head_logits(model, episode.query_ids, episode.query_mask, phi,
                                     distance), episode.query_labels).item()


def directional_derivative(f, theta, v, eps=1e-6):
    return (f({n: theta[n] + eps * v[n] for n in theta})
            - f({n: theta[n] - eps * v[n] for n in theta})) / (2 * eps)


@pytest.mark.parametrize("distance", ["euclidean", "cosine"])
@pytest.mark.parametrize("steps", [1, 2])
def test_protomaml_meta_gradient_is_the_gradient_of_the_loss_after_adaptation(
        float64, distance, steps):
    learner = ProtoMAML(embedder(), distance=distance, inner_lr=0.7, inner_steps=steps)
    model, episode = learner.model, toy_episode(ways=3, shots=2, queries=2, seed=3)
    theta = {n: p.numpy().copy() for n, p in model.named_parameters()}
    loss = learner.episode_loss(episode)[0]
    meta = dict(zip(theta, (g.numpy() for g in mn.grad(loss, list(model.parameters())))))

    def adapted_from(weights):  # the whole inner loop as a function of theta, by hand
        support = {n: mn.tensor(v, requires_grad=True) for n, v in weights.items()}
        # the inner loop's variables are (encoder, head): its first gradient is partial in each
        start = {**{n: p + 0.0 for n, p in support.items()}, **prototype_head(model(episode.support_ids, episode.support_mask,
                                                   params=support),
                                             episode.support_labels, 3, distance)}
        phi = start
        for _ in range(steps):
            inner = cross_entropy(head_logits(model, episode.support_ids, episode.support_mask,
                                              phi, distance), episode.support_labels)
            grads = mn.grad(inner, list(phi.values()), create_graph=True)
            phi = {n: p - 0.7 * g for (n, p), g in zip(phi.items(), grads)}
        return cross_entropy(head_logits(model, episode.query_ids, episode.query_mask, phi,
                                         distance), episode.query_labels).item()

    assert loss.item() == pytest.approx(adapted_from(theta), rel=1e-10)
    rng = np.random.default_rng(steps)
    for _ in range(2):
        v = {n: rng.standard_normal(a.shape) for n, a in theta.items()}
        expected = directional_derivative(adapted_from, theta, v)
        got = sum(float((meta[n] * v[n]).sum()) for n in theta)
        assert got == pytest.approx(expected, rel=1e-6, abs=1e-8)


@pytest.mark.parametrize("distance", ["euclidean", "cosine"])
def test_first_order_protomaml_holds_the_inner_moves_fixed(float64, distance):
    learner = ProtoMAML(embedder(1), distance=distance, first_order=True, inner_lr=0.7,
                        inner_steps=2)
    model, episode = learner.model, toy_episode(ways=3, shots=2, queries=2, seed=4)
    theta = {n: p.numpy().copy() for n, p in model.named_parameters()}
    loss = learner.episode_loss(episode)[0]
    meta = dict(zip(theta, (g.numpy() for g in mn.grad(loss, list(model.parameters())))))
    head = prototype_head(model(episode.support_ids, episode.support_mask),
                          episode.support_labels, 3, distance)
    phi = learner.fast_weights(episode, 2, create_graph=False)
    start = {**theta, **{n: h.numpy() for n, h in head.items()}}
    moves = {n: phi[n].numpy() - start[n] for n in phi}
    assert loss.item() == pytest.approx(
        post_adaptation_loss(model, episode, theta, distance, 2, 0.7, moves), rel=1e-10)
    assert loss.item() == pytest.approx(
        post_adaptation_loss(model, episode, theta, distance, 2, 0.7), rel=1e-10)
    rng = np.random.default_rng(0)
    v = {n: rng.standard_normal(a.shape) for n, a in theta.items()}
    expected = directional_derivative(
        lambda w: post_adaptation_loss(model, episode, w, distance, 2, 0.7, moves), theta, v)
    assert sum(float((meta[n] * v[n]).sum()) for n in theta) == pytest.approx(
        expected, rel=1e-6, abs=1e-8)


def test_protoreptile_moves_only_the_encoder_towards_the_tasks_weights(float64):
    episodes = [toy_episode(ways=2, shots=2, seed=5), toy_episode(ways=2, shots=2, seed=6)]
    learner = ProtoReptile(embedder(), distance="cosine", inner_lr=0.3, inner_steps=2,
                           outer_lr=0.5, inner_optimizer="sgd")
    theta = {n: p.numpy().copy() for n, p in learner.model.named_parameters()}
    phis = []
    for ep in episodes:
        ids, mask = whole_episode(ep)
        labels = np.concatenate([ep.support_labels, ep.query_labels])
        phi, _, _ = learner.finetune(ids, mask, labels, 2, ep.ways)
        assert set(phi) == set(theta) | {"head.weight", "head.bias"}
        phis.append({n: p.numpy() for n, p in phi.items()})
    learner.meta_train_step(episodes, progress=0.0)
    assert {n for n, _ in learner.model.named_parameters()} == set(theta)
    for n, p in learner.model.named_parameters():
        expected = theta[n] + 0.5 * ((phis[0][n] + phis[1][n]) / 2 - theta[n])
        np.testing.assert_allclose(p.numpy(), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("algo, options, message", [
    ("protonet", dict(head="prototypes"), "protonet has no classifier head"),
    ("maml", dict(distance="cosine"), r"distance \(--distance\) applies to protonet, or to maml with head"),
    ("maml", dict(head="prototypes", meta_sgd=True), "meta_sgd"),
    ("reptile", dict(head="prototype"), "head must be one of learned, prototypes"),
    ("fomaml", dict(head="prototypes", distance="manhattan"), "distance must be"),
])
def test_a_head_or_distance_the_learner_would_not_use_is_refused(algo, options, message):
    with pytest.raises(ValueError, match=message):
        make_learner(algo, 12, 2, dim=3, hidden=4, **options)


def test_the_lexical_encoder_gives_maml_and_reptile_a_cosine_prototype_head():
    exp = Experiment(tasks="topics", encoder="lexical", ngram_buckets=64, max_len=96, dim=8)
    for algo in ("maml", "fomaml", "reptile"):
        learner = exp.learner(algo, inner_steps=1)
        assert learner.distance == "cosine" and isinstance(learner.model, LexicalEncoder)
        assert learner.model.exact  # the tf-idf part is in: it starts as the strong baseline
        assert learner.meta_train_step(exp.sampler().batch(2))["loss"] > 0
    learned = exp.learner("maml", head="learned", inner_steps=1)
    assert type(learned).__name__ == "MAML" and not learned.model.encoder.exact


def test_lexical_defaults_yield_to_the_options_given():
    exp = Experiment(tasks="topics", encoder="lexical", ngram_buckets=64, max_len=96, dim=8)
    assert exp.learner("maml").inner_lr == 2.0
    assert exp.learner("maml", inner_lr=0.3).inner_lr == 0.3
    assert exp.learner("maml", head="learned").inner_lr == 0.5  # the plain MAML default
    assert exp.learner("reptile", distance="euclidean").distance == "euclidean"


def test_anil_with_the_prototype_head_adapts_only_the_head(float64):
    learner = ProtoMAML(embedder(), anil=True, inner_lr=0.7, inner_steps=2)
    episode = toy_episode(ways=2, shots=2, seed=7)
    fast = learner.fast_weights(episode, 2, create_graph=True)
    assert set(fast) == {"head.weight", "head.bias"}
    loss = learner.episode_loss(episode)[0]
    grads = mn.grad(loss, list(learner.model.parameters()))
    # the encoder is used as it is in the inner loop, and still learns through the head's start
    assert all(float(np.abs(g.numpy()).sum()) > 0 for g in grads)


def test_protoreptile_starts_from_the_prototypes_of_what_it_trains_on(float64):
    learner = ProtoReptile(embedder(), distance="cosine", inner_steps=1)
    episode = toy_episode(ways=3, shots=2, seed=8)
    ids, mask = whole_episode(episode)
    labels = np.concatenate([episode.support_labels, episode.query_labels])
    start = learner.start(ids, mask, labels, 3)
    expected = prototype_head(learner.model(ids, mask), labels, 3, "cosine")
    for name in ("head.weight", "head.bias"):
        np.testing.assert_allclose(start[name].numpy(), expected[name].numpy(), rtol=1e-12)
    assert start["head.weight"].shape == (4, 3)
