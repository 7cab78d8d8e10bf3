"""A strict CPU stand-in for a GPU array library: NumPy underneath, CuPy's refusals on top.

CuPy keeps arrays on the GPU and will not hand them to NumPy behind your back:
`numpy.asarray(device_array)` raises, a host NumPy array mixed into device arithmetic raises,
and there is no `ufunc.at` (`numpy.add.at`). Plain NumPy happily does all three, so such a
mistake stays hidden on a laptop and only shows up on the GPU machine. The "strict" backend
makes the laptop behave like the GPU:

    import metanumpy
    metanumpy.set_backend("strict")       # or: METANUMPY_BACKEND=strict python -m pytest

Every tensor then holds a `StrictArray`, a NumPy array in a wrapper that

* refuses implicit conversion to NumPy (`__array__` raises): leave through `backend.to_numpy`;
* refuses host NumPy arrays mixed into its arithmetic (Python and NumPy scalars are fine);
* refuses `ufunc.at`: scatter-add goes through `backend.scatter_add`;
* like CuPy, still works when NumPy's ufuncs and functions are called on it (`numpy.exp(a)`,
  `numpy.concatenate([a, b])`, through the `__array_ufunc__` / `__array_function__` protocols),
  gives 0-d arrays rather than NumPy scalars from reductions, and turns into a Python number
  with `float(a)`, `int(a)` or `a.item()`.

`namespace` plays the part of the `cupy` module (`backend.xp`): `namespace.exp`,
`namespace.zeros`, ... are NumPy's functions with StrictArrays unwrapped on the way in and
wrapped on the way out, and `namespace.asarray(host_data)` is the explicit move to the "device".
As in CuPy, an index or a value assigned into an array may come from the host (it is copied).
"""

import numbers
import types

import numpy as np

_TO_HOST_HINT = "use metanumpy.backend.to_numpy(...)"
_TO_DEVICE_HINT = "move it to the device first with metanumpy.backend.asarray(...)"


class StrictArray:
    """A NumPy array (`_a`) that behaves like a device array: no silent trips to the host."""

    __slots__ = ("_a",)

    def __init__(self, array):
        if not isinstance(array, np.ndarray):
            raise TypeError(f"StrictArray wraps a NumPy array, not a {type(array).__name__}")
        self._a = array

    def to_host(self):
        """A NumPy copy of the data (what `backend.to_numpy` calls)."""
        return self._a.copy()

    def __array__(self, dtype=None, copy=None):
        raise TypeError(
            "implicit conversion of a device array to a NumPy array is not allowed; "
            + _TO_HOST_HINT
        )

    # --- NumPy's dispatch protocols (NEP 13 and NEP 18), as CuPy implements them ------------
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        """`numpy.exp(a)`, `a + 1`, ...: run the ufunc on the wrapped arrays, wrap the result."""
        who = f"numpy.{ufunc.__name__}" + ("" if method == "__call__" else f".{method}")
        if method == "at":
            raise TypeError(
                f"{who}: ufunc.at does not exist for device arrays (CuPy has none); "
                "use metanumpy.backend.scatter_add(target, index, values)"
            )
        for x in inputs:
            _check_operand(x, who)
        result = getattr(ufunc, method)(*_unwrap(inputs, who), **_unwrap(kwargs, who))
        out = kwargs.get("out")
        if out is not None:  # written in place: hand back the caller's own arrays
            return out[0] if len(out) == 1 else out
        return _wrap(result)

    def __array_function__(self, func, types, args, kwargs):
        """`numpy.concatenate([a, b])`, `numpy.where(...)`, ...: the same, for NumPy functions."""
        if not all(issubclass(t, (StrictArray, np.ndarray)) for t in types):
            return NotImplemented  # another array library: let NumPy report the clash
        who = f"numpy.{func.__name__}"
        return _wrap(func(*_unwrap(args, who), **_unwrap(kwargs, who)))

    # --- array facts ------------------------------------------------------------------------
    @property
    def shape(self):
        return self._a.shape

    @property
    def dtype(self):
        return self._a.dtype

    @property
    def ndim(self):
        return self._a.ndim

    @property
    def size(self):
        return self._a.size

    @property
    def nbytes(self):
        return self._a.nbytes

    @property
    def itemsize(self):
        return self._a.itemsize

    @property
    def T(self):
        return StrictArray(self._a.T)

    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of a 0-d array")
        return len(self._a)

    def __iter__(self):
        """Rows along the first axis, each a StrictArray (CuPy allows this too)."""
        return (self[i] for i in range(len(self)))

    # --- indexing: host indices and values are copied over, as CuPy does --------------------
    def __getitem__(self, index):
        return _wrap(self._a[_unwrap(index, "indexing", allow_host=True)])

    def __setitem__(self, index, value):
        index = _unwrap(index, "indexing", allow_host=True)
        self._a[index] = _unwrap(value, "assignment", allow_host=True)

    # --- leaving the device on purpose: Python numbers (CuPy synchronises here) -------------
    def _python_number(self, convert):
        if self.size != 1:
            raise TypeError(
                "only size-1 arrays can be converted to Python scalars, "
                f"this one has shape {self.shape}"
            )
        return convert(self._a.reshape(-1)[0])

    def __float__(self):
        return self._python_number(float)

    def __int__(self):
        return self._python_number(int)

    def __bool__(self):
        if self.size != 1:
            raise ValueError(
                f"the truth value of an array of shape {self.shape} is ambiguous; "
                "use .any() or .all()"
            )
        return self._python_number(bool)

    def __repr__(self):
        return f"StrictArray({self._a!r})"

    def __str__(self):
        return str(self._a)


_FORWARDED_METHODS = (
    "all", "any", "argmax", "argmin", "argsort", "astype", "clip", "copy", "cumsum", "dot",
    "fill", "item", "max", "mean", "min", "nonzero", "prod", "ravel", "repeat", "reshape",
    "round", "squeeze", "std", "sum", "swapaxes", "take", "tolist", "transpose", "var",
)
"""ndarray methods a StrictArray offers; array results come back as StrictArrays."""


def _forward(method_name):
    def method(self, *args, **kwargs):
        who = f"{method_name}()"
        return _wrap(getattr(self._a, method_name)(*_unwrap(args, who), **_unwrap(kwargs, who)))

    method.__name__ = method_name
    method.__doc__ = f"`numpy.ndarray.{method_name}` on the wrapped array."
    return method


def _operator(ufunc, reflected=False):
    def method(self, other):
        if not isinstance(other, (StrictArray, np.ndarray, np.generic, numbers.Number)):
            return NotImplemented  # a Tensor, say: Python then tries other.__rmul__ (CuPy does too)
        return ufunc(other, self) if reflected else ufunc(self, other)

    return method


def _unary(ufunc):
    def method(self):
        return ufunc(self)

    return method


def _in_place(ufunc):
    def method(self, other):
        return ufunc(self, other, out=(self,))

    return method


_BINARY_OPERATORS = {
    "add": np.add, "sub": np.subtract, "mul": np.multiply, "truediv": np.true_divide,
    "floordiv": np.floor_divide, "mod": np.remainder, "pow": np.power, "matmul": np.matmul,
    "and": np.bitwise_and, "or": np.bitwise_or, "xor": np.bitwise_xor,
}
_COMPARISONS = {
    "lt": np.less, "le": np.less_equal, "eq": np.equal, "ne": np.not_equal,
    "gt": np.greater, "ge": np.greater_equal,
}
_UNARY_OPERATORS = {"neg": np.negative, "pos": np.positive, "abs": np.absolute, "invert": np.invert}

for _name in _FORWARDED_METHODS:
    setattr(StrictArray, _name, _forward(_name))
for _name, _ufunc in _BINARY_OPERATORS.items():
    setattr(StrictArray, f"__{_name}__", _operator(_ufunc))
    setattr(StrictArray, f"__r{_name}__", _operator(_ufunc, reflected=True))
    setattr(StrictArray, f"__i{_name}__", _in_place(_ufunc))
for _name, _ufunc in _COMPARISONS.items():
    setattr(StrictArray, f"__{_name}__", _operator(_ufunc))
for _name, _ufunc in _UNARY_OPERATORS.items():
    setattr(StrictArray, f"__{_name}__", _unary(_ufunc))
StrictArray.__hash__ = None  # arrays are mutable, like NumPy's and CuPy's


# --- crossing the wrapper ------------------------------------------------------------------


def _check_operand(x, who):
    """Operands of device arithmetic: device arrays and Python or NumPy scalars, nothing else."""
    if isinstance(x, (StrictArray, np.generic, numbers.Number)):
        return
    if isinstance(x, np.ndarray):
        raise TypeError(_mixing_message(who))
    raise TypeError(
        f"{who}: unsupported operand of type {type(x).__name__}; a device array only combines "
        "with device arrays and Python or NumPy scalars (CuPy refuses the rest too)"
    )


def _mixing_message(who):
    return (
        f"{who}: mixing a host NumPy array with a device array is not allowed "
        f"(CuPy refuses it too); {_TO_DEVICE_HINT}"
    )


def _unwrap(obj, who, allow_host=False):
    """The NumPy arrays inside `obj` (also inside lists, tuples and dicts); host arrays refused."""
    if isinstance(obj, StrictArray):
        return obj._a
    if isinstance(obj, np.ndarray) and not allow_host:
        raise TypeError(_mixing_message(who))
    if isinstance(obj, (list, tuple)):
        return type(obj)(_unwrap(x, who, allow_host) for x in obj)
    if isinstance(obj, dict):
        return {k: _unwrap(v, who, allow_host) for k, v in obj.items()}
    return obj


def _wrap(result):
    """NumPy results as StrictArrays: arrays, NumPy scalars (as 0-d arrays, like CuPy), tuples."""
    if isinstance(result, (np.ndarray, np.generic)):
        return StrictArray(np.asarray(result))
    if isinstance(result, tuple):
        items = [_wrap(x) for x in result]
        return type(result)(*items) if hasattr(result, "_fields") else tuple(items)
    if isinstance(result, list):
        return [_wrap(x) for x in result]
    return result


# --- the module-like namespace (`backend.xp`) -----------------------------------------------


class _Namespace:
    """NumPy's functions, constants and dtypes, speaking StrictArray (the stand-in for `cupy`)."""

    ndarray = StrictArray

    def __init__(self, module):
        self._module = module

    def __getattr__(self, attr):
        if attr.startswith("__"):  # copy/pickle probes: this object has no such protocol
            raise AttributeError(attr)
        if attr == "random":
            raise AttributeError(
                "the strict backend has no random module: draw random numbers on the host with "
                "metanumpy.backend.rng(seed) and move them with backend.from_numpy(...)"
            )
        value = getattr(self._module, attr)
        if isinstance(value, types.ModuleType):  # linalg, fft, ...
            return _Namespace(value)
        if isinstance(value, type) or not callable(value):  # dtypes, newaxis, pi, inf
            return value
        return _device_function(value, f"{self._module.__name__}.{attr}")

    def asarray(self, obj, dtype=None):
        """`obj` as a device array: host data (NumPy arrays, lists, scalars) is copied over."""
        if isinstance(obj, StrictArray):
            return obj if dtype is None else obj.astype(dtype, copy=False)
        return StrictArray(np.array(_unwrap(obj, "asarray", allow_host=True), dtype=dtype))

    def array(self, obj, dtype=None, copy=True):
        """A device array holding a copy of `obj` (host data is always copied over)."""
        if isinstance(obj, StrictArray) and not copy:
            return self.asarray(obj, dtype)
        return StrictArray(np.array(_unwrap(obj, "array", allow_host=True), dtype=dtype))

    def scatter_add(self, target, index, values):
        """In place: `target[index] += values`, repeated indices adding up (cupyx.scatter_add)."""
        if not isinstance(target, StrictArray):
            raise TypeError(
                f"scatter_add: the target must be a device array, not {type(target).__name__}"
            )
        index = _unwrap(index, "scatter_add", allow_host=True)  # host data is copied over,
        values = _unwrap(values, "scatter_add", allow_host=True)  # as cupyx.scatter_add does
        np.add.at(target._a, index, values)

    def __repr__(self):
        return f"<strict stand-in for {self._module.__name__}>"


def _device_function(fn, who):
    def call(*args, **kwargs):
        return _wrap(fn(*_unwrap(args, who), **_unwrap(kwargs, who)))

    call.__name__ = getattr(fn, "__name__", who)
    call.__doc__ = f"`{who}` on device arrays (host NumPy arrays are refused)."
    return call


namespace = _Namespace(np)
"""The strict backend's array namespace: `metanumpy.set_backend("strict")` makes it `backend.xp`."""
