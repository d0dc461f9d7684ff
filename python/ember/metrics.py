"""``ember.metrics``: the Keras 3 metrics, accumulated by Rust objects.

A built-in metric keeps its state in a core accumulator (``._native``, a ``NativeMetric``)
that the Rust trainer updates directly. Subclass :class:`Metric` (``update_state``,
``result``, ``reset_state``, ``add_variable``) for a custom metric, or wrap a function
``fn(y_true, y_pred)`` in :class:`MeanMetricWrapper`.
"""
import inspect

import numpy as np

from ember import _native
from ember.losses import (
    auto_name,
    binary_crossentropy,
    binary_focal_crossentropy,
    categorical_crossentropy,
    categorical_focal_crossentropy,
    categorical_hinge,
    hinge,
    huber,
    kl_divergence,
    log_cosh,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    mean_squared_logarithmic_error,
    poisson,
    sparse_categorical_crossentropy,
    squared_hinge,
    to_snake_case,
)

__all__ = [
    "Metric", "Mean", "Sum", "MeanMetricWrapper", "Accuracy", "BinaryAccuracy", "CategoricalAccuracy",
    "SparseCategoricalAccuracy", "TopKCategoricalAccuracy", "SparseTopKCategoricalAccuracy",
    "MeanSquaredError", "MeanAbsoluteError", "MeanAbsolutePercentageError",
    "MeanSquaredLogarithmicError", "RootMeanSquaredError", "CosineSimilarity", "LogCoshError",
    "R2Score", "AUC", "Precision", "Recall", "TruePositives", "FalsePositives", "TrueNegatives",
    "FalseNegatives", "SensitivityAtSpecificity", "SpecificityAtSensitivity", "PrecisionAtRecall",
    "RecallAtPrecision", "F1Score", "FBetaScore", "Hinge", "SquaredHinge", "CategoricalHinge",
    "KLDivergence", "Poisson", "BinaryCrossentropy", "CategoricalCrossentropy",
    "SparseCategoricalCrossentropy", "binary_accuracy", "categorical_accuracy",
    "sparse_categorical_accuracy", "top_k_categorical_accuracy", "sparse_top_k_categorical_accuracy",
    "binary_crossentropy", "binary_focal_crossentropy", "categorical_crossentropy",
    "categorical_focal_crossentropy", "sparse_categorical_crossentropy", "hinge", "squared_hinge",
    "categorical_hinge", "huber", "log_cosh", "kl_divergence", "poisson", "mean_squared_error",
    "mean_absolute_error", "mean_absolute_percentage_error", "mean_squared_logarithmic_error",
    "get", "serialize", "deserialize", "resolve",
]


class Metric:
    """Base class of metrics (``keras.metrics.Metric``): ``update_state`` accumulates a batch,
    ``result`` reads the value, ``reset_state`` starts over."""

    _native = None

    def __init__(self, dtype=None, name=None):
        self.name = name or auto_name(type(self).__name__)
        self._dtype = dtype or "float32"
        self._variables = []

    @property
    def dtype(self):
        return self._dtype

    @property
    def variables(self):
        return [v for v, _ in self._variables]

    def add_variable(self, shape=(), initializer="zeros", dtype=None, aggregation="sum", name=None):
        """A state variable (reset to its initial value by the default ``reset_state``)."""
        shape = tuple(int(d) for d in shape)
        if callable(initializer):
            value = initializer(shape, dtype=dtype or self.dtype)
        elif initializer in ("zeros", None):
            value = np.zeros(shape)
        elif initializer == "ones":
            value = np.ones(shape)
        else:
            value = np.full(shape, float(initializer))
        value = np.asarray(value, dtype="float32")
        var = _native.Variable(value, trainable=False, name=name or "variable")
        self._variables.append((var, value))
        return var

    add_weight = add_variable

    def update_state(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must implement update_state")

    def result(self):
        raise NotImplementedError(f"{type(self).__name__} must implement result")

    def reset_state(self):
        for var, value in self._variables:
            var.assign(value)

    def __call__(self, *args, **kwargs):
        """Updates the state with one batch and returns the result."""
        self.update_state(*args, **kwargs)
        return self.result()

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}>"


class _NativeMetric(Metric):
    """A metric whose state is a core accumulator built from a Keras class name and config."""

    def __init__(self, class_name, name=None, dtype=None, **config):
        super().__init__(dtype=dtype, name=name)
        self._native = _native.make_metric(class_name, {**config, "name": self.name})

    def update_state(self, y_true, y_pred, sample_weight=None):
        self._native.update(y_true, y_pred, sample_weight)

    def result(self):
        return self._native.result()

    def reset_state(self):
        self._native.reset()


# ----------------------------------------------------------------------- reductions
class Sum(_NativeMetric):
    """The (weighted) sum of the values given to ``update_state``."""

    def __init__(self, name="sum", dtype=None):
        super().__init__("Sum", name=name, dtype=dtype)

    def update_state(self, values, sample_weight=None):
        self._native.update(values, values, sample_weight)


class Mean(_NativeMetric):
    """The (weighted) mean of the values given to ``update_state``."""

    def __init__(self, name="mean", dtype=None):
        super().__init__("Mean", name=name, dtype=dtype)

    def update_state(self, values, sample_weight=None):
        self._native.update(values, values, sample_weight)


class MeanMetricWrapper(Mean):
    """The mean of a per-sample function ``fn(y_true, y_pred, **kwargs)`` over all batches.

    Built-in ember functions run entirely in the core; other callables compute their values
    eagerly and the core accumulates them.
    """

    def __init__(self, fn, name=None, dtype=None, **kwargs):
        super().__init__(name=name, dtype=dtype)
        self._fn = fn
        self._fn_kwargs = kwargs
        builtin = getattr(fn, "_ember_metric", None) or getattr(fn, "_ember_loss", None)
        self._builtin = builtin is not None
        if self._builtin:
            self._native = _native.make_mean_metric(self.name, builtin, kwargs)

    def update_state(self, y_true, y_pred, sample_weight=None):
        if self._builtin:
            self._native.update(y_true, y_pred, sample_weight)
        else:
            values = self._fn(y_true, y_pred, **self._fn_kwargs)
            self._native.update(values, values, sample_weight)

    def get_config(self):
        config = {**super().get_config(), "fn": getattr(self._fn, "__name__", None)}
        config.update(self._fn_kwargs)
        return config

    @classmethod
    def from_config(cls, config):
        if "fn" not in config:
            return cls(**config)
        config = dict(config)
        fn = config.pop("fn")
        if isinstance(fn, str):
            fn = _FUNCTIONS_DICT.get(fn) or _losses_get(fn)
        return cls(fn, **config)


def _losses_get(name):
    from ember import losses

    return losses.get(name)


# ------------------------------------------------------------------------ functions
def _metric_fn(native_name):
    def mark(fn):
        fn._ember_metric = native_name
        return fn

    return mark


@_metric_fn("accuracy")
def _accuracy(y_true, y_pred):
    return _native.metric_values("accuracy", y_true, y_pred)


@_metric_fn("binary_accuracy")
def binary_accuracy(y_true, y_pred, threshold=0.5):
    """1.0 where ``y_pred > threshold`` matches the binary label, averaged over the last axis."""
    return _native.metric_values("binary_accuracy", y_true, y_pred, {"threshold": float(threshold)})


@_metric_fn("categorical_accuracy")
def categorical_accuracy(y_true, y_pred):
    """1.0 where ``argmax(y_pred)`` equals ``argmax(y_true)`` (one-hot labels)."""
    return _native.metric_values("categorical_accuracy", y_true, y_pred)


@_metric_fn("sparse_categorical_accuracy")
def sparse_categorical_accuracy(y_true, y_pred):
    """1.0 where ``argmax(y_pred)`` equals the integer label."""
    return _native.metric_values("sparse_categorical_accuracy", y_true, y_pred)


@_metric_fn("top_k_categorical_accuracy")
def top_k_categorical_accuracy(y_true, y_pred, k=5):
    """1.0 where the one-hot target is among the ``k`` highest predictions."""
    return _native.metric_values("top_k_categorical_accuracy", y_true, y_pred, {"k": int(k)})


@_metric_fn("sparse_top_k_categorical_accuracy")
def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5, from_sorted_ids=False):
    """1.0 where the integer target is among the ``k`` highest predictions (or, with
    ``from_sorted_ids``, among the first ``k`` ids of ``y_pred``)."""
    return _native.metric_values("sparse_top_k_categorical_accuracy", y_true, y_pred,
                                 {"k": int(k), "from_sorted_ids": bool(from_sorted_ids)})


@_metric_fn("cosine_similarity")
def _cosine_similarity(y_true, y_pred, axis=-1):
    return _native.metric_values("cosine_similarity", y_true, y_pred, {"axis": axis})


# ------------------------------------------------------------------------- accuracy
class Accuracy(MeanMetricWrapper):
    """How often predictions equal labels."""

    def __init__(self, name="accuracy", dtype=None):
        super().__init__(fn=_accuracy, name=name, dtype=dtype)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


class BinaryAccuracy(MeanMetricWrapper):
    """How often predictions (thresholded at ``threshold``) match binary labels."""

    def __init__(self, name="binary_accuracy", dtype=None, threshold=0.5):
        if threshold is not None and (threshold <= 0 or threshold >= 1):
            raise ValueError(
                "Invalid value for argument `threshold`. Expected a value in interval (0, 1). "
                f"Received: threshold={threshold}"
            )
        super().__init__(fn=binary_accuracy, name=name, dtype=dtype, threshold=threshold)
        self.threshold = threshold

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "threshold": self.threshold}


class CategoricalAccuracy(MeanMetricWrapper):
    """How often the argmax of predictions matches one-hot labels."""

    def __init__(self, name="categorical_accuracy", dtype=None):
        super().__init__(fn=categorical_accuracy, name=name, dtype=dtype)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


class SparseCategoricalAccuracy(MeanMetricWrapper):
    """How often the argmax of predictions matches integer labels."""

    def __init__(self, name="sparse_categorical_accuracy", dtype=None):
        super().__init__(fn=sparse_categorical_accuracy, name=name, dtype=dtype)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


class TopKCategoricalAccuracy(MeanMetricWrapper):
    """How often one-hot targets are in the top ``k`` predictions."""

    def __init__(self, k=5, name="top_k_categorical_accuracy", dtype=None):
        super().__init__(fn=top_k_categorical_accuracy, name=name, dtype=dtype, k=k)
        self.k = k

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "k": self.k}


class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    """How often integer targets are in the top ``k`` predictions."""

    def __init__(self, k=5, name="sparse_top_k_categorical_accuracy", dtype=None, from_sorted_ids=False):
        super().__init__(fn=sparse_top_k_categorical_accuracy, name=name, dtype=dtype, k=k,
                         from_sorted_ids=from_sorted_ids)
        self.k = k
        self.from_sorted_ids = from_sorted_ids

    def get_config(self):
        config = {"name": self.name, "dtype": self.dtype, "k": self.k}
        if self.from_sorted_ids:
            config["from_sorted_ids"] = True
        return config


# ----------------------------------------------------------------------- regression
class _LossMetric(MeanMetricWrapper):
    """The mean of a loss function, configured by name and dtype only."""

    _fn = None

    def __init__(self, name=None, dtype=None):
        super().__init__(type(self)._fn, name=name, dtype=dtype)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


class MeanSquaredError(_LossMetric):
    """Mean squared error."""

    _fn = staticmethod(mean_squared_error)

    def __init__(self, name="mean_squared_error", dtype=None):
        super().__init__(name=name, dtype=dtype)


class MeanAbsoluteError(_LossMetric):
    """Mean absolute error."""

    _fn = staticmethod(mean_absolute_error)

    def __init__(self, name="mean_absolute_error", dtype=None):
        super().__init__(name=name, dtype=dtype)


class MeanAbsolutePercentageError(_LossMetric):
    """Mean absolute percentage error."""

    _fn = staticmethod(mean_absolute_percentage_error)

    def __init__(self, name="mean_absolute_percentage_error", dtype=None):
        super().__init__(name=name, dtype=dtype)


class MeanSquaredLogarithmicError(_LossMetric):
    """Mean squared logarithmic error."""

    _fn = staticmethod(mean_squared_logarithmic_error)

    def __init__(self, name="mean_squared_logarithmic_error", dtype=None):
        super().__init__(name=name, dtype=dtype)


class LogCoshError(_LossMetric):
    """Mean of the logarithm of the hyperbolic cosine of the prediction error."""

    _fn = staticmethod(log_cosh)

    def __init__(self, name="logcosh", dtype=None):
        super().__init__(name=name, dtype=dtype)


class Hinge(_LossMetric):
    """Mean hinge loss."""

    _fn = staticmethod(hinge)

    def __init__(self, name="hinge", dtype=None):
        super().__init__(name=name, dtype=dtype)


class SquaredHinge(_LossMetric):
    """Mean squared hinge loss."""

    _fn = staticmethod(squared_hinge)

    def __init__(self, name="squared_hinge", dtype=None):
        super().__init__(name=name, dtype=dtype)


class CategoricalHinge(_LossMetric):
    """Mean categorical hinge loss."""

    _fn = staticmethod(categorical_hinge)

    def __init__(self, name="categorical_hinge", dtype=None):
        super().__init__(name=name, dtype=dtype)


class KLDivergence(_LossMetric):
    """Mean Kullback-Leibler divergence."""

    _fn = staticmethod(kl_divergence)

    def __init__(self, name="kl_divergence", dtype=None):
        super().__init__(name=name, dtype=dtype)


class Poisson(_LossMetric):
    """Mean Poisson loss."""

    _fn = staticmethod(poisson)

    def __init__(self, name="poisson", dtype=None):
        super().__init__(name=name, dtype=dtype)


class RootMeanSquaredError(Mean):
    """``sqrt(mean((y_pred - y_true) ** 2))`` over all batches."""

    def __init__(self, name="root_mean_squared_error", dtype=None):
        _NativeMetric.__init__(self, "RootMeanSquaredError", name=name, dtype=dtype)

    def update_state(self, y_true, y_pred, sample_weight=None):
        self._native.update(y_true, y_pred, sample_weight)


class CosineSimilarity(MeanMetricWrapper):
    """Mean cosine similarity between labels and predictions along ``axis``."""

    def __init__(self, name="cosine_similarity", dtype=None, axis=-1):
        super().__init__(_cosine_similarity, name=name, dtype=dtype, axis=axis)
        self.axis = axis

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "axis": self.axis}


class R2Score(_NativeMetric):
    """Coefficient of determination (optionally adjusted for ``num_regressors``)."""

    def __init__(self, class_aggregation="uniform_average", num_regressors=0, name="r2_score", dtype=None):
        super().__init__("R2Score", name=name, dtype=dtype, class_aggregation=class_aggregation,
                         num_regressors=num_regressors)
        self.class_aggregation = class_aggregation
        self.num_regressors = num_regressors

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "class_aggregation": self.class_aggregation,
                "num_regressors": self.num_regressors}


# ------------------------------------------------------------------ probabilistic
class BinaryCrossentropy(MeanMetricWrapper):
    """Mean binary crossentropy."""

    def __init__(self, name="binary_crossentropy", dtype=None, from_logits=False, label_smoothing=0):
        super().__init__(binary_crossentropy, name, dtype=dtype, from_logits=from_logits,
                         label_smoothing=label_smoothing)
        self.from_logits = from_logits
        self.label_smoothing = label_smoothing

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "from_logits": self.from_logits,
                "label_smoothing": self.label_smoothing}


class CategoricalCrossentropy(MeanMetricWrapper):
    """Mean categorical crossentropy."""

    def __init__(self, name="categorical_crossentropy", dtype=None, from_logits=False, label_smoothing=0,
                 axis=-1):
        super().__init__(categorical_crossentropy, name, dtype=dtype, from_logits=from_logits,
                         label_smoothing=label_smoothing, axis=axis)
        self.from_logits = from_logits
        self.label_smoothing = label_smoothing
        self.axis = axis

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "from_logits": self.from_logits,
                "label_smoothing": self.label_smoothing, "axis": self.axis}


class SparseCategoricalCrossentropy(MeanMetricWrapper):
    """Mean sparse categorical crossentropy."""

    def __init__(self, name="sparse_categorical_crossentropy", dtype=None, from_logits=False, axis=-1):
        super().__init__(sparse_categorical_crossentropy, name=name, dtype=dtype, from_logits=from_logits,
                         axis=axis)
        self.from_logits = from_logits
        self.axis = axis

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "from_logits": self.from_logits, "axis": self.axis}


# ------------------------------------------------------------------------ confusion
def _listify(x):
    if x is None:
        return None
    return [float(v) for v in np.ravel(np.asarray(x, dtype="float64"))]


class _ConfusionCount(_NativeMetric):
    def __init__(self, thresholds=None, name=None, dtype=None):
        super().__init__(type(self).__name__, name=name, dtype=dtype, thresholds=_listify(thresholds))
        self.init_thresholds = thresholds

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "thresholds": self.init_thresholds}


class TruePositives(_ConfusionCount):
    """The (weighted) number of true positives at each threshold."""


class FalsePositives(_ConfusionCount):
    """The (weighted) number of false positives at each threshold."""


class TrueNegatives(_ConfusionCount):
    """The (weighted) number of true negatives at each threshold."""


class FalseNegatives(_ConfusionCount):
    """The (weighted) number of false negatives at each threshold."""


class _PrecisionRecall(_NativeMetric):
    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        super().__init__(type(self).__name__, name=name, dtype=dtype, thresholds=_listify(thresholds),
                         top_k=top_k, class_id=class_id)
        self.init_thresholds = thresholds
        self.top_k = top_k
        self.class_id = class_id

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "thresholds": self.init_thresholds,
                "top_k": self.top_k, "class_id": self.class_id}


class Precision(_PrecisionRecall):
    """``true_positives / (true_positives + false_positives)`` at each threshold."""


class Recall(_PrecisionRecall):
    """``true_positives / (true_positives + false_negatives)`` at each threshold."""


class _AtMetric(_NativeMetric):
    _arg = None

    def __init__(self, value, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(type(self).__name__, name=name, dtype=dtype, num_thresholds=num_thresholds,
                         class_id=class_id, **{self._arg: value})
        setattr(self, self._arg, value)
        self.num_thresholds = num_thresholds
        self.class_id = class_id

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "class_id": self.class_id,
                "num_thresholds": self.num_thresholds, self._arg: getattr(self, self._arg)}


class SensitivityAtSpecificity(_AtMetric):
    """The best sensitivity where specificity is >= ``specificity``."""

    _arg = "specificity"

    def __init__(self, specificity, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(specificity, num_thresholds, class_id, name, dtype)


class SpecificityAtSensitivity(_AtMetric):
    """The best specificity where sensitivity is >= ``sensitivity``."""

    _arg = "sensitivity"

    def __init__(self, sensitivity, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(sensitivity, num_thresholds, class_id, name, dtype)


class PrecisionAtRecall(_AtMetric):
    """The best precision where recall is >= ``recall``."""

    _arg = "recall"

    def __init__(self, recall, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(recall, num_thresholds, class_id, name, dtype)


class RecallAtPrecision(_AtMetric):
    """The best recall where precision is >= ``precision``."""

    _arg = "precision"

    def __init__(self, precision, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(precision, num_thresholds, class_id, name, dtype)


class AUC(_NativeMetric):
    """Area under the ROC or PR curve, approximated over ``num_thresholds`` thresholds."""

    def __init__(self, num_thresholds=200, curve="ROC", summation_method="interpolation", name=None,
                 dtype=None, thresholds=None, multi_label=False, num_labels=None, label_weights=None,
                 from_logits=False):
        super().__init__("AUC", name=name, dtype=dtype, num_thresholds=num_thresholds, curve=curve,
                         summation_method=summation_method, thresholds=_listify(thresholds),
                         multi_label=multi_label, num_labels=num_labels,
                         label_weights=_listify(label_weights), from_logits=from_logits)
        self._init_from_thresholds = thresholds is not None
        if thresholds is not None:
            inner = sorted(float(t) for t in _listify(thresholds))
            num_thresholds = len(inner) + 2
        else:
            inner = [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)]
        self._thresholds = [-1e-7] + inner + [1.0 + 1e-7]
        self.num_thresholds = num_thresholds
        self.curve = curve.upper()
        self.summation_method = summation_method.lower()
        self.multi_label = multi_label
        self.num_labels = num_labels
        self.label_weights = label_weights
        self._from_logits = from_logits

    @property
    def thresholds(self):
        """The thresholds used for evaluating AUC."""
        return list(self._thresholds)

    def get_config(self):
        config = {"name": self.name, "dtype": self.dtype, "num_thresholds": self.num_thresholds,
                  "curve": self.curve, "summation_method": self.summation_method,
                  "multi_label": self.multi_label, "num_labels": self.num_labels,
                  "label_weights": _listify(self.label_weights), "from_logits": self._from_logits}
        if self._init_from_thresholds:
            config["thresholds"] = self.thresholds[1:-1]
        return config


class FBetaScore(_NativeMetric):
    """F-beta score per class, or averaged (``"micro"``, ``"macro"``, ``"weighted"``)."""

    def __init__(self, average=None, beta=1.0, threshold=None, name="fbeta_score", dtype=None):
        super().__init__("FBetaScore", name=name, dtype=dtype, average=average, beta=float(beta),
                         threshold=None if threshold is None else float(threshold))
        self.average = average
        self.beta = beta
        self.threshold = threshold

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "average": self.average, "beta": self.beta,
                "threshold": self.threshold}


class F1Score(FBetaScore):
    """F-1 score: the harmonic mean of precision and recall."""

    def __init__(self, average=None, threshold=None, name="f1_score", dtype=None):
        super().__init__(average=average, beta=1.0, threshold=threshold, name=name, dtype=dtype)

    def get_config(self):
        config = super().get_config()
        del config["beta"]
        return config


# ---------------------------------------------------------------------- identifiers
_CLASSES = [
    Metric, Mean, Sum, MeanMetricWrapper, MeanSquaredError, RootMeanSquaredError, MeanAbsoluteError,
    MeanAbsolutePercentageError, MeanSquaredLogarithmicError, CosineSimilarity, LogCoshError, R2Score,
    AUC, FalseNegatives, FalsePositives, Precision, PrecisionAtRecall, Recall, RecallAtPrecision,
    SensitivityAtSpecificity, SpecificityAtSensitivity, TrueNegatives, TruePositives, Hinge,
    SquaredHinge, CategoricalHinge, KLDivergence, Poisson, BinaryCrossentropy, CategoricalCrossentropy,
    SparseCategoricalCrossentropy, Accuracy, BinaryAccuracy, CategoricalAccuracy,
    SparseCategoricalAccuracy, TopKCategoricalAccuracy, SparseTopKCategoricalAccuracy, F1Score,
    FBetaScore,
]
ALL_OBJECTS_DICT = {cls.__name__: cls for cls in _CLASSES}
ALL_OBJECTS_DICT.update({to_snake_case(cls.__name__): cls for cls in _CLASSES})
ALL_OBJECTS_DICT.update({
    "bce": BinaryCrossentropy, "BCE": BinaryCrossentropy, "mse": MeanSquaredError,
    "MSE": MeanSquaredError, "mae": MeanAbsoluteError, "MAE": MeanAbsoluteError,
    "mape": MeanAbsolutePercentageError, "MAPE": MeanAbsolutePercentageError,
    "msle": MeanSquaredLogarithmicError, "MSLE": MeanSquaredLogarithmicError,
})
_FUNCTIONS_DICT = {fn.__name__: fn for fn in [
    binary_accuracy, categorical_accuracy, sparse_categorical_accuracy, top_k_categorical_accuracy,
    sparse_top_k_categorical_accuracy, binary_crossentropy, binary_focal_crossentropy,
    categorical_crossentropy, categorical_focal_crossentropy, sparse_categorical_crossentropy, hinge,
    squared_hinge, categorical_hinge, huber, log_cosh, kl_divergence, poisson, mean_squared_error,
    mean_absolute_error, mean_absolute_percentage_error, mean_squared_logarithmic_error,
]}


def serialize(metric):
    """The config dict of a metric instance or function (``keras.metrics.serialize``)."""
    if isinstance(metric, Metric):
        return {"module": "keras.metrics", "class_name": type(metric).__name__,
                "config": metric.get_config(), "registered_name": None}
    name = getattr(metric, "__name__", None)
    if name is None:
        raise ValueError(f"Cannot serialize metric {metric!r}")
    return {"module": "keras.metrics", "class_name": "function", "config": name, "registered_name": name}


def deserialize(config, custom_objects=None):
    """A metric instance or function from a ``serialize`` dict or a name."""
    objects = {**ALL_OBJECTS_DICT, **_FUNCTIONS_DICT, **(custom_objects or {})}
    if isinstance(config, str):
        if config not in objects:
            raise ValueError(f"Could not interpret metric identifier: {config}")
        return objects[config]
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"Could not interpret metric identifier: {config}")
    class_name, inner = config["class_name"], config.get("config", {})
    if class_name == "function":
        return deserialize(inner, custom_objects)
    cls = objects.get(class_name)
    if not inspect.isclass(cls):
        raise ValueError(f"Could not interpret metric identifier: {config}")
    return cls.from_config(inner)


def get(identifier):
    """A metric from a name, class, config dict, instance or function (``keras.metrics.get``).

    Names give an instance of the class (``get("mse")`` is ``MeanSquaredError()``).
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
    raise ValueError(f"Could not interpret metric identifier: {identifier}")


def _loss_name(loss):
    """The built-in loss a compile-time loss stands for (a name), if any."""
    if loss is None:
        return None
    if isinstance(loss, str):
        return loss
    fn = getattr(loss, "fn", loss)
    name = getattr(fn, "_ember_loss", None)
    if name is None and _native.loss_class_name(type(loss).__name__):
        name = type(loss).__name__
    return name


def _dims(shape):
    return None if shape is None else [0 if d is None else int(d) for d in shape]


def resolve(identifier, loss=None, output_shape=None, y_true_shape=None):
    """The metric object ``compile(metrics=[identifier])`` uses, as Keras's ``get_metric``.

    ``"accuracy"``/``"acc"`` become binary, sparse categorical or categorical accuracy (and
    ``"crossentropy"``/``"ce"`` the matching crossentropy) from the label and output shapes
    when both are known, else from the loss and the output width. Other identifiers go
    through :func:`get`; functions are wrapped in :class:`MeanMetricWrapper`. String
    identifiers name the metric.
    """
    if identifier is None:
        return None
    cls_name = None
    if isinstance(identifier, str):
        cls_name = _native.resolve_metric_class(identifier, _loss_name(loss), _dims(y_true_shape),
                                                _dims(output_shape))
    if cls_name is not None:
        return ALL_OBJECTS_DICT[cls_name](name=identifier)
    obj = get(identifier)
    if not isinstance(obj, Metric):
        name = identifier if isinstance(identifier, str) else getattr(obj, "__name__", None)
        return MeanMetricWrapper(obj, name=name)
    if isinstance(identifier, str):
        obj.name = identifier
    return obj
