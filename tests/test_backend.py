"""The array backend (`metanumpy.backend`): choosing it, dtypes, host <-> device, scatter-add, rng.

What this file covers:

* `set_backend`: "cupy" without CuPy explains how to install it (with CuPy it switches);
  an unknown name is refused; a failed switch leaves the backend unchanged; `use_backend`
  restores the previous backend;
* the METANUMPY_BACKEND environment variable, in a fresh Python process;
* `set_default_dtype` / `default_dtype`: new float tensors follow it, integers stay integers;
* `asarray` / `to_numpy` round trips, `scatter_add` with repeated indices, on every backend
  (the `backend` fixture of conftest.py: numpy, strict, and cupy where a GPU is present);
* `rng(seed)`: the same seed gives the same draws.
"""

import os
import re
import subprocess
import sys

import numpy as np
import pytest

import metanumpy as mn
from metanumpy import backend as B

# --- choosing the backend ----------------------------------------------------------------


def test_cupy_backend_needs_cupy_and_says_how_to_install_it():
    """Without CuPy: ImportError with the install command, backend unchanged. With it: a switch."""
    before = B.name, B.xp
    try:
        import cupy
    except ImportError:
        with pytest.raises(ImportError, match=re.escape("pip install -e '.[gpu]'")):
            B.set_backend("cupy")
    else:
        with B.use_backend("cupy"):
            assert B.name == "cupy" and B.xp is cupy
    assert (B.name, B.xp) == before


def test_unknown_backend_is_refused_and_lists_the_choices():
    """A typo in the backend name lists the valid names and changes nothing."""
    before = B.name, B.xp
    with pytest.raises(ValueError, match=r"unknown backend 'tpu': choose 'numpy', 'cupy' or 'strict'"):
        B.set_backend("tpu")
    assert (B.name, B.xp) == before


def test_use_backend_restores_the_previous_backend_even_after_an_error():
    """use_backend is a context manager: the old backend comes back, also after an exception."""
    with B.use_backend("numpy"):
        with pytest.raises(RuntimeError), B.use_backend("strict"):
            assert B.name == "strict"
            assert B.array_kind(mn.tensor([1.0]).data) == "strict"
            raise RuntimeError("boom")
        assert B.name == "numpy" and B.xp is np


def _import_with_backend_variable(value):
    """Run a fresh `python -c` with METANUMPY_BACKEND=value; return the finished process."""
    env = dict(os.environ, METANUMPY_BACKEND=value)
    code = "import metanumpy; print(metanumpy.backend.name)"
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("value, expected", [("numpy", "numpy"), (" Strict ", "strict")])
def test_backend_environment_variable_is_honoured(value, expected):
    """METANUMPY_BACKEND picks the backend at import (case and spaces ignored)."""
    done = _import_with_backend_variable(value)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == expected


def test_unknown_backend_in_the_environment_fails_at_import_naming_the_variable():
    """A bad METANUMPY_BACKEND fails at import with a message naming the variable and the choices."""
    done = _import_with_backend_variable("tpu")
    assert done.returncode != 0
    last_line = done.stderr.strip().splitlines()[-1]
    assert "ValueError" in last_line and "METANUMPY_BACKEND='tpu'" in last_line
    assert "choose 'numpy', 'cupy' or 'strict'" in last_line


# --- default dtype ---------------------------------------------------------------------------


def test_float_tensors_follow_the_default_dtype_and_integers_stay_integers():
    """default_dtype('float64') changes new float tensors only, and only inside the block."""
    assert mn.tensor([1.0]).dtype == np.float32
    with mn.default_dtype("float64"):
        assert mn.tensor([1.0]).dtype == np.float64
        assert mn.tensor(np.ones(2, dtype=np.float32)).dtype == np.float64
        assert (mn.tensor([1, 2]) * 1).dtype == np.int64
        assert mn.tensor([1, 2]).dtype == np.int64
    assert mn.tensor([1.0]).dtype == np.float32


def test_explicit_dtype_wins_over_the_default():
    """tensor(..., dtype=...) overrides the default; booleans stay booleans."""
    assert mn.tensor([1, 2], dtype="float64").dtype == np.float64
    assert mn.tensor([True, False]).dtype == np.bool_


def test_default_dtype_context_restores_after_an_error():
    """The default dtype comes back even when the block raises."""
    with pytest.raises(RuntimeError), mn.default_dtype("float64"):
        raise RuntimeError("boom")
    assert B.default_float is np.float32


@pytest.mark.parametrize("dtype", ["int32", "float16"])
def test_only_float32_and_float64_can_be_the_default(dtype):
    """Other dtypes are refused by name and leave the default unchanged."""
    with pytest.raises(ValueError, match=f"float32 or float64, not {dtype}"):
        mn.set_default_dtype(dtype)
    assert B.default_float is np.float32


# --- host <-> device, scatter-add, random numbers ----------------------------------------------------


def test_to_numpy_round_trip_keeps_values_and_dtype(backend):
    """host -> backend -> host gives back the same values and dtype, as a NumPy array."""
    host = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    device = B.asarray(host)
    assert B.is_array(device) and B.array_kind(device) == backend
    back = B.to_numpy(device)
    from_tensor = mn.tensor(host).numpy()
    assert isinstance(back, np.ndarray) and back.dtype == np.float32
    np.testing.assert_array_equal(back, host)
    np.testing.assert_array_equal(from_tensor, host)


def test_asarray_converts_lists_and_dtypes(backend):
    """asarray moves nested lists to the backend with the requested dtype."""
    device = B.asarray([[1, 2], [3, 4]], dtype=np.float64)
    assert device.dtype == np.float64 and tuple(device.shape) == (2, 2)
    np.testing.assert_array_equal(B.to_numpy(device), [[1.0, 2.0], [3.0, 4.0]])


def test_scatter_add_adds_repeated_indices(backend):
    """target[index] += values with index [0, 2, 0, 0]: entry 0 receives three values."""
    target = B.asarray(np.zeros(4))
    B.scatter_add(target, B.asarray(np.array([0, 2, 0, 0])), B.asarray(np.array([1.0, 2.0, 3.0, 4.0])))
    rows = B.asarray(np.zeros((3, 2)))
    B.scatter_add(rows, B.asarray(np.array([1, 1])), B.asarray(np.array([[1.0, 2.0], [3.0, 4.0]])))
    np.testing.assert_array_equal(B.to_numpy(target), [8.0, 0.0, 2.0, 0.0])
    np.testing.assert_array_equal(B.to_numpy(rows), [[0.0, 0.0], [4.0, 6.0], [0.0, 0.0]])


def test_rng_is_deterministic_per_seed():
    """The same seed gives the same draws; another seed gives others."""
    first, again = B.rng(7).standard_normal(5), B.rng(7).standard_normal(5)
    other = B.rng(8).standard_normal(5)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)
    assert isinstance(B.rng(0), np.random.Generator)


def test_array_kind_and_is_array():
    """is_array recognises arrays of every backend (not lists or numbers); array_kind names the owner."""
    assert B.is_array(np.zeros(2)) and B.array_kind(np.zeros(2)) == "numpy"
    assert not B.is_array([1.0, 2.0]) and not B.is_array(3.0)
    with B.use_backend("strict"):
        strict_array = B.asarray(np.zeros(2))
    assert B.is_array(strict_array) and B.array_kind(strict_array) == "strict"
    with B.use_backend("numpy"):  # a strict array handed to asarray under numpy goes to the host
        assert isinstance(B.asarray(strict_array), np.ndarray)
