"""A run folder is bound to its settings; damaged checkpoints fall back; --steps 0; outputs.

End to end through `cli.console` on a tiny data folder (each run is a few steps of a tiny model).
"""

import json
import shutil
import signal
import os

import numpy as np
import pytest

from metanumpy import checkpoint
from metanumpy.cli import console
from metanumpy.meta import ProtoNet

from test_cli_errors import SMALL, write_data


def flags(data, out, *extra):
    return ["train", "--data", str(data), *SMALL, "--out", str(out), *extra]


@pytest.fixture
def data(tmp_path):
    return write_data(tmp_path / "project" / "data")


def settings(out):
    return json.loads((out / "settings.json").read_text(encoding="utf-8"))


def test_a_changed_setting_refuses_with_the_difference_and_touches_nothing(data, capsys):
    out = data.parent / "run"
    assert console(flags(data, out, "--algo", "maml", "--steps", "2")) == 0
    before = (out / "settings.json").read_bytes()
    capsys.readouterr()
    assert console(flags(data, out, "--algo", "maml", "--steps", "2", "--inner-lr", "2.0")) == 1
    err = capsys.readouterr().err
    assert "  inner_lr: 0.5 (default) -> 2.0\n" in err
    assert "--out NEW" in err and "--restart" in err
    assert (out / "settings.json").read_bytes() == before
    assert console(flags(data, out, "--algo", "maml", "--steps", "2", "--shots", "2",
                         "--meta-batch", "3")) == 1
    err = capsys.readouterr().err
    assert "  shots: 1 -> 2\n" in err and "  meta_batch: 4 -> 3\n" in err


def test_restart_discards_the_old_run_and_records_the_new_settings(data, capsys):
    out = data.parent / "run"
    assert console(flags(data, out, "--algo", "maml", "--steps", "2")) == 0
    capsys.readouterr()
    assert console(flags(data, out, "--algo", "maml", "--steps", "1", "--inner-lr", "2.0",
                         "--restart")) == 0
    printed = capsys.readouterr().out
    assert "resumed" not in printed
    assert settings(out)["options"] == {"inner_lr": 2.0}
    assert checkpoint.load(out / "checkpoint.npz")["step"] == 1
    assert not (out / "checkpoint.prev.npz").exists() or \
        checkpoint.load(out / "checkpoint.prev.npz")["step"] < 1


def test_more_steps_continue_the_run(data, capsys):
    out = data.parent / "run"
    assert console(flags(data, out, "--steps", "2")) == 0
    assert console(flags(data, out, "--steps", "3")) == 0
    assert "at step 2" in capsys.readouterr().out
    assert settings(out)["training"]["steps"] == 3


def test_init_is_recorded_with_its_hash_and_leaving_it_out_refuses(data, capsys):
    out = data.parent / "run"
    emb = data.parent / "emb.npz"
    np.savez(emb, tokens=np.array(["aword", "bword"]), vectors=np.ones((2, 8), np.float32))
    assert console(flags(data, out, "--steps", "1", "--init", str(emb))) == 0
    record = settings(out)["init"]
    assert record["path"] == os.path.join("..", "emb.npz") and len(record["sha256"]) == 64
    capsys.readouterr()
    assert console(flags(data, out, "--steps", "1")) == 1
    assert f"init: ../emb.npz (sha256 {record['sha256'][:12]}) -> none" in capsys.readouterr().err


def test_settings_record_vocabulary_bounds_and_a_relative_data_location(data, capsys):
    out = data.parent / "run"
    assert console(flags(data, out, "--steps", "1", "--min-count", "2", "--max-vocab", "10")) == 0
    record = settings(out)
    assert record["settings"]["min_count"] == 2 and record["settings"]["max_vocab"] == 10
    assert record["settings"]["tasks"] == os.path.join("..", "data")
    assert len(record["data"]["sha256"]) == 64
    assert len((out / "vocab.txt").read_text().splitlines()) == 1 + 10
    # the project moves as a whole: evaluate still finds the data
    moved = data.parent.parent / "moved"
    shutil.move(str(data.parent), str(moved))
    assert console(["evaluate", str(moved / "run"), "--episodes", "2"]) == 0


def test_evaluate_warns_when_the_data_changed_and_writes_per_episode_accuracies(data, capsys):
    out = data.parent / "run"
    assert console(flags(data, out, "--steps", "1")) == 0
    capsys.readouterr()
    assert console(["evaluate", str(out), "--episodes", "3"]) == 0
    assert "warning" not in capsys.readouterr().err
    saved = json.loads((out / "evaluation-test.json").read_text())
    assert saved["split"] == "test" and len(saved["accuracies"]) == 3
    assert np.mean(saved["accuracies"]) == pytest.approx(saved["mean"])
    with open(data / "test.tsv", "a", encoding="utf-8") as f:
        f.write("g\tone more g text\n")
    assert console(["evaluate", str(out), "--episodes", "3"]) == 0
    assert capsys.readouterr().err.startswith(f"warning: the data in {data} changed since")
    assert console(flags(data, out, "--steps", "2")) == 1
    assert "  data content: sha256 " in capsys.readouterr().err


def test_steps_zero_evaluates_the_starting_model(data, capsys):
    out = data.parent / "run"
    assert console(flags(data, out, "--steps", "0")) == 0
    printed = capsys.readouterr().out
    assert "step 0/0  val " in printed and "meta-test accuracy" in printed
    assert checkpoint.load(out / "best.npz")["step"] == 0


def test_a_truncated_checkpoint_falls_back_to_the_previous_one(data, capsys):
    out = data.parent / "run"
    assert console(flags(data, out, "--steps", "3")) == 0  # a checkpoint every step
    assert checkpoint.load(out / "checkpoint.prev.npz")["step"] == 2
    whole = data.parent / "whole"
    assert console(flags(data, whole, "--steps", "4")) == 0
    path = out / "checkpoint.npz"
    path.write_bytes(path.read_bytes()[:300])
    capsys.readouterr()
    assert console(flags(data, out, "--steps", "4")) == 0
    printed = capsys.readouterr().out
    assert "is damaged" in printed and "falling back to the previous checkpoint" in printed
    assert "resumed from" in printed and "at step 2" in printed
    assert (json.loads((out / "history.json").read_text())["loss"]
            == json.loads((whole / "history.json").read_text())["loss"])


def test_curves_are_drawn_at_the_end_and_on_ctrl_c(data, capsys, monkeypatch):
    out = data.parent / "run"
    assert console(flags(data, out, "--steps", "2")) == 0
    assert (out / "curves.png").stat().st_size > 0
    original = ProtoNet.meta_train_step

    def interrupted(self, episodes, progress=0.0):
        stats = original(self, episodes, progress)
        os.kill(os.getpid(), signal.SIGINT)
        return stats

    monkeypatch.setattr(ProtoNet, "meta_train_step", interrupted)
    (out / "curves.png").unlink()
    assert console(flags(data, out, "--steps", "10")) == 0
    assert "stopped at step 3" in capsys.readouterr().out
    assert (out / "curves.png").stat().st_size > 0


@pytest.mark.parametrize("first", ["reference", "fast"])
def test_a_path_change_refuses_with_advice_and_the_same_path_continues(data, capsys, on_path,
                                                                       first):
    out = data.parent / "run"
    other = "fast" if first == "reference" else "reference"
    assert on_path(first, console, flags(data, out, "--steps", "1")) == 0
    assert settings(out)["path"] == first
    before = (out / "settings.json").read_bytes()
    capsys.readouterr()
    assert on_path(other, console, flags(data, out, "--steps", "2")) == 1
    err = capsys.readouterr().err
    assert f"  path: {first} -> {other}\n" in err
    advice = "rerun with --fast-path" if first == "fast" else "rerun without --fast-path"
    assert f"It was trained on the {first} path: to continue it, {advice}" in err
    assert "--restart" in err and (out / "settings.json").read_bytes() == before
    assert on_path(first, console, flags(data, out, "--steps", "2")) == 0
    assert "at step 1" in capsys.readouterr().out
    assert on_path(other, console, flags(data, out, "--steps", "1", "--restart")) == 0
    assert settings(out)["path"] == other


def test_a_folder_from_before_paths_were_recorded_continues_on_either_path(data, capsys,
                                                                          on_path):
    out = data.parent / "run"
    assert console(flags(data, out, "--steps", "1")) == 0
    record = settings(out)
    del record["path"]
    (out / "settings.json").write_text(json.dumps(record), encoding="utf-8")
    assert on_path("fast", console, flags(data, out, "--steps", "2")) == 0
    assert "at step 1" in capsys.readouterr().out
    assert settings(out)["path"] == "fast"               # written from then on
    assert console(flags(data, out, "--steps", "3")) == 1  # and binding


def test_evaluate_and_predict_read_a_run_on_either_path(data, capsys, on_path):
    out = data.parent / "run"
    assert on_path("fast", console, flags(data, out, "--steps", "1")) == 0
    for path in ("reference", "fast"):
        assert on_path(path, console, ["evaluate", str(out), "--episodes", "2"]) == 0
        assert json.loads((out / "evaluation-test.json").read_text())["path"] == path
    support, query = data.parent / "support.tsv", data.parent / "query.tsv"
    support.write_text("g\tgword text\nh\thword text\n", encoding="utf-8")
    query.write_text("gword number\nhword number\n", encoding="utf-8")
    capsys.readouterr()
    assert console(["predict", str(out), "--support", str(support), "--query", str(query)]) == 0
    assert capsys.readouterr().out.splitlines()[0] == "label\tp(g)\tp(h)\ttext"
    assert settings(out)["path"] == "fast"


def test_every_option_is_recorded_and_a_changed_default_refuses(data, capsys, monkeypatch):
    from metanumpy import experiment
    from metanumpy.run import load_run

    out = data.parent / "run"
    assert console(flags(data, out, "--algo", "maml", "--steps", "2")) == 0
    recorded = settings(out)["resolved_options"]
    assert recorded == {"inner_lr": 0.5, "inner_steps": 3, "outer_lr": 3e-3}
    # a later version changes MAML's default inner step: the saved run keeps its own
    monkeypatch.setitem(experiment.ALGO_DEFAULTS, "maml",
                        {**experiment.ALGO_DEFAULTS["maml"], "inner_lr": 0.9})
    assert load_run(out).learner.inner_lr == 0.5
    assert experiment.Experiment.load(out)[2]["inner_lr"] == 0.5
    capsys.readouterr()
    assert console(flags(data, out, "--algo", "maml", "--steps", "3")) == 1
    assert "  inner_lr: 0.5 (default) -> 0.9 (default)\n" in capsys.readouterr().err
    assert console(flags(data, out, "--algo", "maml", "--steps", "3", "--inner-lr", "0.5")) == 0


def test_a_folder_from_before_options_were_recorded_continues(data, capsys):
    out = data.parent / "run"
    assert console(flags(data, out, "--algo", "reptile", "--steps", "2")) == 0
    record = settings(out)
    del record["resolved_options"]
    (out / "settings.json").write_text(json.dumps(record), encoding="utf-8")
    assert console(flags(data, out, "--algo", "reptile", "--steps", "3")) == 0
    assert "resumed" in capsys.readouterr().out
    assert settings(out)["resolved_options"]["inner_optimizer"] == "adam"


def test_an_older_lexical_maml_folder_keeps_its_learned_head(data, capsys):
    from metanumpy.run import load_run

    out = data.parent / "run"
    lexical = ["--encoder", "lexical", "--ngram-buckets", "256", "--max-len", "64"]
    assert console(flags(data, out, "--algo", "fomaml", *lexical, "--head", "learned",
                         "--steps", "2")) == 0
    record = settings(out)  # as the version before the prototype head wrote it
    del record["resolved_options"]
    record["options"] = {}
    (out / "settings.json").write_text(json.dumps(record), encoding="utf-8")
    assert type(load_run(out).learner).__name__ == "MAML"
    capsys.readouterr()
    assert console(flags(data, out, "--algo", "fomaml", *lexical, "--steps", "3")) == 1
    assert "  head: learned -> prototypes (default)\n" in capsys.readouterr().err
    assert console(flags(data, out, "--algo", "fomaml", *lexical, "--head", "learned",
                         "--steps", "3")) == 0
