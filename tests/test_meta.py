"""The four meta-learners checked against their formulas (run these to test your understanding).

- MAML's meta-gradient equals finite differences of L_query(adapt(theta, support)), for 1 and 3
  inner steps; first-order MAML equals grad L_query at the adapted weights; a query pass that
  ignores the fast weights (the classic trap) gives a different, wrong meta-gradient.
- Reptile's outer step equals theta + eps * (mean phi_i - theta) computed by hand.
- ProtoNet's logits are negative squared distances to class means; Matching Networks'
  attention rows sum to one and its probabilities are attention @ one-hot labels.
"""

import numpy as np
import pytest

import metanumpy as mn
from metanumpy.autograd.functional import cross_entropy
from metanumpy.meta import MAML, MatchingNetwork, ProtoNet, Reptile
from metanumpy.meta.matching import attention
from metanumpy.meta.protonet import prototypes
from metanumpy.nn import Module
from metanumpy.tasks.episodes import Episode
from metanumpy.text import TextClassifier, TextEmbedder


def toy_episode(ways=2, shots=2, queries=2, vocab=12, length=4, seed=0):
    """A random episode over a tiny vocabulary (ids >= 2; some padding)."""
    rng = np.random.default_rng(seed)

    def part(n):
        ids = rng.integers(2, vocab, size=(n, length))
        mask = np.ones((n, length), dtype=np.float32)
        mask[::2, -1] = 0
        ids[mask == 0] = 0
        return ids, mask

    s_ids, s_mask = part(ways * shots)
    q_ids, q_mask = part(ways * queries)
    return Episode(s_ids, s_mask, np.repeat(np.arange(ways), shots), q_ids, q_mask,
                   rng.permutation(np.repeat(np.arange(ways), queries)),
                   tuple(f"c{i}" for i in range(ways)), [], [], ways, shots, queries)


def small_classifier(ways=2, seed=0):
    return TextClassifier(12, ways, dim=3, hidden=4, seed=seed)


@pytest.fixture
def float64():
    with mn.default_dtype("float64"):
        yield


def adapt_by_hand(model, episode, lr, steps, theta):
    """phi (host arrays) after `steps` SGD steps on the support set from theta (host arrays),
    written here without MAML or adapt: the independent answer for task 4.3."""
    phi = dict(theta)
    for _ in range(steps):
        params = {n: mn.tensor(v, requires_grad=True) for n, v in phi.items()}
        support = cross_entropy(model(episode.support_ids, episode.support_mask, params=params),
                                episode.support_labels)
        grads = mn.grad(support, list(params.values()))
        phi = {n: v - lr * g.numpy() for (n, v), g in zip(phi.items(), grads)}
    return phi


def query_loss_by_hand(model, episode, weights):
    """L_query at `weights` ({name: Tensor or host array})."""
    params = {n: mn.tensor(v) if isinstance(v, np.ndarray) else v for n, v in weights.items()}
    return cross_entropy(model(episode.query_ids, episode.query_mask, params=params),
                         episode.query_labels)


def along(grads, v):
    """<grads, v>: a gradient (list of host arrays, in v's order) along the direction v."""
    return sum(float((g * d).sum()) for g, d in zip(grads, v.values()))


@pytest.mark.task4_3
@pytest.mark.parametrize("steps", [1, 3])
def test_maml_meta_gradient_is_the_gradient_of_the_loss_after_adaptation(float64, steps):
    """The meta-gradient of episode_loss equals finite differences of theta -> L_query(phi),
    with phi computed by hand: an answer independent of the code under test."""
    learner = MAML(small_classifier(), inner_lr=0.7, inner_steps=steps)
    model, episode = learner.model, toy_episode()
    theta = {n: p.numpy().copy() for n, p in model.named_parameters()}

    def by_hand(weights):
        return query_loss_by_hand(model, episode, adapt_by_hand(model, episode, 0.7, steps,
                                                                weights)).item()

    loss = learner.episode_loss(episode)[0]
    forgetful = "the query loss must use the adapted weights: call the model with params=fast"
    assert loss.item() == pytest.approx(by_hand(theta), rel=1e-9), (
        f"{forgetful} (the fast weights after the inner loop), not with theta")
    meta = [g.numpy() for g in mn.grad(loss, list(model.parameters()))]
    phi = {n: mn.tensor(v, requires_grad=True)
           for n, v in adapt_by_hand(model, episode, 0.7, steps, theta).items()}
    first_order = [g.numpy() for g in mn.grad(query_loss_by_hand(model, episode, phi),
                                              list(phi.values()))]
    at_theta = [g.numpy() for g in mn.grad(query_loss_by_hand(model, episode, dict(
        model.named_parameters())), list(model.parameters()))]
    rng = np.random.default_rng(steps)
    for _ in range(2):  # the derivative along random directions v, by central differences
        v = {n: rng.standard_normal(value.shape) for n, value in theta.items()}
        eps = 1e-6
        expected = (by_hand({n: theta[n] + eps * v[n] for n in theta})
                    - by_hand({n: theta[n] - eps * v[n] for n in theta})) / (2 * eps)
        got = along(meta, v)
        if abs(got - expected) <= 1e-6 * max(1.0, abs(expected)):
            continue
        if abs(got - along(at_theta, v)) < 1e-9:
            raise AssertionError(f"{forgetful} (your meta-gradient is the gradient at theta)")
        if abs(got - along(first_order, v)) < 1e-9:
            raise AssertionError("your meta-gradient equals the first-order one: the inner "
                                 "gradients must stay in the graph (adapt with create_graph="
                                 "True unless first_order)")
        raise AssertionError(f"meta-gradient along a random direction: finite differences give "
                             f"{expected:.8g}, yours gives {got:.8g}")


def query_loss_at_fast_weights(learner, episode):
    """What episode_loss computes, written here so that task 4.4's tests need no task 4.3."""
    fast = learner.fast_weights(episode, learner.inner_steps,
                                create_graph=not learner.first_order)
    return cross_entropy(learner.model(episode.query_ids, episode.query_mask, params=fast),
                         episode.query_labels)


@pytest.mark.task4_4
def test_first_order_maml_is_the_query_gradient_at_the_adapted_weights(float64):
    episode = toy_episode(seed=1)
    learner = MAML(small_classifier(), inner_lr=0.7, inner_steps=1, first_order=True)
    names = [n for n, _ in learner.model.named_parameters()]
    params = list(learner.model.parameters())
    meta_grads = mn.grad(query_loss_at_fast_weights(learner, episode), params)

    # by hand: phi = theta - a * grad L_s(theta) (a constant), then grad L_q at phi
    support = cross_entropy(learner.model(episode.support_ids, episode.support_mask),
                            episode.support_labels)
    inner = mn.grad(support, params)
    phi = {n: mn.tensor(p.data - 0.7 * g.data, requires_grad=True)
           for n, p, g in zip(names, params, inner)}
    query = cross_entropy(learner.model(episode.query_ids, episode.query_mask, params=phi),
                          episode.query_labels)
    expected = mn.grad(query, list(phi.values()))
    for got, want in zip(meta_grads, expected):
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.task4_4
def test_second_order_differs_from_first_order(float64):
    episode = toy_episode(seed=2)
    full = MAML(small_classifier(), inner_lr=0.7, inner_steps=2)
    first = MAML(small_classifier(), inner_lr=0.7, inner_steps=2, first_order=True)
    g_full = mn.grad(query_loss_at_fast_weights(full, episode), list(full.model.parameters()))
    g_first = mn.grad(query_loss_at_fast_weights(first, episode),
                      list(first.model.parameters()))
    gap = max(np.abs(a.numpy() - b.numpy()).max() for a, b in zip(g_full, g_first))
    assert gap > 1e-4  # the Hessian term is really there


class ForgetfulMAML(MAML):
    """The trap: adapts on the support set, then runs the query pass with theta, not phi."""

    def episode_loss(self, episode):
        self.fast_weights(episode, self.inner_steps, create_graph=True)
        logits = self.model(episode.query_ids, episode.query_mask)  # params=fast forgotten!
        return cross_entropy(logits, episode.query_labels), logits


@pytest.mark.task4_3
def test_ignoring_the_fast_weights_is_caught(float64):
    episode = toy_episode(seed=3)
    right = MAML(small_classifier(), inner_lr=0.7, inner_steps=1)
    wrong = ForgetfulMAML(small_classifier(), inner_lr=0.7, inner_steps=1)
    params = list(right.model.parameters())
    g_right = mn.grad(right.episode_loss(episode)[0], params)
    g_wrong = mn.grad(wrong.episode_loss(episode)[0], list(wrong.model.parameters()))
    gap = max(np.abs(a.numpy() - b.numpy()).max() for a, b in zip(g_right, g_wrong))
    # the right one equals finite differences of the post-adaptation loss (tested above),
    # so the forgetful one does not: MAML has silently become ordinary joint training
    assert gap > 1e-4, ("the query loss must use the adapted weights: call the model with "
                        "params=fast (your meta-gradient equals that of a query pass with theta)")


def test_maml_meta_sgd_and_anil_options_train(float64):
    episode = toy_episode(seed=4)
    for options in [dict(meta_sgd=True), dict(anil=True)]:
        learner = MAML(small_classifier(), inner_lr=0.5, inner_steps=2, **options)
        before = learner.episode_loss(episode)[0].item()
        for _ in range(30):
            learner.meta_train_step([episode])
        assert learner.episode_loss(episode)[0].item() < before
    anil = MAML(small_classifier(), anil=True)
    assert set(anil.adapted_parameters()) == {n for n, _ in anil.model.named_parameters()
                                             if n.startswith("head.")}


@pytest.mark.task5_1
@pytest.mark.parametrize("vocab", [12, 30000], ids=["dense", "row-sparse"])
@pytest.mark.parametrize("tasks", [1, 2])
def test_reptile_outer_step_is_the_interpolation_formula(float64, vocab, tasks):
    # with 30000 words, phi - theta of the embedding table is row-sparse (rowsparse.py)
    episodes = [toy_episode(seed=5), toy_episode(seed=6)][:tasks]
    model = TextClassifier(vocab, 2, dim=3, hidden=4, seed=0)
    learner = Reptile(model, inner_lr=0.3, inner_steps=2, outer_lr=0.5)
    theta = {n: p.numpy().copy() for n, p in learner.model.named_parameters()}

    def by_hand(ep):
        from metanumpy.meta.reptile import whole_episode

        ids, mask = whole_episode(ep)
        labels = np.concatenate([ep.support_labels, ep.query_labels])
        phi = {n: mn.tensor(v, requires_grad=True) for n, v in theta.items()}
        for _ in range(2):
            loss = cross_entropy(learner.model(ids, mask, params=phi), labels)
            grads = mn.grad(loss, list(phi.values()))
            phi = {n: mn.tensor(p.data - 0.3 * g.data, requires_grad=True)
                   for (n, p), g in zip(phi.items(), grads)}
        return {n: p.numpy() for n, p in phi.items()}

    phis = [by_hand(ep) for ep in episodes]
    learner.meta_train_step(episodes, progress=0.0)
    for n, p in learner.model.named_parameters():
        expected = theta[n] + 0.5 * (sum(phi[n] for phi in phis) / tasks - theta[n])
        assert isinstance(p.data, np.ndarray)  # a plain array again, not a patched table
        np.testing.assert_allclose(p.numpy(), expected, rtol=1e-12, atol=1e-12)


def test_reptile_step_size_is_annealed():
    learner = Reptile(small_classifier(), outer_lr=1.0, outer_lr_final=0.2)
    assert learner.step_size(0.0) == 1.0
    assert learner.step_size(0.5) == pytest.approx(0.6)
    assert learner.step_size(1.0) == pytest.approx(0.2)


class FixedFeatures(Module):
    """An 'identity' encoder: text i is the point table[first id of text i]."""

    def __init__(self, table):
        super().__init__()
        self.table = np.asarray(table, dtype=np.float64)

    def forward(self, ids, mask):
        return mn.tensor(self.table[np.asarray(ids)[:, 0]])


@pytest.mark.task7_2
def test_protonet_logits_are_negative_squared_distances(float64):
    episode = toy_episode(ways=3, shots=2, queries=2, seed=7)
    model = TextEmbedder(12, dim=3, out_dim=4, seed=0)
    learner = ProtoNet(model)
    support = model(episode.support_ids, episode.support_mask).numpy()
    query = model(episode.query_ids, episode.query_mask).numpy()
    protos = np.stack([support[episode.support_labels == k].mean(0) for k in range(3)])
    expected = -((query[:, None, :] - protos[None, :, :]) ** 2).sum(-1)
    np.testing.assert_allclose(learner.logits(episode).numpy(), expected, rtol=1e-10)
    np.testing.assert_allclose(
        prototypes(mn.tensor(support), episode.support_labels, 3).numpy(), protos, rtol=1e-12)


@pytest.mark.task7_2
def test_protonet_one_shot_identity_encoder_predicts_the_nearest_support_point(float64):
    rng = np.random.default_rng(0)
    table = rng.normal(size=(12, 2))
    episode = toy_episode(ways=4, shots=1, queries=3, seed=8)
    learner = ProtoNet(FixedFeatures(table))
    points = table[episode.support_ids[:, 0]]
    queries = table[episode.query_ids[:, 0]]
    nearest = ((queries[:, None] - points[None]) ** 2).sum(-1).argmin(1)
    assert np.array_equal(learner.predict(episode), episode.support_labels[nearest])


@pytest.mark.task6_1
def test_matching_attention_rows_sum_to_one_and_probabilities_by_hand(float64):
    episode = toy_episode(ways=2, shots=2, queries=1, seed=9)
    rng = np.random.default_rng(1)
    table = rng.normal(size=(12, 3))
    learner = MatchingNetwork(FixedFeatures(table), temperature=5.0)
    s = table[episode.support_ids[:, 0]]
    q = table[episode.query_ids[:, 0]]
    attn = attention(mn.tensor(q), mn.tensor(s), temperature=5.0).numpy()
    np.testing.assert_allclose(attn.sum(1), 1.0, rtol=1e-12)
    cos = (q / np.linalg.norm(q, axis=1, keepdims=True)) @ (
        s / np.linalg.norm(s, axis=1, keepdims=True)).T
    by_hand = np.exp(5 * cos) / np.exp(5 * cos).sum(1, keepdims=True)
    np.testing.assert_allclose(attn, by_hand, rtol=1e-6)
    probs = by_hand @ np.eye(2)[episode.support_labels]
    np.testing.assert_allclose(np.exp(learner.logits(episode).numpy()), probs, rtol=1e-6)


@pytest.mark.parametrize("make", [
    lambda: MatchingNetwork(TextEmbedder(12, dim=3, out_dim=4, seed=0)),
    lambda: ProtoNet(TextEmbedder(12, dim=3, out_dim=4, seed=0), distance="cosine"),
])
def test_metric_learners_second_order_free_gradients_check(float64, make):
    learner = make()
    episode = toy_episode(ways=2, shots=2, queries=2, seed=10)
    assert mn.gradcheck(lambda *ps: learner.episode_loss(episode)[0],
                        list(learner.model.parameters()))
