"""ember: deep learning with the Keras 3 API and a Rust engine.

Use it as Keras (``import ember as keras``) or under its own name (``import ember as em``).
"""
from ember import (
    activations,
    backend,
    callbacks,
    config,
    constraints,
    datasets,
    initializers,
    layers,
    losses,
    metrics,
    models,
    ops,
    optimizers,
    random,
    regularizers,
    saving,
    utils,
)
from ember._native import Tensor, Variable, no_grad
from ember.autograd import GradientTape
from ember.layers import Input
from ember.models import Model, Sequential
from ember.ops import convert_to_tensor

__version__ = "0.1.0"

__all__ = [
    "GradientTape", "Input", "Model", "Sequential", "Tensor", "Variable", "activations", "backend",
    "callbacks", "config", "constraints", "convert_to_tensor", "datasets", "initializers", "layers",
    "losses", "metrics", "models", "no_grad", "ops", "optimizers", "random", "regularizers", "saving", "utils",
]
