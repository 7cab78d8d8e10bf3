"""The classroom tasks of this repository: focused tests for tasks that had none, and (hidden
from the student copy) checks that the solution regions, the markers and a release fit.

A task's tests carry its marker, `@pytest.mark.task4_2`, registered in setup.cfg, so that
`python -m pytest -m task4_2` checks that one step (the teacher's guide is in README.md).
"""

import re

import numpy as np
import pytest

import metanumpy as mn
from metanumpy import backend as B
from metanumpy.autograd import Function
from metanumpy.autograd.functional import cross_entropy
from metanumpy.autograd.ops import sum_to
from metanumpy.meta.learner import adapt
from metanumpy.meta.protonet import prototype_logits, prototypes
from metanumpy.text import TextClassifier


@pytest.fixture
def float64():
    with mn.default_dtype("float64"):
        yield


def f64(data, requires_grad=True):
    return mn.tensor(data, requires_grad=requires_grad, dtype="float64")


# --- lesson 1: the engine. These use only ops that are no task of their own (log, exp, +, -,
# division, sum) next to the task they check, so that each fails only for its own task and the
# tasks before it.


@pytest.mark.task1_1
def test_the_walk_adds_up_the_gradients_of_every_path():
    """y = sum(log x + x / 2 - x): x reaches y along three paths, dy/dx = 1/x + 1/2 - 1."""
    x = f64([0.5, 2.0, 4.0])
    (g,) = mn.grad((x.log() + x / 2.0 - x).sum(), x)
    np.testing.assert_allclose(g.numpy(), 1 / x.numpy() - 0.5)


@pytest.mark.task1_1
def test_the_walk_stops_at_intermediate_inputs_and_records_with_create_graph():
    x = f64([0.5, 2.0])
    h = x.log()
    gh, gx = mn.grad((h - h.exp()).sum(), [h, x])  # d/dh = 1 - e^h = 1 - x; d/dx = that / x
    np.testing.assert_allclose(gh.numpy(), 1 - x.numpy())
    np.testing.assert_allclose(gx.numpy(), (1 - x.numpy()) / x.numpy())
    (g,) = mn.grad(x.log().sum(), x, create_graph=True)  # 1/x, itself differentiable
    (h2,) = mn.grad(g.sum(), x)
    np.testing.assert_allclose(h2.numpy(), -1 / x.numpy() ** 2)


class WrongExp(Function):
    """e^x with a wrong backward, 2 e^x: gradcheck must catch it."""

    def forward(self, a):
        return B.xp.exp(a)

    def backward(self, g, out):
        return (g * out * 2.0,)


@pytest.mark.task1_3
def test_gradcheck_passes_a_right_backward_and_catches_a_wrong_one():
    x = f64([0.5, -1.0, 2.0])
    assert mn.gradcheck(lambda x: x.exp(), [x])
    with pytest.raises(mn.GradcheckError, match=r"input 0 \(shape \(3,\)\) at index \(0,\)") as info:
        mn.gradcheck(lambda x: WrongExp()(x), [x])
    numbers = re.search(r"finite differences give (\S+), autograd gives (\S+)", str(info.value))
    expected, got = map(float, numbers.groups())
    assert got == pytest.approx(2 * expected, rel=1e-4)
    np.testing.assert_array_equal(x.numpy(), [0.5, -1.0, 2.0])  # x is left as it was


@pytest.mark.task1_4
def test_sum_to_sums_a_broadcast_gradient_back_to_each_shape():
    host = np.arange(24.0).reshape(2, 3, 4)
    g = f64(host, requires_grad=False)
    for shape, expected in [((3, 1), host.sum(axis=(0, 2))[:, None]),
                            ((4,), host.sum(axis=(0, 1))),
                            ((1, 3, 4), host.sum(axis=0, keepdims=True)),
                            ((), host.sum())]:
        out = sum_to(g, shape)
        assert out.shape == shape
        np.testing.assert_array_equal(out.numpy(), expected)
    a, row = f64(np.ones((2, 3))), f64([1.0, 2.0, 3.0])
    ga, grow = mn.grad((a + row).sum(), [a, row])  # row was used twice, once per row of a
    np.testing.assert_array_equal(grow.numpy(), [2.0, 2.0, 2.0])
    np.testing.assert_array_equal(ga.numpy(), np.ones((2, 3)))


# --- lessons 4 and 7: the inner loop and the prototypes


def tiny_batch(n=4, vocab=12, length=3, seed=0):
    """(ids, mask, labels) of n random texts over a tiny vocabulary, two classes."""
    rng = np.random.default_rng(seed)
    ids = rng.integers(2, vocab, size=(n, length))
    mask = np.ones((n, length), dtype=np.float32)
    mask[::2, -1] = 0
    return ids * mask.astype(np.int64), mask, np.arange(n) % 2


@pytest.mark.task4_2
def test_adapt_takes_sgd_steps_with_the_fast_weights_and_leaves_theta_alone(float64):
    model = TextClassifier(12, 2, dim=3, hidden=4, seed=0)
    ids, mask, labels = tiny_batch()
    theta = dict(model.named_parameters())
    before = {n: p.numpy().copy() for n, p in theta.items()}
    fast = adapt(model, theta, ids, mask, labels, steps=2, lr=0.5)

    phi = dict(before)  # by hand: phi <- phi - 0.5 * grad L(phi), twice
    for _ in range(2):
        params = {n: mn.tensor(v, requires_grad=True) for n, v in phi.items()}
        loss = cross_entropy(model(ids, mask, params=params), labels)
        grads = mn.grad(loss, list(params.values()))
        phi = {n: v - 0.5 * g.numpy() for (n, v), g in zip(phi.items(), grads)}
    assert set(fast) == set(theta)
    for n in theta:
        np.testing.assert_allclose(fast[n].numpy(), phi[n], rtol=1e-10, atol=1e-12)
        np.testing.assert_array_equal(theta[n].numpy(), before[n])


@pytest.mark.task4_2
def test_adapt_with_create_graph_keeps_the_second_order_term(float64):
    model = TextClassifier(12, 2, dim=3, hidden=4, seed=1)
    ids, mask, labels = tiny_batch(seed=1)
    theta = dict(model.named_parameters())

    def meta_gradient(create_graph):
        fast = adapt(model, theta, ids, mask, labels, steps=1, lr=0.7, create_graph=create_graph)
        query = cross_entropy(model(ids[::-1], mask[::-1], params=fast), labels)
        return mn.grad(query, list(theta.values()))

    second, first = meta_gradient(True), meta_gradient(False)
    gap = max(np.abs(a.numpy() - b.numpy()).max() for a, b in zip(second, first))
    assert gap > 1e-4  # the Hessian term of the inner step is there only with create_graph


@pytest.mark.task7_1
def test_prototypes_are_the_class_means_and_pass_gradients_back(float64):
    support = mn.tensor([[1.0, 0.0], [3.0, 2.0], [0.0, 4.0], [5.0, 2.0], [2.0, 2.0]],
                        requires_grad=True)
    labels = np.array([1, 0, 1, 2, 1])  # any order, unequal counts
    protos = prototypes(support, labels, ways=3)
    np.testing.assert_allclose(protos.numpy(), [[3.0, 2.0], [1.0, 2.0], [5.0, 2.0]])
    (g,) = mn.grad(protos.sum(), support)
    np.testing.assert_allclose(g.numpy()[:, 0], [1 / 3, 1.0, 1 / 3, 1.0, 1 / 3])


@pytest.mark.task7_2
def test_prototype_logits_are_negative_squared_distances_or_scaled_cosines(float64):
    query = mn.tensor([[0.0, 1.0], [2.0, 2.0]])
    protos = mn.tensor([[0.0, 3.0], [1.0, 0.0], [4.0, 4.0]])
    np.testing.assert_allclose(prototype_logits(query, protos).numpy(),
                               [[-4.0, -2.0, -25.0], [-5.0, -5.0, -8.0]])
    cosine = prototype_logits(query, protos, distance="cosine", scale=2.0).numpy()
    np.testing.assert_allclose(cosine, 2.0 * np.array([[1.0, 0.0, 0.5 ** 0.5],
                                                       [0.5 ** 0.5, 0.5 ** 0.5, 1.0]]))


### BEGIN HIDDEN TESTS
# --- the teacher's side: regions, markers and releases of this repository. Hidden from the
# student copy, which has no regions left to check.

import configparser
import os
import shutil
import subprocess
import sys
from pathlib import Path

from metanumpy.assignments import grade, list_tasks, load_mutants, release, run_pytest
from metanumpy.assignments.mutants import mutated_source

REPO = Path(__file__).resolve().parents[1]
TASKS = ["task1_1", "task1_2", "task1_3", "task1_4", "task1_5", "task1_6", "task1_7", "task1_8",
         "task2_1", "task2_2", "task3_1", "task3_2", "task3_3", "task4_1", "task4_2", "task4_3",
         "task4_4", "task5_1", "task6_1", "task7_1", "task7_2"]
TASK_MARK = re.compile(r"@pytest\.mark\.(task\d+_\d+)\b|task=\"(task\d+_\d+)\"")


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """A plain copy of the working tree without .git: `release` then takes every file, also
    those not committed yet (with .git it takes what git tracks)."""
    copy = tmp_path_factory.mktemp("reference")
    shutil.copytree(REPO, copy, dirs_exist_ok=True, ignore=shutil.ignore_patterns(
        ".git", "__pycache__", "*.egg-info", ".pytest_cache", "out", "runs"))
    return copy


def test_regions_markers_and_marked_tests_match_one_to_one(reference):
    regions = list_tasks(reference)
    assert list(dict.fromkeys(task.id for task in regions)) == TASKS
    assert all(task.hint for task in regions)  # every raise tells the student what to write
    config = configparser.ConfigParser(interpolation=None)
    config.read(REPO / "setup.cfg", encoding="utf-8")
    markers = [line.split(":", 1)[0].strip()
               for line in config.get("tool:pytest", "markers").splitlines()]
    assert [name for name in markers if name.startswith("task")] == TASKS
    used = set()
    for path in (REPO / "tests").glob("test_*.py"):
        if path.name != "test_assignments.py":  # its markers belong to toy repositories
            used |= {a or b for a, b in TASK_MARK.findall(path.read_text(encoding="utf-8"))}
    assert sorted(used) == sorted(TASKS)


def test_the_full_release_compiles_and_imports(reference, tmp_path):
    student = tmp_path / "student"
    assert list(dict.fromkeys(task.id for task in release(reference, student))) == TASKS
    assert "### BEGIN" not in (student / "metanumpy" / "autograd" / "ops.py").read_text()
    for path in student.rglob("*.py"):
        compile(path.read_text(encoding="utf-8"), str(path), "exec")
    program = ("import importlib, pkgutil, metanumpy\n"
               "for module in pkgutil.walk_packages(metanumpy.__path__, 'metanumpy.'):\n"
               "    if not module.name.endswith('__main__'):\n"
               "        importlib.import_module(module.name)\n"
               "print(metanumpy.__file__)\n")
    done = subprocess.run([sys.executable, "-c", program], cwd=student, capture_output=True,
                          text=True, timeout=60, env={**os.environ, "PYTHONPATH": str(student)})
    assert done.returncode == 0, done.stderr
    assert Path(done.stdout.strip()).parent == student / "metanumpy"
    assert not (student / "tests" / "mutants.py").exists()  # the mutants stay with the teacher
    assert not any(path.read_text(encoding="utf-8").startswith("### TEACHER ONLY")
                   for path in student.rglob("*.py"))


def test_every_mutant_still_applies_to_its_region(reference):
    mutants = load_mutants(reference)
    assert len(mutants) >= 2 * 17
    for mutant in mutants:
        assert mutated_source(reference, mutant) != (reference / mutant.file).read_text()


def run_in(folder, *command, python_path):
    environment = {**os.environ, "PYTHONPATH": str(python_path)}
    return subprocess.run([sys.executable, *map(str, command)], cwd=folder, capture_output=True,
                          text=True, timeout=120, env=environment)


def test_a_released_copy_runs_its_own_code_or_says_what_to_do(reference, tmp_path):
    student, installed = tmp_path / "student", tmp_path / "installed"
    release(reference, student)
    release(reference, installed, only=[])  # stands for a reference installed elsewhere
    lesson = run_in(student, "lessons/01_autograd.py", "--fast", python_path=installed)
    assert lesson.returncode == 1
    assert f"imported metanumpy from {installed / 'metanumpy'}" in lesson.stderr
    assert "run `pip install -e .`" in lesson.stderr
    tests = run_in(tmp_path, "-m", "pytest", student / "tests" / "test_text.py", "-q",
                   "-p", "no:cacheprovider", python_path=installed)
    assert tests.returncode == 4 and "run `pip install -e .`" in tests.stdout + tests.stderr
    lesson = run_in(student, "lessons/01_autograd.py", "--fast", python_path=student)
    assert lesson.returncode == 1 and "Traceback" not in lesson.stderr
    assert lesson.stderr.strip().splitlines()[-1].startswith(
        "error: this lesson needs Task 1.1, which is not written yet "
        "(metanumpy/autograd/grad.py:")


def test_the_classic_maml_bug_scores_zero_and_is_named(reference, tmp_path):
    student = tmp_path / "student"
    release(reference, student, only=["task4_3"])
    maml = student / "metanumpy" / "meta" / "maml.py"
    text = maml.read_text()
    answer = ("fast = self.fast_weights(episode, self.inner_steps, "
              "create_graph=not self.first_order)\n"
              "        logits = self.model(episode.query_ids, episode.query_mask)\n"
              "        return cross_entropy(logits, episode.query_labels), logits")
    stripped = re.search(r'raise NotImplementedError\("Task 4\.3[^\n]*', text).group(0)
    maml.write_text(text.replace(stripped, answer))
    grades = grade(student, only=["task4_3", "task4_4"], out_dir=tmp_path / "grades")
    maml_row, first_order_row = grades.tasks
    assert (maml_row.score, maml_row.status) == (0.0, "failed")
    assert "the query loss must use the adapted weights: call the model with params=fast" in (
        maml_row.detail)
    assert (first_order_row.status, first_order_row.passed) == ("passed", 2)  # needs no 4.3


# (task, the test files with its tests): one engine, one tasks, one meta-learning task
STRIPPED = [("task1_2", "tests/test_autograd.py"), ("task3_1", "tests/test_episodes.py"),
            ("task4_3", "tests/test_meta.py")]


@pytest.mark.parametrize("task, files", STRIPPED)
def test_a_copy_without_one_task_fails_its_tests_with_its_message(reference, tmp_path, task,
                                                                 files):
    release(reference, tmp_path / "copy", only=[task])
    run = run_pytest(tmp_path / "copy", ["-m", task, *files.split()], timeout=60)
    title = "Task {}.{}".format(*task[4:].split("_"))
    assert run.cases, run.output
    for case in run.cases:
        assert case.outcome == "failed" and f"NotImplementedError: {title}:" in case.message, case
    if task == "task1_2":  # tests that never multiply tensors with gradients still pass
        independent = run_pytest(tmp_path / "copy", ["tests/test_text.py"], timeout=60)
        assert independent.cases and {case.outcome for case in independent.cases} == {"passed"}
### END HIDDEN TESTS
