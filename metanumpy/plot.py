"""Figures for lessons and runs: learning curves, accuracy bars and lines, embedding maps.

    plot.learning_curves({"maml": history}, "out/curves.png", "MAML on topics")
    plot.accuracy_bars({"BoW": result, "ProtoNet": (0.62, 0.01)}, "out/bars.png", "5-way 1-shot")

Every function takes host NumPy data (lists, arrays, EvalResults), draws with the headless
"Agg" backend (no window, works over ssh and in tests), writes a PNG, closes the figure and
returns the path. Accuracies are fractions (0.62) and are shown as percentages. In a Jupyter
notebook the kernel keeps its own (inline) backend, and a lesson shows each PNG it saved
(`Report.plot`).
"""

import os

import matplotlib

from .notebook import in_notebook

if not in_notebook():
    matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)
import numpy as np  # noqa: E402


def _save(fig, path):
    """Write `fig` to `path` (creating its folder), close it, return the path."""
    folder = os.path.dirname(path)
    if folder:
        os.makedirs(folder, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def _smooth(values, window):
    """Trailing moving average of the same length (the first points average what exists)."""
    values = np.asarray(values, dtype=float)
    if len(values) == 0 or window <= 1:
        return values
    sums = np.cumsum(np.concatenate([[0.0], values]))
    ends = np.arange(1, len(values) + 1)
    starts = np.maximum(0, ends - window)
    return (sums[ends] - sums[starts]) / (ends - starts)


def _percent_axis(ax):
    ax.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))


def _mean_and_ci(result):
    """(mean, ci95) from an EvalResult-like object or a (mean, ci95) pair."""
    if hasattr(result, "mean") and hasattr(result, "ci95"):
        return float(result.mean), float(result.ci95)
    mean, ci = result
    return float(mean), float(ci)


def learning_curves(histories, path, title, smooth=20):
    """Training loss, training accuracy and validation accuracy against the step.

    histories: {name: history dict from `train`} with "step", "loss", "acc" and optionally
    "val_step", "val_acc" (and "val_ci", drawn as a band). Training curves are smoothed over
    `smooth` steps.
    """
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(11, 4))
    for i, (name, h) in enumerate(histories.items()):
        color = f"C{i % 10}"
        ax_loss.plot(h["step"], _smooth(h["loss"], smooth), color=color, label=name)
        ax_acc.plot(h["step"], _smooth(h["acc"], smooth), color=color, alpha=0.6,
                    label=f"{name} (train)")
        if h.get("val_step"):
            ax_acc.plot(h["val_step"], h["val_acc"], "o-", color=color, label=f"{name} (val)")
            if len(h.get("val_ci", ())) == len(h["val_acc"]):  # the 95% CI, where recorded
                mean, ci = np.asarray(h["val_acc"]), np.asarray(h["val_ci"])
                ax_acc.fill_between(h["val_step"], mean - ci, mean + ci, color=color, alpha=0.2)
    ax_loss.set(xlabel="step", ylabel=f"training loss (mean of {smooth} steps)", title="loss")
    ax_acc.set(xlabel="step", ylabel="accuracy", title="accuracy")
    _percent_axis(ax_acc)
    for ax in (ax_loss, ax_acc):
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small")
    fig.suptitle(title)
    return _save(fig, path)


def accuracy_bars(results, path, title):
    """One bar per method with its 95% confidence interval as an error bar.

    results: {name: EvalResult or (mean, ci95)}; or, for grouped bars (e.g. one group per
    shot count), {group: {name: EvalResult or (mean, ci95)}}.
    """
    grouped = all(isinstance(r, dict) for r in results.values()) and results
    groups = results if grouped else {"": results}
    names = list(dict.fromkeys(n for g in groups.values() for n in g))  # in first-seen order
    width = 0.8 / len(names) if names else 0.8
    fig, ax = plt.subplots(figsize=(max(4.0, 1.2 * len(names) * len(groups) + 2), 4))
    for i, name in enumerate(names):
        xs = [k + (i - (len(names) - 1) / 2) * width for k, g in enumerate(groups.values())
              if name in g]
        stats = [_mean_and_ci(g[name]) for g in groups.values() if name in g]
        means, cis = [m for m, _ in stats], [c for _, c in stats]
        ax.bar(xs, means, width * 0.9, yerr=cis, capsize=5, color=f"C{i % 10}", label=name)
        for x, mean, ci in zip(xs, means, cis):
            ax.annotate(f"{mean:.1%}", (x, mean + ci), xytext=(0, 3), textcoords="offset points",
                        ha="center", fontsize="small")
    if grouped:
        ax.set_xticks(range(len(groups)), list(groups))
        ax.legend(fontsize="small", loc="upper left")
    else:
        ax.set_xticks([(i - (len(names) - 1) / 2) * width for i in range(len(names))], names)
        plt.setp(ax.get_xticklabels(), rotation=15, ha="right")
    ax.set(ylabel="accuracy (95% CI)", title=title, ylim=(0, 1.05))
    _percent_axis(ax)
    ax.grid(axis="y", alpha=0.3)
    return _save(fig, path)


def accuracy_vs(xs, series, path, xlabel, title, ylabel="accuracy", logx=False):
    """Accuracy (or any measure) against `xs`, one line per method with a shaded 95% CI band.

    series: {name: (means, cis)}, each a list as long as `xs`. logx: logarithmic x axis.
    """
    fig, ax = plt.subplots(figsize=(6, 4))
    for i, (name, (means, cis)) in enumerate(series.items()):
        means, cis = np.asarray(means, dtype=float), np.asarray(cis, dtype=float)
        ax.plot(xs, means, "o-", color=f"C{i % 10}", label=name)
        ax.fill_between(xs, means - cis, means + cis, color=f"C{i % 10}", alpha=0.2)
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    if logx:
        ax.set_xscale("log")
        ax.set_xticks(xs, [str(x) for x in xs])
    if ylabel == "accuracy":
        _percent_axis(ax)
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    return _save(fig, path)


def _pca_2d(points):
    """Project (n, d) points on their two main directions (SVD of the centred data)."""
    points = np.asarray(points, dtype=float)
    centred = points - points.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    projected = centred @ vt[:2].T
    if projected.shape[1] < 2:  # one-dimensional data: put it on a line
        projected = np.hstack([projected, np.zeros((len(points), 2 - projected.shape[1]))])
    return projected


def embedding_projection(points, labels, path, title, names=None):
    """Scatter of embeddings in 2-D (PCA), one colour per label.

    points (n, d) with labels (n,); or, for side-by-side panels such as "before / after
    meta-training", a list of (points, labels, subtitle). names[label] names the legend entries.
    """
    panels = points if isinstance(points, list) else [(points, labels, None)]
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 4.5), squeeze=False)
    for ax, (pts, labs, subtitle) in zip(axes[0], panels):
        xy, labs = _pca_2d(pts), np.asarray(labs)
        for i, label in enumerate(np.unique(labs)):
            chosen = labs == label
            name = names[label] if names is not None else str(label)
            ax.scatter(xy[chosen, 0], xy[chosen, 1], s=18, color=f"C{i % 10}", label=name)
        ax.set(xlabel="principal component 1", ylabel="principal component 2",
               title=subtitle or "")
        ax.grid(alpha=0.3)
        ax.legend(fontsize="x-small")
    fig.suptitle(title)
    return _save(fig, path)


def xy_plot(x, ys, path, title, xlabel, ylabel):
    """Plain lines: ys = {name: values} against x (e.g. memory against inner steps)."""
    fig, ax = plt.subplots(figsize=(6, 4))
    style = "o-" if len(x) <= 30 else "-"  # markers only where the points are few
    for i, (name, values) in enumerate(ys.items()):
        ax.plot(x, values, style, color=f"C{i % 10}", label=name)
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    return _save(fig, path)


def attention_heatmap(weights, path, title, row_labels=None, col_labels=None):
    """Attention weights (n_query, n_support) as a heatmap (each row sums to 1).

    weights: one matrix, or a list of (matrix, subtitle) for side-by-side panels sharing one
    colour scale. row_labels / col_labels name the queries and the support texts (e.g. their
    episode labels).
    """
    panels = weights if isinstance(weights, list) else [(weights, None)]
    matrices = [np.asarray(m, dtype=float) for m, _ in panels]
    top = max(m.max() for m in matrices)
    rows, cols = matrices[0].shape
    fig, axes = plt.subplots(1, len(panels), squeeze=False,
                             figsize=(1.2 + (0.5 * cols + 1.5) * len(panels), 1.5 + 0.25 * rows))
    for ax, matrix, (_, subtitle) in zip(axes[0], matrices, panels):
        image = ax.imshow(matrix, vmin=0.0, vmax=top, cmap="viridis", aspect="auto")
        ax.set(xlabel="support text", ylabel="query text", title=subtitle or "")
        if col_labels is not None:
            ax.set_xticks(range(cols), [str(c) for c in col_labels], fontsize="small")
        if row_labels is not None:
            ax.set_yticks(range(rows), [str(r) for r in row_labels], fontsize="small")
        fig.colorbar(image, ax=ax, label="attention weight")
    fig.suptitle(title)
    return _save(fig, path)


def confusion_matrix(counts, classes, path, title):
    """A confusion matrix (rows: true class, columns: predicted), counts written in the cells."""
    counts = np.asarray(counts)
    n = len(classes)
    fig, ax = plt.subplots(figsize=(2 + 1.2 * n, 1.5 + 1.2 * n))
    ax.imshow(counts, cmap="Blues", vmin=0)
    ax.set_xticks(range(n), [str(c) for c in classes], rotation=45, ha="right")
    ax.set_yticks(range(n), [str(c) for c in classes])
    ax.set(xlabel="predicted class", ylabel="true class", title=title)
    for (i, j), value in np.ndenumerate(counts):
        ax.text(j, i, int(value), ha="center", va="center",
                color="white" if value > counts.max() / 2 else "black")
    return _save(fig, path)
