"""`RowSparse`: a table that differs from a base table (or from zero) in a few rows only.

The gradient of an embedding table is zero except in the rows of the tokens a batch used:
for the benchmark's largest model about 3,000 of 30,000 rows. Stored dense, every inner step
of MAML would write a 36 MB gradient, and the step $\\phi = \\theta - \\alpha g$ would then
read and write the whole table again. A RowSparse stores only what differs:

    RowSparse(shape, rows, values)          zero everywhere, except table[rows] = values
    RowSparse(shape, rows, values, base)    `base` everywhere, except table[rows] = values

The first form ("zero-based") is an embedding gradient; `rows_table` makes it, but only when
it is `worth_it`: for a small table, or one of which most rows are used, a dense array is
faster. The second ("patched") is what subtracting such a gradient from a table gives:
`theta - lr * g` is theta with a few rows changed, and theta is shared, not copied.

A RowSparse stands for the dense array it describes and behaves like it (through NumPy's
`__array__` and `__array_ufunc__` protocols): code that does not know about it still gets
the right answer, computed on the densified array. These rules do the useful work on the
rows alone:

* picking rows: `table[ids]` for an integer array;
* adding or subtracting a zero-based table patches the other operand's rows: `a - g`;
  and a patched table minus its own base (that very array, not an equal copy) is zero-based:
  `(theta - g) - theta` has g's rows (the others are equal, so their difference is 0);
* multiplying by a zero-based table keeps its rows: `a * g`, and `g * 0.5`, `g / 2`, `-g`;
* in place, `dense += t` (and `-=`) adds t's base if it has one, then fixes t's rows.

`rows` are sorted and distinct. Arrays are never changed in place once made, so sharing a
base is safe. RowSparse is a NumPy-only optimisation: on a GPU, writing a dense table is cheap,
and the other backends keep dense gradients.
"""

import numpy as np
from numpy.lib.mixins import NDArrayOperatorsMixin


class RowSparse(NDArrayOperatorsMixin):
    """A (n, ...) table equal to `base` (zeros when None) except in the sorted, distinct `rows`."""

    __slots__ = ("shape", "rows", "values", "base")

    def __init__(self, shape, rows, values, base=None):
        self.shape = tuple(shape)
        self.rows, self.values, self.base = rows, values, base

    # --- array facts ---------------------------------------------------------------------
    @property
    def dtype(self):
        return self.values.dtype

    @property
    def ndim(self):
        return len(self.shape)

    @property
    def size(self):
        return int(np.prod(self.shape))

    def __len__(self):
        return self.shape[0]

    def __repr__(self):
        kind = "zeros" if self.base is None else "a base table"
        return f"RowSparse(shape={self.shape}, {len(self.rows)} rows differ from {kind})"

    # --- the dense array it stands for -------------------------------------------------------
    def dense(self):
        """The full array (a new one)."""
        out = np.zeros(self.shape, self.dtype) if self.base is None else self.base.copy()
        out[self.rows] = self.values
        return out

    def __array__(self, dtype=None, copy=None):
        out = self.dense()
        return out if dtype is None else out.astype(dtype, copy=False)

    def astype(self, dtype, copy=True):
        base = None if self.base is None else self.base.astype(dtype, copy=copy)
        return RowSparse(self.shape, self.rows, self.values.astype(dtype, copy=copy), base)

    def __bool__(self):
        return bool(self.dense())

    # --- picking rows --------------------------------------------------------------------------
    def __getitem__(self, index):
        if isinstance(index, np.ndarray) and index.dtype.kind in "iu":
            return self.take(index)
        return self.dense()[index]

    def take(self, ids, axis=0):
        """`table[ids]` for an integer array `ids` of any shape (rows, as with
        `ndarray.take(ids, axis=0)`), without densifying; another axis densifies first."""
        ids = np.asarray(ids)
        if axis != 0:
            return self.dense().take(ids, axis=axis)
        out = self._take(ids)
        return out.copy() if out is self.values else out

    def _take(self, ids):
        """`take`, but for the table's own rows it returns `values` itself, not a copy: for
        the arithmetic below, which never writes to it."""
        if _same_rows(ids, self.rows):
            return self.values
        if self.base is None:
            out = np.zeros(ids.shape + self.shape[1:], self.dtype)
        else:
            out = self.base[ids]
        slot = np.full(self.shape[0], -1)  # each row's position in self.values, or -1
        slot[self.rows] = np.arange(len(self.rows))
        slot = slot[ids]
        hit = slot >= 0
        out[hit] = self.values[slot[hit]]
        return out

    # --- arithmetic: the rules above, everything else on the dense array ----------------
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if any(isinstance(x, RowSparse) for x in kwargs.get("out", ())):
            raise TypeError(
                f"numpy.{ufunc.__name__}: a RowSparse table is never changed in place; "
                "write `t = t + g` instead of `t += g`"
            )
        if method == "__call__" and set(kwargs) <= {"out"}:
            out = kwargs.get("out")
            if out is None:
                result = _on_rows(ufunc, inputs)
            else:
                result = _in_place(ufunc, inputs, out)
            if result is not None:
                return result
        dense = [np.asarray(x) if isinstance(x, RowSparse) else x for x in inputs]
        return getattr(ufunc, method)(*dense, **kwargs)


_DENSE_METHODS = (
    "all", "any", "argmax", "argmin", "copy", "flatten", "item", "max", "mean", "min", "ravel",
    "reshape", "std", "sum", "tolist", "transpose", "var",
)
"""Array methods a RowSparse answers on the densified array."""


def _dense_method(name):
    def method(self, *args, **kwargs):
        return getattr(self.dense(), name)(*args, **kwargs)

    method.__name__ = name
    method.__doc__ = f"`ndarray.{name}` of the dense array."
    return method


for _name in _DENSE_METHODS:
    setattr(RowSparse, _name, _dense_method(_name))
RowSparse.T = property(lambda self: self.dense().T, doc="The transpose of the dense array.")


def _zero_based(x):
    return isinstance(x, RowSparse) and x.base is None


def _table(x):
    return isinstance(x, (np.ndarray, RowSparse))


def _is_scalar(x):
    return isinstance(x, (int, float, np.generic)) or (isinstance(x, np.ndarray) and x.ndim == 0)


def _rows_of(table, rows):
    """`table[rows]` for reading only (a RowSparse's own rows come back without a copy)."""
    return table._take(rows) if isinstance(table, RowSparse) else np.take(table, rows, axis=0)


def _same_rows(a, b):
    return a.shape == b.shape and np.array_equal(a, b)


def _matches(a, g):
    """True when `a` (any table) and the zero-based `g` combine without broadcasting or casting."""
    return _table(a) and a.shape == g.shape and np.result_type(a.dtype, g.dtype) == a.dtype


def _on_rows(ufunc, inputs):
    """`ufunc(*inputs)` by the rules in the module docstring, or None when none applies."""
    if ufunc is np.negative and _zero_based(inputs[0]):
        g = inputs[0]
        return RowSparse(g.shape, g.rows, -g.values)
    if len(inputs) != 2:
        return None
    a, b = inputs
    if ufunc in (np.add, np.subtract) and _zero_based(b) and _matches(a, b):
        return patch_rows(a, b.rows, ufunc(_rows_of(a, b.rows), b.values))
    if ufunc is np.add and _zero_based(a) and _matches(b, a):
        return patch_rows(b, a.rows, _rows_of(b, a.rows) + a.values)
    if ufunc is np.subtract and isinstance(a, RowSparse) and a.base is b and _matches(b, a):
        return RowSparse(a.shape, a.rows, a.values - _rows_of(b, a.rows))
    if ufunc is np.multiply and _zero_based(b) and _matches(a, b):
        return RowSparse(b.shape, b.rows, _rows_of(a, b.rows) * b.values)
    if ufunc is np.multiply and _zero_based(a) and _matches(b, a):
        return RowSparse(a.shape, a.rows, a.values * _rows_of(b, a.rows))
    if ufunc in (np.multiply, np.true_divide) and _zero_based(a) and _is_scalar(b):
        return RowSparse(a.shape, a.rows, ufunc(a.values, b))
    if ufunc is np.multiply and _zero_based(b) and _is_scalar(a):
        return RowSparse(b.shape, b.rows, a * b.values)
    return None


def _in_place(ufunc, inputs, out):
    """`dense += t` / `dense -= t`: the base (if any) in one pass, then the rows; or None."""
    if len(inputs) != 2 or len(out) != 1:
        return None
    a, t = inputs
    if ufunc not in (np.add, np.subtract) or out[0] is not a or not isinstance(a, np.ndarray):
        return None
    if not isinstance(t, RowSparse) or not _matches(a, t):
        return None
    before = np.take(a, t.rows, axis=0)
    if t.base is not None:
        ufunc(a, t.base, out=a)
    a[t.rows] = ufunc(before, t.values)
    return a


def merge_rows(n, *row_sets):
    """The sorted union of some sets of distinct rows of an (n, ...) table, and where each
    set's rows sit in it: (rows, [positions of set 0, positions of set 1, ...])."""
    present = np.zeros(n, dtype=bool)
    for rows in row_sets:
        present[rows] = True
    position = np.cumsum(present) - 1
    return np.flatnonzero(present), [position[rows] for rows in row_sets]


def patch_rows(table, rows, values):
    """`table` with `table[rows] = values` (rows sorted, distinct), sharing the rest of `table`.

    For a dense table the result is a RowSparse over it (no copy); for a RowSparse the
    patch is merged into its own.
    """
    if not isinstance(table, RowSparse):
        return RowSparse(table.shape, rows, values, base=table)
    if _same_rows(rows, table.rows):
        return RowSparse(table.shape, rows, values, table.base)
    merged, (_, at_new) = merge_rows(table.shape[0], table.rows, rows)
    merged_values = table.take(merged)
    merged_values[at_new] = values
    return RowSparse(table.shape, merged, merged_values, table.base)


SMALL = 2**16
"""Below this many entries a dense table is cheaper than any bookkeeping about its rows."""


def worth_it(shape, n_rows):
    """Is a zero-based RowSparse with `n_rows` rows worth it for a table of `shape`? Only for
    a large table of which at most half the rows are set: otherwise plain arrays are faster."""
    return int(np.prod(shape)) >= SMALL and 2 * n_rows <= shape[0]


def rows_table(shape, rows, values):
    """A table of `shape`, zero except `table[rows] = values`: a RowSparse when `worth_it`,
    else a dense array."""
    if worth_it(shape, len(rows)):
        return RowSparse(shape, rows, values)
    table = np.zeros(shape, dtype=values.dtype)
    table[rows] = values
    return table


def add_all(arrays):
    """The sum of same-shape arrays. Zero-based RowSparse tables are added on the union of
    their rows in one pass (adding them two at a time would rebuild the union each time);
    the sum stays row-sparse only while that is `worth_it`."""
    if len(arrays) == 1:
        return arrays[0]
    if len(arrays) > 2 and all(_zero_based(a) for a in arrays):
        shape, dtype = arrays[0].shape, arrays[0].dtype
        rows, where = merge_rows(shape[0], *(a.rows for a in arrays))
        if not worth_it(shape, len(rows)):
            total = np.zeros(shape, dtype)
            total[arrays[0].rows] = arrays[0].values
            for a in arrays[1:]:
                total[a.rows] += a.values
            return total
        values = np.zeros((len(rows),) + shape[1:], dtype)
        for a, at in zip(arrays, where):
            values[at] += a.values
        return RowSparse(shape, rows, values)
    total = arrays[0] + arrays[1]
    for a in arrays[2:]:
        total = total + a
    return total


def dense(array):
    """`array` itself, or the dense array a RowSparse stands for."""
    return array.dense() if isinstance(array, RowSparse) else array
