"""Few-shot episodes: N classes x (K support + Q query) texts, labels remapped to 0..N-1.

    sampler = EpisodeSampler(source, "train", ways=5, shots=1, queries=15, vocab=vocab, seed=0)
    episode = sampler.sample()         # episode.support_ids (5, T), episode.query_labels (75,)
    test = fixed_episodes(source, "test", 5, 1, 15, vocab, n=600)   # the same for everyone

Three rules keep an evaluation honest (each a classic bug when broken):

* labels are remapped per episode, with a fresh random class order, so no model can
  memorise "class 3 is sports";
* support and query are disjoint: K + Q distinct texts per class, drawn without replacement;
* the classes come from one split only, and the splits share no class (see source.py).

The sampler owns one `numpy.random.default_rng(seed)`; `state()` / `set_state()` save and
restore it, so a training run resumed from a checkpoint sees exactly the episodes it would
have seen without the interruption.
"""

import copy
from dataclasses import dataclass

import numpy as np

from .language import check_count
from .source import check_split_name


@dataclass
class Episode:
    """One few-shot task. Arrays are host NumPy: ids int64 (n, T), mask float32 (n, T), labels
    int64 (n,). Support is ordered by label (class 0's K shots, then class 1's, ...); the
    query order is shuffled. `classes[label]` is the original class name of episode label
    `label`. A fixed episode (fixed.py: your own support set) may be unbalanced: there
    `shots` / `queries` are None unless every class has the same count, and a query whose
    answer is unknown has label -1."""

    support_ids: np.ndarray
    support_mask: np.ndarray
    support_labels: np.ndarray
    query_ids: np.ndarray
    query_mask: np.ndarray
    query_labels: np.ndarray
    classes: tuple
    support_texts: list
    query_texts: list
    ways: int
    shots: int
    queries: int


class EpisodeSampler:
    """Draws N-way K-shot episodes with Q queries per class from one split of a TextSource.

    For a source with `group_episodes` (sentiment: one product domain per episode) a group
    with at least N classes is drawn first, then N classes inside it.
    Raises ValueError at creation when the split cannot give such an episode.
    """

    def __init__(self, source, split, ways, shots, queries, vocab, max_len=64, seed=0):
        self.source, self.split = source, check_split_name(split)
        self.ways = check_count("ways", ways)
        self.shots = check_count("shots", shots)
        self.queries = check_count("queries", queries)
        self.vocab, self.max_len = vocab, check_count("max_len", max_len)
        self.texts = source.splits[split]
        self._check_enough_data()
        self.rng = np.random.default_rng(seed)

    def _check_enough_data(self):
        classes = list(self.texts)
        if self.ways > len(classes):
            raise ValueError(f"{self.ways}-way episodes need {self.ways} classes, but split "
                             f"{self.split!r} of {self.source.name!r} has {len(classes)}")
        needed = self.shots + self.queries
        for name in classes:
            if len(self.texts[name]) < needed:
                raise ValueError(
                    f"class {name!r} in split {self.split!r} has {len(self.texts[name])} "
                    f"examples, fewer than shots + queries = {self.shots} + {self.queries} = "
                    f"{needed} (support and query must be disjoint)"
                )
        self.groups = None
        if self.source.group_episodes:
            members = {}
            for name in classes:
                members.setdefault(self.source.groups[name], []).append(name)
            self.groups = [m for _, m in sorted(members.items()) if len(m) >= self.ways]
            if not self.groups:
                largest = max(len(m) for m in members.values())
                raise ValueError(
                    f"{self.ways}-way episodes of {self.source.name!r} draw all classes from "
                    f"one group, but no group of split {self.split!r} has {self.ways} classes "
                    f"(the largest has {largest})"
                )

    def sample(self):
        """One Episode; advances the sampler's random state."""
        rng = self.rng
        ### BEGIN SOLUTION task3_1: draw classes, label them 0..N-1, split K+Q distinct texts each
        candidates = (list(self.texts) if self.groups is None
                      else self.groups[rng.integers(len(self.groups))])
        classes = [candidates[i] for i in rng.choice(len(candidates), self.ways, replace=False)]
        support, query = [], []
        for label, name in enumerate(classes):
            texts = self.texts[name]
            picked = [texts[i] for i in rng.choice(len(texts), self.shots + self.queries,
                                                   replace=False)]
            support += [(label, t) for t in picked[:self.shots]]
            query += [(label, t) for t in picked[self.shots:]]
        query = [query[i] for i in rng.permutation(len(query))]
        ### END SOLUTION
        support_ids, support_mask = self.vocab.encode([t for _, t in support], self.max_len)
        query_ids, query_mask = self.vocab.encode([t for _, t in query], self.max_len)
        return Episode(
            support_ids, support_mask, np.array([y for y, _ in support], dtype=np.int64),
            query_ids, query_mask, np.array([y for y, _ in query], dtype=np.int64),
            tuple(classes), [t for _, t in support], [t for _, t in query],
            self.ways, self.shots, self.queries,
        )

    def batch(self, n):
        """A list of `n` episodes (a meta-batch)."""
        return [self.sample() for _ in range(check_count("n", n, 0))]

    def state(self):
        """The random state (a dict), to store in a checkpoint."""
        return copy.deepcopy(self.rng.bit_generator.state)

    def set_state(self, state):
        """Resume from a `state()`: the next episodes are the ones that followed it."""
        self.rng.bit_generator.state = copy.deepcopy(state)


def fixed_episodes(source, split, ways, shots, queries, vocab, n=600, seed=0, max_len=64):
    """A deterministic list of `n` evaluation episodes: every algorithm is scored on the same.

    600 episodes, as in cbfinn/maml, keep the 95% confidence interval within about
    +-1 percentage point.
    """
    sampler = EpisodeSampler(source, split, ways, shots, queries, vocab, max_len, seed)
    return sampler.batch(n)
