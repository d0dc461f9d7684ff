"""``CenterCrop``: the central window of a fixed size."""

from ember import _native
from ember.layers.native import BuiltinLayer
from ember.layers.preprocessing.image_layer import check_size, resized_shape, standardize_data_format


class CenterCrop(BuiltinLayer):
    """Crops the central ``height`` by ``width`` window of images; images smaller than that
    on either side are first cropped to the target aspect ratio, then resized (bilinear)."""

    def __init__(self, height, width, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.height, self.width = check_size("CenterCrop", height, width)
        self.data_format = standardize_data_format("CenterCrop", data_format)
        self._set_core(_native.center_crop_layer(
            self.name, self.height, self.width, self.data_format == "channels_first"
        ))
        self.built = True

    def compute_output_shape(self, input_shape):
        return resized_shape(input_shape, self.height, self.width, self.data_format)

    def get_config(self):
        return {**super().get_config(), "height": self.height, "width": self.width, "data_format": self.data_format}
