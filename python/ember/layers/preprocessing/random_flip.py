"""``RandomFlip``: random left-right and/or top-bottom flips in training."""

from ember import _native
from ember.layers.native import check_seed
from ember.layers.preprocessing.image_layer import RandomImageLayer, standardize_data_format

HORIZONTAL = "horizontal"
VERTICAL = "vertical"
HORIZONTAL_AND_VERTICAL = "horizontal_and_vertical"


class RandomFlip(RandomImageLayer):
    """Flips each image with probability 1/2: left-right ("horizontal"), top-bottom
    ("vertical"), or both at once ("horizontal_and_vertical")."""

    def __init__(self, mode=HORIZONTAL_AND_VERTICAL, seed=None, data_format=None, **kwargs):
        super().__init__(**kwargs)
        if mode not in (HORIZONTAL, VERTICAL, HORIZONTAL_AND_VERTICAL):
            raise ValueError(
                f"RandomFlip layer {self.name} received an unknown mode argument {mode!r}; expected "
                f"'{HORIZONTAL}', '{VERTICAL}' or '{HORIZONTAL_AND_VERTICAL}'"
            )
        self.mode = mode
        self.seed = check_seed("RandomFlip", seed)
        self.data_format = standardize_data_format("RandomFlip", data_format)
        self._set_core(_native.random_flip_layer(self.name, mode, seed, self.data_format == "channels_first"))
        self.built = True

    def get_config(self):
        return {**super().get_config(), "seed": self.seed, "mode": self.mode, "data_format": self.data_format}
