"""Optimizers: SGD and Adam for the outer loop, and `sgd_step`, the inner-loop update of MAML.

Two kinds of update live here, and the difference matters:

* `SGD.step()` / `Adam.step()` replace the `.data` of the model's Parameters, with plain array
  math and no graph: $\\theta \\leftarrow \\theta - \\eta\\, \\mathrm{update}$. The Parameters stay
  graph leaves, so nothing grows from one training step to the next.
* `sgd_step(params, grads, lr)` returns *new* Tensors $\\theta' = \\theta - \\alpha g$ and leaves
  `params` alone. When `g` came from `grad(..., create_graph=True)`, $\\theta'$ remembers how it
  depends on $\\theta$ through $g$, and second-order MAML differentiates through it.

Parameters whose `.grad` is None (unused this step) are skipped by the optimizers.
"""

import math

import numpy as np

from . import backend as B
from .autograd.tensor import Tensor


class Optimizer:
    """Common bookkeeping: the parameter list, `zero_grad`, and checkpointable state.

    Subclasses keep their per-parameter buffers in `self.state[buffer name][i]` (a backend
    array, or None before parameter i's first update) and implement `_update(i, p, g)`.
    """

    buffers = ()

    def __init__(self, params, lr):
        self.params = list(params)
        if not self.params:
            raise ValueError(f"{type(self).__name__}: got an empty parameter list")
        for i, p in enumerate(self.params):
            if not isinstance(p, Tensor) or not p.requires_grad:
                raise TypeError(
                    f"{type(self).__name__}: parameter {i} is not a Tensor that requires grad "
                    "(pass model.parameters())"
                )
        if lr <= 0:
            raise ValueError(f"{type(self).__name__}: the learning rate must be positive, got {lr}")
        self.lr = lr
        self.steps = 0
        self.state = {name: [None] * len(self.params) for name in self.buffers}

    def zero_grad(self):
        for p in self.params:
            p.grad = None

    def step(self):
        """Update every parameter that has a gradient (outside the graph)."""
        self.steps += 1
        for i, p in enumerate(self.params):
            if p.grad is not None:
                p.data = self._update(i, p.data, p.grad.data)

    def _update(self, i, p, g):
        raise NotImplementedError(f"{type(self).__name__} must define _update(i, p, g)")

    def state_dict(self):
        """Step count, learning rate and every buffer as host NumPy copies."""
        return {
            "steps": self.steps,
            "lr": self.lr,
            **{
                name: [None if a is None else np.array(B.to_numpy(a), copy=True) for a in arrays]
                for name, arrays in self.state.items()
            },
        }

    def load_state_dict(self, state):
        """Restore a `state_dict()`, so the next step is exactly the one it would have been."""
        expected = {"steps", "lr", *self.buffers}
        if set(state) != expected:
            raise ValueError(
                f"{type(self).__name__}.load_state_dict: expected keys {sorted(expected)}, "
                f"got {sorted(state)}"
            )
        for name in self.buffers:
            arrays = state[name]
            if len(arrays) != len(self.params):
                raise ValueError(
                    f"{type(self).__name__}.load_state_dict: '{name}' holds {len(arrays)} arrays "
                    f"for {len(self.params)} parameters"
                )
            for i, (a, p) in enumerate(zip(arrays, self.params)):
                if a is not None and tuple(np.shape(a)) != p.shape:
                    raise ValueError(
                        f"{type(self).__name__}.load_state_dict: '{name}' of parameter {i} has "
                        f"shape {tuple(np.shape(a))}, the parameter has shape {p.shape}"
                    )
        self.steps, self.lr = int(state["steps"]), state["lr"]
        for name in self.buffers:
            self.state[name] = [
                None if a is None else B.asarray(np.array(a, copy=True), dtype=p.dtype)
                for a, p in zip(state[name], self.params)
            ]


class SGD(Optimizer):
    """$v \\leftarrow \\mu v + g + \\lambda \\theta$, then $\\theta \\leftarrow \\theta - \\eta v$.

    momentum $\\mu$ = 0 gives plain SGD; weight_decay $\\lambda$ adds an L2 penalty's gradient.
    """

    buffers = ("velocity",)

    def __init__(self, params, lr, momentum=0.0, weight_decay=0.0):
        super().__init__(params, lr)
        self.momentum, self.weight_decay = momentum, weight_decay

    def _update(self, i, p, g):
        if self.weight_decay:
            g = g + self.weight_decay * p
        if self.momentum:
            velocity = self.state["velocity"][i]
            g = g if velocity is None else self.momentum * velocity + g
            self.state["velocity"][i] = g
        return p - self.lr * g


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015): steps scaled by running averages of g and g^2.

    $m \\leftarrow \\beta_1 m + (1-\\beta_1) g$, $v \\leftarrow \\beta_2 v + (1-\\beta_2) g^2$,
    $\\theta \\leftarrow \\theta - \\eta\\, \\hat m / (\\sqrt{\\hat v} + \\epsilon)$ with the bias
    corrections $\\hat m = m / (1 - \\beta_1^t)$, $\\hat v = v / (1 - \\beta_2^t)$, where t counts
    the optimizer's steps (a parameter first updated at a late step gets a smaller first step).
    """

    buffers = ("m", "v")

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
        super().__init__(params, lr)
        self.beta1, self.beta2 = betas
        self.eps = eps

    def _update(self, i, p, g):
        m, v = self.state["m"][i], self.state["v"][i]
        if m is None:
            m, v = B.xp.zeros(p.shape, dtype=p.dtype), B.xp.zeros(p.shape, dtype=p.dtype)
            self.state["m"][i], self.state["v"][i] = m, v
        # The moments are the optimizer's own arrays, so they are updated in place, and the
        # new weights are built in one new array: on a large embedding table every full-size
        # pass counts, and a fresh array costs more than a pass over an existing one.
        m *= self.beta1
        m += (1.0 - self.beta1) * g
        v *= self.beta2
        v += (1.0 - self.beta2) * (g * g)
        # lr * m_hat / (sqrt(v_hat) + eps) = lr * sqrt(c2) / c1 * m / (sqrt(v) + eps * sqrt(c2))
        c1, c2 = 1.0 - self.beta1**self.steps, 1.0 - self.beta2**self.steps
        new = B.xp.sqrt(v)
        new += self.eps * math.sqrt(c2)
        B.xp.divide(m, new, out=new)
        new *= -self.lr * math.sqrt(c2) / c1
        new += p  # p - step, written into the step's own array
        return new


def clip_grad_norm(params, max_norm):
    """Scale all `.grad`s together so their joint L2 norm is at most `max_norm`.

    Returns the norm before clipping (a float), handy to log.
    """
    grads = [p for p in params if p.grad is not None]
    if not grads:
        return 0.0
    squares = sum((p.grad.data * p.grad.data).sum() for p in grads)
    total = float(np.sqrt(B.to_numpy(squares)))
    if total > max_norm:
        scale = max_norm / (total + 1e-6)
        for p in grads:
            p.grad = Tensor(p.grad.data * scale)
    return total


def named_grads(params, grads):
    """(name, param, grad) for each parameter, after checking that `grads` (a list in the order
    of `params`, or a dict with the same names) fits `params`; errors name sgd_step."""
    if isinstance(grads, dict):
        extra = [n for n in grads if n not in params]
        missing = [n for n in params if n not in grads]
        if extra or missing:
            raise ValueError(
                f"sgd_step: grads must have the names of params; "
                f"missing {missing}, unexpected {extra}"
            )
        grads = [grads[n] for n in params]
    grads = list(grads)
    if len(grads) != len(params):
        raise ValueError(f"sgd_step: {len(params)} params but {len(grads)} grads")
    for (name, p), g in zip(params.items(), grads):
        if g is not None and g.shape != p.shape:
            raise ValueError(
                f"sgd_step: the gradient for {name!r} has shape {g.shape}, the parameter {p.shape}"
            )
        yield name, p, g


def rate_for(lr, name, p):
    """The learning rate of parameter `name` as a Tensor (a constant for a float `lr`)."""
    if isinstance(lr, dict):
        if name not in lr:
            raise ValueError(f"sgd_step: no learning rate for parameter {name!r}")
        lr = lr[name]
    if not isinstance(lr, Tensor):
        return Tensor(B.xp.asarray(lr, dtype=p.dtype))
    if lr.ndim > p.ndim or any(a not in (1, b) for a, b in zip(lr.shape[::-1], p.shape[::-1])):
        raise ValueError(
            f"sgd_step: the learning rate for {name!r} has shape {lr.shape}, which does not "
            f"broadcast to the parameter's shape {p.shape}"
        )
    return lr


def sgd_step(params, grads, lr):
    """New Tensors {name: p - lr * g}; `params` is not changed.

    params: dict name -> Tensor (e.g. dict(model.named_parameters()) or the previous fast weights).
    grads: list in the order of `params` (as returned by `grad(loss, list(params.values()))`)
    or a dict with the same names; a None gradient leaves that parameter as it is.
    lr: a float, or a dict name -> Tensor of learned rates (scalar or parameter-shaped: Meta-SGD).
    The result is differentiable through g when the grads were made with create_graph=True.
    """
    new = {}
    for name, p, g in named_grads(params, grads):
        if g is None:
            new[name] = p
            continue
        rate = rate_for(lr, name, p)
        ### BEGIN SOLUTION task4_1: p - lr * g from Tensor ops (rate is a float Tensor)
        new[name] = p - rate * g
        ### END SOLUTION
    return new
