"""`import metanumpy` keeps freed memory for reuse (allocator.py): a big array allocated again
and again is faulted in once, not every time. Linux with glibc only (elsewhere it does nothing)."""

import json
import os
import subprocess
import sys

import pytest

from metanumpy import allocator

REPEAT = """
import json, resource
import metanumpy, numpy as np
def faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt
n = 3 * 2**20 // 8  # two arrays of 3 MB at a time, like the temporaries of a training step
before = faults()
for _ in range(10):
    arrays = [np.ones(n), np.ones(n)]
    del arrays
print(json.dumps(faults() - before))
"""


def page_faults(**env):
    done = subprocess.run([sys.executable, "-c", REPEAT], capture_output=True, text=True,
                          env={**os.environ, **env}, check=True)
    return json.loads(done.stdout)


def glibc():
    try:
        return os.confstr("CS_GNU_LIBC_VERSION").startswith("glibc")
    except (AttributeError, ValueError, OSError):
        return False


linux_glibc = pytest.mark.skipif(not glibc(), reason="malloc thresholds are a glibc setting")


@linux_glibc
def test_a_repeated_big_array_is_faulted_in_once():
    kept = page_faults()
    default = page_faults(METANUMPY_KEEP_FREED_MEMORY="0")
    pages = 3 * 2**20 // 4096  # one array's pages: 768
    assert default > 10 * pages  # without it, the arrays are faulted in afresh every time
    assert kept < 3 * pages  # with it, the first two arrays' memory is reused


def test_the_setting_can_be_declined(monkeypatch):
    monkeypatch.setenv("METANUMPY_KEEP_FREED_MEMORY", "0")
    assert allocator.keep_freed_memory() is False
    monkeypatch.delenv("METANUMPY_KEEP_FREED_MEMORY")
    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "131072")  # the user's own glibc setting wins
    assert allocator.keep_freed_memory() is False
