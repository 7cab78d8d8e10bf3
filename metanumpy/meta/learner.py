"""The shape every meta-learner shares, and the inner loop two of them use.

Each algorithm is a `MetaLearner` with:

    meta_loss(episodes)            -> (loss Tensor, query accuracy), averaged over a meta-batch
    meta_train_step(episodes, progress) -> {"loss": float, "acc": float}; updates the meta-parameters
    predict(episode)               -> predicted labels of the query set (host NumPy ints)
    state_dict() / load_state_dict(d)  (model, optimizer and the algorithm's own state)

so the training loop, evaluation, checkpoints and plots work for all of them unchanged.

`adapt` is the inner loop of MAML (and the test-time fine-tuning of Reptile): a few steps of
plain SGD on the support set, written with *functional* fast weights,

    phi_0 = theta,    phi_{k+1} = phi_k - alpha * grad L_support(phi_k),

never touching the model's own parameters. With `create_graph=True` each step is recorded, so
the query loss at phi_K can be differentiated back through the whole loop to theta.
"""

import numpy as np

from .. import backend as B
from ..autograd import grad, no_grad
from ..autograd.functional import accuracy, cross_entropy
from ..optim import Adam, sgd_step


class TrainingDiverged(FloatingPointError):
    """The loss became NaN or infinite; the message says what to try."""


def adapt(model, params, ids, mask, labels, steps, lr, create_graph=False):
    """`steps` SGD steps on (ids, mask, labels) from `params` (name -> Tensor); returns new params.

    `lr` is a float or, for Meta-SGD, a dict name -> Tensor of per-parameter learning rates.
    """
    ### BEGIN SOLUTION task4_2: loss with params=fast, grad (create_graph as given), sgd_step
    fast = dict(params)
    names = list(fast)
    for _ in range(steps):
        loss = cross_entropy(model(ids, mask, params=fast), labels)
        grads = grad(loss, [fast[n] for n in names], create_graph=create_graph)
        fast = sgd_step(fast, dict(zip(names, grads)), lr)
    return fast
    ### END SOLUTION


def check_finite(loss, hint):
    """Stop with advice (instead of training on garbage) when a loss is NaN or infinite."""
    value = float(loss.item()) if hasattr(loss, "item") else float(loss)
    if not np.isfinite(value):
        raise TrainingDiverged(f"the meta-training loss became {value}. {hint}")
    return value


class MetaLearner:
    """Base class: a model, an outer optimizer, and the uniform interface above."""

    name = "meta-learner"
    diverged_hint = "Try a smaller --outer-lr."

    def __init__(self, model, outer_lr=1e-3):
        self.model = model
        self.outer_lr = outer_lr
        params = self.meta_parameters()
        self.optimizer = Adam(params, lr=outer_lr) if params else None  # None: nothing to learn

    def meta_parameters(self):
        """What the outer loop learns (the model's parameters; Meta-SGD adds learning rates)."""
        return list(self.model.parameters())

    def episode_loss(self, episode):
        """(query loss Tensor, query logits) for one episode; each algorithm defines it."""
        raise NotImplementedError(f"{type(self).__name__} must define episode_loss")

    def meta_loss(self, episodes):
        """Mean query loss over the meta-batch, and the mean query accuracy."""
        total, accs = None, []
        for ep in episodes:
            loss, logits = self.episode_loss(ep)
            total = loss if total is None else total + loss
            accs.append(accuracy(logits, ep.query_labels))
        return total * (1.0 / len(episodes)), float(np.mean(accs))

    def meta_train_step(self, episodes, progress=0.0):
        """One outer update from a meta-batch of episodes."""
        loss, acc = self.meta_loss(episodes)
        value = check_finite(loss, self.diverged_hint)
        params = self.meta_parameters()
        grads = grad(loss, params, allow_unused=True)
        del loss  # the graph (every inner step, for MAML) is not needed for the update: free it
        for p, g in zip(params, grads):
            p.grad = g
        self.optimizer.step()
        return {"loss": value, "acc": acc}

    def query_logits(self, episode):
        """Logits for the query set (no gradient needed); each algorithm defines it."""
        raise NotImplementedError(f"{type(self).__name__} must define query_logits")

    def predict(self, episode):
        """Predicted labels (host ints) for the query set of `episode`."""
        logits = self.query_logits(episode)
        return B.to_numpy(logits.data.argmax(axis=-1))

    # --- checkpoints ----------------------------------------------------------------------
    def extra_state(self):
        """Algorithm-specific arrays to checkpoint (name -> host array)."""
        return {}

    def load_extra_state(self, state):
        pass

    def state_dict(self):
        return {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict() if self.optimizer else {},
            "extra": self.extra_state(),
        }

    def load_state_dict(self, state):
        self.model.load_state_dict(state["model"])
        if self.optimizer:
            self.optimizer.load_state_dict(state["optimizer"])
        self.load_extra_state(state.get("extra", {}))


def encode_support(model, episode):
    """(support embeddings, query embeddings) from an embedding model, in one batch."""
    ids, mask = whole_episode(episode)
    both = model(ids, mask)
    n = len(episode.support_labels)
    return both[:n], both[n:]


def whole_episode(episode):
    """Support and query of an episode stacked into one padded batch: (ids, mask)."""
    return (stack_padded(episode.support_ids, episode.query_ids),
            stack_padded(episode.support_mask, episode.query_mask))


def stack_padded(top, bottom):
    """`top` above `bottom` in one array, the narrower one padded on the right with zeros."""
    n = len(top)
    out = np.zeros((n + len(bottom), max(top.shape[1], bottom.shape[1])),
                   dtype=np.result_type(top, bottom))
    out[:n, :top.shape[1]] = top
    out[n:, :bottom.shape[1]] = bottom
    return out


def evaluation_mode(fn):
    """Decorator: run `fn` with the model in eval mode and no graph recording."""

    def wrapped(self, *args, **kwargs):
        was_training = self.model.training
        self.model.eval()
        try:
            with no_grad():
                return fn(self, *args, **kwargs)
        finally:
            self.model.train(was_training)

    wrapped.__name__, wrapped.__doc__ = fn.__name__, fn.__doc__
    return wrapped
