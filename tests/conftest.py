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

import os

# The models under test are tiny, and extra BLAS threads mostly wait for each other (a training
# test runs several times slower with two on two cores). This sets it for the test process
# only, before NumPy loads; your own OMP_NUM_THREADS wins.
os.environ.setdefault("OMP_NUM_THREADS", "1")

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from metanumpy import backend as B  # noqa: E402
from metanumpy import fast  # noqa: E402
from metanumpy.assignments.guard import WrongPackage, require_own_package  # noqa: E402

try:  # in a student copy, the tests must test the copy's own code, not an installed reference
    require_own_package(Path(__file__).resolve().parents[1])
except WrongPackage as error:
    pytest.exit(f"error: {error}", returncode=4)


@pytest.fixture(autouse=True)
def reference_path_after_each_test():
    """Every test starts on the reference path; one that leaves the fast path on fails."""
    assert not fast.is_enabled(), "an earlier test left metanumpy.fast enabled"
    yield
    if fast.is_enabled():
        fast.disable()
        pytest.fail("the test left metanumpy.fast enabled: use `with fast.enabled(): ...`")


@pytest.fixture
def on_path(monkeypatch):
    """on_path(path, command, argv): a command-line call (cli.main or cli.console) on "reference"
    or "fast" (which adds --fast-path). The command leaves the fast path on, as a process would,
    so it is switched off again after each call; and malloc's process-wide setting
    (fast/allocator.py) is not applied to the test process."""
    monkeypatch.setenv("METANUMPY_KEEP_FREED_MEMORY", "0")

    def run(path, command, argv):
        try:
            return command([*argv, "--fast-path"] if path == "fast" else list(argv))
        finally:
            fast.disable()

    return run


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
