"""``ember.layers``: Keras 3 layers."""

from ember.layers.activations import ELU, Activation, LeakyReLU, PReLU, ReLU, Softmax  # noqa: F401
from ember.layers.core import Dense, Identity, Lambda  # noqa: F401
from ember.layers.input_layer import Input, InputLayer  # noqa: F401
from ember.layers.layer import Layer  # noqa: F401
from ember.layers.merging import (  # noqa: F401
    Add,
    Average,
    Concatenate,
    Dot,
    Maximum,
    Minimum,
    Multiply,
    Subtract,
    add,
    average,
    concatenate,
    dot,
    maximum,
    minimum,
    multiply,
    subtract,
)
from ember.layers.normalization import (  # noqa: F401
    BatchNormalization,
    GroupNormalization,
    LayerNormalization,
    UnitNormalization,
)
from ember.layers.preprocessing import (  # noqa: F401
    CenterCrop,
    Normalization,
    RandomBrightness,
    RandomContrast,
    RandomCrop,
    RandomFlip,
    RandomRotation,
    RandomTranslation,
    RandomZoom,
    Rescaling,
    Resizing,
)
from ember.layers.regularization import (  # noqa: F401
    ActivityRegularization,
    AlphaDropout,
    Dropout,
    GaussianDropout,
    GaussianNoise,
    SpatialDropout1D,
    SpatialDropout2D,
    SpatialDropout3D,
)
from ember.layers.reshaping import Flatten, Permute, RepeatVector, Reshape  # noqa: F401
from ember.layers.symbolic import KerasTensor  # noqa: F401
