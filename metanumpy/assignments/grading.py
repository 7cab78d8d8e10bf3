"""Grade a student copy: run each task's tests in a subprocess and score passed / total.

    grade("/tmp/student", points={"task1_1": 2, "task1_2": 3}, timeout=60)
    grade("/tmp/student", reference="/work/main")   # with the reference tests, hidden ones too

The student's folder is copied into a temporary folder first (with `reference`, the reference's
`tests/` and `setup.cfg` replace the student's there), so grading leaves nothing behind in it
but grades.csv and grades.json. For every task id (a pytest marker `taskA_B`) this runs
`python -m pytest -m taskA_B` in that copy (see `pytest_run.py`: the copy's own packages, a
scrubbed environment, a time limit) and scores points[task] * passed / total. Each task gets
one status:

* passed: every test passed;
* failed: a test failed; `detail` holds the first failure message;
* not attempted: no test passed, and every failure is the task's own NotImplementedError;
* timed out: killed at the time limit, 0 points;
* broken: a test file with this task's tests could not be imported (a syntax error, say), or
  pytest could not run at all; `detail` names the student's file, line and error. Tasks whose
  test files import fine keep their points.

A crash or a hang in one task does not stop the others.
"""

import configparser
import csv
import json
import os
import re
import shutil
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from .pytest_run import run_pytest
from .regions import TASK_ID, task_order, unimplemented_message

_TEST_MARK = re.compile(r"pytest\.mark\.(task\d+_\d+)\b|task=[\"'](task\d+_\d+)[\"']")
PASSED, FAILED, NOT_ATTEMPTED, TIMED_OUT, BROKEN = (
    "passed", "failed", "not attempted", "timed out", "broken")
NOT_COPIED = (".git", "__pycache__", ".pytest_cache", "*.egg-info", "grades.csv", "grades.json")
"""Names left out of the temporary copy that is graded."""


@dataclass(frozen=True)
class TaskGrade:
    """One row of the grade table; `total` is None when the task timed out."""

    task: str
    passed: int
    total: int
    points: float
    score: float
    status: str        # passed, failed, not attempted, timed out, broken (see above)
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
            note = f" ({row.detail[:120]})" if row.detail else ""
            lines.append(f"{row.task:<10} {passed:>7} {points:>13}  {row.status}{note}")
        total = f"{self.score:.2f}/{self.max_score:.2f}"
        lines.append(f"{'total':<10} {'':>7} {total:>13}")
        return "\n".join(lines)

    def to_dict(self):
        return {"score": self.score, "max_score": self.max_score,
                "tasks": [asdict(row) for row in self.tasks]}


def grade(student_dir, points=None, timeout=60, out_dir=None, reference=None, only=None):
    """Grade every task of `student_dir`; write grades.csv and grades.json into `out_dir`.

    `points` maps task id -> points (a dict, or the path of a .json or .toml file); by default
    each task found is worth 1 point. `timeout` is the limit in seconds for each task's tests.
    `out_dir` defaults to the student folder. `reference`: a reference repository whose
    tests/ and setup.cfg are graded instead of the student's. `only`: grade just these tasks.
    """
    student = Path(student_dir).resolve()
    if not student.is_dir():
        raise ValueError(f"{student} is not a folder: give the student copy to grade")
    if reference is not None and not (Path(reference) / "tests").is_dir():
        raise ValueError(f"{Path(reference).resolve()} has no tests/ folder: give the reference "
                         "repository with --reference")
    points = _points_per_task(discover_tasks(reference or student), points)
    if not points:
        raise ValueError(f"no tasks found in {reference or student}: register markers "
                         "`taskA_B: text` under [tool:pytest] markers in setup.cfg, or mark "
                         "tests with @pytest.mark.taskA_B in tests/")
    if only is not None:
        unknown = sorted(set(only) - set(points), key=task_order)
        if unknown:
            raise ValueError(f"no tests are marked {', '.join(unknown)}; the tasks found are "
                             f"{', '.join(sorted(points, key=task_order))}")
        points = {task: points[task] for task in only}
    with tempfile.TemporaryDirectory(prefix="metanumpy-grade-") as scratch:
        work = Path(scratch) / student.name
        shutil.copytree(student, work, symlinks=True,
                        ignore=shutil.ignore_patterns(*NOT_COPIED))
        if reference is not None:
            _use_reference_tests(Path(reference), work)
        files = _test_files_per_task(work)
        rows = [_grade_task(work, task, points[task], timeout, files.get(task, set()))
                for task in sorted(points, key=task_order)]
    grades = Grades(rows)
    write_reports(grades, out_dir if out_dir is not None else student)
    return grades


def _use_reference_tests(reference, work):
    """Replace the copy's tests/ and setup.cfg by the reference's (hidden tests included)."""
    shutil.rmtree(work / "tests", ignore_errors=True)
    shutil.copytree(reference / "tests", work / "tests",
                    ignore=shutil.ignore_patterns(*NOT_COPIED))
    if (reference / "setup.cfg").is_file():
        shutil.copyfile(reference / "setup.cfg", work / "setup.cfg")


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
    found.update(_test_files_per_task(student))
    return sorted(found, key=task_order)


def _test_files_per_task(folder):
    """{task id: {test files ("tests/x.py") that mention its marker}}."""
    files = {}
    for test_file in sorted((Path(folder) / "tests").rglob("*.py")):
        text = test_file.read_text(encoding="utf-8", errors="replace")
        for pair in _TEST_MARK.findall(text):
            files.setdefault(pair[0] or pair[1], set()).add(
                test_file.relative_to(folder).as_posix())
    return files


def load_points(path):
    """{task id: points} from a .json or .toml file."""
    path = Path(path)
    if path.suffix not in (".json", ".toml"):
        raise ValueError(f"{path}: the points file must end in .json or .toml")
    if not path.is_file():
        raise ValueError(f"{path}: no such points file")
    try:
        if path.suffix == ".json":
            data = json.loads(path.read_text(encoding="utf-8"))
        else:
            import tomllib
            data = tomllib.loads(path.read_text(encoding="utf-8"))
    except ImportError:
        raise ValueError(f"{path}: reading .toml needs Python 3.11 or newer (tomllib); "
                         "write the points as a .json file instead") from None
    except ValueError as error:  # JSONDecodeError and TOMLDecodeError are ValueErrors
        raise ValueError(f"{path}: not a valid {path.suffix[1:].upper()} file: {error}") from None
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
    unknown = sorted((task for task in points if task not in found), key=task_order)
    if unknown:
        raise ValueError(f"points: no tests are marked {', '.join(unknown)}; the tasks found "
                         f"are {', '.join(found) or 'none'}")
    missing = [task for task in found if task not in points]
    if missing:
        raise ValueError(f"points: no points given for {', '.join(missing)} (found in the "
                         "student copy); give every task a value, 0 to leave it ungraded")
    return {task: float(value) for task, value in points.items()}


def _grade_task(work, task, points, timeout, test_files):
    run = run_pytest(work, ["-m", task], timeout)
    if run.timed_out:
        return TaskGrade(task, 0, None, points, 0.0, TIMED_OUT, f"killed after {timeout:g} s")
    if run.cases is None or run.wrong_package:
        return TaskGrade(task, 0, 0, points, 0.0, BROKEN,
                         f"pytest exited with code {run.returncode}: {run.last_line}")
    broken = [breakage for breakage in run.broken if breakage.test_file in test_files]
    if broken:
        return TaskGrade(task, 0, 0, points, 0.0, BROKEN, str(broken[0]))
    counted = [case for case in run.cases if case.outcome != "skipped" and task in case.tasks]
    if not counted:
        return TaskGrade(task, 0, 0, points, 0.0, BROKEN, f"no test marked {task} ran")
    passed = sum(case.outcome == "passed" for case in counted)
    failures = [case for case in counted if case.outcome != "passed"]
    unimplemented = re.compile(unimplemented_message(task))
    if not passed and all(unimplemented.search(case.message) for case in failures):
        status = NOT_ATTEMPTED
    else:
        status = FAILED if failures else PASSED
    detail = _describe(failures[0].message, work) if failures else ""
    return TaskGrade(task, passed, len(counted), points, points * passed / len(counted), status,
                     detail)


def _describe(message, work):
    """The first failure message, on one line; a SyntaxError in the student's code (a test
    that imports a broken module inside it) as `file:line: SyntaxError: ...`."""
    syntax = re.match(r'\s*File "([^"]+)", line (\d+)', message)
    if not syntax:
        return one_line(message)
    path = Path(syntax.group(1))
    where = path.relative_to(work).as_posix() if work in path.parents else path.as_posix()
    return f"{where}:{syntax.group(2)}: {one_line(message.strip().splitlines()[-1])}"


def one_line(message, limit=300):
    """A failure message on one line: "AssertionError: \nNot equal" -> "AssertionError: Not
    equal" (numpy's assertions put their text on the second line)."""
    lines = [line.strip() for line in message.strip().splitlines() if line.strip()]
    text = " ".join(lines[:2]) if lines and lines[0].endswith(":") else (lines or [""])[0]
    return text[:limit] or "no message"


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
