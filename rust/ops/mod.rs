//! Differentiable ops: each written once (forward, backward, shape check) and used by
//! both drivers, eager Python and the Rust graph (DESIGN.md §2.1).
mod binary;
mod cast;
mod matmul;
mod reduce;
mod shape;
mod unary;

pub use binary::*;
pub use cast::*;
pub use matmul::*;
pub use reduce::*;
pub use shape::*;
pub use unary::*;
