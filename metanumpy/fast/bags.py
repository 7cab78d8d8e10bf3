"""The embedding bag: lookup and masked mean as one op, with row-sparse gradients.

The reference `BagOfEmbeddings` computes `masked_mean(embedding(table, ids), mask)`: it
gathers a (batch, time, dim) array and its gradient is a dense (vocab, dim) table. Here:

    embedding_bag(table, ids, weights)   $out_b = \\sum_t w_{bt}\\, E[ids_{bt}]$

takes the U distinct rows a batch uses from the table once (`take_distinct_rows`), sums them
per text with a fused op (`BagSum`), and so the table's gradient has U rows, stored row-sparse
(`rowsparse.py`); no (batch, time, dim) array is kept for the backward pass. The distinct rows
and backward plan of recent batches are remembered (`RecentBags`), so the 5 inner steps of
MAML on one support set work them out once.
"""

import numpy as np

from .. import backend as B
from ..autograd.ops import as_tensor, getitem
from ..autograd.tensor import Function, constant
from .rowsparse import RowSparse, rows_table


def _rows_table(n, rows, values):
    """An (n, ...) table, zero except `table[rows] = values`: row-sparse on NumPy when that is
    worth it, dense on the other backends (on a GPU, writing a dense table is cheap)."""
    shape = (n,) + tuple(values.shape[1:])
    if B.xp is np:
        return rows_table(shape, rows, values)
    table = B.xp.zeros(shape, dtype=values.dtype)
    table[rows] = values
    return table


class TakeRows(Function):
    """`table[rows]` for sorted, distinct integer `rows`: the rows a lookup uses."""

    def __init__(self, rows):
        self.rows = rows

    def forward(self, table):
        if isinstance(table, RowSparse):  # phi in an inner loop: its own rows, without a copy
            return table._take(self.rows)  # (safe: arrays are never changed in place)
        return table.take(self.rows, axis=0)  # as table[rows], and faster on NumPy

    def backward(self, g, out):
        return (scatter_rows(g, self.rows, self.inputs[0].shape[0]),)


class ScatterRows(Function):
    """An (n, ...) table, zero except at the distinct `rows`, which hold `values`.

    The adjoint of TakeRows. On NumPy the table is a RowSparse that stores only those rows
    (`rows_table`), so an embedding gradient costs its used rows, not the vocabulary.
    """

    def __init__(self, rows, n):
        self.rows, self.n = rows, n

    def forward(self, values):
        return _rows_table(self.n, self.rows, values)

    def backward(self, g, out):
        return (take_distinct_rows(g, self.rows),)


def take_distinct_rows(table, rows):
    """`table[rows]` for a sorted array of distinct row numbers (as `distinct_rows` gives)."""
    return TakeRows(rows)(as_tensor(table))


def scatter_rows(values, rows, n):
    """An (n, ...) table with `values` at the distinct `rows` and zeros elsewhere."""
    return ScatterRows(rows, n)(as_tensor(values))


def distinct_rows(ids, n):
    """(rows, where) for an integer array `ids` with values in 0..n-1: the sorted distinct
    values, and for each entry of `ids` its position among them (`ids == rows[where]`).

    Marks the ids in a length-n table and counts: no sort (`unique` would sort).
    """
    present = B.xp.zeros(n, dtype=bool)
    present[ids] = True
    position = B.xp.cumsum(present) - 1
    return present.nonzero()[0], position[ids]


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


def embedding_bag(table, ids, weights):
    """Weighted sums of embeddings: $out_b = \\sum_t w_{bt}\\, E[ids_{bt}]$ -> (batch, dim).

    ids: (batch, time) integers in 0..vocab-1 (checked by the caller); weights: a constant
    (batch, time) array.
    """
    rows, bags = recent_bags.get(ids, weights, table.shape[0])  # reused in inner loops
    return BagSum(bags)(take_distinct_rows(table, rows))


def embedding_mean(table, ids, mask):
    """`masked_mean(embedding(table, ids), mask)` -> (batch, dim), by `embedding_bag`: each
    token weighs mask / (number of real tokens of its text, at least 1)."""
    table = as_tensor(table)
    mask = constant(mask, dtype=table.dtype)
    return embedding_bag(table, constant(ids), mask / B.xp.maximum(mask.sum(axis=1, keepdims=True), 1))


def take_rows(table, ids):
    """`table[ids]` for integer `ids` of any shape, in two steps: take the distinct rows the
    ids use, then index those. Its gradient scatter-adds into that small table, which becomes
    the used rows of the full (row-sparse) gradient."""
    rows, where = distinct_rows(ids, table.shape[0])
    return getitem(take_distinct_rows(table, rows), where)
