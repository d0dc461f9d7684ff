"""The README's demo: an MLP on the bundled handwritten digits (same as `ember demo`)."""
from ember.cli import demo

if __name__ == "__main__":
    demo()
