"""Grade a student copy: run each task's tests in a subprocess and score passed / total.

    grade("/tmp/student", points={"task1_1": 2, "task1_2": 3}, timeout=60)

For every task id (a pytest marker `taskA_B`) this runs, in the student's folder and in a
subprocess with a time limit, what `python -m pytest -m taskA_B -q -p no:cacheprovider
--junitxml=REPORT` runs, and reads the JUnit report: score = points[task] * passed / total.
A crash or a hang in one task (killed at the limit, 0 passed) does not stop the others.

Import isolation. On the teacher's machine the reference package is installed in editable
mode (`pip install -e .`): setuptools puts a finder on `sys.meta_path` that maps the package
name to the reference checkout. The subprocess gets the student folder first on PYTHONPATH, so
`import metanumpy` finds the student's copy before that finder is asked; and before pytest
starts, the editable finders for packages the student folder has are removed, so that a module
missing from the student copy fails to import instead of silently coming from the reference.
Third-party pytest plugins are not auto-loaded (PYTEST_DISABLE_PLUGIN_AUTOLOAD), so plugins
installed on the grading machine (pytest-randomly, ...) cannot change a student's result; a
conftest.py that needs one names it in `pytest_plugins`.
"""

import configparser
import csv
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ElementTree
from dataclasses import asdict, dataclass
from pathlib import Path

from .regions import TASK_ID, task_order

_TEST_MARK = re.compile(r"pytest\.mark\.(task\d+_\d+)\b")

# `python -c` program equivalent to `python -m pytest ARGS`, after dropping the editable-install
# finders (modules named __editable__*) that map a package the student folder also has. Each
# test's task markers go into the JUnit report as properties `<property name="task" ...>`.
_PYTEST_IN_STUDENT_COPY = """
import os, re, sys
def _maps_student_package(finder):
    module = getattr(finder, "__module__", None) or ""
    mapping = getattr(sys.modules.get(module), "MAPPING", {})
    return module.startswith("__editable__") and any(
        os.path.exists(name) or os.path.exists(name + ".py") for name in mapping)
sys.meta_path[:] = [f for f in sys.meta_path if not _maps_student_package(f)]
class TaskProperties:
    def pytest_collection_modifyitems(self, items):
        for item in items:
            item.user_properties += [("task", mark.name) for mark in item.iter_markers()
                                     if re.fullmatch(r"task\\d+_\\d+", mark.name)]
import pytest
sys.exit(pytest.main(sys.argv[1:], plugins=[TaskProperties()]))
"""


@dataclass(frozen=True)
class CaseResult:
    """One test from a JUnit report: "passed", "failed", "error" or "skipped", why, and the
    task markers the test carries."""

    name: str
    outcome: str
    message: str = ""
    tasks: tuple = ()


@dataclass(frozen=True)
class PytestRun:
    """A pytest subprocess: its test cases (None if it wrote no report), and how it ended."""

    cases: list
    timed_out: bool
    returncode: int
    output: str


@dataclass(frozen=True)
class TaskGrade:
    """One row of the grade table; `total` is None when the task timed out."""

    task: str
    passed: int
    total: int
    points: float
    score: float
    status: str        # ok, failed (a test failed), timeout, error (tests could not run)
    detail: str = ""


@dataclass(frozen=True)
class Grades:
    """The grades of one student copy, task by task."""

    tasks: list

    @property
    def score(self):
        return sum(row.score for row in self.tasks)

    @property
    def max_score(self):
        return sum(row.points for row in self.tasks)

    def table(self):
        """The table printed by `python -m metanumpy assignments grade`."""
        lines = [f"{'task':<10} {'passed':>7} {'points':>13}  status"]
        for row in self.tasks:
            passed = f"{row.passed}/{row.total}" if row.total is not None else "-"
            points = f"{row.score:.2f}/{row.points:.2f}"
            note = f" ({row.detail})" if row.detail else ""
            lines.append(f"{row.task:<10} {passed:>7} {points:>13}  {row.status}{note}")
        total = f"{self.score:.2f}/{self.max_score:.2f}"
        lines.append(f"{'total':<10} {'':>7} {total:>13}")
        return "\n".join(lines)

    def to_dict(self):
        return {"score": self.score, "max_score": self.max_score,
                "tasks": [asdict(row) for row in self.tasks]}


def grade(student_dir, points=None, timeout=60, out_dir=None):
    """Grade every task of `student_dir`; write grades.csv and grades.json into `out_dir`.

    `points` maps task id -> points (a dict, or the path of a .json or .toml file); by default
    each task found is worth 1 point. `timeout` is the limit in seconds for each task's tests.
    `out_dir` defaults to the student folder.
    """
    student = Path(student_dir).resolve()
    if not student.is_dir():
        raise ValueError(f"{student} is not a folder: give the student copy to grade")
    found = discover_tasks(student)
    points = _points_per_task(found, points)
    if not points:
        raise ValueError(f"no tasks found in {student}: register markers `taskA_B: text` under "
                         "[tool:pytest] markers in setup.cfg, or mark tests with "
                         "@pytest.mark.taskA_B in tests/")
    rows = [_grade_task(student, task, points[task], timeout)
            for task in sorted(points, key=task_order)]
    grades = Grades(rows)
    write_reports(grades, out_dir if out_dir is not None else student)
    return grades


def discover_tasks(student_dir):
    """Task ids registered in setup.cfg ([tool:pytest] markers) or used in tests/, in order."""
    student = Path(student_dir)
    found = set()
    config = configparser.ConfigParser(interpolation=None)
    config.read(student / "setup.cfg", encoding="utf-8")
    for line in config.get("tool:pytest", "markers", fallback="").splitlines():
        name = line.split(":", 1)[0].strip()
        if TASK_ID.fullmatch(name):
            found.add(name)
    for test_file in sorted((student / "tests").rglob("*.py")):
        found.update(_TEST_MARK.findall(test_file.read_text(encoding="utf-8", errors="replace")))
    return sorted(found, key=task_order)


def load_points(path):
    """{task id: points} from a .json or .toml file."""
    path = Path(path)
    if path.suffix == ".json":
        data = json.loads(path.read_text(encoding="utf-8"))
    elif path.suffix == ".toml":
        try:
            import tomllib
        except ImportError:
            raise ValueError(f"{path}: reading .toml needs Python 3.11 or newer (tomllib); "
                             "write the points as a .json file instead") from None
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    else:
        raise ValueError(f"{path}: the points file must end in .json or .toml")
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping task id -> points, got {type(data).__name__}")
    return data


def _points_per_task(found, points):
    if points is None:
        return {task: 1.0 for task in found}
    if isinstance(points, (str, os.PathLike)):
        points = load_points(points)
    for task, value in points.items():
        if not TASK_ID.fullmatch(str(task)):
            raise ValueError(f"points: {task!r} is not a task id (write it as taskA_B)")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise ValueError(f"points: {task} is worth {value!r}; give a number >= 0")
    missing = [task for task in found if task not in points]
    if missing:
        raise ValueError(f"points: no points given for {', '.join(missing)} (found in the "
                         "student copy); give every task a value, 0 to leave it ungraded")
    return {task: float(value) for task, value in points.items()}


def _grade_task(student, task, points, timeout):
    run = run_pytest(student, ["-m", task], timeout)
    if run.timed_out:
        return TaskGrade(task, 0, None, points, 0.0, "timeout", f"killed after {timeout:g} s")
    if run.cases is None:
        last_line = (run.output.strip().splitlines() or ["no output"])[-1]
        return TaskGrade(task, 0, 0, points, 0.0, "error",
                         f"pytest exited with code {run.returncode}: {last_line}")
    counted = [case for case in run.cases if case.outcome != "skipped"]
    passed = sum(case.outcome == "passed" for case in counted)
    if not counted:
        return TaskGrade(task, 0, 0, points, 0.0, "error", f"no test marked {task} ran")
    broken = [case for case in counted if case.outcome != "passed"]
    errors = [case for case in broken if case.outcome == "error"]
    status = "error" if errors else "failed" if broken else "ok"
    detail = (errors or broken)[0].message.strip().split("\n")[0][:80] if broken else ""
    score = points * passed / len(counted)
    return TaskGrade(task, passed, len(counted), points, score, status, detail)


def run_pytest(student_dir, args, timeout):
    """Run pytest with `args` in `student_dir`, importing the student's packages; see above."""
    student = Path(student_dir).resolve()
    python_path = os.pathsep.join(filter(None, [str(student), os.environ.get("PYTHONPATH")]))
    environment = dict(os.environ, PYTHONPATH=python_path, PYTHONDONTWRITEBYTECODE="1",
                       PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "report.xml"
        command = [sys.executable, "-c", _PYTEST_IN_STUDENT_COPY, *args, "-q",
                   "-p", "no:cacheprovider", f"--junitxml={report}"]
        process = subprocess.Popen(command, cwd=student, env=environment, text=True,
                                   errors="replace", stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, start_new_session=os.name == "posix")
        try:
            output, _ = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill(process)
            output, _ = process.communicate()
            return PytestRun(None, True, process.returncode, output)
        cases = _read_junit(report) if report.exists() else None
        return PytestRun(cases, False, process.returncode, output)


def _kill(process):
    """Kill the test process and anything it started (its own process group on POSIX)."""
    try:
        if os.name == "posix":
            os.killpg(process.pid, signal.SIGKILL)
        else:
            process.kill()
    except ProcessLookupError:
        pass


def _read_junit(report):
    try:
        root = ElementTree.parse(report).getroot()
    except ElementTree.ParseError:
        return None
    outcomes = {"failure": "failed", "error": "error", "skipped": "skipped"}
    cases = []
    for case in root.iter("testcase"):
        verdict = next((child for child in case if child.tag in outcomes), None)
        name = f"{case.get('classname', '')}::{case.get('name', '')}"
        tasks = tuple(prop.get("value") for prop in case.iter("property")
                      if prop.get("name") == "task")
        if verdict is None:
            cases.append(CaseResult(name, "passed", "", tasks))
        else:
            cases.append(CaseResult(name, outcomes[verdict.tag], verdict.get("message", ""),
                                    tasks))
    return cases


def write_reports(grades, out_dir):
    """grades.csv (one row per task) and grades.json (rows, score, max_score) in `out_dir`."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    fields = ["task", "passed", "total", "points", "score", "status", "detail"]
    with open(out / "grades.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(asdict(row) for row in grades.tasks)
    (out / "grades.json").write_text(json.dumps(grades.to_dict(), indent=2) + "\n",
                                     encoding="utf-8")
