"""``ember.layers``: Keras 3 layers."""

from ember.layers.activations import ELU, Activation, LeakyReLU, PReLU, ReLU, Softmax  # noqa: F401
from ember.layers.convolutional import (  # noqa: F401
    Conv1D,
    Conv1DTranspose,
    Conv2D,
    Conv2DTranspose,
    Conv3D,
    Conv3DTranspose,
    Convolution1D,
    Convolution1DTranspose,
    Convolution2D,
    Convolution2DTranspose,
    Convolution3D,
    Convolution3DTranspose,
    DepthwiseConv1D,
    DepthwiseConv2D,
    SeparableConv1D,
    SeparableConv2D,
    SeparableConvolution1D,
    SeparableConvolution2D,
)
from ember.layers.core import Dense, Identity, Lambda  # noqa: F401
from ember.layers.input_layer import Input, InputLayer  # noqa: F401
from ember.layers.layer import Layer  # noqa: F401
from ember.layers.regularization import (  # noqa: F401
    ActivityRegularization,
    AlphaDropout,
    Dropout,
    GaussianDropout,
    GaussianNoise,
)
from ember.layers.reshaping import Flatten, Permute, RepeatVector, Reshape  # noqa: F401
from ember.layers.symbolic import KerasTensor  # noqa: F401
