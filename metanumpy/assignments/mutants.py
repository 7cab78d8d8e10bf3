"""Known wrong solutions ("mutants") that each task's tests must catch.

    python -m metanumpy assignments check --mutants          # every mutant, then the kill table

A mutant is one classic mistake written as a text substitution inside a task's solution region:

    Mutant("task4_3", "metanumpy/meta/maml.py",
           find="episode.query_mask, params=fast)", replace="episode.query_mask)",
           why="query pass with theta instead of the fast weights")

The teacher keeps the list in `tests/mutants.py` (a `MUTANTS` list), a file that starts with
`### TEACHER ONLY` and so is never released. For each mutant, this writes a full-solution copy
of the reference with the substitution made (`release(src, folder, only=[], overrides=...)`)
into a temporary folder and runs `python -m pytest -m TASK` there: the mutant is killed when
at least one of the task's tests fails. A mutant whose `find` text is not found exactly once in
the task's regions of its file is refused before anything runs, so a mutant cannot silently
rot when the reference changes: update it.
"""

import runpy
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .grading import one_line
from .pytest_run import in_parallel, run_pytest
from .regions import TASK_ID, region_bodies, student_version, task_order
from .student_copy import release

MUTANTS_FILE = "tests/mutants.py"
"""Where the reference keeps its mutants (relative to the repository root)."""


@dataclass(frozen=True)
class Mutant:
    """A wrong solution of `task`: `find` -> `replace` inside its regions in `file`, and `why`
    it is wrong (the mistake, in the words a test failure should use)."""

    task: str
    file: str
    find: str
    replace: str
    why: str


@dataclass(frozen=True)
class MutantResult:
    """How the task's tests took one mutant: "killed" (a test failed; `test` and `message` say
    which and why, preferring a test whose message names the mistake), "survived" (all
    passed), "timeout" or "error" (pytest did not report)."""

    mutant: Mutant
    status: str
    test: str = ""
    message: str = ""

    def line(self):
        """One progress line: status, task, the mistake, and the test that caught it."""
        caught = f"  <- {self.test.split('::')[-1]}: {self.message}" if self.test else ""
        note = f"  ({self.message})" if self.message and not self.test else ""
        return f"{self.status:<9} {self.mutant.task:<8} {self.mutant.why}{caught}{note}"


@dataclass(frozen=True)
class MutantReport:
    """The results of every mutant, in task order."""

    rows: list

    @property
    def ok(self):
        return all(row.status == "killed" for row in self.rows)

    def table(self):
        """The kill table: task, mutants, killed; then every mutant that was not killed."""
        lines = [f"{'task':<10} {'mutants':>7} {'killed':>7}"]
        tasks = sorted({row.mutant.task for row in self.rows}, key=task_order)
        for task in tasks:
            rows = [row for row in self.rows if row.mutant.task == task]
            killed = sum(row.status == "killed" for row in rows)
            lines.append(f"{task:<10} {len(rows):>7} {killed:>7}")
        killed = sum(row.status == "killed" for row in self.rows)
        lines.append(f"{killed} of {len(self.rows)} mutants killed")
        lines += [row.line() for row in self.rows if row.status != "killed"]
        return "\n".join(lines)


def load_mutants(src_dir):
    """The MUTANTS list of `src_dir`'s tests/mutants.py."""
    path = Path(src_dir) / MUTANTS_FILE
    if not path.is_file():
        raise ValueError(f"{path} not found: list the mutants there as MUTANTS = [Mutant(...)]")
    mutants = runpy.run_path(str(path)).get("MUTANTS")
    if not isinstance(mutants, (list, tuple)) or not all(
            isinstance(mutant, Mutant) for mutant in mutants):
        raise ValueError(f"{path}: MUTANTS must be a list of Mutant(task, file, find, replace, "
                         "why)")
    return list(mutants)


def mutated_source(src_dir, mutant):
    """The text of `mutant.file` with the substitution made; ValueError unless `find` occurs
    exactly once in the bodies of the task's regions there and the result compiles."""
    path = Path(src_dir) / mutant.file
    if not TASK_ID.fullmatch(mutant.task):
        raise ValueError(f"mutant {mutant.why!r}: {mutant.task!r} is not a task id")
    if not path.is_file():
        raise ValueError(f"mutant {mutant.why!r}: no file {mutant.file}")
    text = path.read_text(encoding="utf-8")
    spans = region_bodies(text, mutant.file, mutant.task)
    found = [(start + offset, end) for start, end in spans
             for offset in _occurrences(text[start:end], mutant.find)]
    if len(found) != 1:
        raise ValueError(f"mutant {mutant.task} {mutant.why!r}: its find text {mutant.find!r} "
                         f"occurs {len(found)} times in the {mutant.task} regions of "
                         f"{mutant.file} ({len(spans)} regions); it must occur exactly once: "
                         "update the mutant")
    at = found[0][0]
    mutated = text[:at] + mutant.replace + text[at + len(mutant.find):]
    try:
        student_version(mutated, mutant.file, only=())
    except ValueError as error:
        raise ValueError(f"mutant {mutant.task} {mutant.why!r}: {error}") from None
    return mutated


def _occurrences(text, part):
    offsets, at = [], text.find(part)
    while part and at >= 0:
        offsets.append(at)
        at = text.find(part, at + 1)
    return offsets


def check_mutants(src_dir=".", tasks=None, jobs=None, timeout=300, progress=None):
    """Run every mutant of `tasks` (default: all) against its task's tests; a MutantReport.

    `progress(result)` is called as each mutant finishes. Raises ValueError, before running
    any, for a mutant that does not apply.
    """
    mutants = [mutant for mutant in load_mutants(src_dir) if tasks is None or mutant.task in tasks]
    sources = [mutated_source(src_dir, mutant) for mutant in mutants]
    rows = in_parallel(lambda pair: run_mutant(src_dir, *pair, timeout),
                       list(zip(mutants, sources)), jobs, progress)
    return MutantReport(sorted(rows, key=lambda row: task_order(row.mutant.task)))


def run_mutant(src_dir, mutant, source, timeout=300):
    """Release a full-solution copy with `source` as `mutant.file`; run the task's tests."""
    with tempfile.TemporaryDirectory(prefix=f"metanumpy-mutant-{mutant.task}-") as folder:
        release(src_dir, folder, only=[], overrides={mutant.file: source})
        run = run_pytest(folder, ["-m", mutant.task], timeout)
    if run.timed_out:
        return MutantResult(mutant, "timeout", message=f"killed after {timeout:g} s")
    if run.cases is None:
        return MutantResult(mutant, "error", message=run.last_line)
    own = [case for case in run.cases if mutant.task in case.tasks and case.outcome != "skipped"]
    failing = [case for case in own if case.outcome != "passed"]
    if not own:
        return MutantResult(mutant, "error", message=f"no test marked {mutant.task} ran")
    if not failing:
        return MutantResult(mutant, "survived", message=f"all {len(own)} tests passed")
    shown = next((case for case in failing if _explains_itself(case.message)), failing[0])
    return MutantResult(mutant, "killed", shown.name, one_line(shown.message, 160))


def _explains_itself(message):
    """True for an AssertionError with a message of its own on its first line (a test that
    names the mistake), not a bare comparison from pytest or numpy.testing."""
    first = (message.strip().splitlines() or [""])[0]
    own = first[len("AssertionError: "):].strip() if first.startswith("AssertionError: ") else ""
    return bool(own) and not own.startswith("assert ")
