"""``ember.models``: Model, Sequential."""
from ember.models.model import Model  # noqa: F401
from ember.models.sequential import Sequential  # noqa: F401
