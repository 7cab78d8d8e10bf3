"""`Module` and `Parameter`: models whose weights can be swapped for a call, without mutation.

A model is a tree of Modules. Each Module registers the Parameters and sub-Modules assigned to
it, so `model.named_parameters()` lists every weight under a stable dotted name
("encoder.embedding.weight", "head.0.bias", ...) in the order the attributes were assigned.

Why the functional call exists
------------------------------
MAML adapts a model to each task with a few gradient steps,
$\\theta' = \\theta - \\alpha \\nabla L(\\theta)$, and then needs the query loss *of the adapted
weights* $\\theta'$, differentiated back to $\\theta$. The adapted ("fast") weights are new
Tensors with a graph behind them. Writing them into the model would destroy $\\theta$ (and the
other tasks in the meta-batch still need it), so instead every module can be *called* with
somebody else's weights:

    params = dict(model.named_parameters())
    grads = grad(support_loss, list(params.values()), create_graph=True)
    fast = optim.sgd_step(params, grads, lr)          # new Tensors {name: p - lr * g}
    logits = model(ids, mask, params=fast)            # or functional_call(model, fast, ids, mask)

This is `torch.func.functional_call`, but without swapping anything in and out of the model.

How it works
------------
`forward` code is written naturally, `x @ self.weight + self.bias`, and parameters live in
`self._parameters`, not in the instance `__dict__`. Python therefore does not find
`self.weight` by ordinary lookup and calls `Module.__getattr__`, which is the one place that
decides which Tensor `self.weight` means:

1. `functional_call(model, params, ...)` turns the dotted names into a table keyed by
   (id of the owning sub-module, local name), e.g. "head.0.weight" -> (id(model.head[0]),
   "weight"), checks that every name exists and every shape matches, and pushes that table
   on a module-level stack of overrides;
2. it runs `model.forward(...)`. Whenever any module in the tree reads one of its parameters,
   `__getattr__` looks in the table on top of the stack first, and only falls back to the
   module's own Parameter when the table has no entry for it;
3. it pops the table in a `finally` block, so an exception inside `forward` leaves no trace.

Sub-modules called inside `forward` (`self.head(x)`) need no `params` argument: they read the
same table. Nested calls with their own `params` see the outer table merged with theirs.

Consequences worth knowing
--------------------------
* The model is never modified: same Parameter objects, same data, before and after.
* The call is an ordinary computation on the Tensors in `params`, so it is differentiable with
  respect to them, to any order (second-order MAML differentiates through it twice).
* Parameters missing from `params` use the module's own. This is how ANIL adapts only the
  head: pass `{name: t for name, t in fast.items() if name.startswith("head.")}`.
* A name in `params` that is not a parameter of the model raises ValueError listing it:
  a typo must not silently fall back to the model's own weights (MAML would quietly become
  ordinary training, a classic bug).
* Reading a parameter outside of `forward` (e.g. `model.head[0].weight` in a notebook) gives
  the module's own Parameter, because no table is on the stack then.
"""

import numpy as np

from .. import backend as B
from ..autograd.tensor import Tensor

_overrides = []
"""Stack of {(id(module), local name): Tensor} tables, one per active functional call."""

_registrations = 0
"""How many Parameters and Modules have been assigned, anywhere: cached walks of a module tree
(`_parameter_slots`) are reused until this changes."""


class Parameter(Tensor):
    """A Tensor that is a learnable weight: floating point, requires_grad=True, a graph leaf.

    Lists and host arrays become the default float dtype; a Tensor keeps its dtype.
    """

    __slots__ = ()

    def __init__(self, data, dtype=None):
        if dtype is None:
            dtype = data.dtype if isinstance(data, Tensor) else B.default_float
        if isinstance(data, Tensor):
            data = data.data
        super().__init__(B.asarray(data, dtype=dtype), requires_grad=True)

    def __repr__(self):
        return "Parameter" + super().__repr__()[len("Tensor"):]


class Module:
    """Base class of every layer and model. Subclasses call `super().__init__()` first,
    assign Parameters and sub-Modules as attributes, and define `forward`."""

    def __init__(self):
        object.__setattr__(self, "_parameters", {})
        object.__setattr__(self, "_modules", {})
        object.__setattr__(self, "training", True)

    # --- registration ---------------------------------------------------------------------
    def __setattr__(self, name, value):
        if "_parameters" not in self.__dict__:
            raise RuntimeError(
                f"{type(self).__name__}: call super().__init__() at the start of __init__, "
                f"before assigning self.{name}"
            )
        if isinstance(value, (Parameter, Module)):
            global _registrations
            _registrations += 1
            self.__dict__.pop(name, None)
            self._parameters.pop(name, None)
            self._modules.pop(name, None)
            table = self._parameters if isinstance(value, Parameter) else self._modules
            table[name] = value
        elif name in self._parameters:
            raise TypeError(
                f"{type(self).__name__}.{name} is a Parameter; assign a Parameter(...) to replace "
                f"it, or run the model with other weights via model(..., params={{...}})"
            )
        elif name in self._modules:
            raise TypeError(f"{type(self).__name__}.{name} is a sub-module; assign a Module to it")
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name):
        # only called when ordinary lookup fails: parameters and sub-modules are not in __dict__
        parameters = self.__dict__.get("_parameters", {})
        if name in parameters:
            if _overrides:
                fast = _overrides[-1].get((id(self), name))
                if fast is not None:
                    return fast
            return parameters[name]
        modules = self.__dict__.get("_modules", {})
        if name in modules:
            return modules[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    # --- running --------------------------------------------------------------------------
    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must define forward(self, ...)")

    def __call__(self, *args, params=None, **kwargs):
        """Run `forward`; with `params` (dotted name -> Tensor), run it with those weights."""
        if params is None:
            return self.forward(*args, **kwargs)
        return functional_call(self, params, *args, **kwargs)

    # --- walking the tree -----------------------------------------------------------------
    def named_modules(self, prefix=""):
        """(dotted name, module) for this module ("") and every sub-module, each once."""
        seen = set()
        stack = [(prefix, self)]
        while stack:
            name, module = stack.pop()
            if id(module) in seen:
                continue
            seen.add(id(module))
            yield name, module
            children = [(f"{name}.{n}" if name else n, m) for n, m in module._modules.items()]
            stack.extend(reversed(children))

    def modules(self):
        return [m for _, m in self.named_modules()]

    def children(self):
        """The direct sub-modules, in registration order."""
        return list(self._modules.values())

    def _parameter_slots(self):
        """(dotted name, owner module, local name, Parameter) for every registration.

        Every forward pass with `params` needs this list, so it is kept until a Parameter or
        Module is assigned anywhere."""
        cached = self.__dict__.get("_slots")
        if cached is not None and cached[0] == _registrations:
            return cached[1]
        slots = [
            ((f"{module_name}.{local}" if module_name else local), module, local, p)
            for module_name, module in self.named_modules()
            for local, p in module._parameters.items()
        ]
        object.__setattr__(self, "_slots", (_registrations, slots))
        return slots

    def named_parameters(self):
        """(dotted name, Parameter) pairs in registration order; a shared weight appears once."""
        seen = set()
        for name, _, _, p in self._parameter_slots():
            if id(p) not in seen:
                seen.add(id(p))
                yield name, p

    def parameters(self):
        return [p for _, p in self.named_parameters()]

    def num_parameters(self):
        """Total number of learnable numbers."""
        return sum(p.size for p in self.parameters())

    # --- modes and gradients --------------------------------------------------------------
    def train(self, mode=True):
        """Training mode (dropout active) for this module and all sub-modules; returns self."""
        for module in self.modules():
            object.__setattr__(module, "training", bool(mode))
        return self

    def eval(self):
        """Evaluation mode (dropout off); returns self."""
        return self.train(False)

    def zero_grad(self):
        for p in self.parameters():
            p.grad = None

    # --- checkpoints ----------------------------------------------------------------------
    def state_dict(self):
        """{dotted name: host NumPy copy of the weight}."""
        return {n: np.array(B.to_numpy(p.data), copy=True) for n, p in self.named_parameters()}

    def load_state_dict(self, state):
        """Copy the arrays of `state` into the parameters; every problem is reported at once."""
        own = dict(self.named_parameters())
        missing = [n for n in own if n not in state]
        unexpected = [n for n in state if n not in own]
        mis_shaped = [
            f"{n}: checkpoint {tuple(np.shape(state[n]))} vs model {own[n].shape}"
            for n in own
            if n in state and tuple(np.shape(state[n])) != own[n].shape
        ]
        problems = []
        if missing:
            problems.append(f"missing: {', '.join(missing)}")
        if unexpected:
            problems.append(f"unexpected: {', '.join(unexpected)}")
        if mis_shaped:
            problems.append(f"wrong shape: {'; '.join(mis_shaped)}")
        if problems:
            raise ValueError(f"load_state_dict into {type(self).__name__}: " + " | ".join(problems))
        for name, p in own.items():
            p.data = B.asarray(np.array(B.to_numpy(state[name]), copy=True), dtype=p.dtype)

    # --- printing -------------------------------------------------------------------------
    def extra_repr(self):
        """The layer's settings shown inside its repr, e.g. "32 -> 64"."""
        return ""

    def __repr__(self):
        lines = [f"  ({n}): " + repr(m).replace("\n", "\n  ") for n, m in self._modules.items()]
        if not lines:
            return f"{type(self).__name__}({self.extra_repr()})"
        if self.extra_repr():
            lines.insert(0, f"  {self.extra_repr()}")
        return f"{type(self).__name__}(\n" + "\n".join(lines) + "\n)"


def _override_table(module, params):
    """Check `params` against the module's parameters and key it by (id(owner), local name)."""
    if not isinstance(params, dict):
        raise TypeError(f"params must be a dict of name -> Tensor, not {type(params).__name__}")
    slots = module._parameter_slots()
    name_of, canonical = {}, {}  # id(Parameter) -> name -> Parameter (a shared one: first name)
    for name, _, _, p in slots:
        if id(p) not in name_of:
            name_of[id(p)] = name
            canonical[name] = p
    unknown = [name for name in params if name not in canonical]
    if unknown:
        raise ValueError(
            f"{type(module).__name__} has no parameter(s) {', '.join(map(repr, unknown))}; "
            f"its parameters are: {', '.join(canonical)}"
        )
    for name, t in params.items():
        if not isinstance(t, Tensor):
            raise TypeError(f"params[{name!r}] is a {type(t).__name__}, not a Tensor")
        if t.shape != canonical[name].shape:
            raise ValueError(
                f"params[{name!r}] has shape {t.shape}, but the parameter has shape "
                f"{canonical[name].shape}"
            )
    table = {}
    for _, owner, local, p in slots:
        fast = params.get(name_of[id(p)])
        if fast is not None:
            table[(id(owner), local)] = fast
    return table


def functional_call(module, params, *args, **kwargs):
    """Run `module.forward(*args, **kwargs)` with the weights in `params` (dotted name -> Tensor).

    Parameters not named in `params` keep the module's own values. The module is not changed,
    and the result is differentiable with respect to the Tensors in `params`, to any order.
    """
    table = _override_table(module, params)
    if _overrides:
        table = {**_overrides[-1], **table}
    _overrides.append(table)
    try:
        return module.forward(*args, **kwargs)
    finally:
        _overrides.pop()
