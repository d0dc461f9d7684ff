//! Activation functions by Keras name (in progress).
