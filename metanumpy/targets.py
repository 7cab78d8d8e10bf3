"""The fixed-support protocol: score a learner on target tasks, each with its own support set.

    results = evaluate_targets(load_run("runs/x"), "targets/")
    print(results)          # one line per task, the mean over tasks, the majority-class line

This is how few-shot benchmarks with fixed target tasks are reported (Amazon reviews across
product domains, 2-way 5-shot): each sub-folder of `targets/` is one task with a fixed
`support.tsv` and a labelled `query.tsv` (its whole test file, imbalanced allowed). A task's
accuracy is the share of its queries predicted right; the result is the mean over tasks
(every task counts the same, however many queries it has).

On an imbalanced query set, always answering the most frequent class already scores its
share: that *majority-class* accuracy is printed next to each task, and a learner below it
is flagged (it does worse than a constant).
"""

from dataclasses import dataclass

import numpy as np

from .report import classification_report
from .tasks.fixed import query_label_ids, read_targets, support_classes


@dataclass
class TargetResults:
    """names, support sizes and ClassificationReports (report.py), one per target task."""

    names: list
    support_sizes: list
    reports: list

    @property
    def accuracies(self):
        return np.array([r.accuracy for r in self.reports])

    @property
    def majorities(self):
        return np.array([r.majority for r in self.reports])

    @property
    def mean(self):
        """Mean accuracy over the target tasks."""
        return float(self.accuracies.mean())

    @property
    def below_majority(self):
        """Names of the tasks where the learner does worse than the majority class."""
        return [n for n, a, m in zip(self.names, self.accuracies, self.majorities) if a < m]

    def __str__(self):
        width = max(6, *(len(n) for n in self.names))
        lines = [f"{'target':<{width}}  support  query  accuracy  majority class"]
        for name, k, r in zip(self.names, self.support_sizes, self.reports):
            flag = "  < majority" if r.accuracy < r.majority else ""
            lines.append(f"{name:<{width}}  {k:>7}  {r.total:>5}  {r.accuracy:>8.2%}  "
                         f"{r.majority:>14.2%}{flag}")
        lines.append(f"mean over {len(self.names)} target tasks: accuracy {self.mean:.2%}, "
                     f"majority class {self.majorities.mean():.2%}")
        below = self.below_majority
        if below:
            lines.append(f"warning: below the majority-class line on {len(below)} of "
                         f"{len(self.names)} tasks ({', '.join(below)}): there, always "
                         "answering the most frequent class does better than the learner")
        return "\n".join(lines)


def score_targets(predict, targets):
    """TargetResults of `predict(support, texts) -> class names` on `targets`, a list of
    (name, support pairs, query texts, query labels) as `read_targets` returns."""
    names, sizes, reports = [], [], []
    for name, support, texts, labels in targets:
        try:
            classes = support_classes(support)
            query_label_ids(labels, classes, len(texts))  # every query label is a support class
            reports.append(classification_report(labels, list(predict(support, texts)), classes))
        except ValueError as err:
            raise ValueError(f"target {name!r}: {err}") from None
        names.append(name)
        sizes.append(len(support))
    if not names:
        raise ValueError("score_targets: no target tasks")
    return TargetResults(names, sizes, reports)


def evaluate_targets(run, folder):
    """TargetResults of a TrainedRun (run.py) on the target sub-folders of `folder`."""
    return score_targets(lambda support, texts: run.predict(support, texts).labels,
                         read_targets(folder))
