"""Preprocessing and image augmentation layers (Keras 3 names, arguments and defaults)."""

from ember.layers.preprocessing.center_crop import CenterCrop  # noqa: F401
from ember.layers.preprocessing.normalization import Normalization  # noqa: F401
from ember.layers.preprocessing.random_brightness import RandomBrightness  # noqa: F401
from ember.layers.preprocessing.random_contrast import RandomContrast  # noqa: F401
from ember.layers.preprocessing.random_crop import RandomCrop  # noqa: F401
from ember.layers.preprocessing.random_flip import RandomFlip  # noqa: F401
from ember.layers.preprocessing.random_rotation import RandomRotation  # noqa: F401
from ember.layers.preprocessing.random_translation import RandomTranslation  # noqa: F401
from ember.layers.preprocessing.random_zoom import RandomZoom  # noqa: F401
from ember.layers.preprocessing.rescaling import Rescaling  # noqa: F401
from ember.layers.preprocessing.resizing import Resizing  # noqa: F401
