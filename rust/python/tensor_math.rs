//! More Tensor operators: `**`, `abs()`, and elementwise comparisons. Comparisons give
//! int64 0/1 tensors (ember has no bool dtype); since `==` is elementwise, tensors hash
//! by identity.
use super::tensor::{to_tensor, PyTensor};
use crate::error::Result;
use crate::ops;
use crate::tensor::{DType, Tensor};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyFloat, PyInt};

impl PyTensor {
    /// `f(self, other)` with the GIL released; NotImplemented when `other` is not
    /// array-like, so Python can try the reflected operation.
    fn compare(
        &self,
        py: Python<'_>,
        other: &Bound<'_, PyAny>,
        f: fn(&Tensor, &Tensor) -> Result<Tensor>,
    ) -> PyResult<Py<PyAny>> {
        let b = match to_tensor(other, None) {
            Ok(b) => b,
            Err(e) if e.is_instance_of::<PyTypeError>(py) => return Ok(py.NotImplemented()),
            Err(e) => return Err(e),
        };
        let a = self.t.clone();
        let out = py.detach(|| f(&a, &b))?;
        Ok(Py::new(py, PyTensor::new(out))?.into_any())
    }

    fn as_float(&self) -> Result<Tensor> {
        ops::cast(&self.t, DType::F32)
    }
}

#[pymethods]
impl PyTensor {
    /// `self ** other`: a scalar exponent takes the fast path, a tensor broadcasts.
    fn __pow__(
        &self,
        py: Python<'_>,
        other: &Bound<'_, PyAny>,
        modulo: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<PyTensor> {
        if modulo.is_some_and(|m| !m.is_none()) {
            return Err(PyTypeError::new_err(
                "pow: a modulo argument is not supported for tensors",
            ));
        }
        let x = self.as_float()?;
        if other.is_instance_of::<PyFloat>() || other.is_instance_of::<PyInt>() {
            let p: f32 = other.extract()?;
            return Ok(PyTensor::new(py.detach(|| ops::power_scalar(&x, p))?));
        }
        let e = to_tensor(other, Some("float32"))?;
        Ok(PyTensor::new(py.detach(|| ops::power(&x, &e))?))
    }

    /// `other ** self`.
    fn __rpow__(
        &self,
        py: Python<'_>,
        other: &Bound<'_, PyAny>,
        modulo: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<PyTensor> {
        if modulo.is_some_and(|m| !m.is_none()) {
            return Err(PyTypeError::new_err(
                "pow: a modulo argument is not supported for tensors",
            ));
        }
        let (b, e) = (to_tensor(other, Some("float32"))?, self.as_float()?);
        Ok(PyTensor::new(py.detach(|| ops::power(&b, &e))?))
    }

    fn __abs__(&self, py: Python<'_>) -> PyResult<PyTensor> {
        let x = self.as_float()?;
        Ok(PyTensor::new(py.detach(|| ops::abs(&x))?))
    }

    fn __lt__(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.compare(py, other, ops::less)
    }

    fn __le__(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.compare(py, other, ops::less_equal)
    }

    fn __gt__(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.compare(py, other, ops::greater)
    }

    fn __ge__(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.compare(py, other, ops::greater_equal)
    }

    fn __eq__(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.compare(py, other, ops::equal)
    }

    fn __ne__(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.compare(py, other, ops::not_equal)
    }

    /// Identity hash (as torch.Tensor): `==` is elementwise, so value hashing is not
    /// meaningful, but tensors can still be dict keys and set members.
    fn __hash__(slf: &Bound<'_, Self>) -> isize {
        slf.as_ptr() as isize
    }
}
