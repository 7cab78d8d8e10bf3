"""The array module in one place: NumPy by default, CuPy on a GPU, or a strict stand-in.

Everything that touches tensor data asks this module for the array namespace (`backend.xp`)
instead of importing NumPy or CuPy itself. That is what lets the same engine run on a GPU:

    import metanumpy
    metanumpy.set_backend("cupy")      # or: METANUMPY_BACKEND=cupy python ...

Three rules keep the code portable:

* the only way back to the host is `to_numpy(array)` (plots, printing, metrics);
* random numbers are drawn on the host from `numpy.random.default_rng(seed)` and then moved
  to the device (`from_numpy`), so a CPU run and a GPU run with the same seed see the same draws;
* scatter-add goes through `scatter_add`, because CuPy has no `ufunc.at`.

Backends: "numpy" (default), "cupy" (optional extra: `pip install -e '.[gpu]'`), and "strict",
a NumPy-backed stand-in that refuses implicit host conversion and `ufunc.at` like CuPy does,
so the test suite catches host-only calls on a machine without a GPU (see `strict.py`).
"""

import os

import numpy as np

xp = np
"""The array namespace of the current backend (numpy, cupy or the strict stand-in)."""

name = "numpy"
default_float = np.float32
"""dtype of new floating-point tensors; `set_default_dtype("float64")` for gradient checks."""

_CUPY_HELP = (
    "the 'cupy' backend needs CuPy and an NVIDIA GPU. Install the GPU extra with "
    "`python -m pip install -e '.[gpu]'` (CuPy wheel for CUDA 12: `pip install cupy-cuda12x`), "
    "or keep the default backend with `metanumpy.set_backend('numpy')`."
)


def set_backend(backend_name):
    """Select the array module: "numpy", "cupy" or "strict". Returns the namespace."""
    global xp, name
    if backend_name == "numpy":
        xp = np
    elif backend_name == "cupy":
        try:
            import cupy
        except ImportError as err:
            raise ImportError(f"cannot import cupy ({err}): {_CUPY_HELP}") from None
        xp = cupy
    elif backend_name == "strict":
        from . import strict

        xp = strict.namespace
    else:
        raise ValueError(f"unknown backend {backend_name!r}: choose 'numpy', 'cupy' or 'strict'")
    name = backend_name
    return xp


def set_default_dtype(dtype):
    """Make new floating-point tensors `dtype` ("float32" or "float64")."""
    global default_float
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise ValueError(f"default dtype must be float32 or float64, not {dtype}")
    default_float = dtype.type


class default_dtype:
    """Context manager: `with default_dtype("float64"): ...` (gradient checks use it)."""

    def __init__(self, dtype):
        self.dtype = dtype

    def __enter__(self):
        self.saved = default_float
        set_default_dtype(self.dtype)

    def __exit__(self, *exc):
        set_default_dtype(self.saved)


class use_backend:
    """Context manager: `with use_backend("strict"): ...`, restoring the previous backend."""

    def __init__(self, backend_name):
        self.backend_name = backend_name

    def __enter__(self):
        self.saved = name
        return set_backend(self.backend_name)

    def __exit__(self, *exc):
        set_backend(self.saved)


def to_numpy(array):
    """The one exit to the host: a NumPy copy (or view) of any backend array or scalar."""
    if isinstance(array, np.ndarray):
        return array
    if hasattr(array, "to_host"):  # the strict stand-in
        return array.to_host()
    if hasattr(array, "get"):  # cupy.ndarray
        return array.get()
    return np.asarray(array)


def from_numpy(array, dtype=None):
    """Move a host array (or nested list, or scalar) to the current backend."""
    return xp.asarray(np.asarray(array, dtype=dtype))


def asarray(obj, dtype=None):
    """`obj` (list, scalar, host array or backend array) as an array of the current backend."""
    if is_array(obj) and array_kind(obj) != name and not (name == "numpy" and isinstance(obj, np.ndarray)):
        obj = to_numpy(obj)
    if isinstance(obj, np.ndarray) or not is_array(obj):
        return xp.asarray(np.asarray(obj, dtype=dtype))
    return obj if dtype is None else obj.astype(dtype, copy=False)


_HOST_ARRAY_TYPES = (np.ndarray,)
"""Types that count as NumPy arrays. A plug-in may add its own array-like type (the fast
path adds its row-sparse tables) with `register_host_array_type`."""


def register_host_array_type(cls):
    """Let Tensors hold `cls`, an array-like that stands for a NumPy array (and converts to
    one with `numpy.asarray`)."""
    global _HOST_ARRAY_TYPES
    if cls not in _HOST_ARRAY_TYPES:
        _HOST_ARRAY_TYPES = _HOST_ARRAY_TYPES + (cls,)


def is_array(obj):
    """True for an array of any backend (NumPy, CuPy, strict)."""
    return isinstance(obj, _HOST_ARRAY_TYPES) or hasattr(
        obj, "__cuda_array_interface__") or hasattr(obj, "to_host")


def array_kind(array):
    """A short name of the library that owns `array`: 'numpy', 'cupy' or 'strict'."""
    if isinstance(array, _HOST_ARRAY_TYPES):
        return "numpy"
    if hasattr(array, "to_host"):
        return "strict"
    return type(array).__module__.split(".")[0]


def scatter_add(target, index, values):
    """In place: `target[index] += values`, adding repeated indices (np.add.at semantics)."""
    if xp is np:
        np.add.at(target, index, values)
    elif name == "cupy":
        import cupyx

        cupyx.scatter_add(target, index, values)
    else:
        xp.scatter_add(target, index, values)
    return target


def rng(seed):
    """A host random generator: every random draw in metanumpy starts here."""
    return np.random.default_rng(seed)


def _from_environment():
    """Honour METANUMPY_BACKEND; a bad value fails at import, naming the variable."""
    requested = os.environ.get("METANUMPY_BACKEND", "").strip().lower()
    if requested:
        try:
            set_backend(requested)
        except (ValueError, ImportError) as err:
            raise type(err)(f"environment variable METANUMPY_BACKEND={requested!r}: {err}") from None


_from_environment()
