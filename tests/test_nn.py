"""Modules, layers and the functional call with explicit (fast) weights."""

import copy

import numpy as np
import pytest

import metanumpy as mn
from metanumpy import nn
from metanumpy.nn import module as module_file


class Net(nn.Module):
    """A custom module holding a Parameter of its own and a nested Sequential."""

    def __init__(self, seed=0):
        super().__init__()
        rng = np.random.default_rng(seed)
        self.scale = nn.Parameter(np.ones(3))
        self.body = nn.Sequential(nn.Linear(3, 4, rng=rng), nn.Tanh(), nn.Linear(4, 2, rng=rng))

    def forward(self, x):
        return self.body(x * self.scale)


def x_batch(n=5, dtype=None):
    return mn.tensor(np.random.default_rng(1).standard_normal((n, 3)), dtype=dtype)


def test_parameter_names_follow_registration_order_with_dotted_paths():
    net = Net()
    names = [n for n, _ in net.named_parameters()]
    assert names == ["scale", "body.0.weight", "body.0.bias", "body.2.weight", "body.2.bias"]
    assert [n for n, _ in net.named_modules()] == ["", "body", "body.0", "body.1", "body.2"]
    assert net.children() == [net.body]
    assert net.num_parameters() == 3 + 12 + 4 + 8 + 2
    assert all(p.requires_grad and p.is_leaf() for p in net.parameters())
    assert "weight" not in vars(net.body[0])  # parameters live in _parameters, not __dict__


def test_shared_module_parameters_are_listed_once():
    shared = nn.Linear(2, 2)
    outer = nn.Sequential(shared, shared)
    assert [n for n, _ in outer.named_parameters()] == ["0.weight", "0.bias"]


def test_assigning_a_plain_tensor_to_a_parameter_is_refused():
    net = Net()
    with pytest.raises(TypeError, match="params="):
        net.scale = mn.tensor([1.0, 2.0, 3.0])


def test_forgetting_super_init_is_explained():
    class Broken(nn.Module):
        def __init__(self):
            self.w = nn.Parameter([1.0])

    with pytest.raises(RuntimeError, match="super\\(\\).__init__"):
        Broken()


def test_state_dict_round_trip_and_copies():
    a, b = Net(seed=0), Net(seed=1)
    state = a.state_dict()
    state["body.0.weight"] += 100.0  # a copy: the model is untouched
    assert not np.allclose(a.body[0].weight.numpy(), state["body.0.weight"])
    b.load_state_dict(a.state_dict())
    x = x_batch()
    np.testing.assert_array_equal(a(x).numpy(), b(x).numpy())
    assert b.body[0].weight.dtype == np.float32


def test_load_state_dict_reports_every_problem_in_one_message():
    net = Net()
    state = net.state_dict()
    del state["body.0.bias"]
    state["body.9.weight"] = np.zeros(2)
    state["body.2.weight"] = np.zeros((2, 4))
    with pytest.raises(ValueError) as err:
        net.load_state_dict(state)
    message = str(err.value)
    assert "missing: body.0.bias" in message
    assert "unexpected: body.9.weight" in message
    assert "body.2.weight: checkpoint (2, 4) vs model (4, 2)" in message


def test_train_and_eval_reach_every_submodule():
    net = Net().eval()
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())


def test_deepcopy_gives_an_independent_model():
    net = Net()
    clone = copy.deepcopy(net)
    clone.body[0].weight.data = clone.body[0].weight.data + 1.0
    assert not np.allclose(clone.body[0].weight.numpy(), net.body[0].weight.numpy())
    assert [n for n, _ in clone.named_parameters()] == [n for n, _ in net.named_parameters()]


# --- functional calls -----------------------------------------------------------------------


def test_functional_call_with_own_parameters_equals_a_plain_call():
    net = Net()
    x = x_batch()
    own = dict(net.named_parameters())
    np.testing.assert_array_equal(net(x, params=own).numpy(), net(x).numpy())
    np.testing.assert_array_equal(nn.functional_call(net, own, x).numpy(), net(x).numpy())


def test_functional_call_uses_the_given_weights_and_leaves_the_module_alone():
    net = Net()
    x = x_batch()
    before = [(p, p.numpy().copy()) for p in net.parameters()]
    plain = net(x).numpy()
    fast = {n: p + 0.5 for n, p in net.named_parameters()}
    out = net(x, params=fast).numpy()
    # recompute by hand with the perturbed weights
    w1, b1, w2, b2 = (fast[f"body.{i}.{k}"].numpy() for i in (0, 2) for k in ("weight", "bias"))
    hand = np.tanh((x.numpy() * fast["scale"].numpy()) @ w1 + b1) @ w2 + b2
    np.testing.assert_allclose(out, hand, rtol=1e-5)
    assert not np.allclose(out, plain)
    assert [p for p, _ in before] == net.parameters()  # same Parameter objects
    for p, data in before:
        np.testing.assert_array_equal(p.numpy(), data)
    np.testing.assert_array_equal(net(x).numpy(), plain)


def test_an_exception_inside_forward_leaves_no_override_behind():
    class Failing(Net):
        def forward(self, x):
            super().forward(x)
            raise RuntimeError("boom")

    net = Failing()
    fast = {n: p * 0.0 for n, p in net.named_parameters()}
    with pytest.raises(RuntimeError, match="boom"):
        net(x_batch(), params=fast)
    assert module_file._overrides == []
    assert net.body[0].weight is dict(net.named_parameters())["body.0.weight"]
    assert np.abs(Net.forward(net, x_batch()).numpy()).sum() > 0  # own (non-zero) weights again


def test_missing_names_fall_back_to_the_modules_own_parameters():
    net = Net()
    x = x_batch()
    head_only = {"body.2.bias": net.body[2].bias + 1.0}  # ANIL-style: adapt only part
    np.testing.assert_allclose(net(x, params=head_only).numpy(), net(x).numpy() + 1.0, rtol=1e-6)


def test_unknown_or_mis_shaped_names_raise():
    net = Net()
    with pytest.raises(ValueError, match="'body.0.wieght'"):
        net(x_batch(), params={"body.0.wieght": net.body[0].weight})
    with pytest.raises(ValueError, match="shape \\(3,\\)"):
        net(x_batch(), params={"body.0.bias": mn.tensor(np.zeros(3))})


def test_nested_functional_calls_compose():
    class Outer(nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = Net()
            self.gain = nn.Parameter([2.0])

        def forward(self, x, inner_params):
            return self.inner(x, params=inner_params) * self.gain

    outer = Outer()
    x = x_batch()
    inner_fast = {"body.2.bias": outer.inner.body[2].bias + 1.0}
    out = outer(x, inner_fast, params={"gain": mn.tensor([3.0])})
    np.testing.assert_allclose(out.numpy(), (outer.inner(x).numpy() + 1.0) * 3.0, rtol=1e-5)


def test_second_order_gradients_through_a_functional_call():
    with mn.default_dtype("float64"):
        net = Net()
        x = x_batch(n=3)
    names = [n for n, _ in net.named_parameters()]

    def fn(*weights):
        return net(x, params=dict(zip(names, weights)))

    weights = [mn.tensor(p.numpy(), requires_grad=True, dtype=np.float64) for p in net.parameters()]
    grads = mn.grad(fn(*weights).sum(), weights)  # the output really depends on every weight
    assert all(np.abs(g.numpy()).sum() > 0 for g in grads)
    assert mn.gradcheck(fn, weights)
    assert mn.gradgradcheck(fn, weights)


# --- layers ----------------------------------------------------------------------------------


def test_linear_computes_xw_plus_b_and_names_bad_shapes():
    layer = nn.Linear(3, 2, rng=5)
    x = x_batch()
    expected = x.numpy() @ layer.weight.numpy() + layer.bias.numpy()
    np.testing.assert_allclose(layer(x).numpy(), expected, rtol=1e-6)
    message = r"Linear\(32 -> 64\): expected input with last dimension 32, got shape \(5, 31\)"
    with pytest.raises(ValueError, match=message):
        nn.Linear(32, 64)(np.zeros((5, 31)))
    assert nn.Linear(3, 2, bias=False).num_parameters() == 6


def test_layers_with_the_same_seed_start_equal_and_differ_otherwise():
    a, b, c = nn.Linear(4, 4, rng=1), nn.Linear(4, 4, rng=1), nn.Linear(4, 4, rng=2)
    np.testing.assert_array_equal(a.weight.numpy(), b.weight.numpy())
    assert not np.allclose(a.weight.numpy(), c.weight.numpy())
    assert np.abs(a.weight.numpy()).max() <= 0.5  # U(-1/sqrt(4), 1/sqrt(4))


def test_embedding_looks_up_rows_and_zeroes_the_padding_row():
    emb = nn.Embedding(6, 3, rng=0, padding_idx=0)
    assert np.all(emb.weight.numpy()[0] == 0)
    ids = np.array([[1, 5, 0]])
    np.testing.assert_array_equal(emb(ids).numpy(), emb.weight.numpy()[ids])


def test_sequential_indexing_and_type_check():
    seq = nn.Sequential(nn.Linear(3, 4), nn.ReLU())
    assert len(seq) == 2 and isinstance(seq[1], nn.ReLU) and list(seq)[0] is seq[0]
    with pytest.raises(TypeError, match="item 1 is a int"):
        nn.Sequential(nn.ReLU(), 3)


def test_dropout_is_seeded_scaled_and_off_in_eval():
    x = mn.tensor(np.ones((50, 40)))
    first, second = nn.Dropout(0.25, seed=3)(x).numpy(), nn.Dropout(0.25, seed=3)(x).numpy()
    np.testing.assert_array_equal(first, second)
    assert set(np.unique(first)) == {0.0, np.float32(1 / 0.75)}
    assert 0.2 < (first == 0).mean() < 0.3
    layer = nn.Dropout(0.25, seed=3).eval()
    np.testing.assert_array_equal(layer(x).numpy(), x.numpy())
    with pytest.raises(ValueError, match="p must lie in"):
        nn.Dropout(1.0)


def test_layernorm_normalises_and_has_correct_gradients():
    layer = nn.LayerNorm(4)
    out = layer(np.random.default_rng(0).standard_normal((3, 4)) * 5 + 2).numpy()
    np.testing.assert_allclose(out.mean(axis=-1), 0, atol=1e-5)
    np.testing.assert_allclose(out.std(axis=-1), 1, atol=1e-3)
    with pytest.raises(ValueError, match=r"LayerNorm\(4, eps=1e-05\).*got shape \(3, 5\)"):
        layer(np.zeros((3, 5)))
    with mn.default_dtype("float64"):
        layer = nn.LayerNorm(4)
        x = mn.tensor(np.random.default_rng(1).standard_normal((2, 4)), requires_grad=True)
        gain = mn.tensor(np.random.default_rng(2).standard_normal(4), requires_grad=True)
    fn = lambda x, g: layer(x, params={"gain": g})  # noqa: E731
    assert mn.gradcheck(fn, [x, gain]) and mn.gradgradcheck(fn, [x, gain])


def test_init_functions_are_seeded_and_scaled():
    np.testing.assert_array_equal(nn.init.normal((3, 2), 1.0, 7), nn.init.normal((3, 2), 1.0, 7))
    gen = np.random.default_rng(7)
    assert nn.init.normal((3, 2), 1.0, gen).shape == (3, 2)
    bound = np.sqrt(6 / (30 + 10))
    w = nn.init.xavier_uniform((30, 10), 0)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.8 * bound
    assert np.abs(nn.init.uniform_fan_in((100,), 25, 0)).max() <= 0.2
    with pytest.raises(TypeError, match="Generator or an int seed"):
        nn.init.normal((2,), 1.0, 0.5)


def test_losses_are_the_engines_functions():
    logits = mn.tensor([[2.0, 0.0], [0.0, 1.0]])
    labels = np.array([0, 1])
    assert nn.cross_entropy(logits, labels).item() == mn.cross_entropy(logits, labels).item()
    log_probs = mn.log_softmax(logits)
    expected = nn.cross_entropy(logits, labels).item()
    assert nn.nll(log_probs, labels).item() == pytest.approx(expected)
