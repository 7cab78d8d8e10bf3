"""`Tensor`: an array that remembers which op made it, so gradients can flow back.

A Tensor holds a backend array in `.data`. When an op runs on Tensors that require grad
(and gradient recording is on), the result keeps a reference to that op, and the op keeps
its inputs: together they form the graph that `grad` walks backwards.

    >>> x = tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> y = (x * x).sum()
    >>> grad(y, x)[0]          # dy/dx = 2x
    Tensor([2. 4. 6.])

Each op is a `Function` with two halves: `forward` computes on raw arrays, `backward` receives
the output's gradient as a Tensor and returns the inputs' gradients *built from Tensor ops*.
Because the backward pass is itself made of recorded ops, it can be differentiated again:
that single rule is what makes gradients of gradients (second-order MAML) work.
"""

import itertools

import numpy as np

from .. import backend as B

_grad_enabled = True
_births = itertools.count()


class no_grad:
    """Context manager (and decorator) under which ops record no graph.

    Optimizer updates, evaluation and `grad(..., create_graph=False)` run inside it.
    """

    def __enter__(self):
        global _grad_enabled
        self.saved = _grad_enabled
        _grad_enabled = False

    def __exit__(self, *exc):
        global _grad_enabled
        _grad_enabled = self.saved

    def __call__(self, fn):
        def wrapped(*args, **kwargs):
            with no_grad():
                return fn(*args, **kwargs)

        wrapped.__name__, wrapped.__doc__ = fn.__name__, fn.__doc__
        return wrapped


def is_grad_enabled():
    """True when ops record the graph (outside `no_grad`)."""
    return _grad_enabled


class Function:
    """One primitive op. Subclasses define `forward(*arrays)` and `backward(g, out)`.

    `backward` gets the gradient of the output `g` and the output Tensor `out` itself, and
    returns one gradient (a Tensor, or None) per input, each with that input's shape.
    The inputs are available as `self.inputs` (Tensors).
    """

    name = None

    def forward(self, *arrays):
        raise NotImplementedError

    def backward(self, g, out):
        raise NotImplementedError

    def __call__(self, *inputs):
        kind = type(inputs[0].data)
        for t in inputs[1:]:
            if type(t.data) is not kind:
                _raise_mixed(self, inputs)
        out = Tensor(self.forward(*[t.data for t in inputs]))
        if _grad_enabled:
            for t in inputs:
                if t.requires_grad:  # record: the output keeps the op, the op its inputs
                    self.inputs = inputs
                    out.requires_grad = True
                    out._op = self
                    break
        return out

    def op_name(self):
        return self.name or type(self).__name__.lower()


def _raise_mixed(op, inputs):
    kinds = [B.array_kind(t.data) for t in inputs]
    if len(set(kinds)) > 1:
        raise TypeError(
            f"{op.op_name()}: inputs live on different backends ({', '.join(kinds)}); "
            "create every tensor after set_backend(...) or move arrays with metanumpy.tensor()"
        )


class Tensor:
    """An n-dimensional array with an optional gradient history."""

    __slots__ = ("data", "requires_grad", "grad", "_op", "name", "_birth", "__weakref__")
    __array_priority__ = 100  # so that `ndarray * Tensor` calls Tensor.__rmul__

    def __init__(self, data, requires_grad=False, name=None):
        if type(data) is not np.ndarray and not B.is_array(data):  # the common case first
            data = B.xp.asarray(data)
        self.data = data
        self._birth = next(_births)  # creation number: an op's inputs are always older than it
        self.grad = None
        self._op = None
        self.name = name
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    def requires_grad_(self, flag=True):
        """Mark this tensor as one we want gradients for (floating-point only)."""
        if flag and self.data.dtype.kind != "f":
            raise TypeError(
                f"only floating-point tensors can require gradients, this one is {self.data.dtype}"
                " (integer tensors hold ids or labels)"
            )
        self.requires_grad = bool(flag)
        return self

    # --- array facts -------------------------------------------------------------------
    @property
    def shape(self):
        return self.data.shape  # a tuple on every backend

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def ndim(self):
        return self.data.ndim

    @property
    def size(self):
        return int(self.data.size)

    def __len__(self):
        return self.shape[0]

    def numpy(self):
        """The data as a host NumPy array."""
        return B.to_numpy(self.data)

    def item(self):
        """The value of a one-element tensor as a Python number."""
        if self.size != 1:
            raise ValueError(f"item(): tensor has {self.size} elements (shape {self.shape}), not 1")
        return self.numpy().reshape(-1)[0].item()

    def detach(self):
        """The same data, cut from the graph."""
        return Tensor(self.data)

    def is_leaf(self):
        return self._op is None

    def __repr__(self):
        body = np.array2string(self.numpy(), precision=4, separator=" ", prefix="Tensor(")
        extra = ", requires_grad=True" if self.requires_grad else ""
        return f"Tensor({body}{extra})"

    def __bool__(self):
        raise TypeError("the truth value of a Tensor is ambiguous: compare .item() or .numpy()")

    # --- gradients ---------------------------------------------------------------------
    def backward(self, grad_output=None):
        """Accumulate d(self)/d(leaf) into `.grad` of every leaf that requires grad."""
        from .grad import backward

        backward(self, grad_output)

    # --- operators: thin sugar over the ops module ----------------------------------------
    def __add__(self, other):
        return _ops.add(self, other)

    def __radd__(self, other):
        return _ops.add(other, self)

    def __sub__(self, other):
        return _ops.sub(self, other)

    def __rsub__(self, other):
        return _ops.sub(other, self)

    def __mul__(self, other):
        return _ops.mul(self, other)

    def __rmul__(self, other):
        return _ops.mul(other, self)

    def __truediv__(self, other):
        return _ops.div(self, other)

    def __rtruediv__(self, other):
        return _ops.div(other, self)

    def __neg__(self):
        return _ops.neg(self)

    def __pow__(self, exponent):
        return _ops.power(self, exponent)

    def __matmul__(self, other):
        return _ops.matmul(self, other)

    def __rmatmul__(self, other):
        return _ops.matmul(other, self)

    def __getitem__(self, index):
        return _ops.getitem(self, index)

    # comparisons give plain boolean arrays (no gradient flows through them)
    def __gt__(self, other):
        return self.data > _raw(other)

    def __lt__(self, other):
        return self.data < _raw(other)

    def __ge__(self, other):
        return self.data >= _raw(other)

    def __le__(self, other):
        return self.data <= _raw(other)

    # --- methods ----------------------------------------------------------------------------
    def sum(self, axis=None, keepdims=False):
        return _ops.sum(self, axis, keepdims)

    def mean(self, axis=None, keepdims=False):
        return _ops.mean(self, axis, keepdims)

    def max(self, axis=None, keepdims=False):
        return _ops.max(self, axis, keepdims)

    def reshape(self, *shape):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = shape[0]
        return _ops.reshape(self, shape)

    def transpose(self, *axes):
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = axes[0]
        return _ops.transpose(self, axes or None)

    @property
    def T(self):
        return _ops.transpose(self)

    def exp(self):
        return _ops.exp(self)

    def log(self):
        return _ops.log(self)

    def sqrt(self):
        return _ops.sqrt(self)

    def tanh(self):
        return _ops.tanh(self)

    def sigmoid(self):
        return _ops.sigmoid(self)

    def relu(self):
        return _ops.relu(self)

    def abs(self):
        return _ops.abs(self)


def _raw(x):
    return x.data if isinstance(x, Tensor) else x


def constant(x, dtype=None):
    """A constant input (ids, labels, a mask: Tensor, list or array) as a backend array."""
    return B.asarray(_raw(x), dtype=dtype)


def tensor(data, requires_grad=False, dtype=None):
    """Make a Tensor from a list, a scalar, a NumPy array or a backend array.

    Floating-point data becomes the default float dtype (float32 unless changed);
    integer data stays integer (ids, labels). `dtype` overrides both.
    """
    if isinstance(data, Tensor):
        data = data.data
    if dtype is None:
        kind = np.asarray(data).dtype.kind if not B.is_array(data) else data.dtype.kind
        if kind == "f" or kind == "c":
            dtype = B.default_float
        elif kind == "b":
            dtype = np.bool_
        elif kind in "iu":
            dtype = np.int64
        else:
            raise TypeError(f"tensor(): cannot make a tensor from data of dtype {kind!r}")
    return Tensor(B.asarray(data, dtype=dtype), requires_grad=requires_grad)


from . import ops as _ops  # noqa: E402  (ops needs Tensor, Tensor's methods need ops)
