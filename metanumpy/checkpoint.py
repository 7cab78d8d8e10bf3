"""Save and load nested training state (arrays, numbers, strings) safely.

A checkpoint is one `.npz` file: every array of the state goes in as its own entry, and the
rest of the structure (dicts, lists, numbers, RNG states with their big integers) as one JSON
string. Writes are atomic: the file is written next to its destination and renamed over it,
so a crash or Ctrl-C mid-write never leaves a half-written checkpoint behind.
`save(..., keep_previous=True)` first renames the file it replaces to `NAME.prev.npz`, so a
checkpoint damaged later (a full disk, a bad copy) still has a predecessor to fall back to.
A file that cannot be read raises `DamagedCheckpoint`, one line that names the file.
"""

import json
import os
import zipfile

import numpy as np

from . import backend as B

_META = "__structure__"


class DamagedCheckpoint(ValueError):
    """A checkpoint file exists but cannot be read (truncated, overwritten, not an .npz)."""


def previous(path):
    """Where `save(path, ..., keep_previous=True)` keeps the file it replaced."""
    root, ext = os.path.splitext(os.fspath(path))
    return f"{root}.prev{ext}"


def _split(tree, path, arrays):
    """Replace arrays in `tree` by references, collecting them in `arrays`."""
    if isinstance(tree, dict):
        return {"dict": {str(k): _split(v, f"{path}/{k}", arrays) for k, v in tree.items()}}
    if isinstance(tree, (list, tuple)):
        return {"list": [_split(v, f"{path}/{i}", arrays) for i, v in enumerate(tree)]}
    if B.is_array(tree):
        arrays[path] = B.to_numpy(tree)
        return {"array": path}
    if isinstance(tree, np.generic):
        return {"value": tree.item()}
    if tree is None or isinstance(tree, (bool, int, float, str)):
        return {"value": tree}
    raise TypeError(f"checkpoint: cannot store a {type(tree).__name__} at {path or '/'}")


def _join(node, arrays):
    if "dict" in node:
        return {k: _join(v, arrays) for k, v in node["dict"].items()}
    if "list" in node:
        return [_join(v, arrays) for v in node["list"]]
    if "array" in node:
        return arrays[node["array"]]
    return node["value"]


def atomic_write(path, write):
    """Call `write(file)` on a temporary file, then rename it to `path` in one step."""
    path = os.fspath(path)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = f"{path}.tmp-{os.getpid()}"
    try:
        with open(tmp, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def save(path, state, keep_previous=False):
    """Write a nested `state` (dicts, lists, arrays, numbers, strings) to `path` atomically.

    keep_previous: first rename an existing `path` to `previous(path)`.
    """
    if keep_previous and os.path.exists(path):
        os.replace(path, previous(path))
    arrays = {}
    structure = _split(state, "", arrays)
    entries = {f"a{i}": a for i, a in enumerate(arrays.values())}
    index = dict(zip(arrays, entries))
    payload = json.dumps({"structure": structure, "index": index})
    atomic_write(path, lambda f: np.savez(f, **entries, **{_META: np.array(payload)}))


def load(path):
    """Read a state written by `save` (arrays come back as host NumPy arrays)."""
    if not os.path.exists(path):
        raise FileNotFoundError(f"checkpoint {path} does not exist")
    try:
        data = np.load(path, allow_pickle=False)
        try:
            files = getattr(data, "files", [])  # a bare .npy array has none
            meta = json.loads(str(data[_META])) if _META in files else None
            arrays = {name: data[entry] for name, entry in meta["index"].items()} if meta else {}
        finally:
            if files:
                data.close()
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, KeyError, TypeError) as err:
        raise DamagedCheckpoint(f"{path} is damaged ({type(err).__name__}: {err})") from None
    if meta is None:
        raise ValueError(f"{path} is not a metanumpy checkpoint (no {_META} entry)")
    return _join(meta["structure"], arrays)


def write_json(path, obj):
    """Write JSON atomically (history files are read while training runs)."""
    text = json.dumps(obj, indent=1)
    atomic_write(path, lambda f: f.write(text.encode("utf-8")))
