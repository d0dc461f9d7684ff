//! Built-in layers.
