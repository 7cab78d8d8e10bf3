"""Real data: your own labelled texts as a TextSource, with errors that point at the line.

    source = tasks.load("data/intents/")            # train.tsv, val.tsv, test.tsv
    source = tasks.load("data/reviews.jsonl")       # one file, classes split 60/20/20 by seed
    source = tasks.load("topics", seed=3)           # or a built-in family, with its knobs

Formats (UTF-8, one example per line, blank lines skipped):

    label<TAB>text                          in a .tsv file (the text may contain more tabs)
    {"label": "...", "text": "..."}         in a .jsonl file

A folder holds train, val and test files (`train.tsv` or `train.jsonl`, and so on) whose
classes must be disjoint: few-shot evaluation is about classes never seen in training.
A single file is split by class: `split=(train_classes, val_classes, test_classes)`, or
`fractions=(0.6, 0.2, 0.2)` of a seeded shuffle of the sorted class names.
Whether a class has enough examples for K shots + Q queries is checked by the episode
sampler, which knows K and Q.

Two things are reported as a `DataWarning` (the command line prints it as one line): a first
line of a .tsv file that looks like a column header (`label<TAB>text`: it is skipped, not read
as a class named "label"), and a text of more than `LONG_TEXT` characters (usually a file whose
line breaks were lost).

Grouped tasks: when every label reads `group/label` ("books/positive", "kitchen/negative";
in .jsonl also `{"task": "books", "label": "positive", ...}`), each episode draws all its
classes from one group (2-way sentiment inside one product), as the built-in sentiment
family does. A single grouped file is split by group, not by class.
"""

import json
import warnings
from pathlib import Path

import numpy as np

from .crossdomain import crossdomain
from .sentiment import sentiment
from .source import SPLITS, TextSource, check_disjoint
from .topics import topics

FAMILIES = {"topics": topics, "sentiment": sentiment, "crossdomain": crossdomain}
LONG_TEXT = 100_000
"""Texts longer than this many characters are accepted with a warning."""
HEADER_LABELS = {"label", "labels", "class", "category", "intent", "target", "y"}
HEADER_TEXTS = {"text", "texts", "sentence", "utterance", "example", "query", "document", "x"}


class DataWarning(UserWarning):
    """Data that is read, but probably not what its author meant."""


def _is_header(label, text):
    return label.strip().lower() in HEADER_LABELS and text.strip().lower() in HEADER_TEXTS


def _parse_tsv(line, where):
    label, tab, text = line.partition("\t")
    if not tab:
        raise ValueError(f"{where}: expected 'label<TAB>text', found no tab in {line[:60]!r}")
    return label, text


def _parse_jsonl(line, where):
    try:
        record = json.loads(line)
    except json.JSONDecodeError as err:
        raise ValueError(f"{where}: bad JSON ({err.msg} at column {err.colno})") from None
    if not isinstance(record, dict):
        raise ValueError(f"{where}: expected a JSON object with keys 'label' and 'text', "
                         f"got {type(record).__name__}")
    missing = [key for key in ("label", "text") if key not in record]
    if missing:
        raise ValueError(f"{where}: missing key {missing[0]!r} (need 'label' and 'text')")
    if not isinstance(record["text"], str):
        raise ValueError(f"{where}: 'text' must be a string, got {type(record['text']).__name__}")
    if "task" in record:  # {"task": "books", "label": "positive"} is the class "books/positive"
        return f"{record['task']}/{record['label']}", record["text"]
    return str(record["label"]), record["text"]


def text_lines(path):
    """(line number, line) for each non-blank line of a UTF-8 file (a BOM and line ends
    removed); ValueError names the file, and the line that is not UTF-8."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"missing file: {path}")
    with open(path, "rb") as f:
        for number, raw in enumerate(f, start=1):
            try:
                line = raw.decode("utf-8").removeprefix("\ufeff").rstrip("\r\n")
            except UnicodeDecodeError as err:
                raise ValueError(f"{path}, line {number}: not valid UTF-8 ({err.reason})") from None
            if line.strip():
                yield number, line


def read_examples(path):
    """{class: [texts]} from one .tsv or .jsonl file, in file order; ValueError names the line."""
    path = Path(path)
    parse = _parse_jsonl if path.suffix == ".jsonl" else _parse_tsv
    examples = {}
    for number, line in text_lines(path):
        where = f"{path}, line {number}"
        label, text = parse(line, where)
        if not examples and parse is _parse_tsv and _is_header(label, text):
            warnings.warn(f"{where} looks like a header ({label.strip()}<TAB>{text.strip()}); "
                          "skipped it (the format has no header line)", DataWarning)
            continue
        label, text = label.strip(), text.strip()
        if len(text) > LONG_TEXT:
            warnings.warn(f"{where}: a text of {len(text):,} characters (more than "
                          f"{LONG_TEXT:,}); only its first --max-len tokens are used. Did the "
                          "file lose its line breaks?", DataWarning)
        if not label:
            raise ValueError(f"{where}: empty label")
        if not text:
            raise ValueError(f"{where}: empty text for label {label!r}")
        examples.setdefault(label, []).append(text)
    if not examples:
        raise ValueError(f"{path} holds no examples (every line is blank or a header)")
    return examples


def _split_file(folder, split):
    """The one data file of a split in `folder`: split.tsv or split.jsonl."""
    found = [f for f in (folder / f"{split}.tsv", folder / f"{split}.jsonl") if f.is_file()]
    if not found:
        raise ValueError(f"missing file: {folder / split}.tsv (or {split}.jsonl)")
    if len(found) > 1:
        raise ValueError(f"{folder} has both {found[0].name} and {found[1].name}: keep one")
    return found[0]


def load_folder(path):
    """A TextSource from a folder with train/val/test .tsv or .jsonl files (disjoint classes)."""
    folder = Path(path)
    if not folder.is_dir():
        raise ValueError(f"missing folder: {folder}")
    files = {split: _split_file(folder, split) for split in SPLITS}
    splits = {split: read_examples(files[split]) for split in SPLITS}
    check_disjoint(splits, where={s: f.name for s, f in files.items()})
    return grouped_source(folder.resolve().name, splits, folder)


def label_groups(classes, where):
    """{class: group} when every label reads `group/label` ("books/positive" is in group
    "books"), None when no label has a '/'; ValueError when only some have one."""
    groups = {c: c.rpartition("/")[0] for c in classes}
    grouped = [c for c in classes if groups[c]]
    if not grouped:
        return None
    ungrouped = [c for c in classes if not groups[c]]
    if ungrouped:
        raise ValueError(f"{where}: label {grouped[0]!r} names a task group (group/label) but "
                         f"{ungrouped[0]!r} does not: give every label a group, or none")
    return groups


def grouped_source(name, splits, where):
    """A TextSource whose episodes stay inside one group when the labels are `group/label`."""
    groups = label_groups([c for s in SPLITS for c in splits[s]], where)
    return TextSource(name, splits, groups, group_episodes=groups is not None)


def _class_split(classes, split, fractions, seed, path):
    """{split: [classes]} from explicit lists, or from fractions of a seeded shuffle."""
    if split is not None:
        if len(split) != 3:
            raise ValueError(f"split must be (train_classes, val_classes, test_classes), "
                             f"got {len(split)} lists")
        named = {s: [str(c) for c in cs] for s, cs in zip(SPLITS, split)}
        check_disjoint(named)
        for s in SPLITS:
            absent = [c for c in named[s] if c not in classes]
            if absent:
                raise ValueError(f"{s} class {absent[0]!r} does not occur in {path}")
        return named
    fractions = np.asarray(fractions, dtype=float)
    if fractions.shape != (3,) or np.any(fractions < 0) or not np.isclose(fractions.sum(), 1):
        raise ValueError(f"fractions must be three non-negative numbers summing to 1, "
                         f"got {fractions.tolist()}")
    order = [sorted(classes)[i] for i in np.random.default_rng(seed).permutation(len(classes))]
    n_train = int(round(fractions[0] * len(order)))
    n_val = int(round(fractions[1] * len(order)))
    named = dict(zip(SPLITS, (order[:n_train], order[n_train:n_train + n_val],
                              order[n_train + n_val:])))
    empty = [s for s in SPLITS if not named[s]]
    if empty:
        raise ValueError(f"{path} has {len(classes)} classes: too few for fractions "
                         f"{fractions.tolist()} (split {empty[0]!r} would get none)")
    return named


def load_file(path, split=None, fractions=(0.6, 0.2, 0.2), seed=0):
    """A TextSource from one .tsv or .jsonl file, its classes divided into three splits.

    split: (train_classes, val_classes, test_classes); classes of the file not listed are
    left out. Otherwise `fractions` of the sorted class names, shuffled with `seed`.
    """
    examples = read_examples(path)
    groups = label_groups(list(examples), path)
    if groups is None or split is not None:
        named = _class_split(examples, split, fractions, seed, path)
    else:  # grouped labels: split the groups, so that a group's classes stay together
        by_group = _class_split(set(groups.values()), None, fractions, seed, path)
        named = {s: [c for c in examples if groups[c] in by_group[s]] for s in SPLITS}
    splits = {s: {c: examples[c] for c in named[s]} for s in SPLITS}
    return grouped_source(Path(path).stem, splits, path)


def load(name_or_path, seed=0, **knobs):
    """A built-in family by name ("topics", "sentiment", "crossdomain") with its knobs, a data
    folder, or a data file (knobs: split=..., fractions=...)."""
    if name_or_path in FAMILIES:
        return FAMILIES[name_or_path](seed=seed, **knobs)
    path = Path(name_or_path)
    if path.is_dir():
        if knobs:
            raise TypeError(f"load: a data folder takes no options, got {sorted(knobs)}")
        return load_folder(path)
    if path.is_file():
        return load_file(path, seed=seed, **knobs)
    raise ValueError(f"load: {str(name_or_path)!r} is neither a built-in task "
                     f"({', '.join(FAMILIES)}) nor an existing folder or file")
