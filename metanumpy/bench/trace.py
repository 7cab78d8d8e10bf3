"""Which of metanumpy's source files one meta-training step runs, and how many calls each.

    python -m metanumpy bench --trace maml            # the reference path
    python -m metanumpy bench --trace maml --paths fast

One meta-step of the benchmark workload (size S) runs first untraced (warm-up), then a second
one under `sys.setprofile`, which sees every Python call; calls into the package's own files
are counted per file. A reader following a step of the reference path needs only these files.
"""

import os
import sys
from collections import Counter

from .. import fast
from .workload import SIZES, learner, meta_batches

PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def files_run(algo, path="reference"):
    """{file relative to the repository: number of calls} for one meta-step of `algo`."""
    with fast.enabled(path == "fast"):
        size = SIZES["S"]
        model_learner = learner(algo, size)
        warm, traced = meta_batches(size, 2)
        model_learner.meta_train_step(warm)
        calls = Counter()
        root = os.path.dirname(PACKAGE)

        def count(frame, event, arg):
            if event == "call" and frame.f_code.co_filename.startswith(PACKAGE):
                calls[os.path.relpath(frame.f_code.co_filename, root)] += 1

        sys.setprofile(count)
        try:
            model_learner.meta_train_step(traced)
        finally:
            sys.setprofile(None)
    return dict(sorted(calls.items()))


def trace_table(algo, path="reference"):
    """The files and their call counts as text, with the total number of files."""
    calls = files_run(algo, path)
    lines = [f"{n:8d}  {name}" for name, n in calls.items()]
    return "\n".join(lines + [f"{len(calls)} files run by one {algo} meta-step ({path} path)"])
