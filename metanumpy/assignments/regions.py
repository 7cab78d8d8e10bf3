"""Turn one reference source file into its student version: solutions out, hidden tests out.

A teacher marks, with comment lines in the single reference source, the code a student writes:

    def double(x):
        ### BEGIN SOLUTION task1_1: multiply by two
        return 2 * x
        ### END SOLUTION

In the student version the whole region, both marker lines included, becomes one line at the
indentation of the BEGIN line: `raise NotImplementedError("Task 1.1: multiply by two")` (the
hint after the colon is optional). A block between the comments `### BEGIN HIDDEN TESTS` and
`### END HIDDEN TESTS` is removed entirely. This is nbgrader's "clear solutions" idea.
With `only={"task1_1"}` just the regions of those tasks are replaced; the others keep their
reference code and lose only their two marker lines (a partial release, or a full-solution
copy with `only=()`).

A Python file whose first line is the comment `### TEACHER ONLY` (the list of mutants, say) is
left out of the student copy altogether.

Markers are real comments (found with `tokenize`), so a marker written inside a string, as in
this docstring or in a test that builds a toy repository, is left alone.
"""

import ast
import io
import json
import re
import tokenize
from dataclasses import dataclass

TASK_ID = re.compile(r"task(\d+)_(\d+)")
"""A task id: `task2_3` is "Task 2.3", the pytest marker that checks it is `task2_3` too."""

TEACHER_ONLY = "### TEACHER ONLY"
"""The first line of a file that is never released."""

_BEGIN_SOLUTION = re.compile(r"### BEGIN SOLUTION(?:\s+(?P<spec>.*))?")
_KINDS = {"SOLUTION": "solution region", "HIDDEN TESTS": "hidden tests block"}


@dataclass(frozen=True)
class Task:
    """One solution region: task id, file (relative, "/" separators), line of BEGIN, hint."""

    id: str
    file: str
    line: int
    hint: str = ""

    @property
    def number(self):
        """(2, 3) for task2_3: tasks sort by chapter, then step."""
        major, minor = TASK_ID.fullmatch(self.id).groups()
        return int(major), int(minor)

    @property
    def message(self):
        """The text the student sees: "Task 2.3: hint" (or "Task 2.3" without a hint)."""
        title = "Task {}.{}".format(*self.number)
        return f"{title}: {self.hint}" if self.hint else title


def unimplemented_message(task_id):
    """A regular expression for the NotImplementedError of `task_id`'s regions, whatever
    their hints: "NotImplementedError: Task 4.3" (not Task 4.31)."""
    major, minor = TASK_ID.fullmatch(task_id).groups()
    return rf"NotImplementedError: Task {major}\.{minor}(?!\d)"


def task_order(task_id):
    """Sort key of a task id string: task10_1 comes after task2_3."""
    return tuple(int(part) for part in TASK_ID.fullmatch(task_id).groups())


@dataclass(frozen=True)
class _Marker:
    line: int
    kind: str          # "SOLUTION" or "HIDDEN TESTS"
    begins: bool
    indent: str
    task: Task = None  # only on a BEGIN SOLUTION line


@dataclass(frozen=True)
class StudentFile:
    """The student version of one file, and its tasks with the line of their `raise`."""

    text: str
    tasks: list        # [(Task, line of the raise in the student version)]


def student_version(text, path, only=None):
    """Replace the solution regions of `text` and drop its hidden tests; `path` names errors.

    `only`: the task ids whose regions are replaced (default None: every region); the regions
    of other tasks keep their code, without the marker lines.
    Raises ValueError naming file and line for nested, unclosed or unmatched regions, a bad
    task id, or a student version that would not compile or would fail on import.
    """
    if "### BEGIN" not in text and "### END" not in text:
        return StudentFile(text, [])
    lines = io.StringIO(text, newline="").readlines()
    markers = _markers(text, lines, path)
    kept, tasks, opened, keep_body = [], [], None, False
    for number, line in enumerate(lines, start=1):
        marker = markers.get(number)
        if marker is None:
            if opened is None or keep_body:
                kept.append(line)
            continue
        if marker.begins:
            if opened is not None:
                raise ValueError(f"{path}:{number}: a {_KINDS[marker.kind]} starts inside the "
                                 f"{_KINDS[opened.kind]} opened at line {opened.line}; "
                                 "regions cannot be nested")
            opened = marker
            keep_body = marker.task is not None and only is not None and marker.task.id not in only
            if marker.task is not None and not keep_body:
                newline = line[len(line.rstrip("\r\n")):] or "\n"
                literal = json.dumps(marker.task.message, ensure_ascii=False)
                kept.append(f"{marker.indent}raise NotImplementedError({literal}){newline}")
                tasks.append((marker.task, len(kept)))
        elif opened is None:
            raise ValueError(f"{path}:{number}: END {marker.kind} without a matching "
                             f"BEGIN {marker.kind} above it")
        elif opened.kind != marker.kind:
            raise ValueError(f"{path}:{number}: END {marker.kind} cannot close the "
                             f"{_KINDS[opened.kind]} opened at line {opened.line}")
        else:
            opened, keep_body = None, False
    if opened is not None:
        raise ValueError(f"{path}:{opened.line}: the {_KINDS[opened.kind]} opened here is "
                         f"never closed (add a line `### END {opened.kind}`)")
    student = "".join(kept)
    _check_importable(student, path, tasks)
    return StudentFile(student, tasks)


def teacher_only(text):
    """True for a file that starts with the line `### TEACHER ONLY` (never released)."""
    return text.lstrip("\ufeff").startswith(TEACHER_ONLY)


def region_bodies(text, path, task_id):
    """[(start, end)]: the character offsets in `text` of the bodies of `task_id`'s solution
    regions (the lines between BEGIN and END)."""
    lines = io.StringIO(text, newline="").readlines()
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))
    spans, start = [], None
    for number, marker in sorted(_markers(text, lines, path).items()):
        if marker.begins and marker.task is not None and marker.task.id == task_id:
            start = offsets[number]
        elif not marker.begins and marker.kind == "SOLUTION" and start is not None:
            spans.append((start, offsets[number - 1]))
            start = None
    return spans


def _markers(text, lines, path):
    """{line number: _Marker} for every comment line that is a marker."""
    markers = {}
    for number, comment in _comment_lines(text, lines, path).items():
        line = lines[number - 1]
        indent = line[:len(line) - len(line.lstrip())]
        marker = _parse_marker(comment.strip(), number, indent, path)
        if marker is not None:
            markers[number] = marker
    return markers


def _comment_lines(text, lines, path):
    """{line number: comment} for the lines that hold nothing but a comment."""
    comments = {}
    try:
        for token in tokenize.generate_tokens(io.StringIO(text, newline="").readline):
            row, column = token.start
            if token.type == tokenize.COMMENT and not lines[row - 1][:column].strip():
                comments[row] = token.string
    except (tokenize.TokenError, SyntaxError) as error:
        raise ValueError(f"{path}: cannot read this Python file to find its markers: {error}")
    return comments


def _parse_marker(comment, number, indent, path):
    begin = _BEGIN_SOLUTION.fullmatch(comment)
    if begin:
        task_id, _, hint = (begin.group("spec") or "").partition(":")
        task_id = task_id.strip()
        if not TASK_ID.fullmatch(task_id):
            raise ValueError(f"{path}:{number}: bad task id {task_id!r} after BEGIN SOLUTION: "
                             "write it as taskA_B, e.g. `### BEGIN SOLUTION task2_3: hint`")
        task = Task(task_id, path, number, hint.strip())
        return _Marker(number, "SOLUTION", True, indent, task)
    for kind in _KINDS:
        for word in ("BEGIN", "END"):
            if comment == f"### {word} {kind}":
                return _Marker(number, kind, word == "BEGIN", indent)
    if comment.startswith(("### BEGIN", "### END")):
        raise ValueError(f"{path}:{number}: unknown marker {comment!r}; the markers are "
                         "`### BEGIN SOLUTION taskA_B: hint`, `### END SOLUTION`, "
                         "`### BEGIN HIDDEN TESTS` and `### END HIDDEN TESTS`")
    return None


def _check_importable(student, path, tasks):
    """The student version must compile, and no `raise` we wrote may run at import time."""
    try:
        compile(student, path, "exec")
    except SyntaxError as error:
        regions = ", ".join(f"{task.id} (line {task.line})" for task, _ in tasks) or "none"
        raise ValueError(f"{path}:{error.lineno}: the student version does not compile "
                         f"({error.msg}; line {error.lineno} of the student version). "
                         f"Solution regions in this file: {regions}") from None
    tree = ast.parse(student, path)
    functions = (ast.FunctionDef, ast.AsyncFunctionDef)
    inside_functions = {node.lineno for function in ast.walk(tree)
                        if isinstance(function, functions)
                        for node in ast.walk(function) if isinstance(node, ast.Raise)}
    for task, raise_line in tasks:
        if raise_line not in inside_functions:
            raise ValueError(f"{path}:{task.line}: solution region {task.id} is not inside a "
                             "function, so the student copy would raise NotImplementedError "
                             "on import; put the region in a function body")
