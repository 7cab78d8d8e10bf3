"""Run pytest on a copy of the code in a subprocess: its own package, a clean environment.

    run = run_pytest("/tmp/student", ["-m", "task4_3"], timeout=60)
    run.cases        # [CaseResult(name, outcome, message, tasks)], None if no report came back
    run.broken       # [Breakage(test_file, file, line, error)]: test files that did not import

This is what grading and `assignments check` run: `python -m pytest ARGS -q
-p no:cacheprovider --continue-on-collection-errors --junitxml=REPORT` in the copy's folder,
killed (with anything it started) at `timeout` seconds, and the JUnit report read back.

Import isolation. On the teacher's machine the reference package is often installed in editable
mode (`pip install -e .`): setuptools puts a finder on `sys.meta_path` that maps the package
name to the reference checkout. The subprocess gets the copy's folder first on PYTHONPATH, so
`import metanumpy` finds the copy before that finder is asked; and before pytest starts, the
editable finders for packages the copy has are removed, so that a module missing from the copy
fails to import instead of silently coming from the reference. After collection, a package of
the copy that was nevertheless imported from elsewhere stops the run with a message (no report).

The code under test is nobody's reviewed code. The subprocess gets none of the caller's
environment variables but KEPT_VARIABLES (PATH, library paths, the locale, BLAS threads: no
tokens, no PYTHONPATH, no METANUMPY_* switches), and a fresh temporary HOME and TMPDIR that are
deleted afterwards. This is not a
sandbox: the code runs with the caller's user rights (README, "Teaching with metanumpy").
Third-party pytest plugins are not auto-loaded (PYTEST_DISABLE_PLUGIN_AUTOLOAD), so plugins
installed on the grading machine cannot change a result.
"""

import os
import re
import signal
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ElementTree
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

KEPT_VARIABLES = ("PATH", "LANG", "LANGUAGE", "LC_ALL", "LC_CTYPE", "TZ", "SYSTEMROOT",
                  "LD_LIBRARY_PATH", "DYLD_LIBRARY_PATH", "OMP_NUM_THREADS",
                  "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
"""The only variables of the caller's environment that reach the code under test (what finds
programs and libraries, the locale, BLAS threads)."""

WRONG_PACKAGE = "imported from outside the copy under test:"

# `python -c` program equivalent to `python -m pytest ARGS`, after dropping the editable-install
# finders (modules named __editable__*) that map a package the copy also has. Each test's task
# markers go into the JUnit report as properties `<property name="task" ...>`; after
# collection, a package of the copy that came from elsewhere stops the run (exit code 3).
_PYTEST_IN_COPY = """
import os, re, sys
def _maps_copy_package(finder):
    module = getattr(finder, "__module__", None) or ""
    mapping = getattr(sys.modules.get(module), "MAPPING", {})
    return module.startswith("__editable__") and any(
        os.path.exists(name) or os.path.exists(name + ".py") for name in mapping)
sys.meta_path[:] = [f for f in sys.meta_path if not _maps_copy_package(f)]
import pytest
class TaskProperties:
    def pytest_collection_modifyitems(self, items):
        for item in items:
            item.user_properties += [("task", mark.name) for mark in item.iter_markers()
                                     if re.fullmatch(r"task\\d+_\\d+", mark.name)]
    def pytest_collection_finish(self, session):
        here = os.path.realpath(os.getcwd())
        for name in sorted(n for n in os.listdir(here) if os.path.isfile(
                os.path.join(here, n, "__init__.py")) and n in sys.modules):
            path = os.path.realpath(getattr(sys.modules[name], "__file__", None) or here)
            if not path.startswith(os.path.join(here, name) + os.sep):
                pytest.exit(f"%s {name} came from {path}" % WRONG_PACKAGE, returncode=3)
sys.exit(pytest.main(sys.argv[1:], plugins=[TaskProperties()]))
""".replace("WRONG_PACKAGE", repr(WRONG_PACKAGE))


@dataclass(frozen=True)
class CaseResult:
    """One test from a JUnit report: "passed", "failed", "error" or "skipped", why, and the
    task markers the test carries. A test file that could not be imported is one "error"
    case named after its module (`::tests.test_meta`), with no tasks."""

    name: str
    outcome: str
    message: str = ""
    tasks: tuple = ()
    text: str = ""


@dataclass(frozen=True)
class Breakage:
    """A test file that could not be collected, and the line of the copy's code to blame:
    `file:line: error` (file relative to the copy; line 0 when no frame of it was found)."""

    test_file: str
    file: str
    line: int
    error: str

    def __str__(self):
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.error} (imported by {self.test_file})"


@dataclass(frozen=True)
class PytestRun:
    """A pytest subprocess: its test cases (None if it wrote no report), and how it ended."""

    cases: list
    timed_out: bool
    returncode: int
    output: str
    broken: tuple = ()

    @property
    def last_line(self):
        """Why a run ended without a report: the line that says a package of the copy was
        imported from elsewhere, or else the last line pytest printed."""
        lines = self.output.strip().splitlines() or ["no output"]
        return next((line.strip("! ").removeprefix("_pytest.outcomes.Exit: ")
                     for line in lines if WRONG_PACKAGE in line), lines[-1])

    @property
    def wrong_package(self):
        return WRONG_PACKAGE in self.output


def scrubbed_environment(folder, home):
    """The environment of the code under test: PATH and locale only, HOME and TMPDIR in `home`,
    the copy's `folder` alone on PYTHONPATH."""
    environment = {name: os.environ[name] for name in KEPT_VARIABLES if name in os.environ}
    environment.update(PYTHONPATH=str(folder), HOME=str(home), TMPDIR=str(home),
                       PYTHONDONTWRITEBYTECODE="1", PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")
    return environment


def run_pytest(folder, args, timeout):
    """Run pytest with `args` in `folder` (a copy of the code), importing its packages."""
    folder = Path(folder).resolve()
    with tempfile.TemporaryDirectory(prefix="metanumpy-pytest-") as scratch:
        report, home = Path(scratch) / "report.xml", Path(scratch) / "home"
        home.mkdir()
        command = [sys.executable, "-c", _PYTEST_IN_COPY, *args, "-q", "-p", "no:cacheprovider",
                   "--continue-on-collection-errors", f"--junitxml={report}"]
        process = subprocess.Popen(command, cwd=folder, env=scrubbed_environment(folder, home),
                                   text=True, errors="replace", stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, start_new_session=os.name == "posix")
        try:
            output, _ = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill(process)
            output, _ = process.communicate()
            return PytestRun(None, True, process.returncode, output)
        cases = _read_junit(report) if report.exists() else None
        broken = tuple(_breakage(case, folder) for case in cases or () if _uncollected(case))
        return PytestRun(cases, False, process.returncode, output, broken)


def in_parallel(function, items, jobs=None, progress=None):
    """[function(item) for item in items], `jobs` at a time (default: the number of CPUs);
    `progress(result)` is called as each one finishes, so a long check shows where it is."""
    results = {}
    with ThreadPoolExecutor(jobs or os.cpu_count() or 1) as pool:
        futures = {pool.submit(function, item): index for index, item in enumerate(items)}
        for future in as_completed(futures):
            results[futures[future]] = future.result()
            if progress:
                progress(results[futures[future]])
    return [results[index] for index in range(len(items))]


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
                                    tasks, verdict.text or ""))
    return cases


def _uncollected(case):
    return case.outcome == "error" and case.name.startswith("::") and not case.tasks


_FRAME = re.compile(r'File "(?P<a>[^"]+)", line (?P<b>\d+)|^(?P<c>[^\s:][^:\n]*\.py):(?P<d>\d+): ',
                    re.MULTILINE)
_ERROR = re.compile(r"^E\s+(\w+(?:Error|Exception|Exit|Interrupt)\b.*)$", re.MULTILINE)


def _breakage(case, folder):
    """Where a collection error comes from: the last frame of the traceback that lies in the
    copy's own code (outside tests/), and the last `E   SomeError: ...` line."""
    test_file = case.name[2:].replace(".", "/") + ".py"
    file, line = test_file, 0
    for match in _FRAME.finditer(case.text):
        path, number = match.group("a") or match.group("c"), match.group("b") or match.group("d")
        relative = _relative(path, folder)
        if relative and not relative.startswith("tests/"):
            file, line = relative, int(number)
    errors = _ERROR.findall(case.text)
    error = errors[-1].strip() if errors else (case.message or "could not be imported")
    return Breakage(test_file, file, line, error)


def _relative(path, folder):
    """`path` relative to `folder` ("/" separators), or None for a file outside it."""
    full = Path(path) if os.path.isabs(path) else folder / path
    try:
        return full.resolve().relative_to(folder).as_posix()
    except ValueError:
        return None
