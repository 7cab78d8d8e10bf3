"""The engine as a whole: higher-order derivatives, MAML's meta-gradient, `grad` semantics.

What this file covers:

* exact second and third derivatives of small polynomials;
* a Hessian-vector product against finite differences of the gradient;
* the one-step MAML identity on linear regression: the engine's meta-gradient equals the
  closed form (I - a H_s) grad L_q(w'), and first-order MAML gives grad L_q(w') exactly;
* what `grad` and `backward` promise: detached results without `create_graph`, differentiable
  results with it, accumulation over paths and over calls, gradients w.r.t. intermediate
  tensors, several outputs with `grad_outputs`, `no_grad`;
* memory: repeated training steps (first and second order) do not grow the number of live
  Tensors, so nothing keeps old graphs alive.

Error messages for bad input are in `test_engine_errors.py`; per-op checks in `test_ops.py`.
"""

import gc

import numpy as np
import pytest

import metanumpy as mn


def f64(data, requires_grad=True):
    """A float64 tensor (the dtype every exact or finite-difference comparison uses)."""
    return mn.tensor(data, requires_grad=requires_grad, dtype="float64")


# --- exact higher-order derivatives -------------------------------------------------------


@pytest.mark.task1_2
def test_exact_second_derivatives_of_a_product():
    """y = x2*x2 + x2*x3: d2y/dx2^2 = 2, d2y/dx2dx3 = d2y/dx3dx2 = 1, d2y/dx3^2 = 0."""
    x2, x3 = f64(5.0), f64(7.0)
    y = x2 * x2 + x2 * x3
    g2, g3 = mn.grad(y, [x2, x3], create_graph=True)
    assert (g2.item(), g3.item()) == (2 * 5.0 + 7.0, 5.0)
    d22, d23 = mn.grad(g2, [x2, x3])
    assert (d22.item(), d23.item()) == (2.0, 1.0)
    d32, d33 = mn.grad(g3, [x2, x3], allow_unused=True)
    assert d32.item() == 1.0 and d33 is None  # dy/dx3 = x2 does not depend on x3


def test_third_derivative_of_x_to_the_fourth():
    """d/dx x^4 = 4x^3, then 12x^2, then 24x: three nested `grad` calls."""
    x = f64([-1.5, 0.5, 2.0])
    (g1,) = mn.grad((x**4).sum(), x, create_graph=True)
    (g2,) = mn.grad(g1.sum(), x, create_graph=True)
    (g3,) = mn.grad(g2.sum(), x)
    host = x.numpy()
    np.testing.assert_allclose(g1.numpy(), 4 * host**3)
    np.testing.assert_allclose(g2.numpy(), 12 * host**2)
    np.testing.assert_allclose(g3.numpy(), 24 * host)


def test_hessian_vector_product_matches_finite_differences_of_the_gradient():
    """H v for f(W) = sum(tanh(X W)^2) equals (g(W + h v) - g(W - h v)) / 2h."""
    rng = np.random.default_rng(0)
    X, W0, v = rng.standard_normal((6, 4)), rng.standard_normal((4, 3)), rng.standard_normal((4, 3))

    def loss(W):
        return (mn.tanh(f64(X, requires_grad=False) @ W) ** 2).sum()

    def gradient(W_host):
        W = f64(W_host)
        return mn.grad(loss(W), W)[0].numpy()

    W = f64(W0)
    (g,) = mn.grad(loss(W), W, create_graph=True)
    (hv,) = mn.grad((g * f64(v, requires_grad=False)).sum(), W)
    h = 1e-5
    expected = (gradient(W0 + h * v) - gradient(W0 - h * v)) / (2 * h)
    np.testing.assert_allclose(hv.numpy(), expected, rtol=1e-6, atol=1e-8)


# --- MAML on linear regression: the meta-gradient in closed form --------------------------


def _regression_task(seed, n_support=8, n_query=6, dim=3):
    rng = np.random.default_rng(seed)
    shapes = [(n_support, dim), (n_support,), (n_query, dim), (n_query,), (dim,)]  # Xs, ys, Xq, yq, w
    return [rng.standard_normal(shape) for shape in shapes]


def _mse(X, y, w):
    """mean((X w - y)^2) with constant data X, y."""
    return ((f64(X, requires_grad=False) @ w - f64(y, requires_grad=False)) ** 2).mean()


@pytest.mark.parametrize("seed", [0, 1])
def test_one_step_maml_meta_gradient_matches_closed_form(seed):
    """w' = w - a grad L_s(w); d L_q(w')/dw = (I - a H_s) grad L_q(w'), H_s = 2/n X_s^T X_s."""
    Xs, ys, Xq, yq, w0 = _regression_task(seed)
    a = 0.1
    w = f64(w0)
    (g_support,) = mn.grad(_mse(Xs, ys, w), w, create_graph=True)
    w_adapted = w - a * g_support
    (meta_grad,) = mn.grad(_mse(Xq, yq, w_adapted), w)

    w_prime = w0 - a * (2 / len(ys)) * Xs.T @ (Xs @ w0 - ys)
    grad_query = (2 / len(yq)) * Xq.T @ (Xq @ w_prime - yq)
    hessian_support = (2 / len(ys)) * Xs.T @ Xs
    expected = (np.eye(len(w0)) - a * hessian_support) @ grad_query
    np.testing.assert_allclose(w_adapted.numpy(), w_prime)
    np.testing.assert_allclose(meta_grad.numpy(), expected, rtol=1e-10)
    assert not np.allclose(meta_grad.numpy(), grad_query)  # the second-order term matters here


def test_first_order_maml_gives_the_query_gradient_at_the_adapted_weights():
    """Without create_graph the inner gradient is a constant: d L_q(w')/dw = grad L_q(w')."""
    Xs, ys, Xq, yq, w0 = _regression_task(seed=2)
    a = 0.1
    w = f64(w0)
    (g_support,) = mn.grad(_mse(Xs, ys, w), w)  # create_graph=False: a detached constant
    (meta_grad,) = mn.grad(_mse(Xq, yq, w - a * g_support), w)
    w_prime = w0 - a * (2 / len(ys)) * Xs.T @ (Xs @ w0 - ys)
    np.testing.assert_allclose(meta_grad.numpy(), (2 / len(yq)) * Xq.T @ (Xq @ w_prime - yq), rtol=1e-10)


# --- what grad() and backward() promise ----------------------------------------------------


def test_grad_without_create_graph_returns_detached_leaves():
    """create_graph=False: results carry no history and do not require grad."""
    x = f64([1.0, 2.0])
    (g,) = mn.grad((x * x * x).sum(), x)
    assert not g.requires_grad and g.is_leaf()
    np.testing.assert_array_equal(g.numpy(), [3.0, 12.0])


def test_grad_without_create_graph_records_no_graph(monkeypatch):
    """create_graph=False runs the backward walk under no_grad: no op records its inputs."""
    recorded = []
    original_call = mn.autograd.Function.__call__

    def spy(op, *inputs):
        out = original_call(op, *inputs)
        if out._op is not None:
            recorded.append(op.op_name())
        return out

    x = f64([1.0, 2.0])
    y = (x * x).sum()
    monkeypatch.setattr(mn.autograd.Function, "__call__", spy)
    mn.grad(y, x)
    assert recorded == []
    mn.grad(y, x, create_graph=True)
    assert recorded  # the same walk with create_graph=True does record


def test_grad_with_create_graph_is_differentiable():
    """create_graph=True: the gradient has a history, so it can be differentiated again."""
    x = f64([1.0, 2.0])
    (g,) = mn.grad((x**3).sum(), x, create_graph=True)
    assert g.requires_grad and not g.is_leaf()
    (h,) = mn.grad(g.sum(), x)
    np.testing.assert_array_equal(h.numpy(), [6.0, 12.0])


@pytest.mark.task1_2
def test_gradients_from_several_paths_add_up():
    """x feeds three terms: d/dx (x*x + 3x + x/2) = 2x + 3.5."""
    x = f64([1.0, -2.0])
    y = (x * x + 3.0 * x + x / 2.0).sum()
    (g,) = mn.grad(y, x)
    np.testing.assert_allclose(g.numpy(), 2 * x.numpy() + 3.5)


def test_grad_with_respect_to_an_intermediate_tensor():
    """d/dh of sum(h^2) with h = 3x is 2h; the walk stops at h."""
    x = f64([1.0, 2.0])
    h = x * 3.0
    gh, gx = mn.grad((h * h).sum(), [h, x])
    np.testing.assert_allclose(gh.numpy(), [6.0, 12.0])
    np.testing.assert_allclose(gx.numpy(), [18.0, 36.0])  # chain rule: 2h * 3


def test_several_outputs_with_grad_outputs_give_the_summed_vector_jacobian_product():
    """grad([y1, y2], x, [v1, v2]) = J1^T v1 + J2^T v2."""
    x = f64([1.0, 2.0, 3.0])
    y1, y2 = x * x, x.sum()
    v1, v2 = f64([1.0, 0.5, -1.0], requires_grad=False), f64(2.0, requires_grad=False)
    (g,) = mn.grad([y1, y2], x, grad_outputs=[v1, v2])
    np.testing.assert_allclose(g.numpy(), 2 * x.numpy() * v1.numpy() + 2.0)


def test_grad_outputs_may_be_a_host_array():
    """A NumPy array as grad_outputs is moved to the backend with the output's dtype."""
    x = f64([1.0, 2.0])
    (g,) = mn.grad(x * 3.0, x, grad_outputs=np.array([1.0, -1.0]))
    np.testing.assert_allclose(g.numpy(), [3.0, -3.0])


def test_backward_accumulates_into_grad_across_calls():
    """Two backward passes (new graphs) add up in .grad; intermediate tensors get no .grad."""
    x = f64([1.0, 2.0])
    for _ in range(2):
        h = x * x
        h.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * 2 * x.numpy())
    assert h.grad is None and not x.grad.requires_grad


def test_backward_twice_on_the_same_graph_doubles_grad():
    """The engine keeps graphs (they are freed when unreferenced), so backward can run twice."""
    x = f64([1.0, 2.0])
    y = (x**2).sum()
    y.backward()
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * 2 * x.numpy())


@pytest.mark.task1_2
def test_backward_with_a_grad_output():
    """y.backward(v) accumulates J^T v for a non-scalar y."""
    x = f64([1.0, 2.0])
    (x * x).backward(f64([1.0, 10.0], requires_grad=False))
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 40.0])


def test_no_grad_records_nothing_and_restores_the_previous_state():
    """Inside no_grad results have no history; the flag is restored, also after an exception."""
    x = f64([1.0, 2.0])
    with mn.no_grad():
        assert not mn.is_grad_enabled()
        y = x * 2.0
    assert mn.is_grad_enabled()
    assert not y.requires_grad and y.is_leaf()
    with pytest.raises(RuntimeError), mn.no_grad():
        raise RuntimeError("boom")
    assert mn.is_grad_enabled()


def test_no_grad_as_a_decorator():
    """@no_grad() turns recording off for the decorated function only."""

    @mn.no_grad()
    def update(w):
        return w - 0.1 * w

    x = f64([1.0])
    assert not update(x).requires_grad
    assert (x * 2.0).requires_grad


def test_detach_cuts_the_graph():
    """A detached tensor is a constant: the gradient does not flow through it."""
    x = f64([2.0])
    y = x * x.detach()  # d/dx = x.detach() = 2, not 2x = 4
    (g,) = mn.grad(y.sum(), x)
    assert g.item() == 2.0


# --- memory: graphs do not outlive a training step -------------------------------------------


def live_tensors():
    """The number of Tensor objects alive right now (type(), not isinstance: isinstance asks
    every live object, and some other libraries' objects warn when asked)."""
    gc.collect()
    return sum(issubclass(type(obj), mn.Tensor) for obj in gc.get_objects())


def _training_run(steps, second_order):
    """Gradient steps on a linear regression; MAML-style (inner step + meta-gradient) if asked."""
    Xs, ys, Xq, yq, w0 = _regression_task(seed=3)
    w = f64(w0)
    counts = []
    for _ in range(steps):
        if second_order:
            (g_inner,) = mn.grad(_mse(Xs, ys, w), w, create_graph=True)
            loss = _mse(Xq, yq, w - 0.1 * g_inner)
        else:
            loss = _mse(Xs, ys, w)
        (g,) = mn.grad(loss, w)
        with mn.no_grad():
            w.data = (w - 0.05 * g).data
        del g, loss
        if second_order:
            del g_inner
        counts.append(live_tensors())
    return counts


@pytest.mark.parametrize("second_order", [False, True], ids=["plain-step", "maml-step"])
def test_training_steps_do_not_grow_the_number_of_live_tensors(second_order):
    """After each step the old graph is garbage: the live Tensor count stays flat."""
    counts = _training_run(steps=12, second_order=second_order)
    assert counts[-1] == counts[2], counts
