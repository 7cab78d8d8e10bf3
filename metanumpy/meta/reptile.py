"""Reptile: move the initialisation towards the weights each task ends up with.

For each task in a meta-batch (Nichol et al., 2018), train an ordinary copy of the weights
with k steps of SGD (or Adam) on the task's examples, ending at phi_i. Then

    theta <- theta + eps * (mean_i(phi_i) - theta),

with the step size eps annealed linearly from `outer_lr` to `outer_lr_final` over training.
No second derivatives, no gradient through the inner loop: only the end points matter.
(For a single inner step Reptile's update is the joint-training gradient; with more steps it
picks up the same "gradient agreement" term that first-order MAML does.)

At test time Reptile adapts like MAML, but with its own inner optimizer: `eval_inner_steps`
steps on the support set. The inner loop of meta-training uses all of a training episode's
examples (support and query).
"""

import numpy as np

from ..autograd import Tensor, grad, no_grad
from ..autograd.functional import accuracy, cross_entropy
from ..optim import Adam, sgd_step
from .learner import MetaLearner, check_finite, whole_episode  # noqa: F401 (re-exported)


class Reptile(MetaLearner):
    name = "reptile"
    diverged_hint = "Lower the inner learning rate (--inner-lr)."

    def __init__(self, model, inner_lr=0.1, inner_steps=5, eval_inner_steps=None,
                 outer_lr=1.0, outer_lr_final=0.0, inner_optimizer="sgd"):
        if inner_optimizer not in ("sgd", "adam"):
            raise ValueError(f"Reptile: inner_optimizer must be 'sgd' or 'adam', not {inner_optimizer!r}")
        self.inner_lr = inner_lr
        self.inner_steps = inner_steps
        self.eval_inner_steps = inner_steps if eval_inner_steps is None else eval_inner_steps
        self.outer_lr_final = outer_lr_final
        self.inner_optimizer = inner_optimizer
        self.model = model
        self.outer_lr = outer_lr
        self.optimizer = None  # the outer update is the interpolation below, not an optimizer

    def step_size(self, progress):
        """eps, annealed linearly from outer_lr (progress 0) to outer_lr_final (progress 1)."""
        return self.outer_lr + (self.outer_lr_final - self.outer_lr) * float(progress)

    def finetune(self, ids, mask, labels, steps, ways):
        """`steps` ordinary training steps from theta on (ids, mask, labels of `ways` classes)
        with the inner optimizer; returns (phi, last loss, last accuracy). theta is not changed."""
        start = self.start(ids, mask, labels, ways)
        phi = {n: Tensor(p.data, requires_grad=True) for n, p in start.items()}
        adam = Adam(list(phi.values()), lr=self.inner_lr) if self.inner_optimizer == "adam" else None
        loss = logits = None
        for _ in range(steps):
            logits = self.logits(ids, mask, phi)
            loss = cross_entropy(logits, labels)
            grads = grad(loss, list(phi.values()))
            if adam:  # Adam replaces each copy's .data with a new array: theta is never written
                for p, g in zip(phi.values(), grads):
                    p.grad = g
                adam.step()
            else:
                with no_grad():
                    phi = {n: p.requires_grad_() for n, p in sgd_step(phi, grads, self.inner_lr).items()}
        acc = None if logits is None else accuracy(logits, labels)  # last step, before its update
        return phi, loss, acc

    def start(self, ids, mask, labels, ways):
        """Where training on a task starts: theta, the model's parameters (name -> Tensor)."""
        return dict(self.model.named_parameters())

    def logits(self, ids, mask, params):
        """The model's logits with the weights `params`."""
        return self.model(ids, mask, params=params)

    def train_on_task(self, episode):
        """k inner steps on all of a training episode's examples (support and query)."""
        ids, mask = whole_episode(episode)
        labels = np.concatenate([episode.support_labels, episode.query_labels])
        return self.finetune(ids, mask, labels, self.inner_steps, episode.ways)

    def meta_loss(self, episodes):
        raise TypeError("Reptile has no differentiable meta-loss; use meta_train_step")

    def meta_train_step(self, episodes, progress=0.0):
        losses, accs, phis = [], [], []
        for ep in episodes:
            phi, loss, acc = self.train_on_task(ep)
            losses.append(check_finite(loss, self.diverged_hint))
            accs.append(acc)
            phis.append(phi)
        self.outer_step(phis, self.step_size(progress))
        return {"loss": float(np.mean(losses)), "acc": float(np.mean(accs))}

    def outer_step(self, phis, eps):
        """theta <- theta + eps * (mean_i(phi_i) - theta) = theta + eps/k * sum_i(phi_i - theta),
        for every parameter, on plain arrays (Reptile never differentiates its inner loop)."""
        for name, p in self.model.named_parameters():
            ### BEGIN SOLUTION task5_1: each task's move phi_i - theta; theta + eps/k * their sum
            moves = [phi[name].data - p.data for phi in phis]
            p.data = p.data + (eps / len(phis)) * sum(moves)
            ### END SOLUTION

    def query_logits(self, episode, steps=None):
        """Fine-tune on the support set the same way as in training, then score the query."""
        steps = self.eval_inner_steps if steps is None else steps
        phi, _, _ = self.finetune(episode.support_ids, episode.support_mask,
                                  episode.support_labels, steps, episode.ways)
        with no_grad():
            return self.logits(episode.query_ids, episode.query_mask, phi)
