"""``Resizing``: images to a fixed height and width."""

from ember import _native
from ember.layers.native import BuiltinLayer
from ember.layers.preprocessing.image_layer import check_size, resized_shape, standardize_data_format

_KERAS_ONLY = ("bicubic", "lanczos3", "lanczos5", "area", "gaussian", "mitchellcubic")


class Resizing(BuiltinLayer):
    """Resizes images (``(h, w, c)`` or ``(n, h, w, c)``) to ``height`` by ``width`` with
    half-pixel centers. ``crop_to_aspect_ratio`` keeps the largest centered window of the target
    aspect ratio; ``pad_to_aspect_ratio`` pads the short side evenly with ``fill_value``."""

    def __init__(self, height, width, interpolation="bilinear", crop_to_aspect_ratio=False,
                 pad_to_aspect_ratio=False, fill_mode="constant", fill_value=0.0, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.height, self.width = check_size("Resizing", height, width)
        if interpolation in _KERAS_ONLY:
            raise NotImplementedError(
                f"Resizing: interpolation='{interpolation}' is not supported by ember; use 'bilinear' or 'nearest'"
            )
        if interpolation not in ("bilinear", "nearest"):
            raise ValueError(
                "Resizing: invalid value for argument `interpolation`: expected one of 'bilinear', 'nearest'. "
                f"Received: interpolation={interpolation!r}"
            )
        if fill_mode != "constant":
            raise ValueError(
                f"Resizing: only fill_mode='constant' is supported. Received: fill_mode={fill_mode!r}"
            )
        self.interpolation = interpolation
        self.crop_to_aspect_ratio = bool(crop_to_aspect_ratio)
        self.pad_to_aspect_ratio = bool(pad_to_aspect_ratio)
        self.fill_mode = fill_mode
        self.fill_value = fill_value
        self.data_format = standardize_data_format("Resizing", data_format)
        self._set_core(_native.resizing_layer(
            self.name, self.height, self.width, interpolation, self.crop_to_aspect_ratio,
            self.pad_to_aspect_ratio, float(fill_value), self.data_format == "channels_first",
        ))
        self.built = True

    def compute_output_shape(self, input_shape):
        return resized_shape(input_shape, self.height, self.width, self.data_format)

    def get_config(self):
        return {
            **super().get_config(),
            "height": self.height,
            "width": self.width,
            "interpolation": self.interpolation,
            "crop_to_aspect_ratio": self.crop_to_aspect_ratio,
            "pad_to_aspect_ratio": self.pad_to_aspect_ratio,
            "fill_mode": self.fill_mode,
            "fill_value": self.fill_value,
            "data_format": self.data_format,
        }
