"""The raw bag-of-words baseline: right where words repeat, and poor at 1-shot on the toy topics."""

import numpy as np
import pytest

from metanumpy import tasks
from metanumpy.meta.baselines import BowNearestCentroid
from metanumpy.tasks.episodes import Episode
from metanumpy.text import Vocab


def hand_episode(support, query, query_labels):
    """An episode from texts only (the baseline never looks at ids)."""
    ways = max(query_labels) + 1
    shots = len(support) // ways
    dummy = np.zeros((1, 1), np.int64)
    return Episode(dummy, dummy.astype(np.float32), np.repeat(np.arange(ways), shots),
                   dummy, dummy.astype(np.float32), np.array(query_labels, np.int64),
                   tuple(f"c{i}" for i in range(ways)), support, query, ways, shots,
                   len(query) // ways)


@pytest.mark.task3_3
@pytest.mark.parametrize("weighting", ["tfidf", "counts"])
def test_queries_that_repeat_support_words_are_all_right(weighting):
    episode = hand_episode(
        ["the cat sat on the mat", "stocks fell on monday", "rain and wind tonight"],
        ["Stocks fell!", "a cat on a mat", "wind, rain", "the mat and the cat"],
        [1, 0, 2, 0])
    predicted = BowNearestCentroid(weighting).predict(episode)
    assert predicted.dtype == np.int64 and predicted.tolist() == [1, 0, 2, 0]


@pytest.mark.task3_3
def test_idf_discounts_a_word_every_support_text_has():
    # counts: "the the the" pulls the query to class 0; tf-idf gives "the" weight 1 and the
    # rarer "banana" weight ln(3/2) + 1, enough to choose class 1
    episode = hand_episode(["the the the apple", "the banana"], ["the the the banana"], [1])
    assert BowNearestCentroid("counts").predict(episode).tolist() == [0]
    assert BowNearestCentroid("tfidf").predict(episode).tolist() == [1]


def test_unknown_weighting_is_refused():
    with pytest.raises(ValueError, match="unknown weighting 'binary'"):
        BowNearestCentroid("binary")


def test_raw_bow_is_poor_at_one_shot_on_topics_and_better_with_five():
    """The measurement behind the toy task's design (600 episodes: 41.3% and 78.0%)."""
    source = tasks.topics(seed=0)
    vocab = Vocab.build(source.texts("train"))
    bow = BowNearestCentroid()
    one = tasks.evaluate(bow.predict, tasks.fixed_episodes(source, "test", 5, 1, 15, vocab, n=100))
    five = tasks.evaluate(bow.predict, tasks.fixed_episodes(source, "test", 5, 5, 15, vocab, n=100))
    assert 0.25 < one.mean < 0.50
    assert five.mean > one.mean + 0.2
