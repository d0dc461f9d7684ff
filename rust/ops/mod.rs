//! Differentiable ops: each written once (forward, backward, shape check) and used by
//! both drivers, eager Python and the Rust graph (DESIGN.md §2.1).
mod activation;
mod binary;
mod cast;
mod conv;
mod embedding;
pub mod image;
mod index;
mod matmul;
mod normalization;
mod pool;
mod reduce;
mod rnn;
mod shape;
mod softmax;
mod unary;

pub use activation::*;
pub use binary::*;
pub use cast::*;
pub use conv::*;
pub use embedding::*;
pub use index::*;
pub use matmul::*;
pub use normalization::*;
pub use pool::*;
pub use reduce::*;
pub use rnn::*;
pub use shape::*;
pub use softmax::*;
pub use unary::*;
