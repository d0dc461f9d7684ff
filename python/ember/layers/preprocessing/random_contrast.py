"""``RandomContrast``: random contrast changes in training."""

from ember import _native
from ember.layers.native import check_seed
from ember.layers.preprocessing.image_layer import (
    RandomImageLayer,
    is_number,
    standardize_data_format,
    value_range_pair,
)


def _contrast_range(factor):
    message = (
        "RandomContrast: the `factor` argument cannot have negative values or values greater than 1. "
        f"Received: factor={factor}"
    )
    if isinstance(factor, (tuple, list)):
        if len(factor) != 2:
            raise ValueError(message)
        lower, upper = factor
    else:
        lower = upper = factor
    if not (is_number(lower) and is_number(upper)):
        raise ValueError(message)
    if lower < 0 or upper < 0 or lower > 1:
        raise ValueError(message)
    return float(lower), float(upper)


class RandomContrast(RandomImageLayer):
    """Per image and channel, maps ``x`` to ``(x - mean) * f + mean`` (``mean`` over the height
    and width), ``f`` drawn in ``[1 - lower, 1 + upper]`` per image (``factor`` a number gives
    lower = upper), then clips to ``value_range``."""

    def __init__(self, factor, value_range=(0, 255), seed=None, **kwargs):
        data_format = kwargs.pop("data_format", None)
        super().__init__(**kwargs)
        self.factor = factor
        lower_upper = _contrast_range(factor)
        self.value_range = value_range
        low_high = value_range_pair("RandomContrast", value_range)
        self.seed = check_seed("RandomContrast", seed)
        self.data_format = standardize_data_format("RandomContrast", data_format)
        self._set_core(_native.random_contrast_layer(
            self.name, lower_upper, low_high, seed, self.data_format == "channels_first"
        ))
        self.built = True

    def get_config(self):
        return {**super().get_config(), "factor": self.factor, "value_range": self.value_range, "seed": self.seed}
