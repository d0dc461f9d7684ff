"""ember.callbacks."""
