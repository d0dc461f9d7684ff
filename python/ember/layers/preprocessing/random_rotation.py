"""``RandomRotation``: random rotations about the image center in training."""

from ember import _native
from ember.layers.native import check_seed
from ember.layers.preprocessing.image_layer import (
    RandomImageLayer,
    check_sampling,
    factor_range,
    standardize_data_format,
)


class RandomRotation(RandomImageLayer):
    """Rotates each image by an angle drawn in ``[lower, upper] * 2 pi`` (``factor`` a number
    ``f`` gives ``[-f, f]``; positive angles turn counter-clockwise), filling the corners by
    ``fill_mode``."""

    def __init__(self, factor, fill_mode="reflect", interpolation="bilinear", seed=None, fill_value=0.0,
                 data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor_range("RandomRotation", factor)
        check_sampling("RandomRotation", fill_mode, interpolation)
        self.fill_mode, self.interpolation, self.fill_value = fill_mode, interpolation, fill_value
        self.seed = check_seed("RandomRotation", seed)
        self.data_format = standardize_data_format("RandomRotation", data_format)
        self._set_core(_native.random_rotation_layer(
            self.name, self.factor, fill_mode, interpolation, float(fill_value), seed,
            self.data_format == "channels_first",
        ))
        self.built = True

    def get_config(self):
        return {
            **super().get_config(),
            "factor": self.factor,
            "data_format": self.data_format,
            "fill_mode": self.fill_mode,
            "fill_value": self.fill_value,
            "interpolation": self.interpolation,
            "seed": self.seed,
        }
