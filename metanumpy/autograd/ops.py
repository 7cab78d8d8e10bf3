"""The primitive ops: forward on arrays, backward on Tensors.

Every `backward` below is written with the lowercase functions of this file, never with raw
arrays, so the gradient it returns is itself a recorded Tensor expression. As autodidact puts
it, the vector-Jacobian products are implemented with differentiable functions as well; that
is the whole trick behind `grad(grad(f))`. A constant mask (relu, max, abs, where) is allowed:
its derivative is zero almost everywhere.

The primitives come in adjoint pairs, each the other's backward:
broadcast_to <-> sum, reshape <-> reshape, transpose <-> transpose (inverse permutation),
getitem (gather, the embedding lookup) <-> index_add (scatter-add). Elementwise math, matmul
(with transpose flags, so that its backward needs no transpose op) and add_n (the sum of many)
complete the set; everything else (mean, softmax, distances, losses, pooling, ...) is built
from these in `functional.py`, except two fused, numerically stable ops here, logsumexp and
log_softmax.
"""

import math

import numpy as np

from .. import backend as B
from .tensor import Function, Tensor, constant


# --- helpers ----------------------------------------------------------------------------


def as_tensor(x, like=None):
    """Wrap a Python number or array as a constant Tensor (with `like`'s float dtype).

    A host NumPy array is moved to the current backend, like a list would be."""
    if isinstance(x, Tensor):
        return x
    dtype = like.dtype if like is not None and like.dtype.kind == "f" else None
    if B.is_array(x):
        x = B.asarray(x)
        return Tensor(x if dtype is None else x.astype(dtype, copy=False))
    if dtype is None:  # an integer next to an integer tensor stays integer: `ids + 1`
        integral = like is not None and like.dtype.kind in "iu" and isinstance(x, (int, np.integer))
        dtype = like.dtype if integral else B.default_float
    return Tensor(B.xp.asarray(x, dtype=dtype))


def _pair(a, b):
    if not isinstance(a, Tensor):
        a = as_tensor(a, like=b)
    if not isinstance(b, Tensor):
        b = as_tensor(b, like=a)
    return a, b


def _broadcast_shape(op, a, b):
    try:
        return np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise ValueError(
            f"{op}: shapes {a.shape} and {b.shape} cannot be broadcast together "
            "(trailing dimensions must match or be 1)"
        ) from None


def _axes(axis, ndim):
    """Normalise an axis argument to a sorted tuple of non-negative ints (None: all axes)."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, int):
        axis = (axis,)
    out = []
    for a in axis:
        if not -ndim <= a < ndim:
            raise ValueError(f"axis {a} is out of range for a tensor with {ndim} dimensions")
        out.append(a % ndim)
    return tuple(sorted(out))


def _keepdims_shape(shape, axes):
    return tuple(1 if i in axes else s for i, s in enumerate(shape))


def sum_to(g, shape):
    """Sum a broadcast gradient back down to `shape` (the adjoint of broadcasting)."""
    shape = tuple(shape)
    if g.shape == shape:
        return g
    ### BEGIN SOLUTION task1_4: sum g over its extra leading axes and where shape has a 1
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, s in enumerate(shape) if s == 1 and g.shape[lead + i] != 1
    )
    return reshape(sum(g, axes, keepdims=False), shape)
    ### END SOLUTION


# --- elementwise, two inputs --------------------------------------------------------------


class Add(Function):
    def forward(self, a, b):
        return a + b

    def backward(self, g, out):
        a, b = self.inputs
        ga = sum_to(g, a.shape) if a.requires_grad else None
        gb = sum_to(g, b.shape) if b.requires_grad else None
        return ga, gb


class Sub(Function):
    def forward(self, a, b):
        return a - b

    def backward(self, g, out):
        a, b = self.inputs
        ga = sum_to(g, a.shape) if a.requires_grad else None
        gb = sum_to(neg(g), b.shape) if b.requires_grad else None
        return ga, gb


class Mul(Function):
    def forward(self, a, b):
        return a * b

    def backward(self, g, out):
        ### BEGIN SOLUTION task1_2: d(ab)/da = b, d(ab)/db = a; sum_to each input's shape
        a, b = self.inputs
        ga = sum_to(g * b, a.shape) if a.requires_grad else None
        gb = sum_to(g * a, b.shape) if b.requires_grad else None
        return ga, gb
        ### END SOLUTION


class Div(Function):
    """$a / b$; d/da = 1/b, d/db = -a/b^2 = -out/b."""

    def forward(self, a, b):
        return a / b

    def backward(self, g, out):
        a, b = self.inputs
        ga = sum_to(g / b, a.shape) if a.requires_grad else None
        gb = sum_to(neg(g * out / b), b.shape) if b.requires_grad else None
        return ga, gb


class AddN(Function):
    """$a_1 + a_2 + \\dots + a_k$ for same-shape inputs, as one op.

    `grad` uses it to sum the gradient contributions that meet at a node: one recorded op
    instead of k - 1.
    """

    def forward(self, *arrays):
        total = arrays[0] + arrays[1]  # a new array, so the in-place adds below are safe
        for a in arrays[2:]:
            total += a
        return total

    def backward(self, g, out):
        return (g,) * len(self.inputs)


def add_n(tensors):
    """The sum of a list of same-shape Tensors."""
    tensors = [as_tensor(t) for t in tensors]
    if len({t.shape for t in tensors}) > 1:
        raise ValueError(f"add_n: shapes differ: {', '.join(str(t.shape) for t in tensors)}")
    return tensors[0] if len(tensors) == 1 else AddN()(*tensors)


def _binary(op_class, op_name):
    def apply(a, b):
        a, b = _pair(a, b)
        try:
            return op_class()(a, b)
        except ValueError:
            _broadcast_shape(op_name, a, b)  # shapes that cannot broadcast: say so clearly
            raise

    apply.__name__ = op_name
    apply.__doc__ = f"Elementwise {op_name} with NumPy broadcasting."
    return apply


add = _binary(Add, "add")
sub = _binary(Sub, "sub")
mul = _binary(Mul, "mul")
div = _binary(Div, "div")


# --- elementwise, one input -----------------------------------------------------------------


class Neg(Function):
    def forward(self, a):
        return -a

    def backward(self, g, out):
        return (neg(g),)


class Power(Function):
    """$x^c$ for a constant c; d/dx = c x^(c-1)."""

    def __init__(self, c):
        self.c = c

    def forward(self, a):
        return a**self.c

    def backward(self, g, out):
        (x,) = self.inputs
        if self.c == 0:  # d/dx x^0 = 0 everywhere, also at x = 0 (0 * x^-1 would be NaN)
            return (g * 0.0,)
        if self.c == 1:
            return (g,)
        if self.c == 2:
            return (g * x * 2.0,)
        return (g * power(x, self.c - 1) * float(self.c),)


class Exp(Function):
    def forward(self, a):
        return B.xp.exp(a)

    def backward(self, g, out):
        return (g * out,)


class Log(Function):
    def forward(self, a):
        return B.xp.log(a)

    def backward(self, g, out):
        return (g / self.inputs[0],)


class Sqrt(Function):
    def forward(self, a):
        return B.xp.sqrt(a)

    def backward(self, g, out):
        return (g / (out * 2.0),)


class Tanh(Function):
    def forward(self, a):
        return B.xp.tanh(a)

    def backward(self, g, out):
        ### BEGIN SOLUTION task1_6: the derivative of tanh is 1 - tanh^2 (use out)
        return (g * (1.0 - out * out),)
        ### END SOLUTION


class Sigmoid(Function):
    def forward(self, a):
        # split by sign so that exp never overflows
        e = B.xp.exp(-B.xp.abs(a))
        return B.xp.where(a >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(a.dtype, copy=False)

    def backward(self, g, out):
        ### BEGIN SOLUTION task1_6: the derivative of the sigmoid s is s (1 - s) (use out)
        return (g * out * (1.0 - out),)
        ### END SOLUTION


class Relu(Function):
    def forward(self, a):
        return B.xp.maximum(a, 0)

    def backward(self, g, out):
        mask = (self.inputs[0].data > 0).astype(g.dtype)
        return (g * Tensor(mask),)


class Abs(Function):
    def forward(self, a):
        return B.xp.abs(a)

    def backward(self, g, out):
        return (g * Tensor(B.xp.sign(self.inputs[0].data).astype(g.dtype)),)


def neg(a):
    """$-a$"""
    return Neg()(as_tensor(a))


def power(a, c):
    """$a^c$ for a constant Python number c."""
    if isinstance(c, Tensor):
        raise TypeError("power: the exponent must be a Python number (use exp(c * log(a)))")
    if isinstance(c, np.generic):
        c = c.item()  # a NumPy scalar exponent would turn float32 data into float64
    return Power(c)(as_tensor(a))


def exp(a):
    """$e^a$"""
    return Exp()(as_tensor(a))


def log(a):
    """$\\ln a$"""
    return Log()(as_tensor(a))


def sqrt(a):
    """$\\sqrt{a}$"""
    return Sqrt()(as_tensor(a))


def tanh(a):
    """$\\tanh a$; derivative $1 - \\tanh^2 a$."""
    return Tanh()(as_tensor(a))


def sigmoid(a):
    """$1 / (1 + e^{-a})$; derivative $s (1 - s)$."""
    return Sigmoid()(as_tensor(a))


def relu(a):
    """$\\max(a, 0)$; the derivative is the constant mask $a > 0$."""
    return Relu()(as_tensor(a))


def abs(a):
    """$|a|$; the derivative is the constant sign(a)."""
    return Abs()(as_tensor(a))


class Where(Function):
    """Pick `a` where the constant boolean `cond` holds, else `b`."""

    def __init__(self, cond):
        self.cond = cond

    def forward(self, a, b):
        return B.xp.where(self.cond, a, b)

    def backward(self, g, out):
        a, b = self.inputs
        keep = Tensor(self.cond.astype(g.dtype))
        return sum_to(g * keep, a.shape), sum_to(g * (1.0 - keep), b.shape)


def where(cond, a, b):
    """`cond ? a : b` elementwise; `cond` is a constant (boolean array or Tensor)."""
    a, b = _pair(a, b)
    cond = cond.data if isinstance(cond, Tensor) else cond
    cond = B.xp.asarray(cond).astype(bool)
    try:
        np.broadcast_shapes(tuple(cond.shape), a.shape, b.shape)
    except ValueError:
        raise ValueError(
            f"where: condition {tuple(cond.shape)}, a {a.shape} and b {b.shape} cannot be "
            "broadcast together"
        ) from None
    return Where(cond)(a, b)


# --- reductions and their adjoint, broadcasting -------------------------------------------


class Sum(Function):
    def __init__(self, axes, keepdims):
        self.axes, self.keepdims = axes, keepdims

    def forward(self, a):
        return B.xp.asarray(a.sum(axis=self.axes, keepdims=self.keepdims))

    def backward(self, g, out):
        shape = self.inputs[0].shape
        if not self.keepdims:
            g = reshape(g, _keepdims_shape(shape, self.axes))
        return (broadcast_to(g, shape),)


class BroadcastTo(Function):
    def __init__(self, shape):
        self.shape = tuple(shape)

    def forward(self, a):
        return B.xp.broadcast_to(a, self.shape)

    def backward(self, g, out):
        return (sum_to(g, self.inputs[0].shape),)


class Max(Function):
    """Maximum over axes; the gradient goes to the arg-max (split evenly between ties)."""

    def __init__(self, axes, keepdims):
        self.axes, self.keepdims = axes, keepdims

    def forward(self, a):
        return B.xp.asarray(a.max(axis=self.axes, keepdims=self.keepdims))

    def backward(self, g, out):
        x = self.inputs[0]
        kshape = _keepdims_shape(x.shape, self.axes)
        hit = (x.data == out.data.reshape(kshape)).astype(g.dtype)
        hit = hit / hit.sum(axis=self.axes, keepdims=True)
        return (broadcast_to(reshape(g, kshape), x.shape) * Tensor(hit),)


def sum(a, axis=None, keepdims=False):
    """Sum over `axis` (int, tuple or None for all)."""
    a = as_tensor(a)
    return Sum(_axes(axis, a.ndim), keepdims)(a)


def mean(a, axis=None, keepdims=False):
    """Mean over `axis`: sum divided by the number of summed elements."""
    a = as_tensor(a)
    axes = _axes(axis, a.ndim)
    count = math.prod(a.shape[i] for i in axes)
    return sum(a, axes, keepdims) * (1.0 / (count or 1))


def max(a, axis=None, keepdims=False):
    """Maximum over `axis`."""
    a = as_tensor(a)
    if a.size == 0:
        raise ValueError("max: the tensor is empty")
    return Max(_axes(axis, a.ndim), keepdims)(a)


def broadcast_to(a, shape):
    """Repeat `a` along broadcast dimensions to `shape`; backward sums them back."""
    a = as_tensor(a)
    shape = tuple(shape)
    if a.shape == shape:
        return a
    try:
        if np.broadcast_shapes(a.shape, shape) != shape:
            raise ValueError
    except ValueError:
        raise ValueError(f"broadcast_to: cannot broadcast shape {a.shape} to {shape}") from None
    return BroadcastTo(shape)(a)


# --- shape ops ----------------------------------------------------------------------------


class Reshape(Function):
    def __init__(self, shape):
        self.shape = shape

    def forward(self, a):
        return a.reshape(self.shape)

    def backward(self, g, out):
        return (reshape(g, self.inputs[0].shape),)


class Transpose(Function):
    def __init__(self, axes):
        self.axes = axes

    def forward(self, a):
        return a.transpose(self.axes)

    def backward(self, g, out):
        return (transpose(g, tuple(np.argsort(self.axes))),)


def reshape(a, shape):
    """The same elements in a new shape (one entry may be -1)."""
    a = as_tensor(a)
    shape = tuple(int(s) for s in shape)
    if shape == a.shape:
        return a
    known = math.prod(s for s in shape if s != -1)
    if shape.count(-1) > 1 or (
        -1 not in shape and known != a.size or -1 in shape and (known == 0 or a.size % known)
    ):
        raise ValueError(f"reshape: cannot reshape a tensor of shape {a.shape} into {shape}")
    if -1 in shape:
        shape = tuple(a.size // known if s == -1 else s for s in shape)
    return Reshape(shape)(a)


def transpose(a, axes=None):
    """Permute axes (default: reverse them)."""
    a = as_tensor(a)
    axes = tuple(reversed(range(a.ndim))) if axes is None else tuple(ax % a.ndim for ax in axes)
    if sorted(axes) != list(range(a.ndim)):
        raise ValueError(f"transpose: {axes} is not a permutation of the axes of shape {a.shape}")
    if axes == tuple(range(a.ndim)):
        return a
    return Transpose(axes)(a)


# --- matrix product -------------------------------------------------------------------------


class MatMul(Function):
    """$C = op(A)\\, op(B)$, where op is the identity or, with a flag, the transpose of the last
    two axes (like BLAS's gemm, which reads a transposed operand in place, without a copy).

    $d\\,op(A) = dC\\, op(B)^T$ and $d\\,op(B) = op(A)^T dC$ (summed over broadcast batch
    dimensions) are products of the same kind, so the backward pass needs no transpose op.
    """

    def __init__(self, transpose_a=False, transpose_b=False):
        self.transpose_a, self.transpose_b = transpose_a, transpose_b

    def forward(self, a, b):
        return (a.swapaxes(-1, -2) if self.transpose_a else a) @ (
            b.swapaxes(-1, -2) if self.transpose_b else b)

    def backward(self, g, out):
        ### BEGIN SOLUTION task1_5: dA = dC op(B)^T, dB = op(A)^T dC with _product; mind the flags
        a, b = self.inputs
        ta, tb = self.transpose_a, self.transpose_b
        ga = gb = None
        if a.requires_grad:  # dA = dC op(B)^T, or its transpose op(B) dC^T when A was transposed
            ga = sum_to(_product(b, g, tb, True) if ta else _product(g, b, False, not tb), a.shape)
        if b.requires_grad:  # dB = op(A)^T dC, or its transpose dC^T op(A) when B was transposed
            gb = sum_to(_product(g, a, True, ta) if tb else _product(a, g, not ta, False), b.shape)
        return ga, gb
        ### END SOLUTION


def _product(a, b, transpose_a, transpose_b):
    return MatMul(transpose_a, transpose_b)(a, b)


def matmul(a, b, transpose_a=False, transpose_b=False):
    """Matrix product op(a) @ op(b), 2-D or batched (leading dimensions broadcast).

    `transpose_a` / `transpose_b` swap the last two axes of that operand first (no copy is
    made). 1-D operands behave as in NumPy (and take no flags).
    """
    a, b = _pair(a, b)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"matmul: scalars are not allowed (shapes {a.shape} and {b.shape}); use *")
    if (a.ndim == 1 and transpose_a) or (b.ndim == 1 and transpose_b):
        raise ValueError(
            f"matmul: a 1-D operand cannot be transposed (shapes {a.shape} and {b.shape})")
    columns = a.shape[-2] if transpose_a else a.shape[-1]
    rows = b.shape[0] if b.ndim == 1 else b.shape[-1] if transpose_b else b.shape[-2]
    if columns != rows:
        flags = " (a transposed)" if transpose_a else ""
        flags += " (b transposed)" if transpose_b else ""
        raise ValueError(
            f"matmul: shapes {a.shape} and {b.shape}{flags} do not align "
            f"({columns} columns vs {rows} rows)"
        )
    if a.ndim == 1:  # a row vector (1, k) whose row axis is dropped again
        out = matmul(reshape(a, (1, -1)), b, transpose_b=transpose_b)
        return reshape(out, out.shape[:-2] + out.shape[-1:] if b.ndim > 1 else ())
    if b.ndim == 1:  # a column vector (k, 1) whose column axis is dropped again
        return reshape(matmul(a, reshape(b, (-1, 1)), transpose_a=transpose_a), a.shape[:-2] + (
            a.shape[-1] if transpose_a else a.shape[-2],))
    if a.ndim > 2 or b.ndim > 2:
        try:
            np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
        except ValueError:
            raise ValueError(
                f"matmul: batch dimensions of {a.shape} and {b.shape} cannot be broadcast"
            ) from None
    return MatMul(transpose_a, transpose_b)(a, b)


# --- indexing: gather and scatter-add --------------------------------------------------------


def _is_basic(index):
    parts = index if isinstance(index, tuple) else (index,)
    return all(
        p is None or p is Ellipsis or isinstance(p, (int, np.integer, slice)) for p in parts
    )


class GetItem(Function):
    def __init__(self, index):
        self.index = index

    def forward(self, a):
        return B.xp.asarray(a[self.index])

    def backward(self, g, out):
        ### BEGIN SOLUTION task1_8: the adjoint of a gather is a scatter-add (index_add)
        return (index_add(g, self.index, self.inputs[0].shape),)
        ### END SOLUTION


class IndexAdd(Function):
    """zeros(shape) with `values` added at `index` (repeated indices accumulate)."""

    def __init__(self, index, shape):
        self.index, self.shape = index, shape

    def forward(self, values):
        ### BEGIN SOLUTION task1_8: zeros, then add values at index; repeats add up (B.scatter_add)
        out = B.xp.zeros(self.shape, dtype=values.dtype)
        if _is_basic(self.index):
            out[self.index] = values  # basic indexing cannot repeat an element
        else:
            B.scatter_add(out, self.index, values)
        return out
        ### END SOLUTION

    def backward(self, g, out):
        return (getitem(g, self.index),)


def _clean_index(index):
    """Turn Tensors and lists inside an index into backend integer/bool arrays."""
    if isinstance(index, tuple):
        return tuple(_clean_index(i) for i in index)
    if isinstance(index, Tensor):
        index = index.data
    if isinstance(index, list) or B.is_array(index):
        index = B.asarray(index)
    if B.is_array(index) and index.dtype.kind not in "iub":
        raise TypeError(f"getitem: index arrays must hold integers or booleans, not {index.dtype}")
    return index


def getitem(a, index):
    """`a[index]`: ints, slices, None, integer or boolean arrays (gather)."""
    index = _clean_index(index)
    try:
        return GetItem(index)(a)
    except IndexError as err:
        raise IndexError(f"getitem: bad index for a tensor of shape {a.shape}: {err}") from None


def index_add(values, index, shape):
    """Scatter-add `values` into a zero tensor of `shape` at `index` (adjoint of getitem)."""
    return IndexAdd(_clean_index(index), tuple(shape))(as_tensor(values))


# --- joining ----------------------------------------------------------------------------------


class Concat(Function):
    def __init__(self, axis):
        self.axis = axis

    def forward(self, *arrays):
        return B.xp.concatenate(arrays, axis=self.axis)

    def backward(self, g, out):
        grads, start = [], 0
        for t in self.inputs:
            index = [slice(None)] * g.ndim
            index[self.axis] = slice(start, start + t.shape[self.axis])
            grads.append(getitem(g, tuple(index)))
            start += t.shape[self.axis]
        return tuple(grads)


def _as_tensors(items, op):
    """A non-empty list of Tensors; constants among them take the first Tensor's float dtype."""
    items = list(items)
    if not items:
        raise ValueError(f"{op}: need at least one tensor")
    like = next((t for t in items if isinstance(t, Tensor)), None)
    return [as_tensor(t, like=like) for t in items]


def concatenate(tensors, axis=0):
    """Join tensors along an existing axis."""
    tensors = _as_tensors(tensors, "concatenate")
    nd = tensors[0].ndim
    axis = _axes(axis, nd)[0]
    for t in tensors:
        if t.ndim != nd or t.shape[:axis] + t.shape[axis + 1 :] != tensors[0].shape[:axis] + tensors[
            0
        ].shape[axis + 1 :]:
            shapes = ", ".join(str(t.shape) for t in tensors)
            raise ValueError(f"concatenate: shapes {shapes} differ outside axis {axis}")
    return Concat(axis)(*tensors)


def stack(tensors, axis=0):
    """Join same-shape tensors along a new axis."""
    tensors = _as_tensors(tensors, "stack")
    if len({t.shape for t in tensors}) > 1:
        raise ValueError(f"stack: shapes differ: {', '.join(str(t.shape) for t in tensors)}")
    axis = axis % (tensors[0].ndim + 1)
    expanded = [reshape(t, t.shape[:axis] + (1,) + t.shape[axis:]) for t in tensors]
    return concatenate(expanded, axis)


# --- fused, numerically stable ops ---------------------------------------------------------


class LogSumExp(Function):
    """$\\log \\sum_i e^{x_i}$ computed as $m + \\log \\sum_i e^{x_i - m}$; gradient softmax(x)."""

    def __init__(self, axes, keepdims):
        self.axes, self.keepdims = axes, keepdims

    def forward(self, x):
        xp = B.xp
        m = x.max(axis=self.axes, keepdims=True)
        m = xp.where(xp.isfinite(m), m, 0)
        out = xp.log(xp.exp(x - m).sum(axis=self.axes, keepdims=True)) + m
        return out if self.keepdims else out.reshape(tuple(
            s for i, s in enumerate(x.shape) if i not in self.axes))

    def backward(self, g, out):
        ### BEGIN SOLUTION task1_7: g (reshaped to keep dims) times softmax(x) = exp(x - out)
        x = self.inputs[0]
        kshape = _keepdims_shape(x.shape, self.axes)
        softmax = exp(x - reshape(out, kshape))
        return (reshape(g, kshape) * softmax,)
        ### END SOLUTION


class LogSoftmax(Function):
    """$x_i - \\log \\sum_j e^{x_j}$; backward $g - \\mathrm{softmax}(x) \\sum_j g_j$."""

    def __init__(self, axis):
        self.axis = axis

    def forward(self, x):
        xp = B.xp
        shifted = x - x.max(axis=self.axis, keepdims=True)
        return shifted - xp.log(xp.exp(shifted).sum(axis=self.axis, keepdims=True))

    def backward(self, g, out):
        ### BEGIN SOLUTION task1_7: g - softmax(x) * (sum of g over the axis); softmax = exp(out)
        return (g - exp(out) * sum(g, self.axis, keepdims=True),)
        ### END SOLUTION


def logsumexp(x, axis=None, keepdims=False):
    """Stable $\\log \\sum e^x$ over `axis`."""
    x = as_tensor(x)
    return LogSumExp(_axes(axis, x.ndim), keepdims)(x)


def log_softmax(x, axis=-1):
    """Stable log of the softmax over `axis`."""
    x = as_tensor(x)
    return LogSoftmax(_axes(axis, x.ndim)[0])(x)
