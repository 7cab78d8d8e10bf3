"""Predict on your own support set (run.py, `predict`, `evaluate --targets`), end to end."""

import numpy as np
import pytest

from metanumpy import tasks
from metanumpy.cli import main
from metanumpy.experiment import Experiment
from metanumpy.meta import ALGORITHMS
from metanumpy.meta.protonet import prototypes
from metanumpy.run import load_run

TRAIN_FLAGS = ["--tasks", "sentiment", "--ways", "2", "--shots", "5", "--queries", "5",
               "--dim", "8", "--hidden", "8", "--steps", "2", "--eval-every", "2",
               "--val-episodes", "2", "--test-episodes", "2", "--log-every", "2"]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """{algo: run folder} of tiny 2-way 5-shot sentiment runs, one per algorithm."""
    root = tmp_path_factory.mktemp("runs")
    for algo in ALGORITHMS:
        main(["train", "--algo", algo, *TRAIN_FLAGS, "--out", str(root / algo)])
    return {algo: root / algo for algo in ALGORITHMS}


def pairs(episode):
    """The support of a sampled episode as (class name, text) pairs, in episode order."""
    return [(episode.classes[y], t) for y, t in zip(episode.support_labels, episode.support_texts)]


@pytest.mark.parametrize("algo", ALGORITHMS)
def test_predict_is_learner_predict_on_the_same_episode(runs, algo):
    run = load_run(runs[algo])
    exp, _, _ = Experiment.load(runs[algo])
    for episode in exp.episodes("test", 3):
        fixed = run.episode(pairs(episode), episode.query_texts)
        for field in ("support_ids", "support_mask", "support_labels", "query_ids", "query_mask"):
            assert np.array_equal(getattr(fixed, field), getattr(episode, field)), field
        assert fixed.classes == episode.classes
        result = run.predict(pairs(episode), episode.query_texts)
        expected = run.learner.predict(episode)
        assert result.labels == [episode.classes[k] for k in expected]
        logits = np.asarray(run.learner.query_logits(episode).data, dtype=np.float64)
        probs = np.exp(logits - logits.max(axis=1, keepdims=True))
        assert np.allclose(result.probabilities, probs / probs.sum(axis=1, keepdims=True))
        assert np.allclose(result.probabilities.sum(axis=1), 1.0)


@pytest.mark.parametrize("algo", ALGORITHMS)
def test_every_algorithm_takes_an_unbalanced_support_set(runs, algo):
    run = load_run(runs[algo])
    exp, _, _ = Experiment.load(runs[algo])
    episode = exp.episodes("test", 1)[0]
    support = pairs(episode)[:4] + pairs(episode)[5:6]  # 4 of class 0, 1 of class 1
    result = run.predict(support, episode.query_texts)
    assert result.probabilities.shape == (len(episode.query_texts), 2)
    assert set(result.labels) <= set(episode.classes)
    fixed = run.episode(support, episode.query_texts)  # every support example is used
    assert fixed.support_labels.tolist() == [0, 0, 0, 0, 1] and fixed.shots is None
    if algo == "protonet":  # prototypes are the means of each class's own examples
        embedded = run.learner.model(fixed.support_ids, fixed.support_mask).numpy()
        by_hand = np.stack([embedded[:4].mean(axis=0), embedded[4]])
        library = prototypes(run.learner.model(fixed.support_ids, fixed.support_mask),
                             fixed.support_labels, 2).numpy()
        assert np.allclose(library, by_hand, atol=1e-6)


def test_a_lexical_run_predicts_like_its_learner(tmp_path):
    """The lexical encoder's idf comes from the training text: load_run rebuilds it from there."""
    folder = tmp_path / "lexical"
    main(["train", "--algo", "protonet", *TRAIN_FLAGS, "--encoder", "lexical",
          "--ngram-buckets", "512", "--max-len", "64", "--out", str(folder)])
    run = load_run(folder)
    exp, _, _ = Experiment.load(folder)
    episode = exp.episodes("test", 1)[0]
    result = run.predict(pairs(episode), episode.query_texts)
    assert result.labels == [episode.classes[k] for k in run.learner.predict(episode)]


def test_head_size_errors_say_what_to_do(runs):
    three = [("a", "good"), ("b", "bad"), ("c", "fine")]
    for algo in ("maml", "fomaml", "reptile"):
        with pytest.raises(ValueError, match=r"trained 2-way: its classifier head has 2 "
                                             r"outputs\. Give exactly 2 classes, or train a "
                                             r"3-way run \(`train --ways 3`\)"):
            load_run(runs[algo]).predict(three, ["so so"])
    for algo in ("protonet", "matching"):  # metric learners take any number of classes
        assert load_run(runs[algo]).predict(three, ["so so"]).probabilities.shape == (1, 3)


def test_load_run_errors(tmp_path, runs):
    with pytest.raises(ValueError, match="settings.json not found"):
        load_run(tmp_path)
    with pytest.raises(ValueError, match="nothing.npz not found"):
        load_run(runs["protonet"], weights="nothing.npz")


# --- the command line -------------------------------------------------------------------

@pytest.fixture(scope="module")
def domain(tmp_path_factory):
    """Support and query files of one meta-test domain of the sentiment family."""
    folder = tmp_path_factory.mktemp("targets")
    source = tasks.sentiment(seed=0)
    names = tasks.write_targets(source, folder, shots=5)
    return folder, folder / names[0]


def test_predict_command_writes_predictions_and_scores_labelled_queries(runs, domain, capsys):
    _, target = domain
    out = target.parent.parent / "preds.tsv"
    result = main(["predict", str(runs["protonet"]), "--support", str(target / "support.tsv"),
                   "--query", str(target / "query.tsv"), "--out", str(out)])
    printed = capsys.readouterr().out
    lines = out.read_text(encoding="utf-8").splitlines()
    texts, labels = tasks.read_queries(target / "query.tsv")
    assert lines[0] == "label\tp(negative)\tp(positive)\ttext"
    assert len(lines) == 1 + len(texts)
    first = lines[1].split("\t")
    assert first[0] == result.labels[0] and first[3] == texts[0]
    assert float(first[1]) + float(first[2]) == pytest.approx(1.0, abs=2e-4)
    accuracy = np.mean(np.array(result.labels) == np.array(labels))
    assert f"accuracy {accuracy:.2%} on {len(texts)} labelled queries" in printed
    assert "confusion matrix (rows: true class" in printed
    assert (out.parent / "confusion.png").read_bytes()[:4] == b"\x89PNG"

    unlabelled = out.parent / "texts.txt"
    unlabelled.write_text("\n".join(texts[:3]) + "\n", encoding="utf-8")
    main(["predict", str(runs["protonet"]), "--support", str(target / "support.tsv"),
          "--query", str(unlabelled)])
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].startswith("label\t") and len(printed) == 4  # no report without labels
    assert [line.split("\t")[0] for line in printed[1:]] == result.labels[:3]


def test_evaluate_targets_command(runs, domain, capsys):
    folder, _ = domain
    results = main(["evaluate", str(runs["protonet"]), "--targets", str(folder)])
    printed = capsys.readouterr().out
    assert len(results.names) == 10 and "mean over 10 target tasks" in printed
    run = load_run(runs["protonet"])
    name, support, texts, labels = tasks.read_targets(folder)[0]
    by_hand = np.mean(np.array(run.predict(support, texts).labels) == np.array(labels))
    assert results.accuracies[0] == pytest.approx(by_hand)


def test_exactly_five_examples_per_class_and_an_imbalanced_query(runs, tmp_path, capsys):
    target = tmp_path / "targets" / "kettles"
    target.mkdir(parents=True)
    (target / "support.tsv").write_text(
        "".join(f"positive\tgreat kettle {i}\nnegative\tawful kettle {i}\n" for i in range(5)),
        encoding="utf-8")
    (target / "query.tsv").write_text("positive\tgreat\npositive\tsuperb\nnegative\tbad\n",
                                      encoding="utf-8")
    results = main(["evaluate", str(runs["maml"]), "--targets", str(tmp_path / "targets")])
    assert results.names == ["kettles"] and results.reports[0].total == 3
    assert results.majorities[0] == pytest.approx(2 / 3)


def write(path, text):
    path.write_text(text, encoding="utf-8")
    return str(path)


@pytest.mark.parametrize("support, query, flags, message", [
    ("pos\tgood\nneg\tbad\n", "", [], "holds no query texts (an empty query file)"),
    ("pos\tgood\nneg\tbad\n", "pos\tfine\nmeh\tso so\n", [],
     "query 2 has label 'meh', which is not a class of the support set (pos, neg)"),
    ("pos\tgood\nneg\tbad\n", "fine\n", ["--classes", "pos,neg,meh"],
     "support class 'meh' has no example in the support set"),
    ("pos\tgood\npos\tfine\n", "fine\n", [], "at least two classes, got 1"),
    ("pos\tgood\nneg\tbad\nmeh\tso so\n", "fine\n", [], "trained 2-way"),
])
def test_predict_errors_are_one_line(runs, tmp_path, support, query, flags, message):
    args = ["predict", str(runs["maml"]), "--support", write(tmp_path / "s.tsv", support),
            "--query", write(tmp_path / "q.txt", query), *flags]
    with pytest.raises(SystemExit) as err:
        main(args)
    assert str(err.value).startswith("predict: ") and message in str(err.value)
    assert "\n" not in str(err.value)
