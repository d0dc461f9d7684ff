//! `ember.Tensor` and `ember.Variable` over the core types, and numpy conversion both ways.
use crate::autograd::{self, Variable};
use crate::error::Result;
use crate::ops;
use crate::tensor::{CpuBuffer, DType, HostVec, Tensor};
use numpy::{PyArray1, PyArrayDyn, PyArrayMethods, PyReadonlyArrayDyn, PyUntypedArrayMethods};
use pyo3::exceptions::{PyRuntimeError, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::PyAny;
use std::any::Any;
use std::sync::Arc;

/// An n-dimensional float32 or int64 tensor. Converts to and from numpy arrays.
#[pyclass(name = "Tensor", module = "ember", subclass, frozen, dict)]
pub struct PyTensor {
    pub t: Tensor,
}

impl PyTensor {
    pub fn new(t: Tensor) -> PyTensor {
        PyTensor { t }
    }
}

/// Converts any array-like (Tensor, Variable, numpy array, nested lists, scalars) into a
/// core tensor. Floats become float32, integers and booleans int64, unless `dtype` says
/// otherwise ("float32" or "int64"/"int32").
pub fn to_tensor(obj: &Bound<'_, PyAny>, dtype: Option<&str>) -> PyResult<Tensor> {
    if let Ok(t) = obj.cast::<PyTensor>() {
        return convert_dtype(&t.get().t, dtype);
    }
    if let Ok(v) = obj.cast::<PyVariable>() {
        return convert_dtype(&v.get().v.value(), dtype);
    }
    let py = obj.py();
    let np = py.import("numpy")?;
    let arr = np.call_method1("asarray", (obj,))?;
    let kind: String = arr.getattr("dtype")?.getattr("kind")?.extract()?;
    let want = match dtype {
        Some(d) => parse_dtype(d)?,
        None if kind == "f" || kind == "c" => DType::F32,
        None if kind == "i" || kind == "u" || kind == "b" => DType::I64,
        None => {
            return Err(PyTypeError::new_err(format!(
                "convert_to_tensor: cannot convert an array of dtype {} to a tensor",
                arr.getattr("dtype")?.str()?
            )))
        }
    };
    let (np_dtype, is_f32) = match want {
        DType::F32 => ("float32", true),
        DType::I64 => ("int64", false),
    };
    // `asarray(order="C")`, not `ascontiguousarray`, which turns 0-d arrays into 1-d ones
    let kwargs = pyo3::types::PyDict::new(py);
    kwargs.set_item("dtype", np_dtype)?;
    kwargs.set_item("order", "C")?;
    let arr = np.call_method("asarray", (arr,), Some(&kwargs))?;
    let shape: Vec<usize> = arr.getattr("shape")?.extract()?;
    Ok(if is_f32 {
        let a: PyReadonlyArrayDyn<'_, f32> = arr.extract()?;
        Tensor::from_f32(
            a.as_slice()
                .map_err(|e| PyTypeError::new_err(e.to_string()))?
                .to_vec(),
            &shape,
        )?
    } else {
        let a: PyReadonlyArrayDyn<'_, i64> = arr.extract()?;
        Tensor::from_i64(
            a.as_slice()
                .map_err(|e| PyTypeError::new_err(e.to_string()))?
                .to_vec(),
            &shape,
        )?
    })
}

/// A tensor that reads a C-contiguous, aligned float32 or int64 numpy array in place
/// (holding a reference to the array); anything else is converted (copied) as
/// `to_tensor` does. For data that `fit`, `evaluate` and `predict` only read during the
/// call, where a 60 MB copy per call would cost more than a training epoch's bookkeeping.
pub fn borrow_array(obj: &Bound<'_, PyAny>) -> PyResult<Tensor> {
    fn view<T: numpy::Element + Sync + 'static>(
        obj: &Bound<'_, PyAny>,
    ) -> Option<(HostVec<T>, Vec<usize>)> {
        let a = obj.cast::<PyArrayDyn<T>>().ok()?;
        let ptr = a.data() as *const T;
        if !a.is_c_contiguous() || a.is_empty() || !ptr.is_aligned() {
            return None;
        }
        let owner: Arc<dyn Any + Send + Sync> = Arc::new(a.clone().unbind());
        // SAFETY: the array is C-contiguous and aligned with `len` elements, and `owner`
        // keeps it (and so its memory) alive; ember never writes borrowed memory.
        let buf = unsafe { HostVec::borrowed(ptr, a.len(), owner) };
        Some((buf, a.shape().to_vec()))
    }
    let buffer = if let Some((b, shape)) = view::<f32>(obj) {
        Some((CpuBuffer::F32(b), shape))
    } else {
        view::<i64>(obj).map(|(b, shape)| (CpuBuffer::I64(b), shape))
    };
    match buffer {
        Some((b, shape)) => Ok(Tensor::from_buffer(b, &shape)?),
        None => to_tensor(obj, None),
    }
}

pub fn parse_dtype(d: &str) -> PyResult<DType> {
    match d {
        "float32" | "float" | "float64" | "float16" | "bfloat16" => Ok(DType::F32),
        "int64" | "int32" | "int" | "int16" | "int8" | "uint8" | "bool" => Ok(DType::I64),
        other => Err(PyTypeError::new_err(format!(
            "unsupported dtype '{other}': ember supports float32 and int64"
        ))),
    }
}

fn convert_dtype(t: &Tensor, dtype: Option<&str>) -> PyResult<Tensor> {
    match dtype.map(parse_dtype).transpose()? {
        None => Ok(t.clone()),
        Some(d) if d == t.dtype() => Ok(t.clone()),
        Some(d) => Ok(ops::cast(t, d)?),
    }
}

/// A numpy array holding a copy of the tensor's values (handed over without a second copy).
pub fn to_numpy<'py>(py: Python<'py>, t: &Tensor) -> PyResult<Bound<'py, PyAny>> {
    let shape = t.shape().to_vec();
    let arr = match t.dtype() {
        DType::F32 => PyArray1::from_vec(py, t.to_vec_f32()?)
            .reshape(shape)?
            .into_any(),
        DType::I64 => PyArray1::from_vec(py, t.i64_data()?.into_owned())
            .reshape(shape)?
            .into_any(),
    };
    Ok(arr)
}

/// Runs `f` on a core tensor made from `obj` with the GIL released.
fn binary(
    py: Python<'_>,
    a: &Tensor,
    other: &Bound<'_, PyAny>,
    reflected: bool,
    f: fn(&Tensor, &Tensor) -> Result<Tensor>,
) -> PyResult<PyTensor> {
    let b = to_tensor(
        other,
        if a.dtype() == DType::F32 {
            Some("float32")
        } else {
            None
        },
    )?;
    let (x, y) = if reflected {
        (b, a.clone())
    } else {
        (a.clone(), b)
    };
    Ok(PyTensor::new(py.detach(|| f(&x, &y))?))
}

#[pymethods]
impl PyTensor {
    #[new]
    #[pyo3(signature = (data, dtype=None))]
    fn py_new(data: &Bound<'_, PyAny>, dtype: Option<&str>) -> PyResult<Self> {
        Ok(PyTensor::new(to_tensor(data, dtype)?))
    }

    /// A tensor reading `array`'s memory without a copy when it is a C-contiguous
    /// float32 or int64 numpy array (a copy otherwise). The array must not be written
    /// while the tensor lives: `fit`, `evaluate` and `predict` use it for their inputs.
    #[staticmethod]
    fn borrow(array: &Bound<'_, PyAny>) -> PyResult<Self> {
        Ok(PyTensor::new(borrow_array(array)?))
    }

    #[getter]
    fn shape(&self) -> Vec<usize> {
        self.t.shape().to_vec()
    }

    #[getter]
    fn ndim(&self) -> usize {
        self.t.ndim()
    }

    #[getter]
    fn dtype(&self) -> &'static str {
        self.t.dtype().name()
    }

    #[getter]
    fn size(&self) -> usize {
        self.t.numel()
    }

    fn numpy<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_numpy(py, &self.t)
    }

    #[pyo3(signature = (dtype=None, copy=None))]
    fn __array__<'py>(
        &self,
        py: Python<'py>,
        dtype: Option<Bound<'py, PyAny>>,
        copy: Option<bool>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let _ = copy;
        let a = to_numpy(py, &self.t)?;
        match dtype {
            Some(d) if !d.is_none() => a.call_method1("astype", (d,)),
            _ => Ok(a),
        }
    }

    fn item(&self) -> PyResult<f64> {
        Ok(self.t.item()? as f64)
    }

    fn __float__(&self) -> PyResult<f64> {
        self.item()
    }

    /// Truth of a one-element tensor; ambiguous (an error) for larger ones, as in numpy.
    fn __bool__(&self) -> PyResult<bool> {
        if self.t.numel() != 1 {
            return Err(pyo3::exceptions::PyValueError::new_err(format!(
                "the truth value of a tensor of shape {:?} is ambiguous; use ember.ops.any or ember.ops.all",
                self.t.shape()
            )));
        }
        Ok(self.t.item()? != 0.0)
    }

    /// Results are computed eagerly: nothing to wait for (jax-style API for benchmarks).
    fn block_until_ready(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __len__(&self) -> PyResult<usize> {
        self.t
            .shape()
            .first()
            .copied()
            .ok_or_else(|| PyTypeError::new_err("len() of a 0-d tensor"))
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let a = to_numpy(py, &self.t)?;
        Ok(format!(
            "<ember.Tensor shape={:?} dtype={}>\n{}",
            self.t.shape(),
            self.t.dtype().name(),
            a.str()?
        ))
    }

    /// True when gradients flow back through this tensor.
    #[getter]
    fn requires_grad(&self) -> bool {
        self.t.requires_grad()
    }

    /// The gradient accumulated by `backward()` on this leaf, or None.
    #[getter]
    fn grad(&self) -> Option<PyTensor> {
        self.t.node().and_then(|n| n.grad()).map(PyTensor::new)
    }

    /// A copy of this tensor that is a fresh autograd leaf (`x.requires_grad_()`).
    fn requires_grad_(&self) -> PyTensor {
        PyTensor::new(autograd::watch(&self.t))
    }

    fn detach(&self) -> PyTensor {
        PyTensor::new(self.t.detach())
    }

    /// PyTorch-style backward: accumulates gradients into the leaves' `.grad`.
    #[pyo3(signature = (gradient=None))]
    fn backward(&self, py: Python<'_>, gradient: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
        let seed = gradient
            .map(|g| to_tensor(g, Some("float32")))
            .transpose()?;
        if !self.t.requires_grad() {
            return Err(PyRuntimeError::new_err(format!(
                "backward: this tensor of shape {:?} does not require grad (no recorded op leads to it)",
                self.t.shape()
            )));
        }
        let t = self.t.clone();
        py.detach(|| autograd::backward(&t, seed.as_ref()))?;
        Ok(())
    }

    fn __add__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        binary(py, &self.t, o, false, ops::add)
    }
    fn __radd__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        binary(py, &self.t, o, true, ops::add)
    }
    fn __sub__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        binary(py, &self.t, o, false, ops::subtract)
    }
    fn __rsub__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        binary(py, &self.t, o, true, ops::subtract)
    }
    fn __mul__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        binary(py, &self.t, o, false, ops::multiply)
    }
    fn __rmul__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        binary(py, &self.t, o, true, ops::multiply)
    }
    fn __truediv__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        binary(py, &self.t, o, false, ops::divide)
    }
    fn __rtruediv__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        binary(py, &self.t, o, true, ops::divide)
    }
    fn __matmul__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        binary(py, &self.t, o, false, ops::matmul)
    }
    fn __rmatmul__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        binary(py, &self.t, o, true, ops::matmul)
    }
    fn __neg__(&self, py: Python<'_>) -> PyResult<PyTensor> {
        let t = self.t.clone();
        Ok(PyTensor::new(py.detach(|| ops::negative(&t))?))
    }
}

/// A mutable weight owned by the core; layers and optimizers share it.
#[pyclass(name = "Variable", module = "ember", frozen, dict)]
pub struct PyVariable {
    pub v: Variable,
}

#[pymethods]
impl PyVariable {
    #[new]
    #[pyo3(signature = (initializer, trainable=true, name=None, dtype=None))]
    fn py_new(
        initializer: &Bound<'_, PyAny>,
        trainable: bool,
        name: Option<&str>,
        dtype: Option<&str>,
    ) -> PyResult<Self> {
        let t = to_tensor(initializer, dtype.or(Some("float32")))?;
        Ok(PyVariable {
            v: Variable::new(name.unwrap_or("variable"), t, trainable),
        })
    }

    #[getter]
    fn name(&self) -> String {
        self.v.name().to_string()
    }

    #[getter]
    fn shape(&self) -> Vec<usize> {
        self.v.shape()
    }

    #[getter]
    fn dtype(&self) -> &'static str {
        self.v.data().dtype().name()
    }

    #[getter]
    fn trainable(&self) -> bool {
        self.v.trainable()
    }

    #[setter]
    fn set_trainable(&self, t: bool) {
        self.v.set_trainable(t)
    }

    /// The current value as a tensor that records gradients to this variable.
    #[getter]
    fn value(&self) -> PyTensor {
        PyTensor::new(self.v.value())
    }

    fn numpy<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_numpy(py, &self.v.data())
    }

    #[pyo3(signature = (dtype=None, copy=None))]
    fn __array__<'py>(
        &self,
        py: Python<'py>,
        dtype: Option<Bound<'py, PyAny>>,
        copy: Option<bool>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let _ = copy;
        let a = to_numpy(py, &self.v.data())?;
        match dtype {
            Some(d) if !d.is_none() => a.call_method1("astype", (d,)),
            _ => Ok(a),
        }
    }

    fn __add__<'py>(&self, py: Python<'py>, o: Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        self.delegate(py, "__add__", o)
    }
    fn __radd__<'py>(&self, py: Python<'py>, o: Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        self.delegate(py, "__radd__", o)
    }
    fn __sub__<'py>(&self, py: Python<'py>, o: Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        self.delegate(py, "__sub__", o)
    }
    fn __rsub__<'py>(&self, py: Python<'py>, o: Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        self.delegate(py, "__rsub__", o)
    }
    fn __mul__<'py>(&self, py: Python<'py>, o: Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        self.delegate(py, "__mul__", o)
    }
    fn __rmul__<'py>(&self, py: Python<'py>, o: Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        self.delegate(py, "__rmul__", o)
    }
    fn __truediv__<'py>(
        &self,
        py: Python<'py>,
        o: Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.delegate(py, "__truediv__", o)
    }
    fn __rtruediv__<'py>(
        &self,
        py: Python<'py>,
        o: Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.delegate(py, "__rtruediv__", o)
    }
    fn __matmul__<'py>(
        &self,
        py: Python<'py>,
        o: Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.delegate(py, "__matmul__", o)
    }
    fn __rmatmul__<'py>(
        &self,
        py: Python<'py>,
        o: Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.delegate(py, "__rmatmul__", o)
    }
    fn __lt__<'py>(&self, py: Python<'py>, o: Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        self.delegate(py, "__lt__", o)
    }
    fn __le__<'py>(&self, py: Python<'py>, o: Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        self.delegate(py, "__le__", o)
    }
    fn __gt__<'py>(&self, py: Python<'py>, o: Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        self.delegate(py, "__gt__", o)
    }
    fn __ge__<'py>(&self, py: Python<'py>, o: Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        self.delegate(py, "__ge__", o)
    }
    fn __getitem__<'py>(
        &self,
        py: Python<'py>,
        o: Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.delegate(py, "__getitem__", o)
    }
    fn __pow__<'py>(
        &self,
        py: Python<'py>,
        o: Bound<'py, PyAny>,
        _modulo: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.delegate(py, "__pow__", o)
    }
    fn __neg__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Bound::new(py, PyTensor::new(self.v.value()))?.call_method0("__neg__")
    }

    fn assign(&self, value: &Bound<'_, PyAny>) -> PyResult<()> {
        let t = to_tensor(value, Some(self.v.data().dtype().name()))?;
        Ok(self.v.assign(&t)?)
    }

    fn __repr__(&self) -> String {
        format!(
            "<ember.Variable '{}' shape={:?} trainable={}>",
            self.v.name(),
            self.v.shape(),
            self.v.trainable()
        )
    }
}

impl PyVariable {
    /// Applies the Tensor method `name` to the current value (recorded for gradients).
    fn delegate<'py>(
        &self,
        py: Python<'py>,
        name: &str,
        arg: Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        Bound::new(py, PyTensor::new(self.v.value()))?.call_method1(name, (arg,))
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyTensor>()?;
    m.add_class::<PyVariable>()?;
    Ok(())
}
