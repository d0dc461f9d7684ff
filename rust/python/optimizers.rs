//! Optimizers and learning-rate schedules for `ember.optimizers`: a factory for the core
//! optimizers, the methods of their handle (`NativeOptimizer`), and schedule evaluation.
use super::handles::PyOptimizer;
use super::tensor::{to_tensor, PyTensor, PyVariable};
use crate::autograd::Variable;
use crate::optim::{self, Config, LearningRate, Schedule, Value};
use parking_lot::Mutex;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use std::sync::Arc;

/// A Python value of a config (None, bool, int, float, str, list, dict) as a core value.
fn to_value(obj: &Bound<'_, PyAny>, key: &str) -> PyResult<Value> {
    if obj.is_none() {
        Ok(Value::None)
    } else if let Ok(b) = obj.cast::<PyBool>() {
        Ok(Value::Bool(b.is_true()))
    } else if obj.cast::<PyInt>().is_ok() {
        Ok(Value::Int(obj.extract()?))
    } else if obj.cast::<PyFloat>().is_ok() {
        Ok(Value::Float(obj.extract()?))
    } else if obj.cast::<PyString>().is_ok() {
        Ok(Value::Str(obj.extract()?))
    } else if let Ok(d) = obj.cast::<PyDict>() {
        Ok(Value::Dict(to_config(d)?))
    } else if obj.cast::<PyList>().is_ok() || obj.cast::<PyTuple>().is_ok() {
        obj.try_iter()?
            .map(|x| to_value(&x?, key))
            .collect::<PyResult<Vec<_>>>()
            .map(Value::List)
    } else if let Ok(i) = obj.extract::<i64>() {
        Ok(Value::Int(i)) // numpy integers
    } else if let Ok(x) = obj.extract::<f64>() {
        Ok(Value::Float(x)) // numpy floats, 0-d tensors
    } else {
        Err(PyTypeError::new_err(format!(
            "optimizer config: argument `{key}` has unsupported type {}",
            obj.get_type().name()?
        )))
    }
}

fn to_config(d: &Bound<'_, PyDict>) -> PyResult<Config> {
    let mut cfg = Config::new();
    for (k, v) in d.iter() {
        let key: String = k.extract()?;
        let value = to_value(&v, &key)?;
        cfg.insert(&key, value);
    }
    Ok(cfg)
}

fn value_to_py<'py>(py: Python<'py>, v: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match v {
        Value::None => py.None().into_bound(py),
        Value::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
        Value::Int(i) => i.into_pyobject(py)?.into_any(),
        Value::Float(x) => x.into_pyobject(py)?.into_any(),
        Value::Str(s) => PyString::new(py, s).into_any(),
        Value::List(items) => PyList::new(
            py,
            items
                .iter()
                .map(|x| value_to_py(py, x))
                .collect::<PyResult<Vec<_>>>()?,
        )?
        .into_any(),
        Value::Dict(c) => config_to_py(py, c)?.into_any(),
    })
}

fn config_to_py<'py>(py: Python<'py>, c: &Config) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    for (k, v) in &c.0 {
        d.set_item(k, value_to_py(py, v)?)?;
    }
    Ok(d)
}

fn to_variables(vars: &[Bound<'_, PyAny>], what: &str) -> PyResult<Vec<Variable>> {
    vars.iter()
        .enumerate()
        .map(|(i, v)| match v.cast::<PyVariable>() {
            Ok(v) => Ok(v.get().v.clone()),
            Err(_) => Err(PyTypeError::new_err(format!(
                "{what}: item {i} must be an ember.Variable, got {}",
                v.get_type().name()?
            ))),
        })
        .collect()
}

/// Builds a core optimizer from its Keras class name and config dictionary (missing
/// entries take Keras's defaults). `learning_rate` may be a float or a serialized built-in
/// schedule (`{"class_name": ..., "config": {...}}`).
#[pyfunction]
fn make_optimizer(class_name: &str, config: &Bound<'_, PyDict>) -> PyResult<PyOptimizer> {
    let opt = optim::from_config(class_name, &to_config(config)?)?;
    Ok(PyOptimizer {
        opt: Arc::new(Mutex::new(opt)),
    })
}

/// The learning rate of the built-in schedule `class_name` with `config` at `step`.
#[pyfunction]
fn schedule_value(class_name: &str, config: &Bound<'_, PyDict>, step: f64) -> PyResult<f64> {
    Ok(Schedule::from_config(class_name, &to_config(config)?)?.value(step))
}

/// Checks a built-in schedule's config (raises what its constructor would).
#[pyfunction]
fn check_schedule(class_name: &str, config: &Bound<'_, PyDict>) -> PyResult<()> {
    Schedule::from_config(class_name, &to_config(config)?)?;
    Ok(())
}

#[pyfunction]
fn optimizer_names() -> Vec<&'static str> {
    optim::OPTIMIZER_NAMES.to_vec()
}

#[pymethods]
impl PyOptimizer {
    /// One step: updates `variables` in place from `grads` (the GIL is released).
    fn apply(
        &self,
        py: Python<'_>,
        grads: Vec<Bound<'_, PyAny>>,
        variables: Vec<Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        let vars = to_variables(&variables, "apply")?;
        let grads = grads
            .iter()
            .map(|g| to_tensor(g, Some("float32")))
            .collect::<PyResult<Vec<_>>>()?;
        let opt = self.opt.clone();
        Ok(py.detach(move || opt.lock().apply(&grads, &vars))?)
    }

    /// Creates the slot variables for `variables` (a no-op once built).
    fn build(&self, variables: Vec<Bound<'_, PyAny>>) -> PyResult<()> {
        let vars = to_variables(&variables, "build")?;
        Ok(self.opt.lock().build(&vars)?)
    }

    /// True once the slot variables exist (after `build` or the first step).
    #[getter]
    fn built(&self) -> bool {
        !self.opt.lock().built_variables().is_empty()
    }

    /// The variables the optimizer was built with.
    fn built_variables(&self) -> Vec<PyVariable> {
        self.opt
            .lock()
            .built_variables()
            .into_iter()
            .map(|v| PyVariable { v })
            .collect()
    }

    /// The learning rate the next step will use.
    #[getter]
    fn learning_rate(&self) -> f64 {
        self.opt.lock().learning_rate() as f64
    }

    /// Sets a constant learning rate, or with `external=True` one the caller sets before
    /// every step (a Python schedule), which is not part of the state.
    #[pyo3(signature = (value, external=false))]
    fn set_learning_rate(&self, value: f64, external: bool) {
        let lr = value as f32;
        self.opt.lock().set_learning_rate_schedule(if external {
            LearningRate::External(lr)
        } else {
            LearningRate::Constant(lr)
        });
    }

    /// Replaces the learning rate by a built-in schedule.
    fn set_learning_rate_schedule(
        &self,
        class_name: &str,
        config: &Bound<'_, PyDict>,
    ) -> PyResult<()> {
        let s = Schedule::from_config(class_name, &to_config(config)?)?;
        self.opt
            .lock()
            .set_learning_rate_schedule(LearningRate::Schedule(s));
        Ok(())
    }

    #[getter]
    fn iterations(&self) -> u64 {
        self.opt.lock().iterations()
    }

    #[getter]
    fn name(&self) -> String {
        self.opt.lock().name().to_string()
    }

    #[getter]
    fn class_name(&self) -> String {
        self.opt.lock().class_name().to_string()
    }

    /// The state as `(name, Tensor)` pairs in Keras's `optimizer.variables` order.
    fn variables(&self) -> Vec<(String, PyTensor)> {
        self.opt
            .lock()
            .variables()
            .into_iter()
            .map(|(n, t)| (n, PyTensor::new(t)))
            .collect()
    }

    /// Restores the state from values in the order of `variables()`.
    fn set_variables(&self, py: Python<'_>, values: Vec<Bound<'_, PyAny>>) -> PyResult<()> {
        let values = values
            .iter()
            .enumerate()
            .map(|(i, v)| to_tensor(v, if i == 0 { None } else { Some("float32") }))
            .collect::<PyResult<Vec<_>>>()?;
        let opt = self.opt.clone();
        Ok(py.detach(move || opt.lock().set_variables(&values))?)
    }

    /// Variables and name substrings that weight decay skips.
    #[pyo3(signature = (variables, names))]
    fn exclude_from_weight_decay(
        &self,
        variables: Vec<Bound<'_, PyAny>>,
        names: Vec<String>,
    ) -> PyResult<()> {
        let vars = to_variables(&variables, "exclude_from_weight_decay")?;
        self.opt.lock().exclude_from_weight_decay(&vars, &names);
        Ok(())
    }

    /// With `use_ema`, overwrites the variables with their moving averages.
    fn finalize_variable_values(&self, variables: Vec<Bound<'_, PyAny>>) -> PyResult<()> {
        let vars = to_variables(&variables, "finalize_variable_values")?;
        Ok(self.opt.lock().finalize_variable_values(&vars)?)
    }

    /// Keras's `get_config()` of the core optimizer.
    fn get_config<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let cfg = self.opt.lock().config();
        config_to_py(py, &cfg)
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(make_optimizer, m)?)?;
    m.add_function(wrap_pyfunction!(schedule_value, m)?)?;
    m.add_function(wrap_pyfunction!(check_schedule, m)?)?;
    m.add_function(wrap_pyfunction!(optimizer_names, m)?)?;
    Ok(())
}
