//! Sequence-layer factories (`Embedding`, `Masking`, `TimeDistributed`) and the eager
//! side of Keras masks: a core's `supports_masking` and `compute_mask`.
use super::handles::PyLayer;
use super::layers::{cons, inputs_and_masks, native, reg, var, PyConstraint, PyRegularizer};
use super::tensor::{PyTensor, PyVariable};
use crate::nn::layers::{Embedding, Masking, TimeDistributed};
use pyo3::prelude::*;

#[pyfunction]
#[pyo3(signature = (name, embeddings, mask_zero=false, regularizer=None, constraint=None))]
fn embedding_layer(
    name: &str,
    embeddings: &Bound<'_, PyVariable>,
    mask_zero: bool,
    regularizer: Option<&Bound<'_, PyRegularizer>>,
    constraint: Option<&Bound<'_, PyConstraint>>,
) -> PyResult<PyLayer> {
    Ok(native(Embedding::new(
        name,
        var(embeddings),
        mask_zero,
        reg(regularizer),
        cons(constraint),
    )?))
}

#[pyfunction]
#[pyo3(signature = (name, mask_value=0.0))]
fn masking_layer(name: &str, mask_value: f32) -> PyLayer {
    native(Masking::new(name, mask_value))
}

#[pyfunction]
fn time_distributed_layer(name: &str, layer: &Bound<'_, PyLayer>) -> PyLayer {
    native(TimeDistributed::new(name, layer.get().layer.clone()))
}

#[pyfunction]
fn layer_supports_masking(layer: &Bound<'_, PyLayer>) -> bool {
    layer.get().layer.supports_masking()
}

/// The masks of a core's outputs for these inputs and input masks (`compute_mask`); the
/// inputs are float32, as in `layer_call`.
#[pyfunction]
#[pyo3(signature = (layer, inputs, masks=None))]
fn layer_compute_mask(
    py: Python<'_>,
    layer: &Bound<'_, PyLayer>,
    inputs: Vec<Bound<'_, PyAny>>,
    masks: Option<Vec<Option<Bound<'_, PyAny>>>>,
) -> PyResult<Vec<Option<PyTensor>>> {
    let (xs, masks) = inputs_and_masks(&inputs, masks)?;
    let layer = layer.get().layer.clone();
    let out = py.detach(|| {
        let _ng = crate::autograd::NoGrad::new();
        layer.compute_mask(&xs, &masks)
    })?;
    Ok(out.into_iter().map(|m| m.map(PyTensor::new)).collect())
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(embedding_layer, m)?)?;
    m.add_function(wrap_pyfunction!(masking_layer, m)?)?;
    m.add_function(wrap_pyfunction!(time_distributed_layer, m)?)?;
    m.add_function(wrap_pyfunction!(layer_supports_masking, m)?)?;
    m.add_function(wrap_pyfunction!(layer_compute_mask, m)?)?;
    Ok(())
}
