"""How good are these predictions? Accuracy, per-class precision and recall, confusion matrix.

    report = classification_report(true, predicted, classes=("negative", "positive"))
    print(report)                  # accuracy, a precision / recall line per class, the matrix
    report.save_png("confusion.png")

`true` and `predicted` are class names (or any labels found in `classes`). The confusion
matrix counts `confusion[i, j]`: texts of class i predicted as class j, so a row sums to the
class's count and the diagonal holds the correct ones. For class k,

    precision_k = confusion[k, k] / (column k sum)     (of the texts called k, how many are k)
    recall_k    = confusion[k, k] / (row k sum)        (of the texts of class k, how many found)

A precision or recall with nothing to divide (no text predicted k, no text of class k) is
NaN and printed as "-". `report.majority` is the line to compare against on an imbalanced
query set: the accuracy of always answering the most frequent true class.
"""

from dataclasses import dataclass

import numpy as np


@dataclass
class ClassificationReport:
    """classes: names in matrix order; confusion: (n, n) int counts, rows true, columns
    predicted."""

    classes: tuple
    confusion: np.ndarray

    @property
    def total(self):
        return int(self.confusion.sum())

    @property
    def accuracy(self):
        return float(np.trace(self.confusion) / self.total)

    @property
    def precision(self):
        return _ratio(np.diag(self.confusion), self.confusion.sum(axis=0))

    @property
    def recall(self):
        return _ratio(np.diag(self.confusion), self.confusion.sum(axis=1))

    @property
    def majority(self):
        """Accuracy of always answering the most frequent true class."""
        return float(self.confusion.sum(axis=1).max() / self.total)

    def __str__(self):
        width = max(9, *(len(c) for c in self.classes))
        lines = [f"accuracy {self.accuracy:.2%} on {self.total} labelled queries "
                 f"(majority class: {self.majority:.2%})",
                 f"{'class':<{width}}  precision  recall  count"]
        counts = self.confusion.sum(axis=1)
        for c, p, r, n in zip(self.classes, self.precision, self.recall, counts):
            lines.append(f"{c:<{width}}  {_percent(p):>9}  {_percent(r):>6}  {n:>5}")
        lines.append("confusion matrix (rows: true class, columns: predicted)")
        lines.append(" " * width + "  " + "  ".join(f"{c:>{width}}" for c in self.classes))
        for c, row in zip(self.classes, self.confusion):
            lines.append(f"{c:<{width}}  " + "  ".join(f"{n:>{width}}" for n in row))
        return "\n".join(lines)

    def save_png(self, path, title="confusion matrix"):
        """The confusion matrix as a PNG image (plot.confusion_matrix); returns the path."""
        from . import plot

        return plot.confusion_matrix(self.confusion, self.classes, path,
                                     f"{title}\naccuracy {self.accuracy:.1%}")


def _ratio(top, bottom):
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(bottom > 0, top / np.maximum(bottom, 1), np.nan)


def _percent(x):
    return "-" if np.isnan(x) else f"{x:.1%}"


def classification_report(true, predicted, classes):
    """A ClassificationReport of `predicted` against `true` (equal-length label lists)."""
    classes = tuple(classes)
    if len(true) != len(predicted):
        raise ValueError(f"classification_report: {len(true)} true labels but "
                         f"{len(predicted)} predictions")
    if not len(true):
        raise ValueError("classification_report: no labelled examples to score")
    index = {c: k for k, c in enumerate(classes)}
    unknown = [y for y in list(true) + list(predicted) if y not in index]
    if unknown:
        raise ValueError(f"classification_report: label {unknown[0]!r} is not one of the "
                         f"classes {list(classes)}")
    confusion = np.zeros((len(classes), len(classes)), dtype=np.int64)
    np.add.at(confusion, ([index[y] for y in true], [index[y] for y in predicted]), 1)
    return ClassificationReport(classes, confusion)

