"""Time one algorithm at one size: seconds per meta-step, peak memory, and the kernel share.

    row = measure("maml", "S", steps=20, warmup=3)
    # {"algo": "maml", "size": "S", "inner_steps": 5, "median_s": ..., "min_s": ..., "max_s": ...,
    #  "peak_rss_mb": ..., "kernel_share": ...}

* The step times are wall-clock seconds of `learner.meta_train_step(batch)`, each on its own
  meta-batch, after `warmup` untimed steps.
* `peak_rss_mb` is the process's peak resident memory (`getrusage`). It means "this (algo,
  size)" only in a fresh process, which is how `suite.run` calls `measure` (the command line
  `python -m metanumpy.bench.timing ALGO SIZE ...` prints the row as JSON).
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
from .workload import INNER_LOOP, INNER_STEPS, SIZES, learner, meta_batches

PROFILED_STEPS = 5


def measure(algo, size, steps=20, warmup=3, inner_steps=INNER_STEPS, backend="numpy", seed=0):
    """One benchmark row (a dict) for `algo` at size name `size`; see the module docstring."""
    if size not in SIZES:
        raise ValueError(f"bench: unknown size {size!r}; choose from {', '.join(SIZES)}")
    if steps < 1 or warmup < 0:
        raise ValueError(f"bench: need steps >= 1 and warmup >= 0, got {steps} and {warmup}")
    with B.use_backend(backend), B.default_dtype("float32"):
        model_learner = learner(algo, SIZES[size], inner_steps, seed)
        batches = meta_batches(SIZES[size], warmup + steps + PROFILED_STEPS, seed)
        for batch in batches[:warmup]:
            model_learner.meta_train_step(batch)
        times = []
        for batch in batches[warmup:warmup + steps]:
            start = time.perf_counter()
            model_learner.meta_train_step(batch)
            times.append(time.perf_counter() - start)
        median = float(np.median(times))
        share = kernel_share(model_learner.meta_train_step, batches[warmup + steps:], median)
    return {
        "algo": algo, "size": size, "inner_steps": inner_steps if algo in INNER_LOOP else None,
        "median_s": median, "min_s": float(min(times)), "max_s": float(max(times)),
        "peak_rss_mb": peak_rss_mb(), "kernel_share": share,
    }


def peak_rss_mb():
    """Peak resident memory of this process in MB (Linux reports KB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (2**20 if sys.platform == "darwin" else 2**10)


def kernel_share(step, batches, median_s):
    """Kernel seconds per step (measured under cProfile) over the unprofiled median step time."""
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
    return name in _ARRAY_ONLY or os.path.basename(path) == "rowsparse.py"


def main(argv=None):
    """`python -m metanumpy.bench.timing ALGO SIZE [--steps ...]`: print one row as JSON."""
    parser = argparse.ArgumentParser(prog="python -m metanumpy.bench.timing")
    parser.add_argument("algo")
    parser.add_argument("size")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--inner-steps", type=int, default=INNER_STEPS)
    parser.add_argument("--backend", default="numpy")
    args = parser.parse_args(argv)
    row = measure(args.algo, args.size, args.steps, args.warmup, args.inner_steps, args.backend)
    print(json.dumps(row))


if __name__ == "__main__":
    main()
