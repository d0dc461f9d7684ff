"""ember.datasets."""
