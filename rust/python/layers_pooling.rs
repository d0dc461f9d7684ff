//! Pooling and spatial reshaping for Python: `op_max_pool` / `op_average_pool` (behind
//! `ember.ops`), and the layer factories behind `ember.layers` (`pooling_layer`,
//! `global_pooling_layer`, `zero_padding_layer`, `cropping_layer`, `up_sampling_layer`).
use super::handles::PyLayer;
use super::tensor::{to_tensor, PyTensor};
use crate::nn::layers::{Cropping, GlobalPooling, Interpolation, Pooling, UpSampling, ZeroPadding};
use crate::nn::Layer;
use crate::ops::{PoolMode, PoolPadding, PoolSpec};
use crate::value_err;
use pyo3::prelude::*;
use std::sync::Arc;

fn mode(op: &str, m: &str) -> crate::Result<PoolMode> {
    match m {
        "max" => Ok(PoolMode::Max),
        "average" => Ok(PoolMode::Average),
        _ => Err(value_err!(
            "{op}: `pool_mode` must be either 'max' or 'average'. Received: {m}"
        )),
    }
}

fn pool(
    py: Python<'_>,
    m: PoolMode,
    x: &Bound<'_, PyAny>,
    pool_size: Vec<usize>,
    strides: Option<Vec<usize>>,
    padding: &str,
    channels_first: bool,
) -> PyResult<PyTensor> {
    let op = match m {
        PoolMode::Max => "max_pool",
        PoolMode::Average => "average_pool",
    };
    let x = to_tensor(x, Some("float32"))?;
    let spec = PoolSpec::new(
        op,
        m,
        &pool_size,
        strides.as_deref(),
        PoolPadding::parse(op, padding)?,
        channels_first,
    )?;
    Ok(PyTensor::new(py.detach(|| spec.apply(op, &x))?))
}

/// `keras.ops.max_pool` (sizes already one per spatial axis).
#[pyfunction]
#[pyo3(signature = (x, pool_size, strides=None, padding="valid", channels_first=false))]
fn op_max_pool(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    pool_size: Vec<usize>,
    strides: Option<Vec<usize>>,
    padding: &str,
    channels_first: bool,
) -> PyResult<PyTensor> {
    let m = PoolMode::Max;
    pool(py, m, x, pool_size, strides, padding, channels_first)
}

/// `keras.ops.average_pool` (sizes already one per spatial axis).
#[pyfunction]
#[pyo3(signature = (x, pool_size, strides=None, padding="valid", channels_first=false))]
fn op_average_pool(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    pool_size: Vec<usize>,
    strides: Option<Vec<usize>>,
    padding: &str,
    channels_first: bool,
) -> PyResult<PyTensor> {
    let m = PoolMode::Average;
    pool(py, m, x, pool_size, strides, padding, channels_first)
}

fn native(layer: impl Layer + 'static) -> PyLayer {
    PyLayer {
        layer: Arc::new(layer),
    }
}

/// `MaxPooling{N}D` (`pool_mode="max"`) or `AveragePooling{N}D` (`"average"`).
#[pyfunction]
#[pyo3(signature = (name, pool_mode, pool_size, strides=None, padding="valid", channels_first=false))]
fn pooling_layer(
    name: &str,
    pool_mode: &str,
    pool_size: Vec<usize>,
    strides: Option<Vec<usize>>,
    padding: &str,
    channels_first: bool,
) -> PyResult<PyLayer> {
    let op = format!("pooling layer \"{name}\"");
    Ok(native(Pooling::new(
        name,
        mode(&op, pool_mode)?,
        &pool_size,
        strides.as_deref(),
        PoolPadding::parse(&op, padding)?,
        channels_first,
    )?))
}

/// `GlobalMaxPooling{rank}D` / `GlobalAveragePooling{rank}D`.
#[pyfunction]
#[pyo3(signature = (name, pool_mode, rank, channels_first=false, keepdims=false))]
fn global_pooling_layer(
    name: &str,
    pool_mode: &str,
    rank: usize,
    channels_first: bool,
    keepdims: bool,
) -> PyResult<PyLayer> {
    let m = mode(&format!("global pooling layer \"{name}\""), pool_mode)?;
    Ok(native(GlobalPooling::new(
        name,
        m,
        rank,
        channels_first,
        keepdims,
    )))
}

/// `ZeroPadding{N}D`: one `(before, after)` pair per spatial axis.
#[pyfunction]
#[pyo3(signature = (name, padding, channels_first=false))]
fn zero_padding_layer(
    name: &str,
    padding: Vec<(usize, usize)>,
    channels_first: bool,
) -> PyResult<PyLayer> {
    Ok(native(ZeroPadding::new(name, padding, channels_first)?))
}

/// `Cropping{N}D`: one `(before, after)` pair per spatial axis.
#[pyfunction]
#[pyo3(signature = (name, cropping, channels_first=false))]
fn cropping_layer(
    name: &str,
    cropping: Vec<(usize, usize)>,
    channels_first: bool,
) -> PyResult<PyLayer> {
    Ok(native(Cropping::new(name, cropping, channels_first)?))
}

/// `UpSampling{N}D`: one factor per spatial axis; `interpolation` "nearest" or "bilinear".
#[pyfunction]
#[pyo3(signature = (name, size, interpolation="nearest", channels_first=false))]
fn up_sampling_layer(
    name: &str,
    size: Vec<usize>,
    interpolation: &str,
    channels_first: bool,
) -> PyResult<PyLayer> {
    let interpolation = match interpolation {
        "nearest" => Interpolation::Nearest,
        "bilinear" => Interpolation::Bilinear,
        other => {
            return Err(value_err!(
                "UpSampling layer \"{name}\": interpolation must be 'nearest' or 'bilinear'. Received: {other}"
            )
            .into())
        }
    };
    Ok(native(UpSampling::new(
        name,
        size,
        interpolation,
        channels_first,
    )?))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(op_max_pool, m)?)?;
    m.add_function(wrap_pyfunction!(op_average_pool, m)?)?;
    m.add_function(wrap_pyfunction!(pooling_layer, m)?)?;
    m.add_function(wrap_pyfunction!(global_pooling_layer, m)?)?;
    m.add_function(wrap_pyfunction!(zero_padding_layer, m)?)?;
    m.add_function(wrap_pyfunction!(cropping_layer, m)?)?;
    m.add_function(wrap_pyfunction!(up_sampling_layer, m)?)?;
    Ok(())
}
