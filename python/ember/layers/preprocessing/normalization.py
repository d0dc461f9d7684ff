"""``Normalization``: standardizes features by a mean and variance, given or learned with
``adapt``."""

import itertools
import math

import numpy as np

from ember import _native
from ember.backend import epsilon
from ember.layers.native import BuiltinLayer


def _batches(data):
    """The arrays of ``data``: one array, or each batch of an iterable (``(x, y, ...)`` tuples
    give their ``x``)."""
    if isinstance(data, (np.ndarray, _native.Tensor, _native.Variable)):
        yield np.asarray(data, dtype=np.float64)
        return
    if not hasattr(data, "__iter__"):
        raise TypeError(
            f"Normalization.adapt: unsupported data type {type(data).__name__}; pass a numpy array, a tensor "
            "or an iterable of batches"
        )
    for batch in data:
        yield np.asarray(batch[0] if isinstance(batch, tuple) else batch, dtype=np.float64)


class Normalization(BuiltinLayer):
    """Maps inputs to ``(x - mean) / max(sqrt(variance), epsilon)`` (or back, with ``invert``).

    ``axis`` lists the axes that keep their own statistics (default -1: one mean and variance
    per feature of the last axis; None: a single scalar pair). ``mean`` and ``variance`` are
    given together, or learned from data with ``adapt`` (they are then the non-trainable
    weights ``mean``, ``variance`` and ``count``, as in Keras).
    """

    def __init__(self, axis=-1, mean=None, variance=None, invert=False, **kwargs):
        super().__init__(**kwargs)
        if axis is None:
            axis = ()
        elif isinstance(axis, int):
            axis = (axis,)
        else:
            axis = tuple(int(a) for a in axis)
        self.axis = axis
        self.input_mean = mean
        self.input_variance = variance
        self.invert = bool(invert)
        self._build_input_shape = None
        if (mean is not None) != (variance is not None):
            raise ValueError(
                "Normalization: when setting values directly, both `mean` and `variance` must be set. "
                f"Received: mean={mean} and variance={variance}"
            )
        if mean is not None:
            if np.shape(mean) != np.shape(variance):
                raise ValueError(
                    "Normalization: when setting values directly, `mean` and `variance` must have the same "
                    f"shape. Received: mean shape {np.shape(mean)} and variance shape {np.shape(variance)}"
                )
            if len(np.shape(mean)) > len(self.axis):
                raise ValueError(
                    "Normalization: the rank of `mean` must be less than or equal to the number of axes "
                    f"({len(self.axis)}). Received: mean shape {np.shape(mean)} for axis {self.axis}"
                )

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        ndim = len(input_shape)
        self._build_input_shape = input_shape
        if any(a < -ndim or a >= ndim for a in self.axis):
            raise ValueError(
                f"Normalization layer '{self.name}': all `axis` values must be in the range [-ndim, ndim). "
                f"Received inputs with ndim={ndim}, while axis={self.axis}"
            )
        self._keep_axis = tuple(sorted(a % ndim for a in self.axis))
        for d in self._keep_axis:
            if input_shape[d] is None:
                raise ValueError(
                    f"Normalization layer '{self.name}': all `axis` values to be kept must have a known shape. "
                    f"Received axis={self.axis}, inputs.shape={input_shape}, with unknown axis at index {d}"
                )
        self._reduce_axis = tuple(d for d in range(ndim) if d not in self._keep_axis)
        self._broadcast_shape = [input_shape[d] if d in self._keep_axis else 1 for d in range(ndim)]
        self._mean_and_var_shape = tuple(input_shape[d] for d in self._keep_axis)
        if self.input_mean is None:
            self.adapt_mean = self.add_weight(name="mean", shape=self._mean_and_var_shape, initializer="zeros",
                                              trainable=False)
            self.adapt_variance = self.add_weight(name="variance", shape=self._mean_and_var_shape,
                                                  initializer="ones", trainable=False)
            self.count = self.add_weight(name="count", shape=(), initializer="zeros", trainable=False)
            core = _native.normalization_layer(self.name, self.adapt_mean, self.adapt_variance, self.count,
                                               self._broadcast_shape, self.invert, epsilon())
        else:
            core = _native.normalization_fixed_layer(
                self.name, self._broadcast(self.input_mean), self._broadcast(self.input_variance), self.invert,
                epsilon(),
            )
        self._set_core(core)
        self.built = True

    def _broadcast(self, value):
        """A given statistic aligned to the kept axes from the right, then broadcast (Keras's rule)."""
        value = np.asarray(value, dtype=np.float32)
        expanded = [1] * len(self._broadcast_shape)
        for i in range(1, value.ndim + 1):
            expanded[self._keep_axis[-i]] = value.shape[-i]
        try:
            return np.broadcast_to(value.reshape(expanded), self._broadcast_shape).copy()
        except ValueError:
            raise ValueError(
                f"Normalization layer '{self.name}': `mean` and `variance` of shape {value.shape} cannot be "
                f"broadcast to the kept axes {self._keep_axis} of inputs of shape {self._build_input_shape}"
            ) from None

    def adapt(self, data):
        """Learns the mean and variance of ``data`` (an array, a tensor, or an iterable of
        batches) per position of the kept axes."""
        batches = _batches(data)
        first = next(batches, None)
        if first is None:
            raise ValueError("Normalization.adapt: received an empty iterable (no batches)")
        if not self.built:
            self.build(first.shape)
        if self.input_mean is not None:
            raise ValueError(
                f"Normalization layer '{self.name}': adapt() cannot be used when `mean` and `variance` were given"
            )
        total_mean = total_var = None
        total_count = 0
        for batch in itertools.chain([first], batches):
            self._check_batch(batch)
            mean = batch.mean(axis=self._reduce_axis)
            var = batch.var(axis=self._reduce_axis)
            count = math.prod(batch.shape[d] for d in self._reduce_axis)
            if total_mean is None:
                total_mean, total_var, total_count = mean, var, count
                continue
            # combine the pooled statistics (lack-of-fit sum of squares, as Keras)
            total_count += count
            w = count / total_count
            new_mean = total_mean * (1 - w) + mean * w
            total_var = (total_var + (total_mean - new_mean) ** 2) * (1 - w) + (var + (mean - new_mean) ** 2) * w
            total_mean = new_mean
        self.adapt_mean.assign(np.asarray(total_mean, dtype=np.float32).reshape(self._mean_and_var_shape))
        self.adapt_variance.assign(np.asarray(total_var, dtype=np.float32).reshape(self._mean_and_var_shape))

    def _check_batch(self, batch):
        shape = self._build_input_shape
        if batch.ndim != len(shape) or any(batch.shape[d] != shape[d] for d in self._keep_axis):
            raise ValueError(
                f"Normalization layer '{self.name}': the layer was built with input_shape={shape}, but adapt() "
                f"received data with an incompatible shape, data.shape={batch.shape}"
            )

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {
            **super().get_config(),
            "axis": self.axis,
            "invert": self.invert,
            "mean": np.array(self.input_mean).tolist(),
            "variance": np.array(self.input_variance).tolist(),
        }
