"""``ember.activations``: the Keras 3 activation functions, computed by the Rust core.

Each takes an array-like or Tensor and returns a Tensor (differentiable). ``get(name)``
returns the function; built-in activations passed to layers run inside compiled graphs.
"""

import types

from ember import _native

__all__ = [
    "deserialize",
    "elu",
    "exponential",
    "gelu",
    "get",
    "hard_sigmoid",
    "hard_silu",
    "hard_swish",
    "leaky_relu",
    "linear",
    "log_softmax",
    "mish",
    "relu",
    "relu6",
    "selu",
    "serialize",
    "sigmoid",
    "silu",
    "softmax",
    "softplus",
    "softsign",
    "swish",
    "tanh",
]


def relu(x, negative_slope=0.0, max_value=None, threshold=0.0):
    """``max(x, 0)``; with parameters: ``negative_slope * (x - threshold)`` below
    ``threshold``, ``x`` above it, capped at ``max_value``."""
    return _native.activation(
        x, "relu", negative_slope=negative_slope, max_value=max_value, threshold=threshold
    )


def leaky_relu(x, negative_slope=0.2):
    return _native.activation(x, "leaky_relu", negative_slope=negative_slope)


def relu6(x):
    return _native.activation(x, "relu6")


def softmax(x, axis=-1):
    return _native.activation(x, "softmax", axis=axis)


def log_softmax(x, axis=-1):
    return _native.activation(x, "log_softmax", axis=axis)


def elu(x, alpha=1.0):
    """``x`` for ``x > 0``, ``alpha * (exp(x) - 1)`` otherwise."""
    return _native.activation(x, "elu", alpha=alpha)


def selu(x):
    return _native.activation(x, "selu")


def softplus(x):
    return _native.activation(x, "softplus")


def softsign(x):
    return _native.activation(x, "softsign")


def silu(x):
    """``x * sigmoid(x)`` (also called swish)."""
    return _native.activation(x, "silu")


def gelu(x, approximate=False):
    """``0.5 * x * (1 + erf(x / sqrt(2)))``, or its tanh approximation."""
    return _native.activation(x, "gelu", approximate=approximate)


def tanh(x):
    return _native.activation(x, "tanh")


def sigmoid(x):
    return _native.activation(x, "sigmoid")


def exponential(x):
    return _native.activation(x, "exponential")


def hard_sigmoid(x):
    """``clip(x / 6 + 0.5, 0, 1)``."""
    return _native.activation(x, "hard_sigmoid")


def hard_silu(x):
    """``x * hard_sigmoid(x)`` (also called hard swish)."""
    return _native.activation(x, "hard_silu")


def mish(x):
    """``x * tanh(softplus(x))``."""
    return _native.activation(x, "mish")


def linear(x):
    """The identity."""
    return x


swish = silu
hard_swish = hard_silu

ALL_OBJECTS_DICT = {
    f.__name__: f
    for f in (
        elu,
        exponential,
        gelu,
        hard_sigmoid,
        hard_silu,
        leaky_relu,
        linear,
        log_softmax,
        mish,
        relu,
        relu6,
        selu,
        sigmoid,
        silu,
        softmax,
        softplus,
        softsign,
        tanh,
    )
}
ALL_OBJECTS_DICT.update({"swish": silu, "hard_swish": hard_silu})


def native_name(activation):
    """The core's name for a built-in activation function, or None for anything else
    (which then runs in Python)."""
    if isinstance(activation, types.FunctionType) and ALL_OBJECTS_DICT.get(activation.__name__) is activation:
        return activation.__name__
    return None


def serialize(activation):
    """The name of a built-in activation; other callables by their ``__name__``."""
    name = native_name(activation)
    if name is not None:
        return name
    if hasattr(activation, "get_config"):
        return {
            "module": type(activation).__module__,
            "class_name": type(activation).__name__,
            "config": activation.get_config(),
            "registered_name": None,
        }
    name = getattr(activation, "__name__", None)
    if name is None:
        raise ValueError(f"Unknown activation function '{activation}' cannot be serialized")
    if name in ALL_OBJECTS_DICT or name == "<lambda>":
        return name
    # a user function: Keras's form, so that loading finds it among the registered objects
    from ember.saving.object_registration import get_registered_name

    return {"module": getattr(activation, "__module__", None), "class_name": "function", "config": name,
            "registered_name": get_registered_name(activation)}


def deserialize(config, custom_objects=None):
    """The activation a name or a serialized config (``{"class_name": "function",
    "config": "relu"}``, or a custom object's class name and config) describes."""
    lookup = dict(ALL_OBJECTS_DICT, **(custom_objects or {}))
    name = config
    if isinstance(config, dict):
        inner = config.get("config")
        if isinstance(inner, dict) and config.get("class_name") in lookup:
            return lookup[config["class_name"]].from_config(inner)
        name = inner if isinstance(inner, str) else config.get("class_name")
    if isinstance(name, str) and name in lookup:
        return lookup[name]
    raise ValueError(
        f"Could not interpret activation function identifier: {name!r}. "
        f"Known activations: {sorted(ALL_OBJECTS_DICT)}"
    )


def get(identifier):
    """The activation function for a name, a config, or a callable; None means linear."""
    if identifier is None:
        return linear
    if isinstance(identifier, (str, dict)):
        return deserialize(identifier)
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret activation function identifier: {identifier}")
