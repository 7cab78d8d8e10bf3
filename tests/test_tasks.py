"""The built-in task families: deterministic, class-disjoint, big enough, and built as promised."""

import hashlib
import json
import os
import subprocess
import sys
import time

import numpy as np
import pytest

from metanumpy import tasks
from metanumpy.tasks.crossdomain import NEWS_FILLERS, PREFIXES, SCIENCE_FILLERS, SUFFIXES
from metanumpy.tasks.language import concept_sets, pseudo_words
from metanumpy.tasks.topics import FILLERS as TOPIC_FILLERS
from metanumpy.tasks.topics import topic_layout
from metanumpy.text import Tokenizer

FAMILIES = ("topics", "sentiment", "crossdomain")
# (train, val, test) classes each family promises with its default knobs
PROMISED = {"topics": (64, 16, 20), "sentiment": (80, 20, 20), "crossdomain": (64, 16, 20)}


@pytest.fixture(scope="module")
def sources():
    return {name: tasks.load(name, seed=0) for name in FAMILIES}


@pytest.mark.parametrize("name", FAMILIES)
def test_same_seed_same_source_different_seed_different(name, sources):
    again = tasks.load(name, seed=0)
    assert again.splits == sources[name].splits and again.groups == sources[name].groups
    other = tasks.load(name, seed=1)
    assert other.texts("train") != sources[name].texts("train")


def test_sources_do_not_depend_on_python_hash_seed(sources):
    """Python salts str hashes per process: a family that iterated a set would change here."""
    code = ("import json, hashlib; from metanumpy import tasks; print(hashlib.sha256(json.dumps("
            "[tasks.load(n).splits for n in ('topics', 'sentiment', 'crossdomain')])"
            ".encode()).hexdigest())")
    here = hashlib.sha256(json.dumps([sources[n].splits for n in FAMILIES]).encode()).hexdigest()
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             env=env, check=True)
        assert out.stdout.strip() == here


@pytest.mark.parametrize("name", FAMILIES)
def test_splits_are_class_disjoint_and_big_enough(name, sources):
    source = sources[name]
    classes = [set(source.classes(s)) for s in tasks.SPLITS]
    assert not (classes[0] & classes[1] or classes[0] & classes[2] or classes[1] & classes[2])
    assert tuple(len(c) for c in classes) == PROMISED[name]
    for split in tasks.SPLITS:
        assert source.classes(split) == sorted(source.classes(split))
        assert all(len(t) >= 60 for t in source.splits[split].values())
        assert all(isinstance(t, str) and t.strip() for t in source.texts(split))


@pytest.mark.parametrize("name", FAMILIES)
def test_generation_is_fast(name):
    start = time.perf_counter()
    tasks.load(name, seed=5)
    assert time.perf_counter() - start < 0.5


def test_test_topics_reuse_meta_train_concepts_but_overlap_only_partly():
    rng = np.random.default_rng(0)
    cores, weights = topic_layout(rng, 100, 64, 240, 5, 1, 12, 5.0)
    train_concepts = {c for core in cores[:64] for c in core}
    assert all(c in train_concepts for core in cores[64:] for c in core)
    assert train_concepts >= set(range(12, 240))              # every specific concept is used
    assert all(len(set(core)) == 5 and sum(c < 12 for c in core) == 1 for core in cores)
    assert len({tuple(sorted(core)) for core in cores}) == 100  # no two topics identical
    assert np.allclose(weights.sum(axis=1), 1.0)


def test_topic_sentences_share_concepts_more_than_words():
    """The point of synonyms: two sentences of one topic rarely share a content word."""
    source = tasks.topics(seed=0)
    fillers = set(TOPIC_FILLERS)
    texts = source.splits["test"][source.classes("test")[0]]
    words = [set(t.split()) - fillers for t in texts[:40]]
    shared = np.mean([len(a & b) > 0 for i, a in enumerate(words) for b in words[i + 1:]])
    assert shared < 0.6


def test_sentiment_groups_are_domains_and_polarity_words_flip():
    source = tasks.sentiment(seed=0)
    assert source.group_episodes
    for split in tasks.SPLITS:
        for name in source.classes(split):
            domain, label = name.split("/")
            assert source.groups[name] == domain and label in ("positive", "negative")
            assert f"{domain}/positive" in source.splits[split]
            assert f"{domain}/negative" in source.splits[split]
    # "long" is mostly positive in some domain and mostly negative in another
    leaning = {}
    for split in tasks.SPLITS:
        for name, texts in source.splits[split].items():
            count = sum(t.split().count("long") for t in texts)
            domain, label = name.split("/")
            leaning[domain] = leaning.get(domain, 0) + (count if label == "positive" else -count)
    assert max(leaning.values()) > 10 and min(leaning.values()) < -10


def test_crossdomain_shifts_style_between_news_and_science():
    source = tasks.crossdomain(seed=0)
    assert {source.groups[c] for c in source.classes("train")} == {"news"}
    assert {source.groups[c] for c in source.classes("test")} == {"science"}
    tokenize = Tokenizer()
    train_words = {w for t in source.texts("train") for w in tokenize(t)}
    test_tokens = [w for t in source.texts("test") for w in tokenize(t)]
    unseen = [w for w in test_tokens if w not in train_words]
    assert len(unseen) > 0.5 * len(test_tokens)                # mostly new surface words...
    assert set(SCIENCE_FILLERS) <= set(test_tokens) and not set(SCIENCE_FILLERS) & train_words
    assert set(NEWS_FILLERS) <= train_words
    def stem(word):                                             # undo the systematic change
        for prefix in PREFIXES:
            word = word.removeprefix(prefix)
        while word.endswith(SUFFIXES):
            word = word[:-len(next(s for s in SUFFIXES if word.endswith(s)))]
        return word

    restyled = sorted({w for w in unseen if w not in SCIENCE_FILLERS})
    assert np.mean([stem(w) in train_words for w in restyled]) > 0.9   # ...with known stems


class Echo:
    """A stand-in sentence model that writes its class name, to see who was asked."""

    def __init__(self, name):
        self.name = name

    def sample(self, rng, n):
        return [f"{self.name} {i}" for i in range(n)]


def test_unlabelled_asks_meta_train_classes_only():
    splits = {"train": {"a": ["x"], "b": ["x"]}, "val": {"c": ["x"]}, "test": {"d": ["x"]}}
    source = tasks.TextSource("echo", splits, generators={c: Echo(c) for c in "abcd"})
    asked = {t.split()[0] for t in source.unlabelled(200, seed=0)}
    assert asked == {"a", "b"}


def test_unlabelled_topics_are_fresh_and_seeded():
    source = tasks.topics(seed=0)
    texts = source.unlabelled(500, seed=3)
    assert len(texts) == 500 and texts == source.unlabelled(500, seed=3)
    assert texts != source.unlabelled(500, seed=4)
    assert np.mean([t in set(source.texts("train")) for t in texts]) < 0.2


def test_unlabelled_of_real_data_samples_train_texts_and_cycles():
    splits = {"train": {"a": ["a1", "a2"], "b": ["b1"]}, "val": {"c": ["c1"]},
              "test": {"d": ["d1"]}}
    source = tasks.TextSource("tiny", splits)
    texts = source.unlabelled(7, seed=0)
    assert len(texts) == 7 and set(texts) == {"a1", "a2", "b1"}
    assert sorted(texts[:3]) == ["a1", "a2", "b1"]             # one full pass before repeats


def test_describe_shows_counts_and_examples(sources):
    text = sources["sentiment"].describe(n_examples=2)
    assert "sentiment: 120 classes, 9600 texts" in text and "[test] 20 classes" in text
    first = sources["sentiment"].classes("train")[0]
    assert first in text and sources["sentiment"].splits["train"][first][1] in text


def test_text_source_refuses_a_class_in_two_splits():
    splits = {"train": {"a": ["x"]}, "val": {"b": ["y"]}, "test": {"a": ["z"]}}
    with pytest.raises(ValueError, match=r"class 'a' appears in two splits, train and test"):
        tasks.TextSource("bad", splits)


def test_knob_errors_are_clear():
    with pytest.raises(ValueError, match="filler_rate"):
        tasks.topics(filler_rate=0.6, noise_rate=0.5)
    with pytest.raises(ValueError, match="n_train must be an integer >= 1"):
        tasks.topics(n_train=0)
    with pytest.raises(ValueError, match="shift"):
        tasks.crossdomain(shift=1.5)
    with pytest.raises(ValueError, match="modifier_pairs"):
        tasks.sentiment(modifier_pairs=50)


def test_pseudo_words_are_distinct_words_and_avoid_taken():
    words = pseudo_words(np.random.default_rng(0), 3000, taken=("bala",))
    assert len(set(words)) == 3000 and "bala" not in words
    assert all(w.isalpha() and w.islower() and 3 <= len(w) <= 12 for w in words)


def test_concept_sets_use_every_concept_and_never_repeat_inside_a_set():
    sets = concept_sets(np.random.default_rng(0), 25, range(30), 4)
    assert all(len(set(s)) == 4 for s in sets)
    counts = np.bincount([c for s in sets for c in s], minlength=30)
    assert counts.min() >= 3 and counts.max() <= 4
