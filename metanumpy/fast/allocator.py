"""Keep freed memory in the process, so that the big temporary arrays of a step do not fault.

A training step allocates and frees the same few large arrays again and again: the tokens'
embeddings (100 texts x 64 tokens x 128 floats is 3 MB at the benchmark's size M), gradient
tables, an updated weight table. By default glibc's malloc gives a block above a threshold
(128 KiB to start with, adjusted as the program runs) its own fresh pages from the operating
system and returns them when the block is freed, and it trims the top of its heap above
128 KiB as well. The next step then touches fresh pages, and each 4 KiB page costs a page fault.
Measured on our 2-core benchmark machine: Reptile at size M took about 5,000 page faults per
meta-step, and 10-20% of its time went to them; with the thresholds below, about 40.

    keep_freed_memory()     # raise both thresholds to 256 MiB (the command line's --fast-path)

Older glibc versions refuse an mmap threshold above 32 MiB; then 32 MiB is used, which covers
the temporaries but not a 36 MB weight table of size L (measured: ProtoNet at L 25% slower
than with 256 MiB, still twice as fast as PyTorch). The price: freed memory stays with the
process instead of going back to the system (typically up to the threshold per malloc arena,
more if the heap is fragmented). It applies to the whole process that calls it (a notebook
kernel too), which is why importing metanumpy never calls it. Only Linux with glibc has these settings; elsewhere this does nothing. Set METANUMPY_KEEP_FREED_MEMORY=0 to leave malloc as it is; your
own glibc settings (MALLOC_MMAP_THRESHOLD_, MALLOC_TRIM_THRESHOLD_, or glibc.malloc.* in
GLIBC_TUNABLES) are left alone too.
"""

import ctypes
import os
import sys

THRESHOLDS = (256 * 2**20, 32 * 2**20)
"""Tried in turn: blocks below the threshold come from (and go back to) the heap, which keeps
that much free memory."""

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # mallopt parameter numbers, from <malloc.h>


def _user_settings():
    """Has the user configured glibc's malloc through the environment?"""
    return ("MALLOC_MMAP_THRESHOLD_" in os.environ or "MALLOC_TRIM_THRESHOLD_" in os.environ
            or "glibc.malloc." in os.environ.get("GLIBC_TUNABLES", ""))


def keep_freed_memory():
    """Ask glibc's malloc to keep freed blocks for reuse; True if both settings were taken."""
    if os.environ.get("METANUMPY_KEEP_FREED_MEMORY", "1") == "0" or _user_settings():
        return False
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # not glibc (musl has no mallopt)
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    for threshold in THRESHOLDS:
        if mallopt(_M_MMAP_THRESHOLD, threshold):
            return bool(mallopt(_M_TRIM_THRESHOLD, threshold))
    return False
