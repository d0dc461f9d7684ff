"""``Rescaling``: ``inputs * scale + offset``."""

import numpy as np

from ember import _native
from ember.layers.native import BuiltinLayer


def _plain(v):
    """A config value: numbers stay numbers, arrays become lists."""
    return np.asarray(v).tolist() if isinstance(v, (np.ndarray, list, tuple)) else v


class Rescaling(BuiltinLayer):
    """Multiplies by ``scale`` and adds ``offset`` (numbers, or arrays that broadcast against
    the inputs, e.g. one value per channel), in training and inference alike."""

    def __init__(self, scale, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        self.scale = _plain(scale)
        self.offset = _plain(offset)
        self._set_core(_native.rescaling_layer(self.name, np.asarray(scale, np.float32),
                                               np.asarray(offset, np.float32)))
        self.built = True

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "scale": self.scale, "offset": self.offset}
