//! The eager driver's autograd entry points: gradients, watching, and no_grad.
use super::tensor::{to_tensor, PyTensor, PyVariable};
use crate::autograd::{self, NoGrad};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;

/// Gradients of `target` with respect to each source (a Variable or a watched Tensor);
/// None for sources the target does not depend on.
#[pyfunction]
#[pyo3(signature = (target, sources, output_gradients=None))]
fn gradient(
    py: Python<'_>,
    target: &Bound<'_, PyAny>,
    sources: Vec<Bound<'_, PyAny>>,
    output_gradients: Option<&Bound<'_, PyAny>>,
) -> PyResult<Vec<Option<PyTensor>>> {
    let target = match target.cast::<PyTensor>() {
        Ok(t) => t.get().t.clone(),
        Err(_) => {
            return Err(PyTypeError::new_err(
                "gradient: the target must be an ember.Tensor computed from the sources",
            ))
        }
    };
    let seed = output_gradients
        .map(|g| to_tensor(g, Some("float32")))
        .transpose()?;
    let mut ids = Vec::with_capacity(sources.len());
    for s in &sources {
        if let Ok(v) = s.cast::<PyVariable>() {
            ids.push(Some(v.get().v.id()));
        } else if let Ok(t) = s.cast::<PyTensor>() {
            ids.push(t.get().t.node().map(|n| n.id()));
        } else {
            return Err(PyTypeError::new_err(format!(
                "gradient: sources must be ember Variables or Tensors, got {}",
                s.get_type().name()?
            )));
        }
    }
    if target.node().is_none() {
        return Ok(sources.iter().map(|_| None).collect());
    }
    let keep: Vec<u64> = ids.iter().flatten().copied().collect();
    let grads = py.detach(|| autograd::grad(&target, seed.as_ref(), &keep))?;
    Ok(ids
        .iter()
        .map(|id| id.and_then(|id| grads.get(&id).cloned()).map(PyTensor::new))
        .collect())
}

/// A new autograd leaf with the values of `x`.
#[pyfunction]
fn watch(x: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
    Ok(PyTensor::new(autograd::watch(&to_tensor(x, None)?)))
}

/// `with ember.no_grad():` records nothing inside.
#[pyclass(name = "no_grad", module = "ember", unsendable)]
struct PyNoGrad {
    guard: Option<NoGrad>,
}

#[pymethods]
impl PyNoGrad {
    #[new]
    fn new() -> Self {
        PyNoGrad { guard: None }
    }

    fn __enter__(mut slf: PyRefMut<'_, Self>) -> PyRefMut<'_, Self> {
        slf.guard = Some(NoGrad::new());
        slf
    }

    fn __exit__(
        &mut self,
        _a: Option<Bound<'_, PyAny>>,
        _b: Option<Bound<'_, PyAny>>,
        _c: Option<Bound<'_, PyAny>>,
    ) {
        self.guard = None;
    }
}

#[pyfunction]
fn is_grad_enabled() -> bool {
    autograd::is_grad_enabled()
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(gradient, m)?)?;
    m.add_function(wrap_pyfunction!(watch, m)?)?;
    m.add_function(wrap_pyfunction!(is_grad_enabled, m)?)?;
    m.add_class::<PyNoGrad>()?;
    Ok(())
}
