"""``ember.saving``: the Keras 3 ``.keras`` format, weights files and (de)serialization."""
from ember.saving.object_registration import (  # noqa: F401
    CustomObjectScope,
    custom_object_scope,
    get_custom_objects,
    get_registered_name,
    get_registered_object,
    register_keras_serializable,
)
from ember.saving.saving_api import load_model, load_weights, save_model, save_weights  # noqa: F401
from ember.saving.serialization_lib import (  # noqa: F401
    SafeModeScope,
    deserialize_keras_object,
    enable_unsafe_deserialization,
    serialize_keras_object,
)
