"""ember.initializers (filled in by its owner)."""
