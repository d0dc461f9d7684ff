"""``ember.config``: threads and backend settings."""
from ember import _native
from ember.backend import backend, epsilon, floatx, image_data_format, set_epsilon  # noqa: F401


def set_num_threads(n):
    """Sets the number of threads ember's kernels use (also read from EMBER_NUM_THREADS)."""
    _native.set_num_threads(int(n))


def get_num_threads():
    return _native.get_num_threads()


def enable_unsafe_deserialization():
    """Lets loading deserialize Python lambdas (``keras.config.enable_unsafe_deserialization``)."""
    from ember.saving import serialization_lib

    serialization_lib.enable_unsafe_deserialization()
