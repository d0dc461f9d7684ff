"""``ember.random``: keras.random names and defaults, drawn in Rust.

``seed=None`` draws from the global stream (reset by ``ember.utils.set_random_seed``), so
successive calls differ; an integer seed gives the same numbers on every call; a
``SeedGenerator`` gives a new, reproducible seed on each call.
"""
from ember import _native

__all__ = [
    "SeedGenerator", "normal", "uniform", "truncated_normal", "randint", "dropout", "shuffle",
]

_MASK64 = (1 << 64) - 1


class SeedGenerator:
    """A stateful source of seeds: each draw that uses it advances its state.

    ``SeedGenerator(seed)`` with an integer gives the same sequence of draws every time it
    is created; ``seed=None`` takes its starting point from the global stream.
    """

    def __init__(self, seed=None, name=None, **kwargs):
        if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool)):
            raise ValueError(f"SeedGenerator: seed must be an integer or None, got {seed!r}")
        self._initial_seed = seed
        self.name = name or "seed_generator"
        self._state = (seed if seed is not None else _native.random_next_seed()) & _MASK64
        self._counter = 0

    @property
    def state(self):
        return (self._state, self._counter)

    def next(self, ordered=True):
        """The next seed (a 64-bit integer) of this generator."""
        self._counter += 1
        # splitmix64 of (state + counter * golden ratio)
        z = (self._state + self._counter * 0x9E3779B97F4A7C15) & _MASK64
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
        return z ^ (z >> 31)

    def get_config(self):
        return {"seed": self._initial_seed}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _seed(seed, op):
    if seed is None:
        return None
    if isinstance(seed, SeedGenerator):
        return seed.next()
    if isinstance(seed, int) and not isinstance(seed, bool):
        return seed & _MASK64
    raise ValueError(f"{op}: seed must be None, an integer or a SeedGenerator, got {seed!r}")


def _shape(shape, op):
    if isinstance(shape, int):
        shape = (shape,)
    try:
        dims = [int(d) for d in shape]
    except (TypeError, ValueError):
        raise ValueError(f"{op}: shape must be a tuple of non-negative integers, got {shape!r}") from None
    if any(d < 0 for d in dims):
        raise ValueError(f"{op}: shape must be a tuple of non-negative integers, got {shape!r}")
    return dims


def _float_dtype(dtype, op):
    if dtype is not None and "float" not in str(dtype):
        raise ValueError(f"{op}: only floating-point dtypes are supported, got dtype={dtype!r}")


def normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Samples from a normal distribution (float32)."""
    _float_dtype(dtype, "normal")
    return _native.random_normal(
        _shape(shape, "normal"), float(mean), float(stddev), _seed(seed, "normal")
    )


def uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None):
    """Samples from a uniform distribution on ``[minval, maxval)`` (float32)."""
    _float_dtype(dtype, "uniform")
    return _native.random_uniform(
        _shape(shape, "uniform"), float(minval), float(maxval), _seed(seed, "uniform")
    )


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Normal samples, redrawn when more than two standard deviations from the mean."""
    _float_dtype(dtype, "truncated_normal")
    return _native.random_truncated_normal(
        _shape(shape, "truncated_normal"), float(mean), float(stddev),
        _seed(seed, "truncated_normal"),
    )


def randint(shape, minval, maxval, dtype="int32", seed=None):
    """Integers drawn uniformly from ``[minval, maxval)`` (an int64 tensor)."""
    if "int" not in str(dtype):
        raise ValueError(f"randint: only integer dtypes are supported, got dtype={dtype!r}")
    return _native.random_randint(
        _shape(shape, "randint"), int(minval), int(maxval), _seed(seed, "randint")
    )


def dropout(inputs, rate, noise_shape=None, seed=None):
    """Zeroes entries with probability ``rate`` and scales the rest by ``1 / (1 - rate)``.

    ``noise_shape`` (entries may be None, meaning the input's size) shapes the mask, which is
    broadcast over the input. Differentiable with respect to ``inputs``.
    """
    if noise_shape is not None:
        in_shape = list(_native.Tensor(inputs, "float32").shape)
        noise_shape = list(noise_shape)
        if len(noise_shape) == len(in_shape):
            noise_shape = [s if d is None else d for d, s in zip(noise_shape, in_shape)]
        noise_shape = _shape(noise_shape, "dropout")
    return _native.random_dropout(inputs, float(rate), noise_shape, _seed(seed, "dropout"))


def shuffle(x, axis=0, seed=None):
    """A random permutation of ``x`` along ``axis``."""
    return _native.random_shuffle(x, int(axis), _seed(seed, "shuffle"))
