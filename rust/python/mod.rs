//! `ember._native`: the PyO3 extension. Each family registers its own classes and functions.
mod autograd;
mod config;
mod errors;
mod handles;
mod layers;
mod layers_attention;
mod layers_conv;
mod layers_merge;
mod layers_norm;
mod layers_pooling;
mod layers_preprocessing;
mod layers_rnn;
mod layers_seq;
mod losses;
mod metrics;
mod ops_math;
mod ops_shape;
mod optimizers;
mod tensor;
mod tensor_index;
mod tensor_math;
mod train;

use pyo3::prelude::*;

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    tensor::register(m)?;
    autograd::register(m)?;
    handles::register(m)?;
    ops_math::register(m)?;
    ops_shape::register(m)?;
    layers::register(m)?;
    layers_merge::register(m)?;
    layers_preprocessing::register(m)?;
    layers_norm::register(m)?;
    layers_pooling::register(m)?;
    layers_conv::register(m)?;
    layers_attention::register(m)?;
    layers_rnn::register(m)?;
    layers_seq::register(m)?;
    losses::register(m)?;
    metrics::register(m)?;
    optimizers::register(m)?;
    config::register(m)?;
    train::register(m)?;
    Ok(())
}
