"""Evaluation: the 95% confidence interval formula, per-episode accuracy, and the printout."""

import numpy as np
import pytest

from metanumpy import tasks
from metanumpy.tasks.evaluate import EvalResult


@pytest.mark.task3_2
def test_confidence_interval_by_hand():
    # mean 0.75; np.std with ddof=0: sqrt((0.25^2 + 0.25^2 + 0 + 0) / 4) = 0.1767767
    # half-width 1.96 * 0.1767767 / sqrt(4) = 0.1732412
    assert tasks.confidence_interval([0.5, 1.0, 0.75, 0.75]) == pytest.approx(0.1732412, abs=1e-7)
    assert tasks.confidence_interval([0.4]) == 0.0
    with pytest.raises(ValueError, match="non-empty"):
        tasks.confidence_interval([])


class FakeEpisode:
    def __init__(self, query_labels):
        self.query_labels = np.array(query_labels, dtype=np.int64)


@pytest.mark.task3_2
def test_evaluate_scores_each_episode_and_averages():
    episodes = [FakeEpisode([0, 1, 1, 0]), FakeEpisode([1, 1, 0, 0])]
    result = tasks.evaluate(lambda e: [0, 1, 0, 0], episodes)
    assert result.accuracies.tolist() == [0.75, 0.75] and result.n == 2
    assert result.mean == 0.75 and result.ci95 == 0.0
    perfect = tasks.evaluate(lambda e: e.query_labels.copy(), episodes)
    assert perfect.mean == 1.0


def test_evaluate_refuses_a_prediction_of_the_wrong_shape():
    with pytest.raises(ValueError, match=r"predict returned shape \(3,\) for episode 0, expected "
                                         r"one label per query, shape \(4,\)"):
        tasks.evaluate(lambda e: [0, 1, 0], [FakeEpisode([0, 1, 1, 0])])
    with pytest.raises(ValueError, match="at least one episode"):
        tasks.evaluate(lambda e: [], [])


def test_result_prints_percent_and_interval():
    result = EvalResult(0.624, 0.0085, np.array([0.624]), 1)
    assert str(result) == "62.40% ± 0.85%"
