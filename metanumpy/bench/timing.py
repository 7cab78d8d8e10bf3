"""Time one algorithm at one size: seconds per meta-step, peak memory, and the kernel share.

    row = measure("maml", "S", steps=20, warmup=3, path="fast")
    # {"algo": "maml", "size": "S", "path": "fast", "inner_steps": 5, "median_s": ..., "min_s":
    #  ..., "max_s": ..., "peak_rss_mb": ..., "above_baseline_mb": ..., "kernel_share": ...}

`path` is "reference" (the plain code), "fast" (`metanumpy.fast` switched on, and freed memory
kept in the process unless METANUMPY_KEEP_FREED_MEMORY=0) or "torch" (the same workload in
PyTorch, `torch_workload.py`; `torch_threads` sets its thread count). metanumpy runs with one
BLAS thread (`threads.py`).

* The step times are wall-clock seconds of `learner.meta_train_step(batch)`, each on its own
  meta-batch, after `warmup` untimed steps.
* `peak_rss_mb` is the process's peak resident memory (VmHWM on Linux), `above_baseline_mb` the
  same minus the resident memory just before the learner is built (what the learner and its
  steps need, without the interpreter and the imported libraries: PyTorch's import alone is
  about 300 MB). They mean "this (algo, size)" only in a fresh process, which is how
  `suite.run` calls `measure` (the command line `python -m metanumpy.bench.timing ALGO SIZE
  ...` prints the row as JSON).
* `kernel_share` is the fraction of a step spent inside array kernels. A few extra steps run
  under cProfile; kernel time is the time inside NumPy (its C functions and ndarray methods,
  and its Python functions) plus the own time of the engine's array-only functions: op
  `forward`s, optimizer `_update`s and the RowSparse helpers. Those must be counted because
  cProfile cannot see NumPy's operators (`a + b`, `np.exp(a)`) on their own: their time lands
  in the function that runs them. The share is that kernel time per step over the unprofiled
  median step time, since the profiler slows the Python between kernels, not the kernels.
"""

import argparse
import cProfile
import json
import os
import pstats
import resource
import sys
import time

import numpy as np

from .. import backend as B
from .. import fast
from ..fast.allocator import keep_freed_memory
from ..threads import one_blas_thread
from .workload import INNER_LOOP, INNER_STEPS, SIZES, learner, meta_batches

PROFILED_STEPS = 5


PATHS = ("reference", "fast", "torch")


def measure(algo, size, steps=20, warmup=3, inner_steps=INNER_STEPS, backend="numpy", seed=0,
            path="reference", torch_threads=1):
    """One benchmark row (a dict) for `algo` at size name `size`; see the module docstring."""
    if size not in SIZES:
        raise ValueError(f"bench: unknown size {size!r}; choose from {', '.join(SIZES)}")
    if steps < 1 or warmup < 0:
        raise ValueError(f"bench: need steps >= 1 and warmup >= 0, got {steps} and {warmup}")
    if path not in PATHS:
        raise ValueError(f"bench: unknown path {path!r}; choose from {', '.join(PATHS)}")
    batches = meta_batches(SIZES[size], warmup + steps + PROFILED_STEPS, seed)
    with B.use_backend(backend), B.default_dtype("float32"), fast.enabled(path == "fast"):
        step, batches, baseline = _step_function(algo, size, inner_steps, seed, path,
                                                 torch_threads, batches)
        for batch in batches[:warmup]:
            step(batch)
        times = []
        for batch in batches[warmup:warmup + steps]:
            start = time.perf_counter()
            step(batch)
            times.append(time.perf_counter() - start)
        median = float(np.median(times))
        share = kernel_share(step, batches[warmup + steps:], median, path)
    peak = peak_rss_mb()
    return {
        "algo": algo, "size": size, "path": path,
        "inner_steps": inner_steps if algo in INNER_LOOP else None,
        "threads": torch_threads if path == "torch" else 1,
        "median_s": median, "min_s": float(min(times)), "max_s": float(max(times)),
        "peak_rss_mb": peak, "above_baseline_mb": peak - baseline,
        "kernel_share": share,
    }


def _step_function(algo, size, inner_steps, seed, path, torch_threads, batches):
    """(one meta-step as a function of a meta-batch, the batches in the form it takes, the
    resident memory in MB just before the learner is built)."""
    if path == "torch":
        import torch

        from .torch_workload import torch_batch, torch_learner

        torch.set_num_threads(torch_threads)
        batches = [torch_batch(b) for b in batches]
        baseline = current_rss_mb()
        return torch_learner(algo, SIZES[size], inner_steps, seed), batches, baseline
    one_blas_thread()
    baseline = current_rss_mb()
    return learner(algo, SIZES[size], inner_steps, seed).meta_train_step, batches, baseline


def current_rss_mb():
    """Resident memory of this process now, in MB (Linux; elsewhere 0)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        return 0.0


def peak_rss_mb():
    """Peak resident memory of this process in MB. On Linux from /proc/self/status (VmHWM):
    `getrusage` would also count the parent's memory that a fork copied before the exec."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 2**10  # kB
    except (OSError, ValueError):
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # Linux: KB, macOS: bytes
    return peak / (2**20 if sys.platform == "darwin" else 2**10)


def kernel_share(step, batches, median_s, path="reference"):
    """Kernel seconds per step (measured under cProfile) over the unprofiled median step time.
    For PyTorch, whose kernels cProfile does not see, None."""
    if path == "torch":
        return None
    profiler = cProfile.Profile()
    profiler.enable()
    for batch in batches:
        step(batch)
    profiler.disable()
    stats = pstats.Stats(profiler).stats  # (file, line, name) -> (calls, ..., own time, ...)
    kernel = sum(entry[2] for (path, _, name), entry in stats.items() if is_kernel(path, name))
    return min(1.0, kernel / len(batches) / median_s)


_ENGINE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_ARRAY_ONLY = {"forward", "_update"}
"""Engine functions whose bodies are array arithmetic (their own time is kernel time)."""


def is_kernel(path, name):
    """True for a cProfile entry that is array work: in NumPy, or an array-only engine function."""
    if path == "~":  # a C function: "<built-in method numpy.zeros>", "<method 'sum' of 'numpy...>"
        return "numpy" in name
    path = os.path.abspath(path)
    if f"{os.sep}numpy{os.sep}" in path:
        return True
    if not path.startswith(_ENGINE):
        return False
    return name in _ARRAY_ONLY or os.path.basename(path) == "rowsparse.py"  # fast path's arrays


def main(argv=None):
    """`python -m metanumpy.bench.timing ALGO SIZE [--steps ...]`: print one row as JSON."""
    parser = argparse.ArgumentParser(prog="python -m metanumpy.bench.timing")
    parser.add_argument("algo")
    parser.add_argument("size")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--inner-steps", type=int, default=INNER_STEPS)
    parser.add_argument("--backend", default="numpy")
    parser.add_argument("--path", default="reference", choices=PATHS)
    parser.add_argument("--torch-threads", type=int, default=1)
    args = parser.parse_args(argv)
    if args.path == "fast":  # this process is one row: the fast path's process setting too
        keep_freed_memory()
    row = measure(args.algo, args.size, args.steps, args.warmup, args.inner_steps, args.backend,
                  path=args.path, torch_threads=args.torch_threads)
    print(json.dumps(row))


if __name__ == "__main__":
    main()
