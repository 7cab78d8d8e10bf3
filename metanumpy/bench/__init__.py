"""`python -m metanumpy bench`: how fast is a meta-training step, and where does the time go?

    python -m metanumpy bench                          # every algorithm at sizes S, M, L, on
                                                       # the reference and the fast path (and
                                                       # in PyTorch, when it is installed)
    python -m metanumpy bench --algos maml --sizes L --inner-steps 1,2,5,10   # memory vs steps
    python -m metanumpy bench --json results.json      # also save the rows
    python -m metanumpy bench --ops                    # the engine's per-op overhead

Files: `workload.py` (the fixed spec: model, sizes, synthetic episodes, learners),
`timing.py` (time one algorithm at one size on one path: median / min / max seconds per
meta-step, peak memory, kernel share), `torch_workload.py` (the same workload in PyTorch),
`suite.py` (one fresh process per row, the table, the JSON file), `overhead.py`
(microseconds per op, engine against NumPy), `trace.py` (which source files a meta-step runs).

In process, for a quick look: `measure("protonet", "S", steps=5)` returns one row.
"""

import json

from .. import backend as B
from .timing import measure
from .overhead import op_overhead, overhead_table
from . import torch_workload
from .suite import ROW_KEYS, machine, progress_line, run, table, write_json
from .timing import PATHS
from .torch_workload import available as torch_available
from .workload import ALGORITHMS, SIZES


def _names(text, allowed, what):
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in allowed]
    if unknown or not names:
        raise ValueError(f"bench: unknown {what} {', '.join(unknown) or repr(text)}; "
                         f"choose from {', '.join(allowed)}")
    return names


def _counts(text):
    try:
        counts = [int(n) for n in text.split(",")]
    except ValueError:
        counts = []
    if not counts or min(counts) < 1:
        raise ValueError(
            f"bench: --inner-steps takes positive integers like 1,2,5,10, not {text!r}")
    return counts


def main(algos="maml,fomaml,reptile,protonet,matching", sizes="S,M,L", steps=20, warmup=3,
         inner_steps="5", json_path=None, backend="numpy", ops=False, echo=print, paths=None):
    """The command: measure, print the table as rows arrive, optionally save JSON.

    Returns the rows (or, with `ops=True`, the per-op overhead dict).
    """
    if ops:
        with B.use_backend(backend):
            result = op_overhead()
        echo(overhead_table(result))
        if json_path:
            with open(json_path, "w") as f:
                json.dump({"machine": machine(backend), "ops": result}, f, indent=1)
        return result
    algos, sizes = _names(algos, ALGORITHMS, "algorithm"), _names(sizes, list(SIZES), "size")
    inner = _counts(str(inner_steps))
    if paths is not None:
        paths = _names(paths, PATHS, "path")
        if "torch" in paths and not torch_available():
            raise ValueError("bench: --paths torch needs PyTorch (`pip install torch`, a CPU build)")
    echo(f"{len(algos) * len(sizes) * len(inner)} (algorithm, size) cells, {steps} timed steps "
         f"each after {warmup} warm-up, one process per path ({backend} backend"
         f"{'' if torch_available() else '; PyTorch not installed, so no PyTorch column'})")
    rows = run(algos, sizes, steps, warmup, inner, backend, progress=lambda r: echo(progress_line(r)),
               paths=paths)
    echo(table(rows))
    if json_path:
        write_json(json_path, rows, backend)
        echo(f"wrote {json_path}")
    return rows


__all__ = [
    "ALGORITHMS", "PATHS", "ROW_KEYS", "SIZES", "machine", "main", "measure", "op_overhead",
    "overhead_table", "run", "table", "write_json",
]
