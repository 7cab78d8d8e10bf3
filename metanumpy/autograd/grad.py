"""`grad`: reverse-mode differentiation, to any order.

    grad(outputs, inputs, grad_outputs=None, create_graph=False, allow_unused=False)

returns d(outputs)/d(inputs), weighted by `grad_outputs` (a vector-Jacobian product).

How it works, in three passes over the graph:

1. list the nodes reachable from `outputs`, oldest first. Every Tensor has a creation number,
   and an op's inputs are always older than its output, so creation order is a topological
   order. Nodes older than all of `inputs` cannot lead to them and are not visited: in MAML's
   inner loop that skips the whole history behind the fast weights;
2. keep only the nodes that lie on a path to one of `inputs` (no work elsewhere);
3. walk that list backwards: each node's op turns the node's gradient into gradients for the
   op's inputs, which are summed (once, `add_n`) where paths meet.

Why gradients of gradients work: each op's `backward` is written with Tensor ops. With
`create_graph=True` those ops are *recorded*, so the gradient returned is a Tensor with a
history of its own, and `grad` can be called on it again; second-order MAML does exactly that
through its inner SGD steps. With `create_graph=False` the walk runs under `no_grad`: nothing
is recorded and the results are plain detached Tensors (the fast first-order path).
"""

from .. import backend as B
from .ops import add_n
from .tensor import Tensor, no_grad


def _as_list(x):
    return list(x) if isinstance(x, (list, tuple)) else [x]


def _graph(outputs, oldest=0):
    """The nodes that require grad reachable from `outputs`, oldest first (a topological
    order), leaving out nodes created before `oldest` (with everything behind them).
    Tensors hash by identity, so they go into sets and dicts as they are."""
    seen = set()
    stack = [t for t in outputs if t.requires_grad]
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        if node._op is not None:
            for parent in node._op.inputs:
                if parent.requires_grad and parent._birth >= oldest and parent not in seen:
                    stack.append(parent)
    return sorted(seen, key=_birth)


def _birth(node):
    return node._birth


def _seed_gradients(outputs, grad_outputs):
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    grad_outputs = _as_list(grad_outputs)
    if len(grad_outputs) != len(outputs):
        raise ValueError(f"grad: {len(outputs)} outputs but {len(grad_outputs)} grad_outputs")
    seeds = []
    for i, (out, g) in enumerate(zip(outputs, grad_outputs)):
        if not isinstance(out, Tensor):
            raise TypeError(f"grad: output {i} is a {type(out).__name__}, not a Tensor")
        if g is None:
            if out.size != 1:
                raise ValueError(
                    f"grad: output {i} has shape {out.shape}; a gradient can only be created "
                    "implicitly for a scalar output. Pass grad_outputs (same shape as the output) "
                    "or reduce the output first, e.g. out.sum()"
                )
            g = Tensor(B.xp.ones(out.data.shape, dtype=out.dtype))
        elif not isinstance(g, Tensor):
            g = Tensor(B.xp.asarray(g, dtype=out.dtype))
        if g.shape != out.shape:
            raise ValueError(f"grad: grad_outputs[{i}] has shape {g.shape}, output has {out.shape}")
        seeds.append(g)
    return seeds


def _backpropagate(outputs, seeds, targets, create_graph):
    """Gradients of `outputs` (seeded with `seeds`) for every node in `targets` it reaches."""
    order = _graph(outputs, oldest=min(t._birth for t in targets))
    # keep the nodes that depend on a target: gradients only need to flow through those
    wanted = set(targets)
    through = set()  # nodes with an op input that depends on a target
    for node in order:
        if node._op is not None:
            for parent in node._op.inputs:
                if parent in wanted or parent in through:
                    through.add(node)
                    break
    on_path = wanted | through

    # A node's gradient arrives in pieces, one per path through it. The walk reaches a node
    # only after all of its users, so by then every piece is in: they are summed once (add_n).
    pieces = {}
    for out, g in zip(outputs, seeds):
        if out.requires_grad:
            pieces.setdefault(out, []).append(g)

    grads = {}
    recorder = _nothing() if create_graph else no_grad()
    with recorder:
        ### BEGIN SOLUTION task1_1: newest first: add_n its pieces, op.backward, pass to parents
        for node in reversed(order):
            parts = pieces.pop(node, None)
            if parts is None or node not in on_path:
                continue
            g = parts[0] if len(parts) == 1 else add_n(parts)
            if node in wanted:
                grads[node] = g
            if node not in through:
                continue  # a leaf, or a target that depends on no other target
            op = node._op
            for parent, pg in zip(op.inputs, op.backward(g, node)):
                if pg is None or parent not in on_path:
                    continue
                if pg.data.shape != parent.data.shape:
                    raise RuntimeError(
                        f"{op.op_name()}.backward returned a gradient of shape {pg.shape} "
                        f"for an input of shape {parent.shape}"
                    )
                pieces.setdefault(parent, []).append(pg)
        ### END SOLUTION
    return grads


class _nothing:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


def grad(outputs, inputs, grad_outputs=None, create_graph=False, allow_unused=False):
    """Gradients of `outputs` with respect to each of `inputs`, as a list of Tensors.

    outputs: a Tensor or a list of Tensors (scalars unless `grad_outputs` is given).
    inputs: a Tensor or a list of Tensors that require grad (leaves or intermediate).
    create_graph: record the backward pass so the result can be differentiated again.
    allow_unused: return None for an input the outputs do not depend on, instead of raising.
    """
    outputs, inputs = _as_list(outputs), _as_list(inputs)
    seeds = _seed_gradients(outputs, grad_outputs)
    for i, x in enumerate(inputs):
        if not isinstance(x, Tensor):
            raise TypeError(f"grad: input {i} is a {type(x).__name__}, not a Tensor")
        if not x.requires_grad:
            raise ValueError(
                f"grad: input {i} (shape {x.shape}) does not require grad; create it with "
                "requires_grad=True (or call x.requires_grad_())"
            )
    if not any(out.requires_grad for out in outputs):
        raise ValueError(
            "grad: the outputs do not depend on any tensor that requires grad "
            "(was the graph built under no_grad, or from detached tensors?)"
        )
    grads = _backpropagate(outputs, seeds, inputs, create_graph)
    result = []
    for i, x in enumerate(inputs):
        g = grads.get(x)
        if g is None:
            if not allow_unused:
                raise ValueError(
                    f"grad: input {i} (shape {x.shape}) is not used to compute the outputs; "
                    "pass allow_unused=True to get None for it"
                )
        elif not create_graph:
            g = g.detach()
        result.append(g)
    return result


def backward(output, grad_output=None):
    """Accumulate d(output)/d(leaf) into `leaf.grad` for every leaf that requires grad."""
    seeds = _seed_gradients([output], None if grad_output is None else [grad_output])
    if not output.requires_grad:
        raise ValueError("backward: the output does not depend on any tensor that requires grad")
    leaves = [t for t in _graph([output]) if t._op is None]
    grads = _backpropagate([output], seeds, leaves, create_graph=False)
    for leaf in leaves:
        g = grads.get(leaf)
        if g is not None:
            leaf.grad = g.detach() if leaf.grad is None else Tensor(leaf.grad.data + g.data)
