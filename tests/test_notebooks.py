"""The lessons as notebooks: `lessons --notebooks DIR` writes them, a Jupyter kernel runs them
in fast settings, their plots are inline and their numbers are the scripts' numbers.

Running notebooks needs the `notebooks` extra (jupytext, nbclient, ipykernel); without it
those tests skip and say so. `.ci/run` installs the extra and runs this file.
"""

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from metanumpy import lessons, notebook
from metanumpy.cli import main as cli

ROOT = Path(__file__).resolve().parent.parent
LESSON_FILES = sorted((ROOT / "lessons").glob("[0-9][0-9]_*.py"))
SEED = 1  # not the lessons' default, so a notebook that ignored its settings cell would show
WALL_CLOCK = "seconds"  # a key with this differs between any two runs: not compared
# peak memory (tracemalloc) and its ratios: in a kernel it also counts the kernel's own threads,
# a few KiB of some MiB, so these are compared within 1%
MEMORY = ("memory", "maml_over_fomaml", "fomaml_over_fast")


def need_the_extra():
    """Skip (with how to install them) when the notebook packages are missing."""
    for module in ("jupytext", "nbclient", "ipykernel"):
        pytest.importorskip(module, reason=f"{module} is not installed: the notebooks "
                            f"extra ({notebook.NOTEBOOKS_EXTRA}) runs these tests")


def execute(path):
    """Run the notebook at `path` in a fresh kernel whose folder is the notebook's; returns
    the executed notebook (nbclient raises on the first failing cell)."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute(env=lessons.lesson_environment())
    return nb


def images(nb):
    """How many PNG images the code cells' outputs hold."""
    return sum("image/png" in output.get("data", {})
               for cell in nb.cells if cell.cell_type == "code" for output in cell.outputs)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Every lesson written as a notebook by the CLI (fast, seed 1) and executed, all at once,
    next to the same lessons run as scripts with the same flags. Returns
    {name: (executed notebook, its summary, the script's summary)}."""
    need_the_extra()
    root = tmp_path_factory.mktemp("notebooks")
    cli(["lessons", "--notebooks", str(root), "--fast", "--seed", str(SEED)])
    scripts = {path.stem: subprocess.Popen(
        [sys.executable, str(path), "--fast", "--seed", str(SEED),
         "--out", str(root / "scripts" / path.stem)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        env=lessons.lesson_environment()) for path in LESSON_FILES}
    with ThreadPoolExecutor(max_workers=len(LESSON_FILES)) as pool:
        executed = dict(zip(scripts, pool.map(
            execute, [root / f"{name}.ipynb" for name in scripts])))
    results = {}
    for name, process in scripts.items():
        _, stderr = process.communicate(timeout=300)
        assert process.returncode == 0, f"script {name} failed:\n{stderr[-4000:]}"
        results[name] = tuple([executed[name]] + [
            json.loads((root / folder / name / "summary.json").read_text(encoding="utf-8"))
            for folder in ("out", "scripts")])
    return results


@pytest.mark.parametrize("path", LESSON_FILES, ids=lambda p: p.stem)
def test_notebook_runs_with_its_settings_and_shows_its_plots(runs, path):
    nb, summary, _ = runs[path.stem]  # summary: out/NAME/ next to the notebook
    assert (summary["lesson"], summary["fast"], summary["seed"]) == (path.stem, True, SEED)
    if "report.plot(" in path.read_text(encoding="utf-8"):
        assert summary["plots"], f"{path.stem} draws plots but registered none"
        assert images(nb) == len(summary["plots"]), f"{path.stem}: not every plot is inline"
    else:
        assert images(nb) == 0


@pytest.mark.parametrize("path", LESSON_FILES, ids=lambda p: p.stem)
def test_notebook_numbers_are_the_scripts(runs, path):
    _, in_notebook, in_script = runs[path.stem]
    assert in_notebook["values"].keys() == in_script["values"].keys()
    differ = {}
    for key, value in in_notebook["values"].items():
        expected = in_script["values"][key]
        if any(word in key for word in MEMORY):
            same = value == pytest.approx(expected, rel=0.01)
        else:
            same = WALL_CLOCK in key or value == expected
        if not same:
            differ[key] = (value, expected)
    assert not differ, f"{path.stem}: notebook vs script {differ}"
    assert in_notebook["plots"] == in_script["plots"]


# --- writing notebooks and reading settings, without running a kernel -------------------------


def test_settings_cell_values_are_replaced_keeping_comments():
    cell = "SEED = 0      # the seed\nFAST = False  # tiny budgets\nOUT = None\n"
    changed = notebook.set_settings(cell, "x.py", seed=3, fast=True, out="here")
    assert changed == "SEED = 3      # the seed\nFAST = True  # tiny budgets\nOUT = 'here'\n"
    with pytest.raises(ValueError, match=r"x.py: .* no line `STEPS = \.\.\.`"):
        notebook.set_settings(cell, "x.py", steps=5)


def test_written_notebook_has_the_settings_first(tmp_path):
    pytest.importorskip("jupytext", reason=f"no jupytext ({notebook.NOTEBOOKS_EXTRA})")
    written = notebook.write_notebooks(LESSON_FILES[:1], tmp_path, seed=2, fast=True)
    assert [p.name for p in written] == [f"{LESSON_FILES[0].stem}.ipynb"]
    cells = json.loads(written[0].read_text(encoding="utf-8"))["cells"]
    first_code = next(c for c in cells if c["cell_type"] == "code")
    assert first_code["metadata"]["tags"] == ["parameters"]
    source = "".join(first_code["source"])
    assert "SEED = 2 " in source and "FAST = True " in source and "OUT = None " in source


def test_without_jupytext_the_cli_says_what_to_install(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, "jupytext", None)  # `import jupytext` now fails
    with pytest.raises(SystemExit) as exit_:
        cli(["lessons", "--notebooks", str(tmp_path)])
    assert str(exit_.value) == ("lessons: writing notebooks needs jupytext: "
                                "pip install -e '.[notebooks]'")
    assert not list(tmp_path.iterdir())


def test_in_a_kernel_settings_come_from_the_cell_and_out_is_next_to_it(monkeypatch, tmp_path):
    monkeypatch.setattr(lessons, "in_notebook", lambda: True)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", ["ipykernel_launcher.py", "-f", "kernel.json"])
    args = lessons.lesson_args("04_maml", seed=5, fast=True)
    assert (args.seed, args.fast, Path(args.out)) == (5, True, tmp_path / "out" / "04_maml")
    monkeypatch.setattr(sys, "argv", ["lessons/04_maml.py", "--no-fast"])  # %run 04_maml.py
    assert lessons.lesson_args("04_maml", seed=5, fast=True).fast is False


def test_as_a_script_flags_override_the_cell(monkeypatch):
    monkeypatch.setattr(lessons, "in_notebook", lambda: False)
    args = lessons.lesson_args("04_maml", argv=["--seed", "7"], seed=5, fast=True, out="o")
    assert (args.seed, args.fast, args.out) == (7, True, "o")
    assert lessons.lesson_args("04_maml", argv=[]).out == str(
        lessons.LESSONS_DIR / "out" / "04_maml")


def test_outside_a_kernel_no_image_is_shown(capsys):
    assert not notebook.in_notebook()
    notebook.show_image("does/not/exist.png")  # would fail to read the file if it tried
    assert capsys.readouterr().out == ""
