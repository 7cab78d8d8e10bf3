"""The fast path: the same numbers as the reference code, faster, behind one switch.

    import metanumpy.fast
    metanumpy.fast.enable()        # or: python -m metanumpy train --fast-path ...
    ...                            #     (or METANUMPY_FAST_PATH=1 for the command line)
    metanumpy.fast.disable()       # back to the reference code
    with metanumpy.fast.enabled(): # for a block

The reference modules (autograd, nn, optim, text, meta, ...) never import this package. It
plugs in from outside: `enable()` swaps these pieces of them for the versions in
`replacements.py`, and `disable()` puts the originals back:

* embedding lookups go through the distinct rows, so an embedding table's gradient is
  row-sparse (`rowsparse.py`): a support set touches a few thousand of 30,000 rows, and
  MAML's inner step theta - lr * g then patches those rows instead of copying the table;
* the bag-of-embeddings encoder is one op (`bags.py`), which remembers the distinct rows of
  recent batches, so an inner loop works them out once;
* cross-entropy, nll, l2 normalisation, Matching Networks' per-class log-probabilities and
  the inner SGD step are fused ops with hand-written (still differentiable) backward passes
  (`fused.py`);
* first-order MAML links phi to theta with one node instead of keeping every inner step;
* Reptile's outer step and the optimizers handle row-sparse tables.

`tests/test_fast.py` trains every learner with the switch off and on from the same seed and
checks the same losses and accuracies, and checks each fused op against the composition it
replaces, to first and second order. Process-wide settings are not part of `enable()`: the
command line applies `allocator.keep_freed_memory()` (and one BLAS thread) when it takes the
fast path, and says so on its first line.
"""

import contextlib
import sys
from types import ModuleType

_saved = {}
"""(owner, attribute name) -> the reference object, while the fast path is on."""


def _replacements():
    """(owner, attribute name, replacement) for every piece the fast path swaps."""
    from ..autograd import functional, ops
    from ..meta import matching
    from ..meta.maml import MAML
    from ..meta.reptile import Reptile
    from ..optim import Optimizer
    from ..text.encoders import BagOfEmbeddings
    from .. import optim
    from . import replacements as fast

    return [
        (functional, "cross_entropy", fast.cross_entropy),
        (functional, "nll", fast.nll),
        (functional, "l2_normalize", fast.l2_normalize),
        (functional, "embedding", fast.embedding),
        (optim, "sgd_step", fast.sgd_step),
        (matching, "class_log_probs", fast.class_log_probs),
        (ops.AddN, "forward", fast.add_n_forward),
        (Optimizer, "step", fast.optimizer_step),
        (BagOfEmbeddings, "forward", fast.bag_of_embeddings_forward),
        (MAML, "fast_weights", fast.maml_fast_weights),
        (Reptile, "outer_step", fast.reptile_outer_step),
    ]


def _rebind(old, new):
    """Point every metanumpy module's global name for `old` (`from x import f`) at `new`."""
    for name, module in list(sys.modules.items()):
        if (name == "metanumpy" or name.startswith("metanumpy.")) and not name.startswith(__name__):
            for attr, value in list(vars(module).items()):
                if value is old:
                    setattr(module, attr, new)


def enable():
    """Switch the fast path on (idempotent). Returns a one-line description."""
    if not _saved:
        from .. import backend
        from .rowsparse import RowSparse

        backend.register_host_array_type(RowSparse)
        for owner, attr, new in _replacements():
            old = vars(owner)[attr]
            _saved[(owner, attr)] = old
            setattr(owner, attr, new)
            if isinstance(owner, ModuleType):
                _rebind(old, new)
    return describe()


def disable():
    """Put the reference code back (idempotent)."""
    while _saved:
        (owner, attr), old = _saved.popitem()
        new = vars(owner)[attr]
        setattr(owner, attr, old)
        if isinstance(owner, ModuleType):
            _rebind(new, old)


def is_enabled():
    return bool(_saved)


@contextlib.contextmanager
def enabled(on=True):
    """`with enabled(): ...` runs a block on the fast path (`enabled(False)`: on the reference
    path), then restores the previous state."""
    was = is_enabled()
    enable() if on else disable()
    try:
        yield
    finally:
        enable() if was else disable()


def describe():
    """Which path is on, in one line."""
    if is_enabled():
        return ("fast path: row-sparse embedding gradients, fused ops, cached batch plans "
                "(metanumpy.fast)")
    return "reference path: the plain code the lessons teach (--fast-path for the optimised ops)"
