"""Episodes: shapes, remapped labels, disjoint support and query, determinism, resumable state."""

import numpy as np
import pytest

from metanumpy import tasks
from metanumpy.text import Vocab


def numbered_source(n_classes=8, per_class=30, group_size=None):
    """Texts "c3 t17" are unique, so a text tells its class and its index."""
    def texts(c):
        return [f"c{c} t{i}" for i in range(per_class)]
    names = [f"class{c}" for c in range(n_classes)]
    groups = ({n: f"g{c // group_size}" for c, n in enumerate(names)} | {"v": "gv", "t": "gt"}
              if group_size else None)
    splits = {"train": {n: texts(c) for c, n in enumerate(names)},
              "val": {"v": texts(100)}, "test": {"t": texts(200)}}
    return tasks.TextSource("numbered", splits, groups, group_episodes=bool(group_size))


@pytest.fixture(scope="module")
def vocab():
    return Vocab.build(numbered_source().texts("train"))


@pytest.mark.task3_1
def test_episode_shapes_dtypes_and_remapped_labels(vocab):
    source = numbered_source()
    episode = tasks.EpisodeSampler(source, "train", 5, 2, 3, vocab, seed=0).sample()
    assert episode.support_ids.shape == (10, 2) and episode.query_ids.shape == (15, 2)
    assert episode.support_ids.dtype == np.int64 and episode.support_mask.dtype == np.float32
    assert episode.query_labels.dtype == np.int64 and episode.query_mask.dtype == np.float32
    assert episode.support_labels.tolist() == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]
    assert sorted(episode.query_labels.tolist()) == sorted([0, 1, 2, 3, 4] * 3)
    assert (episode.ways, episode.shots, episode.queries) == (5, 2, 3)
    assert len(set(episode.classes)) == 5
    for texts, labels in ((episode.support_texts, episode.support_labels),
                          (episode.query_texts, episode.query_labels)):
        for text, label in zip(texts, labels):            # classes[label] wrote this text
            assert text in source.splits["train"][episode.classes[label]]
    ids, mask = vocab.encode(episode.query_texts, max_len=64)
    assert np.array_equal(ids, episode.query_ids) and np.array_equal(mask, episode.query_mask)


@pytest.mark.task3_1
def test_support_and_query_are_disjoint_and_query_is_shuffled(vocab):
    sampler = tasks.EpisodeSampler(numbered_source(), "train", 4, 5, 10, vocab, seed=1)
    for episode in sampler.batch(20):
        texts = episode.support_texts + episode.query_texts
        assert len(set(texts)) == len(texts)              # K + Q distinct examples per class
    assert any(np.any(np.diff(e.query_labels) < 0) for e in sampler.batch(5))


@pytest.mark.task3_1
def test_class_order_is_fresh_in_every_episode(vocab):
    episodes = tasks.EpisodeSampler(numbered_source(n_classes=5), "train", 5, 1, 1, vocab,
                                    seed=0).batch(10)
    assert len({e.classes for e in episodes}) > 5         # same 5 classes, new label order
    assert all(sorted(e.classes) == [f"class{c}" for c in range(5)] for e in episodes)


def same(a, b):
    return all(np.array_equal(getattr(a, f), getattr(b, f)) for f in
               ("support_ids", "support_mask", "support_labels", "query_ids", "query_mask",
                "query_labels")) and (a.classes, a.support_texts, a.query_texts) == (
        b.classes, b.support_texts, b.query_texts)


@pytest.mark.task3_1
def test_same_seed_same_episodes_different_seed_different(vocab):
    source = numbered_source()
    first = tasks.EpisodeSampler(source, "train", 5, 1, 5, vocab, seed=7).batch(5)
    again = tasks.EpisodeSampler(source, "train", 5, 1, 5, vocab, seed=7).batch(5)
    other = tasks.EpisodeSampler(source, "train", 5, 1, 5, vocab, seed=8).batch(5)
    assert all(same(a, b) for a, b in zip(first, again))
    assert not all(same(a, b) for a, b in zip(first, other))
    fixed = tasks.fixed_episodes(source, "train", 5, 1, 5, vocab, n=5, seed=7)
    assert all(same(a, b) for a, b in zip(first, fixed))


@pytest.mark.task3_1
def test_state_resumes_exactly(vocab):
    sampler = tasks.EpisodeSampler(numbered_source(), "train", 3, 1, 2, vocab, seed=0)
    sampler.batch(3)
    state = sampler.state()
    expected = sampler.batch(4)
    fresh = tasks.EpisodeSampler(numbered_source(), "train", 3, 1, 2, vocab, seed=99)
    fresh.set_state(state)
    assert all(same(a, b) for a, b in zip(expected, fresh.batch(4)))


@pytest.mark.task3_1
def test_group_episodes_stay_in_one_group(vocab):
    source = numbered_source(n_classes=9, group_size=3)
    sampler = tasks.EpisodeSampler(source, "train", 3, 1, 1, vocab, seed=0)
    groups_seen = set()
    for episode in sampler.batch(30):
        groups = {source.groups[c] for c in episode.classes}
        assert len(groups) == 1
        groups_seen |= groups
    assert groups_seen == {"g0", "g1", "g2"}


@pytest.mark.task3_1
def test_sentiment_episodes_are_two_way_inside_a_domain():
    source = tasks.sentiment(seed=0)
    vocab = Vocab.build(source.texts("train"))
    for episode in tasks.fixed_episodes(source, "test", 2, 5, 5, vocab, n=20):
        domains = {c.split("/")[0] for c in episode.classes}
        assert len(domains) == 1 and {c.split("/")[1] for c in episode.classes} == {
            "positive", "negative"}
    with pytest.raises(ValueError, match=r"no group of split 'test' has 3 classes \(the largest"):
        tasks.EpisodeSampler(source, "test", 3, 1, 1, vocab)


def test_errors_name_split_class_and_counts(vocab):
    source = numbered_source(n_classes=4, per_class=6)
    with pytest.raises(ValueError, match=r"5-way episodes need 5 classes, but split 'train' .* 4"):
        tasks.EpisodeSampler(source, "train", 5, 1, 1, vocab)
    with pytest.raises(ValueError, match=r"class 'class0' in split 'train' has 6 examples, fewer "
                                         r"than shots \+ queries = 2 \+ 5 = 7"):
        tasks.EpisodeSampler(source, "train", 2, 2, 5, vocab)
    with pytest.raises(ValueError, match="unknown split 'dev'"):
        tasks.EpisodeSampler(source, "dev", 2, 1, 1, vocab)
    with pytest.raises(ValueError, match="shots must be an integer >= 1"):
        tasks.EpisodeSampler(source, "train", 2, 0, 1, vocab)
