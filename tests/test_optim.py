"""SGD, Adam, gradient clipping, and the differentiable inner step `sgd_step`."""

import numpy as np
import pytest

import metanumpy as mn
from metanumpy import nn
from metanumpy.optim import SGD, Adam, clip_grad_norm, sgd_step


def parameter_with_grads(value, *grads):
    """A one-element Parameter and a function that sets its .grad to the next value of `grads`."""
    p = nn.Parameter(np.array([value]), dtype=np.float64)
    pending = iter(grads)

    def next_grad():
        p.grad = mn.tensor([next(pending)], dtype=np.float64)

    return p, next_grad


def test_sgd_with_momentum_matches_two_steps_by_hand():
    p, next_grad = parameter_with_grads(1.0, 2.0, 2.0)
    opt = SGD([p], lr=0.1, momentum=0.5)
    next_grad(), opt.step()
    assert p.item() == pytest.approx(0.8)  # v = 2, p = 1 - 0.1 * 2
    next_grad(), opt.step()
    assert p.item() == pytest.approx(0.5)  # v = 0.5 * 2 + 2 = 3, p = 0.8 - 0.3


def test_sgd_weight_decay_adds_lambda_p_to_the_gradient():
    p, next_grad = parameter_with_grads(2.0, 1.0)
    opt = SGD([p], lr=0.1, weight_decay=0.5)
    next_grad(), opt.step()
    assert p.item() == pytest.approx(2.0 - 0.1 * (1.0 + 0.5 * 2.0))


def test_adam_matches_two_steps_by_hand():
    p, next_grad = parameter_with_grads(1.0, 2.0, -1.0)
    opt = Adam([p], lr=0.1, betas=(0.9, 0.999), eps=1e-8)
    next_grad(), opt.step()
    # m = 0.2, v = 0.004, m_hat = 2, v_hat = 4: the first step is lr * sign(g)
    assert p.item() == pytest.approx(0.9)
    next_grad(), opt.step()
    m, v = 0.9 * 0.2 + 0.1 * -1.0, 0.999 * 0.004 + 0.001 * 1.0
    m_hat, v_hat = m / (1 - 0.9**2), v / (1 - 0.999**2)
    assert p.item() == pytest.approx(0.9 - 0.1 * m_hat / (np.sqrt(v_hat) + 1e-8))


def tiny_problem(seed=0):
    """A Linear regression model, a fixed batch, and its loss function."""
    model = nn.Linear(3, 2, rng=seed)
    rng = np.random.default_rng(10)
    x, y = mn.tensor(rng.standard_normal((8, 3))), mn.tensor(rng.standard_normal((8, 2)))

    def loss():
        diff = model(x) - y
        return (diff * diff).mean()

    return model, loss


def train(opt, model, loss, steps):
    for _ in range(steps):
        opt.zero_grad()
        loss().backward()
        opt.step()


OPTIMIZERS = pytest.mark.parametrize(
    "make", [lambda ps: SGD(ps, 0.1, momentum=0.9), lambda ps: Adam(ps, 0.05)], ids=["sgd", "adam"]
)


@OPTIMIZERS
def test_steps_reduce_the_loss_and_keep_parameters_as_leaves(make):
    model, loss = tiny_problem()
    params = model.parameters()
    opt = make(model.parameters())
    start = loss().item()
    train(opt, model, loss, 10)
    assert loss().item() < start
    assert model.parameters() == params  # the same objects, updated in place of their data
    assert all(p.is_leaf() and p.requires_grad for p in params)


@OPTIMIZERS
def test_state_dict_round_trip_gives_identical_next_steps(make):
    model, loss = tiny_problem()
    opt = make(model.parameters())
    train(opt, model, loss, 3)
    model_state, opt_state = model.state_dict(), opt.state_dict()
    train(opt, model, loss, 2)

    restored, restored_loss = tiny_problem(seed=1)
    restored.load_state_dict(model_state)
    restored_opt = make(restored.parameters())
    restored_opt.load_state_dict(opt_state)
    train(restored_opt, restored, restored_loss, 2)
    for a, b in zip(model.parameters(), restored.parameters()):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_load_state_dict_checks_the_buffers():
    model, _ = tiny_problem()
    state = SGD(model.parameters(), 0.1, momentum=0.9).state_dict()
    state["velocity"] = state["velocity"][:1]
    with pytest.raises(ValueError, match="'velocity' holds 1 arrays for 2 parameters"):
        SGD(model.parameters(), 0.1, momentum=0.9).load_state_dict(state)


def test_parameters_without_a_gradient_are_skipped():
    used, _ = parameter_with_grads(1.0)
    unused = nn.Parameter([5.0])
    used.grad = mn.tensor([1.0])
    opt = Adam([used, unused], lr=0.1)
    opt.step()
    assert unused.item() == 5.0 and opt.state["m"][1] is None
    assert used.item() == pytest.approx(0.9)


def test_optimizer_arguments_are_checked():
    with pytest.raises(TypeError, match="parameter 0 is not a Tensor that requires grad"):
        SGD([mn.tensor([1.0])], lr=0.1)
    with pytest.raises(ValueError, match="learning rate must be positive"):
        Adam([nn.Parameter([1.0])], lr=0.0)


def test_clip_grad_norm_scales_all_gradients_together():
    a, b = nn.Parameter([3.0]), nn.Parameter([4.0])
    a.grad, b.grad = mn.tensor([3.0]), mn.tensor([4.0])
    assert clip_grad_norm([a, b], 1.0) == pytest.approx(5.0)
    assert a.grad.item() == pytest.approx(0.6, rel=1e-5)
    assert b.grad.item() == pytest.approx(0.8, rel=1e-5)
    assert clip_grad_norm([a, b], 10.0) == pytest.approx(1.0, rel=1e-5)
    assert a.grad.item() == pytest.approx(0.6, rel=1e-5)  # under the limit: untouched


# --- sgd_step: the inner update of MAML ----------------------------------------------------------


def test_sgd_step_returns_new_tensors_and_leaves_params_alone():
    w = nn.Parameter([1.0, 2.0])
    params = {"w": w, "frozen": nn.Parameter([7.0])}
    new = sgd_step(params, [mn.tensor([0.5, -1.0]), None], lr=0.1)
    np.testing.assert_allclose(new["w"].numpy(), [0.95, 2.1])
    assert new["frozen"] is params["frozen"]
    assert params["w"] is w and w.numpy().tolist() == [1.0, 2.0]
    with pytest.raises(ValueError, match="2 params but 1 grads"):
        sgd_step(params, [None], lr=0.1)
    with pytest.raises(ValueError, match="missing \\['frozen'\\]"):
        sgd_step(params, {"w": None}, lr=0.1)


def inner_outer_losses():
    """A support loss and a query loss for a weight vector w (a tiny regression task)."""
    rng = np.random.default_rng(3)
    xs, ys = rng.standard_normal((4, 3)), rng.standard_normal(4)
    xq, yq = rng.standard_normal((5, 3)), rng.standard_normal(5)

    def loss(w, x, y):
        err = mn.tanh(mn.tensor(x) @ w) - mn.tensor(y)
        return (err * err).mean()

    return (lambda w: loss(w, xs, ys)), (lambda w: loss(w, xq, yq))


@pytest.mark.task4_1
def test_sgd_step_keeps_the_graph_for_second_order_meta_gradients():
    with mn.default_dtype("float64"):
        support, query = inner_outer_losses()
        w = mn.tensor([0.3, -0.2, 0.5], requires_grad=True)

        def after_one_inner_step(w):
            (g,) = mn.grad(support(w), w, create_graph=True)
            return query(sgd_step({"w": w}, [g], lr=0.4)["w"])

        # gradcheck compares d query(w - lr grad support(w)) / dw, which contains the
        # Hessian of the support loss, with finite differences of the whole function
        assert mn.gradcheck(after_one_inner_step, [w])


@pytest.mark.task4_1
def test_sgd_step_with_detached_grads_is_first_order():
    with mn.default_dtype("float64"):
        support, query = inner_outer_losses()
        w = mn.tensor([0.3, -0.2, 0.5], requires_grad=True)
        (g,) = mn.grad(support(w), w)  # create_graph=False: a constant
        assert not g.requires_grad
        fast = sgd_step({"w": w}, [g], lr=0.4)["w"]
        (meta_first,) = mn.grad(query(fast), w)
        (at_fast,) = mn.grad(query(fast), fast)
        np.testing.assert_allclose(meta_first.numpy(), at_fast.numpy())  # Jacobian = identity

        (g2,) = mn.grad(support(w), w, create_graph=True)
        (meta_second,) = mn.grad(query(sgd_step({"w": w}, [g2], lr=0.4)["w"]), w)
        assert not np.allclose(meta_first.numpy(), meta_second.numpy())


@pytest.mark.task4_1
def test_sgd_step_learns_per_parameter_rates_meta_sgd():
    with mn.default_dtype("float64"):
        support, query = inner_outer_losses()
        w = mn.tensor([0.3, -0.2, 0.5], requires_grad=True)
        rate = mn.tensor([0.4, 0.1, 0.2], requires_grad=True)

        def meta_loss(w, rate):
            (g,) = mn.grad(support(w), w, create_graph=True)
            return query(sgd_step({"w": w}, [g], lr={"w": rate})["w"])

        assert mn.gradcheck(meta_loss, [w, rate])
        assert mn.gradgradcheck(meta_loss, [w, rate])
    with pytest.raises(ValueError, match="does not broadcast"):
        sgd_step({"w": w}, [w], lr={"w": mn.tensor([0.1, 0.2])})
    with pytest.raises(ValueError, match="no learning rate for parameter 'w'"):
        sgd_step({"w": w}, [w], lr={})
