"""The optimizer base class (``keras.optimizers.Optimizer``) over the core's optimizers.

Each optimizer wraps a ``NativeOptimizer`` handle (``self._native``) whose state (slots,
iteration count, learning rate or built-in schedule) lives in Rust. One step is one call
into the core, with the GIL released; Python only filters ``None`` gradients, applies
variable constraints and, for a Python-defined schedule, evaluates it before the step.
"""
import warnings

import numpy as np

from ember import _native
from ember.optimizers import schedules as _schedules


class _StateFloat(float):
    """A float read from an optimizer's state, with Keras-variable conveniences:
    ``numpy()`` and ``assign(value)`` (which writes through to the optimizer)."""

    def __new__(cls, value, assign=None):
        obj = super().__new__(cls, value)
        obj._assign = assign
        return obj

    def numpy(self):
        return np.float32(self)

    def __repr__(self):
        return str(np.float32(self))

    def assign(self, value):
        if self._assign is None:
            raise TypeError("this value cannot be assigned")
        self._assign(value)


class _StateInt(int):
    """An int read from an optimizer's state (``optimizer.iterations``), with ``numpy()``
    and ``assign(value)``."""

    def __new__(cls, value, assign=None):
        obj = super().__new__(cls, value)
        obj._assign = assign
        return obj

    def numpy(self):
        return np.int64(self)

    def assign(self, value):
        self._assign(value)


class OptimizerVariable:
    """A view of one entry of an optimizer's state (``optimizer.variables[i]``): read with
    ``numpy()`` / ``np.asarray``, write with ``assign``."""

    def __init__(self, optimizer, index, name):
        self._optimizer = optimizer
        self._index = index
        self.name = name

    @property
    def path(self):
        return f"{self._optimizer.name}/{self.name}"

    def _tensor(self):
        entries = self._optimizer._native.variables()
        if self._index >= len(entries) or entries[self._index][0] != self.name:
            raise RuntimeError(
                f"optimizer variable '{self.name}' no longer exists (the optimizer's state changed)"
            )
        return entries[self._index][1]

    def numpy(self):
        return self._tensor().numpy()

    def __array__(self, dtype=None, copy=None):
        a = self.numpy()
        return a if dtype is None else a.astype(dtype)

    @property
    def value(self):
        return self._tensor()

    @property
    def shape(self):
        return tuple(self._tensor().shape)

    @property
    def dtype(self):
        return self._tensor().dtype

    trainable = False

    def assign(self, value):
        values = [t for _, t in self._optimizer._native.variables()]
        values[self._index] = np.asarray(value).reshape(np.shape(values[self._index]))
        self._optimizer._native.set_variables(values)

    def __float__(self):
        return float(self.numpy())

    def __int__(self):
        return int(self.numpy())

    def __repr__(self):
        return f"<OptimizerVariable path={self.path} shape={self.shape} dtype={self.dtype}>"


def _is_number(x):
    return isinstance(x, (int, float, np.number)) and not isinstance(x, bool)


class Optimizer:
    """Base class of all optimizers (Keras's ``BaseOptimizer`` arguments and methods).

    Subclasses name their core algorithm in ``_class_name`` and list their own
    hyperparameters in ``_hyperparameters`` (attributes set before ``super().__init__``).
    """

    _class_name = None
    _hyperparameters = ()

    def __init__(self, learning_rate, weight_decay=None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, use_ema=False, ema_momentum=0.99, ema_overwrite_frequency=None,
                 loss_scale_factor=None, gradient_accumulation_steps=None, name=None, **kwargs):
        if kwargs.pop("decay", None) is not None:
            warnings.warn("Argument `decay` is no longer supported and will be ignored.", stacklevel=2)
        if kwargs:
            raise ValueError(f"Argument(s) not recognized: {kwargs}")
        if self._class_name is None:
            raise NotImplementedError(
                f"{type(self).__name__}: ember optimizers run in the core; subclass one of the built-in "
                "optimizers (SGD, Adam, ...) rather than Optimizer itself"
            )
        self.name = name if name is not None else self._class_name.lower()
        self.weight_decay = weight_decay
        self.clipnorm = clipnorm
        self.clipvalue = clipvalue
        self.global_clipnorm = global_clipnorm
        self.use_ema = use_ema
        self.ema_momentum = ema_momentum
        self.ema_overwrite_frequency = ema_overwrite_frequency
        self.loss_scale_factor = loss_scale_factor
        self.gradient_accumulation_steps = gradient_accumulation_steps
        self._trainable_variables = []
        self._schedule = None
        self._python_schedule = False
        config = {k: getattr(self, k) for k in self._hyperparameters}
        config.update(self._base_config())
        config["learning_rate"] = 0.0
        self._native = _native.make_optimizer(self._class_name, config)
        self._set_learning_rate(learning_rate, initial=True)

    # -- learning rate ------------------------------------------------------------------

    def _set_learning_rate(self, value, initial=False):
        if isinstance(value, _schedules.LearningRateSchedule) or (callable(value) and not _is_number(value)):
            self._schedule = value
            if _schedules.is_core_schedule(value):
                spec = _schedules.core_spec(value)
                self._native.set_learning_rate_schedule(spec["class_name"], spec["config"])
                self._python_schedule = False
            else:
                # evaluated now too, so the core never steps with a stale or zero rate
                self._python_schedule = True
                self._update_python_learning_rate()
            return
        if not initial and self._schedule is not None:
            raise TypeError(
                "This optimizer was created with a `LearningRateSchedule` object as its `learning_rate` "
                "constructor argument, hence its learning rate is not settable. If you need the learning "
                "rate to be settable, you should instantiate the optimizer with a float `learning_rate` "
                "argument."
            )
        try:
            lr = float(value)
        except (TypeError, ValueError):
            raise ValueError(
                "Argument `learning_rate` should be float, or an instance of LearningRateSchedule, or a "
                "callable (that takes in the current iteration value and returns the corresponding "
                f"learning rate value). Received instead: learning_rate={value!r}"
            ) from None
        self._native.set_learning_rate(lr)

    def _evaluate_schedule(self):
        schedule = self._schedule
        if isinstance(schedule, _schedules.LearningRateSchedule):
            return schedule(self._raw_iterations())
        return schedule()

    def _update_python_learning_rate(self):
        """Evaluates a Python-defined schedule (or callable) at the current iteration and
        hands the value to the core for the next step. The Rust trainer calls this before
        each step when ``_python_schedule`` is true; ``apply`` does it itself."""
        self._native.set_learning_rate(float(self._evaluate_schedule()), external=True)

    @property
    def learning_rate(self):
        """The learning rate of the next step. For a Python schedule, its value at the
        current iteration; otherwise a float with ``numpy()`` and ``assign()``."""
        if self._python_schedule:
            return self._evaluate_schedule()
        return _StateFloat(self._native.learning_rate, self._set_learning_rate)

    @learning_rate.setter
    def learning_rate(self, value):
        self._set_learning_rate(value)

    # -- iterations and state -----------------------------------------------------------

    def _raw_iterations(self):
        if self.gradient_accumulation_steps:
            return int(self._native.variables()[0][1])
        return self._native.iterations

    def _set_iterations(self, value):
        values = [t for _, t in self._native.variables()]
        values[0] = np.asarray(int(value), dtype=np.int64)
        self._native.set_variables(values)

    @property
    def iterations(self):
        """Steps taken so far (an int with ``numpy()`` and ``assign()``)."""
        return _StateInt(self._native.iterations, self._set_iterations)

    @property
    def variables(self):
        """The state in Keras's order: iteration, learning_rate (when a float), then the slot
        variables (e.g. Adam's ``{var}_momentum`` for each variable, then ``{var}_velocity``)."""
        return [OptimizerVariable(self, i, n) for i, (n, _) in enumerate(self._native.variables())]

    def set_weights(self, weights):
        """Restores the state from arrays in the order of ``variables``."""
        if not self.built:
            raise ValueError(
                "You are calling `set_weights()` on an optimizer that has not yet been built. Please call "
                "`optimizer.build(trainable_variables)` to create the optimizer weights before calling "
                "`set_weights()`."
            )
        self._native.set_variables(list(weights))

    def save_own_variables(self, store):
        """Writes the state into ``store`` under keys "0", "1", ..."""
        for i, (_, t) in enumerate(self._native.variables()):
            store[str(i)] = t.numpy()

    def load_own_variables(self, store):
        """Reads the state written by ``save_own_variables`` (skipped, with a warning, when the
        number of variables differs, as Keras does)."""
        count = len(self._native.variables())
        if len(store.keys()) != count:
            msg = (
                f"Skipping variable loading for optimizer '{self.name}', because it has {count} variables "
                f"whereas the saved optimizer has {len(store.keys())} variables. "
            )
            if not self.built:
                msg += "This is likely because the optimizer has not been called/built yet."
            warnings.warn(msg, stacklevel=2)
            return
        self._native.set_variables([store[str(i)] for i in range(count)])

    # -- steps --------------------------------------------------------------------------

    @property
    def built(self):
        """True once the slot variables exist (built here, by a first step, or by the trainer)."""
        return self._native.built

    def build(self, variables):
        """Creates the optimizer's slot variables for ``variables``."""
        if self.built:
            return
        variables = list(variables)
        self._native.build(variables)
        self._trainable_variables = variables

    def apply_gradients(self, grads_and_vars):
        """Applies ``(gradient, variable)`` pairs; returns ``iterations``."""
        grads_and_vars = list(grads_and_vars)
        if not grads_and_vars:
            return self.iterations
        grads, trainable_variables = zip(*grads_and_vars)
        self.apply(list(grads), list(trainable_variables))
        return self.iterations

    def apply(self, grads, trainable_variables=None):
        """Updates the variables from their gradients (``None`` gradients are skipped), then
        applies the variables' constraints."""
        grads = list(grads)
        if len(grads) == 0:
            return
        if trainable_variables is None:
            if not self.built:
                raise ValueError(
                    "When passing `grads` without `variables`, the optimizer must already be built on a "
                    "list of variables. Call `optimizer.build(trainable_variables)` first."
                )
            if not self._trainable_variables:
                self._trainable_variables = self._native.built_variables()
            if len(grads) != len(self._trainable_variables):
                raise ValueError(
                    "When passing `grads` as a list of gradient tensors, the gradients must match "
                    f"`optimizer.variables` one-to-one. Received a list of {len(grads)} gradients, but the "
                    f"optimizer is tracking {len(self._trainable_variables)} trainable variables."
                )
            trainable_variables = self._trainable_variables
        else:
            trainable_variables = list(trainable_variables)
            if len(grads) != len(trainable_variables):
                raise ValueError(
                    f"{type(self).__name__}.apply: got {len(grads)} gradients for "
                    f"{len(trainable_variables)} variables"
                )
            self.build(trainable_variables)
        pairs = [(g, v) for g, v in zip(grads, trainable_variables) if g is not None]
        if not pairs:
            raise ValueError("No gradients provided for any variable.")
        if len(pairs) < len(grads):
            missing = [v.name for g, v in zip(grads, trainable_variables) if g is None]
            warnings.warn(
                f"Gradients do not exist for variables {missing} when minimizing the loss. If using "
                "`model.compile()`, did you forget to provide a `loss` argument?",
                stacklevel=2,
            )
        if self._python_schedule:
            self._update_python_learning_rate()
        variables = [v for _, v in pairs]
        self._native.apply([g for g, _ in pairs], variables)
        for v in variables:
            constraint = getattr(v, "_constraint", None)
            if constraint is not None:
                v.assign(constraint(v))

    def exclude_from_weight_decay(self, var_list=None, var_names=None):
        """Skips weight decay for the variables in ``var_list`` and for variables whose name
        contains one of ``var_names`` (plain substrings)."""
        self._native.exclude_from_weight_decay(list(var_list or []), list(var_names or []))

    def finalize_variable_values(self, var_list):
        """With ``use_ema``, overwrites the variables with their moving averages."""
        self._native.finalize_variable_values(list(var_list))

    def scale_loss(self, loss):
        """Multiplies the loss by ``loss_scale_factor`` when set."""
        if self.loss_scale_factor is not None:
            return loss * self.loss_scale_factor
        return loss

    # -- config -------------------------------------------------------------------------

    def _base_config(self):
        return {
            "name": self.name,
            "weight_decay": self.weight_decay,
            "clipnorm": self.clipnorm,
            "global_clipnorm": self.global_clipnorm,
            "clipvalue": self.clipvalue,
            "use_ema": self.use_ema,
            "ema_momentum": self.ema_momentum,
            "ema_overwrite_frequency": self.ema_overwrite_frequency,
            "loss_scale_factor": self.loss_scale_factor,
            "gradient_accumulation_steps": self.gradient_accumulation_steps,
        }

    def get_config(self):
        if isinstance(self._schedule, _schedules.LearningRateSchedule):
            learning_rate = _schedules.serialize(self._schedule)
        elif self._schedule is not None:
            learning_rate = self._schedule
        else:
            learning_rate = float(self._native.learning_rate)
        config = self._base_config()
        config = {"name": config.pop("name"), "learning_rate": learning_rate, **config}
        config.update({k: getattr(self, k) for k in self._hyperparameters})
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = _schedules.deserialize(config["learning_rate"], custom_objects)
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name!r} learning_rate={self._native.learning_rate:g}>"
