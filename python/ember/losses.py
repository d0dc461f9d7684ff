"""``ember.losses``: the Keras 3 losses, computed by fused Rust kernels.

Every built-in loss (class or function) runs one Rust kernel that produces the per-sample
values and their gradient with respect to ``y_pred`` in a single pass. A loss instance
keeps its core object in ``._native`` (a ``NativeLoss``), which the Rust trainer uses
directly. Subclass :class:`Loss` and override ``call`` (with ``ember.ops``) for a custom
loss; the reduction and sample weights are then applied by the core.
"""
import inspect
import re

import numpy as np

from ember import _native

__all__ = [
    "Loss", "LossFunctionWrapper", "MeanSquaredError", "MeanAbsoluteError",
    "MeanAbsolutePercentageError", "MeanSquaredLogarithmicError", "CosineSimilarity", "Huber",
    "LogCosh", "Hinge", "SquaredHinge", "CategoricalHinge", "KLDivergence", "Poisson",
    "BinaryCrossentropy", "BinaryFocalCrossentropy", "CategoricalCrossentropy",
    "CategoricalFocalCrossentropy", "SparseCategoricalCrossentropy", "mean_squared_error",
    "mean_absolute_error", "mean_absolute_percentage_error", "mean_squared_logarithmic_error",
    "cosine_similarity", "huber", "log_cosh", "hinge", "squared_hinge", "categorical_hinge",
    "kl_divergence", "poisson", "binary_crossentropy", "binary_focal_crossentropy",
    "categorical_crossentropy", "categorical_focal_crossentropy", "sparse_categorical_crossentropy",
    "mse", "MSE", "mae", "MAE", "mape", "MAPE", "msle", "MSLE", "kld", "KLD", "bce", "BCE",
    "logcosh", "get", "serialize", "deserialize", "resolve",
]

_NAME_COUNTS = {}


def to_snake_case(name):
    """Keras's ``to_snake_case``: ``"KLDivergence"`` -> ``"kl_divergence"``."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def auto_name(class_name):
    """A unique snake_case name for an unnamed object, as Keras's ``auto_name``."""
    base = to_snake_case(class_name)
    n = _NAME_COUNTS.get(base, 0)
    _NAME_COUNTS[base] = n + 1
    return base if n == 0 else f"{base}_{n}"


def _as_float(x):
    """Inputs of custom losses as float32 Tensors (Keras converts them to the loss dtype)."""
    if isinstance(x, dict) or (isinstance(x, _native.Tensor) and x.dtype == "float32"):
        return x
    return _native.Tensor(x, "float32")


def _check_axis(axis):
    if isinstance(axis, bool) or not isinstance(axis, int):
        raise ValueError(f"`axis` must be of type `int`. Received: axis={axis} of type {type(axis)}")


class Loss:
    """Loss base class (``keras.losses.Loss``).

    Args:
        name: Optional name for the loss instance.
        reduction: ``"sum_over_batch_size"`` (default), ``"sum"``, ``"mean"``,
            ``"mean_with_sample_weight"``, ``"none"`` or ``None``.
        dtype: The dtype of the loss's computations (ember computes in float32).
    """

    _native = None

    def __init__(self, name=None, reduction="sum_over_batch_size", dtype=None):
        self._name = name or auto_name(type(self).__name__)
        self._reduction = self._standardize(reduction)
        self._dtype = dtype or "float32"
        self._rebuild()

    @staticmethod
    def _standardize(reduction):
        _native.standardize_reduction(reduction)
        return reduction

    def _rebuild(self):
        """Rebuilds the core object after a change of name or reduction (built-ins only)."""

    @property
    def name(self):
        return self._name

    @name.setter
    def name(self, value):
        self._name = value
        self._rebuild()

    @property
    def reduction(self):
        return self._reduction

    @reduction.setter
    def reduction(self, value):
        self._reduction = self._standardize(value)
        self._rebuild()

    @property
    def dtype(self):
        return self._dtype

    def __call__(self, y_true, y_pred, sample_weight=None):
        """The weighted, reduced loss: a scalar Tensor (per-sample values when the reduction
        is ``"none"``), differentiable with respect to ``y_pred``."""
        in_mask = getattr(y_pred, "_keras_mask", None)
        values = self.call(_as_float(y_true), _as_float(y_pred))
        mask = _and_masks(in_mask, getattr(values, "_keras_mask", None))
        return _native.reduce_weighted(values, sample_weight, mask, self._reduction)

    def call(self, y_true, y_pred):
        raise NotImplementedError(f"{type(self).__name__} must implement call(y_true, y_pred)")

    def get_config(self):
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name!r} reduction={self.reduction!r}>"


def _and_masks(a, b):
    """The logical AND of two optional Keras masks, as float 0/1 values."""
    if a is None or b is None:
        return a if b is None else b
    return np.logical_and(np.asarray(a) != 0, np.asarray(b) != 0).astype(np.float32)


class LossFunctionWrapper(Loss):
    """A loss object over a loss function ``fn(y_true, y_pred, **kwargs)``.

    Built-in ember functions run in the core (``._native`` is set); any other callable is
    called eagerly and its per-sample values are reduced by the core.
    """

    def __init__(self, fn, reduction="sum_over_batch_size", name=None, dtype=None, **kwargs):
        self.fn = fn
        self._fn_kwargs = kwargs
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def _rebuild(self):
        cls = getattr(self.fn, "_ember_loss", None)
        if cls is None:
            self._native = None
            return
        config = {k: v for k, v in self._fn_kwargs.items() if v is not None or k == "ignore_class"}
        config.update(name=self._name, reduction=self._reduction)
        self._native = _native.make_loss(cls, config)

    def __call__(self, y_true, y_pred, sample_weight=None):
        mask = getattr(y_pred, "_keras_mask", None)
        if self._native is not None and mask is None:
            return self._native.compute(y_true, y_pred, sample_weight)
        if self._native is not None:  # y_pred's Keras mask weighs its steps
            values, own = self._native.values(y_true, y_pred)
            return _native.reduce_weighted(values, sample_weight, _and_masks(mask, own), self._reduction)
        return super().__call__(y_true, y_pred, sample_weight)

    def call(self, y_true, y_pred):
        if self._native is not None:
            return self._native.values(y_true, y_pred)[0]
        if not isinstance(y_true, dict) and not isinstance(y_pred, dict):
            y_true, y_pred = _native.squeeze_or_expand_to_same_rank(y_true, y_pred)
        return self.fn(y_true, y_pred, **self._fn_kwargs)

    def get_config(self):
        config = super().get_config()
        config["fn"] = serialize(self.fn)
        config.update(self._fn_kwargs)
        return config

    @classmethod
    def from_config(cls, config):
        if "fn" not in config:
            return cls(**config)
        config = dict(config)
        fn = config.pop("fn")
        return cls(deserialize(fn) if isinstance(fn, (dict, str)) else fn, **config)

    def __repr__(self):
        return f"<LossFunctionWrapper({getattr(self.fn, '__name__', self.fn)}, kwargs={self._fn_kwargs})>"


# ----------------------------------------------------------------------------- functions
def _builtin(class_name):
    """Marks a function as the built-in loss ``class_name`` (so wrappers run it natively)."""

    def mark(fn):
        fn._ember_loss = class_name
        return fn

    return mark


def _values(class_name, y_true, y_pred, **config):
    config = {k: v for k, v in config.items() if v is not None or k == "ignore_class"}
    return _native.make_loss(class_name, config).values(y_true, y_pred)[0]


@_builtin("MeanSquaredError")
def mean_squared_error(y_true, y_pred):
    """``mean(square(y_true - y_pred), axis=-1)``."""
    return _values("MeanSquaredError", y_true, y_pred)


@_builtin("MeanAbsoluteError")
def mean_absolute_error(y_true, y_pred):
    """``mean(abs(y_true - y_pred), axis=-1)``."""
    return _values("MeanAbsoluteError", y_true, y_pred)


@_builtin("MeanAbsolutePercentageError")
def mean_absolute_percentage_error(y_true, y_pred):
    """``100 * mean(abs((y_true - y_pred) / maximum(abs(y_true), epsilon)), axis=-1)``."""
    return _values("MeanAbsolutePercentageError", y_true, y_pred)


@_builtin("MeanSquaredLogarithmicError")
def mean_squared_logarithmic_error(y_true, y_pred):
    """``mean(square(log(max(y_pred, eps) + 1) - log(max(y_true, eps) + 1)), axis=-1)``."""
    return _values("MeanSquaredLogarithmicError", y_true, y_pred)


@_builtin("CosineSimilarity")
def cosine_similarity(y_true, y_pred, axis=-1):
    """``-sum(l2_normalize(y_true) * l2_normalize(y_pred), axis=axis)``."""
    _check_axis(axis)
    return _values("CosineSimilarity", y_true, y_pred, axis=axis)


@_builtin("Huber")
def huber(y_true, y_pred, delta=1.0):
    """Huber loss: quadratic for ``|error| <= delta``, linear beyond; mean over the last axis."""
    return _values("Huber", y_true, y_pred, delta=float(delta))


@_builtin("LogCosh")
def log_cosh(y_true, y_pred):
    """``mean(log(cosh(y_pred - y_true)), axis=-1)``, computed stably."""
    return _values("LogCosh", y_true, y_pred)


@_builtin("Hinge")
def hinge(y_true, y_pred):
    """``mean(maximum(1 - y_true * y_pred, 0), axis=-1)``; {0, 1} labels become {-1, 1}."""
    return _values("Hinge", y_true, y_pred)


@_builtin("SquaredHinge")
def squared_hinge(y_true, y_pred):
    """``mean(square(maximum(1 - y_true * y_pred, 0)), axis=-1)``; {0, 1} labels become {-1, 1}."""
    return _values("SquaredHinge", y_true, y_pred)


@_builtin("CategoricalHinge")
def categorical_hinge(y_true, y_pred):
    """``maximum(max((1 - y_true) * y_pred) - sum(y_true * y_pred) + 1, 0)``."""
    return _values("CategoricalHinge", y_true, y_pred)


@_builtin("KLDivergence")
def kl_divergence(y_true, y_pred):
    """``sum(y_true * log(y_true / y_pred), axis=-1)`` with both clipped to [epsilon, 1]."""
    return _values("KLDivergence", y_true, y_pred)


@_builtin("Poisson")
def poisson(y_true, y_pred):
    """``mean(y_pred - y_true * log(y_pred + epsilon), axis=-1)``."""
    return _values("Poisson", y_true, y_pred)


@_builtin("BinaryCrossentropy")
def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """Binary crossentropy, averaged over ``axis``."""
    _check_axis(axis)
    return _values("BinaryCrossentropy", y_true, y_pred, from_logits=bool(from_logits),
                   label_smoothing=float(label_smoothing), axis=axis)


@_builtin("BinaryFocalCrossentropy")
def binary_focal_crossentropy(y_true, y_pred, apply_class_balancing=False, alpha=0.25, gamma=2.0,
                              from_logits=False, label_smoothing=0.0, axis=-1):
    """Binary focal crossentropy (Lin et al., 2018), averaged over ``axis``."""
    _check_axis(axis)
    return _values("BinaryFocalCrossentropy", y_true, y_pred,
                   apply_class_balancing=bool(apply_class_balancing), alpha=float(alpha),
                   gamma=float(gamma), from_logits=bool(from_logits),
                   label_smoothing=float(label_smoothing), axis=axis)


@_builtin("CategoricalCrossentropy")
def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """Categorical crossentropy of one-hot (or soft) labels along ``axis``."""
    _check_axis(axis)
    return _values("CategoricalCrossentropy", y_true, y_pred, from_logits=bool(from_logits),
                   label_smoothing=float(label_smoothing), axis=axis)


@_builtin("CategoricalFocalCrossentropy")
def categorical_focal_crossentropy(y_true, y_pred, alpha=0.25, gamma=2.0, from_logits=False,
                                   label_smoothing=0.0, axis=-1):
    """Categorical focal crossentropy; ``alpha`` is a float or one weight per class."""
    _check_axis(axis)
    return _values("CategoricalFocalCrossentropy", y_true, y_pred, alpha=alpha, gamma=float(gamma),
                   from_logits=bool(from_logits), label_smoothing=float(label_smoothing), axis=axis)


@_builtin("SparseCategoricalCrossentropy")
def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, ignore_class=None, axis=-1):
    """Crossentropy of integer class ids; samples labelled ``ignore_class`` get 0."""
    _check_axis(axis)
    return _values("SparseCategoricalCrossentropy", y_true, y_pred, from_logits=bool(from_logits),
                   ignore_class=ignore_class, axis=axis)


# ------------------------------------------------------------------------------- classes
class _ArgumentFreeLoss(LossFunctionWrapper):
    """A wrapper whose function takes no arguments: its config is the base Loss config."""

    def get_config(self):
        return Loss.get_config(self)


class MeanSquaredError(_ArgumentFreeLoss):
    """Mean of squares of errors between labels and predictions."""

    def __init__(self, reduction="sum_over_batch_size", name="mean_squared_error", dtype=None):
        super().__init__(mean_squared_error, name=name, reduction=reduction, dtype=dtype)


class MeanAbsoluteError(_ArgumentFreeLoss):
    """Mean of absolute differences between labels and predictions."""

    def __init__(self, reduction="sum_over_batch_size", name="mean_absolute_error", dtype=None):
        super().__init__(mean_absolute_error, name=name, reduction=reduction, dtype=dtype)


class MeanAbsolutePercentageError(_ArgumentFreeLoss):
    """Mean absolute percentage error."""

    def __init__(self, reduction="sum_over_batch_size", name="mean_absolute_percentage_error",
                 dtype=None):
        super().__init__(mean_absolute_percentage_error, name=name, reduction=reduction, dtype=dtype)


class MeanSquaredLogarithmicError(_ArgumentFreeLoss):
    """Mean squared logarithmic error."""

    def __init__(self, reduction="sum_over_batch_size", name="mean_squared_logarithmic_error",
                 dtype=None):
        super().__init__(mean_squared_logarithmic_error, name=name, reduction=reduction, dtype=dtype)


class CosineSimilarity(LossFunctionWrapper):
    """Negative cosine similarity between labels and predictions along ``axis``."""

    def __init__(self, axis=-1, reduction="sum_over_batch_size", name="cosine_similarity", dtype=None):
        _check_axis(axis)
        super().__init__(cosine_similarity, name=name, reduction=reduction, dtype=dtype, axis=axis)
        self.axis = axis

    def get_config(self):
        return {**Loss.get_config(self), "axis": self.axis}


class Huber(LossFunctionWrapper):
    """Huber loss with threshold ``delta``."""

    def __init__(self, delta=1.0, reduction="sum_over_batch_size", name="huber_loss", dtype=None):
        super().__init__(huber, name=name, reduction=reduction, dtype=dtype, delta=float(delta))
        self.delta = delta

    def get_config(self):
        return {**Loss.get_config(self), "delta": self.delta}


class LogCosh(_ArgumentFreeLoss):
    """Logarithm of the hyperbolic cosine of the prediction error."""

    def __init__(self, reduction="sum_over_batch_size", name="log_cosh", dtype=None):
        super().__init__(log_cosh, name=name, reduction=reduction, dtype=dtype)


class Hinge(_ArgumentFreeLoss):
    """Hinge loss; {0, 1} labels are converted to {-1, 1}."""

    def __init__(self, reduction="sum_over_batch_size", name="hinge", dtype=None):
        super().__init__(hinge, name=name, reduction=reduction, dtype=dtype)


class SquaredHinge(_ArgumentFreeLoss):
    """Squared hinge loss; {0, 1} labels are converted to {-1, 1}."""

    def __init__(self, reduction="sum_over_batch_size", name="squared_hinge", dtype=None):
        super().__init__(squared_hinge, name=name, reduction=reduction, dtype=dtype)


class CategoricalHinge(_ArgumentFreeLoss):
    """Categorical hinge loss."""

    def __init__(self, reduction="sum_over_batch_size", name="categorical_hinge", dtype=None):
        super().__init__(categorical_hinge, name=name, reduction=reduction, dtype=dtype)


class KLDivergence(_ArgumentFreeLoss):
    """Kullback-Leibler divergence."""

    def __init__(self, reduction="sum_over_batch_size", name="kl_divergence", dtype=None):
        super().__init__(kl_divergence, name=name, reduction=reduction, dtype=dtype)


class Poisson(_ArgumentFreeLoss):
    """Poisson loss."""

    def __init__(self, reduction="sum_over_batch_size", name="poisson", dtype=None):
        super().__init__(poisson, name=name, reduction=reduction, dtype=dtype)


class BinaryCrossentropy(LossFunctionWrapper):
    """Binary crossentropy of probabilities (clipped by epsilon) or logits (stable form)."""

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name="binary_crossentropy", dtype=None):
        _check_axis(axis)
        super().__init__(binary_crossentropy, name=name, reduction=reduction, dtype=dtype,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)
        self.from_logits = from_logits
        self.label_smoothing = label_smoothing
        self.axis = axis

    def get_config(self):
        return {**Loss.get_config(self), "from_logits": self.from_logits,
                "label_smoothing": self.label_smoothing, "axis": self.axis}


class BinaryFocalCrossentropy(LossFunctionWrapper):
    """Binary focal crossentropy (Lin et al., 2018)."""

    def __init__(self, apply_class_balancing=False, alpha=0.25, gamma=2.0, from_logits=False,
                 label_smoothing=0.0, axis=-1, reduction="sum_over_batch_size",
                 name="binary_focal_crossentropy", dtype=None):
        _check_axis(axis)
        super().__init__(binary_focal_crossentropy, name=name, reduction=reduction, dtype=dtype,
                         apply_class_balancing=apply_class_balancing, alpha=alpha, gamma=gamma,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)
        self.from_logits = from_logits
        self.label_smoothing = label_smoothing
        self.axis = axis
        self.apply_class_balancing = apply_class_balancing
        self.alpha = alpha
        self.gamma = gamma

    def get_config(self):
        return {**Loss.get_config(self), "from_logits": self.from_logits,
                "label_smoothing": self.label_smoothing, "axis": self.axis,
                "apply_class_balancing": self.apply_class_balancing, "alpha": self.alpha,
                "gamma": self.gamma}


class CategoricalCrossentropy(LossFunctionWrapper):
    """Crossentropy of one-hot labels; fused log-softmax when ``from_logits``."""

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name="categorical_crossentropy", dtype=None):
        _check_axis(axis)
        super().__init__(categorical_crossentropy, name=name, reduction=reduction, dtype=dtype,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)
        self.from_logits = from_logits
        self.label_smoothing = label_smoothing
        self.axis = axis

    def get_config(self):
        return {**Loss.get_config(self), "from_logits": self.from_logits,
                "label_smoothing": self.label_smoothing, "axis": self.axis}


class CategoricalFocalCrossentropy(LossFunctionWrapper):
    """Alpha-balanced categorical focal crossentropy."""

    def __init__(self, alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name="categorical_focal_crossentropy", dtype=None):
        _check_axis(axis)
        super().__init__(categorical_focal_crossentropy, name=name, reduction=reduction, dtype=dtype,
                         alpha=alpha, gamma=gamma, from_logits=from_logits,
                         label_smoothing=label_smoothing, axis=axis)
        self.from_logits = from_logits
        self.label_smoothing = label_smoothing
        self.axis = axis
        self.alpha = alpha
        self.gamma = gamma

    def get_config(self):
        return {**Loss.get_config(self), "from_logits": self.from_logits,
                "label_smoothing": self.label_smoothing, "axis": self.axis, "alpha": self.alpha,
                "gamma": self.gamma}


class SparseCategoricalCrossentropy(LossFunctionWrapper):
    """Crossentropy of integer class ids (int or integral float labels)."""

    def __init__(self, from_logits=False, ignore_class=None, reduction="sum_over_batch_size",
                 name="sparse_categorical_crossentropy", dtype=None):
        super().__init__(sparse_categorical_crossentropy, name=name, reduction=reduction,
                         dtype=dtype, from_logits=from_logits, ignore_class=ignore_class)
        self.from_logits = from_logits
        self.ignore_class = ignore_class

    def get_config(self):
        return {**Loss.get_config(self), "from_logits": self.from_logits,
                "ignore_class": self.ignore_class}


# ------------------------------------------------------------------------- identifiers
mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
kld = KLD = kullback_leibler_divergence = kl_divergence
bce = BCE = binary_crossentropy
logcosh = log_cosh

_CLASSES = [
    Loss, LossFunctionWrapper, KLDivergence, Poisson, BinaryCrossentropy, BinaryFocalCrossentropy,
    CategoricalCrossentropy, CategoricalFocalCrossentropy, SparseCategoricalCrossentropy,
    MeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError, MeanSquaredLogarithmicError,
    CosineSimilarity, LogCosh, Huber, Hinge, SquaredHinge, CategoricalHinge,
]
_FUNCTIONS = [
    kl_divergence, poisson, binary_crossentropy, binary_focal_crossentropy, categorical_crossentropy,
    categorical_focal_crossentropy, sparse_categorical_crossentropy, mean_squared_error,
    mean_absolute_error, mean_absolute_percentage_error, mean_squared_logarithmic_error,
    cosine_similarity, log_cosh, huber, hinge, squared_hinge, categorical_hinge,
]
ALL_OBJECTS_DICT = {obj.__name__: obj for obj in _CLASSES + _FUNCTIONS}
ALL_OBJECTS_DICT.update({
    "bce": bce, "BCE": BCE, "kld": kld, "KLD": KLD, "mae": mae, "MAE": MAE, "mse": mse, "MSE": MSE,
    "mape": mape, "MAPE": MAPE, "msle": msle, "MSLE": MSLE,
})


def serialize(loss):
    """The config dict of a loss instance or function (``keras.losses.serialize``)."""
    if loss is None:
        return None
    if isinstance(loss, Loss):
        return {"module": "keras.losses", "class_name": type(loss).__name__,
                "config": loss.get_config(), "registered_name": None}
    name = getattr(loss, "__name__", None)
    if name is None:
        raise ValueError(f"Cannot serialize loss {loss!r}: it is not a function or a Loss instance")
    module = "keras.losses" if name in ALL_OBJECTS_DICT else getattr(loss, "__module__", None)
    return {"module": module, "class_name": "function", "config": name, "registered_name": name}


def deserialize(name, custom_objects=None):
    """A loss instance or function from a name or a ``serialize`` dict."""
    objects = {**ALL_OBJECTS_DICT, **(custom_objects or {})}
    if isinstance(name, str):
        if name not in objects:
            raise ValueError(f"Could not interpret loss identifier: {name}")
        return objects[name]
    if not isinstance(name, dict) or "class_name" not in name:
        raise ValueError(f"Could not interpret loss identifier: {name}")
    class_name, config = name["class_name"], name.get("config", {})
    if class_name == "function":
        return deserialize(config, custom_objects)
    obj = objects.get(class_name)
    if not inspect.isclass(obj):
        raise ValueError(f"Could not interpret loss identifier: {name}")
    return obj.from_config(config)


def get(identifier):
    """A loss from a string name, class, config dict, instance or callable (``keras.losses.get``).

    Function names give the function (``get("mse")`` is ``mean_squared_error``), class names
    an instance with default arguments.
    """
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        obj = deserialize(identifier)
    elif isinstance(identifier, str):
        obj = ALL_OBJECTS_DICT.get(identifier, None)
    else:
        obj = identifier
    if callable(obj):
        if inspect.isclass(obj):
            obj = obj()
        return obj
    raise ValueError(f"Could not interpret loss identifier: {identifier}")


def resolve(identifier, y_true_shape=None, y_pred_shape=None):
    """The loss object ``compile(loss=identifier)`` uses, as Keras's ``get_loss``.

    ``"crossentropy"``/``"ce"`` become binary, sparse or categorical crossentropy from the label
    and output shapes; functions and callables are wrapped in :class:`LossFunctionWrapper`
    (named after the identifier); built-in losses carry their core object in ``._native``.
    """
    if identifier is None:
        return None
    if isinstance(identifier, str) and identifier.lower() in ("crossentropy", "ce"):
        if y_true_shape is None or y_pred_shape is None:
            raise ValueError(
                f"loss={identifier!r} is chosen from the shapes of the labels and the model output; "
                "pass y_true_shape and y_pred_shape"
            )
        obj = get(_native.resolve_loss_identifier(identifier, _dims(y_true_shape), _dims(y_pred_shape)))
    else:
        obj = get(identifier)
    if isinstance(obj, Loss):
        return obj
    name = identifier if isinstance(identifier, str) else getattr(obj, "__name__", None)
    return LossFunctionWrapper(obj, name=name)


def _dims(shape):
    return [0 if d is None else int(d) for d in shape]
