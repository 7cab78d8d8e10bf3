"""Check gradients against central finite differences: the student's best friend.

    gradcheck(fn, inputs)       first derivatives of fn at inputs
    gradgradcheck(fn, inputs)   second derivatives (the derivative of the gradient)

Central differences: $f'(x) \\approx (f(x + h) - f(x - h)) / 2h$, error O(h^2).
Inputs must be float64 Tensors: in float32 the rounding error of f swamps the difference.

For an `fn` with a non-scalar output we check the scalar $L = \\sum (fn(x) \\cdot v)$ for a fixed
random v: this exercises every entry of the Jacobian, so a wrong backward is still caught.
"""

import numpy as np

from .. import backend as B
from .grad import grad
from .tensor import Tensor


class GradcheckError(AssertionError):
    """Raised when autograd and finite differences disagree."""


def _check_inputs(inputs, who):
    inputs = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
    for i, x in enumerate(inputs):
        if not isinstance(x, Tensor):
            raise TypeError(f"{who}: input {i} is a {type(x).__name__}, not a Tensor")
        if x.requires_grad and x.dtype != np.float64:
            raise TypeError(
                f"{who}: input {i} is {x.dtype}; finite differences need float64 "
                "(use metanumpy.tensor(..., dtype='float64'))"
            )
    return inputs


def _projection(out, seed):
    rng = np.random.default_rng(seed)
    return Tensor(B.from_numpy(rng.standard_normal(out.shape), dtype=out.dtype))


def _fn_name(fn):
    return getattr(fn, "__name__", type(fn).__name__)


def gradcheck(fn, inputs, eps=1e-6, atol=1e-6, rtol=1e-4, seed=0):
    """Compare autograd's gradient of `fn(*inputs)` with central differences.

    Returns True, or raises GradcheckError naming the input, the index, and both values.
    Only inputs with `requires_grad=True` are checked.
    """
    inputs = _check_inputs(inputs, "gradcheck")
    wanted = [i for i, x in enumerate(inputs) if x.requires_grad]
    if not wanted:
        raise ValueError("gradcheck: no input requires grad; nothing to check")
    out = fn(*inputs)
    v = _projection(out, seed)

    def scalar():
        return float((fn(*inputs) * v).sum().item())

    loss = (out * v).sum()
    if loss.requires_grad:
        analytic = grad(loss, [inputs[i] for i in wanted], allow_unused=True)
    else:  # fn returned a constant (or a graph-less result): its gradient must then be zero
        analytic = [None] * len(wanted)
    for i, g in zip(wanted, analytic):
        x = inputs[i]
        got = np.zeros(x.shape) if g is None else B.to_numpy(g.data)
        host = B.to_numpy(x.data).copy()
        for idx in np.ndindex(*x.shape):
            ### BEGIN SOLUTION task1_3: (f(x + eps) - f(x - eps)) / 2 eps at idx; restore x.data
            saved = host[idx]
            host[idx] = saved + eps
            x.data = B.from_numpy(host)
            f_plus = scalar()
            host[idx] = saved - eps
            x.data = B.from_numpy(host)
            f_minus = scalar()
            host[idx] = saved
            x.data = B.from_numpy(host)
            expected = (f_plus - f_minus) / (2 * eps)
            ### END SOLUTION
            if not abs(got[idx] - expected) <= atol + rtol * abs(expected):
                raise GradcheckError(
                    f"gradcheck failed for {_fn_name(fn)}: input {i} (shape {x.shape}) at index "
                    f"{idx}: finite differences give {expected:.8g}, autograd gives {got[idx]:.8g}"
                )
    return True


def gradgradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, seed=0):
    """Check second derivatives: the gradient of <grad fn, u> against finite differences.

    Builds $h(x) = \\sum_i \\langle \\nabla_{x_i} \\langle fn(x), v \\rangle, u_i \\rangle$ with
    `create_graph=True` and runs `gradcheck` on h, so every Hessian-vector product
    that second-order MAML relies on is tested.
    """
    inputs = _check_inputs(inputs, "gradgradcheck")
    wanted = [x for x in inputs if x.requires_grad]
    v = _projection(fn(*inputs), seed)
    us = [_projection(x, seed + 1 + k) for k, x in enumerate(wanted)]

    def grad_dot_u(*xs):
        loss = (fn(*xs) * v).sum()
        gs = grad(loss, wanted, create_graph=True, allow_unused=True)
        total = Tensor(B.xp.zeros((), dtype=np.float64))
        for g, u in zip(gs, us):
            if g is not None:
                total = total + (g * u).sum()
        return total

    grad_dot_u.__name__ = f"grad of {_fn_name(fn)}"
    return gradcheck(grad_dot_u, inputs, eps=eps, atol=atol, rtol=rtol, seed=seed + 99)
