"""The lessons as Jupyter notebooks: knowing that we run in one, showing a plot inline, and
writing the `.ipynb` files that `python -m metanumpy lessons --notebooks DIR` hands out.

    in_notebook()                                  # True inside a Jupyter (IPython) kernel
    show_image("out/curves.png")                   # the PNG, inline; nothing in a script
    write_notebooks(find_lessons(), "handout", fast=True)   # handout/01_autograd.ipynb, ...

Every lesson's first code cell holds its settings (`SEED`, `FAST`, `OUT`; tagged
"parameters", so papermill can set them too). A notebook takes its settings from that cell;
a script takes them from its flags. Writing notebooks needs jupytext, from the optional
extra: `pip install -e '.[notebooks]'` (jupytext, nbclient, ipykernel).
"""

import re
import sys
from pathlib import Path

NOTEBOOKS_EXTRA = "pip install -e '.[notebooks]'"
"""What to install for the notebook route (the `notebooks` extra of setup.cfg)."""

SETTINGS_TAG = "parameters"
"""The tag of a lesson's settings cell (the name papermill looks for)."""

KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}
"""The kernel a written notebook asks for: the one ipykernel installs."""


def in_notebook():
    """True inside a Jupyter kernel (JupyterLab, classic Notebook, VS Code, Colab).

    A terminal IPython has no kernel and counts as a script: it shows no images inline.
    IPython is only asked when something already imported it.
    """
    if "IPython" not in sys.modules:
        return False
    from IPython import get_ipython

    return getattr(get_ipython(), "kernel", None) is not None


def show_image(path):
    """Show the PNG at `path` inline when running in a notebook; do nothing otherwise."""
    if in_notebook():
        from IPython.display import Image, display

        display(Image(filename=str(path)))


def _jupytext():
    """The jupytext module, or one clear error saying how to install it."""
    try:
        import jupytext
    except ImportError:
        raise ImportError(f"writing notebooks needs jupytext: {NOTEBOOKS_EXTRA}") from None
    return jupytext


def set_settings(source, path, **values):
    """`source` (a settings cell) with `NAME = value` lines replaced, e.g. fast=True sets
    `FAST = True` and keeps the line's comment. ValueError names `path` and the setting when
    the cell has no such line."""
    for name, value in values.items():
        pattern = rf"^({name.upper()} = )[^#\n]*?([ \t]*(#.*)?)$"
        source, count = re.subn(pattern, lambda m: m.group(1) + repr(value) + m.group(2),
                                source, count=1, flags=re.M)
        if count == 0:
            raise ValueError(f"{path}: its settings cell has no line `{name.upper()} = ...`")
    return source


def lesson_notebook(path, **settings):
    """The lesson script at `path` (jupytext percent format) as a notebook object, its
    settings cell given `settings` (e.g. seed=3, fast=True; None keeps the lesson's value)."""
    path = Path(path)
    notebook = _jupytext().read(path, fmt="py:percent")
    notebook.metadata["kernelspec"] = dict(KERNELSPEC)
    chosen = {k: v for k, v in settings.items() if v is not None}
    cells = [c for c in notebook.cells
             if c.cell_type == "code" and SETTINGS_TAG in c.metadata.get("tags", [])]
    if len(cells) != 1:
        raise ValueError(f"{path}: expected one code cell tagged {SETTINGS_TAG!r} (the "
                         f"settings), found {len(cells)}")
    if chosen:
        cells[0].source = set_settings(cells[0].source, path, **chosen)
    return notebook


def write_notebooks(paths, folder, **settings):
    """Write `NN_name.ipynb` into `folder` (created) for each lesson script in `paths`, with
    the settings given (see `lesson_notebook`). Returns the paths written."""
    jupytext = _jupytext()
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for path in paths:
        target = folder / f"{Path(path).stem}.ipynb"
        jupytext.write(lesson_notebook(path, **settings), target, fmt="ipynb")
        written.append(target)
    return written
