"""One meta-training loop for every algorithm: validation, best model, checkpoints, history.

    history = train(learner, sampler, val_episodes, steps=1000, meta_batch=4, out_dir="runs/maml")

Each step draws a meta-batch of episodes from the (seeded) sampler and calls
`learner.meta_train_step`. Every `eval_every` steps the learner is evaluated on a fixed list of
meta-validation episodes, and the best model so far is kept in `best.npz`.

What the loop promises:
- Checkpoints (`checkpoint.npz`: parameters, optimizer state, sampler RNG state, step, history)
  are written atomically, and a resumed run reproduces the uninterrupted run exactly. The one
  before is kept as `checkpoint.prev.npz`: a damaged latest checkpoint falls back to it (and
  says so).
- `steps=0` validates the starting model (a pre-trained embedding alone can be evaluated).
- Ctrl-C finishes the current step, writes a checkpoint, then stops.
- A NaN or infinite loss stops the run with advice, and the checkpoint on disk is the state
  before the bad step (the last good one).
"""

import json
import os
import signal
import threading
import time


from . import checkpoint
from .meta.learner import TrainingDiverged
from .tasks.evaluate import evaluate


class _StopRequest:
    """Turns the first Ctrl-C into a polite request to stop after the current step."""

    def __init__(self):
        self.requested = False
        self.previous = None

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum, frame):
        if self.requested:  # a second Ctrl-C stops at once
            raise KeyboardInterrupt
        self.requested = True
        print("\nCtrl-C: finishing this step and saving a checkpoint (press again to abort)")

    def __exit__(self, *exc):
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)


def _format_time(seconds):
    seconds = int(seconds)
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


class Trainer:
    """The state of one training run; `run()` does the work. See `train` for the arguments."""

    def __init__(self, learner, sampler, val_episodes=None, steps=1000, meta_batch=4,
                 eval_every=100, out_dir=None, log_every=50, checkpoint_every=None, log=print):
        self.learner, self.sampler, self.val_episodes = learner, sampler, val_episodes
        self.steps, self.meta_batch, self.eval_every = steps, meta_batch, eval_every
        self.out_dir, self.log_every, self.log = out_dir, log_every, log
        self.checkpoint_every = checkpoint_every or eval_every
        self.step = 0
        self.best = -1.0
        self.history = {"step": [], "loss": [], "acc": [], "val_step": [], "val_acc": [],
                        "seconds": 0.0}

    def path(self, name):
        return os.path.join(self.out_dir, name)

    # --- checkpoints --------------------------------------------------------------------
    def state(self, sampler_state):
        return {"learner": self.learner.state_dict(), "sampler": sampler_state,
                "step": self.step, "best": self.best, "history": self.history}

    def save(self, sampler_state):
        if self.out_dir:
            checkpoint.save(self.path("checkpoint.npz"), self.state(sampler_state),
                            keep_previous=True)
            checkpoint.write_json(self.path("history.json"), self.history)

    def resume(self):
        """Continue from `out_dir/checkpoint.npz` if it exists (or, when that one is damaged
        or missing, from the previous one). Returns True if it did."""
        latest = self.path("checkpoint.npz") if self.out_dir else None
        if not latest or not any(map(os.path.exists, (latest, checkpoint.previous(latest)))):
            return False
        state, used = self._load_checkpoint(latest)
        self.learner.load_state_dict(state["learner"])
        self.sampler.set_state(state["sampler"])
        self.step, self.best, self.history = state["step"], state["best"], state["history"]
        self.log(f"resumed from {used} at step {self.step}")
        return True

    def _load_checkpoint(self, latest):
        """(state, path) of the latest readable checkpoint: `latest`, else the previous one."""
        fallback = checkpoint.previous(latest)
        try:
            return checkpoint.load(latest), latest
        except (checkpoint.DamagedCheckpoint, FileNotFoundError) as err:
            problem = err
        remedy = "start the run again (train --restart) or train into a new --out folder"
        if not os.path.exists(fallback):
            raise checkpoint.DamagedCheckpoint(f"{problem}; {remedy}") from None
        try:
            state = checkpoint.load(fallback)
        except checkpoint.DamagedCheckpoint as err:
            raise checkpoint.DamagedCheckpoint(f"{problem}, and so is the previous one: {err}; "
                                               f"{remedy}") from None
        self.log(f"warning: {problem}; falling back to the previous checkpoint {fallback} "
                 f"(step {state['step']})")
        return state, fallback

    # --- the loop ---------------------------------------------------------------------------
    def validate(self):
        result = evaluate(self.learner.predict, self.val_episodes)
        self.history["val_step"].append(self.step)
        self.history["val_acc"].append(result.mean)
        self.history.setdefault("val_ci", []).append(result.ci95)
        if result.mean > self.best:
            self.best = result.mean
            if self.out_dir:
                checkpoint.save(self.path("best.npz"), {"learner": self.learner.state_dict(),
                                                        "step": self.step, "val_acc": result.mean})
        return result

    def run(self):
        start_time, start_step = time.perf_counter(), self.step
        elapsed_before = self.history["seconds"]
        if self.steps == 0 and self.val_episodes and not self.history["val_step"]:
            self.log(f"step 0/0  val {self.validate()} (the starting model)")
            self.save(self.sampler.state())
        with _StopRequest() as stop:
            while self.step < self.steps:
                sampler_state = self.sampler.state()
                episodes = self.sampler.batch(self.meta_batch)
                try:
                    stats = self.learner.meta_train_step(episodes, progress=self.step / self.steps)
                except TrainingDiverged as err:
                    self.save(sampler_state)
                    where = f" The last good state is saved in {self.path('checkpoint.npz')}." if self.out_dir else ""
                    raise TrainingDiverged(f"step {self.step + 1}: {err}{where}") from None
                self.step += 1
                self.history["step"].append(self.step)
                self.history["loss"].append(stats["loss"])
                self.history["acc"].append(stats["acc"])
                seconds = time.perf_counter() - start_time
                self.history["seconds"] = elapsed_before + seconds
                message = None
                if self.val_episodes and (self.step % self.eval_every == 0 or self.step == self.steps):
                    message = f"val {self.validate()}"
                if self.step % self.log_every == 0 or self.step == self.steps or message:
                    self.log(self._progress(stats, seconds, start_step, message))
                if self.step % self.checkpoint_every == 0 or self.step == self.steps or stop.requested:
                    self.save(self.sampler.state())
                if stop.requested:
                    self.log(f"stopped at step {self.step}; run the same command again to resume")
                    break
        return self.history

    def _progress(self, stats, seconds, start_step, extra):
        done = self.step - start_step
        rate = done / seconds if seconds > 0 else float("inf")
        eta = (self.steps - self.step) / rate if rate > 0 else 0.0
        line = (f"step {self.step}/{self.steps}  loss {stats['loss']:.3f}  acc {stats['acc']:.1%}"
                f"  {rate:.1f} steps/s  ETA {_format_time(eta)}")
        return f"{line}  {extra}" if extra else line


def train(learner, sampler, val_episodes=None, steps=1000, meta_batch=4, eval_every=100,
          out_dir=None, log_every=50, checkpoint_every=None, resume=True, log=print):
    """Meta-train `learner` on episodes from `sampler`; returns the history dict.

    val_episodes: fixed meta-validation episodes (best-model selection), or None.
    out_dir: where checkpoint.npz, best.npz and history.json go (None: keep nothing on disk).
    resume: continue from out_dir/checkpoint.npz when it exists.
    """
    trainer = Trainer(learner, sampler, val_episodes, steps, meta_batch, eval_every, out_dir,
                      log_every, checkpoint_every, log)
    if resume:
        trainer.resume()
    return trainer.run()


def load_best(learner, out_dir):
    """Load the best-on-validation parameters saved by `train` into `learner`."""
    path = os.path.join(out_dir, "best.npz")
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path} does not exist: the run has not been validated yet "
                                "(train it, or evaluate its checkpoint.npz)")
    try:
        state = checkpoint.load(path)
    except checkpoint.DamagedCheckpoint as err:
        raise checkpoint.DamagedCheckpoint(
            f"{err}; evaluate {os.path.join(out_dir, 'checkpoint.npz')} instead, or train "
            "again with --restart") from None
    learner.load_state_dict(state["learner"])
    return state


def read_history(out_dir):
    with open(os.path.join(out_dir, "history.json"), encoding="utf-8") as f:
        return json.load(f)
