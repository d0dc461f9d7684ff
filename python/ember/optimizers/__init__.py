"""ember.optimizers (filled in by its owner)."""
