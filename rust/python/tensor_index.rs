//! Tensor indexing (`x[...]` with numpy's rules) and the shape and reduction methods
//! (`x.T`, `x.reshape`, `x.transpose`, `x.sum`, ...).
use super::ops_shape::{axes_arg, indices_arg, reduce_op};
use super::tensor::{to_tensor, PyTensor};
use crate::ops::{self, Extreme, Index};
use crate::tensor::DType;
use pyo3::exceptions::{PyIndexError, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyEllipsis, PySlice, PyTuple};

const VALID: &str = "only integers, slices (`:`), ellipsis (`...`), None (`newaxis`) and integer or boolean arrays are valid indices";

/// An optional slice bound (None or an int-like).
fn bound(v: Bound<'_, PyAny>) -> PyResult<Option<isize>> {
    if v.is_none() {
        return Ok(None);
    }
    v.extract::<isize>()
        .map(Some)
        .map_err(|_| PyTypeError::new_err("getitem: slice indices must be integers or None"))
}

/// An index array: int64 positions, or a 1-D boolean mask.
fn index_array(k: &Bound<'_, PyAny>) -> PyResult<Index> {
    let py = k.py();
    if !k.is_instance_of::<PyTensor>() {
        let np = py.import("numpy")?;
        let arr = np.call_method1("asarray", (k,))?;
        if arr.getattr("dtype")?.getattr("kind")?.extract::<String>()? == "b" {
            if arr.getattr("ndim")?.extract::<usize>()? != 1 {
                return Err(PyIndexError::new_err(
                    "getitem: boolean masks inside an index must be 1-D (a mask over several axes must be the whole index)",
                ));
            }
            return Ok(Index::Mask(arr.call_method0("tolist")?.extract()?));
        }
    }
    let t = indices_arg(k)?;
    if t.dtype() != DType::I64 {
        return Err(PyIndexError::new_err(format!(
            "getitem: {VALID}; got an array of dtype {}",
            t.dtype().name()
        )));
    }
    Ok(Index::Array(t))
}

fn index_item(k: &Bound<'_, PyAny>) -> PyResult<Index> {
    if k.is_none() {
        return Ok(Index::NewAxis);
    }
    if k.is_instance_of::<PyEllipsis>() {
        return Ok(Index::Ellipsis);
    }
    if let Ok(s) = k.cast::<PySlice>() {
        return Ok(Index::slice(
            bound(s.getattr("start")?)?,
            bound(s.getattr("stop")?)?,
            bound(s.getattr("step")?)?,
        ));
    }
    if k.is_instance_of::<PyBool>() {
        return Err(PyIndexError::new_err(format!(
            "getitem: boolean scalars are not supported as indices; {VALID}"
        )));
    }
    if let Ok(i) = k.extract::<isize>() {
        return Ok(Index::Int(i));
    }
    if k.is_instance_of::<pyo3::types::PyFloat>() {
        return Err(PyIndexError::new_err(format!(
            "getitem: {VALID}; got a float"
        )));
    }
    index_array(k)
}

/// A mask of the tensor's leading axes as the whole key: `x[mask]` selects the rows where
/// the mask is true (the masked axes flattened into one).
fn whole_mask(x: &PyTensor, key: &Bound<'_, PyAny>) -> PyResult<Option<(usize, PyTensor)>> {
    let py = key.py();
    if key.is_instance_of::<PyTensor>() || key.is_instance_of::<PyTuple>() {
        return Ok(None);
    }
    if !key.hasattr("dtype")? {
        return Ok(None);
    }
    let np = py.import("numpy")?;
    let arr = np.call_method1("asarray", (key,))?;
    let kind: String = arr.getattr("dtype")?.getattr("kind")?.extract()?;
    let shape: Vec<usize> = arr.getattr("shape")?.extract()?;
    if kind != "b" || shape.len() < 2 {
        return Ok(None);
    }
    let xs = x.t.shape();
    if shape.len() > xs.len() || shape[..] != xs[..shape.len()] {
        return Err(PyIndexError::new_err(format!(
            "getitem: a boolean mask of shape {shape:?} does not match the leading axes of the tensor of shape {xs:?}"
        )));
    }
    let nz = np.call_method1("flatnonzero", (arr,))?;
    Ok(Some((
        shape.len(),
        PyTensor::new(to_tensor(&nz, Some("int64"))?),
    )))
}

#[pymethods]
impl PyTensor {
    /// numpy indexing: ints, slices (negative steps too), None, Ellipsis, and one integer
    /// or boolean array; views where the layout allows.
    fn __getitem__(&self, py: Python<'_>, key: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        let x = self.t.clone();
        if let Some((k, idx)) = whole_mask(self, key)? {
            let idx = idx.t;
            return Ok(PyTensor::new(py.detach(|| {
                let n: usize = x.shape()[..k].iter().product();
                let shape: Vec<usize> = std::iter::once(n)
                    .chain(x.shape()[k..].iter().copied())
                    .collect();
                ops::take(&ops::reshape(&x, &shape)?, &idx, Some(0))
            })?));
        }
        let items = match key.cast::<PyTuple>() {
            Ok(t) => t
                .iter()
                .map(|k| index_item(&k))
                .collect::<PyResult<Vec<_>>>()?,
            Err(_) => vec![index_item(key)?],
        };
        Ok(PyTensor::new(py.detach(|| ops::getitem(&x, &items))?))
    }

    /// The tensor with its axes reversed.
    #[getter(T)]
    fn transposed(&self, py: Python<'_>) -> PyResult<PyTensor> {
        let x = self.t.clone();
        Ok(PyTensor::new(py.detach(|| ops::transpose(&x, None))?))
    }

    /// `x.reshape(2, 3)` or `x.reshape((2, 3))`; one entry may be -1.
    #[pyo3(signature = (*shape))]
    fn reshape(&self, py: Python<'_>, shape: &Bound<'_, PyTuple>) -> PyResult<PyTensor> {
        let dims: Vec<isize> = match shape.len() {
            1 if shape.get_item(0)?.extract::<isize>().is_err() => shape.get_item(0)?.extract()?,
            _ => shape.extract()?,
        };
        let x = self.t.clone();
        Ok(PyTensor::new(py.detach(|| ops::reshape_infer(&x, &dims))?))
    }

    /// `x.transpose()`, `x.transpose(1, 0, 2)` or `x.transpose((1, 0, 2))`.
    #[pyo3(signature = (*axes))]
    fn transpose(&self, py: Python<'_>, axes: &Bound<'_, PyTuple>) -> PyResult<PyTensor> {
        let axes: Option<Vec<isize>> = match axes.len() {
            0 => None,
            1 => axes_arg("transpose", Some(&axes.get_item(0)?))?,
            _ => Some(axes.extract()?),
        };
        let x = self.t.clone();
        Ok(PyTensor::new(
            py.detach(|| ops::transpose(&x, axes.as_deref()))?,
        ))
    }

    #[pyo3(signature = (axis=None, keepdims=false))]
    fn sum(
        slf: &Bound<'_, Self>,
        axis: Option<&Bound<'_, PyAny>>,
        keepdims: bool,
    ) -> PyResult<PyTensor> {
        reduce_op(slf.py(), "sum", slf.as_any(), axis, true, |t, a| {
            ops::sum(t, a, keepdims)
        })
    }

    #[pyo3(signature = (axis=None, keepdims=false))]
    fn mean(
        slf: &Bound<'_, Self>,
        axis: Option<&Bound<'_, PyAny>>,
        keepdims: bool,
    ) -> PyResult<PyTensor> {
        reduce_op(slf.py(), "mean", slf.as_any(), axis, false, |t, a| {
            ops::mean(t, a, keepdims)
        })
    }

    #[pyo3(signature = (axis=None, keepdims=false))]
    fn max(
        slf: &Bound<'_, Self>,
        axis: Option<&Bound<'_, PyAny>>,
        keepdims: bool,
    ) -> PyResult<PyTensor> {
        reduce_op(slf.py(), "max", slf.as_any(), axis, true, |t, a| {
            ops::extremum(t, a, keepdims, None, Extreme::Max)
        })
    }

    #[pyo3(signature = (axis=None, keepdims=false))]
    fn min(
        slf: &Bound<'_, Self>,
        axis: Option<&Bound<'_, PyAny>>,
        keepdims: bool,
    ) -> PyResult<PyTensor> {
        reduce_op(slf.py(), "min", slf.as_any(), axis, true, |t, a| {
            ops::extremum(t, a, keepdims, None, Extreme::Min)
        })
    }
}
