"""Bad input to the engine gives an exception a student can act on, raised where it arrives.

What this file covers:

* `BAD_CALLS`: one row per mistake (mismatched shapes in add, mul, matmul, concatenate,
  reshape, ...; bad axes, indices, labels, ids). Each row checks the exception type, that the
  message names the op and the shapes involved, and that it is raised by metanumpy's own
  code (never a traceback from deep inside NumPy);
* `grad` misuse: a non-scalar output without `grad_outputs`, an input the outputs do not use
  (or `allow_unused=True` -> None), an input that does not require grad, integer tensors;
* mixing arrays of two backends in one op;
* `gradcheck` / `gradgradcheck` catching a deliberately wrong backward (naming the input,
  the index and both values) and refusing float32 inputs.
"""

import re

import numpy as np
import pytest

import metanumpy as mn
from metanumpy import backend as B
from metanumpy.autograd import Function, Tensor


def zeros(*shape):
    return mn.tensor(np.zeros(shape))


def bad(id, call, error, *fragments):
    return pytest.param(call, error, fragments, id=id)


BAD_CALLS = [
    bad("add-shapes", lambda: zeros(2, 3) + zeros(4), ValueError, "add", "(2, 3)", "(4,)"),
    bad("sub-shapes", lambda: zeros(2, 3) - zeros(3, 2), ValueError, "sub", "(2, 3)", "(3, 2)"),
    bad("mul-shapes", lambda: zeros(2, 3) * zeros(3, 2), ValueError, "mul", "(2, 3)", "(3, 2)"),
    bad("div-shapes", lambda: zeros(5) / zeros(2), ValueError, "div", "(5,)", "(2,)"),
    bad("matmul-inner-dims", lambda: zeros(2, 3) @ zeros(4, 5), ValueError, "matmul", "(2, 3)", "(4, 5)"),
    bad("matmul-vector", lambda: zeros(3) @ zeros(4, 5), ValueError, "matmul", "(3,)", "(4, 5)"),
    bad("matmul-batch-dims", lambda: zeros(2, 3, 4) @ zeros(3, 4, 5), ValueError,
        "matmul", "(2, 3, 4)", "(3, 4, 5)"),
    bad("matmul-scalar", lambda: zeros() @ zeros(3), ValueError, "matmul", "()", "(3,)"),
    bad("concatenate-shapes", lambda: mn.concatenate([zeros(2, 3), zeros(2, 4)]), ValueError,
        "concatenate", "(2, 3)", "(2, 4)"),
    bad("concatenate-empty", lambda: mn.concatenate([]), ValueError, "concatenate"),
    bad("stack-empty", lambda: mn.stack([]), ValueError, "stack", "at least one"),
    bad("stack-shapes", lambda: mn.stack([zeros(2), zeros(3)]), ValueError, "stack", "(2,)", "(3,)"),
    bad("reshape-size", lambda: zeros(2, 3).reshape(4, 2), ValueError, "reshape", "(2, 3)", "(4, 2)"),
    bad("reshape-two-minus-ones", lambda: zeros(2, 3).reshape(-1, -1), ValueError, "reshape", "(2, 3)"),
    bad("broadcast_to", lambda: mn.broadcast_to(zeros(3), (2, 4)), ValueError,
        "broadcast_to", "(3,)", "(2, 4)"),
    bad("where-shapes", lambda: mn.where(np.ones((2, 3), bool), zeros(2, 3), zeros(4)), ValueError,
        "where", "(2, 3)", "(4,)"),
    bad("transpose-not-a-permutation", lambda: zeros(2, 3).transpose(0, 0), ValueError,
        "transpose", "(2, 3)"),
    bad("sum-axis-out-of-range", lambda: zeros(2, 3).sum(axis=2), ValueError, "axis 2", "2 dimensions"),
    bad("max-empty", lambda: zeros(0).max(), ValueError, "max", "empty"),
    bad("index-out-of-range", lambda: zeros(2, 3)[5], IndexError, "getitem", "(2, 3)"),
    bad("float-index", lambda: zeros(2, 3)[np.array([0.5])], TypeError, "getitem", "float64"),
    bad("tensor-exponent", lambda: zeros(2) ** zeros(2), TypeError, "power", "exponent"),
    bad("cross_entropy-float-labels", lambda: mn.cross_entropy(zeros(3, 4), np.zeros(3)), TypeError,
        "cross_entropy", "integers"),
    bad("cross_entropy-label-shape", lambda: mn.cross_entropy(zeros(5, 4), np.zeros(3, int)), ValueError,
        "cross_entropy", "(5, 4)", "(3,)"),
    bad("nll-label-range", lambda: mn.nll(zeros(2, 4), np.array([0, 4])), ValueError, "nll", "0..3"),
    bad("embedding-id-range", lambda: mn.embedding(zeros(6, 2), np.array([1, 6])), ValueError,
        "embedding", "0..5"),
    bad("embedding-float-ids", lambda: mn.embedding(zeros(6, 2), np.array([1.0])), TypeError,
        "embedding", "integers"),
    bad("cosine-shapes", lambda: mn.cosine_similarity(zeros(3, 4), zeros(5, 3)), ValueError,
        "cosine_similarity", "(3, 4)", "(5, 3)"),
    bad("pairwise-shapes", lambda: mn.pairwise_sq_dists(zeros(3, 4), zeros(4)), ValueError,
        "pairwise_sq_dists", "(3, 4)", "(4,)"),
    bad("masked_mean-shapes", lambda: mn.masked_mean(zeros(2, 5, 3), np.ones((2, 4))), ValueError,
        "masked_mean", "(2, 4)", "(2, 5, 3)"),
    bad("item-of-a-vector", lambda: zeros(2, 3).item(), ValueError, "item", "(2, 3)"),
    bad("truth-value", lambda: bool(zeros(1)), TypeError, "ambiguous"),
    bad("integer-requires-grad", lambda: mn.tensor([1, 2], requires_grad=True), TypeError,
        "floating-point", "int64"),
]


@pytest.mark.parametrize("call, error, fragments", BAD_CALLS)
def test_bad_input_raises_a_clear_error_from_metanumpy(call, error, fragments):
    """The right exception, naming the op and shapes, raised by metanumpy (not inside NumPy)."""
    with pytest.raises(error) as info:
        call()
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} missing from: {message}"
    assert "/metanumpy/" in str(info.traceback[-1].path).replace("\\", "/")


# --- misusing grad ------------------------------------------------------------------------------


def leaf(*values):
    return mn.tensor(list(values), requires_grad=True, dtype="float64")


def test_grad_of_a_non_scalar_output_needs_grad_outputs():
    """Only a scalar output has an implicit seed gradient; the message says what to pass."""
    x = leaf(1.0, 2.0)
    with pytest.raises(ValueError, match=r"output 0 has shape \(2,\).*grad_outputs"):
        mn.grad(x * x, x)


def test_grad_outputs_must_match_the_outputs():
    """One grad_output per output, each with its output's shape."""
    x = leaf(1.0, 2.0)
    with pytest.raises(ValueError, match=r"grad_outputs\[0\] has shape \(3,\), output has \(2,\)"):
        mn.grad(x * x, x, grad_outputs=np.ones(3))
    with pytest.raises(ValueError, match="1 outputs but 2 grad_outputs"):
        mn.grad(x * x, x, grad_outputs=[np.ones(2), np.ones(2)])


def test_an_input_not_used_by_the_outputs_is_an_error_unless_allowed():
    """An unused input names its position; allow_unused=True returns None for it."""
    x, unused = leaf(1.0), leaf(2.0)
    with pytest.raises(ValueError, match=r"input 1 \(shape \(1,\)\) is not used.*allow_unused=True"):
        mn.grad((x * x).sum(), [x, unused])
    gx, gu = mn.grad((x * x).sum(), [x, unused], allow_unused=True)
    assert gx.item() == 2.0 and gu is None


def test_an_input_that_does_not_require_grad_is_refused():
    """Asking for the gradient of a constant is a mistake, reported with the input's position."""
    x = mn.tensor([1.0, 2.0], dtype="float64")
    w = leaf(3.0, 4.0)
    with pytest.raises(ValueError, match=r"input 0 \(shape \(2,\)\) does not require grad"):
        mn.grad((x * w).sum(), x)


def test_inputs_must_be_tensors():
    """A raw array as an input is named by its type."""
    x = leaf(1.0)
    with pytest.raises(TypeError, match="input 0 is a ndarray, not a Tensor"):
        mn.grad(x.sum(), np.ones(1))


def test_outputs_built_without_a_graph_are_refused():
    """Outputs computed under no_grad have no graph to walk: grad and backward say so."""
    x = leaf(1.0, 2.0)
    with mn.no_grad():
        y = (x * x).sum()
    with pytest.raises(ValueError, match="do not depend on any tensor that requires grad"):
        mn.grad(y, x)
    with pytest.raises(ValueError, match="backward: the output does not depend"):
        y.backward()


def test_integer_tensors_cannot_require_grad():
    """ids and labels are integers: asking for their gradient is refused."""
    ids = mn.tensor([3, 1, 4])
    assert ids.dtype == np.int64
    with pytest.raises(TypeError, match="only floating-point tensors can require gradients"):
        ids.requires_grad_()


# --- mixing backends -----------------------------------------------------------------------------


def test_mixing_arrays_of_two_backends_in_one_op_is_refused():
    """A tensor made under the strict backend and one made under numpy cannot meet in an op."""
    with B.use_backend("numpy"):
        host = mn.tensor([1.0, 2.0])
    with B.use_backend("strict"):
        device = mn.tensor([1.0, 2.0])
    assert B.array_kind(device.data) == "strict"
    with pytest.raises(TypeError, match=r"add: inputs live on different backends \(numpy, strict\)"):
        host + device
    with pytest.raises(TypeError, match=r"matmul: inputs live on different backends \(strict, numpy\)"):
        device @ host


# --- gradcheck catches a wrong backward -------------------------------------------------------------


class WrongSquare(Function):
    """$x^2$ with a deliberately wrong backward: 3x instead of 2x."""

    def forward(self, a):
        return a * a

    def backward(self, g, out):
        return (g * self.inputs[0] * 3.0,)


class FrozenSquare(Function):
    """$x^2$ whose backward has the right value but is built from a raw array, so it is not
    differentiable again: first derivatives pass, second derivatives must fail."""

    def forward(self, a):
        return a * a

    def backward(self, g, out):
        return (g * Tensor(2.0 * self.inputs[0].data),)


def test_gradcheck_names_the_input_the_index_and_both_values():
    """A wrong backward (3x for x^2) is caught at input 1, index (0,), with both numbers."""
    a, b = leaf(1.0, -2.0), leaf(0.5, 1.5, 2.5)
    with pytest.raises(mn.GradcheckError) as info:
        mn.gradcheck(lambda a, b: a.sum() * WrongSquare()(b), [a, b])
    message = str(info.value)
    assert "input 1 (shape (3,)) at index (0,)" in message
    numbers = re.search(r"finite differences give (\S+), autograd gives (\S+)", message).groups()
    expected, got = map(float, numbers)
    assert got == pytest.approx(1.5 * expected, rel=1e-4)  # 3x vs the true 2x


@pytest.mark.task1_3
def test_gradgradcheck_catches_a_backward_that_is_not_differentiable():
    """A backward built from raw arrays passes gradcheck but fails gradgradcheck."""
    x = leaf(0.5, 1.5)
    assert mn.gradcheck(lambda x: FrozenSquare()(x), [x])
    with pytest.raises(mn.GradcheckError, match="input 0"):
        mn.gradgradcheck(lambda x: FrozenSquare()(x), [x])


@pytest.mark.parametrize("check", [mn.gradcheck, mn.gradgradcheck], ids=["gradcheck", "gradgradcheck"])
def test_gradient_checks_refuse_float32(check):
    """Finite differences in float32 are noise: float32 inputs are refused."""
    x = mn.tensor([1.0, 2.0], requires_grad=True, dtype="float32")
    with pytest.raises(TypeError, match="input 0 is float32; finite differences need float64"):
        check(lambda x: x * x, [x])


def test_gradcheck_needs_an_input_that_requires_grad():
    """Nothing to check is reported rather than silently passing."""
    with pytest.raises(ValueError, match="no input requires grad"):
        mn.gradcheck(lambda x: x * x, [mn.tensor([1.0], dtype="float64")])
