"""Every op of the engine, checked against finite differences to second order.

What this file covers:

* `CASES`: one row per op and shape pattern (broadcasting, keepdims, negative axes, batched
  and 1-D matmul, slices, integer and boolean indexing, ...). Each row runs `gradcheck`
  (first derivatives) and `gradgradcheck` (second derivatives) in float64, for three seeds.
* The same rows in float32: the output and the gradient stay float32 (no silent upcast when a
  Python float such as `2.0 * x`, a NumPy float64 scalar or a host array enters the expression).
* Exact values where the finite-difference check cannot see the point: repeated indices and
  repeated embedding ids accumulate, a boolean mask passes the gradient through, a zero
  vector has a finite cosine gradient, a masked row with no valid position gives zeros,
  ties in `max` share the gradient, and the stable ops do not overflow.

To add an op to the engine, add a row to `CASES`: the row is the op's whole test.
"""

import numpy as np
import pytest

import metanumpy as mn
from metanumpy import backend as B

# --- the helper every row uses ------------------------------------------------------------

DOMAINS = {
    # standard normal values
    "real": lambda rng, shape: rng.standard_normal(shape),
    # in [0.5, 2]: for log, sqrt and fractional powers
    "positive": lambda rng, shape: rng.uniform(0.5, 2.0, shape),
    # |x| in [0.3, 2]: away from the kinks of relu and abs and from the pole of 1/x
    "nonzero": lambda rng, shape: rng.choice([-1.0, 1.0], shape) * rng.uniform(0.3, 2.0, shape),
}


def make_inputs(shapes, seed, domain="real", dtype="float64"):
    """One Tensor (requires_grad) per shape, drawn from `default_rng(seed)`."""
    rng = np.random.default_rng(seed)
    draw = DOMAINS[domain]
    return [mn.tensor(draw(rng, shape), requires_grad=True, dtype=dtype) for shape in shapes]


def check(fn, *shapes, seed=0, domain="real"):
    """gradcheck and gradgradcheck of `fn` at float64 inputs of the given shapes."""
    inputs = make_inputs(shapes, seed, domain)
    assert mn.gradcheck(fn, inputs)
    assert mn.gradgradcheck(fn, inputs)


# constant data some rows close over (fixed, so every seed sees the same structure)
MASK_3x4 = np.array([[True, False, True, True], [False, False, True, False], [True, True, False, True]])
ROW_MASK = np.array([True, False, True])
LABELS = np.array([2, 0, 3, 3, 1])
IDS = np.array([[0, 2, 2], [5, 0, 2]])  # repeated ids: their gradients must add up
PAD_MASK = np.array([[1, 1, 1, 0, 0], [1, 0, 0, 0, 0], [0, 0, 0, 0, 0]], dtype=float)  # last row empty


def case(id, fn, *shapes, domain="real", task=None):
    """One row; `task` names the classroom task whose code the row checks (its pytest marker)."""
    marks = [getattr(pytest.mark, task)] if task else []
    return pytest.param(fn, shapes, domain, id=id, marks=marks)


CASES = [
    # elementwise with two inputs, with broadcasting and Python scalars
    case("add", lambda a, b: a + b, (3, 4), (3, 4)),
    case("add-broadcast-row", lambda a, b: a + b, (3, 4), (4,), task="task1_4"),
    case("add-broadcast-both", lambda a, b: a + b, (2, 1, 3), (4, 1), task="task1_4"),
    case("add-scalar", lambda a: 2.5 + a, (3, 4)),
    case("sub", lambda a, b: a - b, (3, 4), (3, 4)),
    case("sub-broadcast", lambda a, b: a - b, (3, 1), (1, 4), task="task1_4"),
    case("sub-scalar-left", lambda a: 1.0 - a, (3,)),
    case("mul", lambda a, b: a * b, (3, 4), (3, 4)),
    case("mul-broadcast", lambda a, b: a * b, (2, 3, 1), (3, 4), task="task1_4"),
    case("mul-scalar", lambda a: 3.0 * a, (2, 3)),
    case("mul-same-tensor", lambda a: a * a, (2, 3)),
    case("div", lambda a, b: a / b, (3, 4), (3, 4), domain="nonzero"),
    case("div-broadcast", lambda a, b: a / b, (2, 1), (1, 3), domain="nonzero", task="task1_4"),
    case("div-scalar-left", lambda a: 2.0 / a, (3, 2), domain="nonzero"),
    case("div-scalar-right", lambda a: a / 4.0, (3, 2)),
    case("neg", lambda a: -a, (3, 4)),
    # powers with a constant exponent
    case("pow-2", lambda a: a**2, (3, 4)),
    case("pow-3", lambda a: a**3, (3, 4)),
    case("pow-1", lambda a: a**1, (3,)),
    case("pow-0.5", lambda a: a**0.5, (3, 4), domain="positive"),
    case("pow-1.5", lambda a: a**1.5, (3, 4), domain="positive"),
    case("pow-minus-1", lambda a: a**-1, (3, 4), domain="nonzero"),
    # matrix products
    case("matmul-2d", lambda a, b: a @ b, (3, 4), (4, 2), task="task1_5"),
    case("matmul-batched", lambda a, b: a @ b, (2, 3, 4), (2, 4, 5), task="task1_5"),
    case("matmul-broadcast-batch", lambda a, b: a @ b, (2, 1, 3, 4), (3, 4, 2), task="task1_5"),
    case("matmul-2d-times-batched", lambda a, b: a @ b, (3, 4), (2, 4, 5), task="task1_5"),
    case("matmul-vector-matrix", lambda a, b: a @ b, (4,), (4, 2), task="task1_5"),
    case("matmul-matrix-vector", lambda a, b: a @ b, (3, 4), (4,), task="task1_5"),
    case("matmul-vector-vector", lambda a, b: a @ b, (4,), (4,), task="task1_5"),
    case("matmul-vector-batched", lambda a, b: a @ b, (4,), (2, 4, 3), task="task1_5"),
    case("matmul-batched-vector", lambda a, b: a @ b, (2, 3, 4), (4,), task="task1_5"),
    # elementwise with one input
    case("exp", lambda a: a.exp(), (3, 4)),
    case("log", lambda a: a.log(), (3, 4), domain="positive"),
    case("sqrt", lambda a: a.sqrt(), (3, 4), domain="positive"),
    case("tanh", lambda a: a.tanh(), (3, 4), task="task1_6"),
    case("sigmoid", lambda a: a.sigmoid(), (3, 4), task="task1_6"),
    case("relu", lambda a: a.relu(), (3, 4), domain="nonzero"),
    case("abs", lambda a: a.abs(), (3, 4), domain="nonzero"),
    # reductions
    case("sum-all", lambda a: a.sum(), (2, 3, 4)),
    case("sum-axis", lambda a: a.sum(axis=1), (2, 3, 4)),
    case("sum-negative-axis", lambda a: a.sum(axis=-1), (2, 3, 4)),
    case("sum-tuple-axes", lambda a: a.sum(axis=(0, 2)), (2, 3, 4)),
    case("sum-keepdims", lambda a: a.sum(axis=1, keepdims=True), (2, 3, 4)),
    case("sum-tuple-keepdims", lambda a: a.sum(axis=(0, -1), keepdims=True), (2, 3, 4)),
    case("mean-all", lambda a: a.mean(), (2, 3, 4)),
    case("mean-axis", lambda a: a.mean(axis=0), (2, 3, 4)),
    case("mean-negative-axis", lambda a: a.mean(axis=-2), (2, 3, 4)),
    case("mean-tuple-keepdims", lambda a: a.mean(axis=(1, 2), keepdims=True), (2, 3, 4)),
    case("max-all", lambda a: a.max(), (2, 3, 4)),
    case("max-axis", lambda a: a.max(axis=1), (2, 3, 4)),
    case("max-negative-axis-keepdims", lambda a: a.max(axis=-1, keepdims=True), (2, 3, 4)),
    case("max-tuple-axes", lambda a: a.max(axis=(0, 2)), (2, 3, 4)),
    case("broadcast_to", lambda a: mn.broadcast_to(a, (2, 3, 4)), (3, 1), task="task1_4"),
    # shapes
    case("reshape", lambda a: a.reshape(6, 4), (2, 3, 4)),
    case("reshape-minus-one", lambda a: a.reshape(4, -1, 2), (2, 3, 4)),
    case("reshape-flatten", lambda a: a.reshape(-1), (2, 3, 4)),
    case("transpose-reverse", lambda a: a.transpose(), (2, 3, 4)),
    case("transpose-axes", lambda a: a.transpose(1, 0, 2), (2, 3, 4)),
    case("transpose-negative-axes", lambda a: a.transpose(-1, 0, 1), (2, 3, 4)),
    case("T", lambda a: a.T, (3, 4)),
    # indexing: gather forward, scatter-add backward
    case("index-int", lambda a: a[1], (3, 4), task="task1_8"),
    case("index-negative-int", lambda a: a[-1, 2], (3, 4), task="task1_8"),
    case("slice", lambda a: a[:, 1:3], (3, 4), task="task1_8"),
    case("slice-step", lambda a: a[::-2, ::2], (5, 4), task="task1_8"),
    case("slice-ellipsis-newaxis", lambda a: a[..., None, 0], (2, 3, 4), task="task1_8"),
    case("int-array-duplicates", lambda a: a[[0, 0, 2, 0]], (3, 4), task="task1_8"),
    case("int-array-columns", lambda a: a[:, [1, 1, 3]], (3, 4), task="task1_8"),
    case("int-array-pairs", lambda a: a[[0, 2, 2], [1, 1, 3]], (3, 4), task="task1_8"),
    case("bool-mask", lambda a: a[MASK_3x4], (3, 4), task="task1_8"),
    case("bool-row-mask", lambda a: a[ROW_MASK], (3, 4), task="task1_8"),
    case("index_add", lambda a: mn.index_add(a, [0, 2, 0], (4, 3)), (3, 3), task="task1_8"),
    # joining
    case("concatenate-axis0", lambda a, b: mn.concatenate([a, b]), (2, 3), (4, 3)),
    case("concatenate-axis1-three", lambda a, b, c: mn.concatenate([a, b, c], axis=1),
         (2, 1), (2, 3), (2, 2)),
    case("concatenate-negative-axis", lambda a, b: mn.concatenate([a, b], axis=-1), (2, 3, 1), (2, 3, 2)),
    case("stack", lambda a, b: mn.stack([a, b]), (2, 3), (2, 3)),
    case("stack-last-axis", lambda a, b, c: mn.stack([a, b, c], axis=-1), (2, 3), (2, 3), (2, 3)),
    # where with a constant mask
    case("where", lambda a, b: mn.where(MASK_3x4, a, b), (3, 4), (3, 4)),
    case("where-broadcast", lambda a, b: mn.where(MASK_3x4, a, b), (3, 4), (4,), task="task1_4"),
    case("where-scalar", lambda a: mn.where(MASK_3x4, a, 0.0), (3, 4)),
    # fused stable ops and composites
    case("logsumexp-all", lambda a: mn.logsumexp(a), (3, 4), task="task1_7"),
    case("logsumexp-axis", lambda a: mn.logsumexp(a, axis=1), (3, 4), task="task1_7"),
    case("logsumexp-keepdims", lambda a: mn.logsumexp(a, axis=0, keepdims=True), (3, 4),
         task="task1_7"),
    case("logsumexp-tuple-axes", lambda a: mn.logsumexp(a, axis=(0, 2)), (2, 3, 4), task="task1_7"),
    case("softmax", lambda a: mn.softmax(a), (3, 4), task="task1_7"),
    case("softmax-axis0", lambda a: mn.softmax(a, axis=0), (3, 4), task="task1_7"),
    case("log_softmax", lambda a: mn.log_softmax(a), (3, 4), task="task1_7"),
    case("log_softmax-axis0", lambda a: mn.log_softmax(a, axis=0), (3, 4), task="task1_7"),
    case("cross_entropy", lambda a: mn.cross_entropy(a, LABELS), (5, 4)),
    case("nll", lambda a: mn.nll(mn.log_softmax(a), LABELS), (5, 4), task="task1_7"),
    case("l2_normalize", lambda a: mn.l2_normalize(a), (3, 4)),
    case("cosine_similarity", lambda a, b: mn.cosine_similarity(a, b), (3, 4), (5, 4)),
    case("pairwise_sq_dists", lambda a, b: mn.pairwise_sq_dists(a, b), (3, 4), (5, 4)),
    case("masked_mean", lambda a: mn.masked_mean(a, PAD_MASK), (3, 5, 2), task="task2_1"),
    case("embedding-repeated-ids", lambda t: mn.embedding(t, IDS), (6, 3), task="task1_8"),
]

SEEDS = [0, 1, 2]


@pytest.mark.parametrize("seed", SEEDS, ids=lambda s: f"seed{s}")
@pytest.mark.parametrize("fn, shapes, domain", CASES)
def test_first_and_second_derivatives(fn, shapes, domain, seed):
    """Autograd's first and second derivatives agree with finite differences (float64)."""
    check(fn, *shapes, seed=seed, domain=domain)


@pytest.mark.parametrize("fn, shapes, domain", CASES)
def test_float32_stays_float32(fn, shapes, domain):
    """float32 inputs give a float32 output and float32 gradients (no upcast to float64)."""
    inputs = make_inputs(shapes, seed=0, domain=domain, dtype="float32")
    out = fn(*inputs)
    assert out.dtype == np.float32
    grads = mn.grad(out.sum(), inputs, create_graph=True)
    assert [g.dtype for g in grads] == [np.float32] * len(inputs)


MIXED_CONSTANTS = [
    pytest.param(lambda x: 2.0 * x - 1, id="python-numbers"),
    pytest.param(lambda x: np.float64(2.0) * x / np.float64(3.0), id="numpy-float64-scalars"),
    pytest.param(lambda x: x + np.ones(3), id="float64-host-array"),
    pytest.param(lambda x: x ** np.float64(0.5), id="numpy-scalar-exponent"),
    pytest.param(lambda x: mn.where(np.array([True, False, True]), x, np.float64(1.0)), id="where-constant"),
    pytest.param(lambda x: mn.concatenate([x, np.ones(2)]), id="concatenate-host-array"),
    pytest.param(lambda x: mn.stack([np.zeros(3), x]), id="stack-host-array-first"),
]


@pytest.mark.parametrize("expression", MIXED_CONSTANTS)
def test_constants_take_the_dtype_of_the_tensor(expression):
    """Python numbers, NumPy float64 scalars and host arrays do not upcast a float32 tensor.

    (Host arrays mix in on the numpy backend only; strict and cupy refuse them, as CuPy does.)
    """
    with B.use_backend("numpy"):
        x = mn.tensor([1.0, 2.0, 3.0], requires_grad=True)
        assert x.dtype == np.float32
        assert expression(x).dtype == np.float32


def test_integer_tensors_stay_integer_with_python_integers():
    """ids + 1 is still an integer tensor (usable as labels), not a float one."""
    ids = mn.tensor([0, 1, 2])
    assert (ids + 1).dtype == np.int64 and (2 * ids).dtype == np.int64


# --- exact values at the points finite differences do not probe ----------------------------


@pytest.mark.task1_8
def test_repeated_indices_accumulate():
    """x[[0, 0, 2]]: row 0 is read twice, so its gradient is 2; row 1 is unused, so 0."""
    x = mn.tensor(np.ones((3, 2)), requires_grad=True)
    (g,) = mn.grad(x[[0, 0, 2]].sum(), x)
    np.testing.assert_array_equal(g.numpy(), [[2, 2], [0, 0], [1, 1]])


@pytest.mark.task1_8
def test_boolean_mask_passes_gradient_to_selected_entries_only():
    """The gradient of x[mask].sum() is the mask itself."""
    x = mn.tensor(np.zeros((3, 4)), requires_grad=True)
    (g,) = mn.grad(x[MASK_3x4].sum(), x)
    np.testing.assert_array_equal(g.numpy(), MASK_3x4.astype(float))


@pytest.mark.task1_8
def test_embedding_repeated_ids_accumulate():
    """Each table row's gradient counts how often its id appears in the batch."""
    table = mn.tensor(np.zeros((6, 3)), requires_grad=True)
    out = mn.embedding(table, IDS)
    assert out.shape == (2, 3, 3)
    (g,) = mn.grad(out.sum(), table)
    counts = np.bincount(IDS.ravel(), minlength=6)
    np.testing.assert_array_equal(g.numpy(), np.repeat(counts[:, None], 3, axis=1))


@pytest.mark.task2_1
def test_masked_mean_ignores_padding_and_gives_zeros_for_an_empty_row():
    """Padded positions do not count; a row whose mask is all zero gives zeros, not NaN."""
    x = mn.tensor(np.random.default_rng(0).standard_normal((3, 5, 2)), requires_grad=True)
    out = mn.masked_mean(x, PAD_MASK)
    host = x.numpy()
    np.testing.assert_allclose(out.numpy()[0], host[0, :3].mean(axis=0))
    np.testing.assert_allclose(out.numpy()[1], host[1, 0])
    np.testing.assert_array_equal(out.numpy()[2], [0.0, 0.0])
    (g,) = mn.grad(out.sum(), x)
    np.testing.assert_allclose(g.numpy()[0, :, 0], [1 / 3, 1 / 3, 1 / 3, 0, 0])
    np.testing.assert_array_equal(g.numpy()[2], np.zeros((5, 2)))


def test_cosine_similarity_at_a_zero_vector_is_zero_with_a_finite_gradient():
    """A zero row (e.g. an empty sentence) has cosine 0 and finite first and second derivatives."""
    a = mn.tensor([[0.0, 0.0, 0.0], [1.0, 2.0, 2.0]], requires_grad=True, dtype="float64")
    b = mn.tensor([[3.0, 0.0, 4.0]], requires_grad=True, dtype="float64")
    sims = mn.cosine_similarity(a, b)
    np.testing.assert_allclose(sims.numpy(), [[0.0], [11.0 / 15.0]], atol=1e-7)
    ga, gb = mn.grad(sims.sum(), [a, b], create_graph=True)
    assert np.isfinite(ga.numpy()).all() and np.isfinite(gb.numpy()).all()
    (hessian_row,) = mn.grad((ga * ga).sum(), a)
    assert np.isfinite(hessian_row.numpy()).all()


def test_max_splits_the_gradient_between_ties():
    """With two equal maxima each gets half of the gradient."""
    x = mn.tensor([[1.0, 3.0, 3.0], [2.0, 0.0, 1.0]], requires_grad=True)
    (g,) = mn.grad(x.max(axis=1).sum(), x)
    np.testing.assert_array_equal(g.numpy(), [[0, 0.5, 0.5], [1, 0, 0]])


def test_stable_ops_do_not_overflow():
    """sigmoid, logsumexp, log_softmax and cross_entropy stay finite at +-1000."""
    x = mn.tensor([[-1000.0, 0.0, 1000.0]], requires_grad=True)
    np.testing.assert_allclose(x.sigmoid().numpy(), [[0.0, 0.5, 1.0]])
    np.testing.assert_allclose(mn.logsumexp(x, axis=1).numpy(), [1000.0])
    np.testing.assert_allclose(mn.log_softmax(x).numpy(), [[-2000.0, -1000.0, 0.0]])
    loss = mn.cross_entropy(x, np.array([2]))
    (g,) = mn.grad(loss, x)
    assert np.isfinite(loss.item()) and np.isfinite(g.numpy()).all()


def test_cross_entropy_matches_its_definition():
    """cross_entropy = mean over rows of -log softmax(logits)[label]."""
    logits = np.random.default_rng(1).standard_normal((5, 4))
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    expected = -np.log(probs[np.arange(5), LABELS]).mean()
    assert mn.cross_entropy(mn.tensor(logits, dtype="float64"), LABELS).item() == pytest.approx(expected)


def test_pairwise_sq_dists_matches_its_definition():
    """Entry (i, j) is |a_i - b_j|^2."""
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal((3, 4)), rng.standard_normal((5, 4))
    expected = ((a[:, None, :] - b[None, :, :]) ** 2).sum(axis=-1)
    got = mn.pairwise_sq_dists(mn.tensor(a, dtype="float64"), mn.tensor(b, dtype="float64"))
    np.testing.assert_allclose(got.numpy(), expected)


def test_matmul_with_one_dimensional_operands_has_numpy_shapes():
    """1-D operands follow NumPy: (k,)@(k,) -> (), (k,)@(b,k,n) -> (b,n), (b,m,k)@(k,) -> (b,m)."""
    rng = np.random.default_rng(3)
    for sa, sb in [((4,), (4,)), ((4,), (2, 4, 3)), ((2, 3, 4), (4,)), ((4,), (4, 5))]:
        a, b = rng.standard_normal(sa), rng.standard_normal(sb)
        got = mn.tensor(a, dtype="float64") @ mn.tensor(b, dtype="float64")
        assert got.shape == (a @ b).shape
        np.testing.assert_allclose(got.numpy(), a @ b)


def test_power_zero_has_zero_gradient_at_zero_to_second_order():
    """d/dx x^0 = 0 everywhere, x = 0 included (PyTorch gives 0 too; 0 * x^-1 would be NaN)."""
    x = mn.tensor(np.array([0.0, 2.0, -3.0]), dtype="float64", requires_grad=True)
    (g,) = mn.grad((x**0).sum(), x, create_graph=True)
    np.testing.assert_array_equal(g.numpy(), [0.0, 0.0, 0.0])
    # second order: the gradient of sum(g * x) = sum(x * 0) is zero and finite, not NaN
    (gg,) = mn.grad((g * x).sum(), x, allow_unused=True)
    assert gg is None or np.array_equal(gg.numpy(), [0.0, 0.0, 0.0])
    # x ** 1 at zero: first derivative 1, second derivative 0 (its backward must not call x ** -1)
    (g1,) = mn.grad((x**1).sum(), x, create_graph=True)
    np.testing.assert_array_equal(g1.numpy(), [1.0, 1.0, 1.0])
    y = mn.tensor(np.array([0.0, 1.5]), dtype="float64", requires_grad=True)
    (d1,) = mn.grad((y**2).sum(), y, create_graph=True)
    (d2,) = mn.grad(d1.sum(), y)
    np.testing.assert_array_equal(d2.numpy(), [2.0, 2.0])
    (e1,) = mn.grad((y**3).sum(), y, create_graph=True)
    (e2,) = mn.grad(e1.sum(), y)
    np.testing.assert_allclose(e2.numpy(), [0.0, 9.0])  # 6 y


def test_relu_slope_at_exactly_zero_is_zero():
    """The derivative of max(x, 0) at x = 0 is taken as 0 (the PyTorch convention); its
    second derivative is zero everywhere (the slope is a constant mask)."""
    x = mn.tensor(np.array([-1.0, 0.0, 2.0]), dtype="float64", requires_grad=True)
    (g,) = mn.grad(x.relu().sum(), x, create_graph=True)
    np.testing.assert_array_equal(g.numpy(), [0.0, 0.0, 1.0])
    (gg,) = mn.grad((g * x).sum(), x, allow_unused=True)
    np.testing.assert_array_equal(gg.numpy(), [0.0, 0.0, 1.0])  # d/dx (mask * x) = mask
