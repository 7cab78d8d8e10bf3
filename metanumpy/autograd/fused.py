"""Fused ops: a whole formula as one op, with its backward written by hand.

    cross_entropy_loss(logits, labels)   mean over rows of $-\\log \\mathrm{softmax}(x)_{y}$
    nll_loss(log_probs, labels)          mean over rows of $-\\log p_{y}$
    class_logsumexp(x, labels, ways)     $out_{qk} = \\log \\sum_{j:\\, y_j = k} e^{x_{qj}}$
    bag_sum(rows, where, weights)        $out_b = \\sum_t w_{bt}\\, rows_{where_{bt}}$
    l2_normalize(x, axis, eps), norm(x, axis, eps)   $x / n$ and $n = \\sqrt{|x|^2 + \\epsilon}$

Each could be composed from the primitives (log_softmax, a one-hot product, a sum, a scale;
a gather, a product, a sum) and gave the same numbers that way. Fused, the forward pass is one
array computation and records one node instead of five. That matters most inside MAML's inner
loop, where every recorded op of the backward pass is differentiated once more. The backward
passes are still written with Tensor ops, so they differentiate to any order
(tests/test_fused_ops.py checks first and second derivatives against finite differences).
"""

from .. import backend as B
from .ops import LogSumExp, _axes, distinct_rows, exp, getitem, log_softmax
from .ops import sum as sum_over
from .tensor import Function, Tensor, constant


def _picked(log_probs, labels):
    """The mean of -log_probs[i, labels[i]] over the rows, as a 0-d array."""
    n = log_probs.shape[0]
    return B.xp.asarray(-log_probs[B.xp.arange(n), labels].sum() / n)


def one_hot(labels, n_classes, dtype=None):
    """A constant (n, n_classes) Tensor with a 1 at each label."""
    labels = constant(labels)
    return Tensor(B.xp.eye(n_classes, dtype=dtype or B.default_float)[labels])


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
        ### BEGIN SOLUTION task6_1: x (n, 1, m) + offset (ways, m), then LogSumExp's forward over axis 2
        xp = B.xp
        member = xp.arange(self.ways).reshape(-1, 1) == self.labels  # (ways, m)
        scores = x.reshape(x.shape[0], 1, -1) + xp.where(member, 0.0, self.NEVER).astype(x.dtype)
        return LogSumExp((2,), False).forward(scores)
        ### END SOLUTION

    def backward(self, g, out):
        ### BEGIN SOLUTION task6_1: exp(x - out[:, labels]) * g[:, labels], with getitem and exp
        x = self.inputs[0]
        columns = (slice(None), self.labels)  # each column's own class: out[:, labels]
        return (exp(x - getitem(out, columns)) * getitem(g, columns),)
        ### END SOLUTION


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


class Bags:
    """The constant half of an embedding bag: which row each token uses (`where`, (batch, time))
    and with what weight (`weights`, (batch, time)), for `n_rows` distinct rows.

    As a matrix, the bag is M (batch, n_rows) with out = M @ rows, and the backward pass needs
    M^T g. A small M is simply built and multiplied. A large one is nearly empty (a text uses a
    few dozen of thousands of rows), and most rows are used by a single token: their gradient
    is that token's weight times its text's gradient, a plain gather. Only the rows several
    tokens share go through a dense product, with the small matrix of their columns.
    (NumPy has no fast scatter-add for the general case.)
    """

    SMALL = 2**16
    """Up to this many entries, M is built whole."""

    def __init__(self, where, weights, n_rows):
        self.where, self.weights, self.n_rows = where, weights, n_rows
        self._plan = None

    def matrix(self):
        """M itself: (batch, n_rows), the summed weight of each row in each text."""
        batch = self.where.shape[0]
        flat = B.xp.zeros(batch * self.n_rows, dtype=self.weights.dtype)
        slots = B.xp.arange(batch).reshape(-1, 1) * self.n_rows + self.where  # b * U + row
        B.scatter_add(flat, slots.reshape(-1), self.weights.reshape(-1))
        return flat.reshape(batch, self.n_rows)

    def transpose_times(self, g):
        """M^T g: (batch, dim) -> (n_rows, dim)."""
        if self.where.shape[0] * self.n_rows <= self.SMALL:
            return self.matrix().T @ g
        if self._plan is None:
            self._plan = self._split()
        single_rows, single_texts, single_weights, shared_rows, shared = self._plan
        out = B.xp.zeros((self.n_rows,) + tuple(g.shape[1:]), dtype=g.dtype)
        singles = g.take(single_texts, axis=0)  # each single row: its text's gradient ...
        singles *= single_weights.reshape(-1, 1)  # ... times its token's weight
        out[single_rows] = singles
        out[shared_rows] = shared.T @ g
        return out

    def _split(self):
        """The rows used by exactly one token (with its text and weight), and the matrix of the
        columns of M for the rows used by several."""
        xp = B.xp
        batch, time = self.where.shape
        where, weights = self.where.reshape(-1), self.weights.reshape(-1)
        used = weights != 0
        uses = xp.bincount(where[used], minlength=self.n_rows)  # tokens per row
        single = (used & (uses[where] == 1)).nonzero()[0]
        shared_rows = (uses > 1).nonzero()[0]
        column = xp.zeros(self.n_rows, dtype=where.dtype)
        column[shared_rows] = xp.arange(shared_rows.shape[0])
        tokens = (used & (uses[where] > 1)).nonzero()[0]
        shared = xp.zeros(batch * shared_rows.shape[0], dtype=weights.dtype)
        B.scatter_add(shared, tokens // time * shared_rows.shape[0] + column[where[tokens]],
                      weights[tokens])
        return (where[single], single // time, weights[single], shared_rows,
                shared.reshape(batch, shared_rows.shape[0]))


class BagSum(Function):
    """$out_b = \\sum_t w_{bt}\\, rows_{where_{bt}}$: (n_rows, dim) -> (batch, dim).

    Forward: gather each token's row and take the weighted sum over time, a batched
    (1, time) @ (time, dim) product. Backward: the adjoint, BagSumTranspose.
    """

    def __init__(self, bags):
        self.bags = bags

    def forward(self, rows):
        weights = self.bags.weights
        per_token = rows.take(self.bags.where, axis=0)  # rows[where]: (batch, time, dim)
        return (weights.reshape(weights.shape[0], 1, -1) @ per_token).reshape(weights.shape[0], -1)

    def backward(self, g, out):
        return (BagSumTranspose(self.bags)(g),)


class BagSumTranspose(Function):
    """$M^T g$: (batch, dim) -> (n_rows, dim), each row the weighted sum of the gradients of
    the texts that use it; the adjoint of BagSum (so each is the other's backward)."""

    def __init__(self, bags):
        self.bags = bags

    def forward(self, g):
        return self.bags.transpose_times(g)

    def backward(self, g, out):
        return (BagSum(self.bags)(g),)


class RecentBags:
    """The distinct rows and the Bags of the last few batches, found again by their contents.

    The inner loop of MAML and Reptile encodes the same support set at every step: its
    distinct rows and its backward plan (`Bags._split`) need working out only once. A batch is
    recognised by comparing its ids and weights with copies kept here (microseconds, against
    a few hundred for the work it saves; on a GPU, plus one small wait for the answer), so an
    array changed in place is never mistaken for the old one.
    """

    def __init__(self, size=4):
        self.size, self.entries = size, []

    def get(self, ids, weights, n_vocab):
        """(rows, bags) for `ids` (batch, time) into a table of `n_vocab` rows: the sorted
        distinct ids, and the Bags of positions in `rows` with `weights`."""
        for vocab, old_ids, old_weights, rows, bags in self.entries:
            if vocab == n_vocab and _same(old_ids, ids) and _same(old_weights, weights):
                return rows, bags
        rows, where = distinct_rows(ids, n_vocab)
        bags = Bags(where, weights.copy(), rows.shape[0])
        self.entries = [(n_vocab, ids.copy(), bags.weights, rows, bags)] + self.entries[:self.size - 1]
        return rows, bags


def _same(a, b):
    """Do arrays `a` and `b` hold the same values (same type, shape and dtype too)?"""
    return (type(a) is type(b) and a.shape == b.shape and a.dtype == b.dtype
            and bool(B.xp.array_equal(a, b)))


recent_bags = RecentBags()


def bag_sum(rows, where, weights):
    """Weighted sums of `rows` (n_rows, dim): out[b] = sum_t weights[b, t] * rows[where[b, t]].

    `where` (batch, time) holds integer positions in `rows`, `weights` the constant weights.
    """
    return BagSum(Bags(where, weights, rows.shape[0]))(rows)


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
