"""The strict backend refuses what CuPy refuses, and the engine gives the same numbers on it.

The first half checks `StrictArray` itself. The second half runs every op of the engine
(forward, gradient, and gradient of the gradient) on the numpy backend and on each backend of
the `backend` fixture, and compares the numbers on the host: an op that calls a host-only
NumPy function on tensor data fails here under "strict", long before a GPU sees it.
"""

import numpy as np
import pytest

import metanumpy as mn
from metanumpy import backend as B
from metanumpy.strict import StrictArray, namespace as xp

# --- StrictArray behaves like a CuPy array ------------------------------------------------------


def test_refuses_implicit_conversion_to_numpy():
    a = xp.asarray([1.0, 2.0])
    for convert in (np.asarray, np.array, lambda a: np.asarray([a, a])):
        with pytest.raises(TypeError, match="backend.to_numpy"):
            convert(a)


def test_refuses_ufunc_at():
    with pytest.raises(TypeError, match="backend.scatter_add"):
        np.add.at(xp.zeros(3), xp.asarray([0, 0]), 1.0)


def test_refuses_host_arrays_mixed_into_device_arithmetic():
    a, host = xp.asarray([1.0, 2.0]), np.array([3.0, 4.0])
    mixes = (
        lambda: a + host,
        lambda: host * a,
        lambda: np.maximum(a, host),
        lambda: np.concatenate([a, host]),
        lambda: xp.where(np.array([True, False]), a, a),
    )
    for mix in mixes:
        with pytest.raises(TypeError, match="mixing a host NumPy array with a device array"):
            mix()


def test_allows_scalars_and_numpy_functions_called_on_it():
    a = xp.asarray([1.0, 2.0])
    results = [a + 1, 2.0 * a, a * np.float64(2.0), 1.0 / a, np.exp(a), np.concatenate([a, a])]
    assert all(isinstance(r, StrictArray) for r in results)
    assert B.to_numpy(results[2]).tolist() == [2.0, 4.0]
    assert B.to_numpy(results[3]).tolist() == [1.0, 0.5]
    assert np.allclose(B.to_numpy(results[4]), np.exp([1.0, 2.0]))
    a += 1  # in place, still the same device array
    assert isinstance(a, StrictArray) and B.to_numpy(a).tolist() == [2.0, 3.0]


def test_reductions_give_device_scalars_that_convert_to_python_numbers():
    a = xp.asarray([[1.0, 2.0], [3.0, 4.0]])
    total = a.sum()
    assert isinstance(total, StrictArray) and total.ndim == 0  # like CuPy, not a NumPy scalar
    assert float(total) == 10.0 and int(a.max()) == 4 and total.item() == 10.0
    assert bool(a[0, 0] == 1.0)
    with pytest.raises(TypeError, match="size-1"):
        float(a)


def test_to_numpy_and_asarray_copy_between_host_and_device():
    host = np.array([1.0, 2.0])
    a = xp.asarray(host)
    host[0] = 99.0
    back = B.to_numpy(a)
    back[1] = -1.0
    assert isinstance(back, np.ndarray) and B.to_numpy(a).tolist() == [1.0, 2.0]


def test_scatter_add_accumulates_repeated_indices():
    with B.use_backend("strict"):
        out = B.scatter_add(xp.zeros(3), xp.asarray([0, 0, 2]), xp.asarray([1.0, 2.0, 3.0]))
    assert B.to_numpy(out).tolist() == [3.0, 0.0, 3.0]


def test_indexing_assignment_and_iteration():
    a = xp.asarray([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    assert B.to_numpy(a[xp.asarray([2, 0])]).tolist() == [[5.0, 6.0], [1.0, 2.0]]
    assert B.to_numpy(a[[1, 1], 0]).tolist() == [3.0, 3.0]  # host indices are copied, as in CuPy
    a[0] = xp.asarray([7.0, 8.0])
    rows = list(a)
    assert len(rows) == 3 and isinstance(rows[0], StrictArray)
    assert B.to_numpy(rows[0]).tolist() == [7.0, 8.0]


def test_random_numbers_are_drawn_on_the_host_only():
    with pytest.raises(AttributeError, match="backend.rng"):
        xp.random


def test_backend_helpers_recognise_strict_arrays():
    assert B.set_backend("strict") is xp
    a = B.asarray([1, 2], dtype=np.int64)
    assert isinstance(a, xp.ndarray) and B.is_array(a) and B.array_kind(a) == "strict"
    with B.use_backend("numpy"):
        assert isinstance(B.asarray(a), np.ndarray)  # moving between backends goes via the host


def test_device_arrays_leave_operators_to_tensors():
    with B.use_backend("strict"):
        x = mn.tensor([1.0, -2.0], requires_grad=True)
        y = xp.asarray([2.0, 3.0]) * x  # StrictArray.__mul__ steps aside for Tensor.__rmul__
        assert isinstance(y, mn.Tensor) and y.numpy().tolist() == [2.0, -6.0]


def test_tensors_of_two_backends_do_not_mix():
    with B.use_backend("numpy"):
        host_tensor = mn.tensor([1.0, 2.0])
    with B.use_backend("strict"):
        with pytest.raises(TypeError, match="different backends"):
            host_tensor + mn.tensor([1.0, 2.0])


# --- every op gives the same numbers on every backend ------------------------------------------

IDS = np.array([[0, 2, 2], [4, 0, 1]])
LABELS = np.array([0, 2, 1, 2])
MASK = np.array([[1, 1, 0, 1], [0, 0, 0, 0]])  # the second row has no valid position
COND = np.array([[True, False, True], [False, False, True]])

CASES = {
    "add_broadcast": (lambda a, b: a + b, [(2, 3), (3,)]),
    "sub_broadcast": (lambda a, b: a - b, [(2, 3), (2, 1)]),
    "mul_div": (lambda a, b: a * b / (b * b + 1.0), [(2, 3), (1, 3)]),
    "neg_power": (lambda a: -(a**3) + 2.0 * a**2, [(2, 3)]),
    "exp_log_sqrt": (lambda a: mn.log(mn.exp(a) + 1.0) + mn.sqrt(a * a + 1.0), [(2, 3)]),
    "tanh_sigmoid": (lambda a: mn.tanh(a) * mn.sigmoid(a), [(2, 3)]),
    "relu_abs": (lambda a: mn.relu(a) * a + mn.abs(a) * a, [(2, 3)]),
    "sum_mean": (lambda a: a.sum(axis=0) * a.mean(axis=(0, 2), keepdims=True).sum(), [(2, 3, 2)]),
    "max": (lambda a: a.max(axis=1) * a.max(), [(3, 4)]),
    "broadcast_to": (lambda a: mn.broadcast_to(a, (4, 2, 3)), [(1, 3)]),
    "reshape_transpose": (lambda a: a.reshape(3, 4).T.transpose(1, 0) * a.reshape(-1, 4), [(2, 6)]),
    "matmul": (lambda a, b: a @ b, [(2, 3), (3, 4)]),
    "matmul_batched_broadcast": (lambda a, b: a @ b, [(2, 3, 4), (4, 2)]),
    "matmul_batched": (lambda a, b: mn.matmul(a, b), [(2, 3, 4), (2, 4, 5)]),
    "getitem_basic": (lambda a: a[1:, ::2] * a[0, None, :2], [(3, 4)]),
    "getitem_int_array": (
        lambda a: a[[0, 2, 2, 0]] * a[:, np.array([1, 1])][[2, 0, 1, 2]],
        [(3, 2)],
    ),
    "getitem_bool_mask": (lambda a: a[COND], [(2, 3)]),
    "index_add": (lambda v: mn.index_add(v, np.array([0, 3, 0]), (4, 2)), [(3, 2)]),
    "embedding": (lambda table: mn.embedding(table, IDS), [(5, 3)]),
    "masked_mean": (lambda x: mn.masked_mean(x, MASK), [(2, 4, 3)]),
    "cross_entropy": (lambda logits: mn.cross_entropy(logits, LABELS), [(4, 3)]),
    "softmax": (lambda a: mn.softmax(a, axis=0), [(3, 2)]),
    "log_softmax": (lambda a: mn.log_softmax(a), [(3, 4)]),
    "logsumexp": (lambda a: mn.logsumexp(a, axis=1) + mn.logsumexp(a), [(3, 4)]),
    "cosine_similarity": (lambda a, b: mn.cosine_similarity(a, b), [(3, 4), (2, 4)]),
    "pairwise_sq_dists": (lambda a, b: mn.pairwise_sq_dists(a, b), [(3, 4), (2, 4)]),
    "where_host_condition": (lambda a, b: mn.where(COND, a, b), [(2, 3), (3,)]),
    "where_device_condition": (lambda a, b: mn.where(a > b, a, b * b), [(2, 3), (2, 3)]),
    "concatenate": (lambda a, b: mn.concatenate([a, b], axis=1), [(2, 3), (2, 2)]),
    "stack": (lambda a, b: mn.stack([a, b * b], axis=1), [(2, 3), (2, 3)]),
}


def _host_inputs(shapes, seed):
    rng = np.random.default_rng(seed)
    return [rng.uniform(-2.0, 2.0, size=shape) for shape in shapes]


def _forward_and_two_gradients(fn, host_inputs):
    """fn's output, d loss/dx and d(<d loss/dx, u>)/dx on the current backend, as host arrays.

    loss = sum((fn(x) + v)^2) for fixed random v, u: its second derivative involves the
    backward of every op in fn, even of ops that are linear.
    """
    rng = np.random.default_rng(0)
    xs = [mn.tensor(x, requires_grad=True) for x in host_inputs]
    y = fn(*xs)
    loss = ((y + mn.tensor(rng.standard_normal(y.shape))) ** 2).sum()
    grads = mn.grad(loss, xs, create_graph=True)
    grad_dot_u = sum((g * mn.tensor(rng.standard_normal(g.shape))).sum() for g in grads)
    second = mn.grad(grad_dot_u, xs)
    results = [y, *grads, *second]
    assert {B.array_kind(t.data) for t in results} == {B.name}, "a result left the backend"
    return [t.numpy() for t in results]


@pytest.mark.parametrize("case", sorted(CASES))
def test_op_forward_and_gradients_match_numpy(backend, case):
    fn, shapes = CASES[case]
    host_inputs = _host_inputs(shapes, seed=len(case))
    with mn.default_dtype("float64"):
        got = _forward_and_two_gradients(fn, host_inputs)
        with B.use_backend("numpy"):
            expected = _forward_and_two_gradients(fn, host_inputs)
    for g, e in zip(got, expected):
        assert g.dtype == np.float64 and g.shape == e.shape
        np.testing.assert_allclose(g, e, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("case", sorted(CASES))
def test_op_keeps_float32_on_every_backend(backend, case):
    fn, shapes = CASES[case]
    host_inputs = _host_inputs(shapes, seed=len(case))
    y = fn(*[mn.tensor(x) for x in host_inputs])
    assert y.dtype == np.float32
    with mn.default_dtype("float64"), B.use_backend("numpy"):
        expected = fn(*[mn.tensor(x) for x in host_inputs]).numpy()
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-5, atol=1e-6)


def _tiny_text_classifier(table, weight):
    """Embedding -> masked mean -> linear -> cross-entropy: the benchmark model in miniature."""
    pooled = mn.masked_mean(mn.embedding(table, IDS), MASK[:, :3])
    return mn.cross_entropy(pooled @ weight, LABELS[:2])


def test_gradcheck_and_gradgradcheck_on_every_backend(backend):
    rng = np.random.default_rng(1)
    with mn.default_dtype("float64"):
        table = mn.tensor(rng.standard_normal((5, 3)), requires_grad=True)
        weight = mn.tensor(rng.standard_normal((3, 3)), requires_grad=True)
        assert mn.gradcheck(_tiny_text_classifier, [table, weight])
        assert mn.gradgradcheck(_tiny_text_classifier, [table, weight])
        x = mn.tensor(rng.uniform(-2.0, 2.0, (2, 3)), requires_grad=True)
        assert mn.gradgradcheck(lambda x: mn.log_softmax(x) * mn.tanh(x), [x])
    assert B.array_kind(table.data) == backend


def test_accuracy_reads_predictions_through_the_host(backend):
    logits = mn.tensor([[0.1, 2.0], [3.0, 0.0], [0.0, 1.0]])
    assert mn.autograd.functional.accuracy(logits, np.array([1, 0, 0])) == pytest.approx(2 / 3)
