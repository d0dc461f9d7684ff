"""``RandomBrightness``: random brightness shifts in training."""

from ember import _native
from ember.layers.native import check_seed
from ember.layers.preprocessing.image_layer import (
    RandomImageLayer,
    factor_range,
    standardize_data_format,
    value_range_pair,
)


class RandomBrightness(RandomImageLayer):
    """Adds ``f * (high - low)`` to each image, ``f`` drawn in ``factor`` (a number gives
    ``[-f, f]``, within [-1, 1]), then clips to ``value_range = (low, high)``."""

    def __init__(self, factor, value_range=(0, 255), seed=None, **kwargs):
        data_format = kwargs.pop("data_format", None)
        super().__init__(**kwargs)
        self.data_format = standardize_data_format("RandomBrightness", data_format)
        self._factor = list(factor_range("RandomBrightness", factor))
        value_range_pair("RandomBrightness", value_range)
        self.value_range = sorted(value_range)
        self.seed = check_seed("RandomBrightness", seed)
        self._set_core(_native.random_brightness_layer(
            self.name, tuple(self._factor), tuple(float(v) for v in self.value_range), seed
        ))
        self.built = True

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format, "factor": self._factor,
                "value_range": self.value_range, "seed": self.seed}
