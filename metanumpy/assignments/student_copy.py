"""Write the student copy of a repository, and list the tasks a teacher has marked in it.

    release("/work/main", "/tmp/student")   # python -m metanumpy assignments release /tmp/student

copies the files git tracks (or, outside a git checkout, every file but caches and build
outputs), with every solution region replaced by `raise NotImplementedError("Task A.B: hint")`
and every hidden tests block removed (see `regions.py`), leaves out the files marked
`### TEACHER ONLY` (the mutants), and adds ASSIGNMENT.md, the list of tasks. The same source always gives the same bytes and file modes, so a release can be diffed.

    release("/work/main", "/tmp/one", only=["task4_2"])   # only that task is left to write
    release("/work/main", "/tmp/all", only=[])            # a full-solution copy (no markers)
"""

import fnmatch
import os
import shutil
import stat
import subprocess
from pathlib import Path

from .regions import student_version, teacher_only

SKIPPED_NAMES = (".git", "__pycache__", ".pytest_cache", "*.egg-info")
"""Folders left out of the copy when the source is not a git checkout (with lessons/out)."""
SKIPPED_PATHS = ("lessons/out",)


def repository_files(src_dir, exclude=None):
    """Sorted relative paths ("/" separators) of the files that make up the repository."""
    src = Path(src_dir)
    if (src / ".git").exists() and shutil.which("git"):
        listing = subprocess.run(["git", "-C", str(src), "ls-files", "-z"], capture_output=True)
        if listing.returncode != 0:
            raise ValueError(f"{src} looks like a git checkout, but `git ls-files` failed: "
                             f"{listing.stderr.decode('utf-8', 'replace').strip()}")
        files = [name for name in listing.stdout.decode("utf-8").split("\0") if name]
    else:
        files = _walk(src)
    skipped = _inside(Path(exclude).resolve(), src.resolve()) if exclude else None
    return sorted(name for name in files
                  if (os.path.isfile(src / name) or os.path.islink(src / name))
                  and not (skipped and name.startswith(skipped + "/")))


def _inside(folder, root):
    """`folder` relative to `root` ("/" separators), or None when it lies elsewhere."""
    return folder.relative_to(root).as_posix() if root in folder.parents else None


def _walk(src):
    files = []
    for folder, subfolders, names in os.walk(src):
        relative = Path(folder).relative_to(src)
        subfolders[:] = [name for name in subfolders
                         if not any(fnmatch.fnmatch(name, skip) for skip in SKIPPED_NAMES)
                         and (relative / name).as_posix() not in SKIPPED_PATHS]
        files += [(relative / name).as_posix() for name in names]
    return files


def list_tasks(src_dir):
    """Every solution region in the repository, ordered by task number, then file and line."""
    src = _source_folder(src_dir)
    return [task for task, _ in _student_sources(src, repository_files(src))[1]]


def release(src_dir, out_dir, force=False, only=None, overrides=None):
    """Write the student copy of `src_dir` into `out_dir`; returns the tasks it strips, in order.

    `out_dir` must be empty or missing; with `force=True` it may hold a previous student copy
    (a folder with an ASSIGNMENT.md), which is deleted first. `only` lists the task ids to
    strip (default None: all); the other regions keep their reference code. Nothing is
    written if a file has a bad region (the ValueError names the file and line) or `only`
    names a task that has no region. `overrides` ({relative path: text}) replaces the text of
    some source files (a mutant's wrong solution, for `assignments check --mutants`).
    """
    src, out = _source_folder(src_dir), Path(out_dir).resolve()
    if out == src or out in src.parents:
        raise ValueError(f"the student copy cannot go into {out}: it holds the source {src}")
    _check_out_dir(out, force)
    files = repository_files(src, exclude=out)
    if only is not None:
        only = _known_tasks(only, _student_sources(src, files)[1])
    rewritten, tasks = _student_sources(src, files, only, overrides or {})
    files = [name for name in files if rewritten.get(name, True) is not None]
    _empty(out)
    for name in files:
        source, target = src / name, out / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_symlink():
            os.symlink(os.readlink(source), target)
            continue
        if name in rewritten:
            target.write_bytes(rewritten[name].encode("utf-8"))
        else:
            shutil.copyfile(source, target)
        os.chmod(target, stat.S_IMODE(source.stat().st_mode))
    (out / "ASSIGNMENT.md").write_text(assignment_markdown(tasks), encoding="utf-8")
    return [task for task, _ in tasks]


def _known_tasks(only, tasks):
    """The set of task ids in `only`, each checked against the regions found."""
    only = {only} if isinstance(only, str) else set(only)
    known = list(dict.fromkeys(task.id for task, _ in tasks))  # in task order, once each
    unknown = sorted(only - set(known))
    if unknown:
        raise ValueError(f"no solution region for {', '.join(unknown)}; the tasks marked in the "
                         f"source are {', '.join(known) or 'none'}")
    return only


def _student_sources(src, files, only=None, overrides=None):
    """({file: student text, or None for a teacher-only file} for the files that change,
    [(Task, student line)] in order)."""
    rewritten, tasks = {}, []
    for name in files:
        path = src / name
        if not name.endswith(".py") or path.is_symlink():
            continue
        try:
            text = (overrides or {}).get(name) or path.read_bytes().decode("utf-8")
        except UnicodeDecodeError as error:
            raise ValueError(f"{name}: not UTF-8 text ({error}); cannot look for markers")
        if teacher_only(text):
            rewritten[name] = None
            continue
        student = student_version(text, name, only)
        if student.text != text or name in (overrides or {}):
            rewritten[name] = student.text
        tasks += student.tasks
    tasks.sort(key=lambda pair: (pair[0].number, pair[0].file, pair[0].line))
    return rewritten, tasks


def assignment_markdown(tasks):
    """ASSIGNMENT.md: one row per task, pointing at its `raise` in the student copy."""
    rows = [f"| {task.id} | `{task.file}:{line}` | {task.hint or '-'} |" for task, line in tasks]
    return "\n".join([
        "# Assignment",
        "",
        "Each task is a `raise NotImplementedError(\"Task A.B: ...\")` in the code below.",
        "Replace it with your implementation, then check that one task with",
        "`python -m pytest -m taskA_B` (for example `python -m pytest -m task1_1`).",
        "",
        "| task | where | hint |",
        "|---|---|---|",
        *rows,
        "",
    ])


def _source_folder(src_dir):
    src = Path(src_dir).resolve()
    if not src.is_dir():
        raise ValueError(f"{src} is not a folder: give the reference repository with --src")
    return src


def _check_out_dir(out, force):
    if out.exists() and not out.is_dir():
        raise ValueError(f"{out} is a file, not a folder for the student copy")
    if not out.exists() or not any(out.iterdir()):
        return
    if not force:
        raise FileExistsError(f"{out} is not empty; choose an empty folder, or pass --force "
                              "to replace a previous student copy")
    if not (out / "ASSIGNMENT.md").exists():
        raise FileExistsError(f"{out} is not empty and is not a previous student copy (it has "
                              "no ASSIGNMENT.md): refusing to delete it, even with --force")


def _empty(out):
    out.mkdir(parents=True, exist_ok=True)
    for entry in out.iterdir():
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()
