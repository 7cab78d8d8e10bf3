"""Check the reference before a release: without its solution, each task's tests must fail.

    python -m metanumpy assignments check                  # every task, then a table
    python -m metanumpy assignments check --tasks task4_2,task7_1 --deps
    python -m metanumpy assignments check --mutants        # known wrong solutions: mutants.py

For every task T this writes a copy of the reference with only T stripped
(`release(src, folder, only=[T])`) into a temporary folder of its own, and runs
`python -m pytest -m T` there, the way grading does. T passes the check when its marker
selects at least one test and every one of them fails with T's own message,
`NotImplementedError: Task A.B: hint`. A test that still passes does not run T's region, and
one that fails with another message is broken for another reason: either way `pytest -m T`
would not tell a student whether T is done.

With `deps=True` (`--deps`) each copy runs the tests of every task instead. The other tasks
whose tests fail there depend on T: a student who leaves T undone loses their points too, so
T must come first. Copies are checked in parallel (`jobs`), each in its own folder.
"""

import re
import tempfile
from dataclasses import dataclass

from .grading import one_line
from .pytest_run import in_parallel, run_pytest
from .regions import task_order, unimplemented_message
from .student_copy import list_tasks, release


@dataclass(frozen=True)
class TaskCheck:
    """One row of the check table. `failing` counts the task's tests that fail with its
    message; `dependents` (with deps) lists the other tasks whose tests fail without it."""

    task: str
    tests: int
    failing: int
    status: str        # ok, untested, passes, other (another failure), timeout, error
    detail: str = ""
    dependents: tuple = ()

    def line(self):
        """One progress line, printed as the task's check finishes."""
        note = f"  {self.detail}" if self.detail else ""
        return f"{self.task:<10} {self.failing:>3}/{self.tests:<3} {self.status}{note}"


@dataclass(frozen=True)
class CheckReport:
    """The checks of every task, in task order."""

    rows: list
    deps: bool = False

    @property
    def ok(self):
        return all(row.status == "ok" for row in self.rows)

    def table(self):
        """The table printed by `python -m metanumpy assignments check`: for each task, how
        many of its tests fail with its message, and (with deps) which other tasks fail too."""
        header = f"{'task':<10} {'failing':>8}  {'status':<8}"
        lines = [header + "  other tasks failing without it" if self.deps else header.rstrip()]
        for row in self.rows:
            failing = f"{row.failing}/{row.tests}"
            note = f"  {row.detail}" if row.detail else ""
            if self.deps and row.status == "ok":
                note = "  " + (" ".join(row.dependents) or "-")
            lines.append(f"{row.task:<10} {failing:>8}  {row.status:<8}{note}".rstrip())
        bad = sum(row.status != "ok" for row in self.rows)
        lines.append(f"{len(self.rows) - bad} of {len(self.rows)} tasks ok"
                     + (f", {bad} to fix" if bad else ""))
        return "\n".join(lines)


def check(src_dir=".", tasks=None, jobs=None, timeout=300, deps=False, progress=None):
    """Check `tasks` (default: every task marked in `src_dir`); returns a CheckReport.

    `jobs`: copies checked at the same time (default: the number of CPUs). `timeout`: the
    limit in seconds for the tests of one copy. `progress(row)` is called as each task's
    check finishes.
    """
    found = list(dict.fromkeys(task.id for task in list_tasks(src_dir)))
    if not found:
        raise ValueError(f"{src_dir}: no solution regions (### BEGIN SOLUTION taskA_B) found")
    wanted = found if tasks is None else sorted(set(tasks), key=task_order)
    unknown = [task for task in wanted if task not in found]
    if unknown:
        raise ValueError(f"no solution region for {', '.join(unknown)}; the tasks marked in "
                         f"{src_dir} are {', '.join(found)}")
    selection = " or ".join(found) if deps else None
    rows = in_parallel(lambda task: check_task(src_dir, task, timeout, selection), wanted, jobs,
                       progress)
    return CheckReport(rows, deps)


def check_task(src_dir, task, timeout=300, selection=None):
    """Release a copy with only `task` stripped and run its tests there (or the tests that
    the marker expression `selection` picks, to find the tasks that depend on it)."""
    with tempfile.TemporaryDirectory(prefix=f"metanumpy-check-{task}-") as folder:
        release(src_dir, folder, only=[task])
        run = run_pytest(folder, ["-m", selection or task], timeout)
    if run.timed_out:
        return TaskCheck(task, 0, 0, "timeout", f"killed after {timeout:g} s")
    if run.cases is None:
        return TaskCheck(task, 0, 0, "error",
                         f"pytest exited with code {run.returncode}: {run.last_line}")
    if run.broken:  # a test file that could not be collected
        return TaskCheck(task, 0, 0, "error", str(run.broken[0]))
    ran = [case for case in run.cases if case.outcome != "skipped"]
    own = [case for case in ran if task in case.tasks]
    stripped = re.compile(unimplemented_message(task))
    failing = [case for case in own
               if case.outcome != "passed" and stripped.search(case.message)]
    dependents = sorted({other for case in ran if task not in case.tasks
                         and case.outcome != "passed" for other in case.tasks}, key=task_order)
    passing = [case for case in own if case.outcome == "passed"]
    if not own:
        return TaskCheck(task, 0, 0, "untested", f"no test is marked {task}")
    if passing:
        return TaskCheck(task, len(own), len(failing), "passes",
                         f"still passes without the region: {passing[0].name}")
    if len(failing) < len(own):
        other = next(case for case in own if case not in failing)
        return TaskCheck(task, len(own), len(failing), "other",
                         f"{other.name}: {_first_line(other.message)}")
    return TaskCheck(task, len(own), len(failing), "ok", "", tuple(dependents))


def _first_line(message):
    return one_line(message, 80)
