"""One BLAS thread for this process, even after NumPy has loaded.

The models here multiply small matrices, and on a 2-core laptop extra BLAS threads mostly
wait for each other (measured: a MAML step several times slower with two threads than with
one, worse when the machine is busy). The usual switch, OMP_NUM_THREADS=1, only works if it
is set before NumPy loads; `one_blas_thread()` asks the BLAS library NumPy loaded (OpenBLAS,
found among the process's shared libraries) to use one thread from now on.

    one_blas_thread()    # True if a BLAS library took the setting

Your own OMP_NUM_THREADS / OPENBLAS_NUM_THREADS wins: then nothing is changed. Linux only
(it reads /proc/self/maps); elsewhere it does nothing and returns False.
"""

import ctypes
import os
import re

SETTERS = ("openblas_set_num_threads", "openblas_set_num_threads64_",
           "scipy_openblas_set_num_threads", "scipy_openblas_set_num_threads64_")
"""The thread setters of OpenBLAS builds (NumPy's wheels carry a `scipy_openblas` build)."""


def _blas_libraries():
    """Paths of the loaded shared libraries whose names mention BLAS."""
    try:
        with open("/proc/self/maps", encoding="utf-8") as maps:
            paths = set(re.findall(r"(/\S+\.so\S*)", maps.read()))
    except OSError:
        return []
    return sorted(p for p in paths if "blas" in os.path.basename(p).lower())


def one_blas_thread():
    """Make the loaded BLAS use one thread; False when the user chose a thread count or no
    known BLAS library is loaded."""
    if "OMP_NUM_THREADS" in os.environ or "OPENBLAS_NUM_THREADS" in os.environ:
        return False
    import numpy  # noqa: F401  (make sure NumPy's BLAS is loaded)

    applied = False
    for path in _blas_libraries():
        try:
            library = ctypes.CDLL(path)
        except OSError:
            continue
        for name in SETTERS:
            setter = getattr(library, name, None)
            if setter is not None:
                setter.argtypes, setter.restype = (ctypes.c_int,), None
                setter(1)
                applied = True
                break
    return applied
