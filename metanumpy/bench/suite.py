"""Run the benchmark grid, one fresh process per (algorithm, size), and report it.

    rows = run(["maml", "protonet"], ["S", "M"], steps=20)      # a list of row dicts
    print(table(rows))
    write_json("bench.json", rows, backend="numpy")

Each row comes from `python -m metanumpy.bench.timing` in its own subprocess, so that its
peak memory is its own and no cache or allocator state carries over from the previous row.
The table puts the PyTorch reference next to each median (`PYTORCH`, from the project brief:
PyTorch CPU eager, 2 threads, same spec, on the same 2-core machine type).
"""

import json
import os
import platform
import subprocess
import sys

import numpy as np

PYTORCH = {
    ("maml", "S"): 0.0193, ("maml", "M"): 0.0731, ("maml", "L"): 0.955,
    ("fomaml", "S"): 0.0096, ("fomaml", "M"): 0.0447, ("fomaml", "L"): 0.538,
    ("reptile", "S"): 0.0125, ("reptile", "M"): 0.0484, ("reptile", "L"): 0.505,
    ("protonet", "S"): 0.0038, ("protonet", "M"): 0.0136, ("protonet", "L"): 0.151,
    ("matching", "S"): 0.0039, ("matching", "M"): 0.0133, ("matching", "L"): 0.153,
}
"""Median seconds per meta-step of the same benchmark in PyTorch (5 inner steps)."""

THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
"""BLAS thread settings, recorded with the results (metanumpy defaults OMP_NUM_THREADS to 1)."""

ROW_KEYS = ("algo", "size", "median_s", "min_s", "max_s", "peak_rss_mb", "kernel_share")


def run_one(algo, size, steps=20, warmup=3, inner_steps=5, backend="numpy"):
    """One row, measured in a fresh Python process."""
    command = [sys.executable, "-m", "metanumpy.bench.timing", algo, size, "--steps", str(steps),
               "--warmup", str(warmup), "--inner-steps", str(inner_steps), "--backend", backend]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:  # the last line of the child's traceback says what went wrong
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise RuntimeError(f"bench: {algo} at size {size} failed in its subprocess: {last}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def run(algos, sizes, steps=20, warmup=3, inner_steps=(5,), backend="numpy", progress=None):
    """Rows for every (algo, size, inner steps); `progress(row)` is called after each one."""
    rows = []
    for size in sizes:
        for algo in algos:
            for k in inner_steps:
                row = run_one(algo, size, steps, warmup, k, backend)
                rows.append(row)
                if progress:
                    progress(row)
    return rows


def machine(backend="numpy"):
    """The header of a results file: what the numbers were measured on."""
    return {
        "python": platform.python_version(), "numpy": np.__version__,
        "cpu_count": os.cpu_count(), "machine": platform.machine(),
        "processor": platform.processor() or platform.machine(), "backend": backend,
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "threads": {name: os.environ.get(name) for name in THREAD_VARIABLES},
    }


def write_json(path, rows, backend="numpy"):
    """Save {"machine": header, "rows": rows} to `path`."""
    with open(path, "w") as f:
        json.dump({"machine": machine(backend), "rows": rows}, f, indent=1)


def format_row(row):
    """One line of the table."""
    reference = None  # the PyTorch figures are for 5 inner steps
    if row.get("inner_steps") in (5, None):
        reference = PYTORCH.get((row["algo"], row["size"]))
    torch = f"{'-':>9} {'-':>7}"
    if reference:
        torch = f"{reference:9.4f} {row['median_s'] / reference:6.2f}x"
    inner = "-" if row.get("inner_steps") is None else str(row["inner_steps"])
    return (f"{row['algo']:<9} {row['size']:<4} {inner:>5} {row['median_s']:10.4f} "
            f"{row['min_s']:9.4f} {row['max_s']:9.4f} {row['peak_rss_mb']:9.0f} "
            f"{row['kernel_share']:7.0%} {torch}")


HEADER = (f"{'algo':<9} {'size':<4} {'inner':>5} {'median s':>10} {'min s':>9} {'max s':>9} "
          f"{'peak MB':>9} {'kernel':>7} {'torch s':>9} {'ratio':>7}")


def table(rows):
    """The rows as a fixed-width table (ratio: our median over PyTorch's)."""
    return "\n".join([HEADER] + [format_row(r) for r in rows])
