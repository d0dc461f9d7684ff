//! CPU kernels: SIMD with run-time dispatch (pulp), threads from one rayon pool.
pub mod conv;
pub mod elementwise;
pub mod gemm;
pub mod im2col;
pub mod image;
pub mod math;
pub mod pool;
pub mod reduce;
pub mod rnn;
pub mod scratch;
pub mod strided;
