"""ember.random (filled in by its owner)."""
