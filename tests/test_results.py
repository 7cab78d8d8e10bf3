"""`table --data DIR`: baselines and learners on a data folder, on the same fixed episodes."""

import json

import numpy as np
import pytest

from metanumpy import results
from metanumpy.cli import main
from metanumpy.experiment import Experiment
from metanumpy.meta.baselines import TfidfNearestCentroid
from metanumpy.tasks import evaluate


def write_folder(folder, seed=0):
    """A tiny data folder: 6/5/5 classes of 20 texts, each class with its own key words."""
    rng = np.random.default_rng(seed)
    filler = ["the", "a", "please", "my", "now", "can", "you", "i", "want", "to"]
    folder.mkdir()
    for split, first, count in (("train", 0, 6), ("val", 6, 5), ("test", 11, 5)):
        rows = []
        for c in range(first, first + count):
            keys = [f"key{c}x{k}" for k in range(3)]
            for _ in range(20):
                words = list(rng.choice(filler, 4)) + list(rng.choice(keys, 2))
                rows.append(f"class{c}\t" + " ".join(rng.permutation(words)) + "?")
        (folder / f"{split}.tsv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return folder


def test_table_data_runs_baselines_and_learners_on_a_folder(tmp_path, capsys):
    data = write_folder(tmp_path / "intents")
    out = tmp_path / "results"
    main(["table", "--data", str(data), "--learners", "protonet", "--baselines", "bow,tfidf",
          "--episodes", "6", "--steps", "2", "--max-len", "12", "--out", str(out)])
    table = json.loads((out / "results.json").read_text())["table"]
    assert list(table) == ["intents"]
    assert list(table["intents"]) == ["5-way 1-shot", "5-way 5-shot"]
    for rows in table["intents"].values():
        assert list(rows) == ["bow", "tfidf", "protonet"]
        assert all(r["n"] == 6 for r in rows.values())
    # the tf-idf row is the baseline on Experiment's fixed test episodes (same for everyone)
    exp = Experiment(tasks=str(data), ways=5, shots=5, max_len=12)
    expected = evaluate(TfidfNearestCentroid().fit(exp.source.texts("train")).predict,
                        exp.episodes("test", 6))
    assert table["intents"]["5-way 5-shot"]["tfidf"]["mean"] == pytest.approx(expected.mean)
    assert expected.mean == 1.0                       # each class's key words decide it
    printed = capsys.readouterr().out
    assert "**intents**" in printed and "word+char tf-idf nearest centroid (strong)" in printed


@pytest.mark.parametrize("encoder, head", [("bag", "learned"), ("lexical", "prototypes")])
def test_a_table_row_says_which_head_maml_had(tmp_path, encoder, head):
    data = write_folder(tmp_path / "intents")
    out = tmp_path / "results"
    main(["table", "--data", str(data), "--learners", "fomaml", "--baselines", "",
          "--episodes", "2", "--steps", "1", "--max-len", "64", "--ngram-buckets", "64",
          "--encoder", encoder, "--out", str(out)])
    rows = json.loads((out / "results.json").read_text())["table"]["intents"]
    assert {r["fomaml"]["head"] for r in rows.values()} == {head}
    shown = "| MAML (first order), prototype head |" in (out / "results.md").read_text()
    assert shown == (head == "prototypes")


def test_table_errors_are_one_clear_line(tmp_path):
    with pytest.raises(SystemExit, match="table: load: .*nowhere.* is neither a built-in task"):
        main(["table", "--data", str(tmp_path / "nowhere"), "--out", str(tmp_path / "r")])
    data = write_folder(tmp_path / "intents")
    with pytest.raises(SystemExit, match="table: unknown learner 'protonets'"):
        main(["table", "--data", str(data), "--learners", "protonets", "--out",
              str(tmp_path / "r")])


@pytest.mark.parametrize("path", ["reference", "fast"])
def test_the_table_records_the_path_that_made_it(tmp_path, on_path, path):
    data = write_folder(tmp_path / "intents")
    out = tmp_path / "results"
    on_path(path, main, ["table", "--data", str(data), "--learners", "protonet", "--baselines",
                         "bow", "--episodes", "2", "--steps", "1", "--max-len", "12", "--out",
                         str(out)])
    assert json.loads((out / "results.json").read_text())["path"] == path
    header = (out / "results.md").read_text().splitlines()[0]
    assert f"best meta-validation model, {path} path;" in header
    run = out / "runs" / "intents-5w1s-protonet"
    assert json.loads((run / "settings.json").read_text())["path"] == path


def test_the_table_refuses_an_unknown_path(tmp_path):
    with pytest.raises(ValueError, match="table: path must be one of reference, fast, got 'gpu'"):
        results.run(families=["topics"], out=str(tmp_path / "r"), path="gpu")
    assert not (tmp_path / "r").exists()


def test_table_init_starts_every_learner_from_the_file(tmp_path):
    from metanumpy import checkpoint
    from metanumpy.pretrain import save_embeddings

    data = write_folder(tmp_path / "intents")
    exp = Experiment(tasks=str(data), max_len=12, dim=8)
    vectors = np.random.default_rng(1).normal(0, 5, size=(len(exp.vocab), 8))
    save_embeddings(tmp_path / "emb.npz", vectors, exp.vocab)
    out = tmp_path / "results"
    main(["table", "--data", str(data), "--learners", "protonet", "--baselines", "",
          "--episodes", "2", "--steps", "1", "--max-len", "12", "--dim", "8",
          "--init", str(tmp_path / "emb.npz"), "--out", str(out)])
    saved = json.loads((out / "results.json").read_text())
    assert saved["init"] == str(tmp_path / "emb.npz")
    assert "embeddings from" in (out / "results.md").read_text().splitlines()[0]
    run = out / "runs" / "intents-5w1s-protonet"
    assert json.loads((run / "settings.json").read_text())["init"] is not None
    table = checkpoint.load(run / "checkpoint.npz")["learner"]["model"]["encoder.embedding.weight"]
    word = exp.vocab.token_to_id("please")
    # one Adam step of 3e-3 from the file's row, nowhere near the random start (std 1)
    np.testing.assert_allclose(table[word], vectors[word], atol=0.01)


def test_table_init_refuses_a_bad_file_before_the_first_row(tmp_path):
    from metanumpy.pretrain import save_embeddings

    data = write_folder(tmp_path / "intents")
    with pytest.raises(SystemExit, match="nowhere.npz not found"):
        main(["table", "--data", str(data), "--init", str(tmp_path / "nowhere.npz"),
              "--out", str(tmp_path / "r")])
    wide = tmp_path / "wide.npz"
    exp = Experiment(tasks=str(data))
    save_embeddings(wide, np.zeros((len(exp.vocab), 16)), exp.vocab)
    with pytest.raises(SystemExit, match="vectors of dim 16 but the learners have --dim 64"):
        main(["table", "--data", str(data), "--init", str(wide), "--out", str(tmp_path / "r")])
    (tmp_path / "bad.npz").write_text("not an npz")
    with pytest.raises(SystemExit, match="--init .*bad.npz: not an embeddings file"):
        main(["table", "--data", str(data), "--init", str(tmp_path / "bad.npz"),
              "--out", str(tmp_path / "r")])
    assert not (tmp_path / "r").exists()


def test_rows_are_written_as_they_come(tmp_path):
    data = write_folder(tmp_path / "intents")
    out = tmp_path / "results"
    seen = []

    def log(line):  # after each row, the files already hold it
        seen.append(sum(len(rows) for rows in json.loads(
            (out / "results.json").read_text())["table"]["intents"].values()))

    results.run(families=[str(data)], learners=[], baselines=["bow", "tfidf"], episodes=2,
                out=str(out), log=log, settings={"max_len": 12}, path="reference")
    assert seen == [1, 2, 3, 4]
    assert "| bag-of-words" in (out / "results.md").read_text()
