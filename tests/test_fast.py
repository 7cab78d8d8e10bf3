"""The fast path (metanumpy/fast), each piece checked against the reference code it replaces:
fused ops, row-sparse embedding gradients, the embedding bag, the in-place Adam; and transposed
matmuls (part of the reference engine).

* Every new primitive passes `gradcheck` and `gradgradcheck` (float64, several seeds):
  the fused losses, the embedding bag, the row take/scatter pair, add_n, and matmul with
  transpose flags.
* The fused ops give the same numbers as the compositions they replace.
* `RowSparse` (rowsparse.py) gives the same numbers as the dense array it stands for, for every
  rule it implements and for the operations it leaves to the dense array.
* A MAML meta-gradient through row-sparse inner steps equals the dense one (the strict backend
  keeps dense gradients, so it serves as the reference).
"""

import numpy as np
import pytest

import metanumpy as mn
from metanumpy import backend as B
from metanumpy.autograd import functional as F
from metanumpy import fast
from metanumpy.autograd import ops
from metanumpy.fast import bags, fused
from metanumpy.fast import replacements as R
from metanumpy.fast.rowsparse import RowSparse, add_all, patch_rows
from metanumpy.nn import Parameter
from metanumpy.optim import SGD, Adam

pytestmark = pytest.mark.usefixtures("fast_path")


@pytest.fixture
def fast_path():
    """Every test here runs with the fast path on, and leaves it off."""
    with fast.enabled():
        yield


def sgd_step(params, grads, lr):  # the optim module's name, looked up while the switch is on
    from metanumpy import optim

    return optim.sgd_step(params, grads, lr)

SEEDS = [0, 1, 2]
LABELS = np.array([2, 0, 3, 3, 1])
IDS = np.array([[1, 4, 4, 0], [5, 2, 1, 0], [0, 0, 0, 0]])  # repeats, padding, an empty text
WEIGHTS = np.array([[0.5, 0.25, 0.25, 0.0], [1.0, -2.0, 0.5, 0.0], [0.0, 0.0, 0.0, 0.0]])


def inputs(seed, *shapes):
    rng = np.random.default_rng(seed)
    return [mn.tensor(rng.standard_normal(s), requires_grad=True) for s in shapes]


def check(fn, *shapes, seed):
    xs = inputs(seed, *shapes)
    assert mn.gradcheck(fn, xs)
    assert mn.gradgradcheck(fn, xs)


# --- first and second derivatives of every new primitive -----------------------------------

PRIMITIVES = {
    "cross_entropy": (lambda x: mn.cross_entropy(x, LABELS), [(5, 4)]),
    "cross_entropy-scaled": (lambda x: mn.cross_entropy(x * x, LABELS) * 3.0, [(5, 4)]),
    "nll": (lambda x: mn.nll(mn.log_softmax(x * x), LABELS), [(5, 4)]),
    "embedding_bag": (lambda t: bags.embedding_bag(t, IDS, WEIGHTS), [(6, 3)]),
    "embedding_bag-nonlinear": (lambda t: mn.tanh(bags.embedding_bag(t * t, IDS, WEIGHTS)), [(6, 3)]),
    "embedding_mean": (lambda t: mn.tanh(bags.embedding_mean(t, IDS, WEIGHTS != 0)), [(6, 3)]),
    "take-scatter-rows": (
        lambda t: bags.scatter_rows(bags.take_distinct_rows(t, np.array([1, 3])) ** 2, np.array([0, 2]), 4),
        [(5, 2)]),
    "class_logsumexp": (lambda x: R.class_log_probs(x * x, LABELS, 4), [(3, 5)]),
    "l2_normalize": (lambda x: F.l2_normalize(x * x, axis=0), [(3, 4)]),
    "l2_normalize-at-zero": (lambda x: F.l2_normalize(x * 0.0), [(2, 3)]),
    "norm": (lambda x: fused.norm(x, axis=1) * x, [(3, 4)]),
    "cosine_similarity": (lambda a, b: mn.cosine_similarity(a, b), [(3, 4), (5, 4)]),
    "add_n": (lambda a, b, c: ops.add_n([a * b, b, c * c]), [(3, 2), (3, 2), (3, 2)]),
    "matmul-a-transposed": (lambda a, b: mn.matmul(a, b, transpose_a=True), [(4, 3), (4, 2)]),
    "matmul-b-transposed": (lambda a, b: mn.matmul(a, b, transpose_b=True), [(3, 4), (2, 4)]),
    "matmul-both-transposed": (lambda a, b: mn.matmul(a, b, True, True), [(4, 3), (2, 4)]),
    "matmul-batched-transposed": (lambda a, b: mn.matmul(a, b, transpose_b=True), [(2, 3, 4), (5, 4)]),
    "matmul-vector-transposed": (lambda a, b: mn.matmul(a, b, transpose_b=True), [(4,), (3, 4)]),
}


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", list(PRIMITIVES))
def test_new_primitives_match_finite_differences_to_second_order(name, seed):
    fn, shapes = PRIMITIVES[name]
    with mn.default_dtype("float64"):
        check(fn, *shapes, seed=seed)


# --- fused ops against the compositions they replace ---------------------------------------


def test_fused_losses_equal_their_compositions():
    x = inputs(0, (5, 4))[0]
    log_probs = mn.log_softmax(x)
    hot = F.one_hot(LABELS, 4, x.dtype)
    composed = -(log_probs * hot).sum() * (1.0 / 5)
    assert mn.cross_entropy is R.cross_entropy and F.nll is R.nll  # the switch is on
    for loss in (mn.cross_entropy(x, LABELS), mn.nll(log_probs, LABELS)):
        np.testing.assert_allclose(loss.numpy(), composed.numpy(), rtol=1e-6)
        (g_fused,), (g_composed,) = mn.grad(loss, x), mn.grad(composed, x)
        np.testing.assert_allclose(g_fused.numpy(), g_composed.numpy(), rtol=1e-5, atol=1e-7)


def test_class_logsumexp_by_hand_and_to_second_order():
    labels = np.array([1, 1, 3, 0, 1])  # class 2 has no column
    x = np.random.default_rng(4).standard_normal((3, 5))
    with mn.default_dtype("float64"):
        out = R.class_log_probs(mn.tensor(x), labels, 4).numpy()
        for k in (0, 1, 3):
            by_hand = np.log(np.exp(x[:, labels == k]).sum(axis=1))
            np.testing.assert_allclose(out[:, k], by_hand, rtol=1e-12)
        assert np.all(out[:, 2] < -1e29)  # the log of an empty sum, kept finite

        def used_classes(t):  # the empty class's -1e30 would swamp finite differences
            return R.class_log_probs(t * t, labels, 4)[:, [0, 1, 3]]

        xs = inputs(4, (3, 5))
        assert mn.gradcheck(used_classes, xs)
        assert mn.gradgradcheck(used_classes, xs)


def test_class_logsumexp_equals_its_composition_exactly():
    """The same arrays as the composed version: equal values and gradients, not just close
    (every class has a column here; see ClassLogSumExp for one without)."""
    x = inputs(5, (6, 5))[0]
    member = F.one_hot(LABELS, 4, x.dtype).numpy().T  # (ways, m); class 0 has one column
    offset = mn.tensor(np.where(member > 0, 0.0, -1e30))
    composed = mn.logsumexp(mn.reshape(x, (6, 1, 5)) + offset, axis=2)
    fused_out = R.class_log_probs(x, LABELS, 4)
    np.testing.assert_array_equal(fused_out.numpy(), composed.numpy())
    weights = mn.tensor(np.random.default_rng(1).standard_normal((6, 4)))
    (g_fused,), (g_composed,) = (mn.grad((out * weights).sum(), x) for out in (fused_out, composed))
    np.testing.assert_array_equal(g_fused.numpy(), g_composed.numpy())
    with pytest.raises(ValueError, match=r"class_logsumexp: labels must lie in 0..2, got 0..3"):
        R.class_log_probs(x, LABELS, 3)
    with pytest.raises(ValueError, match=r"class_logsumexp: expected scores of shape \(n, m\)"):
        R.class_log_probs(x, LABELS[:4], 4)


def test_l2_normalize_equals_its_composition():
    x = inputs(6, (4, 3))[0]
    composed = x / mn.sqrt((x * x).sum(axis=1, keepdims=True) + 1e-8)
    unit = F.l2_normalize(x, axis=1)
    np.testing.assert_allclose(unit.numpy(), composed.numpy(), rtol=1e-6)
    (g_fused,), (g_composed,) = mn.grad(unit[:, 0].sum(), x), mn.grad(composed[:, 0].sum(), x)
    np.testing.assert_allclose(g_fused.numpy(), g_composed.numpy(), rtol=1e-5, atol=1e-7)


def test_embedding_mean_is_the_masked_mean_of_the_embeddings():
    table = inputs(3, (6, 3))[0]
    mask = (WEIGHTS != 0).astype(np.float32)
    mean = bags.embedding_mean(table, IDS, mask)
    composed = mn.masked_mean(mn.embedding(table, IDS), mask)
    np.testing.assert_allclose(mean.numpy(), composed.numpy(), rtol=1e-6, atol=1e-7)
    np.testing.assert_array_equal(mean.numpy()[2], 0.0)  # the empty text: zeros, not NaN
    (g_fused,), (g_composed,) = mn.grad(mean.sum(), table), mn.grad(composed.sum(), table)
    np.testing.assert_allclose(g_fused.numpy(), g_composed.numpy(), rtol=1e-6)


def test_a_large_bag_gives_the_same_gradient_as_its_composition():
    """Large bags take the other route in the backward pass (rows used once: a gather)."""
    rng = np.random.default_rng(8)
    table = mn.tensor(rng.standard_normal((30000, 4)), requires_grad=True)
    ids = rng.integers(0, 30000, (40, 50))
    ids[:, :5] = 17  # one row shared by every text, several times
    mask = (rng.random((40, 50)) > 0.2).astype(np.float32)
    g = rng.standard_normal((40, 4))
    grads = []
    for pooled in (bags.embedding_mean(table, ids, mask), mn.masked_mean(mn.embedding(table, ids), mask)):
        grads.append(mn.grad(pooled, table, grad_outputs=g)[0].numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("ta", [False, True])
@pytest.mark.parametrize("tb", [False, True])
def test_transposed_matmul_equals_matmul_of_the_transposes(ta, tb):
    a, b = inputs(4, (4, 3) if ta else (3, 4), (2, 4) if tb else (4, 2))
    got = mn.matmul(a, b, transpose_a=ta, transpose_b=tb)
    want = (a.T if ta else a) @ (b.T if tb else b)
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6)


def test_transposed_matmul_shape_errors_name_the_flags():
    a, b = inputs(0, (3, 4), (3, 4))
    assert mn.matmul(a, b, transpose_b=True).shape == (3, 3)
    with pytest.raises(ValueError, match=r"\(a transposed\) \(b transposed\) do not align"):
        mn.matmul(a, b, transpose_a=True, transpose_b=True)
    with pytest.raises(ValueError, match="1-D operand cannot be transposed"):
        mn.matmul(mn.tensor([1.0, 2.0]), mn.tensor([[1.0], [2.0]]), transpose_a=True)


# --- row-sparse embedding gradients ---------------------------------------------------------


def test_the_embedding_gradient_stores_only_the_used_rows():
    table = mn.tensor(np.zeros((5000, 16)), requires_grad=True)
    ids = np.array([[7, 3, 7], [3, 0, 4000]])
    (g,) = mn.grad(mn.embedding(table, ids).sum(), table)
    assert isinstance(g.data, RowSparse) and g.data.base is None
    np.testing.assert_array_equal(g.data.rows, [0, 3, 7, 4000])
    expected = np.zeros((5000, 16))
    np.add.at(expected, ids.ravel(), 1.0)
    np.testing.assert_array_equal(g.numpy(), expected)


def test_small_or_mostly_used_tables_get_dense_gradients():
    """Row bookkeeping only pays on a large table of which few rows are used."""
    for shape, ids in [((50, 3), [[7, 3]]), ((5000, 16), [list(range(3000))])]:
        table = mn.tensor(np.zeros(shape), requires_grad=True)
        (g,) = mn.grad(mn.embedding(table, np.array(ids)).sum(), table)
        assert isinstance(g.data, np.ndarray)
        assert g.numpy().sum() == np.size(ids) * shape[1]


def test_other_backends_get_the_same_gradient_dense():
    ids = np.array([[7, 3, 7], [3, 0, 40]])
    grads = {}
    for name in ("numpy", "strict"):
        with B.use_backend(name):
            table = mn.tensor(np.arange(80000.0).reshape(5000, 16) / 1e4, requires_grad=True)
            (g,) = mn.grad((bags.embedding_mean(table, ids, np.ones((2, 3))) ** 2).sum(), table)
            grads[name] = g
    assert isinstance(grads["numpy"].data, RowSparse)
    assert not isinstance(grads["strict"].data, RowSparse)
    np.testing.assert_allclose(grads["numpy"].numpy(), grads["strict"].numpy())


def sparse(rows, seed=0, n=8, base=None):
    rows = np.array(rows)
    values = np.random.default_rng(seed).standard_normal((len(rows), 3))
    return RowSparse((n, 3), rows, values, base)


DENSE = np.random.default_rng(9).standard_normal((8, 3))
RULES = {
    "g + h (other rows)": lambda g, h: g + h,
    "g - h": lambda g, h: g - h,
    "dense - g": lambda g, h: DENSE - g,
    "g + dense": lambda g, h: g + DENSE,
    "patched - h": lambda g, h: (DENSE - g) - h,
    "patched + patched": lambda g, h: (DENSE - g) + (DENSE + h),
    "patched - its base": lambda g, h: (DENSE - g) - DENSE,
    "g * h": lambda g, h: g * h,
    "dense * g": lambda g, h: DENSE * g,
    "0.5 * g / 2": lambda g, h: 0.5 * g / 2,
    "-g": lambda g, h: -g,
    "g * dense row (broadcast)": lambda g, h: g * DENSE[0],
    "exp(g)": lambda g, h: np.exp(g),
    "g.sum(axis=0)": lambda g, h: g.sum(axis=0),
    "take(patched, ids)": lambda g, h: (DENSE - g)[np.array([[0, 1], [6, 1]])],
    "take(g, ids)": lambda g, h: g[np.array([5, 1, 6, 1])],
    "slice": lambda g, h: g[2:5],
}


@pytest.mark.parametrize("rule", list(RULES))
def test_row_sparse_arithmetic_equals_dense_arithmetic(rule):
    g, h = sparse([1, 4, 6], seed=1), sparse([0, 4, 7], seed=2)
    fn = RULES[rule]
    got = fn(g, h)
    want = fn(g.dense(), h.dense())
    np.testing.assert_allclose(np.asarray(got), want, rtol=1e-12)


def test_a_patched_table_minus_its_base_keeps_only_the_patched_rows():
    theta = DENSE.copy()
    move = (theta - 0.1 * sparse([1, 4])) - theta  # phi - theta after a row-sparse step
    assert isinstance(move, RowSparse) and move.base is None and list(move.rows) == [1, 4]
    other = (theta - 0.1 * sparse([1, 4])) - DENSE  # equal values, but not its base
    assert isinstance(other, np.ndarray)
    np.testing.assert_allclose(np.asarray(move), np.asarray(other))


def test_take_along_rows_equals_indexing():
    g, patched = sparse([1, 4, 6]), sparse([2, 5], seed=3, base=DENSE)
    ids = np.array([[6, 0], [4, 4]])
    for t in (g, patched):
        np.testing.assert_allclose(t.take(ids, axis=0), t.dense()[ids])
        np.testing.assert_allclose(t.take(np.array([1]), axis=1), t.dense()[:, [1]])
        own = t.take(t.rows, axis=0)
        assert own is not t.values  # a copy the caller may write to
        np.testing.assert_allclose(own, t.values)


def test_in_place_updates_of_a_dense_array():
    g, patched = sparse([1, 4]), sparse([2, 5], seed=3, base=DENSE)
    for t in (g, patched):
        a, b = DENSE.copy(), DENSE.copy()
        a += t
        b += t.dense()
        np.testing.assert_allclose(a, b)
        a -= t
        b -= t.dense()
        np.testing.assert_allclose(a, b)


def test_a_row_sparse_table_is_not_changed_in_place():
    g = sparse([1, 4])
    with pytest.raises(TypeError, match="never changed in place"):
        g += sparse([2])
    assert list(g.rows) == [1, 4]


def test_subtracting_a_row_sparse_gradient_shares_the_rest_of_the_table():
    theta = DENSE.copy()
    phi = theta - 0.1 * sparse([1, 4])
    assert isinstance(phi, RowSparse) and phi.base is theta  # no copy of the table
    again = phi - 0.1 * sparse([4, 6])  # a second step merges its rows into the patch
    assert again.base is theta and list(again.rows) == [1, 4, 6]
    np.testing.assert_allclose(patch_rows(theta, np.array([2]), np.ones((1, 3)))[2], 1.0)


def test_add_all_merges_many_tables_in_one_pass():
    for n in (30000, 8):  # row-sparse, then (a small table) dense
        tables = [sparse(r, seed=i, n=n) for i, r in enumerate([[0, 3], [3, 5], [1], [5, 7]])]
        total = add_all(tables)
        assert isinstance(total, RowSparse) == (n == 30000)
        np.testing.assert_allclose(np.asarray(total), sum(t.dense() for t in tables))
    assert list(add_all([sparse([2], n=30000)] * 3).rows) == [2]


def test_sgd_step_with_a_row_sparse_gradient_matches_the_dense_step():
    theta = mn.tensor(DENSE, requires_grad=True, dtype="float64")
    g = mn.Tensor(sparse([1, 4]))
    fast = sgd_step({"w": theta}, [g], 0.5)["w"]
    assert isinstance(fast.data, RowSparse) and fast.data.base is theta.data
    np.testing.assert_allclose(fast.numpy(), DENSE - 0.5 * g.numpy())


@pytest.mark.parametrize("make", [lambda ps: Adam(ps, lr=0.1), lambda ps: SGD(ps, 0.1, momentum=0.9)],
                         ids=["adam", "sgd"])
def test_optimizers_give_the_same_steps_for_sparse_and_dense_gradients(make):
    sparse_p, dense_p = Parameter(DENSE, dtype="float64"), Parameter(DENSE, dtype="float64")
    opt_sparse, opt_dense = make([sparse_p]), make([dense_p])
    for seed in range(3):
        g = sparse([seed, 4], seed=seed)
        sparse_p.grad, dense_p.grad = mn.Tensor(g), mn.Tensor(g.dense())
        opt_sparse.step(), opt_dense.step()
        assert isinstance(sparse_p.data, np.ndarray)  # parameters stay dense arrays
    np.testing.assert_allclose(sparse_p.numpy(), dense_p.numpy(), rtol=1e-6)


def test_second_order_maml_gradient_is_the_same_with_row_sparse_steps():
    """The meta-gradient through two inner steps: numpy (row-sparse) against strict (dense)."""
    rng = np.random.default_rng(5)
    table0, head0 = rng.standard_normal((3000, 32)), rng.standard_normal((32, 3))  # row-sparse
    support, query = rng.integers(1, 3000, (6, 5)), rng.integers(1, 3000, (9, 5))
    mask_s, mask_q = np.ones((6, 5)), (rng.random((9, 5)) > 0.3).astype(float)
    labels_s, labels_q = np.arange(6) % 3, np.arange(9) % 3
    results = {}
    for name in ("numpy", "strict"):
        with B.use_backend(name), mn.default_dtype("float64"):
            table, head = mn.tensor(table0, requires_grad=True), mn.tensor(head0, requires_grad=True)

            def loss(params, ids, mask, labels):
                return mn.cross_entropy(bags.embedding_mean(params["t"], ids, mask) @ params["h"], labels)

            fast = {"t": table, "h": head}
            for _ in range(2):
                grads = mn.grad(loss(fast, support, mask_s, labels_s), list(fast.values()),
                                create_graph=True)
                fast = sgd_step(fast, grads, 0.5)
            if name == "numpy":
                assert isinstance(fast["t"].data, RowSparse) and fast["t"].data.base is table.data
            results[name] = [g.numpy() for g in mn.grad(loss(fast, query, mask_q, labels_q),
                                                         [table, head])]
    for sparse_grad, dense_grad in zip(results["numpy"], results["strict"]):
        np.testing.assert_allclose(sparse_grad, dense_grad, rtol=1e-10, atol=1e-12)


# --- the graph walk ---------------------------------------------------------------------------


def test_gradients_with_respect_to_intermediate_tensors_ignore_their_history():
    """grad stops at the inputs it is asked about (MAML's fast weights have a long history)."""
    x = mn.tensor([1.0, 2.0], requires_grad=True)
    phi = x * 2.0
    for _ in range(5):
        phi = phi * 1.5 + x  # a history behind phi that still depends on x
    out = (phi * phi).sum()
    (g_phi,) = mn.grad(out, phi)
    np.testing.assert_allclose(g_phi.numpy(), 2 * phi.numpy())
    # asking for x as well walks the whole history again, and both are right
    g_phi2, g_x = mn.grad(out, [phi, x])
    np.testing.assert_allclose(g_phi2.numpy(), 2 * phi.numpy())
    slope = 2.0 * 1.5**5 + sum(1.5**k for k in range(5))  # d phi / d x, elementwise
    np.testing.assert_allclose(g_x.numpy(), 2 * phi.numpy() * slope, rtol=1e-6)


def test_distinct_rows_lists_the_used_rows_and_where_each_id_sits():
    ids = np.array([[5, 2, 5], [0, 9, 2]])
    rows, where = bags.distinct_rows(ids, 10)
    np.testing.assert_array_equal(rows, [0, 2, 5, 9])
    np.testing.assert_array_equal(rows[where], ids)


def test_recent_bags_are_reused_only_for_the_same_batch():
    recent = bags.RecentBags(size=2)
    ids, weights = np.array([[1, 5, 5], [2, 0, 0]]), np.full((2, 3), 0.5)
    rows, plan = recent.get(ids, weights, 10)
    assert list(rows) == [0, 1, 2, 5]
    assert recent.get(ids.copy(), weights.copy(), 10)[1] is plan  # same contents: reused
    ids[0, 0] = 7  # changed in place: worked out again
    rows, changed = recent.get(ids, weights, 10)
    assert changed is not plan and list(rows) == [0, 2, 5, 7]
    assert recent.get(ids, weights * 2, 10)[1] is not changed  # other weights
    assert recent.get(ids, weights, 20)[1] is not changed  # another table size
    assert recent.get(ids, weights, 10)[1] is not changed  # only the last two are kept
