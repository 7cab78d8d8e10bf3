"""Classroom assignments: one reference source, a student copy released from it, grading.

The reference code is the single source of truth. A teacher marks the code students write
with comment lines `### BEGIN SOLUTION taskA_B: hint` ... `### END SOLUTION` (and tests kept
from students between `### BEGIN HIDDEN TESTS` ... `### END HIDDEN TESTS`), then:

    from metanumpy.assignments import check, grade, list_tasks, release
    list_tasks(".")                          # [Task(id="task1_1", file=..., line=..., hint=...)]
    release(".", "../student")               # student copy + ASSIGNMENT.md
    grade("../student", points="points.json").table()
    check(".").table()                       # each task's tests fail without its solution
    check_mutants(".").table()               # each known wrong solution fails its task's tests

Files: `regions.py` (one source file -> its student version), `student_copy.py` (the whole
repository), `pytest_run.py` (pytest on a copy, in a subprocess with a scrubbed environment),
`grading.py` (run each task's pytest marker, score it), `check.py` (the teacher's test of the
reference: each task's tests fail without its region), `mutants.py` (known wrong solutions
each task's tests must catch), `guard.py` (a student copy runs its own package, and says which
task a lesson still needs), `cli.py` (command line).
"""

from .check import CheckReport, TaskCheck, check
from .cli import main
from .grading import Grades, TaskGrade, discover_tasks, grade, load_points
from .mutants import Mutant, MutantReport, check_mutants, load_mutants
from .pytest_run import run_pytest
from .regions import Task, student_version
from .student_copy import list_tasks, release, repository_files

__all__ = ["CheckReport", "Grades", "Mutant", "MutantReport", "Task", "TaskCheck", "TaskGrade",
           "check", "check_mutants", "discover_tasks", "grade", "list_tasks", "load_mutants",
           "load_points", "main", "release", "repository_files", "run_pytest",
           "student_version"]
