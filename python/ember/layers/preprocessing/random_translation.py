"""``RandomTranslation``: random shifts in training."""

from ember import _native
from ember.layers.native import check_seed
from ember.layers.preprocessing.image_layer import (
    RandomImageLayer,
    check_sampling,
    factor_range,
    standardize_data_format,
)


class RandomTranslation(RandomImageLayer):
    """Shifts each image by fractions of its height and width drawn in ``height_factor`` and
    ``width_factor`` (a number ``f`` gives ``[-f, f]``; positive: down and right), filling
    the uncovered part by ``fill_mode``."""

    def __init__(self, height_factor, width_factor, fill_mode="reflect", interpolation="bilinear", seed=None,
                 fill_value=0.0, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.height_factor, self.width_factor = height_factor, width_factor
        heights = factor_range("RandomTranslation", height_factor, "height_factor")
        widths = factor_range("RandomTranslation", width_factor, "width_factor")
        check_sampling("RandomTranslation", fill_mode, interpolation)
        self.fill_mode, self.interpolation, self.fill_value = fill_mode, interpolation, fill_value
        self.seed = check_seed("RandomTranslation", seed)
        self.data_format = standardize_data_format("RandomTranslation", data_format)
        self._set_core(_native.random_translation_layer(
            self.name, heights, widths, fill_mode, interpolation, float(fill_value), seed,
            self.data_format == "channels_first",
        ))
        self.built = True

    def get_config(self):
        return {
            **super().get_config(),
            "height_factor": self.height_factor,
            "width_factor": self.width_factor,
            "fill_mode": self.fill_mode,
            "interpolation": self.interpolation,
            "seed": self.seed,
            "fill_value": self.fill_value,
            "data_format": self.data_format,
        }
