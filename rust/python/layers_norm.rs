//! Normalization for Python: the ops (`_native.op_moments`, `op_batch_normalization`,
//! `op_layer_normalization`, `op_rms_normalization`, `op_l2_normalize`), the layer
//! factories (batch, layer, group and unit normalization, spatial dropout) and
//! `layer_set_trainable`, which tells a core its Keras layer's `trainable` flag.
use super::handles::PyLayer;
use super::layers::{PyConstraint, PyRegularizer};
use super::tensor::{to_tensor, PyTensor, PyVariable};
use crate::nn::layers::{
    BatchNormalization, GroupNormalization, LayerNormalization, SpatialDropout, UnitNormalization,
};
use crate::nn::Layer;
use crate::ops;
use crate::tensor::Tensor;
use pyo3::prelude::*;
use std::sync::Arc;

fn float(x: &Bound<'_, PyAny>) -> PyResult<Tensor> {
    to_tensor(x, Some("float32"))
}

fn float_opt(x: Option<&Bound<'_, PyAny>>) -> PyResult<Option<Tensor>> {
    x.filter(|x| !x.is_none()).map(float).transpose()
}

#[pyfunction]
#[pyo3(signature = (x, axes, keepdims=false))]
fn op_moments(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    axes: Vec<isize>,
    keepdims: bool,
) -> PyResult<(PyTensor, PyTensor)> {
    let x = float(x)?;
    let (m, v) = py.detach(|| ops::moments(&x, &axes, keepdims))?;
    Ok((PyTensor::new(m), PyTensor::new(v)))
}

#[pyfunction]
#[pyo3(signature = (x, mean, variance, axis, offset=None, scale=None, epsilon=1e-3))]
#[allow(clippy::too_many_arguments)]
fn op_batch_normalization(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    mean: &Bound<'_, PyAny>,
    variance: &Bound<'_, PyAny>,
    axis: isize,
    offset: Option<&Bound<'_, PyAny>>,
    scale: Option<&Bound<'_, PyAny>>,
    epsilon: f32,
) -> PyResult<PyTensor> {
    let (x, mean, variance) = (float(x)?, float(mean)?, float(variance)?);
    let (offset, scale) = (float_opt(offset)?, float_opt(scale)?);
    Ok(PyTensor::new(py.detach(|| {
        ops::batch_normalization(
            &x,
            &mean,
            &variance,
            axis,
            offset.as_ref(),
            scale.as_ref(),
            epsilon,
        )
    })?))
}

#[pyfunction]
#[pyo3(signature = (x, gamma, beta, axes, epsilon, rms_scaling=false))]
fn op_layer_normalization(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    gamma: Option<&Bound<'_, PyAny>>,
    beta: Option<&Bound<'_, PyAny>>,
    axes: Vec<isize>,
    epsilon: f32,
    rms_scaling: bool,
) -> PyResult<PyTensor> {
    let (x, gamma, beta) = (float(x)?, float_opt(gamma)?, float_opt(beta)?);
    Ok(PyTensor::new(py.detach(|| {
        ops::layer_normalization(
            &x,
            gamma.as_ref(),
            beta.as_ref(),
            &axes,
            epsilon,
            rms_scaling,
        )
    })?))
}

#[pyfunction]
fn op_rms_normalization(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    scale: Option<&Bound<'_, PyAny>>,
    axes: Vec<isize>,
    epsilon: f32,
) -> PyResult<PyTensor> {
    let (x, scale) = (float(x)?, float_opt(scale)?);
    Ok(PyTensor::new(py.detach(|| {
        ops::rms_normalization(&x, scale.as_ref(), &axes, epsilon)
    })?))
}

#[pyfunction]
fn op_l2_normalize(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    axes: Vec<isize>,
    epsilon: f32,
) -> PyResult<PyTensor> {
    let x = float(x)?;
    Ok(PyTensor::new(
        py.detach(|| ops::l2_normalize(&x, &axes, epsilon))?,
    ))
}

/// Tells a layer's core its Keras layer's `trainable` flag.
#[pyfunction]
fn layer_set_trainable(layer: &Bound<'_, PyLayer>, trainable: bool) {
    layer.get().layer.set_trainable(trainable)
}

fn native(layer: impl Layer + 'static) -> PyLayer {
    PyLayer {
        layer: Arc::new(layer),
    }
}

fn var(v: Option<&Bound<'_, PyVariable>>) -> Option<crate::Variable> {
    v.map(|v| v.get().v.clone())
}

/// Gamma's and beta's regularizers and constraints.
type Hooks<'a, 'py> = (
    Option<&'a Bound<'py, PyRegularizer>>,
    Option<&'a Bound<'py, PyRegularizer>>,
    Option<&'a Bound<'py, PyConstraint>>,
    Option<&'a Bound<'py, PyConstraint>>,
);

macro_rules! with_hooks {
    ($layer:expr, $hooks:expr) => {{
        let (gr, br, gc, bc) = $hooks;
        $layer
            .with_regularizers(gr.map(|r| r.get().r), br.map(|r| r.get().r))
            .with_constraints(gc.map(|c| c.get().c.clone()), bc.map(|c| c.get().c.clone()))
    }};
}

#[pyfunction]
#[pyo3(signature = (name, axis, ndim, momentum, epsilon, moving_mean, moving_variance, gamma=None, beta=None, gamma_regularizer=None, beta_regularizer=None, gamma_constraint=None, beta_constraint=None, trainable=true))]
#[allow(clippy::too_many_arguments)]
fn batch_normalization_layer(
    name: &str,
    axis: usize,
    ndim: usize,
    momentum: f32,
    epsilon: f32,
    moving_mean: &Bound<'_, PyVariable>,
    moving_variance: &Bound<'_, PyVariable>,
    gamma: Option<&Bound<'_, PyVariable>>,
    beta: Option<&Bound<'_, PyVariable>>,
    gamma_regularizer: Option<&Bound<'_, PyRegularizer>>,
    beta_regularizer: Option<&Bound<'_, PyRegularizer>>,
    gamma_constraint: Option<&Bound<'_, PyConstraint>>,
    beta_constraint: Option<&Bound<'_, PyConstraint>>,
    trainable: bool,
) -> PyResult<PyLayer> {
    let bn = BatchNormalization::new(
        name,
        axis,
        ndim,
        momentum,
        epsilon,
        var(gamma),
        var(beta),
        moving_mean.get().v.clone(),
        moving_variance.get().v.clone(),
    )?;
    let hooks: Hooks = (
        gamma_regularizer,
        beta_regularizer,
        gamma_constraint,
        beta_constraint,
    );
    let bn = with_hooks!(bn, hooks);
    bn.set_trainable(trainable);
    Ok(native(bn))
}

#[pyfunction]
#[pyo3(signature = (name, axes, epsilon, rms_scaling=false, gamma=None, beta=None, gamma_regularizer=None, beta_regularizer=None, gamma_constraint=None, beta_constraint=None))]
#[allow(clippy::too_many_arguments)]
fn layer_normalization_layer(
    name: &str,
    axes: Vec<isize>,
    epsilon: f32,
    rms_scaling: bool,
    gamma: Option<&Bound<'_, PyVariable>>,
    beta: Option<&Bound<'_, PyVariable>>,
    gamma_regularizer: Option<&Bound<'_, PyRegularizer>>,
    beta_regularizer: Option<&Bound<'_, PyRegularizer>>,
    gamma_constraint: Option<&Bound<'_, PyConstraint>>,
    beta_constraint: Option<&Bound<'_, PyConstraint>>,
) -> PyResult<PyLayer> {
    let ln = LayerNormalization::new(name, axes, epsilon, rms_scaling, var(gamma), var(beta))?;
    let hooks: Hooks = (
        gamma_regularizer,
        beta_regularizer,
        gamma_constraint,
        beta_constraint,
    );
    Ok(native(with_hooks!(ln, hooks)))
}

#[pyfunction]
#[pyo3(signature = (name, groups, axis, epsilon, channels, gamma=None, beta=None, gamma_regularizer=None, beta_regularizer=None, gamma_constraint=None, beta_constraint=None))]
#[allow(clippy::too_many_arguments)]
fn group_normalization_layer(
    name: &str,
    groups: usize,
    axis: isize,
    epsilon: f32,
    channels: usize,
    gamma: Option<&Bound<'_, PyVariable>>,
    beta: Option<&Bound<'_, PyVariable>>,
    gamma_regularizer: Option<&Bound<'_, PyRegularizer>>,
    beta_regularizer: Option<&Bound<'_, PyRegularizer>>,
    gamma_constraint: Option<&Bound<'_, PyConstraint>>,
    beta_constraint: Option<&Bound<'_, PyConstraint>>,
) -> PyResult<PyLayer> {
    let gn = GroupNormalization::new(name, groups, axis, epsilon, channels, var(gamma), var(beta))?;
    let hooks: Hooks = (
        gamma_regularizer,
        beta_regularizer,
        gamma_constraint,
        beta_constraint,
    );
    Ok(native(with_hooks!(gn, hooks)))
}

#[pyfunction]
fn unit_normalization_layer(name: &str, axes: Vec<isize>) -> PyResult<PyLayer> {
    Ok(native(UnitNormalization::new(name, axes)?))
}

#[pyfunction]
#[pyo3(signature = (name, ndim, rate, channels_first=false, seed=None))]
fn spatial_dropout_layer(
    name: &str,
    ndim: usize,
    rate: f32,
    channels_first: bool,
    seed: Option<u64>,
) -> PyResult<PyLayer> {
    Ok(native(SpatialDropout::new(
        name,
        ndim,
        rate,
        channels_first,
        seed,
    )?))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(op_moments, m)?)?;
    m.add_function(wrap_pyfunction!(op_batch_normalization, m)?)?;
    m.add_function(wrap_pyfunction!(op_layer_normalization, m)?)?;
    m.add_function(wrap_pyfunction!(op_rms_normalization, m)?)?;
    m.add_function(wrap_pyfunction!(op_l2_normalize, m)?)?;
    m.add_function(wrap_pyfunction!(layer_set_trainable, m)?)?;
    m.add_function(wrap_pyfunction!(batch_normalization_layer, m)?)?;
    m.add_function(wrap_pyfunction!(layer_normalization_layer, m)?)?;
    m.add_function(wrap_pyfunction!(group_normalization_layer, m)?)?;
    m.add_function(wrap_pyfunction!(unit_normalization_layer, m)?)?;
    m.add_function(wrap_pyfunction!(spatial_dropout_layer, m)?)?;
    Ok(())
}
