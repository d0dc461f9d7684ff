"""ember.activations (filled in by its owner)."""
