"""Your own few-shot task: a fixed support set and query texts as one Episode.

    support = read_support("support.tsv")           # [(label, text), ...], any count per class
    texts, labels = read_queries("reviews.txt")     # labels is None for unlabelled lines
    episode = fixed_episode(support, texts, vocab, max_len=48, query_labels=labels)
    learner.predict(episode)                        # exactly the path of a sampled episode

Formats (UTF-8, blank lines skipped): a support file is `label<TAB>text` per line (or .jsonl,
as in loaders.py); a query file is `text` per line, or `label<TAB>text` on every line when
you know the answers and want them scored. A target folder holds one task: `support.tsv`
and `query.tsv` (labelled); `read_targets(DIR)` reads every sub-folder of DIR.

Unlike a sampled episode, a fixed one may be unbalanced (3 positive and 2 negative
reviews) and its query set is whatever you give. Episode label k is the k-th class in
`classes` (default: the order in which classes first appear in the support set); the
support is regrouped by label, class 0's examples first, as in a sampled episode. The
algorithms handle unequal shots as they are: a prototype is the mean of its class's
examples, Matching Networks attend over all of them, MAML and Reptile fine-tune on all.
"""

from pathlib import Path

import numpy as np

from .episodes import Episode
from .loaders import read_examples, text_lines

UNKNOWN = -1
"""The query label of a text whose answer is not known."""


def read_support(path):
    """[(label, text), ...] from a support file, classes in order of first appearance."""
    return [(label, text) for label, texts in read_examples(path).items() for text in texts]


def read_queries(path):
    """(texts, labels) from a query file; labels is None when the lines carry no labels.

    A line with a tab is `label<TAB>text`; either every line has a label or none does.
    """
    texts, labels, first = [], [], None
    for number, line in text_lines(path):
        label, tab, text = line.partition("\t")
        labelled = bool(tab)
        if first is None:
            first = (number, labelled)
        elif labelled != first[1]:
            has, lacks = (number, first[0]) if labelled else (first[0], number)
            raise ValueError(f"{path}: line {has} is 'label<TAB>text' but line {lacks} has "
                             "no label: label every query line or none")
        if not labelled:
            label, text = None, line
        if labelled and not label.strip():
            raise ValueError(f"{path}, line {number}: empty label")
        if not text.strip():
            raise ValueError(f"{path}, line {number}: empty text")
        texts.append(text.strip())
        labels.append(label.strip() if labelled else None)
    if not texts:
        raise ValueError(f"{path} holds no query texts (an empty query file)")
    return texts, (labels if first[1] else None)


def support_classes(support, classes=None):
    """The episode's class names in label order, checked against the support pairs."""
    present = list(dict.fromkeys(label for label, _ in support))
    if classes is None:
        classes = present
    classes = [str(c) for c in classes]
    if len(set(classes)) != len(classes):
        raise ValueError(f"classes {classes} name a class twice")
    missing = [c for c in classes if c not in present]
    if missing:
        raise ValueError(f"support class {missing[0]!r} has no example in the support set "
                         f"(its classes: {', '.join(present) or 'none'})")
    extra = [c for c in present if c not in classes]
    if extra:
        raise ValueError(f"the support set has class {extra[0]!r}, which is not among the "
                         f"classes {classes}")
    if len(classes) < 2:
        raise ValueError(f"a support set needs at least two classes, got {len(classes)} "
                         f"({', '.join(classes) or 'none'})")
    return tuple(classes)


def query_label_ids(query_labels, classes, n_texts):
    """Episode labels (0..N-1) of the query texts; UNKNOWN for all when labels is None."""
    if query_labels is None:
        return np.full(n_texts, UNKNOWN, dtype=np.int64)
    if len(query_labels) != n_texts:
        raise ValueError(f"{len(query_labels)} query labels for {n_texts} query texts")
    index = {c: k for k, c in enumerate(classes)}
    query_labels = [str(label) for label in query_labels]  # class names are strings
    for i, label in enumerate(query_labels):
        if label not in index:
            raise ValueError(f"query {i + 1} has label {label!r}, which is not a class of the "
                             f"support set ({', '.join(classes)})")
    return np.array([index[label] for label in query_labels], dtype=np.int64)


def fixed_episode(support, query_texts, vocab, max_len=64, classes=None, query_labels=None):
    """An Episode from fixed support pairs (label, text) and query texts, in their order.

    classes: the class names in label order (default: order of first appearance in
    `support`). query_labels: the class names of the queries, or None (labels UNKNOWN).
    `shots` / `queries` hold the per-class counts when they are equal, else None.
    """
    support = [(str(label), text) for label, text in support]
    classes = support_classes(support, classes)
    query_texts = list(query_texts)
    if not query_texts:
        raise ValueError("no query texts: give at least one text to classify")
    labels = query_label_ids(query_labels, classes, len(query_texts))
    ordered = [(k, t) for k, c in enumerate(classes) for label, t in support if label == c]
    support_ids, support_mask = vocab.encode([t for _, t in ordered], max_len)
    query_ids, query_mask = vocab.encode(query_texts, max_len)
    support_labels = np.array([k for k, _ in ordered], dtype=np.int64)
    return Episode(
        support_ids, support_mask, support_labels, query_ids, query_mask, labels, classes,
        [t for _, t in ordered], query_texts, len(classes),
        equal_count(support_labels, len(classes)),
        None if query_labels is None else equal_count(labels, len(classes)),
    )


def equal_count(labels, ways):
    """The number of examples per class when every class has the same, else None."""
    counts = set(np.bincount(labels, minlength=ways).tolist())
    return counts.pop() if len(counts) == 1 else None


def read_targets(folder):
    """[(name, support pairs, query texts, query labels)] for each sub-folder of `folder`,
    sorted by name; each holds `support.tsv` and a labelled `query.tsv`."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"missing folder: {folder}")
    targets = []
    for sub in sorted(p for p in folder.iterdir() if p.is_dir()):
        texts, labels = read_queries(sub / "query.tsv")
        if labels is None:
            raise ValueError(f"{sub / 'query.tsv'}: target queries need labels "
                             "('label<TAB>text' per line) to be scored")
        targets.append((sub.name, read_support(sub / "support.tsv"), texts, labels))
    if not targets:
        raise ValueError(f"{folder} has no target sub-folders (each with support.tsv and "
                         "query.tsv)")
    return targets


def write_targets(source, folder, split="test", shots=5):
    """One target folder per group of `split` (a domain of the sentiment family): the first
    `shots` texts of each class in `support.tsv`, the rest in `query.tsv`, labelled without
    the group ("positive", not "kettles/positive"). Returns the group names."""
    if not source.group_episodes:
        raise ValueError(f"write_targets needs a grouped source (one task per group); "
                         f"{source.name!r} has no groups")
    members = {}
    for name in source.classes(split):
        members.setdefault(source.groups[name], []).append(name)
    folder = Path(folder)
    for group, names in members.items():
        (folder / group).mkdir(parents=True, exist_ok=True)
        for file, part in (("support.tsv", slice(None, shots)), ("query.tsv", slice(shots, None))):
            lines = [f"{n.rpartition('/')[2]}\t{t}\n"
                     for n in names for t in source.splits[split][n][part]]
            (folder / group / file).write_text("".join(lines), encoding="utf-8")
    return sorted(members)
