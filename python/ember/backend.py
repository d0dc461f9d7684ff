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


def standardize_data_format(data_format):
    """``data_format`` lowercased and checked; None means ``image_data_format()``."""
    data_format = str(data_format or image_data_format()).lower()
    if data_format not in ("channels_first", "channels_last"):
        raise ValueError(
            "The `data_format` argument must be one of {'channels_first', 'channels_last'}. "
            f"Received: data_format={data_format}"
        )
    return data_format
