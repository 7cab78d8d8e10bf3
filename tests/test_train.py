"""The training loop's promises: exact resume, atomic checkpoints, NaN guard, Ctrl-C, history."""

import json
import os
import signal

import numpy as np
import pytest

from metanumpy import checkpoint
from metanumpy.experiment import Experiment
from metanumpy.meta import TrainingDiverged
from metanumpy.train import Trainer, load_best, train


@pytest.fixture(scope="module")
def exp():
    return Experiment(tasks="topics", ways=3, shots=1, queries=2, seed=0, dim=8, hidden=8)


def quiet(line):
    pass


def params(learner):
    return {n: p.numpy().copy() for n, p in learner.model.named_parameters()}


@pytest.mark.parametrize("algo", ["maml", "reptile", "protonet"])
def test_resumed_run_reproduces_the_uninterrupted_run_bit_for_bit(exp, tmp_path, algo):
    val = exp.episodes("val", 4)
    whole = exp.learner(algo)
    h_whole = train(whole, exp.sampler(), val, steps=6, meta_batch=2, eval_every=3,
                    out_dir=str(tmp_path / "whole"), log=quiet)

    first = Trainer(exp.learner(algo), exp.sampler(), val, steps=6, meta_batch=2, eval_every=3,
                    out_dir=str(tmp_path / "split"), log=quiet)
    interrupt_at(first, 3)
    first.run()
    assert first.step == 3
    second = exp.learner(algo)  # a fresh process would start like this
    h_split = train(second, exp.sampler(), val, steps=6, meta_batch=2, eval_every=3,
                    out_dir=str(tmp_path / "split"), log=quiet)

    assert h_split["loss"] == h_whole["loss"]
    assert h_split["val_acc"] == h_whole["val_acc"]
    for name, value in params(whole).items():
        assert np.array_equal(params(second)[name], value), name


def test_checkpoint_round_trip_and_atomic_write(tmp_path):
    path = tmp_path / "state.npz"
    state = {"a": np.arange(3.0), "nested": [1, {"b": np.ones((2, 2), np.float32)}],
             "big": 2**100, "text": "x", "none": None}
    checkpoint.save(path, state)
    back = checkpoint.load(path)
    assert back["big"] == 2**100 and back["text"] == "x" and back["none"] is None
    assert np.array_equal(back["nested"][1]["b"], state["nested"][1]["b"])

    def crash(f):
        f.write(b"half a file")
        raise OSError("disk full")

    with pytest.raises(OSError):
        checkpoint.atomic_write(path, crash)
    assert np.array_equal(checkpoint.load(path)["a"], np.arange(3.0)), "old file must survive"
    assert sorted(os.listdir(tmp_path)) == ["state.npz"], "no temporary file left behind"


def test_not_a_checkpoint_gives_a_clear_error(tmp_path):
    path = tmp_path / "plain.npz"
    np.savez(path, x=np.zeros(2))
    with pytest.raises(ValueError, match="not a metanumpy checkpoint"):
        checkpoint.load(path)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        checkpoint.load(tmp_path / "missing.npz")


def test_nan_loss_stops_with_advice_and_keeps_the_last_good_state(exp, tmp_path):
    learner = exp.learner("maml", inner_lr=1e30, inner_steps=2)
    before = params(learner)
    with pytest.raises(TrainingDiverged, match="inner learning rate") as err, \
            np.errstate(all="ignore"):
        train(learner, exp.sampler(), None, steps=5, meta_batch=2, out_dir=str(tmp_path),
              log=quiet)
    assert "checkpoint.npz" in str(err.value)
    saved = checkpoint.load(tmp_path / "checkpoint.npz")["learner"]["model"]
    for name, value in before.items():
        assert np.array_equal(saved[name], value), "the saved state must be the last good one"
        assert np.isfinite(saved[name]).all()


def interrupt_at(trainer, step):
    """Press Ctrl-C (SIGINT) during meta-training step `step` (counting from 1)."""
    original = trainer.learner.meta_train_step

    def step_then_interrupt(episodes, progress=0.0):
        stats = original(episodes, progress)
        if trainer.step + 1 == step:
            os.kill(os.getpid(), signal.SIGINT)
        return stats

    trainer.learner.meta_train_step = step_then_interrupt


def test_ctrl_c_finishes_the_step_and_saves_a_checkpoint(exp, tmp_path):
    trainer = Trainer(exp.learner("protonet"), exp.sampler(), None, steps=10, meta_batch=2,
                      out_dir=str(tmp_path), log=quiet)
    interrupt_at(trainer, 4)
    trainer.run()
    assert trainer.step == 4
    assert checkpoint.load(tmp_path / "checkpoint.npz")["step"] == 4
    history = json.loads((tmp_path / "history.json").read_text())
    assert history["step"] == [1, 2, 3, 4]


def test_best_model_is_saved_and_loadable(exp, tmp_path):
    learner = exp.learner("protonet")
    history = train(learner, exp.sampler(), exp.episodes("val", 4), steps=4, meta_batch=2,
                    eval_every=2, out_dir=str(tmp_path), log=quiet)
    assert history["val_step"] == [2, 4]
    state = load_best(exp.learner("protonet"), str(tmp_path))
    assert state["val_acc"] == max(history["val_acc"])


def test_progress_line_reports_step_loss_accuracy_speed_and_eta(exp):
    lines = []
    train(exp.learner("protonet"), exp.sampler(), None, steps=2, meta_batch=1, log_every=1,
          log=lines.append)
    assert lines[0].startswith("step 1/2  loss ")
    assert "acc " in lines[0] and "steps/s" in lines[0] and "ETA" in lines[0]


def test_a_damaged_checkpoint_is_one_line_naming_the_file(tmp_path):
    path = tmp_path / "checkpoint.npz"
    checkpoint.save(path, {"a": np.arange(3.0)})
    for damage in (path.read_bytes()[:100], b"", b"plain text, not a zip file\n"):
        path.write_bytes(damage)
        with pytest.raises(checkpoint.DamagedCheckpoint, match=r"checkpoint\.npz is damaged"):
            checkpoint.load(path)


def test_saving_keeps_the_previous_checkpoint(tmp_path):
    path = tmp_path / "checkpoint.npz"
    checkpoint.save(path, {"step": 1}, keep_previous=True)
    checkpoint.save(path, {"step": 2}, keep_previous=True)
    assert checkpoint.load(path)["step"] == 2
    assert checkpoint.load(checkpoint.previous(path))["step"] == 1
    assert checkpoint.previous(path) == str(tmp_path / "checkpoint.prev.npz")


def test_steps_zero_validates_the_starting_model(exp, tmp_path):
    learner = exp.learner("protonet")
    before = params(learner)
    history = train(learner, exp.sampler(), exp.episodes("val", 2), steps=0,
                    out_dir=str(tmp_path), log=quiet)
    assert history["val_step"] == [0] and history["step"] == []
    state = load_best(exp.learner("protonet"), str(tmp_path))
    assert state["step"] == 0
    for name, value in before.items():
        assert np.array_equal(state["learner"]["model"][name], value)


def test_validation_records_its_confidence_interval(exp):
    history = train(exp.learner("protonet"), exp.sampler(), exp.episodes("val", 3), steps=2,
                    meta_batch=1, eval_every=1, log=quiet)
    assert len(history["val_ci"]) == len(history["val_acc"]) == 2
    assert all(ci >= 0 for ci in history["val_ci"])
