"""What every lesson shares (its flags, a record of its numbers), and the runner behind
`python -m metanumpy lessons`.

Inside a lesson (`lessons/NN_name.py`), after its settings cell (SEED, FAST, OUT):

    args = lesson_args("04_maml", __doc__, seed=SEED, fast=FAST, out=OUT)   # or the flags
    report = Report(args)
    report.value("trap_vs_correct", gap, "relative difference, trap vs correct")
    report.accuracy("maml", result, "MAML 5-way 1-shot", headline=True)   # 46.51% ± 1.33%
    report.plot(plot.learning_curves(histories, report.path("curves.png"), "MAML"))
    report.save()                                 # OUT/summary.json: the numbers and the plots

From the command line:

    python -m metanumpy lessons --list            # what there is
    python -m metanumpy lessons 4                 # run lesson 04
    python -m metanumpy lessons --all --fast      # every lesson, in order, as separate scripts

The runner starts each lesson as its own process (what `python lessons/NN_name.py` does, with
one BLAS thread unless OMP_NUM_THREADS is set), then prints one table: lesson, seconds, and
the headline numbers of its summary.json.
"""

import argparse
import ast
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from .assignments.guard import check_lesson
from .notebook import in_notebook, show_image
from .threads import one_blas_thread

LESSONS_DIR = Path(__file__).resolve().parent.parent / "lessons"
"""The lessons folder of the repository this package was installed from (`pip install -e .`)."""


def lesson_args(name, doc=None, argv=None, seed=0, fast=False, out=None):
    """A lesson's settings: --seed, --fast (a seconds-long check run for the tests) and --out
    (where plots and summary.json go).

    seed, fast, out: the values of the lesson's settings cell, the defaults of the flags. A
    script's flags override them; a notebook takes them as they are (the kernel's own flags
    are not ours), unless the lesson was started with `%run NN_name.py --fast`. out=None
    means `out/NAME/` next to the notebook (the kernel's folder), or `lessons/out/NAME/` for
    a script. In a student copy, a lesson that imported another copy's metanumpy stops with
    what to do, and a task still to write is named instead of shown as a traceback
    (assignments/guard.py).
    """
    check_lesson()
    in_kernel = in_notebook()
    if out is None:
        out = (Path.cwd() if in_kernel else LESSONS_DIR) / "out" / name
    parser = argparse.ArgumentParser(
        prog=f"python lessons/{name}.py", description=doc,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=seed,
                        help="seed for data, models and episodes (default: %(default)s)")
    parser.add_argument("--fast", action=argparse.BooleanOptionalAction, default=fast,
                        help="tiny step and episode counts: a seconds-long check that it runs")
    parser.add_argument("--out", default=str(out),
                        help="folder for the plots and summary.json (default: %(default)s)")
    if argv is None and in_kernel:
        started_by_run = Path(sys.argv[0]).stem == name   # `%run 04_maml.py --fast`
        argv = sys.argv[1:] if started_by_run else []
    args = parser.parse_args(argv)
    args.name = name
    return args


def _number(value):
    """A JSON-friendly number: bools stay bools, NumPy scalars become Python floats/ints."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    return float(value)


class Report:
    """The numbers a lesson measured and the plots it drew, printed as they come and saved
    to OUT/summary.json at the end (the tests and the lessons runner read that file)."""

    def __init__(self, args):
        self.name, self.seed, self.fast = args.name, args.seed, args.fast
        self.out = Path(args.out)
        self.out.mkdir(parents=True, exist_ok=True)
        self.values, self.labels, self.formats, self.headline, self.plots = {}, {}, {}, [], []
        self.started = time.perf_counter()
        one_blas_thread()  # small matrices: a second BLAS thread only waits (threads.py)
        if self.fast:
            print(f"[{self.name}: --fast run, tiny budgets: the numbers are not meaningful]")

    def path(self, filename):
        """Where to write an output file of this lesson (as a str)."""
        return str(self.out / filename)

    def value(self, key, number, label, fmt="{:.6g}", headline=False):
        """Print `label: number` and record it under `key`; returns the number."""
        number = _number(number)
        self.values[key], self.labels[key], self.formats[key] = number, label, fmt
        if headline:
            self.headline.append(key)
        print(f"{label}: {fmt.format(number) if not isinstance(number, bool) else number}")
        return number

    def accuracy(self, key, result, label, headline=False):
        """Record an EvalResult (or a (mean, ci95) pair) as `key` and `key_ci95`; print
        `label: 62.40% ± 0.85%`. Returns the mean."""
        mean, ci = (result.mean, result.ci95) if hasattr(result, "ci95") else result
        self.values[key], self.labels[key] = float(mean), label
        self.values[f"{key}_ci95"], self.labels[f"{key}_ci95"] = float(ci), f"{label} (95% CI)"
        if headline:
            self.headline.append(key)
        print(f"{label}: {100 * mean:.2f}% ± {100 * ci:.2f}%")
        return float(mean)

    def beats(self, a, b):
        """True when accuracy `a`'s 95% interval lies entirely above `b`'s."""
        values = self.values
        return values[a] - values[f"{a}_ci95"] > values[b] + values[f"{b}_ci95"]

    def plot(self, path):
        """Register a plot file written in the output folder (and show it, in a notebook);
        returns its path."""
        self.plots.append(Path(path).name)
        print(f"plot saved: {path}")
        show_image(path)
        return path

    def save(self):
        """Write OUT/summary.json; returns its path."""
        summary = {
            "lesson": self.name, "seed": self.seed, "fast": self.fast,
            "seconds": round(time.perf_counter() - self.started, 2),
            "values": self.values, "labels": self.labels, "formats": self.formats,
            "headline": self.headline, "plots": self.plots,
        }
        path = self.out / "summary.json"
        path.write_text(json.dumps(summary, indent=1), encoding="utf-8")
        print(f"summary saved: {path} ({summary['seconds']:.1f} s)")
        return str(path)


# --- the runner ------------------------------------------------------------------------------


def find_lessons(folder=LESSONS_DIR):
    """The lesson scripts `NN_name.py` of `folder`, in order."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"no lessons folder at {folder}: the lessons live in the "
                                "repository (install it with `python -m pip install -e .`)")
    return sorted(p for p in folder.glob("[0-9][0-9]_*.py"))


def pick_lessons(numbers, folder=LESSONS_DIR):
    """The lessons with these numbers (4 or "04" means 04_*.py); ValueError for unknown ones."""
    by_number = {int(p.name[:2]): p for p in find_lessons(folder)}
    unknown = [n for n in numbers if int(n) not in by_number]
    if unknown:
        raise ValueError(f"no lesson numbered {', '.join(map(str, unknown))}; there are "
                         f"{', '.join(f'{n:02d}' for n in sorted(by_number))} (see --list)")
    return [by_number[int(n)] for n in numbers]


def lesson_environment():
    """The environment for a lesson process: ours, with one BLAS thread unless the user chose.

    The lessons multiply small matrices; several BLAS threads then mostly wait for each other
    (MAML steps measured 2-4x slower with two threads on a 2-core machine).
    """
    env = dict(os.environ)
    env.setdefault("OMP_NUM_THREADS", "1")
    return env


def run_lesson(path, seed=0, fast=False, out_root=None):
    """Run one lesson script as a subprocess (its output goes straight to the terminal).

    Returns {"lesson", "ok", "seconds", "summary"}: summary is its summary.json (or None).
    """
    path = Path(path)
    out = Path(out_root or LESSONS_DIR / "out") / path.stem
    command = [sys.executable, str(path), "--seed", str(seed), "--out", str(out)]
    if fast:
        command.append("--fast")
    print(f"\n===== {path.stem} " + "=" * max(0, 60 - len(path.stem)), flush=True)
    start = time.perf_counter()
    code = subprocess.run(command, env=lesson_environment(), check=False).returncode
    seconds = time.perf_counter() - start
    summary_file = out / "summary.json"
    summary = (json.loads(summary_file.read_text(encoding="utf-8"))
               if code == 0 and summary_file.exists() else None)
    return {"lesson": path.stem, "ok": code == 0, "seconds": seconds, "summary": summary}


def _headline(summary):
    """`key value` for each headline number of a summary (accuracies as `mean% ± ci`)."""
    if summary is None:
        return "FAILED"
    values, formats = summary["values"], summary["formats"]
    parts = []
    for key in summary["headline"]:
        value = values[key]
        if isinstance(value, bool):
            parts.append(f"{key} {value}")
        elif key in formats:
            parts.append(f"{key} {formats[key].format(value)}")
        else:
            parts.append(f"{key} {100 * value:.1f}% ± {100 * values[key + '_ci95']:.1f}")
    return ", ".join(parts)


def summary_table(results):
    """The text table printed after a run: one row per lesson."""
    width = max([len("lesson")] + [len(r["lesson"]) for r in results])
    lines = [f"{'lesson':<{width}}  {'seconds':>7}  key numbers"]
    lines += [f"{r['lesson']:<{width}}  {r['seconds']:7.1f}  {_headline(r['summary'])}"
              for r in results]
    return "\n".join(lines)


def run_lessons(paths, seed=0, fast=False, out_root=None):
    """Run the lessons in order, print the summary table; returns the list of results."""
    results = [run_lesson(p, seed, fast, out_root) for p in paths]
    print("\n" + summary_table(results))
    return results


def describe_lessons(folder=LESSONS_DIR):
    """One line per lesson: its file name and the first line of its docstring."""
    lines = []
    for path in find_lessons(folder):
        first = _first_doc_line(path.read_text(encoding="utf-8"))
        lines.append(f"{path.name:<36} {first}")
    return "\n".join(lines)


def _first_doc_line(source):
    """The first line of a script's module docstring (empty if it has none)."""
    doc = ast.get_docstring(ast.parse(source)) or ""
    return doc.strip().splitlines()[0] if doc.strip() else ""
