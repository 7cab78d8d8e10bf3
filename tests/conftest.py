"""Shared test fixtures: run a test on every array backend, and leave no global state behind.

Ask for the `backend` fixture to run a test once per backend; inside it the backend is active:

    def test_training_step(backend):          # -> test_training_step[numpy], [strict], [cupy]
        x = mn.tensor(host_data)              # created on `backend`
        ...
        assert np.allclose(x.numpy(), expected)

* "numpy": the default backend;
* "strict": NumPy behind CuPy's refusals (see metanumpy/strict.py), so a host-only call on
  tensor data fails here on a laptop, before any GPU sees it;
* "cupy": only with CuPy installed and a CUDA device; elsewhere it is reported as skipped, with
  the reason. The cupy case carries the `gpu` marker: `python -m pytest -m gpu` runs just those.

If Python imported another copy's metanumpy (an installed reference, say) the tests stop at once
with what to do: they would not test this copy's code.
"""

from pathlib import Path

import pytest

from metanumpy import backend as B
from metanumpy.assignments.guard import WrongPackage, require_own_package

try:  # in a student copy, the tests must test the copy's own code, not an installed reference
    require_own_package(Path(__file__).resolve().parents[1])
except WrongPackage as error:
    pytest.exit(f"error: {error}", returncode=4)


def _cupy_param():
    """The cupy case: marked `gpu`, and skipped (with the reason) when there is no GPU to run it."""
    reason = None
    try:
        import cupy
    except ImportError:
        reason = "cupy not installed"
    else:
        try:
            if cupy.cuda.runtime.getDeviceCount() == 0:
                reason = "no CUDA device"
        except Exception as err:  # no driver: CUDARuntimeError
            reason = f"no CUDA device ({type(err).__name__})"
    marks = [pytest.mark.gpu]
    if reason:
        marks.append(pytest.mark.skipif(True, reason=reason))
    return pytest.param("cupy", marks=marks)


@pytest.fixture(params=["numpy", "strict", _cupy_param()])
def backend(request):
    """The name of the active backend; the previous one is restored after the test."""
    with B.use_backend(request.param):
        yield request.param


@pytest.fixture(autouse=True)
def _restore_backend_and_dtype():
    """Whatever a test switches (backend, default dtype), the next test starts as this one did."""
    name, dtype = B.name, B.default_float
    yield
    B.set_backend(name)
    B.set_default_dtype(dtype)
