"""``RandomCrop``: a random window of a fixed size in training."""

from ember import _native
from ember.layers.native import check_seed
from ember.layers.preprocessing.image_layer import (
    RandomImageLayer,
    check_size,
    resized_shape,
    standardize_data_format,
)


class RandomCrop(RandomImageLayer):
    """In training, crops one random ``height`` by ``width`` window (the same for the whole
    batch) from images larger than that on both sides. At inference, and in training for
    images not larger on both sides, the images are cropped to the target aspect ratio at the
    center and resized (bilinear) to ``height`` by ``width``."""

    def __init__(self, height, width, seed=None, data_format=None, name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        self.height, self.width = check_size("RandomCrop", height, width)
        self.seed = check_seed("RandomCrop", seed)
        self.data_format = standardize_data_format("RandomCrop", data_format)
        self._set_core(_native.random_crop_layer(
            self.name, self.height, self.width, seed, self.data_format == "channels_first"
        ))
        self.built = True

    def compute_output_shape(self, input_shape):
        return resized_shape(input_shape, self.height, self.width, self.data_format)

    def get_config(self):
        return {
            **super().get_config(),
            "height": self.height,
            "width": self.width,
            "seed": self.seed,
            "data_format": self.data_format,
        }
