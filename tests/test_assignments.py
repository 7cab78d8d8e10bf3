"""Release and grading on small synthetic repositories built in tmp_path."""

import json
import os
import re
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from metanumpy.assignments import (check, check_mutants, grade, list_tasks, load_points, main,
                                   release, run_pytest)
from metanumpy.assignments.guard import (WrongPackage, require_own_package,
                                         unfinished_task_message)

REPO = Path(__file__).resolve().parents[1]

CORE = '''\
"""Two small functions for the assignment tests."""


def double(x):
    """Return 2 * x."""
    ### BEGIN SOLUTION task1_1: multiply by two
    return 2 * x
    ### END SOLUTION


class Squarer:
    def square(self, x):
        ### BEGIN SOLUTION task1_2
        result = x * x
        return result
        ### END SOLUTION


def add(a, b):
    return a + b
'''

STUDENT_CORE = '''\
"""Two small functions for the assignment tests."""


def double(x):
    """Return 2 * x."""
    raise NotImplementedError("Task 1.1: multiply by two")


class Squarer:
    def square(self, x):
        raise NotImplementedError("Task 1.2")


def add(a, b):
    return a + b
'''

TESTS = '''\
import importlib.util
import os

import pytest

import {package}
from {package}.core import Squarer, add, double


@pytest.mark.task1_1
def test_double():
    assert double(3) == 6


@pytest.mark.task1_1
def test_imports_the_copy_under_test():
    assert os.path.samefile(os.path.dirname(os.path.dirname({package}.__file__)), os.getcwd())
    assert importlib.util.find_spec("{package}.backend") is None


@pytest.mark.task1_2
def test_square():
    assert Squarer().square(4) == 16


def test_add():
    assert add(2, 3) == 5


### BEGIN HIDDEN TESTS
@pytest.mark.task1_1
def test_double_hidden():
    assert double(-1) == -2
### END HIDDEN TESTS
'''

SETUP_CFG = """\
[tool:pytest]
testpaths = tests
markers =
    task1_1: double
    task1_2: square
"""


def make_repo(root, package="toypkg"):
    """A tiny repository: package with two tasks, marked tests, an executable script."""
    root = Path(root)
    (root / package).mkdir(parents=True)
    (root / "tests").mkdir()
    (root / package / "__init__.py").write_text("")
    (root / package / "core.py").write_text(CORE)
    (root / "tests" / "test_core.py").write_text(TESTS.format(package=package))
    (root / "setup.cfg").write_text(SETUP_CFG)
    (root / "run.sh").write_text("#!/bin/sh\npython -m pytest\n")
    (root / "run.sh").chmod(0o755)
    return root


def tree(root):
    """{relative path: (bytes, mode)} of every file under root."""
    files = sorted(path for path in Path(root).rglob("*") if path.is_file())
    return {path.relative_to(root).as_posix(): (path.read_bytes(), mode(path)) for path in files}


def mode(path):
    return stat.S_IMODE(path.stat().st_mode)


def test_release_replaces_regions_strips_hidden_tests_and_is_deterministic(tmp_path):
    src = make_repo(tmp_path / "src")
    tasks = release(src, tmp_path / "a")
    release(src, tmp_path / "b")
    student = tmp_path / "a"
    assert (student / "toypkg" / "core.py").read_text() == STUDENT_CORE
    student_tests = (student / "tests" / "test_core.py").read_text()
    assert "test_double_hidden" not in student_tests and "HIDDEN" not in student_tests
    assert "def test_add():" in student_tests
    assert [(t.id, t.file, t.line, t.hint) for t in tasks] == [
        ("task1_1", "toypkg/core.py", 6, "multiply by two"), ("task1_2", "toypkg/core.py", 13, "")]
    assignment = (student / "ASSIGNMENT.md").read_text()
    assert "| task1_1 | `toypkg/core.py:6` | multiply by two |" in assignment
    assert "| task1_2 | `toypkg/core.py:11` | - |" in assignment
    assert tree(tmp_path / "a") == tree(tmp_path / "b")
    assert mode(student / "run.sh") == 0o755


def test_release_copies_only_what_git_tracks(tmp_path):
    src = make_repo(tmp_path / "src")
    (src / "notes.txt").write_text("untracked")
    (src / "toypkg" / "__pycache__").mkdir()
    (src / "toypkg" / "__pycache__" / "core.pyc").write_bytes(b"\0")
    subprocess.run(["git", "init", "-q"], cwd=src, check=True)
    subprocess.run(["git", "add", "toypkg/__init__.py", "toypkg/core.py", "tests", "setup.cfg"],
                   cwd=src, check=True)
    release(src, tmp_path / "out")
    assert sorted(tree(tmp_path / "out")) == [
        "ASSIGNMENT.md", "setup.cfg", "tests/test_core.py", "toypkg/__init__.py",
        "toypkg/core.py"]


def test_release_without_git_skips_caches(tmp_path):
    src = make_repo(tmp_path / "src")
    for junk in ["toypkg/__pycache__/core.pyc", "toypkg.egg-info/PKG-INFO", "lessons/out/fig.png",
                 ".pytest_cache/README.md"]:
        (src / junk).parent.mkdir(parents=True, exist_ok=True)
        (src / junk).write_text("x")
    (src / "lessons" / "01_intro.py").write_text("print('hi')\n")
    release(src, src / "build" / "student")  # a copy inside the source is not copied into itself
    assert sorted(tree(src / "build" / "student")) == [
        "ASSIGNMENT.md", "lessons/01_intro.py", "run.sh", "setup.cfg", "tests/test_core.py",
        "toypkg/__init__.py", "toypkg/core.py"]


def test_release_refuses_a_non_empty_folder_unless_forced(tmp_path):
    src = make_repo(tmp_path / "src")
    out = tmp_path / "out"
    release(src, out)
    (out / "stale.txt").write_text("from an older release")
    with pytest.raises(FileExistsError, match="--force"):
        release(src, out)
    release(src, out, force=True)
    assert not (out / "stale.txt").exists()
    other = tmp_path / "other"
    other.mkdir()
    (other / "thesis.tex").write_text("precious")
    with pytest.raises(FileExistsError, match="ASSIGNMENT.md"):
        release(src, other, force=True)
    assert (other / "thesis.tex").read_text() == "precious"


def test_release_only_some_tasks_keeps_the_reference_code_of_the_others(tmp_path, capsys):
    src = make_repo(tmp_path / "src")
    assert [task.id for task in release(src, tmp_path / "one", only=["task1_2"])] == ["task1_2"]
    core = (tmp_path / "one" / "toypkg" / "core.py").read_text()
    assert "return 2 * x" in core and 'raise NotImplementedError("Task 1.2")' in core
    assert "### " not in core
    assert release(src, tmp_path / "none", only=[]) == []
    solution = "".join(line for line in CORE.splitlines(keepends=True) if "###" not in line)
    assert (tmp_path / "none" / "toypkg" / "core.py").read_text() == solution
    with pytest.raises(ValueError, match="no solution region for task3_1; the tasks marked in "
                                         "the source are task1_1, task1_2"):
        release(src, tmp_path / "bad", only=["task3_1"])
    assert not (tmp_path / "bad").exists()
    assert main(["release", str(tmp_path / "cli"), "--src", str(src), "--only", "task1_1,"]) == 0
    assert "1 solution regions" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["release", str(tmp_path / "cli2"), "--src", str(src), "--only", "task1"])
    assert "'task1' is not a task id" in capsys.readouterr().err


def test_check_flags_a_test_that_passes_without_its_task_and_lists_dependents(tmp_path, capsys):
    src = make_repo(tmp_path / "src")
    (src / "tests" / "test_more.py").write_text(
        "import pytest\nfrom toypkg.core import Squarer, double\n\n\n@pytest.mark.task1_2\n"
        "def test_square_of_double():\n    assert Squarer().square(double(1)) == 4\n")
    report = check(src, jobs=2, deps=True)
    assert [(r.task, r.tests, r.failing, r.status) for r in report.rows] == [
        ("task1_1", 2, 1, "passes"), ("task1_2", 2, 2, "ok")]
    assert "test_imports_the_copy_under_test" in report.rows[0].detail and not report.ok
    tests = src / "tests" / "test_core.py"
    tests.write_text(tests.read_text().replace(
        "@pytest.mark.task1_1\ndef test_imports", "def test_imports"))
    report = check(src, jobs=2, deps=True)
    assert [(r.task, r.status, r.dependents) for r in report.rows] == [
        ("task1_1", "ok", ("task1_2",)), ("task1_2", "ok", ())]
    assert main(["check", "--src", str(src), "--tasks", "task1_2"]) == 0
    assert "task1_2         2/2  ok\n1 of 1 tasks ok" in capsys.readouterr().out


BAD_SOURCES = {
    "nested": ("def f():\n    ### BEGIN SOLUTION task1_1\n    ### BEGIN SOLUTION task1_2\n"
               "    return 1\n    ### END SOLUTION\n    ### END SOLUTION\n", 3, "nested"),
    "unclosed": ("def f():\n    ### BEGIN SOLUTION task1_1\n    return 1\n", 2, "never closed"),
    "end without begin": ("def f():\n    return 1\n    ### END SOLUTION\n", 3, "without"),
    "bad task id": ("def f():\n    ### BEGIN SOLUTION task2: hint\n    return 1\n"
                    "    ### END SOLUTION\n", 2, "bad task id 'task2'"),
    "wrong end": ("### BEGIN HIDDEN TESTS\ndef test_f():\n    pass\n### END SOLUTION\n", 4,
                  "cannot close"),
    "module level": ("### BEGIN SOLUTION task1_1\nANSWER = 42\n### END SOLUTION\n", 1,
                     "not inside a function"),
    "does not compile": ("def f():\n    if True:\n    ### BEGIN SOLUTION task1_1\n"
                         "        return 1\n    ### END SOLUTION\n", 3, "does not compile"),
    "typo in marker": ("def f():\n    ### BEGIN SOLUTIONS task1_1\n    return 1\n", 2,
                       "unknown marker"),
}


@pytest.mark.parametrize("case", sorted(BAD_SOURCES))
def test_bad_regions_name_file_and_line(tmp_path, case):
    source, line, words = BAD_SOURCES[case]
    src = make_repo(tmp_path / "src")
    (src / "toypkg" / "bad.py").write_text(source)
    with pytest.raises(ValueError, match=f"toypkg/bad.py:{line}: .*{words}"):
        release(src, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_list_tasks_orders_by_task_number_and_cli_lists_them(tmp_path, capsys):
    src = make_repo(tmp_path / "src")
    (src / "toypkg" / "advanced.py").write_text(
        "def f():\n    ### BEGIN SOLUTION task10_1: later chapter\n    return 1\n"
        "    ### END SOLUTION\n\n\ndef g():\n    ### BEGIN SOLUTION task2_1\n    return 2\n"
        "    ### END SOLUTION\n")
    assert [task.id for task in list_tasks(src)] == ["task1_1", "task1_2", "task2_1", "task10_1"]
    assert main(["list", "--src", str(src)]) == 0
    assert "task10_1   toypkg/advanced.py:2" in capsys.readouterr().out
    assert main(["release", str(tmp_path / "out"), "--src", str(src)]) == 0
    assert main(["release", str(tmp_path / "out"), "--src", str(src)]) == 1
    assert "not empty" in capsys.readouterr().err


def test_released_copy_imports_and_each_task_fails_with_its_message(tmp_path):
    release(make_repo(tmp_path / "src"), tmp_path / "student")
    run = run_pytest(tmp_path / "student", [], timeout=30)
    outcomes = {case.name.split("::")[-1]: (case.outcome, case.message) for case in run.cases}
    assert outcomes["test_add"] == ("passed", "")
    assert outcomes["test_imports_the_copy_under_test"] == ("passed", "")
    assert outcomes["test_double"] == ("failed", "NotImplementedError: Task 1.1: multiply by two")
    assert outcomes["test_square"] == ("failed", "NotImplementedError: Task 1.2")
    assert "test_double_hidden" not in outcomes


def test_grading_the_reference_scores_full_marks_and_writes_reports(tmp_path):
    # The toy package is called metanumpy, like the editable install of this repository:
    # full marks prove the grader imported the toy copy (and none of the real submodules).
    src = make_repo(tmp_path / "src", package="metanumpy")
    (tmp_path / "points.json").write_text(json.dumps({"task1_1": 2, "task1_2": 3}))
    grades = grade(src, points=tmp_path / "points.json", out_dir=tmp_path / "grades")
    assert [(r.task, r.passed, r.total, r.score, r.status) for r in grades.tasks] == [
        ("task1_1", 3, 3, 2.0, "passed"), ("task1_2", 1, 1, 3.0, "passed")]
    assert (grades.score, grades.max_score) == (5.0, 5.0)
    saved = json.loads((tmp_path / "grades" / "grades.json").read_text())
    assert saved["score"] == 5.0 and saved["tasks"][1]["status"] == "passed"
    csv_lines = (tmp_path / "grades" / "grades.csv").read_text().splitlines()
    assert csv_lines[0] == "task,passed,total,points,score,status,detail"
    assert csv_lines[1] == "task1_1,3,3,2.0,2.0,passed,"


def test_a_copy_with_one_task_unsolved_loses_exactly_its_points(tmp_path):
    release(make_repo(tmp_path / "src", package="metanumpy"), tmp_path / "student")
    core = tmp_path / "student" / "metanumpy" / "core.py"
    core.write_text(core.read_text().replace(
        'raise NotImplementedError("Task 1.1: multiply by two")', "return x + x"))
    grades = grade(tmp_path / "student", points={"task1_1": 2, "task1_2": 3})
    assert [(r.task, r.passed, r.total, r.score, r.status) for r in grades.tasks] == [
        ("task1_1", 2, 2, 2.0, "passed"), ("task1_2", 0, 1, 0.0, "not attempted")]
    assert grades.tasks[1].detail == "NotImplementedError: Task 1.2"
    assert "task1_2" in grades.table() and "2.00/5.00" in grades.table()
    assert (tmp_path / "student" / "grades.csv").exists()


def test_a_hanging_or_crashing_task_does_not_stop_the_others(tmp_path):
    src = make_repo(tmp_path / "src")
    (src / "tests" / "test_trouble.py").write_text(
        "import os\nimport time\nimport pytest\n\n\n@pytest.mark.task1_1\ndef test_hangs():\n"
        "    time.sleep(60)\n\n\n@pytest.mark.task2_1\ndef test_crashes():\n    os._exit(3)\n")
    start = time.perf_counter()
    grades = grade(src, timeout=2)  # task2_1 is not in setup.cfg: found from its marker
    assert time.perf_counter() - start < 15
    assert [(r.task, r.passed, r.score, r.status) for r in grades.tasks] == [
        ("task1_1", 0, 0.0, "timed out"), ("task1_2", 1, 1.0, "passed"),
        ("task2_1", 0, 0.0, "broken")]
    assert "exited with code 3" in grades.tasks[2].detail


def test_points_files(tmp_path):
    (tmp_path / "p.toml").write_text('task1_1 = 2\ntask1_2 = 0.5\n')
    assert load_points(tmp_path / "p.toml") == {"task1_1": 2, "task1_2": 0.5}
    (tmp_path / "p.yaml").write_text("task1_1: 2\n")
    with pytest.raises(ValueError, match=r"\.json or \.toml"):
        load_points(tmp_path / "p.yaml")
    src = make_repo(tmp_path / "src")
    with pytest.raises(ValueError, match="no points given for task1_2"):
        grade(src, points={"task1_1": 1})
    with pytest.raises(ValueError, match="give a number >= 0"):
        grade(src, points={"task1_1": 1, "task1_2": -1})


def test_help_explains_every_flag_with_its_default(capsys):
    for command, flags in [("release", ["--src", "--force", "--only"]),
                           ("grade", ["--points", "--timeout", "--out", "--only",
                                      "--reference"]),
                           ("check", ["--src", "--tasks", "--deps", "--mutants", "--jobs",
                                      "--timeout"])]:
        with pytest.raises(SystemExit):
            main([command, "--help"])
        text = capsys.readouterr().out
        assert all(flag in text for flag in flags)
        assert text.count("(default:") == len(flags)


# --- exit codes, statuses, the broken-file report, the environment, mutants


def run_cli(*args, cwd=None):
    """`python -m metanumpy assignments ARGS` as a teacher's script runs it."""
    return subprocess.run([sys.executable, "-m", "metanumpy", "assignments", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(REPO)})


def test_every_error_exits_non_zero_with_one_line(tmp_path):
    src = make_repo(tmp_path / "src")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "notes.txt").write_text("x")
    (tmp_path / "bad.json").write_text('{"task1_1": "two"}')
    (tmp_path / "broken.json").write_text('{"task1_1": ')
    (tmp_path / "extra.json").write_text('{"task1_1": 1, "task1_2": 1, "task9_9": 1}')
    cases = [(("grade", tmp_path / "no" / "such"), "is not a folder"),
             (("release", tmp_path / "full", "--src", src), "is not empty"),
             (("release", tmp_path / "out", "--src", src, "--only", "task9_9"),
              "no solution region for task9_9"),
             (("grade", src, "--points", tmp_path / "bad.json"), "give a number >= 0"),
             (("grade", src, "--points", tmp_path / "broken.json"),
              "broken.json: not a valid JSON file: Expecting value: line 1 column 13"),
             (("grade", src, "--points", tmp_path / "missing.json"),
              "missing.json: no such points file"),
             (("check", "--src", src, "--tasks", "task9_9"), "no solution region for task9_9"),
             (("grade", src, "--only", "task9_9"), "no tests are marked task9_9"),
             (("grade", src, "--points", tmp_path / "extra.json"),
              "points: no tests are marked task9_9")]
    for args, words in cases:
        done = run_cli(*args)
        assert done.returncode == 1, (args, done.stdout, done.stderr)
        assert words in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_grades_say_passed_failed_not_attempted_and_name_the_broken_file(tmp_path):
    src = make_repo(tmp_path / "src")
    (src / "toypkg" / "other.py").write_text("def triple(x):\n    return 3 * x\n")
    (src / "tests" / "test_other.py").write_text(
        "import pytest\nfrom toypkg.other import triple\n\n\n@pytest.mark.task2_1\n"
        "def test_triple():\n    assert triple(2) == 6\n")
    student = tmp_path / "student"
    release(src, student)
    core = student / "toypkg" / "core.py"
    core.write_text(core.read_text().replace(
        'raise NotImplementedError("Task 1.1: multiply by two")', "return x + 1"))
    grades = grade(student)
    assert [(r.task, r.passed, r.total, r.status) for r in grades.tasks] == [
        ("task1_1", 1, 2, "failed"), ("task1_2", 0, 1, "not attempted"),
        ("task2_1", 1, 1, "passed")]
    assert grades.tasks[0].detail.startswith("assert 4 == 6")
    core.write_text(core.read_text().replace("return x + 1", "return x +"))  # a syntax error
    grades = grade(student)
    assert [(r.task, r.score, r.status) for r in grades.tasks] == [
        ("task1_1", 0.0, "broken"), ("task1_2", 0.0, "broken"), ("task2_1", 1.0, "passed")]
    detail = grades.tasks[0].detail
    assert detail.startswith("toypkg/core.py:6: SyntaxError: invalid syntax"), detail
    assert "tests/test_core.py" in detail and detail in grades.table()
    saved = json.loads((student / "grades.json").read_text())
    assert saved["tasks"][1]["status"] == "broken" and saved["tasks"][1]["detail"] == detail


def test_grading_scrubs_the_environment_and_leaves_no_reference_tests_behind(tmp_path,
                                                                           monkeypatch):
    src = make_repo(tmp_path / "src")
    (src / "tests" / "test_env.py").write_text(
        "import os\nimport pytest\n\n\n@pytest.mark.task3_1\ndef test_environment():\n"
        "    assert 'GRADER_SECRET_TOKEN' not in os.environ\n"
        "    assert 'PYTHONSTARTUP' not in os.environ\n"
        f"    assert os.path.expanduser('~') != {str(Path.home())!r}\n"
        "    assert os.listdir(os.path.expanduser('~')) == []\n")
    student = tmp_path / "student"
    release(src, student)
    for name in ["test_env.py", "test_core.py"]:
        (student / "tests" / name).unlink()
    before = tree(student)
    monkeypatch.setenv("GRADER_SECRET_TOKEN", "hunter2")
    monkeypatch.setenv("PYTHONSTARTUP", str(tmp_path / "nothing.py"))
    grades = grade(student, reference=src, out_dir=tmp_path / "grades")
    assert [(r.task, r.passed, r.total, r.status) for r in grades.tasks] == [  # hidden test too
        ("task1_1", 1, 3, "failed"), ("task1_2", 0, 1, "not attempted"), ("task3_1", 1, 1, "passed")]
    assert tree(student) == before  # the reference tests were graded in a temporary copy
    with pytest.raises(ValueError, match="has no tests/ folder"):
        grade(student, reference=tmp_path / "grades")


def test_grading_refuses_a_package_imported_from_outside_the_copy(tmp_path):
    src = make_repo(tmp_path / "src")
    elsewhere = make_repo(tmp_path / "elsewhere")
    (src / "tests" / "conftest.py").write_text(
        f"import sys\nsys.path.insert(0, {str(elsewhere)!r})\n")
    grades = grade(src)
    assert {r.status for r in grades.tasks} == {"broken"}
    assert "toypkg came from" in grades.tasks[0].detail
    assert str(elsewhere) in grades.tasks[0].detail


MUTANTS = '''\
### TEACHER ONLY
from metanumpy.assignments import Mutant

MUTANTS = [
    Mutant("task1_1", "toypkg/core.py", "return 2 * x", "return x + 2", "adds two"),
    Mutant("task1_2", "toypkg/core.py", "result = x * x", "result = x * 2", "doubles"),
    Mutant("task1_2", "toypkg/core.py", "result = x * x", "result = abs(x) * x", "abs"),
]
'''


def test_mutants_are_killed_or_reported_and_never_released(tmp_path, capsys):
    src = make_repo(tmp_path / "src")
    (src / "tests" / "mutants.py").write_text(MUTANTS)
    assert main(["check", "--src", str(src), "--mutants", "--jobs", "2"]) == 1
    out = capsys.readouterr().out
    assert "killed    task1_1  adds two  <- test_double: assert 5 == 6" in out
    assert "survived  task1_2  abs  (all 1 tests passed)" in out
    assert ("task1_1          1       1\ntask1_2          2       1\n2 of 3 mutants killed"
            in out)
    assert out.index("killed    task1_1") < out.index("task       mutants")  # progress first
    release(src, tmp_path / "student")
    assert not (tmp_path / "student" / "tests" / "mutants.py").exists()
    assert [task.id for task in list_tasks(src)] == ["task1_1", "task1_2"]


@pytest.mark.parametrize("find, replace, words", [
    ("return 3 * x", "x", "occurs 0 times in the task1_1 regions of toypkg/core.py"),
    ("r", "x", "occurs 2 times in the task1_1 regions of toypkg/core.py"),
    ("* x", "* (x", "task1_1 'adds two': toypkg/core.py: cannot read this Python file")])
def test_a_mutant_that_does_not_apply_exactly_once_is_refused(tmp_path, find, replace, words):
    src = make_repo(tmp_path / "src")
    (src / "tests" / "mutants.py").write_text(MUTANTS.replace(
        '"return 2 * x", "return x + 2"', f"{find!r}, {replace!r}"))
    with pytest.raises(ValueError, match=re.escape(words)):
        check_mutants(src)


def test_check_prints_a_line_per_task_as_it_finishes(tmp_path, capsys):
    src = make_repo(tmp_path / "src")
    assert main(["check", "--src", str(src), "--jobs", "1"]) == 1  # task1_1 has a test to fix
    out = capsys.readouterr().out.splitlines()
    assert out[:2] == ["task1_1      1/2   passes  still passes without the region: "
                       "tests.test_core::test_imports_the_copy_under_test",
                       "task1_2      1/1   ok"]
    assert out[-1] == "1 of 2 tasks ok, 1 to fix"


def test_the_guard_names_the_copy_the_package_and_what_to_do(tmp_path):
    (tmp_path / "metanumpy").mkdir()
    (tmp_path / "metanumpy" / "__init__.py").write_text("")
    with pytest.raises(WrongPackage, match=r"imported metanumpy from .*run `pip install -e \.`"):
        require_own_package(tmp_path)
    require_own_package(REPO)  # this repository's tests import this repository's package
    require_own_package(tmp_path / "metanumpy")  # no package inside: nothing to check
    error = NotImplementedError("Task 4.3: the query pass")
    assert unfinished_task_message(error).startswith(
        "error: this lesson needs Task 4.3, which is not written yet: the query pass. Write it, "
        "check it with `python -m pytest -m task4_3`")
    assert unfinished_task_message(NotImplementedError("something else")) is None
