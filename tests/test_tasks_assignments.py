"""The classroom tasks of this repository: focused tests for tasks that had none, each task
against an answer computed here by hand with its classic mistakes named, and (hidden from the
student copy) checks that the solution regions, the markers, the mutants and a release fit.

A task's tests carry its marker, `@pytest.mark.task4_2`, registered in setup.cfg, so that
`python -m pytest -m task4_2` checks that one step (the teacher's guide is in README.md).
The tests of tasks in metanumpy/meta/ import it inside the test: a student's syntax error in
meta/maml.py then costs only the tasks that use that package, not the whole file.
"""

import re

import numpy as np
import pytest

import metanumpy as mn
from metanumpy import backend as B
from metanumpy.autograd import Function
from metanumpy.autograd.functional import cross_entropy
from metanumpy.autograd.ops import sum_to
from metanumpy.tasks.episodes import Episode
from metanumpy.text import TextClassifier, Vocab


@pytest.fixture
def float64():
    with mn.default_dtype("float64"):
        yield


def f64(data, requires_grad=True):
    return mn.tensor(data, requires_grad=requires_grad, dtype="float64")


# --- lesson 1: the engine. These use only ops that are no task of their own (log, exp, +, -,
# division, sum) next to the task they check, so that each fails only for its own task and the
# tasks before it.


@pytest.mark.task1_1
def test_the_walk_adds_up_the_gradients_of_every_path():
    """y = sum(log x + x / 2 - x): x reaches y along three paths, dy/dx = 1/x + 1/2 - 1."""
    x = f64([0.5, 2.0, 4.0])
    (g,) = mn.grad((x.log() + x / 2.0 - x).sum(), x)
    np.testing.assert_allclose(g.numpy(), 1 / x.numpy() - 0.5)


@pytest.mark.task1_1
def test_the_walk_stops_at_intermediate_inputs_and_records_with_create_graph():
    x = f64([0.5, 2.0])
    h = x.log()
    gh, gx = mn.grad((h - h.exp()).sum(), [h, x])  # d/dh = 1 - e^h = 1 - x; d/dx = that / x
    np.testing.assert_allclose(gh.numpy(), 1 - x.numpy())
    np.testing.assert_allclose(gx.numpy(), (1 - x.numpy()) / x.numpy())
    (g,) = mn.grad(x.log().sum(), x, create_graph=True)  # 1/x, itself differentiable
    (h2,) = mn.grad(g.sum(), x)
    np.testing.assert_allclose(h2.numpy(), -1 / x.numpy() ** 2)


class WrongExp(Function):
    """e^x with a wrong backward, 2 e^x: gradcheck must catch it."""

    def forward(self, a):
        return B.xp.exp(a)

    def backward(self, g, out):
        return (g * out * 2.0,)


@pytest.mark.task1_3
def test_gradcheck_passes_a_right_backward_and_catches_a_wrong_one():
    x = f64([0.5, -1.0, 2.0])
    assert mn.gradcheck(lambda x: x.exp(), [x])
    with pytest.raises(mn.GradcheckError, match=r"input 0 \(shape \(3,\)\) at index \(0,\)") as info:
        mn.gradcheck(lambda x: WrongExp()(x), [x])
    numbers = re.search(r"finite differences give (\S+), autograd gives (\S+)", str(info.value))
    expected, got = map(float, numbers.groups())
    assert got == pytest.approx(2 * expected, rel=1e-4)
    np.testing.assert_array_equal(x.numpy(), [0.5, -1.0, 2.0])  # x is left as it was


@pytest.mark.task1_4
def test_sum_to_sums_a_broadcast_gradient_back_to_each_shape():
    host = np.arange(24.0).reshape(2, 3, 4)
    g = f64(host, requires_grad=False)
    for shape, expected in [((3, 1), host.sum(axis=(0, 2))[:, None]),
                            ((4,), host.sum(axis=(0, 1))),
                            ((1, 3, 4), host.sum(axis=0, keepdims=True)),
                            ((), host.sum())]:
        out = sum_to(g, shape)
        assert out.shape == shape
        np.testing.assert_array_equal(out.numpy(), expected)
    a, row = f64(np.ones((2, 3))), f64([1.0, 2.0, 3.0])
    ga, grow = mn.grad((a + row).sum(), [a, row])  # row was used twice, once per row of a
    np.testing.assert_array_equal(grow.numpy(), [2.0, 2.0, 2.0])
    np.testing.assert_array_equal(ga.numpy(), np.ones((2, 3)))


# --- lessons 4 and 7: the inner loop and the prototypes


def tiny_batch(n=4, vocab=12, length=3, seed=0):
    """(ids, mask, labels) of n random texts over a tiny vocabulary, two classes."""
    rng = np.random.default_rng(seed)
    ids = rng.integers(2, vocab, size=(n, length))
    mask = np.ones((n, length), dtype=np.float32)
    mask[::2, -1] = 0
    return ids * mask.astype(np.int64), mask, np.arange(n) % 2


@pytest.mark.task4_2
def test_adapt_takes_sgd_steps_with_the_fast_weights_and_leaves_theta_alone(float64):
    from metanumpy.meta.learner import adapt

    model = TextClassifier(12, 2, dim=3, hidden=4, seed=0)
    ids, mask, labels = tiny_batch()
    theta = dict(model.named_parameters())
    before = {n: p.numpy().copy() for n, p in theta.items()}
    fast = adapt(model, theta, ids, mask, labels, steps=2, lr=0.5)

    phi = dict(before)  # by hand: phi <- phi - 0.5 * grad L(phi), twice
    for _ in range(2):
        params = {n: mn.tensor(v, requires_grad=True) for n, v in phi.items()}
        loss = cross_entropy(model(ids, mask, params=params), labels)
        grads = mn.grad(loss, list(params.values()))
        phi = {n: v - 0.5 * g.numpy() for (n, v), g in zip(phi.items(), grads)}
    assert set(fast) == set(theta)
    for n in theta:
        expect_close(fast[n], phi[n], "each inner step is phi <- phi - lr * grad L_support(phi): "
                                      "a descent step from the fast weights", rtol=1e-10,
                     atol=1e-12)
        expect_close(theta[n], before[n], "adapt must leave theta as it was (new Tensors, no "
                                          "in-place update)", rtol=0, atol=0)


@pytest.mark.task4_2
def test_adapt_with_create_graph_keeps_the_second_order_term(float64):
    from metanumpy.meta.learner import adapt

    model = TextClassifier(12, 2, dim=3, hidden=4, seed=1)
    ids, mask, labels = tiny_batch(seed=1)
    theta = dict(model.named_parameters())

    def meta_gradient(create_graph):
        fast = adapt(model, theta, ids, mask, labels, steps=1, lr=0.7, create_graph=create_graph)
        query = cross_entropy(model(ids[::-1], mask[::-1], params=fast), labels)
        return mn.grad(query, list(theta.values()))

    second, first = meta_gradient(True), meta_gradient(False)
    gap = max(np.abs(a.numpy() - b.numpy()).max() for a, b in zip(second, first))
    assert gap > 1e-4, (  # the Hessian term of the inner step is there only with create_graph
        "your meta-gradient equals the first-order one: the inner gradients must stay in the "
        "graph (grad(..., create_graph=create_graph) in adapt)")


@pytest.mark.task7_1
def test_prototypes_are_the_class_means_and_pass_gradients_back(float64):
    from metanumpy.meta.protonet import prototypes

    support = mn.tensor([[1.0, 0.0], [3.0, 2.0], [0.0, 4.0], [5.0, 2.0], [2.0, 2.0]],
                        requires_grad=True)
    labels = np.array([1, 0, 1, 2, 1])  # any order, unequal counts
    protos = prototypes(support, labels, ways=3)
    np.testing.assert_allclose(protos.numpy(), [[3.0, 2.0], [1.0, 2.0], [5.0, 2.0]])
    (g,) = mn.grad(protos.sum(), support)
    np.testing.assert_allclose(g.numpy()[:, 0], [1 / 3, 1.0, 1 / 3, 1.0, 1 / 3])


@pytest.mark.task7_2
def test_prototype_logits_are_negative_squared_distances_or_scaled_cosines(float64):
    from metanumpy.meta.protonet import prototype_logits

    query = mn.tensor([[0.0, 1.0], [2.0, 2.0]])
    protos = mn.tensor([[0.0, 3.0], [1.0, 0.0], [4.0, 4.0]])
    np.testing.assert_allclose(prototype_logits(query, protos).numpy(),
                               [[-4.0, -2.0, -25.0], [-5.0, -5.0, -8.0]])
    cosine = prototype_logits(query, protos, distance="cosine", scale=2.0).numpy()
    np.testing.assert_allclose(cosine, 2.0 * np.array([[1.0, 0.0, 0.5 ** 0.5],
                                                       [0.5 ** 0.5, 0.5 ** 0.5, 1.0]]))


# --- answers computed here by hand (closed forms, plain NumPy), and the classic mistakes: a
# test that fails names the mistake and the fix first. These catch the known wrong solutions of
# tests/mutants.py (`python -m metanumpy assignments check --mutants`). A task's own
# NotImplementedError passes through unchanged, so `pytest -m task1_4` says "Task 1.4" until
# it is written.


def attempt(compute, mistake):
    """compute(), with a crash turned into a failure that names `mistake` (a task's own
    NotImplementedError passes through: the task is not written yet)."""
    try:
        return compute()
    except NotImplementedError:
        raise
    except Exception as error:
        raise AssertionError(f"{mistake} ({type(error).__name__}: {error})") from error


def expect_close(got, want, mistake, rtol=1e-7, atol=1e-10):
    """Fail with `mistake` first, then the numbers, unless got == want (shape and values)."""
    got = np.asarray(got.numpy() if hasattr(got, "numpy") else got)
    want = np.asarray(want)
    if got.shape != want.shape or not np.allclose(got, want, rtol=rtol, atol=atol):
        raise AssertionError(f"{mistake}\n  got:  {got.tolist()}\n  want: {want.tolist()}")


def gradients(mistake, loss, *inputs):
    """mn.grad(loss(), inputs); a crash fails naming `mistake`."""
    return attempt(lambda: mn.grad(loss(), list(inputs)), mistake)


# --- lesson 1: the engine, against answers by hand


@pytest.mark.task1_1
def test_grad_adds_every_path_and_walks_newest_first(float64):
    """h = e^x + x reaches y = sum(log h + h / 2) along two paths, and x reaches h along two:
    dy/dx = (1/h + 1/2)(e^x + 1)."""
    x = f64([0.5, 1.0, 2.0])
    mistake = ("a node's gradient is the sum (add_n) of the pieces from every node that uses "
               "it, and it is passed on only when all of them are in: walk newest first")

    def loss():
        h = x.exp() + x
        return (h.log() + h / 2.0).sum()

    (g,) = gradients(mistake, loss, x)
    h = np.exp(x.numpy()) + x.numpy()
    expect_close(g, (1 / h + 0.5) * (np.exp(x.numpy()) + 1), mistake)


@pytest.mark.task1_2
def test_mul_backward_is_the_product_rule_summed_to_each_shape(float64):
    rng = np.random.default_rng(0)
    a, b = f64(rng.standard_normal((3, 1))), f64(rng.standard_normal((1, 4)))
    w = rng.standard_normal((3, 4))
    mistake = ("d(ab)/da = b and d(ab)/db = a, times the incoming gradient g, then sum_to each "
               "input's shape (a broadcast input gets the sum over its copies)")
    ga, gb = gradients(mistake, lambda: (a * b).exp().sum(), a, b)
    upstream = np.exp(a.numpy() * b.numpy())  # d sum(exp(ab)) / d(ab)
    expect_close(ga, (upstream * b.numpy()).sum(axis=1, keepdims=True), mistake)
    expect_close(gb, (upstream * a.numpy()).sum(axis=0, keepdims=True), mistake)
    (gw,) = gradients(mistake, lambda: (f64(w) * a).sum(), a)
    expect_close(gw, w.sum(axis=1, keepdims=True), mistake)


class HalfBackward(Function):
    """x^3 with a backward that gives half its derivative, 1.5 x^2: gradcheck must refuse it."""

    def forward(self, a):
        return a ** 3

    def backward(self, g, out):
        x = self.inputs[0]
        return (g * x * x * 1.5,)


@pytest.mark.task1_3
def test_gradcheck_uses_central_differences_and_puts_x_back(float64):
    x = f64([0.5, -1.0, 2.0])
    central = "the finite difference must be central: (f(x + eps) - f(x - eps)) / (2 eps)"
    try:
        mn.gradcheck(lambda x: HalfBackward()(x), [x])
    except mn.GradcheckError as error:
        numbers = re.search(r"finite differences give (\S+), autograd gives (\S+)", str(error))
        measured, analytic = map(float, numbers.groups())
        expect_close(measured / analytic, 2.0, central, rtol=1e-5)
    else:
        raise AssertionError(f"gradcheck accepted a backward that gives half the derivative: "
                             f"{central}")
    assert mn.gradcheck(lambda x: x.exp(), [x])
    expect_close(x.numpy(), [0.5, -1.0, 2.0],
                 "gradcheck must leave x as it was: put host[idx] back and set x.data again "
                 "after the two evaluations", rtol=0, atol=0)


@pytest.mark.task1_4
def test_sum_to_sums_leading_and_kept_axes(float64):
    host = np.arange(24.0).reshape(2, 3, 4)
    g = f64(host, requires_grad=False)
    for shape, axes in [((3, 1), (0, 2)), ((1, 4), (0, 1)), ((2, 1, 4), (1,)), ((4,), (0, 1)),
                        ((1, 1, 1), (0, 1, 2))]:
        mistake = (f"sum_to(g of shape (2, 3, 4), {shape}) must sum over the extra leading axes "
                   "and over the axes where the target shape has a 1 (kept as size 1)")
        out = attempt(lambda: sum_to(g, shape), mistake)
        expect_close(out, host.sum(axis=axes).reshape(shape), mistake)


@pytest.mark.task1_5
@pytest.mark.parametrize("transpose_a, transpose_b",
                         [(False, False), (True, False), (False, True), (True, True)])
def test_matmul_backward_has_the_transposes(float64, transpose_a, transpose_b):
    rng = np.random.default_rng(1)
    a, b, w = (rng.standard_normal((3, 3)) for _ in range(3))  # square: shapes cannot tell
    ta, tb = f64(a), f64(b)
    mistake = ("matmul backward: dA = dC @ op(B)^T and dB = op(A)^T @ dC, and with "
               "transpose_a (transpose_b) the gradient of A (B) is the transpose of that")
    ga, gb = gradients(mistake, lambda: (mn.matmul(ta, tb, transpose_a=transpose_a,
                                                   transpose_b=transpose_b)
                                         * f64(w, False)).sum(), ta, tb)
    op_a, op_b = (a.T if transpose_a else a), (b.T if transpose_b else b)
    d_op_a, d_op_b = w @ op_b.T, op_a.T @ w  # C = op(A) op(B): dop(A) = dC op(B)^T, ...
    expect_close(ga, d_op_a.T if transpose_a else d_op_a, mistake)
    expect_close(gb, d_op_b.T if transpose_b else d_op_b, mistake)


@pytest.mark.task1_6
def test_tanh_and_sigmoid_backward_from_their_outputs(float64):
    x = f64([-2.0, -0.5, 0.3, 1.5])
    w = np.array([1.0, -2.0, 0.5, 3.0])
    mistake = "tanh'(x) = 1 - tanh(x)^2: use the output out, and multiply by the incoming g"
    (g,) = gradients(mistake, lambda: (x.tanh() * f64(w, False)).sum(), x)
    expect_close(g, w * (1 - np.tanh(x.numpy()) ** 2), mistake)
    mistake = "sigmoid'(x) = s (1 - s) with s the output, times the incoming g"
    (g,) = gradients(mistake, lambda: (x.sigmoid() * f64(w, False)).sum(), x)
    s = 1 / (1 + np.exp(-x.numpy()))
    expect_close(g, w * s * (1 - s), mistake)


def softmax_by_hand(x, axis):
    shifted = np.exp(x - x.max(axis=axis, keepdims=True))
    return shifted / shifted.sum(axis=axis, keepdims=True)


@pytest.mark.task1_7
def test_logsumexp_backward_is_softmax_without_overflow_at_1000(float64):
    x = f64([[1000.0, 1000.0, 999.0], [0.0, -1.0, 2.0], [3.0, 3.0, 3.0]])  # square on purpose
    w = np.array([2.0, -1.0, 0.5])
    mistake = ("d logsumexp / dx = g * softmax(x), with g reshaped to keep the summed axis "
               "(shape (3, 1) here); unreshaped it broadcasts along the wrong axis")
    (g,) = gradients(mistake, lambda: (mn.logsumexp(x, axis=1) * f64(w, False)).sum(), x)
    assert np.all(np.isfinite(g.numpy())), (
        "the gradient of logsumexp at logits of 1000 is not finite: compute softmax as "
        "exp(x - out) (out is the log-sum-exp), never exp(x), which overflows")
    expect_close(g, w[:, None] * softmax_by_hand(x.numpy(), 1), mistake)


@pytest.mark.task1_7
def test_log_softmax_backward_with_any_incoming_gradient(float64):
    x = f64([[1000.0, 999.0, 998.0], [0.5, -1.0, 2.0]])
    w = np.array([[1.0, 2.0, -1.0], [0.0, 3.0, 1.0]])  # rows do not sum to 1
    mistake = ("d log_softmax: g - softmax(x) * (sum of g over the axis); the sum of g is not "
               "1 in general")
    (g,) = gradients(mistake, lambda: (mn.log_softmax(x, axis=1) * f64(w, False)).sum(), x)
    expect_close(g, w - softmax_by_hand(x.numpy(), 1) * w.sum(axis=1, keepdims=True), mistake)


@pytest.mark.task1_8
def test_repeated_indices_add_up_in_gather_and_scatter(float64):
    x = f64(np.arange(6.0).reshape(3, 2))
    w = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0], [7.0, 8.0]])
    mistake = ("repeated indices must add up (a scatter-add into zeros, B.scatter_add), "
               "not overwrite each other")
    (g,) = gradients(mistake, lambda: (x[[0, 0, 2, 0]] * f64(w, False)).sum(), x)
    expect_close(g, [[11.0, 14.0], [0.0, 0.0], [5.0, 6.0]], mistake)
    values = f64([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], requires_grad=False)
    out = attempt(lambda: mn.index_add(values, [0, 2, 0], (4, 2)), mistake)
    expect_close(out, [[6.0, 8.0], [0.0, 0.0], [3.0, 4.0], [0.0, 0.0]], mistake)


# --- lesson 2: text


@pytest.mark.task2_1
def test_masked_mean_counts_real_tokens_only(float64):
    x = np.arange(24.0).reshape(2, 4, 3)
    mask = np.array([[1.0, 1.0, 0.0, 1.0], [0.0, 0.0, 0.0, 0.0]])
    tx = f64(x)
    mistake = ("masked_mean divides by the number of real tokens (mask.sum over the axis, at "
               "least 1): padding does not count, and an all-padding row gives zeros")
    out = attempt(lambda: mn.masked_mean(tx, mask), mistake)
    expect_close(out, [x[0, [0, 1, 3]].mean(axis=0), [0.0, 0.0, 0.0]], mistake)
    (g,) = gradients(mistake, lambda: mn.masked_mean(tx, mask).sum(), tx)
    expect_close(g, np.repeat((mask / np.maximum(mask.sum(1, keepdims=True), 1))[..., None], 3, 2),
                 "the gradient of masked_mean is mask / count on every feature")


@pytest.mark.task2_2
def test_encode_pads_with_pad_and_masks_the_padding():
    vocab = Vocab.build(["a b c", "a"])
    ids, mask = vocab.encode(["a b c", "zzz", ""])
    a, b, c = (vocab.encode_one(word)[0] for word in "abc")
    expect_close(ids, [[a, b, c], [Vocab.UNK, Vocab.PAD, Vocab.PAD], [Vocab.PAD] * 3],
                 "rows are padded with Vocab.PAD (0) to the longest row; an unknown word is "
                 "Vocab.UNK", rtol=0, atol=0)
    expect_close(mask, [[1, 1, 1], [1, 0, 0], [0, 0, 0]],
                 "the mask is 1 on real tokens and 0 on padding", rtol=0, atol=0)


# --- lesson 3: the baseline


def text_episode(support, support_labels, query, query_labels):
    """An episode of texts only (the bag-of-words baseline never looks at ids)."""
    dummy = np.zeros((1, 1), np.int64)
    ways = max(support_labels) + 1
    return Episode(dummy, dummy.astype(np.float32), np.array(support_labels), dummy,
                   dummy.astype(np.float32), np.array(query_labels, np.int64),
                   tuple(f"c{i}" for i in range(ways)), support, query, ways,
                   len(support) // ways, len(query) // ways)


@pytest.mark.task3_3
def test_centroids_come_from_the_support_set_only():
    from metanumpy.meta.baselines import BowNearestCentroid

    support = ["red apple", "green apple", "fast car", "red car"]
    query = ["apple", "car", "green apple", "fast"]
    episode = text_episode(support, [0, 0, 1, 1], query, [1, 1, 0, 0])  # wrong on purpose
    predicted = BowNearestCentroid("counts").predict(episode)
    assert predicted.tolist() == [0, 1, 0, 1], (
        "the centroids are the means of the SUPPORT vectors of each class, and the prediction "
        "is the most similar one (argmax of cosine similarity); the query labels are what the "
        f"baseline predicts, never an input (got {predicted.tolist()})")


# --- lesson 4: MAML's inner loop


@pytest.mark.task4_2
def test_adapt_with_create_graph_gives_the_full_meta_gradient(float64):
    """d L_query(adapt(theta)) / d theta, along random directions, against central differences
    of the same function (the forward of adapt is checked by hand above)."""
    from metanumpy.meta.learner import adapt

    model = TextClassifier(12, 2, dim=3, hidden=4, seed=2)
    ids, mask, labels = tiny_batch(seed=2)
    q_ids, q_mask = ids[::-1].copy(), mask[::-1].copy()
    theta = dict(model.named_parameters())
    host = {n: p.numpy().copy() for n, p in theta.items()}

    def query_loss(params, create_graph):
        fast = adapt(model, params, ids, mask, labels, steps=2, lr=0.7, create_graph=create_graph)
        return cross_entropy(model(q_ids, q_mask, params=fast), labels)

    def at(values):
        params = {n: mn.tensor(v, requires_grad=True) for n, v in values.items()}
        return query_loss(params, False).item()

    inner = ("each inner step computes the support loss at params=fast and takes its gradient "
             "with respect to fast")
    full, first = ([g.numpy() for g in attempt(
        lambda: mn.grad(query_loss(theta, create_graph), list(theta.values())), inner)]
        for create_graph in (True, False))
    rng = np.random.default_rng(0)
    v = {n: rng.standard_normal(value.shape) for n, value in host.items()}
    eps = 1e-6
    expected = (at({n: host[n] + eps * v[n] for n in host})
                - at({n: host[n] - eps * v[n] for n in host})) / (2 * eps)
    along = [sum(float((g * v[n]).sum()) for n, g in zip(host, grads)) for grads in (full, first)]
    assert abs(along[0] - along[1]) > 1e-6, (
        "your meta-gradient equals the first-order one: the inner gradients must stay in the "
        "graph (grad(..., create_graph=create_graph) in adapt)")
    assert abs(along[0] - expected) <= 1e-6 * max(1.0, abs(expected)), (
        f"the meta-gradient along a random direction is {along[0]:.8g}, finite differences "
        f"give {expected:.8g}: each step is phi - lr * grad L_support(phi) with the loss "
        "computed at params=phi")


@pytest.mark.task4_1
def test_sgd_step_against_the_closed_form_of_one_meta_gradient(float64):
    """Support loss 1/2 w^T A w (gradient A w, Hessian A), query loss c . w: one inner step
    gives w' = (I - lr A) w, and the meta-gradient d query(w') / dw = (I - lr A) c."""
    from metanumpy.optim import sgd_step

    A = np.array([[2.0, 0.5, 0.0], [0.5, 1.0, -0.3], [0.0, -0.3, 3.0]])
    c, w0, lr = np.array([1.0, -2.0, 0.5]), np.array([0.3, -0.2, 0.5]), 0.4
    w = f64(w0)
    (g,) = mn.grad(0.5 * (w * (f64(A, False) @ w)).sum(), w, create_graph=True)
    new = attempt(lambda: sgd_step({"w": w}, [g], lr)["w"], "sgd_step should return {name: p - lr * g}")
    expect_close(new, w0 - lr * A @ w0,
                 "sgd_step must step against the gradient, scaled by the learning rate: p - lr * g")
    (meta,) = gradients("build p - lr * g from Tensor ops, so that it stays in the graph",
                        lambda: (new * f64(c, False)).sum(), w)
    expect_close(meta, c - lr * A @ c,
                 "the meta-gradient misses the Hessian term: build p - lr * g from the Tensors "
                 "p and g (not from .data, not g.detach()), so second-order MAML can "
                 "differentiate through the step")
    rate = f64(0.25)  # Meta-SGD: d query(w') / d rate = -(A w) . c
    (d_rate,) = gradients("the learned rate must stay in the graph: p - rate * g",
                          lambda: (sgd_step({"w": w}, [g], {"w": rate})["w"] * f64(c, False)).sum(),
                          rate)
    expect_close(d_rate, -(A @ w0) @ c, "Meta-SGD's learned rate gets no gradient: use it in "
                 "p - rate * g as a Tensor")


@pytest.mark.task4_4
def test_fast_weights_takes_the_steps_asked_for_from_theta(float64):
    """fast_weights(episode, k, create_graph): k SGD steps from theta, by hand in NumPy for a
    model that is one Linear layer on a fixed feature; the first-order meta-gradient reaches
    theta (d phi / d theta = I) and equals the query gradient at phi."""
    from metanumpy.meta import MAML
    from metanumpy.nn import Linear, Module

    features = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [1.0, -1.0]])

    class Features(Module):
        def __init__(self):
            super().__init__()
            self.head = Linear(2, 2, rng=0)

        def forward(self, ids, mask):
            return self.head(f64(features[ids[:, 0]], False))

    learner = MAML(Features(), inner_lr=0.3, inner_steps=1, first_order=True)
    ids = np.array([[0], [1], [2], [3]])
    episode = Episode(ids[:2], np.ones((2, 1)), np.array([0, 1]), ids[2:], np.ones((2, 1)),
                      np.array([1, 0]), ("a", "b"), [], [], 2, 1, 1)
    W, b = (p.numpy().copy() for p in (learner.model.head.weight, learner.model.head.bias))

    def step(W, b, x, y):  # one SGD step of mean cross-entropy, by hand
        logits = x @ W + b
        p = np.exp(logits - logits.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        d = (p - np.eye(2)[y]) / len(y)
        return W - 0.3 * x.T @ d, b - 0.3 * d.sum(0)

    want = (W, b)
    for _ in range(3):
        want = step(*want, features[:2], np.array([0, 1]))
    fast = attempt(lambda: learner.fast_weights(episode, 3, create_graph=False),
                   "fast_weights should adapt the model's parameters on the support set")
    expect_close(fast["head.weight"], want[0], "fast_weights must take exactly the `steps` it is "
                 "given (test time uses eval_inner_steps), from theta, on the support set")
    query = lambda: cross_entropy(learner.model(ids[2:], np.ones((2, 1)), params=fast),  # noqa: E731
                                  np.array([1, 0]))
    theta = [learner.model.head.weight, learner.model.head.bias]
    meta = gradients("the fast weights must be computed from theta itself (not a detached copy), "
                     "so the query loss reaches theta", query, *theta)
    at_phi = mn.grad(query(), [fast["head.weight"], fast["head.bias"]])
    expect_close(meta[0], at_phi[0].numpy(), "first order: d phi / d theta = I, so the "
                 "meta-gradient is the query gradient at phi; adapt with create_graph=False")


@pytest.mark.task5_1
def test_reptile_outer_step_by_hand_for_three_tasks():
    """theta + eps/k * sum_i(phi_i - theta) with theta, phi_i and eps given."""
    from metanumpy.meta import Reptile

    model = TextClassifier(12, 2, dim=3, hidden=4, seed=0)
    learner = Reptile(model)
    theta = {n: p.numpy().copy() for n, p in model.named_parameters()}
    rng = np.random.default_rng(3)
    phis = [{n: mn.tensor(v + rng.standard_normal(v.shape)) for n, v in theta.items()}
            for _ in range(3)]
    attempt(lambda: learner.outer_step(phis, 0.25), "outer_step(phis, eps) updates each parameter")
    for n, p in model.named_parameters():
        mean_phi = sum(phi[n].numpy() for phi in phis) / 3
        expect_close(p, theta[n] + 0.25 * (mean_phi - theta[n]),
                     "Reptile moves theta towards the mean of the tasks' phi: theta + eps/k * "
                     "sum_i(phi_i - theta), averaged over the meta-batch", rtol=1e-5, atol=1e-6)


@pytest.mark.task6_1
def test_matching_class_probabilities_are_the_attention_summed_per_class(float64):
    """log P(k | q) = log sum_j a_qj [y_j = k] and a = softmax over the support set."""
    from metanumpy.meta.matching import class_log_probs, log_attention

    rng = np.random.default_rng(4)
    query, support = rng.standard_normal((3, 4)), rng.standard_normal((5, 4))
    labels = np.array([2, 0, 2, 1, 0])
    cos = (query / np.linalg.norm(query, axis=1, keepdims=True)) @ (
        support / np.linalg.norm(support, axis=1, keepdims=True)).T
    attn = np.exp(3 * cos) / np.exp(3 * cos).sum(1, keepdims=True)
    log_attn = attempt(lambda: log_attention(f64(query), f64(support), temperature=3.0),
                       "log_attention(query, support, temperature)")
    expect_close(log_attn, np.log(attn), "the attention is a softmax over the support set (axis "
                 "1) of temperature * cosine similarity, and log_attention returns its log")
    probs = attempt(lambda: class_log_probs(f64(np.log(attn)), labels, 3),
                    "class_log_probs(log_attn, labels, ways)")
    expect_close(probs, np.log(attn @ np.eye(3)[labels]),
                 "P(k | q) sums the attention (not its log) over class k's support examples: "
                 "log(attention @ one_hot(labels, ways))")


# --- lesson 7: ProtoNet


@pytest.mark.task7_1
def test_prototypes_with_shuffled_labels_and_unequal_counts(float64):
    from metanumpy.meta.protonet import prototypes

    support = np.array([[1.0, 0.0], [3.0, 2.0], [0.0, 4.0], [5.0, 2.0], [2.0, 2.0], [7.0, 1.0]])
    labels = np.array([2, 0, 2, 1, 2, 0])
    protos = attempt(lambda: prototypes(f64(support), labels, ways=3), "prototypes crashed")
    expect_close(protos, [support[labels == c].mean(axis=0) for c in range(3)],
                 "prototype k is the MEAN of the support embeddings labelled k (labels come "
                 "in any order, classes may have different counts)")


@pytest.mark.task7_2
def test_prototype_logits_sign_and_scale(float64):
    from metanumpy.meta.protonet import prototype_logits

    query, protos = np.array([[0.0, 1.0], [2.0, 2.0]]), np.array([[0.0, 3.0], [1.0, 0.0]])
    logits = attempt(lambda: prototype_logits(f64(query), f64(protos)), "prototype_logits crashed")
    distances = ((query[:, None, :] - protos[None, :, :]) ** 2).sum(-1)
    expect_close(logits, -distances, "the logits are MINUS the squared Euclidean distances: "
                                     "the nearest prototype gets the largest logit")
    cosine = attempt(lambda: prototype_logits(f64(query), f64(protos), "cosine", scale=3.0),
                     "prototype_logits crashed")
    unit_q = query / np.linalg.norm(query, axis=1, keepdims=True)
    unit_p = protos / np.linalg.norm(protos, axis=1, keepdims=True)
    expect_close(cosine, 3.0 * unit_q @ unit_p.T, "cosine logits are scale * cosine similarity")


### BEGIN HIDDEN TESTS
# --- the teacher's side: regions, markers and releases of this repository. Hidden from the
# student copy, which has no regions left to check.

import configparser
import os
import shutil
import subprocess
import sys
from pathlib import Path

from metanumpy.assignments import grade, list_tasks, load_mutants, release, run_pytest
from metanumpy.assignments.mutants import mutated_source

REPO = Path(__file__).resolve().parents[1]
TASKS = ["task1_1", "task1_2", "task1_3", "task1_4", "task1_5", "task1_6", "task1_7", "task1_8",
         "task2_1", "task2_2", "task3_1", "task3_2", "task3_3", "task4_1", "task4_2", "task4_3",
         "task4_4", "task5_1", "task6_1", "task7_1", "task7_2"]
TASK_MARK = re.compile(r"@pytest\.mark\.(task\d+_\d+)\b|task=\"(task\d+_\d+)\"")


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """A plain copy of the working tree without .git: `release` then takes every file, also
    those not committed yet (with .git it takes what git tracks)."""
    copy = tmp_path_factory.mktemp("reference")
    shutil.copytree(REPO, copy, dirs_exist_ok=True, ignore=shutil.ignore_patterns(
        ".git", "__pycache__", "*.egg-info", ".pytest_cache", "out", "runs"))
    return copy


def test_regions_markers_and_marked_tests_match_one_to_one(reference):
    regions = list_tasks(reference)
    assert list(dict.fromkeys(task.id for task in regions)) == TASKS
    assert all(task.hint for task in regions)  # every raise tells the student what to write
    config = configparser.ConfigParser(interpolation=None)
    config.read(REPO / "setup.cfg", encoding="utf-8")
    markers = [line.split(":", 1)[0].strip()
               for line in config.get("tool:pytest", "markers").splitlines()]
    assert [name for name in markers if name.startswith("task")] == TASKS
    used = set()
    for path in (REPO / "tests").glob("test_*.py"):
        if path.name != "test_assignments.py":  # its markers belong to toy repositories
            used |= {a or b for a, b in TASK_MARK.findall(path.read_text(encoding="utf-8"))}
    assert sorted(used) == sorted(TASKS)


def test_the_full_release_compiles_and_imports(reference, tmp_path):
    student = tmp_path / "student"
    assert list(dict.fromkeys(task.id for task in release(reference, student))) == TASKS
    assert "### BEGIN" not in (student / "metanumpy" / "autograd" / "ops.py").read_text()
    for path in student.rglob("*.py"):
        compile(path.read_text(encoding="utf-8"), str(path), "exec")
    program = ("import importlib, pkgutil, metanumpy\n"
               "for module in pkgutil.walk_packages(metanumpy.__path__, 'metanumpy.'):\n"
               "    if not module.name.endswith('__main__'):\n"
               "        importlib.import_module(module.name)\n"
               "print(metanumpy.__file__)\n")
    done = subprocess.run([sys.executable, "-c", program], cwd=student, capture_output=True,
                          text=True, timeout=60, env={**os.environ, "PYTHONPATH": str(student)})
    assert done.returncode == 0, done.stderr
    assert Path(done.stdout.strip()).parent == student / "metanumpy"
    assert not (student / "tests" / "mutants.py").exists()  # the mutants stay with the teacher
    assert not any(path.read_text(encoding="utf-8").startswith("### TEACHER ONLY")
                   for path in student.rglob("*.py"))


def test_every_mutant_still_applies_to_its_region(reference):
    mutants = load_mutants(reference)
    assert len(mutants) >= 2 * 17
    for mutant in mutants:
        assert mutated_source(reference, mutant) != (reference / mutant.file).read_text()


def run_in(folder, *command, python_path):
    environment = {**os.environ, "PYTHONPATH": str(python_path)}
    return subprocess.run([sys.executable, *map(str, command)], cwd=folder, capture_output=True,
                          text=True, timeout=120, env=environment)


def test_a_released_copy_runs_its_own_code_or_says_what_to_do(reference, tmp_path):
    student, installed = tmp_path / "student", tmp_path / "installed"
    release(reference, student)
    release(reference, installed, only=[])  # stands for a reference installed elsewhere
    lesson = run_in(student, "lessons/01_autograd.py", "--fast", python_path=installed)
    assert lesson.returncode == 1
    assert f"imported metanumpy from {installed / 'metanumpy'}" in lesson.stderr
    assert "run `pip install -e .`" in lesson.stderr
    tests = run_in(tmp_path, "-m", "pytest", student / "tests" / "test_text.py", "-q",
                   "-p", "no:cacheprovider", python_path=installed)
    assert tests.returncode == 4 and "run `pip install -e .`" in tests.stdout + tests.stderr
    lesson = run_in(student, "lessons/01_autograd.py", "--fast", python_path=student)
    assert lesson.returncode == 1 and "Traceback" not in lesson.stderr
    assert lesson.stderr.strip().splitlines()[-1].startswith(
        "error: this lesson needs Task 1.1, which is not written yet "
        "(metanumpy/autograd/grad.py:")


def test_the_classic_maml_bug_scores_zero_and_is_named(reference, tmp_path):
    student = tmp_path / "student"
    release(reference, student, only=["task4_3"])
    maml = student / "metanumpy" / "meta" / "maml.py"
    text = maml.read_text()
    answer = ("fast = self.fast_weights(episode, self.inner_steps, "
              "create_graph=not self.first_order)\n"
              "        logits = self.model(episode.query_ids, episode.query_mask)\n"
              "        return cross_entropy(logits, episode.query_labels), logits")
    stripped = re.search(r'raise NotImplementedError\("Task 4\.3[^\n]*', text).group(0)
    maml.write_text(text.replace(stripped, answer))
    grades = grade(student, only=["task4_3", "task4_4"], out_dir=tmp_path / "grades")
    maml_row, first_order_row = grades.tasks
    assert (maml_row.score, maml_row.status) == (0.0, "failed")
    assert "the query loss must use the adapted weights: call the model with params=fast" in (
        maml_row.detail)
    assert first_order_row.status == "passed"  # needs no 4.3
    assert first_order_row.passed == first_order_row.total == 3


# (task, the test files with its tests): one engine, one tasks, one meta-learning task
STRIPPED = [("task1_2", "tests/test_autograd.py"), ("task3_1", "tests/test_episodes.py"),
            ("task4_3", "tests/test_meta.py")]


@pytest.mark.parametrize("task, files", STRIPPED)
def test_a_copy_without_one_task_fails_its_tests_with_its_message(reference, tmp_path, task,
                                                                 files):
    release(reference, tmp_path / "copy", only=[task])
    run = run_pytest(tmp_path / "copy", ["-m", task, *files.split()], timeout=60)
    title = "Task {}.{}".format(*task[4:].split("_"))
    assert run.cases, run.output
    for case in run.cases:
        assert case.outcome == "failed" and f"NotImplementedError: {title}:" in case.message, case
    if task == "task1_2":  # tests that never multiply tensors with gradients still pass
        independent = run_pytest(tmp_path / "copy", ["tests/test_text.py"], timeout=60)
        assert independent.cases and {case.outcome for case in independent.cases} == {"passed"}
### END HIDDEN TESTS
