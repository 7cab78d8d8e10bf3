"""The reference path is what runs unless you ask for the fast one, and it stays plain.

* No reference module imports `metanumpy.fast` (checked in the source), and importing
  metanumpy loads none of it and changes nothing in the process's environment.
* In a second-order MAML step every Tensor's `.data` is a plain NumPy array.
* One meta-step of each algorithm runs only the teaching modules, at most 12 files.
"""

import ast
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import metanumpy as mn
from metanumpy.bench.trace import files_run
from metanumpy.experiment import Experiment

PACKAGE = Path(mn.__file__).resolve().parent
ENTRY_POINTS = {"cli.py", "__main__.py", "lessons.py"}
"""Modules that may switch the fast path on for the user; `bench/` and `fast/` are apart too."""


def reference_modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE)
        if relative.parts[0] in ("fast", "bench") or str(relative) in ENTRY_POINTS:
            continue
        yield relative, path


def imported_names(path):
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            yield "." * node.level + (node.module or "")
            yield from ("." * node.level + (node.module or "") + "." + a.name for a in node.names)


def test_no_reference_module_imports_the_fast_package():
    offenders = {}
    for relative, path in reference_modules():
        found = [n for n in imported_names(path) if "fast" in n.split(".")]
        if found:
            offenders[str(relative)] = found
    assert offenders == {}
    assert len(list(reference_modules())) > 30  # the walk did see the package


def test_importing_metanumpy_loads_no_fast_path_and_sets_nothing():
    probe = ("import os, sys, json; before = dict(os.environ); import metanumpy, metanumpy.meta, "
             "metanumpy.text, metanumpy.tasks, metanumpy.train; print(json.dumps({'fast': "
             "[m for m in sys.modules if m.startswith('metanumpy.fast')], 'env': "
             "sorted(k for k in os.environ if os.environ[k] != before.get(k))}))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert json.loads(done.stdout) == {"fast": [], "env": []}


def test_every_tensor_of_a_second_order_maml_step_holds_a_numpy_array():
    exp = Experiment(tasks="topics", ways=3, shots=1, queries=2, seed=0, dim=8, hidden=8)
    learner = exp.learner("maml", inner_steps=2)
    episode = exp.sampler().batch(1)[0]
    fast = learner.fast_weights(episode, 2, create_graph=True)
    seen, stack = set(), list(fast.values())
    while stack:  # every node of the graph behind the fast weights
        t = stack.pop()
        if id(t) in seen:
            continue
        seen.add(id(t))
        assert type(t.data) is np.ndarray, f"{type(t.data).__name__} in the graph"
        if t._op is not None:
            stack.extend(t._op.inputs)
    grads = mn.grad(learner.meta_loss([episode])[0], learner.meta_parameters())
    assert all(type(g.data) is np.ndarray for g in grads)
    assert len(seen) > 50


TEACHING = ("autograd", "nn", "optim.py", "text", "meta", "backend.py")


@pytest.mark.parametrize("algo", ["maml", "fomaml", "reptile", "protonet", "matching"])
def test_a_meta_step_runs_only_the_teaching_modules(algo):
    files = files_run(algo)
    parts = [Path(name).relative_to("metanumpy").parts[0] for name in files]
    assert set(parts) <= set(TEACHING), files
    assert len(files) <= 12
