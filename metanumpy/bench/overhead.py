"""The engine's cost per op: a small add and a small matmul, engine against plain NumPy.

    op_overhead()   # {"add": {"engine_us": ..., "numpy_us": ..., "ratio": ...}, ...}

For tiny arrays the arithmetic is nearly free, so what is measured is the bookkeeping: making
Tensors, recording the graph, walking it backwards. Each case is timed forward only and
forward + backward; the NumPy column does the same arithmetic by hand (for the matmul
backward, $dA = G B^T$ and $dB = A^T G$). This is the number that decides how small a model
can be before Python, not NumPy, sets the speed.
"""

import timeit

import numpy as np

from .. import backend as B
from ..autograd import Tensor, grad, no_grad


def _best_us(fn, number, repeat=5):
    """Microseconds per call: the best of `repeat` runs of `number` calls."""
    return min(timeit.repeat(fn, number=number, repeat=repeat)) / number * 1e6


def _cases(n):
    rng = np.random.default_rng(0)
    a_host, b_host, g_host = (rng.standard_normal((n, n)).astype(np.float32) for _ in range(3))
    a = Tensor(B.asarray(a_host), requires_grad=True)
    b = Tensor(B.asarray(b_host), requires_grad=True)
    g = Tensor(B.asarray(g_host))

    def forward_only(f):
        def run():
            with no_grad():
                f(a, b)
        return run

    def engine(f):
        return lambda: grad(f(a, b), [a, b], grad_outputs=g)

    def add_by_hand():
        a_host + b_host
        return g_host, g_host

    def matmul_by_hand():
        a_host @ b_host
        return g_host @ b_host.T, a_host.T @ g_host

    add, matmul = (lambda x, y: x + y), (lambda x, y: x @ y)
    return {
        "add forward": (forward_only(add), lambda: a_host + b_host),
        "add forward+backward": (engine(add), add_by_hand),
        "matmul forward": (forward_only(matmul), lambda: a_host @ b_host),
        "matmul forward+backward": (engine(matmul), matmul_by_hand),
    }


def op_overhead(n=16, number=2000):
    """Microseconds per call for (n, n) float32 operands: {case: {engine_us, numpy_us, ratio}}."""
    result = {}
    for case, (engine, numpy) in _cases(n).items():
        engine_us, numpy_us = _best_us(engine, number), _best_us(numpy, number)
        result[case] = {"shape": [n, n], "engine_us": engine_us, "numpy_us": numpy_us,
                        "ratio": engine_us / numpy_us}
    return result


def overhead_table(result):
    """The result of `op_overhead` as a small table."""
    n = next(iter(result.values()))["shape"][0]
    lines = [f"{f'op ({n} x {n}, float32)':<26} {'engine us':>10} {'numpy us':>9} {'ratio':>7}"]
    for case, r in result.items():
        lines.append(f"{case:<26} {r['engine_us']:10.2f} {r['numpy_us']:9.2f} {r['ratio']:6.1f}x")
    return "\n".join(lines)
