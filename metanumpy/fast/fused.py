"""Fused ops: a whole formula as one op, with its backward written by hand.

    cross_entropy_loss(logits, labels)   mean over rows of $-\\log \\mathrm{softmax}(x)_{y}$
    nll_loss(log_probs, labels)          mean over rows of $-\\log p_{y}$
    class_logsumexp(x, labels, ways)     $out_{qk} = \\log \\sum_{j:\\, y_j = k} e^{x_{qj}}$
    l2_normalize(x, axis, eps), norm(x, axis, eps)   $x / n$ and $n = \\sqrt{|x|^2 + \\epsilon}$
    SGDUpdate()(p, g, lr)                $p - lr\\, g$ (MAML's inner step)

Each replaces a composition of primitives of the reference path (log_softmax and a one-hot
product; a sum, a sqrt and a division; `log(attention @ one_hot)`; `p - lr * g`), and
`tests/test_fast.py` checks that they agree with it. Fused, the forward pass is one
array computation and records one node instead of five. That matters most inside MAML's inner
loop, where every recorded op of the backward pass is differentiated once more. The backward
passes are still written with Tensor ops, so they differentiate to any order
(tests/test_fused_ops.py checks first and second derivatives against finite differences).
"""

from .. import backend as B
from ..autograd import ops
from ..autograd.functional import one_hot
from ..autograd.ops import LogSumExp, _axes, exp, getitem, log_softmax
from ..autograd.ops import sum as sum_over
from ..autograd.tensor import Function, Tensor


def _picked(log_probs, labels):
    """The mean of -log_probs[i, labels[i]] over the rows, as a 0-d array."""
    n = log_probs.shape[0]
    return B.xp.asarray(-log_probs[B.xp.arange(n), labels].sum() / n)


class CrossEntropy(Function):
    """$L = -\\frac1n \\sum_i \\log \\mathrm{softmax}(x_i)_{y_i}$;
    $dL/dx = (\\mathrm{softmax}(x) - onehot(y)) / n$."""

    name = "cross_entropy"

    def __init__(self, labels):
        self.labels = labels

    def forward(self, x):
        xp = B.xp
        shifted = x - x.max(axis=1, keepdims=True)
        log_probs = shifted - xp.log(xp.exp(shifted).sum(axis=1, keepdims=True))
        return _picked(log_probs, self.labels)

    def backward(self, g, out):
        x = self.inputs[0]
        n, classes = x.shape
        softmax = exp(log_softmax(x, axis=1))
        return ((softmax - one_hot(self.labels, classes, x.dtype)) * (g * (1.0 / n)),)


class NLL(Function):
    """$L = -\\frac1n \\sum_i p_{i, y_i}$ for log-probabilities p; $dL/dp = -onehot(y) / n$."""

    name = "nll"

    def __init__(self, labels):
        self.labels = labels

    def forward(self, log_probs):
        return _picked(log_probs, self.labels)

    def backward(self, g, out):
        n, classes = self.inputs[0].shape
        return (one_hot(self.labels, classes, g.dtype) * (g * (-1.0 / n)),)


class ClassLogSumExp(Function):
    """$out_{qk} = \\log \\sum_{j:\\, y_j = k} e^{x_{qj}}$: a logsumexp over each class's columns.

    x: (n, m) scores of n rows against m labelled columns (labels y, m of them) -> (n, ways).
    Composed, it is `logsumexp(x[:, None, :] + offset, axis=2)` with offset[k, j] = 0 where
    y_j = k and -1e30 elsewhere (a column of another class adds exp(-1e30) = 0): that
    (n, ways, m) array is what the forward pass computes, but the backward pass needs only
    $dx_{qj} = g_{q y_j}\\, e^{x_{qj} - out_{q y_j}}$, each column's share of its own class.
    (A class without columns gets -1e30 and passes no gradient on; the composition would
    spread its g over all columns, which finite differences do not see.)
    """

    name = "class_logsumexp"
    NEVER = -1e30
    """The log of a zero weight, kept finite so that gradients stay clean."""

    def __init__(self, labels, ways):
        self.labels, self.ways = labels, ways

    def forward(self, x):
        xp = B.xp
        member = xp.arange(self.ways).reshape(-1, 1) == self.labels  # (ways, m)
        scores = x.reshape(x.shape[0], 1, -1) + xp.where(member, 0.0, self.NEVER).astype(x.dtype)
        return LogSumExp((2,), False).forward(scores)

    def backward(self, g, out):
        x = self.inputs[0]
        columns = (slice(None), self.labels)  # each column's own class: out[:, labels]
        return (exp(x - getitem(out, columns)) * getitem(g, columns),)


def class_logsumexp(x, labels, ways):
    """For (n, m) scores `x` and valid integer `labels` (m,) in 0..ways-1 (a backend array,
    checked by the caller, `functional.class_logsumexp`): the (n, ways) logsumexp of each row
    over the columns of each class (a class without columns gives -1e30)."""
    return ClassLogSumExp(labels, ways)(x)


def cross_entropy_loss(logits, labels):
    """Mean cross-entropy of (n, classes) `logits` for valid integer `labels` (n,) (checked by
    the caller, `functional.cross_entropy`)."""
    return CrossEntropy(labels)(logits)


def nll_loss(log_probs, labels):
    """Mean negative log-likelihood of valid integer `labels` under rows of `log_probs`."""
    return NLL(labels)(log_probs)


class L2Normalize(Function):
    """$y = x / n$ with $n = \\sqrt{|x|^2 + \\epsilon}$ over `axis`;
    $dx = (g - y \\langle g, y \\rangle) / n$."""

    name = "l2_normalize"

    def __init__(self, axis, eps):
        self.axis, self.eps = axis, eps

    def forward(self, x):
        return x / B.xp.sqrt((x * x).sum(axis=self.axis, keepdims=True) + self.eps)

    def backward(self, g, out):
        along = sum_over(g * out, self.axis, keepdims=True)
        return ((g - out * along) / norm(self.inputs[0], self.axis, self.eps),)


class Norm(Function):
    """$n = \\sqrt{|x|^2 + \\epsilon}$ over `axis` (kept as a size-1 axis); $dn/dx = x / n$,
    which is `l2_normalize(x)`: the two ops are each other's derivative."""

    name = "norm"

    def __init__(self, axis, eps):
        self.axis, self.eps = axis, eps

    def forward(self, x):
        return B.xp.sqrt((x * x).sum(axis=self.axis, keepdims=True) + self.eps)

    def backward(self, g, out):
        x = self.inputs[0]
        return (g * l2_normalize(x, self.axis, self.eps),)


def l2_normalize(x, axis=-1, eps=1e-8):
    """$x / \\sqrt{|x|^2 + \\epsilon}$ along `axis`: unit length, and finite at x = 0."""
    return L2Normalize(_axes(axis, x.ndim)[0], eps)(x)


def norm(x, axis=-1, eps=1e-8):
    """$\\sqrt{|x|^2 + \\epsilon}$ along `axis`, keeping it as a size-1 axis."""
    return Norm(_axes(axis, x.ndim)[0], eps)(x)


class SGDUpdate(Function):
    """$\\theta' = \\theta - \\alpha g$ as one op (the inner step of MAML).

    Written as `p - lr * g` it is two recorded ops with a full-size temporary each way; for a
    large embedding table that is several extra copies per inner step. Fused, the backward
    passes the output's gradient straight through to $\\theta$ (no copy) and computes
    $-\\alpha\\, \\bar\\theta'$ for g only when g has a graph (second order), and
    $-\\sum \\bar\\theta' g$ for a learned rate $\\alpha$ (Meta-SGD) only when it requires grad.
    For a row-sparse embedding gradient g the forward pass changes only g's rows of p.
    """

    name = "sgd_step"

    def forward(self, p, g, lr):
        return p - lr * g

    def backward(self, grad_out, out):
        p, g, lr = self.inputs
        grad_p = grad_out if p.requires_grad else None
        minus_lr = ops.neg(lr) if lr.requires_grad else Tensor(-lr.data)  # a constant: no op
        grad_g = grad_out * minus_lr if g.requires_grad else None
        grad_lr = ops.sum_to(ops.neg(grad_out * g), lr.shape) if lr.requires_grad else None
        return grad_p, grad_g, grad_lr


class FirstOrderLink(Function):
    """A Tensor with the value of phi whose gradient goes to theta unchanged: the first-order
    approximation d phi / d theta = I, as one graph node (instead of one per inner step)."""

    def __init__(self, phi):
        self.phi = phi

    def forward(self, theta):
        return self.phi

    def backward(self, g, out):
        return (g,)
