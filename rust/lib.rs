//! ember: a deep-learning engine with the Keras 3 API. See DESIGN.md for the map.
pub mod autograd;
pub mod cpu;
pub mod error;
pub mod nn;
pub mod ops;
pub mod optim;
pub mod random;
pub mod tensor;
pub mod train;

#[cfg(feature = "python")]
mod python;

pub use autograd::{NoGrad, Variable};
pub use error::{Error, Result};
pub use tensor::{DType, Device, Tensor};
