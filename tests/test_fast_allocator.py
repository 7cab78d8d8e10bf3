"""The fast path's allocator setting (metanumpy/fast/allocator.py) keeps freed memory for reuse:
big arrays allocated again and again are faulted in once, not every time. Linux with glibc only
(elsewhere it does nothing). `import metanumpy` alone leaves malloc as it is."""

import json
import os
import subprocess
import sys

import pytest

from metanumpy.fast import allocator

REPEAT = """
import json, resource, sys
import metanumpy, numpy as np
def faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt
applied = None
if sys.argv[1] == "keep":
    from metanumpy.fast import allocator
    applied = allocator.keep_freed_memory()  # True when the settings are taken
n = 3 * 2**20 // 8  # two arrays of 3 MB at a time, like the temporaries of a training step
before = faults()
for _ in range(10):
    arrays = [np.ones(n), np.ones(n)]
    del arrays
print(json.dumps({"applied": applied, "faults": faults() - before}))
"""

MALLOC_SETTINGS = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "GLIBC_TUNABLES",
                   "METANUMPY_KEEP_FREED_MEMORY", "LD_PRELOAD")


def run_repeat(how, **env):
    clean = {k: v for k, v in os.environ.items() if k not in MALLOC_SETTINGS}
    done = subprocess.run([sys.executable, "-c", REPEAT, how], capture_output=True, text=True,
                          env={**clean, **env}, check=True)
    return json.loads(done.stdout)


def glibc():
    try:
        return os.confstr("CS_GNU_LIBC_VERSION").startswith("glibc")
    except (AttributeError, ValueError, OSError):
        return False


@pytest.mark.skipif(not glibc(), reason="malloc thresholds are a glibc setting")
def test_repeated_big_arrays_are_faulted_in_once():
    kept = run_repeat("keep")
    assert kept["applied"]  # every glibc takes 32 MiB, the fallback
    declined = run_repeat("keep", METANUMPY_KEEP_FREED_MEMORY="0")
    assert declined["applied"] is False
    import_only = run_repeat("import")  # importing metanumpy changes nothing
    pages = 3 * 2**20 // 4096  # one array's pages: 768
    assert kept["faults"] < 3 * pages  # the first two arrays' memory is reused ...
    for default in (declined, import_only):  # ... where by default it is faulted in again
        assert kept["faults"] * 4 < default["faults"]


def test_the_setting_can_be_declined(monkeypatch):
    monkeypatch.setenv("METANUMPY_KEEP_FREED_MEMORY", "0")
    assert allocator.keep_freed_memory() is False
    monkeypatch.delenv("METANUMPY_KEEP_FREED_MEMORY")
    for name, value in [("MALLOC_TRIM_THRESHOLD_", "131072"),
                        ("GLIBC_TUNABLES", "glibc.malloc.mmap_threshold=131072")]:
        monkeypatch.setenv(name, value)  # the user's own glibc settings win
        assert allocator.keep_freed_memory() is False
        monkeypatch.delenv(name)
