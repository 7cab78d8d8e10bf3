"""The benchmark's workload written in PyTorch, to time it side by side (optional: needs torch).

The same spec as `workload.py`: Embedding(V, D) -> masked mean -> Linear(D, H) -> ReLU ->
Linear(H, 5) in float32, the same synthetic episodes (converted once to torch tensors), the
same five algorithms with the same step sizes, written the way a PyTorch user would:

* MAML: `torch.autograd.grad(..., create_graph=True)` through 5 inner SGD steps on functional
  weights, the query loss at phi, the mean over the meta-batch, then Adam;
  first-order MAML: the same with `create_graph=False`;
* Reptile: 5 SGD steps of a copy of the weights on all of an episode's texts, then
  theta <- theta + 1.0 * (mean phi - theta);
* ProtoNet / Matching Networks: the model's outputs as embeddings, prototypes and negative
  squared distances / log(softmax(10 cos) @ one_hot), then Adam.

    step = torch_learner("maml", SIZES["L"])     # a function: meta-batch -> loss
    step(torch_batch(batch))
"""

import numpy as np

from .workload import INNER_LR, INNER_STEPS, WAYS


def available():
    """Is PyTorch importable?"""
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def torch_batch(batch):
    """A meta-batch of `Episode`s as tuples of torch tensors (ids, mask, labels) x2."""
    import torch

    def t(array, dtype):
        return torch.as_tensor(np.asarray(array), dtype=dtype)

    return [(t(e.support_ids, torch.long), t(e.support_mask, torch.float32),
             t(e.support_labels, torch.long), t(e.query_ids, torch.long),
             t(e.query_mask, torch.float32), t(e.query_labels, torch.long)) for e in batch]


def _weights(size, seed):
    import torch

    rng = np.random.default_rng(seed)
    shapes = {"emb": (size.vocab, size.dim), "w1": (size.hidden, size.dim), "b1": (size.hidden,),
              "w2": (WAYS, size.hidden), "b2": (WAYS,)}
    return {n: torch.tensor(rng.standard_normal(s).astype(np.float32) * 0.1, requires_grad=True)
            for n, s in shapes.items()}


def _forward(w, ids, mask):
    import torch.nn.functional as F

    tokens = F.embedding(ids, w["emb"]) * mask.unsqueeze(-1)
    pooled = tokens.sum(1) / mask.sum(1, keepdim=True).clamp(min=1.0)
    return F.linear(F.relu(F.linear(pooled, w["w1"], w["b1"])), w["w2"], w["b2"])


def torch_learner(algo, size, inner_steps=INNER_STEPS, seed=0):
    """A function that runs one meta-training step of `algo` on a `torch_batch`."""
    import torch
    import torch.nn.functional as F

    w = _weights(size, seed)
    adam = torch.optim.Adam(w.values(), lr=1e-3)

    def adapt(ids, mask, labels, create_graph):
        fast = dict(w)
        for _ in range(inner_steps):
            loss = F.cross_entropy(_forward(fast, ids, mask), labels)
            grads = torch.autograd.grad(loss, list(fast.values()), create_graph=create_graph)
            fast = {n: p - INNER_LR * g for (n, p), g in zip(fast.items(), grads)}
        return fast

    def embed_both(s_ids, s_mask, q_ids, q_mask):
        width = max(s_ids.shape[1], q_ids.shape[1])
        pad = lambda x: F.pad(x, (0, width - x.shape[1]))  # noqa: E731
        both = _forward(w, torch.cat([pad(s_ids), pad(q_ids)]), torch.cat([pad(s_mask), pad(q_mask)]))
        return both[:len(s_ids)], both[len(s_ids):]

    def episode_loss(s_ids, s_mask, s_labels, q_ids, q_mask, q_labels):
        if algo in ("maml", "fomaml"):
            fast = adapt(s_ids, s_mask, s_labels, create_graph=algo == "maml")
            return F.cross_entropy(_forward(fast, q_ids, q_mask), q_labels)
        support, query = embed_both(s_ids, s_mask, q_ids, q_mask)
        hot = F.one_hot(s_labels, WAYS).float()
        if algo == "protonet":
            protos = hot.T @ support / hot.sum(0).unsqueeze(1)
            return F.cross_entropy(-torch.cdist(query, protos).pow(2), q_labels)
        cos = F.normalize(query, dim=1) @ F.normalize(support, dim=1).T
        return F.nll_loss(torch.log(torch.softmax(10.0 * cos, dim=1) @ hot), q_labels)

    def reptile_step(batch):
        phis = []
        for s_ids, s_mask, s_labels, q_ids, q_mask, q_labels in batch:
            width = max(s_ids.shape[1], q_ids.shape[1])
            pad = lambda x: F.pad(x, (0, width - x.shape[1]))  # noqa: E731
            ids, mask = torch.cat([pad(s_ids), pad(q_ids)]), torch.cat([pad(s_mask), pad(q_mask)])
            labels = torch.cat([s_labels, q_labels])
            phi = {n: p.detach().clone().requires_grad_() for n, p in w.items()}
            for _ in range(inner_steps):
                loss = F.cross_entropy(_forward(phi, ids, mask), labels)
                grads = torch.autograd.grad(loss, list(phi.values()))
                with torch.no_grad():
                    phi = {n: (p - INNER_LR * g).requires_grad_() for (n, p), g in zip(phi.items(), grads)}
            phis.append(phi)
        with torch.no_grad():
            for n, p in w.items():
                p += 1.0 * (sum(phi[n] for phi in phis) / len(phis) - p)
        return float(loss.detach())

    def step(batch):
        if algo == "reptile":
            return reptile_step(batch)
        adam.zero_grad()
        loss = sum(episode_loss(*episode) for episode in batch) / len(batch)
        loss.backward()
        adam.step()
        return float(loss.detach())

    return step
