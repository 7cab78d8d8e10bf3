"""The command line: `python -m metanumpy assignments {release,list,grade,check} ...`.

    python -m metanumpy assignments list                      # the tasks marked in this repo
    python -m metanumpy assignments release ../student        # write the student copy
    python -m metanumpy assignments release ../week1 --only task1_1,task1_2
    python -m metanumpy assignments grade ../student --points points.json
    python -m metanumpy assignments check                     # each task's tests need it
    python -m metanumpy assignments check --mutants           # and catch its known mistakes

Every error (a missing folder, a non-empty release target, an unknown task, a bad points
file) is one line on stderr and exit code 1; so is a failed check.
"""

import argparse
import sys

from .check import check
from .grading import grade
from .mutants import check_mutants
from .regions import TASK_ID
from .student_copy import list_tasks, release


def task_list(text):
    """The value of --only and --tasks: "task1_1,task4_2" -> ["task1_1", "task4_2"], "" -> []."""
    tasks = [part.strip() for part in text.split(",") if part.strip()]
    for task in tasks:
        if not TASK_ID.fullmatch(task):
            raise argparse.ArgumentTypeError(f"{task!r} is not a task id (write it as taskA_B)")
    return tasks


def build_parser():
    parser = argparse.ArgumentParser(
        prog="python -m metanumpy assignments",
        description="Release a student copy of the reference code (solution regions replaced "
                    "by NotImplementedError, hidden tests removed), and grade a student copy "
                    "task by task with its pytest markers taskA_B.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    listing = commands.add_parser("list", help="list the tasks marked in the reference code")
    listing.add_argument("--src", default=".", metavar="DIR",
                         help="the reference repository (default: the current folder)")
    listing.set_defaults(run=_list)

    releasing = commands.add_parser(
        "release", help="write the student copy and its ASSIGNMENT.md",
        description="Copy the files git tracks in --src into OUT_DIR with every solution "
                    "region replaced and hidden tests removed, and write ASSIGNMENT.md.")
    releasing.add_argument("out_dir", metavar="OUT_DIR",
                           help="folder for the student copy; must be empty or missing")
    releasing.add_argument("--src", default=".", metavar="DIR",
                           help="the reference repository (default: the current folder)")
    releasing.add_argument("--force", action="store_true",
                           help="replace a previous student copy in OUT_DIR, i.e. a folder "
                                "holding an ASSIGNMENT.md (default: off, refuse a non-empty "
                                "OUT_DIR)")
    releasing.add_argument("--only", type=task_list, metavar="TASK[,TASK]",
                           help="strip only these tasks and keep the reference code of the "
                                "others; an empty value gives a full-solution copy (default: "
                                "strip every task)")
    releasing.set_defaults(run=_release)

    grading = commands.add_parser(
        "grade", help="run each task's tests in a student copy and score them",
        description="For each task taskA_B, run `python -m pytest -m taskA_B` in STUDENT_DIR "
                    "(importing the student's packages, not the installed reference) and "
                    "score points * passed / total.")
    grading.add_argument("student_dir", metavar="STUDENT_DIR", help="the student copy to grade")
    grading.add_argument("--points", metavar="FILE",
                         help="a .json or .toml file mapping task id -> points "
                              "(default: 1 point per task)")
    grading.add_argument("--timeout", type=float, default=60.0, metavar="S",
                         help="time limit in seconds for the tests of one task; a task that "
                              "runs longer is killed and scores 0 (default: 60)")
    grading.add_argument("--out", metavar="DIR",
                         help="folder for grades.csv and grades.json (default: STUDENT_DIR)")
    grading.add_argument("--only", type=task_list, metavar="TASK[,TASK]",
                         help="grade only these tasks (default: every task found)")
    grading.add_argument("--reference", metavar="DIR",
                         help="grade with the tests/ and setup.cfg of this reference repository "
                              "(hidden tests included) instead of the student's; they are "
                              "used in a temporary copy and never written into STUDENT_DIR "
                              "(default: the student's own tests)")
    grading.set_defaults(run=_grade)

    checking = commands.add_parser(
        "check", help="check that each task's tests fail without its solution",
        description="For each task, release a copy with only that task stripped into a "
                    "temporary folder and run `python -m pytest -m taskA_B` there: every test "
                    "must fail with that task's NotImplementedError. With --mutants, run the "
                    "known wrong solutions listed in tests/mutants.py instead: each must make "
                    "its task's tests fail. Prints a line per task (or mutant) as it finishes, "
                    "then a table; the exit code is 1 if a check fails.")
    checking.add_argument("--src", default=".", metavar="DIR",
                          help="the reference repository (default: the current folder)")
    checking.add_argument("--tasks", type=task_list, metavar="TASK[,TASK]",
                          help="the tasks to check (default: every task marked in --src)")
    checking.add_argument("--deps", action="store_true",
                          help="run every task's tests in each copy and list the other tasks "
                               "that fail without this one (default: off, only its own tests)")
    checking.add_argument("--mutants", action="store_true",
                          help="apply each mutant of tests/mutants.py in a copy and require its "
                               "task's tests to fail; print the kill table (default: off)")
    checking.add_argument("--jobs", type=int, metavar="N",
                          help="copies checked in parallel (default: the number of CPUs)")
    checking.add_argument("--timeout", type=float, default=300.0, metavar="S",
                          help="time limit in seconds for the tests of one copy (default: 300)")
    checking.set_defaults(run=_check)
    return parser


def main(argv=None):
    """Run the command line with `argv` (default: sys.argv[1:]); returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except (ValueError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


def _list(args):
    for task in list_tasks(args.src):
        where = f"{task.file}:{task.line}"
        print(f"{task.id:<10} {where:<36} {task.hint}".rstrip())
    return 0


def _release(args):
    tasks = release(args.src, args.out_dir, force=args.force, only=args.only)
    print(f"wrote the student copy to {args.out_dir}: {len(tasks)} solution regions "
          "(listed in ASSIGNMENT.md)")
    return 0


def _grade(args):
    grades = grade(args.student_dir, points=args.points, timeout=args.timeout,
                   out_dir=args.out, reference=args.reference, only=args.only)
    print(grades.table())
    print(f"wrote grades.csv and grades.json to {args.out or args.student_dir}")
    return 0


def _check(args):
    def progress(row):
        print(row.line(), flush=True)

    if args.mutants:
        report = check_mutants(args.src, tasks=args.tasks, jobs=args.jobs, timeout=args.timeout,
                               progress=progress)
    else:
        report = check(args.src, tasks=args.tasks, jobs=args.jobs, timeout=args.timeout,
                       deps=args.deps, progress=progress)
    print()
    print(report.table())
    return 0 if report.ok else 1
