"""Regularization layers: ``Dropout``, ``SpatialDropout1D/2D/3D``, ``AlphaDropout``,
``GaussianDropout``, ``GaussianNoise`` (active only with ``training=True``) and
``ActivityRegularization``."""

from ember import _native, backend
from ember.layers.native import BuiltinLayer, check_rate, check_seed


def _noise_shape(layer, noise_shape):
    if noise_shape is None:
        return None
    if isinstance(noise_shape, str):
        raise ValueError(
            f"{layer}: `noise_shape` must be a tuple of integers or None. Received: {noise_shape!r}"
        )
    shape = tuple(noise_shape)
    for i, d in enumerate(shape):
        if d is not None and (isinstance(d, bool) or not isinstance(d, int) or d <= 0):
            raise ValueError(
                f"{layer}: `noise_shape` entries must be positive integers or None. "
                f"Received {d!r} at index {i}"
            )
    return shape


class Dropout(BuiltinLayer):
    """Sets a fraction ``rate`` of the inputs to 0 in training and scales the rest by
    ``1 / (1 - rate)``; the identity in inference."""

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.rate = check_rate("Dropout", rate)
        self.noise_shape = _noise_shape("Dropout", noise_shape)
        self.seed = check_seed("Dropout", seed)
        self._set_core(_native.dropout_layer(self.name, float(rate), self.noise_shape, seed))
        self.built = True

    def call(self, inputs, training=False):
        return super().call(inputs, training)

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed, "noise_shape": self.noise_shape}


def _data_format(layer, data_format):
    value = (backend.image_data_format() if data_format is None else str(data_format)).lower()
    if value not in ("channels_first", "channels_last"):
        raise ValueError(
            f"{layer}: the `data_format` argument must be one of {{'channels_first', 'channels_last'}}. "
            f"Received: data_format={data_format}"
        )
    return value


class _SpatialDropout(Dropout):
    """Dropout of whole channels: one draw per sample and channel, shared by every position
    of the feature map; kept channels are scaled by ``1 / (1 - rate)``."""

    _ndim = 0

    def __init__(self, rate, data_format="channels_last", seed=None, name=None, dtype=None, **kwargs):
        BuiltinLayer.__init__(self, name=name, dtype=dtype, **kwargs)
        layer = type(self).__name__
        self.rate = check_rate(layer, rate)
        self.seed = check_seed(layer, seed)
        self.noise_shape = None
        self.data_format = data_format
        first = data_format == "channels_first"
        self._set_core(_native.spatial_dropout_layer(self.name, self._ndim, float(rate), first, seed))
        self.built = True

    def get_config(self):
        return {"rate": self.rate, "seed": self.seed, "name": self.name, "dtype": self.dtype}


class SpatialDropout1D(_SpatialDropout):
    """Drops whole channels of ``(samples, timesteps, channels)`` inputs."""

    _ndim = 3

    def __init__(self, rate, seed=None, name=None, dtype=None, **kwargs):
        super().__init__(rate, seed=seed, name=name, dtype=dtype, **kwargs)


class SpatialDropout2D(_SpatialDropout):
    """Drops whole feature maps of 4D inputs (channels last, or at axis 1 with
    ``data_format="channels_first"``)."""

    _ndim = 4

    def __init__(self, rate, data_format=None, seed=None, name=None, dtype=None, **kwargs):
        fmt = _data_format(type(self).__name__, data_format)
        super().__init__(rate, fmt, seed=seed, name=name, dtype=dtype, **kwargs)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format}


class SpatialDropout3D(SpatialDropout2D):
    """Drops whole feature volumes of 5D inputs."""

    _ndim = 5


class AlphaDropout(BuiltinLayer):
    """Dropout for SELU networks: dropped units take SELU's negative saturation value and
    the result is rescaled to keep the inputs' mean and variance."""

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.rate = check_rate("AlphaDropout", rate)
        self.noise_shape = _noise_shape("AlphaDropout", noise_shape)
        self.seed = check_seed("AlphaDropout", seed)
        self._set_core(_native.alpha_dropout_layer(self.name, float(rate), self.noise_shape, seed))
        self.built = True

    def call(self, inputs, training=False):
        return super().call(inputs, training)

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed, "noise_shape": self.noise_shape}


class GaussianDropout(BuiltinLayer):
    """Multiplies by noise from ``N(1, rate / (1 - rate))`` in training."""

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.rate = check_rate("GaussianDropout", rate)
        self.seed = check_seed("GaussianDropout", seed)
        self._set_core(_native.gaussian_dropout_layer(self.name, float(rate), seed))
        self.built = True

    def call(self, inputs, training=False):
        return super().call(inputs, training)

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}


class GaussianNoise(BuiltinLayer):
    """Adds noise from ``N(0, stddev^2)`` in training."""

    def __init__(self, stddev, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.stddev = check_rate("GaussianNoise", stddev, arg="stddev")
        self.seed = check_seed("GaussianNoise", seed)
        self._set_core(_native.gaussian_noise_layer(self.name, float(stddev), seed))
        self.built = True

    def call(self, inputs, training=False):
        return super().call(inputs, training)

    def get_config(self):
        return {**super().get_config(), "stddev": self.stddev, "seed": self.seed}


class ActivityRegularization(BuiltinLayer):
    """The identity, adding ``l1 * sum(|x|) + l2 * sum(x^2)`` of its input to the losses."""

    def __init__(self, l1=0.0, l2=0.0, **kwargs):
        super().__init__(**kwargs)
        self.l1, self.l2 = l1, l2
        self._set_core(_native.activity_regularization_layer(self.name, float(l1), float(l2)))
        self.built = True

    def get_config(self):
        return {**super().get_config(), "l1": self.l1, "l2": self.l2}
