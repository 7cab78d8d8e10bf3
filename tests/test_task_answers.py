"""Each classroom task against an answer computed here by hand (closed forms, plain NumPy), and
the classic mistakes: a test that fails names the mistake and the fix first.

These catch the known wrong solutions of tests/mutants.py (`python -m metanumpy assignments
check --mutants`). A task's tests use only the tasks before it, and let a task's own
NotImplementedError through unchanged, so `python -m pytest -m task1_4` says "Task 1.4" until
it is written.
"""

import re

import numpy as np
import pytest

import metanumpy as mn
from metanumpy.autograd import Function
from metanumpy.autograd.functional import cross_entropy
from metanumpy.autograd.ops import sum_to
from metanumpy.meta.baselines import BowNearestCentroid
from metanumpy.meta.learner import adapt
from metanumpy.meta.protonet import prototype_logits, prototypes
from metanumpy.tasks.episodes import Episode
from metanumpy.text import TextClassifier, Vocab


@pytest.fixture
def float64():
    with mn.default_dtype("float64"):
        yield


def f64(data, requires_grad=True):
    return mn.tensor(data, requires_grad=requires_grad, dtype="float64")


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


# --- lesson 1: the engine


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
    support = ["red apple", "green apple", "fast car", "red car"]
    query = ["apple", "car", "green apple", "fast"]
    episode = text_episode(support, [0, 0, 1, 1], query, [1, 1, 0, 0])  # wrong on purpose
    predicted = BowNearestCentroid("counts").predict(episode)
    assert predicted.tolist() == [0, 1, 0, 1], (
        "the centroids are the means of the SUPPORT vectors of each class, and the prediction "
        "is the most similar one (argmax of cosine similarity); the query labels are what the "
        f"baseline predicts, never an input (got {predicted.tolist()})")


# --- lesson 4: MAML's inner loop


def tiny_batch(n=4, vocab=12, length=3, seed=0):
    rng = np.random.default_rng(seed)
    ids = rng.integers(2, vocab, size=(n, length))
    mask = np.ones((n, length), dtype=np.float32)
    mask[::2, -1] = 0
    return ids * mask.astype(np.int64), mask, np.arange(n) % 2


@pytest.mark.task4_2
def test_adapt_with_create_graph_gives_the_full_meta_gradient(float64):
    """d L_query(adapt(theta)) / d theta, along random directions, against central differences
    of the same function (the forward of adapt is checked by hand in test_tasks_assignments)."""
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

    full = [g.numpy() for g in mn.grad(query_loss(theta, True), list(theta.values()))]
    first = [g.numpy() for g in mn.grad(query_loss(theta, False), list(theta.values()))]
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


# --- lesson 7: ProtoNet


@pytest.mark.task7_1
def test_prototypes_with_shuffled_labels_and_unequal_counts(float64):
    support = np.array([[1.0, 0.0], [3.0, 2.0], [0.0, 4.0], [5.0, 2.0], [2.0, 2.0], [7.0, 1.0]])
    labels = np.array([2, 0, 2, 1, 2, 0])
    protos = attempt(lambda: prototypes(f64(support), labels, ways=3), "prototypes crashed")
    expect_close(protos, [support[labels == c].mean(axis=0) for c in range(3)],
                 "prototype k is the MEAN of the support embeddings labelled k (labels come "
                 "in any order, classes may have different counts)")


@pytest.mark.task7_2
def test_prototype_logits_sign_and_scale(float64):
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
