//! Losses for Python: `NativeLoss` handles built from a Keras name and config, their
//! per-sample values and reduced values, and the reduction used by custom Python losses.
use super::handles::PyLoss;
use super::tensor::{to_tensor, PyTensor};
use crate::nn::losses::{self, Config, Param, Reduction};
use crate::tensor::Tensor;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyString};
use std::sync::Arc;

/// Converts a Python config dict (numbers, bools, strings, None, lists of numbers) into a
/// core `Config`.
pub(crate) fn to_config(owner: &str, config: Option<&Bound<'_, PyDict>>) -> PyResult<Config> {
    let mut out = Config::new();
    let Some(config) = config else {
        return Ok(out);
    };
    for (k, v) in config.iter() {
        let key: String = k.extract()?;
        let p = if v.is_none() {
            Param::None
        } else if v.is_instance_of::<PyBool>() {
            Param::Bool(v.extract()?)
        } else if v.is_instance_of::<PyInt>() {
            Param::Int(v.extract()?)
        } else if v.is_instance_of::<PyFloat>() {
            Param::Float(v.extract()?)
        } else if v.is_instance_of::<PyString>() {
            Param::Str(v.extract()?)
        } else if let Ok(list) = v.extract::<Vec<f64>>() {
            Param::List(list)
        } else if let Ok(x) = v.extract::<f64>() {
            Param::Float(x)
        } else {
            let arr = v
                .py()
                .import("numpy")?
                .call_method1("asarray", (&v, "float64"))?;
            match arr
                .call_method0("ravel")?
                .call_method0("tolist")?
                .extract::<Vec<f64>>()
            {
                Ok(list) if arr.getattr("ndim")?.extract::<usize>()? <= 1 => Param::List(list),
                _ => {
                    return Err(PyTypeError::new_err(format!(
                        "{owner}: argument '{key}' has an unsupported value {}",
                        v.repr()?
                    )))
                }
            }
        };
        out.insert(key, p);
    }
    Ok(out)
}

/// Labels keep their dtype (int64 class ids stay integers); predictions are float32.
pub(crate) fn inputs(
    y_true: &Bound<'_, PyAny>,
    y_pred: &Bound<'_, PyAny>,
    sample_weight: Option<&Bound<'_, PyAny>>,
) -> PyResult<(Tensor, Tensor, Option<Tensor>)> {
    Ok((
        to_tensor(y_true, None)?,
        to_tensor(y_pred, Some("float32"))?,
        sample_weight
            .filter(|w| !w.is_none())
            .map(|w| to_tensor(w, Some("float32")))
            .transpose()?,
    ))
}

fn reduction_arg(r: Option<&str>) -> PyResult<Reduction> {
    Ok(Reduction::parse(r.unwrap_or("none"))?)
}

/// A built-in loss from its Keras class name, function name or alias and its config.
#[pyfunction]
#[pyo3(signature = (identifier, config=None))]
fn make_loss(identifier: &str, config: Option<&Bound<'_, PyDict>>) -> PyResult<PyLoss> {
    let config = to_config(identifier, config)?;
    Ok(PyLoss {
        loss: Arc::from(losses::from_config(identifier, &config)?),
    })
}

#[pymethods]
impl PyLoss {
    #[getter(name)]
    fn loss_name(&self) -> String {
        self.loss.name().to_string()
    }

    #[getter(reduction)]
    fn loss_reduction(&self) -> &'static str {
        self.loss.reduction().name()
    }

    /// Per-sample values and the mask of counted samples (None unless `ignore_class`).
    fn values(
        &self,
        py: Python<'_>,
        y_true: &Bound<'_, PyAny>,
        y_pred: &Bound<'_, PyAny>,
    ) -> PyResult<(PyTensor, Option<PyTensor>)> {
        let (yt, yp, _) = inputs(y_true, y_pred, None)?;
        let loss = self.loss.clone();
        let (v, m) = py.detach(|| loss.call_masked(&yt, &yp))?;
        Ok((PyTensor::new(v), m.map(PyTensor::new)))
    }

    /// The weighted, reduced loss (differentiable in `y_pred`).
    #[pyo3(signature = (y_true, y_pred, sample_weight=None))]
    fn compute(
        &self,
        py: Python<'_>,
        y_true: &Bound<'_, PyAny>,
        y_pred: &Bound<'_, PyAny>,
        sample_weight: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<PyTensor> {
        let (yt, yp, w) = inputs(y_true, y_pred, sample_weight)?;
        let loss = self.loss.clone();
        Ok(PyTensor::new(py.detach(|| {
            losses::compute(&*loss, &yt, &yp, w.as_ref())
        })?))
    }

    fn __repr__(&self) -> String {
        format!(
            "<NativeLoss '{}' reduction={}>",
            self.loss.name(),
            self.loss.reduction().name()
        )
    }
}

/// Keras's `reduce_weighted_values` for per-sample values computed in Python.
#[pyfunction]
#[pyo3(signature = (values, sample_weight=None, mask=None, reduction=None))]
fn reduce_weighted(
    py: Python<'_>,
    values: &Bound<'_, PyAny>,
    sample_weight: Option<&Bound<'_, PyAny>>,
    mask: Option<&Bound<'_, PyAny>>,
    reduction: Option<&str>,
) -> PyResult<PyTensor> {
    let v = to_tensor(values, Some("float32"))?;
    let opt = |x: Option<&Bound<'_, PyAny>>| {
        x.filter(|w| !w.is_none())
            .map(|w| to_tensor(w, Some("float32")))
            .transpose()
    };
    let (w, m) = (opt(sample_weight)?, opt(mask)?);
    let r = reduction_arg(reduction)?;
    Ok(PyTensor::new(py.detach(|| {
        losses::reduce_weighted(&v, w.as_ref(), m.as_ref(), r)
    })?))
}

/// The Keras class name of a loss identifier, or None.
#[pyfunction]
fn loss_class_name(identifier: &str) -> Option<&'static str> {
    losses::class_name(identifier)
}

/// Keras's compile-time resolution of "crossentropy"/"ce" from the label and output shapes.
#[pyfunction]
fn resolve_loss_identifier(
    identifier: &str,
    y_true_shape: Vec<usize>,
    y_pred_shape: Vec<usize>,
) -> String {
    losses::resolve_identifier(identifier, &y_true_shape, &y_pred_shape).to_string()
}

/// Keras's `squeeze_or_expand_to_same_rank(x1, x2)` (differentiable reshapes).
#[pyfunction]
#[pyo3(signature = (x1, x2, expand_rank_1=true))]
fn squeeze_or_expand_to_same_rank(
    x1: &Bound<'_, PyAny>,
    x2: &Bound<'_, PyAny>,
    expand_rank_1: bool,
) -> PyResult<(PyTensor, PyTensor)> {
    let (a, b) = (to_tensor(x1, None)?, to_tensor(x2, None)?);
    let (a, b) = losses::squeeze_or_expand(&a, &b, expand_rank_1)?;
    Ok((PyTensor::new(a), PyTensor::new(b)))
}

/// Checks a reduction name (None -> "none") and returns Keras's spelling.
#[pyfunction]
#[pyo3(signature = (reduction=None))]
fn standardize_reduction(reduction: Option<&str>) -> PyResult<&'static str> {
    Ok(reduction_arg(reduction)?.name())
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(make_loss, m)?)?;
    m.add_function(wrap_pyfunction!(reduce_weighted, m)?)?;
    m.add_function(wrap_pyfunction!(loss_class_name, m)?)?;
    m.add_function(wrap_pyfunction!(resolve_loss_identifier, m)?)?;
    m.add_function(wrap_pyfunction!(standardize_reduction, m)?)?;
    m.add_function(wrap_pyfunction!(squeeze_or_expand_to_same_rank, m)?)?;
    Ok(())
}
