"""Initial values for weights, drawn on the host from a seeded NumPy generator.

Each function returns a host float64 array; the layer turns it into a Parameter of the default
float dtype on the current backend. `rng` is a `numpy.random.Generator` (to share one stream
across the layers of a model) or an int seed.
"""

import numpy as np


def generator(rng):
    """`rng` itself if it is a Generator, else a new Generator seeded with the int `rng`."""
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool):
        return np.random.default_rng(int(rng))
    raise TypeError(
        f"rng must be a numpy.random.Generator or an int seed, not {type(rng).__name__}"
    )


def uniform_fan_in(shape, fan_in, rng):
    """$U(-1/\\sqrt{fan\\_in}, 1/\\sqrt{fan\\_in})$: outputs keep roughly the inputs' scale."""
    bound = 1.0 / np.sqrt(fan_in)
    return generator(rng).uniform(-bound, bound, size=shape)


def normal(shape, std, rng):
    """$N(0, std^2)$ entries."""
    return generator(rng).normal(0.0, std, size=shape)


def xavier_uniform(shape, rng):
    """$U(-a, a)$ with $a = \\sqrt{6 / (fan\\_in + fan\\_out)}$ (Glorot & Bengio, 2010).

    For a (fan_in, fan_out) matrix; extra leading dimensions count as a receptive field.
    """
    if len(shape) < 2:
        raise ValueError(f"xavier_uniform: needs a shape with at least 2 dimensions, got {shape}")
    receptive = int(np.prod(shape[:-2])) if len(shape) > 2 else 1
    fan_in, fan_out = shape[-2] * receptive, shape[-1] * receptive
    bound = np.sqrt(6.0 / (fan_in + fan_out))
    return generator(rng).uniform(-bound, bound, size=shape)
