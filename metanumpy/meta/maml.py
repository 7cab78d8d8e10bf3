"""MAML: learn an initialisation from which a few gradient steps solve a new task.

For each task in a meta-batch (Finn et al., 2017):

    phi   = theta - alpha * grad L_support(theta)          (k inner steps, functional fast weights)
    loss  = L_query(phi)                                    (the query pass uses phi, not theta!)
    theta <- theta - beta * grad_theta mean_tasks L_query(phi)      (outer Adam)

The outer gradient goes *through* the inner steps: by the chain rule
d L_query(phi) / d theta = (I - alpha * H_support) grad L_query(phi), which holds a Hessian.
That is why `adapt` runs with `create_graph=True`.

Options:
- `first_order=True` (FOMAML): the inner gradients are treated as constants
  (`create_graph=False`), so d phi / d theta = I and the meta-gradient is simply
  grad L_query(phi). Much cheaper: no Hessian, and no backward pass through the inner ones.
- `inner_steps` / `eval_inner_steps`: steps at meta-training and at test time (they may differ).
- `meta_sgd=True` (Meta-SGD, Li et al., 2017): one learned inner learning rate per weight.
- `anil=True` (ANIL, Raghu et al., 2020): adapt only the classifier head; the encoder is
  meta-learned but used as-is inside the inner loop.
"""

from .. import backend as B
from ..autograd import no_grad
from ..autograd.functional import cross_entropy
from ..nn import Parameter
from .learner import MetaLearner, adapt


class MAML(MetaLearner):
    name = "maml"
    diverged_hint = "Lower the inner learning rate (--inner-lr) or the outer one (--outer-lr)."

    def __init__(self, model, inner_lr=0.5, inner_steps=5, eval_inner_steps=None,
                 first_order=False, meta_sgd=False, anil=False, outer_lr=1e-3):
        self.inner_lr = inner_lr
        self.inner_steps = inner_steps
        self.eval_inner_steps = inner_steps if eval_inner_steps is None else eval_inner_steps
        self.first_order = first_order
        self.anil = anil
        self.meta_sgd = meta_sgd
        self.model = model
        self.lrs = {}
        if meta_sgd:
            self.lrs = {
                n: Parameter(B.xp.full(p.shape, inner_lr, dtype=p.dtype))
                for n, p in self.adapted_parameters().items()
            }
        if first_order:
            self.name = "fomaml"
        super().__init__(model, outer_lr)

    def adapted_parameters(self):
        """The parameters the inner loop adapts: all of them, or only the head for ANIL."""
        named = dict(self.model.named_parameters())
        if self.anil:
            return {n: p for n, p in named.items() if n.startswith("head.")}
        return named

    def meta_parameters(self):
        return list(self.model.parameters()) + list(self.lrs.values())

    def fast_weights(self, episode, steps, create_graph):
        """Adapt on the support set: the fast weights phi after `steps` SGD steps.

        With `create_graph=False` (first order, and at test time) each inner gradient g is a
        constant, but phi = theta - lr * g - ... is still recorded as a function of theta, so
        the query loss at phi sends its gradient straight back to theta: d phi / d theta = I.
        """
        lr = self.lrs if self.meta_sgd else self.inner_lr
        ### BEGIN SOLUTION task4_4: adapt from theta itself on the support set, create_graph as given
        return adapt(self.model, self.adapted_parameters(), episode.support_ids,
                     episode.support_mask, episode.support_labels, steps, lr, create_graph)
        ### END SOLUTION

    def episode_loss(self, episode):
        ### BEGIN SOLUTION task4_3: fast weights (create_graph unless first_order), query loss
        fast = self.fast_weights(episode, self.inner_steps, create_graph=not self.first_order)
        logits = self.model(episode.query_ids, episode.query_mask, params=fast)
        return cross_entropy(logits, episode.query_labels), logits
        ### END SOLUTION

    def query_logits(self, episode, steps=None):
        """Adapt on the support set (no graph kept), then score the query set with phi."""
        fast = self.fast_weights(episode, self.eval_inner_steps if steps is None else steps,
                                 create_graph=False)
        with no_grad():
            return self.model(episode.query_ids, episode.query_mask, params=fast)

    def extra_state(self):
        return {f"lr.{n}": B.to_numpy(p.data).copy() for n, p in self.lrs.items()}

    def load_extra_state(self, state):
        for n, p in self.lrs.items():
            p.data = B.asarray(state[f"lr.{n}"])
