"""A run folder bound to its settings: what shaped the result is written down, and checked.

    record = runfolder.make_record(out, exp.settings.to_dict(), "maml", {"inner_lr": 2.0},
                                   training={"meta_batch": 4, ...}, init="emb.npz",
                                   path="reference")  # or "fast": the caller knows which
    runfolder.bind(out, record, restart=False)   # RunFolderMismatch if the folder disagrees
    runfolder.write(out, record)                   # settings.json, after every check passed

`settings.json` records everything that shapes a run's result: the task settings, the
algorithm and its options, the training budget that picks the best model, the vocabulary
bounds, the `--init` file with its SHA-256, and for real data the location of the data
(relative to the run folder when possible, so a project folder can move as a whole) and a
content hash of its files. `train` into a folder whose record differs refuses and prints
`name: old -> new`; `evaluate` warns when the data changed since training.

It also records the computation path the run trained on, `"path": "reference"` or `"fast"`
(metanumpy/fast/). The two agree to float32 rounding, except Reptile with its inner Adam, whose
trajectory parts after a few steps; a resumed run promises the uninterrupted run exactly, which
the other path cannot keep, so a path change refuses like any other setting. Only `train` is
bound: `evaluate` and `predict` read a finished model, and may do so on either path.
A folder made before the path was recorded has no "path": which path trained it is unknown, so
it continues on either (guessing "reference" would wrongly refuse a fast-path run continuing on
its own path), and the rerun writes the field, which binds the folder from then on.
"""

import hashlib
import json
import os
import shutil
from pathlib import Path

SETTINGS_FILE = "settings.json"
FREE_TO_CHANGE = ("steps",)
"""Training settings a rerun may change: a larger --steps continues the run."""
PATHS = ("reference", "fast")
"""The computation paths a run or a results table can be made on (metanumpy/fast/)."""
RUN_FILES = ("checkpoint.npz", "checkpoint.prev.npz", "best.npz", "history.json", "curves.png",
             "evaluation-train.json", "evaluation-val.json", "evaluation-test.json")
"""What `train` writes besides settings.json and vocab.txt; `--restart` removes these."""


class RunFolderMismatch(ValueError):
    """The run folder was made with other settings than the ones asked for now."""


class DataChanged(UserWarning):
    """The data of a run differs from the data it was trained on."""


def sha256_of(paths):
    """Hex SHA-256 over the names and bytes of `paths` (one file or several, in order)."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(Path(path).name.encode("utf-8") + b"\0")
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def data_files(location):
    """The data files behind a --data/--tasks location (sorted), or [] for a built-in family."""
    path = Path(location)
    if path.is_file():
        return [path]
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.is_file()
                      and p.suffix in (".tsv", ".jsonl") and p.stem in ("train", "val", "test"))
    return []


def portable_path(path, out_dir):
    """`path` relative to the run folder when it can be (so both can move together)."""
    try:
        return os.path.relpath(os.path.abspath(path), os.path.abspath(out_dir))
    except ValueError:  # another drive on Windows
        return os.path.abspath(path)


def resolve(path, out_dir):
    """A path stored by `portable_path`, as a path usable from the current directory."""
    return os.path.normpath(os.path.join(out_dir, path))


def make_record(out_dir, settings, algo, options, training=None, init=None, resolved=None,
                path=None):
    """The dict that settings.json holds for a run (see the module docstring). options: those
    the user gave; resolved: every option the learner runs with (defaults filled in); path:
    the computation path, "reference" or "fast"."""
    settings = dict(settings)
    files = data_files(settings["tasks"])
    data = None
    if files:
        data = {"files": [p.name for p in files], "sha256": sha256_of(files)}
        settings["tasks"] = portable_path(settings["tasks"], out_dir)
    init_record = None
    if init is not None:
        init_record = {"path": portable_path(init, out_dir), "sha256": sha256_of([init])}
    record = {"settings": settings, "algo": algo, "options": dict(options),
              "training": dict(training or {}), "init": init_record, "data": data,
              "data_relative_to_run_folder": data is not None}
    if resolved is not None:
        record["resolved_options"] = dict(resolved)
    if path is not None:
        record["path"] = path
    return record


def run_options(record):
    """The options to rebuild a saved run's learner with: every option it trained with, or,
    for a folder made before they were recorded, those the user gave (the defaults of this
    version fill in the rest; see `given_options`)."""
    if "resolved_options" in record:
        return dict(record["resolved_options"])
    return given_options(record)


def given_options(record):
    """The options the user gave. One default changed before defaults were recorded: MAML,
    FOMAML and Reptile over the lexical encoder had a learned head, and now default to the
    prototype head; an older folder of theirs keeps the head it trained with."""
    options = dict(record.get("options", {}))
    if ("resolved_options" not in record and record.get("algo") in ("maml", "fomaml", "reptile")
            and record.get("settings", {}).get("encoder") == "lexical"):
        options.setdefault("head", "learned")
    return options


def data_location(record, out_dir):
    """Where the run's data is, as a path usable from the current directory."""
    tasks = record["settings"]["tasks"]
    return resolve(tasks, out_dir) if record.get("data_relative_to_run_folder") else tasks


def _short(value):
    """A value as a diff line shows it (hashes cut to 12 hex digits)."""
    if isinstance(value, dict) and "sha256" in value:  # an --init record
        return f"{value['path']} (sha256 {value['sha256'][:12]})"
    if isinstance(value, str) and value.startswith("sha256 "):
        return value[:len("sha256 ") + 12]
    return "none" if value is None else str(value)


def _comparable(record, legacy=False):
    """{name: value} of everything in `record` that must match for a run to continue;
    legacy: compare the options the user gave (one left at its default reads "default")
    instead of every option the learner ran with."""
    flat = dict(record.get("settings", {}))
    if record.get("data"):  # real data: its content matters, not where it lies now
        del flat["tasks"]
        flat["data content"] = f"sha256 {record['data']['sha256']}"
    flat["algo"] = record.get("algo")
    flat.update({name: value for name, value in record.get("training", {}).items()
                 if name not in FREE_TO_CHANGE})
    flat["init"] = record.get("init")  # compared by content (sha256), shown by its path
    flat["path"] = record.get("path")  # None: made before the path was recorded
    flat.update(given_options(record) if legacy else record.get("resolved_options", {}))
    return flat


def differences(old, new):
    """["name: old -> new", ...] for every result-shaping setting that differs.

    Options are compared with their defaults filled in, so a default that changed between
    versions refuses like a changed flag; a folder made before defaults were recorded is
    compared on the options the user gave, as it was then."""
    legacy = "resolved_options" not in old or "resolved_options" not in new
    old_flat, new_flat = _comparable(old, legacy), _comparable(new, legacy)
    lines = []
    for name in dict.fromkeys([*old_flat, *new_flat]):
        a, b = old_flat.get(name, "default"), new_flat.get(name, "default")
        if name == "init" and a and b and a["sha256"] == b["sha256"]:
            continue  # the same file, maybe reached by another path
        if name == "path" and None in (a, b):
            continue  # an older folder: its path is unknown, so it continues on either
        if a != b:
            lines.append(f"{name}: {_shown(old, name, a)} -> {_shown(new, name, b)}")
    return lines


def _shown(record, name, value):
    """`value` as a diff line shows it; an option the user left unset reads "VALUE (default)"
    (or "default" where the record does not say which value that was)."""
    resolved = record.get("resolved_options", {})
    if name in record.get("options", {}) or name not in resolved:
        return _short(value)
    return f"{_short(resolved[name])} (default)"


def read(out_dir):
    """The record in out_dir/settings.json, or None when there is none."""
    path = os.path.join(out_dir, SETTINGS_FILE)
    if not os.path.exists(path):
        return None
    try:
        with open(path, encoding="utf-8") as f:
            record = json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ValueError(f"{path} is damaged ({err}); delete the run folder or train with "
                         "--restart") from None
    if not isinstance(record, dict) or "settings" not in record or "algo" not in record:
        raise ValueError(f"{path} is not a metanumpy settings file (no 'settings' and 'algo')")
    return record


def bind(out_dir, record, restart=False):
    """Refuse (RunFolderMismatch) to continue a run made with other settings; with `restart`,
    remove what the old run left instead. Touches nothing when it refuses."""
    old = read(out_dir)
    if old is None:
        return
    if restart:
        for name in RUN_FILES:
            target = os.path.join(out_dir, name)
            if os.path.isdir(target):
                shutil.rmtree(target)
            elif os.path.exists(target):
                os.remove(target)
        return
    lines = differences(old, record)
    if lines:
        raise RunFolderMismatch(
            f"the run folder {out_dir} holds a run with other settings:\n"
            + "".join(f"  {line}\n" for line in lines) + _path_advice(old, lines)
            + "Train into a new folder (--out NEW), or discard that run and start again "
              "(--restart).")


def _path_advice(old, lines):
    """A line on how to continue the run on its own path, when the path is what differs."""
    if not any(line.startswith("path: ") for line in lines):
        return ""
    rerun = ("with --fast-path" if old["path"] == "fast"
             else "without --fast-path (and without METANUMPY_FAST_PATH=1)")
    return f"It was trained on the {old['path']} path: to continue it, rerun {rerun}.\n"


def write(out_dir, record):
    """Write settings.json (call it only once every check has passed)."""
    from .checkpoint import write_json

    os.makedirs(out_dir, exist_ok=True)
    write_json(os.path.join(out_dir, SETTINGS_FILE), record)


def data_changed(record, out_dir, location=None):
    """A warning line when the data's content hash differs from the recorded one, else None."""
    if not record.get("data"):
        return None
    location = location or data_location(record, out_dir)
    files = data_files(location)
    if not files:
        return None
    now = sha256_of(files)
    if now == record["data"]["sha256"]:
        return None
    return (f"the data in {location} changed since this run was trained (content sha256 "
            f"{record['data']['sha256'][:12]} -> {now[:12]}): the accuracy is not comparable "
            "with the one `train` printed")
