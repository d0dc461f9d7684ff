//! Reductions, shape ops and gathers for `ember.ops` (keras.ops names and arguments).
//! Inputs are any array-likes; compute runs with the GIL released.
use super::tensor::{to_tensor, PyTensor};
use crate::error::Result;
use crate::ops::{self, Extreme, PadMode, Split};
use crate::tensor::{DType, Tensor};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;

/// `axis` as None, an int, or a sequence of ints.
pub(super) fn axes_arg(op: &str, axis: Option<&Bound<'_, PyAny>>) -> PyResult<Option<Vec<isize>>> {
    let Some(a) = axis.filter(|a| !a.is_none()) else {
        return Ok(None);
    };
    if let Ok(i) = a.extract::<isize>() {
        return Ok(Some(vec![i]));
    }
    a.extract::<Vec<isize>>().map(Some).map_err(|_| {
        PyTypeError::new_err(format!(
            "{op}: axis must be None, an int or a tuple of ints, got {}",
            a.repr().map(|r| r.to_string()).unwrap_or_default()
        ))
    })
}

/// An int or a sequence of ints (shapes, repeats, positions).
fn ints_arg(op: &str, what: &str, v: &Bound<'_, PyAny>) -> PyResult<Vec<isize>> {
    if let Ok(i) = v.extract::<isize>() {
        return Ok(vec![i]);
    }
    v.extract::<Vec<isize>>().map_err(|_| {
        PyTypeError::new_err(format!(
            "{op}: {what} must be an int or a sequence of ints, got {}",
            v.repr().map(|r| r.to_string()).unwrap_or_default()
        ))
    })
}

/// Non-negative ints, or a ValueError naming the op and the values.
fn counts_arg(op: &str, what: &str, v: &Bound<'_, PyAny>) -> PyResult<Vec<usize>> {
    let v = ints_arg(op, what, v)?;
    if v.iter().any(|&r| r < 0) {
        return Err(PyValueError::new_err(format!(
            "{op}: {what} must be non-negative, got {v:?}"
        )));
    }
    Ok(v.into_iter().map(|r| r as usize).collect())
}

/// Runs a reduction `f(x, axes)` on any array-like: int64 inputs are reduced in float32
/// and, where `int_result`, converted back (exact up to 2**24, as float32 is).
pub(super) fn reduce_op(
    py: Python<'_>,
    op: &str,
    x: &Bound<'_, PyAny>,
    axis: Option<&Bound<'_, PyAny>>,
    int_result: bool,
    f: impl FnOnce(&Tensor, Option<&[isize]>) -> Result<Tensor> + Send,
) -> PyResult<PyTensor> {
    let t = to_tensor(x, None)?;
    let axes = axes_arg(op, axis)?;
    let out = py.detach(|| -> Result<Tensor> {
        let is_int = t.dtype() == DType::I64;
        let xf = if is_int {
            ops::cast(&t, DType::F32)?
        } else {
            t
        };
        let y = f(&xf, axes.as_deref())?;
        if is_int && int_result {
            ops::cast(&y, DType::I64)
        } else {
            Ok(y)
        }
    })?;
    Ok(PyTensor::new(out))
}

/// Index arrays: integers as int64; an empty list (which numpy makes float) as int64 too.
pub(super) fn indices_arg(obj: &Bound<'_, PyAny>) -> PyResult<Tensor> {
    let t = to_tensor(obj, None)?;
    if t.dtype() == DType::F32 && t.numel() == 0 {
        return Ok(ops::cast(&t, DType::I64)?);
    }
    Ok(t)
}

/// Runs `f` on one converted tensor with the GIL released.
fn unary(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    f: impl FnOnce(&Tensor) -> Result<Tensor> + Send,
) -> PyResult<PyTensor> {
    let t = to_tensor(x, None)?;
    Ok(PyTensor::new(py.detach(|| f(&t))?))
}

/// Converts a list of array-likes, promoting to float32 when the dtypes are mixed.
fn tensor_list(xs: &Bound<'_, PyAny>, op: &str) -> PyResult<Vec<Tensor>> {
    let items: Vec<Bound<'_, PyAny>> = xs
        .extract()
        .map_err(|_| PyTypeError::new_err(format!("{op}: expected a list or tuple of tensors")))?;
    let ts = items
        .iter()
        .map(|x| to_tensor(x, None))
        .collect::<PyResult<Vec<_>>>()?;
    if ts.iter().any(|t| t.dtype() == DType::F32) {
        return Ok(ts
            .iter()
            .map(|t| ops::cast(t, DType::F32))
            .collect::<Result<_>>()?);
    }
    Ok(ts)
}

macro_rules! reduction {
    ($name:ident, $py_name:literal, $f:path, $int_result:expr) => {
        #[pyfunction]
        #[pyo3(name = $py_name, signature = (x, axis=None, keepdims=false))]
        fn $name(
            py: Python<'_>,
            x: &Bound<'_, PyAny>,
            axis: Option<&Bound<'_, PyAny>>,
            keepdims: bool,
        ) -> PyResult<PyTensor> {
            reduce_op(py, $py_name, x, axis, $int_result, |t, a| {
                $f(t, a, keepdims)
            })
        }
    };
}

reduction!(reduce_sum, "sum", ops::sum, true);
reduction!(reduce_mean, "mean", ops::mean, false);
reduction!(reduce_prod, "prod", ops::prod, true);
reduction!(reduce_var, "var", ops::var, false);
reduction!(reduce_std, "std", ops::std, false);
reduction!(reduce_logsumexp, "logsumexp", ops::logsumexp, false);
reduction!(reduce_any, "any", ops::any, false);
reduction!(reduce_all, "all", ops::all, false);

fn extremum_op(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    axis: Option<&Bound<'_, PyAny>>,
    keepdims: bool,
    initial: Option<f32>,
    kind: Extreme,
) -> PyResult<PyTensor> {
    let op = if kind == Extreme::Max { "max" } else { "min" };
    reduce_op(py, op, x, axis, true, |t, a| {
        ops::extremum(t, a, keepdims, initial, kind)
    })
}

#[pyfunction]
#[pyo3(signature = (x, axis=None, keepdims=false, initial=None))]
fn max(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    axis: Option<&Bound<'_, PyAny>>,
    keepdims: bool,
    initial: Option<f32>,
) -> PyResult<PyTensor> {
    extremum_op(py, x, axis, keepdims, initial, Extreme::Max)
}

#[pyfunction]
#[pyo3(signature = (x, axis=None, keepdims=false, initial=None))]
fn min(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    axis: Option<&Bound<'_, PyAny>>,
    keepdims: bool,
    initial: Option<f32>,
) -> PyResult<PyTensor> {
    extremum_op(py, x, axis, keepdims, initial, Extreme::Min)
}

#[pyfunction]
#[pyo3(signature = (x, axis=None, keepdims=false))]
fn argmax(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    axis: Option<isize>,
    keepdims: bool,
) -> PyResult<PyTensor> {
    let t = to_tensor(x, Some("float32"))?;
    Ok(PyTensor::new(
        py.detach(|| ops::argmax(&t, axis, keepdims))?,
    ))
}

#[pyfunction]
#[pyo3(signature = (x, axis=None, keepdims=false))]
fn argmin(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    axis: Option<isize>,
    keepdims: bool,
) -> PyResult<PyTensor> {
    let t = to_tensor(x, Some("float32"))?;
    Ok(PyTensor::new(
        py.detach(|| ops::argmin(&t, axis, keepdims))?,
    ))
}

#[pyfunction]
fn reshape(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    newshape: &Bound<'_, PyAny>,
) -> PyResult<PyTensor> {
    let shape = ints_arg("reshape", "newshape", newshape)?;
    unary(py, x, |t| ops::reshape_infer(t, &shape))
}

#[pyfunction]
#[pyo3(signature = (x, axes=None))]
fn transpose(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    axes: Option<&Bound<'_, PyAny>>,
) -> PyResult<PyTensor> {
    let axes = axes_arg("transpose", axes)?;
    unary(py, x, |t| ops::transpose(t, axes.as_deref()))
}

#[pyfunction]
fn expand_dims(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    axis: &Bound<'_, PyAny>,
) -> PyResult<PyTensor> {
    let axes = ints_arg("expand_dims", "axis", axis)?;
    unary(py, x, |t| ops::expand_dims(t, &axes))
}

#[pyfunction]
#[pyo3(signature = (x, axis=None))]
fn squeeze(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    axis: Option<&Bound<'_, PyAny>>,
) -> PyResult<PyTensor> {
    let axes = axes_arg("squeeze", axis)?;
    unary(py, x, |t| ops::squeeze(t, axes.as_deref()))
}

#[pyfunction]
fn broadcast_to(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    shape: &Bound<'_, PyAny>,
) -> PyResult<PyTensor> {
    let shape = counts_arg("broadcast_to", "shape", shape)?;
    unary(py, x, |t| ops::broadcast_to(t, &shape))
}

#[pyfunction]
fn ravel(py: Python<'_>, x: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
    unary(py, x, ops::flatten)
}

#[pyfunction]
fn swapaxes(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    axis1: isize,
    axis2: isize,
) -> PyResult<PyTensor> {
    unary(py, x, |t| ops::swapaxes(t, axis1, axis2))
}

#[pyfunction]
fn moveaxis(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    source: &Bound<'_, PyAny>,
    destination: &Bound<'_, PyAny>,
) -> PyResult<PyTensor> {
    let src = ints_arg("moveaxis", "source", source)?;
    let dst = ints_arg("moveaxis", "destination", destination)?;
    unary(py, x, |t| ops::moveaxis(t, &src, &dst))
}

#[pyfunction]
#[pyo3(signature = (x, axis=None))]
fn flip(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    axis: Option<&Bound<'_, PyAny>>,
) -> PyResult<PyTensor> {
    let axes = axes_arg("flip", axis)?;
    unary(py, x, |t| ops::flip(t, axes.as_deref()))
}

#[pyfunction]
#[pyo3(signature = (xs, axis=0))]
fn concatenate(py: Python<'_>, xs: &Bound<'_, PyAny>, axis: isize) -> PyResult<PyTensor> {
    let ts = tensor_list(xs, "concatenate")?;
    Ok(PyTensor::new(py.detach(|| ops::concatenate(&ts, axis))?))
}

#[pyfunction]
#[pyo3(signature = (x, axis=0))]
fn stack(py: Python<'_>, x: &Bound<'_, PyAny>, axis: isize) -> PyResult<PyTensor> {
    let ts = tensor_list(x, "stack")?;
    Ok(PyTensor::new(py.detach(|| ops::stack(&ts, axis))?))
}

#[pyfunction]
#[pyo3(signature = (x, indices_or_sections, axis=0))]
fn split(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    indices_or_sections: &Bound<'_, PyAny>,
    axis: isize,
) -> PyResult<Vec<PyTensor>> {
    let how = match indices_or_sections.extract::<isize>() {
        Ok(k) if k <= 0 => {
            return Err(PyValueError::new_err(format!(
                "split: the number of sections must be at least 1, got {k}"
            )))
        }
        Ok(k) => Split::Sections(k as usize),
        Err(_) => Split::Indices(ints_arg(
            "split",
            "indices_or_sections",
            indices_or_sections,
        )?),
    };
    let t = to_tensor(x, None)?;
    let parts = py.detach(|| ops::split(&t, &how, axis))?;
    Ok(parts.into_iter().map(PyTensor::new).collect())
}

#[pyfunction]
#[pyo3(signature = (x, indices, axis=None))]
fn take(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    indices: &Bound<'_, PyAny>,
    axis: Option<isize>,
) -> PyResult<PyTensor> {
    let idx = indices_arg(indices)?;
    unary(py, x, |t| ops::take(t, &idx, axis))
}

#[pyfunction]
#[pyo3(signature = (x, indices, axis=None))]
fn take_along_axis(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    indices: &Bound<'_, PyAny>,
    axis: Option<isize>,
) -> PyResult<PyTensor> {
    let idx = indices_arg(indices)?;
    unary(py, x, |t| ops::take_along_axis(t, &idx, axis))
}

#[pyfunction]
#[pyo3(signature = (x, num_classes, axis=-1))]
fn one_hot(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    num_classes: isize,
    axis: isize,
) -> PyResult<PyTensor> {
    if num_classes < 0 {
        return Err(PyValueError::new_err(format!(
            "one_hot: num_classes must be non-negative, got {num_classes}"
        )));
    }
    unary(py, x, |t| ops::one_hot(t, num_classes as usize, axis))
}

/// `pad_width` arrives normalised to one `(before, after)` pair per axis.
#[pyfunction]
#[pyo3(signature = (x, pad_width, mode="constant", constant_values=0.0))]
fn pad(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    pad_width: Vec<(usize, usize)>,
    mode: &str,
    constant_values: f32,
) -> PyResult<PyTensor> {
    let mode = PadMode::parse(mode)?;
    unary(py, x, |t| ops::pad(t, &pad_width, mode, constant_values))
}

#[pyfunction]
fn tile(py: Python<'_>, x: &Bound<'_, PyAny>, repeats: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
    let reps = counts_arg("tile", "repeats", repeats)?;
    unary(py, x, |t| ops::tile(t, &reps))
}

#[pyfunction]
#[pyo3(signature = (x, repeats, axis=None))]
fn repeat(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    repeats: &Bound<'_, PyAny>,
    axis: Option<isize>,
) -> PyResult<PyTensor> {
    let reps = counts_arg("repeat", "repeats", repeats)?;
    unary(py, x, |t| ops::repeat(t, &reps, axis))
}

#[pyfunction]
fn slice(
    py: Python<'_>,
    inputs: &Bound<'_, PyAny>,
    start_indices: &Bound<'_, PyAny>,
    shape: &Bound<'_, PyAny>,
) -> PyResult<PyTensor> {
    let start = counts_arg("slice", "start_indices", start_indices)?;
    let shape = ints_arg("slice", "shape", shape)?;
    unary(py, inputs, |t| ops::slice(t, &start, &shape))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    for f in [
        wrap_pyfunction!(reduce_sum, m)?,
        wrap_pyfunction!(reduce_mean, m)?,
        wrap_pyfunction!(max, m)?,
        wrap_pyfunction!(min, m)?,
        wrap_pyfunction!(reduce_prod, m)?,
        wrap_pyfunction!(reduce_var, m)?,
        wrap_pyfunction!(reduce_std, m)?,
        wrap_pyfunction!(argmax, m)?,
        wrap_pyfunction!(argmin, m)?,
        wrap_pyfunction!(reduce_logsumexp, m)?,
        wrap_pyfunction!(reduce_any, m)?,
        wrap_pyfunction!(reduce_all, m)?,
        wrap_pyfunction!(reshape, m)?,
        wrap_pyfunction!(transpose, m)?,
        wrap_pyfunction!(expand_dims, m)?,
        wrap_pyfunction!(squeeze, m)?,
        wrap_pyfunction!(broadcast_to, m)?,
        wrap_pyfunction!(ravel, m)?,
        wrap_pyfunction!(swapaxes, m)?,
        wrap_pyfunction!(moveaxis, m)?,
        wrap_pyfunction!(flip, m)?,
        wrap_pyfunction!(concatenate, m)?,
        wrap_pyfunction!(stack, m)?,
        wrap_pyfunction!(split, m)?,
        wrap_pyfunction!(take, m)?,
        wrap_pyfunction!(take_along_axis, m)?,
        wrap_pyfunction!(one_hot, m)?,
        wrap_pyfunction!(pad, m)?,
        wrap_pyfunction!(tile, m)?,
        wrap_pyfunction!(repeat, m)?,
        wrap_pyfunction!(slice, m)?,
    ] {
        m.add_function(f)?;
    }
    Ok(())
}
