"""ember.constraints (filled in by its owner)."""
