"""A text source: labelled texts in three class-disjoint splits, whatever they came from.

    source = tasks.topics(seed=0)            # or tasks.load("my_folder/")
    source.classes("train")                  # sorted class names of the meta-training split
    source.splits["test"][name]              # the texts of one meta-test class
    print(source.describe())                 # counts and a few examples per class

Few-shot learning is judged on classes the learner has never seen, so the three splits
(meta-train, meta-val, meta-test) share no class: `TextSource` refuses a class in two splits.
Built-in families and real data files give the same object, so the episode sampler, the
training loop and every algorithm work on both unchanged.
"""

import numpy as np

SPLITS = ("train", "val", "test")


def check_split_name(split):
    """`split` if it is "train", "val" or "test"; ValueError otherwise."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}: choose one of {', '.join(SPLITS)}")
    return split


def check_disjoint(class_lists, where=None):
    """ValueError naming the class and both splits if a class sits in two splits.

    class_lists: {split: iterable of class names}; where: optional {split: file name} so the
    message can point at the files.
    """
    first_split = {}
    for split in SPLITS:
        for name in class_lists.get(split, ()):
            if name in first_split:
                other = first_split[name]
                places = (f"{other} ({where[other]}) and {split} ({where[split]})" if where
                          else f"{other} and {split}")
                raise ValueError(
                    f"class {name!r} appears in two splits, {places}: meta-train, meta-val and "
                    "meta-test classes must be disjoint"
                )
            first_split[name] = split


class TextSource:
    """Labelled texts split into class-disjoint meta-train / meta-val / meta-test sets.

    name:            a short name ("topics", or the data folder's name).
    splits:          {"train"|"val"|"test": {class_name: [texts]}}, classes sorted, texts in a
                     fixed order.
    groups:          {class_name: group name}, for every class; the group is None when the
                     classes are not grouped (a sentiment domain is a group of two classes).
    group_episodes:  True when an episode must draw all its classes from one group.
    generators:      optional {class_name: model with `.sample(rng, n) -> [texts]`} for the
                     built-in families, so `unlabelled` can write fresh sentences.
    """

    def __init__(self, name, splits, groups=None, group_episodes=False, generators=None):
        missing = [s for s in SPLITS if s not in splits]
        extra = sorted(set(splits) - set(SPLITS))
        if missing or extra:
            raise ValueError(f"TextSource {name!r}: splits must be exactly {SPLITS}, "
                             f"missing {missing}, unexpected {extra}")
        check_disjoint(splits)
        self.name = name
        self.splits = {s: {c: list(splits[s][c]) for c in sorted(splits[s])} for s in SPLITS}
        all_classes = [c for s in SPLITS for c in self.splits[s]]
        groups = {} if groups is None else dict(groups)
        self.groups = {c: groups.get(c) for c in all_classes}
        self.group_episodes = bool(group_episodes)
        if self.group_episodes:
            ungrouped = [c for c in all_classes if self.groups[c] is None]
            if ungrouped:
                raise ValueError(f"TextSource {name!r}: group_episodes=True but classes "
                                 f"{ungrouped[:3]} have no group")
        self.generators = generators

    def classes(self, split):
        """The sorted class names of one split."""
        return list(self.splits[check_split_name(split)])

    def texts(self, split):
        """All texts of one split, class by class (sorted class order)."""
        return [t for texts in self.splits[check_split_name(split)].values() for t in texts]

    def unlabelled(self, n, seed=0):
        """`n` texts from the meta-training split only (never val/test), for pre-training.

        A built-in family writes fresh sentences of randomly chosen meta-train classes; real
        data samples meta-train texts without replacement, starting a new shuffled pass over
        them when `n` exceeds their number.
        """
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
            raise ValueError(f"unlabelled: n must be a non-negative integer, got {n!r}")
        rng = np.random.default_rng(seed)
        train = self.classes("train")
        if self.generators is None:
            texts, order = self.texts("train"), []
            while len(order) < n:
                order.extend(rng.permutation(len(texts)).tolist())
            return [texts[i] for i in order[:n]]
        per_class = np.bincount(rng.integers(len(train), size=n), minlength=len(train))
        fresh = [t for c, k in zip(train, per_class) for t in self.generators[c].sample(rng, k)]
        return [fresh[i] for i in rng.permutation(n)]

    def describe(self, n_examples=3, n_classes=3):
        """A readable summary: counts per split and `n_examples` texts of a few classes."""
        total = sum(len(self.texts(s)) for s in SPLITS)
        lines = [f"{self.name}: {sum(len(self.splits[s]) for s in SPLITS)} classes, "
                 f"{total} texts"]
        if self.group_episodes:
            lines.append("episodes draw all their classes from one group "
                         f"({len(set(self.groups.values()))} groups)")
        for split in SPLITS:
            classes = self.classes(split)
            lines.append(f"[{split}] {len(classes)} classes, {len(self.texts(split))} texts")
            for c in classes[:n_classes]:
                group = "" if self.groups[c] is None else f", group {self.groups[c]}"
                lines.append(f"  {c} ({len(self.splits[split][c])} texts{group})")
                lines.extend(f"    - {t}" for t in self.splits[split][c][:n_examples])
        return "\n".join(lines)

    def __repr__(self):
        counts = ", ".join(f"{s}={len(self.splits[s])}" for s in SPLITS)
        return f"TextSource({self.name!r}, classes: {counts})"
