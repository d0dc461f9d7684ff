"""ember.metrics (filled in by its owner)."""
