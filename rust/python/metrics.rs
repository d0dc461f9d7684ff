//! Metrics for Python: `NativeMetric` accumulators built from a Keras name and config,
//! stateless metric functions, and the compile-time resolution of "accuracy".
use super::handles::PyMetric;
use super::losses::{inputs, to_config};
use super::tensor::{to_tensor, PyTensor};
use crate::nn::metrics;
use parking_lot::Mutex;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use std::sync::Arc;

/// A built-in metric from its Keras class name, snake_case name or alias and its config.
#[pyfunction]
#[pyo3(signature = (identifier, config=None))]
fn make_metric(identifier: &str, config: Option<&Bound<'_, PyDict>>) -> PyResult<PyMetric> {
    let config = to_config(identifier, config)?;
    Ok(PyMetric {
        metric: Arc::new(Mutex::new(metrics::from_config(identifier, &config)?)),
    })
}

/// `MeanMetricWrapper` over a built-in metric or loss function (see `metric_values`).
#[pyfunction]
#[pyo3(signature = (name, function, config=None))]
fn make_mean_metric(
    name: &str,
    function: &str,
    config: Option<&Bound<'_, PyDict>>,
) -> PyResult<PyMetric> {
    let config = to_config(function, config)?;
    Ok(PyMetric {
        metric: Arc::new(Mutex::new(metrics::mean_of(name, function, &config)?)),
    })
}

#[pymethods]
impl PyMetric {
    #[getter(name)]
    fn metric_name(&self) -> String {
        self.metric.lock().name().to_string()
    }

    /// Accumulates a batch (for `Mean`/`Sum`, the values are read from `y_pred`).
    #[pyo3(signature = (y_true, y_pred, sample_weight=None))]
    fn update(
        &self,
        py: Python<'_>,
        y_true: &Bound<'_, PyAny>,
        y_pred: &Bound<'_, PyAny>,
        sample_weight: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        let (yt, yp, w) = inputs(y_true, y_pred, sample_weight)?;
        let m = self.metric.clone();
        Ok(py.detach(|| m.lock().update(&yt, &yp, w.as_ref()))?)
    }

    fn result(&self, py: Python<'_>) -> PyResult<PyTensor> {
        let m = self.metric.clone();
        Ok(PyTensor::new(py.detach(|| m.lock().result())?))
    }

    fn reset(&self) {
        self.metric.lock().reset()
    }

    fn __repr__(&self) -> String {
        format!("<NativeMetric '{}'>", self.metric.lock().name())
    }
}

/// Per-sample values of a stateless metric function (`binary_accuracy`, ...).
#[pyfunction]
#[pyo3(signature = (name, y_true, y_pred, config=None))]
fn metric_values(
    py: Python<'_>,
    name: &str,
    y_true: &Bound<'_, PyAny>,
    y_pred: &Bound<'_, PyAny>,
    config: Option<&Bound<'_, PyDict>>,
) -> PyResult<PyTensor> {
    let f = metrics::function(name, &to_config(name, config)?)?;
    let yt = to_tensor(y_true, None)?;
    let yp = to_tensor(y_pred, None)?;
    Ok(PyTensor::new(py.detach(|| f.compute(&yt, &yp))?))
}

/// The metric class for "accuracy"/"acc"/"crossentropy"/"ce" (None for other identifiers).
#[pyfunction]
#[pyo3(signature = (identifier, loss=None, y_true_shape=None, y_pred_shape=None))]
fn resolve_metric_class(
    identifier: &str,
    loss: Option<&str>,
    y_true_shape: Option<Vec<usize>>,
    y_pred_shape: Option<Vec<usize>>,
) -> Option<&'static str> {
    metrics::resolve_class(
        identifier,
        loss,
        y_true_shape.as_deref(),
        y_pred_shape.as_deref(),
    )
}

/// The Keras class name of a metric identifier, or None.
#[pyfunction]
fn metric_class_name(identifier: &str) -> Option<&'static str> {
    metrics::class_name(identifier)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(make_metric, m)?)?;
    m.add_function(wrap_pyfunction!(make_mean_metric, m)?)?;
    m.add_function(wrap_pyfunction!(metric_values, m)?)?;
    m.add_function(wrap_pyfunction!(resolve_metric_class, m)?)?;
    m.add_function(wrap_pyfunction!(metric_class_name, m)?)?;
    Ok(())
}
