"""``ember.models``: Model, Sequential."""
from ember.models.model import Model  # noqa: F401
from ember.models.sequential import Sequential  # noqa: F401


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """``ember.saving.load_model``: a model from a ``.keras`` file."""
    from ember.saving import saving_api

    return saving_api.load_model(filepath, custom_objects=custom_objects, compile=compile, safe_mode=safe_mode)


def save_model(model, filepath, overwrite=True, **kwargs):
    """``ember.saving.save_model``: writes ``model`` to a ``.keras`` file."""
    from ember.saving import saving_api

    return saving_api.save_model(model, filepath, overwrite=overwrite, **kwargs)
