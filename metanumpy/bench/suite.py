"""Run the benchmark grid, one fresh process per row, and report it.

    rows = run(["maml", "protonet"], ["S", "M"], steps=20)      # a list of row dicts
    print(table(rows))
    write_json("bench.json", rows, backend="numpy")

Each (algorithm, size, inner steps) is measured on every path: the reference code, the fast
path (`metanumpy.fast`), and, when PyTorch is installed, the same workload in PyTorch at 1 and
at 2 threads (the table keeps its faster). The fast path is also run a few steps with freed
memory returned to the system (METANUMPY_KEEP_FREED_MEMORY=0), for its memory without the
allocator setting. Each row comes from `python -m metanumpy.bench.timing` in its own
subprocess, so that its peak memory is its own and nothing carries over from the last row.
"""

import json
import os
import platform
import subprocess
import sys

import numpy as np

from .torch_workload import available as torch_available

THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
"""BLAS thread settings of the environment, recorded with the results."""

ROW_KEYS = ("algo", "size", "path", "median_s", "min_s", "max_s", "peak_rss_mb",
            "above_baseline_mb", "kernel_share")

TORCH_THREADS = (1, 2)
MEMORY_ONLY_STEPS = 3
"""Timed steps of the extra fast-path run that measures memory with freed memory returned."""


def run_one(algo, size, steps=20, warmup=3, inner_steps=5, backend="numpy", path="reference",
            torch_threads=1, env=None):
    """One row, measured in a fresh Python process."""
    command = [sys.executable, "-m", "metanumpy.bench.timing", algo, size, "--steps", str(steps),
               "--warmup", str(warmup), "--inner-steps", str(inner_steps), "--backend", backend,
               "--path", path, "--torch-threads", str(torch_threads)]
    done = subprocess.run(command, capture_output=True, text=True, env={**os.environ, **(env or {})})
    if done.returncode != 0:  # the last line of the child's traceback says what went wrong
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise RuntimeError(f"bench: {algo} at size {size} ({path}) failed in its subprocess: {last}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def run(algos, sizes, steps=20, warmup=3, inner_steps=(5,), backend="numpy", progress=None,
        paths=None):
    """Rows for every (algo, size, inner steps) and path; `progress(row)` after each one.

    `paths` defaults to reference, fast, and torch when PyTorch is importable."""
    if paths is None:
        paths = ["reference", "fast"] + (["torch"] if torch_available() else [])
    rows = []

    def add(row):
        rows.append(row)
        if progress:
            progress(row)

    for size in sizes:
        for algo in algos:
            for k in inner_steps:
                common = dict(steps=steps, warmup=warmup, inner_steps=k, backend=backend)
                for path in paths:
                    if path != "torch":
                        add(run_one(algo, size, path=path, **common))
                    else:
                        for threads in TORCH_THREADS:
                            add(run_one(algo, size, path="torch", torch_threads=threads, **common))
                if "fast" in paths:
                    row = run_one(algo, size, path="fast", env={"METANUMPY_KEEP_FREED_MEMORY": "0"},
                                  **dict(common, steps=MEMORY_ONLY_STEPS, warmup=1))
                    add(dict(row, path="fast-returned"))
    return rows


def machine(backend="numpy"):
    """The header of a results file: what the numbers were measured on."""
    return {
        "python": platform.python_version(), "numpy": np.__version__,
        "cpu_count": os.cpu_count(), "machine": platform.machine(),
        "processor": platform.processor() or platform.machine(), "backend": backend,
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "threads": {name: os.environ.get(name) for name in THREAD_VARIABLES},
        "torch": _torch_version(),
    }


def _torch_version():
    try:
        import torch
    except ImportError:
        return None
    return torch.__version__


def write_json(path, rows, backend="numpy"):
    """Save {"machine": header, "rows": rows} to `path`."""
    with open(path, "w") as f:
        json.dump({"machine": machine(backend), "rows": rows}, f, indent=1)


def progress_line(row):
    """One measured row, as it arrives."""
    threads = f", {row['threads']} threads" if row["path"] == "torch" else ""
    share = "" if row.get("kernel_share") is None else f", kernel {row['kernel_share']:.0%}"
    return (f"  {row['algo']:<9} {row['size']:<2} {row['path']}{threads}: median "
            f"{row['median_s']:.4f} s, peak {row['peak_rss_mb']:.0f} MB "
            f"({row['above_baseline_mb']:.0f} MB above baseline){share}")


HEADER = (f"{'algo':<9} {'size':<4} {'inner':>5} {'ref s':>8} {'fast s':>8} {'ref/fast':>8} "
          f"{'torch s':>8} {'fast/torch':>10} {'MB ref':>7} {'MB fast':>7} {'MB fast*':>8} "
          f"{'MB torch':>8}")


def _cell(value, fmt, width):
    return f"{'-':>{width}}" if value is None else f"{value:{width}{fmt}}"


def table(rows):
    """One line per (algo, size, inner steps): the seconds per meta-step of each path and their
    ratios, and the memory above the baseline of each (MB fast*: freed memory returned)."""
    groups = {}
    for row in rows:
        groups.setdefault((row["algo"], row["size"], row.get("inner_steps")), {}).setdefault(
            row["path"], []).append(row)
    lines = [HEADER]
    for (algo, size, inner), by_path in groups.items():
        best = {path: min(found, key=lambda r: r["median_s"]) for path, found in by_path.items()}
        seconds = {path: r["median_s"] for path, r in best.items()}
        memory = {path: r["above_baseline_mb"] for path, r in best.items()}
        ref, fast, torch = seconds.get("reference"), seconds.get("fast"), seconds.get("torch")
        lines.append(
            f"{algo:<9} {size:<4} {'-' if inner is None else inner:>5} {_cell(ref, '.4f', 8)} "
            f"{_cell(fast, '.4f', 8)} {_cell(ref / fast if ref and fast else None, '.2f', 7)}x "
            f"{_cell(torch, '.4f', 8)} {_cell(fast / torch if fast and torch else None, '.2f', 9)}x "
            f"{_cell(memory.get('reference'), '.0f', 7)} {_cell(memory.get('fast'), '.0f', 7)} "
            f"{_cell(memory.get('fast-returned'), '.0f', 8)} {_cell(memory.get('torch'), '.0f', 8)}")
    return "\n".join(lines)
