"""The results tables of the README, from one command:

    python -m metanumpy table --out results     # all families and learners, 600 episodes, 2000 steps
    python -m metanumpy table --data DIR [DIR ...] --out results-real    # your data folders

For each built-in family or data folder and setting (5-way 1-shot and 5-shot; 2-way for
sentiment) it evaluates the baselines and meta-trains each algorithm with the same seed, then
evaluates everyone on the *same* fixed meta-test episodes: mean accuracy with its 95%
confidence interval, and the training time on this machine. It writes `results.md` (the
tables) and `results.json` (every number) into `--out`, and prints the tables as it goes.
Both say which computation path made the numbers ("reference" or "fast"): the caller passes
it in, since this reference module cannot look (it must not import metanumpy.fast).
"""

import json
import os
import time

from .experiment import Experiment
from .meta.baselines import (BowNearestCentroid, FinetuneFromScratch, PretrainThenFinetune,
                             TfidfNearestCentroid)
from .pretrain import load_embeddings
from .runfolder import PATHS
from .tasks import evaluate
from .train import load_best, train

SETTINGS = {"topics": [(5, 1), (5, 5)], "crossdomain": [(5, 1), (5, 5)],
            "sentiment": [(2, 1), (2, 5)]}
DATA_SETTINGS = [(5, 1), (5, 5)]
"""The settings of a data folder (any name that is not a built-in family)."""
LEARNERS = ("maml", "fomaml", "reptile", "matching", "protonet")
BASELINES = ("bow", "tfidf", "scratch", "pretrain")
LABELS = {"bow": "bag-of-words nearest centroid (simple)",
          "tfidf": "word+char tf-idf nearest centroid (strong)",
          "scratch": "fine-tune from scratch",
          "pretrain": "pretrain then fine-tune (centroid)", "maml": "MAML (second order)",
          "fomaml": "MAML (first order)", "reptile": "Reptile", "matching": "Matching Networks",
          "protonet": "Prototypical Networks"}


def run_baseline(name, exp, episodes, unlabelled=()):
    """(EvalResult, training seconds) of one baseline; `unlabelled` texts add to tf-idf's IDF."""
    start = time.perf_counter()
    if name == "bow":
        model = BowNearestCentroid()
    elif name == "tfidf":
        model = TfidfNearestCentroid().fit(exp.source.texts("train") + list(unlabelled))
    elif name == "scratch":
        model = FinetuneFromScratch(len(exp.vocab), exp.settings.ways, seed=exp.settings.seed)
    else:
        model = PretrainThenFinetune(len(exp.vocab), seed=exp.settings.seed,
                                     max_len=exp.settings.max_len)
        model.fit(exp.source, exp.vocab)
    train_seconds = time.perf_counter() - start
    return evaluate(model.predict, episodes), train_seconds


def run_learner(algo, exp, episodes, steps, out_dir, path, init=None):
    """(EvalResult, training seconds) of `algo` meta-trained from the same seed as every
    other row; init: a `pretrain` file its embeddings start from."""
    learner = exp.learner(algo)
    if init:
        load_embeddings(learner.model, exp.vocab, init)
    record = exp.record(out_dir, algo, {}, init=init, path=path)
    exp.save(out_dir, algo, {}, record)  # so that `python -m metanumpy evaluate out_dir` works
    history = train(learner, exp.sampler("train"), exp.episodes("val", 100), steps=steps,
                    eval_every=max(steps // 5, 1), out_dir=out_dir, log=lambda line: None,
                    resume=False)
    load_best(learner, out_dir)
    return evaluate(learner.predict, episodes), history["seconds"]


def check_names(learners, baselines):
    """ValueError naming an unknown learner or baseline (before anything runs)."""
    for kind, names, known in (("learner", learners, LEARNERS), ("baseline", baselines, BASELINES)):
        unknown = [n for n in names if n not in known]
        if unknown:
            raise ValueError(f"table: unknown {kind} {unknown[0]!r}, choose from "
                             f"{', '.join(known)}")


def run(families=tuple(SETTINGS), learners=LEARNERS, baselines=BASELINES, episodes=600,
        steps=2000, seed=0, out="results", log=print, settings=None, unlabelled=(), *, path,
        init=None):
    """Evaluate everything; returns {family: {setting: {name: row}}} and writes the files.

    families: built-in family names and/or data folders (5-way 1-shot and 5-shot each).
    settings: Experiment overrides for every run (e.g. {"max_len": 32, "encoder": "tfidf"}).
    unlabelled: extra texts for the tf-idf baseline's IDF (e.g. from `--text FILE`).
    path: the computation path this process is on, "reference" or "fast" (recorded).
    init: a `pretrain` file every learner's embeddings start from (recorded; None: random).
    """
    if path not in PATHS:
        raise ValueError(f"table: path must be one of {', '.join(PATHS)}, got {path!r}")
    check_names(learners, baselines)
    os.makedirs(out, exist_ok=True)
    table = {}
    for family in families:
        name_of = family if family in SETTINGS else os.path.basename(os.path.normpath(family))
        for ways, shots in SETTINGS.get(family, DATA_SETTINGS):
            exp = Experiment(tasks=family, ways=ways, shots=shots, seed=seed, **(settings or {}))
            test = exp.episodes("test", episodes)
            setting = f"{ways}-way {shots}-shot"
            rows = table.setdefault(name_of, {}).setdefault(setting, {})
            for name in list(baselines) + list(learners):
                if name in BASELINES:
                    result, seconds = run_baseline(name, exp, test, unlabelled)
                else:
                    folder = os.path.join(out, "runs", f"{name_of}-{ways}w{shots}s-{name}")
                    result, seconds = run_learner(name, exp, test, steps, folder, path, init)
                rows[name] = {"mean": result.mean, "ci95": result.ci95, "n": result.n,
                              "train_seconds": seconds}
                if name in ("maml", "fomaml", "reptile"):  # which head: learned or prototypes
                    rows[name]["head"] = exp.options(name).get("head", "learned")
                write(table, out, episodes, steps, seed, path, init)  # every row, as it comes
                log(f"{name_of:12s} {setting:13s} {LABELS[name]:44s} {result}  "
                    f"(trained {seconds:.0f}s)")
    return table


def label(name, settings):
    """The row label of `name`, saying when MAML or Reptile had the prototype head."""
    heads = {rows[name].get("head") for rows in settings.values() if name in rows}
    return LABELS[name] + (", prototype head" if "prototypes" in heads else "")


def markdown(table, episodes, steps, seed, path, init=None):
    start = f", embeddings from {init}" if init else ""
    lines = [f"Mean accuracy on {episodes} fixed meta-test episodes, ± 95% CI "
             f"(1.96 std / sqrt(n)); meta-learners trained {steps} steps (meta-batch 4){start}, "
             f"seed {seed}, best meta-validation model, {path} path; time = training seconds on "
             "this machine."]
    for family, settings in table.items():
        names = list(dict.fromkeys(name for rows in settings.values() for name in rows))
        lines += ["", f"**{family}**", "", "| learner | " + " | ".join(settings) + " | time |",
                  "|---|" + "---|" * (len(settings) + 1)]
        for name in names:  # a row not measured yet (the files are written as rows come) reads -
            cells = [f"{s[name]['mean']:.1%} ± {s[name]['ci95']:.1%}" if name in s else "-"
                     for s in settings.values()]
            seconds = "/".join(f"{s[name]['train_seconds']:.0f}" if name in s else "-"
                               for s in settings.values())
            lines.append(f"| {label(name, settings)} | " + " | ".join(cells)
                         + f" | {seconds} s |")
    return "\n".join(lines) + "\n"


def write(table, out, episodes, steps, seed, path, init=None):
    with open(os.path.join(out, "results.json"), "w", encoding="utf-8") as f:
        json.dump({"episodes": episodes, "steps": steps, "seed": seed, "path": path,
                   "init": init, "table": table}, f, indent=1)
    with open(os.path.join(out, "results.md"), "w", encoding="utf-8") as f:
        f.write(markdown(table, episodes, steps, seed, path, init))
