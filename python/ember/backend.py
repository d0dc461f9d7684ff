"""Backend facts, under the names keras.backend / keras.config use."""

_EPSILON = 1e-7


def backend():
    """The name of the compute backend: always ``"ember"``."""
    return "ember"


def floatx():
    return "float32"


def epsilon():
    return _EPSILON


def set_epsilon(value):
    global _EPSILON
    _EPSILON = float(value)


def image_data_format():
    return "channels_last"
