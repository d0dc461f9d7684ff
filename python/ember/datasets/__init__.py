"""``ember.datasets``: small datasets that ship inside the package (no downloads)."""
from ember.datasets import digits  # noqa: F401
