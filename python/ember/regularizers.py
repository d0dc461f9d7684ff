"""ember.regularizers (filled in by its owner)."""
