//! Python handles over the core's trait objects. Factories that build them live beside
//! each family (layers.rs, losses.rs, metrics.rs, optimizers.rs).
use super::tensor::{PyTensor, PyVariable};
use crate::nn::losses::Loss;
use crate::nn::metrics::Metric;
use crate::nn::Layer;
use crate::optim::Optimizer;
use parking_lot::Mutex;
use pyo3::prelude::*;
use std::sync::Arc;

/// A built-in layer's core object.
#[pyclass(name = "NativeLayer", module = "ember._native", frozen)]
pub struct PyLayer {
    pub layer: Arc<dyn Layer>,
}

#[pymethods]
impl PyLayer {
    fn variables(&self) -> Vec<PyVariable> {
        self.layer
            .variables()
            .into_iter()
            .map(|v| PyVariable { v })
            .collect()
    }

    /// The layer's weight penalty (regularizers) as a scalar tensor, or None.
    fn regularization(&self, py: Python<'_>) -> PyResult<Option<PyTensor>> {
        let layer = self.layer.clone();
        Ok(py.detach(|| layer.regularization())?.map(PyTensor::new))
    }

    #[getter]
    fn name(&self) -> String {
        self.layer.name().to_string()
    }
}

/// A loss function's core object.
#[pyclass(name = "NativeLoss", module = "ember._native", frozen)]
pub struct PyLoss {
    pub loss: Arc<dyn Loss>,
}

/// A stateful metric's core object.
#[pyclass(name = "NativeMetric", module = "ember._native", frozen)]
pub struct PyMetric {
    pub metric: Arc<Mutex<Box<dyn Metric>>>,
}

/// An optimizer's core object (its state lives in Rust).
#[pyclass(name = "NativeOptimizer", module = "ember._native", frozen)]
pub struct PyOptimizer {
    pub opt: Arc<Mutex<Box<dyn Optimizer>>>,
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyLayer>()?;
    m.add_class::<PyLoss>()?;
    m.add_class::<PyMetric>()?;
    m.add_class::<PyOptimizer>()?;
    Ok(())
}
