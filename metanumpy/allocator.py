"""Keep freed memory in the process, so that the big temporary arrays of a step do not fault.

A training step allocates and frees the same few large arrays again and again: the tokens'
embeddings (100 texts x 64 tokens x 128 floats is 3 MB at the benchmark's size M), gradient
tables, an updated weight table. By default glibc's malloc gives a block above a threshold
(128 KiB to start with, adjusted as the program runs) its own fresh pages from the operating
system and returns them when the block is freed, and it trims the top of its heap above
128 KiB as well. The next step then touches fresh pages, and each 4 KiB page costs a page fault.
Measured on our 2-core benchmark machine: Reptile at size M took about 5,000 page faults per
meta-step, and 10-20% of its time went to them; with the thresholds below, about 40.

    keep_freed_memory()     # raise both thresholds to 256 MiB (done by `import metanumpy`)

The price: up to 256 MiB of freed memory stays with the process instead of going back to the
system. Only Linux with glibc has these settings; elsewhere this does nothing. Set
METANUMPY_KEEP_FREED_MEMORY=0 to leave malloc as it is, or set glibc's own
MALLOC_MMAP_THRESHOLD_ / MALLOC_TRIM_THRESHOLD_ (then those win).
"""

import ctypes
import os
import sys

THRESHOLD = 256 * 2**20
"""Blocks below this size come from (and go back to) the heap, which keeps this much free."""

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # mallopt parameter numbers, from <malloc.h>
_GLIBC_VARIABLES = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_")


def keep_freed_memory():
    """Ask glibc's malloc to keep freed blocks for reuse; True if it was done."""
    if os.environ.get("METANUMPY_KEEP_FREED_MEMORY", "1") == "0":
        return False
    if any(name in os.environ for name in _GLIBC_VARIABLES):
        return False
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None)
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (musl has no mallopt)
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, THRESHOLD) and mallopt(_M_TRIM_THRESHOLD, THRESHOLD))
