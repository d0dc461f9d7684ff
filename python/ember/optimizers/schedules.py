"""Learning-rate schedules (``keras.optimizers.schedules``).

The built-in schedules are evaluated by the core from the optimizer's iteration count, so
training with them never re-enters Python. A user subclass of ``LearningRateSchedule``
with its own ``__call__`` also works: the optimizer evaluates it in Python before each step.
"""
from ember import _native

__all__ = [
    "CosineDecay", "CosineDecayRestarts", "ExponentialDecay", "InverseTimeDecay",
    "LearningRateSchedule", "PiecewiseConstantDecay", "PolynomialDecay", "deserialize", "serialize",
]


class LearningRateSchedule:
    """The learning rate schedule base class.

    Subclass it and implement ``__call__(self, step)`` (``step`` is the optimizer's
    iteration count) and, to make it serializable, ``get_config``.
    """

    def __call__(self, step):
        raise NotImplementedError(
            f"Learning rate schedule '{self.__class__.__name__}' must override `__call__(self, step)`."
        )

    def get_config(self):
        raise NotImplementedError(
            f"Learning rate schedule '{self.__class__.__name__}' must override `get_config()` in order "
            "to be serializable."
        )

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _step_value(step):
    try:
        return float(step)
    except TypeError:
        raise TypeError(
            f"learning rate schedule: `step` must be a number, got {type(step).__name__}"
        ) from None


class _CoreSchedule(LearningRateSchedule):
    """A schedule the core evaluates (its config is all the core needs)."""

    def _check(self):
        _native.check_schedule(type(self)._core_name, self.get_config())

    def __call__(self, step):
        value = _native.schedule_value(type(self)._core_name, self.get_config(), _step_value(step))
        return _native.Tensor(value, "float32")

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


def is_core_schedule(schedule):
    """True when ``schedule`` is a built-in schedule whose ``__call__`` was not overridden."""
    return isinstance(schedule, _CoreSchedule) and type(schedule).__call__ is _CoreSchedule.__call__


def core_spec(schedule):
    """The serialized form the core takes: ``{"class_name": ..., "config": {...}}``."""
    return {"class_name": type(schedule)._core_name, "config": schedule.get_config()}


class ExponentialDecay(_CoreSchedule):
    """``initial_learning_rate * decay_rate ** (step / decay_steps)``; with ``staircase``
    the exponent is floored."""

    _core_name = "ExponentialDecay"

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False,
                 name="ExponentialDecay"):
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.decay_rate = decay_rate
        self.staircase = staircase
        self.name = name
        self._check()

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "decay_rate": self.decay_rate,
            "staircase": self.staircase,
            "name": self.name,
        }


class PiecewiseConstantDecay(_CoreSchedule):
    """``values[0]`` while ``step <= boundaries[0]``, ``values[i]`` while
    ``boundaries[i-1] < step <= boundaries[i]``, ``values[-1]`` after the last boundary."""

    _core_name = "PiecewiseConstantDecay"

    def __init__(self, boundaries, values, name="PiecewiseConstant"):
        if len(boundaries) != len(values) - 1:
            raise ValueError(
                "The length of boundaries should be 1 less than the length of values. "
                f"Received: boundaries={boundaries} of length {len(boundaries)}, and values={values} "
                f"of length {len(values)}."
            )
        self.boundaries = boundaries
        self.values = values
        self.name = name
        self._check()

    def get_config(self):
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}


class PolynomialDecay(_CoreSchedule):
    """``(initial - end) * (1 - step / decay_steps) ** power + end``, the step clipped to
    ``decay_steps``; with ``cycle`` the first multiple of ``decay_steps`` above the step."""

    _core_name = "PolynomialDecay"

    def __init__(self, initial_learning_rate, decay_steps, end_learning_rate=0.0001, power=1.0,
                 cycle=False, name="PolynomialDecay"):
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.end_learning_rate = end_learning_rate
        self.power = power
        self.cycle = cycle
        self.name = name
        self._check()

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "end_learning_rate": self.end_learning_rate,
            "power": self.power,
            "cycle": self.cycle,
            "name": self.name,
        }


class InverseTimeDecay(_CoreSchedule):
    """``initial_learning_rate / (1 + decay_rate * step / decay_steps)``; with ``staircase``
    the ratio is floored."""

    _core_name = "InverseTimeDecay"

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False,
                 name="InverseTimeDecay"):
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.decay_rate = decay_rate
        self.staircase = staircase
        self.name = name
        self._check()

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "decay_rate": self.decay_rate,
            "staircase": self.staircase,
            "name": self.name,
        }


class CosineDecay(_CoreSchedule):
    """Cosine decay from the start value to ``alpha`` times it over ``decay_steps``, after an
    optional linear warmup from ``initial_learning_rate`` to ``warmup_target`` over
    ``warmup_steps``."""

    _core_name = "CosineDecay"

    def __init__(self, initial_learning_rate, decay_steps, alpha=0.0, name="CosineDecay",
                 warmup_target=None, warmup_steps=0):
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.alpha = alpha
        self.name = name
        self.warmup_steps = warmup_steps
        self.warmup_target = warmup_target
        self._check()

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "alpha": self.alpha,
            "name": self.name,
            "warmup_target": self.warmup_target,
            "warmup_steps": self.warmup_steps,
        }


class CosineDecayRestarts(_CoreSchedule):
    """Cosine decay with warm restarts (SGDR): periods grow by ``t_mul`` and peaks by
    ``m_mul``; ``alpha`` is the minimum as a fraction of ``initial_learning_rate``."""

    _core_name = "CosineDecayRestarts"

    def __init__(self, initial_learning_rate, first_decay_steps, t_mul=2.0, m_mul=1.0, alpha=0.0,
                 name="SGDRDecay"):
        self.initial_learning_rate = initial_learning_rate
        self.first_decay_steps = first_decay_steps
        self._t_mul = t_mul
        self._m_mul = m_mul
        self.alpha = alpha
        self.name = name
        self._check()

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "first_decay_steps": self.first_decay_steps,
            "t_mul": self._t_mul,
            "m_mul": self._m_mul,
            "alpha": self.alpha,
            "name": self.name,
        }


_BUILTIN = {
    cls.__name__: cls
    for cls in (ExponentialDecay, PiecewiseConstantDecay, PolynomialDecay, InverseTimeDecay,
                CosineDecay, CosineDecayRestarts)
}


def serialize(learning_rate_schedule):
    """The schedule as a JSON-compatible dict (Keras's serialized form)."""
    return {
        "module": "keras.optimizers.schedules",
        "class_name": type(learning_rate_schedule).__name__,
        "config": learning_rate_schedule.get_config(),
        "registered_name": None,
    }


def deserialize(config, custom_objects=None):
    """A schedule from its serialized form ``{"class_name": ..., "config": {...}}``."""
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"Could not interpret learning rate schedule config: {config!r}")
    name = config["class_name"]
    objects = dict(_BUILTIN)
    objects.update(custom_objects or {})
    cls = objects.get(name)
    if cls is None:
        raise ValueError(
            f"Unknown learning rate schedule: '{name}'. Known schedules: {', '.join(sorted(_BUILTIN))}; "
            "pass custom schedules in `custom_objects`."
        )
    return cls.from_config(dict(config.get("config", {})))
