"""``ember.models``: Model, Sequential."""
from ember.models.model import Model  # noqa: F401
from ember.models.sequential import Sequential  # noqa: F401
from ember.saving.saving_api import load_model, save_model  # noqa: F401,E402
