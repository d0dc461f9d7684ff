"""``ember.layers``: Keras 3 layers."""

from ember.layers.activations import ELU, Activation, LeakyReLU, PReLU, ReLU, Softmax  # noqa: F401
from ember.layers.core import Dense, Identity, Lambda  # noqa: F401
from ember.layers.input_layer import Input, InputLayer  # noqa: F401
from ember.layers.layer import Layer  # noqa: F401
from ember.layers.pooling import (  # noqa: F401
    AveragePooling1D,
    AveragePooling2D,
    AveragePooling3D,
    AvgPool1D,
    AvgPool2D,
    AvgPool3D,
    GlobalAveragePooling1D,
    GlobalAveragePooling2D,
    GlobalAveragePooling3D,
    GlobalAvgPool1D,
    GlobalAvgPool2D,
    GlobalAvgPool3D,
    GlobalMaxPool1D,
    GlobalMaxPool2D,
    GlobalMaxPool3D,
    GlobalMaxPooling1D,
    GlobalMaxPooling2D,
    GlobalMaxPooling3D,
    MaxPool1D,
    MaxPool2D,
    MaxPool3D,
    MaxPooling1D,
    MaxPooling2D,
    MaxPooling3D,
)
from ember.layers.regularization import (  # noqa: F401
    ActivityRegularization,
    AlphaDropout,
    Dropout,
    GaussianDropout,
    GaussianNoise,
)
from ember.layers.reshaping import (  # noqa: F401
    Cropping1D,
    Cropping2D,
    Cropping3D,
    Flatten,
    Permute,
    RepeatVector,
    Reshape,
    UpSampling1D,
    UpSampling2D,
    UpSampling3D,
    ZeroPadding1D,
    ZeroPadding2D,
    ZeroPadding3D,
)
from ember.layers.symbolic import KerasTensor  # noqa: F401
