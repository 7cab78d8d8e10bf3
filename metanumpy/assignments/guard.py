"""A student copy must run the student's code: check which package was imported, and explain
an unfinished task instead of showing its traceback.

    require_own_package(repo_root)   # in tests/conftest.py and in every lesson (lesson_args)

When a reference copy of metanumpy is installed (`pip install -e /path/to/reference`), a
lesson started as `python lessons/01_autograd.py` or a plain `pytest` in a student copy can
import that installed package instead of the copy's own: every lesson "works" with every task
unimplemented, and the student never learns that their code did not run. The guard runs in
whichever package got imported (both have it), compares `metanumpy.__file__` with the copy's
folder, and stops with what to do.
"""

import os
import re
import sys
from pathlib import Path

PACKAGE = "metanumpy"
_TASK = re.compile(r"Task (\d+)\.(\d+)(?::\s*(.*))?$", re.DOTALL)


class WrongPackage(ImportError):
    """The code running is not the copy's own package."""


def require_own_package(root):
    """Raise WrongPackage when `root` holds a metanumpy package and another one was imported."""
    root = Path(root).resolve()
    own = root / PACKAGE
    if not (own / "__init__.py").is_file():
        return
    imported = Path(sys.modules[PACKAGE].__file__).resolve().parent
    if imported != own:
        raise WrongPackage(
            f"this copy is {root}, but Python imported {PACKAGE} from {imported}: your code in "
            f"{own} would not run. Inside {root}, run `pip install -e .` (or set "
            f"PYTHONPATH={root}, or start the tests with `python -m pytest` from {root})")


def lesson_root():
    """The repository a lesson runs in: the parent of its lessons/ folder (of the current
    folder in a notebook)."""
    script = getattr(sys.modules.get("__main__"), "__file__", None)
    folder = Path(script).resolve().parent if script else Path.cwd()
    return folder.parent if folder.name == "lessons" else folder


def check_lesson():
    """For a lesson script: stop with a message if it imported another copy's package, and
    turn an uncaught NotImplementedError("Task A.B: ...") into a message naming that task.
    The exception hook is installed only in a script run from a lessons/ folder."""
    try:
        require_own_package(lesson_root())
    except WrongPackage as error:
        sys.exit(f"error: {error}")
    script = getattr(sys.modules.get("__main__"), "__file__", None)
    if script and Path(script).resolve().parent.name == "lessons":
        sys.excepthook = _explain_unfinished_task(sys.excepthook)


def unfinished_task_message(error):
    """"This lesson needs task 4.3 ..." for a task's NotImplementedError, else None."""
    match = _TASK.match(str(error)) if isinstance(error, NotImplementedError) else None
    if not match:
        return None
    major, minor, hint = match.groups()
    where = _raised_at(error.__traceback__)
    return (f"error: this lesson needs Task {major}.{minor}, which is not written yet"
            f"{f' ({where})' if where else ''}: {hint or 'see ASSIGNMENT.md'}. Write it, check "
            f"it with `python -m pytest -m task{major}_{minor}`, then run the lesson again.")


def _raised_at(traceback):
    """file:line of the innermost frame (where the task's `raise` is), relative if possible."""
    last = None
    while traceback is not None:
        last, traceback = traceback, traceback.tb_next
    if last is None:
        return ""
    path = last.tb_frame.f_code.co_filename
    try:
        path = os.path.relpath(path)
    except ValueError:  # another drive on Windows
        pass
    return f"{path}:{last.tb_lineno}"


def _explain_unfinished_task(previous):
    def hook(kind, error, traceback):
        message = unfinished_task_message(error)
        if message is None:
            previous(kind, error, traceback)
        else:
            print(message, file=sys.stderr)
    return hook
