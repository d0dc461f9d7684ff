//! Factories of the merge layers' core objects (`python/ember/layers/merging.py`).
use super::handles::PyLayer;
use crate::nn::layers::{Concatenate, Dot, Merge, MergeOp};
use pyo3::prelude::*;
use std::sync::Arc;

/// `Add`, `Subtract`, `Multiply`, `Average`, `Maximum` or `Minimum`, by `op` name.
#[pyfunction]
fn merge_layer(name: &str, op: &str) -> PyResult<PyLayer> {
    Ok(PyLayer {
        layer: Arc::new(Merge::new(name, MergeOp::parse(op)?)),
    })
}

#[pyfunction]
#[pyo3(signature = (name, axis=-1))]
fn concatenate_layer(name: &str, axis: isize) -> PyLayer {
    PyLayer {
        layer: Arc::new(Concatenate::new(name, axis)),
    }
}

/// `axes` is the pair of axes (an int `axes` passed as `(a, a)`).
#[pyfunction]
#[pyo3(signature = (name, axes, normalize=false))]
fn dot_layer(name: &str, axes: (isize, isize), normalize: bool) -> PyLayer {
    PyLayer {
        layer: Arc::new(Dot::new(name, [axes.0, axes.1], normalize)),
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(merge_layer, m)?)?;
    m.add_function(wrap_pyfunction!(concatenate_layer, m)?)?;
    m.add_function(wrap_pyfunction!(dot_layer, m)?)?;
    Ok(())
}
