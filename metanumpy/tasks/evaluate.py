"""Score a few-shot learner: mean accuracy over episodes with a 95% confidence interval.

    result = evaluate(model.predict, fixed_episodes(source, "test", 5, 1, 15, vocab))
    print(result)                       # 62.40% ± 0.85%

The interval is the normal approximation used by cbfinn/maml (main.py) and most few-shot
papers: $ci_{95} = 1.96 \\cdot \\sigma / \\sqrt{n}$, with $\\sigma$ the standard deviation of
the per-episode accuracies computed as in that code, `np.std` with ddof=0 (divide by n, not
n - 1). The two conventions differ by a factor sqrt(n / (n - 1)), under 1.001 at n = 600.
"""

from dataclasses import dataclass

import numpy as np

from .. import backend as B


def confidence_interval(accuracies):
    """Half-width of the 95% interval of the mean: 1.96 * np.std(acc, ddof=0) / sqrt(n)."""
    ### BEGIN SOLUTION task3_2: refuse an empty list; 1.96 * std (ddof=0) / sqrt(n), a float
    accuracies = np.asarray(accuracies, dtype=np.float64)
    if accuracies.ndim != 1 or accuracies.size == 0:
        raise ValueError(f"confidence_interval needs a non-empty 1-D list of accuracies, "
                         f"got shape {accuracies.shape}")
    return float(1.96 * np.std(accuracies, ddof=0) / np.sqrt(accuracies.size))
    ### END SOLUTION


@dataclass
class EvalResult:
    """mean and ci95 are fractions (0.624 means 62.4%); accuracies holds one per episode."""

    mean: float
    ci95: float
    accuracies: np.ndarray
    n: int

    def __str__(self):
        return f"{100 * self.mean:.2f}% ± {100 * self.ci95:.2f}%"


def evaluate(predict, episodes):
    """Mean query accuracy of `predict(episode) -> labels` over `episodes`, with its 95% CI.

    `predict` returns one label per query text, in the episode's query order (a list, a
    NumPy array, or an array of the current backend).
    """
    episodes = list(episodes)
    if not episodes:
        raise ValueError("evaluate needs at least one episode")
    accuracies = np.empty(len(episodes))
    for i, episode in enumerate(episodes):
        predicted = np.asarray(B.to_numpy(predict(episode)))
        if predicted.shape != episode.query_labels.shape:
            raise ValueError(f"evaluate: predict returned shape {predicted.shape} for episode "
                             f"{i}, expected one label per query, shape "
                             f"{episode.query_labels.shape}")
        accuracies[i] = np.mean(predicted == episode.query_labels)
    return EvalResult(float(accuracies.mean()), confidence_interval(accuracies), accuracies,
                      len(episodes))
