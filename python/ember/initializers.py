"""``ember.initializers``: Keras 3 weight initializers (names, defaults and formulas).

Random initializers draw with numpy from a generator seeded by ``seed``; without one, a
seed is taken from ember's global stream when the initializer is made, so
``ember.utils.set_random_seed`` makes them reproducible. As in Keras, one initializer
object returns the same values on every call.
"""

import inspect
import math
import re

import numpy as np

from ember import _native

__all__ = [
    "Constant",
    "GlorotNormal",
    "GlorotUniform",
    "HeNormal",
    "HeUniform",
    "Identity",
    "Initializer",
    "LecunNormal",
    "LecunUniform",
    "Ones",
    "Orthogonal",
    "RandomNormal",
    "RandomUniform",
    "TruncatedNormal",
    "VarianceScaling",
    "Zeros",
    "deserialize",
    "get",
    "serialize",
]

# Truncating a standard normal at two standard deviations leaves this standard deviation.
_TRUNCATED_STDDEV = 0.87962566103423978


def _snake_case(name):
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def _serialize(obj, module):
    """Keras's serialized form of a built-in object: class name plus config."""
    if obj is None:
        return None
    return {
        "module": module,
        "class_name": type(obj).__name__,
        "config": obj.get_config(),
        "registered_name": None,
    }


def _deserialize(config, table, kind, custom_objects=None):
    """The object a config (a dict with ``class_name``/``config``, or a name) describes."""
    lookup = dict(table, **(custom_objects or {}))
    if isinstance(config, str):
        name, cfg = config, None
    elif isinstance(config, dict) and "class_name" in config:
        name, cfg = config["class_name"], config.get("config") or {}
    else:
        raise ValueError(f"Could not interpret {kind} identifier: {config}")
    if name not in lookup:
        raise ValueError(f"Could not interpret {kind} identifier: {name!r}. Known names: {sorted(table)}")
    obj = lookup[name]
    if cfg is None:  # a bare name: built-in entries (classes and factories) are called
        return obj() if inspect.isclass(obj) or table.get(name) is obj else obj
    return obj.from_config(cfg) if hasattr(obj, "from_config") else obj(**cfg)


def _as_tensor(values, dtype):
    return _native.Tensor(np.asarray(values), dtype or "float32")


class Initializer:
    """Base class: ``initializer(shape, dtype=None)`` returns a tensor of that shape."""

    def __call__(self, shape, dtype=None):
        raise NotImplementedError(f"{type(self).__name__} must implement __call__(shape, dtype=None)")

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def clone(self):
        return self.__class__.from_config(self.get_config())


class Zeros(Initializer):
    def __call__(self, shape, dtype=None):
        return _as_tensor(np.zeros(_shape(shape)), dtype)


class Ones(Initializer):
    def __call__(self, shape, dtype=None):
        return _as_tensor(np.ones(_shape(shape)), dtype)


class Constant(Initializer):
    def __init__(self, value=0.0):
        self.value = value

    def __call__(self, shape, dtype=None):
        return _as_tensor(np.full(_shape(shape), self.value), dtype)

    def get_config(self):
        return {"value": self.value}


class Identity(Initializer):
    """``gain`` times the identity matrix (2-D shapes only)."""

    def __init__(self, gain=1.0):
        self.gain = gain

    def __call__(self, shape, dtype=None):
        shape = _shape(shape)
        if len(shape) != 2:
            raise ValueError(
                "Identity matrix initializer can only be used for 2D matrices. "
                f"Received: shape={shape} of rank {len(shape)}."
            )
        return _as_tensor(self.gain * np.eye(*shape), dtype)

    def get_config(self):
        return {"gain": self.gain}


def _shape(shape):
    return tuple(int(d) for d in shape)


def compute_fans(shape):
    """``(fan_in, fan_out)`` of a weight shape, as Keras (convolution kernels
    ``(..., in, out)`` multiply by the receptive field)."""
    shape = _shape(shape)
    if len(shape) < 1:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive = math.prod(shape[:-2])
    return shape[-2] * receptive, shape[-1] * receptive


class RandomInitializer(Initializer):
    def __init__(self, seed=None):
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))):
            raise ValueError(f"`seed` argument should be an integer. Received: seed={seed}")
        self._init_seed = seed
        self.seed = int(seed) if seed is not None else _native.draw_seed()

    def _rng(self):
        return np.random.default_rng(self.seed)

    def _normal(self, shape, mean, stddev):
        return self._rng().standard_normal(shape) * stddev + mean

    def _truncated_normal(self, shape, mean, stddev):
        """Normal values more than two standard deviations from the mean are redrawn."""
        rng = self._rng()
        z = rng.standard_normal(math.prod(shape))
        bad = np.abs(z) > 2.0
        while bad.any():
            z[bad] = rng.standard_normal(int(bad.sum()))
            bad = np.abs(z) > 2.0
        return z.reshape(shape) * stddev + mean

    def _uniform(self, shape, minval, maxval):
        return self._rng().uniform(minval, maxval, shape)

    def get_config(self):
        return {"seed": self._init_seed}


class RandomNormal(RandomInitializer):
    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean, self.stddev = mean, stddev
        super().__init__(seed=seed)

    def __call__(self, shape, dtype=None):
        return _as_tensor(self._normal(_shape(shape), self.mean, self.stddev), dtype)

    def get_config(self):
        return {**super().get_config(), "mean": self.mean, "stddev": self.stddev}


class TruncatedNormal(RandomInitializer):
    """Normal values, redrawn when more than two standard deviations from the mean."""

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean, self.stddev = mean, stddev
        super().__init__(seed=seed)

    def __call__(self, shape, dtype=None):
        return _as_tensor(self._truncated_normal(_shape(shape), self.mean, self.stddev), dtype)

    def get_config(self):
        return {**super().get_config(), "mean": self.mean, "stddev": self.stddev}


class RandomUniform(RandomInitializer):
    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        self.minval, self.maxval = minval, maxval
        super().__init__(seed=seed)

    def __call__(self, shape, dtype=None):
        return _as_tensor(self._uniform(_shape(shape), self.minval, self.maxval), dtype)

    def get_config(self):
        return {**super().get_config(), "minval": self.minval, "maxval": self.maxval}


class VarianceScaling(RandomInitializer):
    """Scale-aware initializer: with ``n`` the fan given by ``mode``, a (truncated) normal of
    standard deviation ``sqrt(scale / n)`` or a uniform on ``[-sqrt(3 scale / n), +...]``."""

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None):
        if scale <= 0.0:
            raise ValueError(f"Argument `scale` must be positive float. Received: scale={scale}")
        modes = ("fan_in", "fan_out", "fan_avg")
        if mode not in modes:
            raise ValueError(f"Invalid `mode` argument: {mode}. Please use one of {modes}")
        distribution = distribution.lower()
        if distribution == "normal":
            distribution = "truncated_normal"
        distributions = ("uniform", "truncated_normal", "untruncated_normal")
        if distribution not in distributions:
            raise ValueError(
                f"Invalid `distribution` argument: {distribution}. Please use one of {distributions}"
            )
        self.scale, self.mode, self.distribution = scale, mode, distribution
        super().__init__(seed=seed)

    def __call__(self, shape, dtype=None):
        shape = _shape(shape)
        fan_in, fan_out = compute_fans(shape)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[self.mode]
        scale = self.scale / max(1.0, n)
        if self.distribution == "truncated_normal":
            values = self._truncated_normal(shape, 0.0, math.sqrt(scale) / _TRUNCATED_STDDEV)
        elif self.distribution == "untruncated_normal":
            values = self._normal(shape, 0.0, math.sqrt(scale))
        else:
            limit = math.sqrt(3.0 * scale)
            values = self._uniform(shape, -limit, limit)
        return _as_tensor(values, dtype)

    def get_config(self):
        return {
            **super().get_config(),
            "scale": self.scale,
            "mode": self.mode,
            "distribution": self.distribution,
        }


class _VarianceScalingPreset(VarianceScaling):
    """A ``VarianceScaling`` with fixed ``(scale, mode, distribution)``; only ``seed`` varies."""

    _preset = (1.0, "fan_in", "truncated_normal")

    def __init__(self, seed=None):
        scale, mode, distribution = self._preset
        super().__init__(scale=scale, mode=mode, distribution=distribution, seed=seed)

    def get_config(self):
        return {"seed": self._init_seed}


class GlorotUniform(_VarianceScalingPreset):
    """Uniform on ``[-limit, limit]``, ``limit = sqrt(6 / (fan_in + fan_out))``."""

    _preset = (1.0, "fan_avg", "uniform")


class GlorotNormal(_VarianceScalingPreset):
    """Truncated normal with standard deviation ``sqrt(2 / (fan_in + fan_out))``."""

    _preset = (1.0, "fan_avg", "truncated_normal")


class HeUniform(_VarianceScalingPreset):
    """Uniform on ``[-limit, limit]``, ``limit = sqrt(6 / fan_in)``."""

    _preset = (2.0, "fan_in", "uniform")


class HeNormal(_VarianceScalingPreset):
    """Truncated normal with standard deviation ``sqrt(2 / fan_in)``."""

    _preset = (2.0, "fan_in", "truncated_normal")


class LecunUniform(_VarianceScalingPreset):
    """Uniform on ``[-limit, limit]``, ``limit = sqrt(3 / fan_in)``."""

    _preset = (1.0, "fan_in", "uniform")


class LecunNormal(_VarianceScalingPreset):
    """Truncated normal with standard deviation ``sqrt(1 / fan_in)``."""

    _preset = (1.0, "fan_in", "truncated_normal")


class Orthogonal(RandomInitializer):
    """``gain`` times an orthogonal matrix from the QR decomposition of a normal matrix
    (shapes of rank > 2 are flattened to ``(prod(shape[:-1]), shape[-1])``)."""

    def __init__(self, gain=1.0, seed=None):
        self.gain = gain
        super().__init__(seed=seed)

    def __call__(self, shape, dtype=None):
        shape = _shape(shape)
        if len(shape) < 2:
            raise ValueError(
                f"The tensor to initialize must be at least two-dimensional. Received: shape={shape} "
                f"of rank {len(shape)}."
            )
        rows, cols = math.prod(shape[:-1]), shape[-1]
        a = self._rng().standard_normal((max(rows, cols), min(rows, cols)))
        q, r = np.linalg.qr(a)
        q *= np.sign(np.diag(r))
        if rows < cols:
            q = q.T
        return _as_tensor(self.gain * q.reshape(shape), dtype)

    def get_config(self):
        return {**super().get_config(), "gain": self.gain}


OrthogonalInitializer = Orthogonal
IdentityInitializer = Identity

_CLASSES = [
    Constant,
    GlorotNormal,
    GlorotUniform,
    HeNormal,
    HeUniform,
    Identity,
    LecunNormal,
    LecunUniform,
    Ones,
    Orthogonal,
    RandomNormal,
    RandomUniform,
    TruncatedNormal,
    VarianceScaling,
    Zeros,
]
ALL_OBJECTS_DICT = {c.__name__: c for c in _CLASSES}
ALL_OBJECTS_DICT.update({_snake_case(c.__name__): c for c in _CLASSES})
ALL_OBJECTS_DICT.update(
    {
        "uniform": RandomUniform,
        "normal": RandomNormal,
        "one": Ones,
        "zero": Zeros,
        "OrthogonalInitializer": Orthogonal,
        "IdentityInitializer": Identity,
    }
)

# the lower-case function-style names of keras.initializers (``keras.initializers.glorot_uniform``)
constant, glorot_normal, glorot_uniform, he_normal, he_uniform = (
    Constant,
    GlorotNormal,
    GlorotUniform,
    HeNormal,
    HeUniform,
)
identity, lecun_normal, lecun_uniform, ones, orthogonal = (
    Identity,
    LecunNormal,
    LecunUniform,
    Ones,
    Orthogonal,
)
random_normal, random_uniform, truncated_normal, variance_scaling, zeros = (
    RandomNormal,
    RandomUniform,
    TruncatedNormal,
    VarianceScaling,
    Zeros,
)


def serialize(initializer):
    return _serialize(initializer, "keras.initializers")


def deserialize(config, custom_objects=None):
    return _deserialize(config, ALL_OBJECTS_DICT, "initializer", custom_objects)


def get(identifier):
    """An initializer from a name (``"glorot_uniform"``), a config dict, a class or an
    instance; None stays None."""
    if identifier is None:
        return None
    if isinstance(identifier, (str, dict)):
        return deserialize(identifier)
    if inspect.isclass(identifier):
        return identifier()
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret initializer identifier: {identifier}")
