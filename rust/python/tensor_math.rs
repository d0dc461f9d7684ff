//! More Tensor methods (in progress).
