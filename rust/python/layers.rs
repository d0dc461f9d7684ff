//! Built-in layers for Python: one factory per layer (`_native.dense_layer(...)` returns
//! the `NativeLayer` a Keras layer keeps as `self._native`), `layer_call` (a call that
//! also returns the activity losses), regularizer and constraint objects, activations by
//! name, and the seed stream for initializers.
use super::handles::PyLayer;
use super::tensor::{to_tensor, PyTensor, PyVariable};
use crate::nn::activations::{self, Activation as Act};
use crate::nn::constraints::Constraint;
use crate::nn::layers::{
    Activation, ActivityRegularization, AlphaDropout, Dense, Dropout, Flatten, GaussianDropout,
    GaussianNoise, Identity, PReLU, Permute, RepeatVector, Reshape, Softmax,
};
use crate::nn::regularizers::Regularizer;
use crate::nn::{Context, Layer};
use pyo3::prelude::*;
use std::sync::Arc;

/// `l1 * sum(|x|) + l2 * sum(x^2)`, computed by the core.
#[pyclass(name = "NativeRegularizer", module = "ember._native", frozen)]
pub struct PyRegularizer {
    pub r: Regularizer,
}

#[pymethods]
impl PyRegularizer {
    #[new]
    #[pyo3(signature = (l1=0.0, l2=0.0))]
    fn new(l1: f32, l2: f32) -> PyResult<Self> {
        Ok(PyRegularizer {
            r: Regularizer::new(l1, l2)?,
        })
    }

    #[getter]
    fn l1(&self) -> f32 {
        self.r.l1
    }

    #[getter]
    fn l2(&self) -> f32 {
        self.r.l2
    }

    /// The penalty of `x` as a scalar tensor (differentiable).
    fn __call__(&self, py: Python<'_>, x: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        let x = to_tensor(x, Some("float32"))?;
        let r = self.r;
        Ok(PyTensor::new(py.detach(|| r.penalty(&x))?))
    }
}

/// A weight constraint computed by the core.
#[pyclass(name = "NativeConstraint", module = "ember._native", frozen)]
pub struct PyConstraint {
    pub c: Constraint,
}

#[pymethods]
impl PyConstraint {
    #[staticmethod]
    fn max_norm(max_value: f32, axis: Vec<isize>) -> Self {
        PyConstraint {
            c: Constraint::max_norm(max_value, axis),
        }
    }

    #[staticmethod]
    fn non_neg() -> Self {
        PyConstraint {
            c: Constraint::non_neg(),
        }
    }

    #[staticmethod]
    fn unit_norm(axis: Vec<isize>) -> Self {
        PyConstraint {
            c: Constraint::unit_norm(axis),
        }
    }

    #[staticmethod]
    fn min_max_norm(min_value: f32, max_value: f32, rate: f32, axis: Vec<isize>) -> Self {
        PyConstraint {
            c: Constraint::min_max_norm(min_value, max_value, rate, axis),
        }
    }

    /// The projection of `w` as a new tensor.
    fn __call__(&self, py: Python<'_>, w: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        let w = to_tensor(w, Some("float32"))?.detach();
        Ok(PyTensor::new(py.detach(|| self.c.project(&w))?))
    }

    /// Projects a variable in place.
    fn apply(&self, py: Python<'_>, v: &Bound<'_, PyVariable>) -> PyResult<()> {
        let v = v.get().v.clone();
        Ok(py.detach(|| self.c.apply(&v))?)
    }
}

/// The activation `name` with Keras's defaults, overridden by the parameters it takes.
#[allow(clippy::too_many_arguments)]
fn resolve_activation(
    name: &str,
    negative_slope: Option<f32>,
    max_value: Option<f32>,
    threshold: Option<f32>,
    alpha: Option<f32>,
    approximate: Option<bool>,
    axis: Option<isize>,
) -> crate::Result<Act> {
    Ok(match activations::get(name)? {
        Act::Relu { .. } => Act::Relu {
            negative_slope: negative_slope.unwrap_or(0.0),
            max_value,
            threshold: threshold.unwrap_or(0.0),
        },
        Act::LeakyRelu { negative_slope: d } => Act::LeakyRelu {
            negative_slope: negative_slope.unwrap_or(d),
        },
        Act::Elu { alpha: d } => Act::Elu {
            alpha: alpha.unwrap_or(d),
        },
        Act::Gelu { approximate: d } => Act::Gelu {
            approximate: approximate.unwrap_or(d),
        },
        Act::Softmax { axis: d } => Act::Softmax {
            axis: axis.unwrap_or(d),
        },
        Act::LogSoftmax { axis: d } => Act::LogSoftmax {
            axis: axis.unwrap_or(d),
        },
        other => other,
    })
}

/// Applies the activation called `name` to `x` (`keras.activations.<name>(x, ...)`).
#[pyfunction]
#[pyo3(signature = (x, name, negative_slope=None, max_value=None, threshold=None, alpha=None, approximate=None, axis=None))]
#[allow(clippy::too_many_arguments)]
fn activation(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    name: &str,
    negative_slope: Option<f32>,
    max_value: Option<f32>,
    threshold: Option<f32>,
    alpha: Option<f32>,
    approximate: Option<bool>,
    axis: Option<isize>,
) -> PyResult<PyTensor> {
    let f = resolve_activation(
        name,
        negative_slope,
        max_value,
        threshold,
        alpha,
        approximate,
        axis,
    )?;
    let x = to_tensor(x, Some("float32"))?;
    Ok(PyTensor::new(py.detach(|| f.apply(&x))?))
}

/// The names `activation` accepts.
#[pyfunction]
fn activation_names() -> Vec<&'static str> {
    activations::NAMES.to_vec()
}

/// The next seed of ember's global stream (reset by `set_random_seed`).
#[pyfunction]
fn draw_seed() -> u64 {
    crate::random::next_seed()
}

/// Calls a layer's core object on float32 inputs, with their Keras masks if given (one
/// per input, each None or 0/1 values); returns `(outputs, losses)`, the losses being the
/// activity penalties the call added.
#[pyfunction]
#[pyo3(signature = (layer, inputs, training=false, masks=None))]
fn layer_call(
    py: Python<'_>,
    layer: &Bound<'_, PyLayer>,
    inputs: Vec<Bound<'_, PyAny>>,
    training: bool,
    masks: Option<Vec<Option<Bound<'_, PyAny>>>>,
) -> PyResult<(Vec<PyTensor>, Vec<PyTensor>)> {
    let (xs, masks) = inputs_and_masks(&inputs, masks)?;
    let layer = layer.get().layer.clone();
    let (outs, losses) = py.detach(|| {
        let mut ctx = Context::new(training);
        crate::nn::layers::check_mask_batches(layer.name(), &xs, &masks)?;
        layer
            .call_masked(&xs, &masks, &mut ctx)
            .map(|o| (o, ctx.losses))
    })?;
    let wrap = |v: Vec<crate::Tensor>| v.into_iter().map(PyTensor::new).collect();
    Ok((wrap(outs), wrap(losses)))
}

/// A layer call's inputs and their Keras masks (None, or one per input) as float32 tensors.
pub(super) fn inputs_and_masks(
    inputs: &[Bound<'_, PyAny>],
    masks: Option<Vec<Option<Bound<'_, PyAny>>>>,
) -> PyResult<(Vec<crate::Tensor>, Vec<Option<crate::Tensor>>)> {
    let f32 = |x: &Bound<'_, PyAny>| to_tensor(x, Some("float32"));
    let xs = inputs.iter().map(f32).collect::<PyResult<Vec<_>>>()?;
    let masks = masks
        .unwrap_or_default()
        .iter()
        .map(|m| m.as_ref().map(f32).transpose())
        .collect::<PyResult<Vec<_>>>()?;
    Ok((xs, masks))
}

/// Projects the layer's constrained weights (what the trainer does after each step).
#[pyfunction]
fn layer_apply_constraints(py: Python<'_>, layer: &Bound<'_, PyLayer>) -> PyResult<()> {
    let layer = layer.get().layer.clone();
    Ok(py.detach(|| layer.apply_constraints())?)
}

pub(super) fn native(layer: impl Layer + 'static) -> PyLayer {
    PyLayer {
        layer: Arc::new(layer),
    }
}

pub(super) fn var(v: &Bound<'_, PyVariable>) -> crate::Variable {
    v.get().v.clone()
}

pub(super) fn reg(r: Option<&Bound<'_, PyRegularizer>>) -> Option<Regularizer> {
    r.map(|r| r.get().r)
}

pub(super) fn cons(c: Option<&Bound<'_, PyConstraint>>) -> Option<Constraint> {
    c.map(|c| c.get().c.clone())
}

#[pyfunction]
#[pyo3(signature = (name, kernel, bias=None, activation="linear", kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None, kernel_constraint=None, bias_constraint=None))]
#[allow(clippy::too_many_arguments)]
fn dense_layer(
    name: &str,
    kernel: &Bound<'_, PyVariable>,
    bias: Option<&Bound<'_, PyVariable>>,
    activation: &str,
    kernel_regularizer: Option<&Bound<'_, PyRegularizer>>,
    bias_regularizer: Option<&Bound<'_, PyRegularizer>>,
    activity_regularizer: Option<&Bound<'_, PyRegularizer>>,
    kernel_constraint: Option<&Bound<'_, PyConstraint>>,
    bias_constraint: Option<&Bound<'_, PyConstraint>>,
) -> PyResult<PyLayer> {
    let d = Dense::new(
        name,
        var(kernel),
        bias.map(var),
        activations::get(activation)?,
    )?
    .with_regularizers(
        reg(kernel_regularizer),
        reg(bias_regularizer),
        reg(activity_regularizer),
    )
    .with_constraints(cons(kernel_constraint), cons(bias_constraint));
    Ok(native(d))
}

#[pyfunction]
fn activation_layer(name: &str, activation: &str) -> PyResult<PyLayer> {
    Ok(native(Activation::named(name, activation)?))
}

#[pyfunction]
#[pyo3(signature = (name, max_value=None, negative_slope=0.0, threshold=0.0))]
fn relu_layer(
    name: &str,
    max_value: Option<f32>,
    negative_slope: f32,
    threshold: f32,
) -> PyResult<PyLayer> {
    Ok(native(Activation::relu(
        name,
        max_value,
        negative_slope,
        threshold,
    )?))
}

#[pyfunction]
#[pyo3(signature = (name, negative_slope=0.3))]
fn leaky_relu_layer(name: &str, negative_slope: f32) -> PyResult<PyLayer> {
    Ok(native(Activation::leaky_relu(name, negative_slope)?))
}

#[pyfunction]
#[pyo3(signature = (name, alpha=1.0))]
fn elu_layer(name: &str, alpha: f32) -> PyLayer {
    native(Activation::elu(name, alpha))
}

#[pyfunction]
#[pyo3(signature = (name, alpha, regularizer=None, constraint=None))]
fn prelu_layer(
    name: &str,
    alpha: &Bound<'_, PyVariable>,
    regularizer: Option<&Bound<'_, PyRegularizer>>,
    constraint: Option<&Bound<'_, PyConstraint>>,
) -> PyLayer {
    native(PReLU::new(
        name,
        var(alpha),
        reg(regularizer),
        cons(constraint),
    ))
}

#[pyfunction]
fn softmax_layer(name: &str, axis: Vec<isize>) -> PyResult<PyLayer> {
    Ok(native(Softmax::new(name, axis)?))
}

#[pyfunction]
#[pyo3(signature = (name, rate, noise_shape=None, seed=None))]
fn dropout_layer(
    name: &str,
    rate: f32,
    noise_shape: Option<Vec<Option<usize>>>,
    seed: Option<u64>,
) -> PyResult<PyLayer> {
    Ok(native(Dropout::new(name, rate, noise_shape, seed)?))
}

#[pyfunction]
#[pyo3(signature = (name, rate, noise_shape=None, seed=None))]
fn alpha_dropout_layer(
    name: &str,
    rate: f32,
    noise_shape: Option<Vec<Option<usize>>>,
    seed: Option<u64>,
) -> PyResult<PyLayer> {
    Ok(native(AlphaDropout::new(name, rate, noise_shape, seed)?))
}

#[pyfunction]
#[pyo3(signature = (name, rate, seed=None))]
fn gaussian_dropout_layer(name: &str, rate: f32, seed: Option<u64>) -> PyResult<PyLayer> {
    Ok(native(GaussianDropout::new(name, rate, seed)?))
}

#[pyfunction]
#[pyo3(signature = (name, stddev, seed=None))]
fn gaussian_noise_layer(name: &str, stddev: f32, seed: Option<u64>) -> PyResult<PyLayer> {
    Ok(native(GaussianNoise::new(name, stddev, seed)?))
}

#[pyfunction]
#[pyo3(signature = (name, l1=0.0, l2=0.0))]
fn activity_regularization_layer(name: &str, l1: f32, l2: f32) -> PyResult<PyLayer> {
    Ok(native(ActivityRegularization::new(name, l1, l2)?))
}

#[pyfunction]
#[pyo3(signature = (name, channels_first=false))]
fn flatten_layer(name: &str, channels_first: bool) -> PyLayer {
    native(Flatten::new(name, channels_first))
}

#[pyfunction]
fn reshape_layer(name: &str, target_shape: Vec<isize>) -> PyResult<PyLayer> {
    Ok(native(Reshape::new(name, target_shape)?))
}

#[pyfunction]
fn permute_layer(name: &str, dims: Vec<usize>) -> PyResult<PyLayer> {
    Ok(native(Permute::new(name, dims)?))
}

#[pyfunction]
fn repeat_vector_layer(name: &str, n: usize) -> PyLayer {
    native(RepeatVector::new(name, n))
}

#[pyfunction]
fn identity_layer(name: &str) -> PyLayer {
    native(Identity::new(name))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyRegularizer>()?;
    m.add_class::<PyConstraint>()?;
    m.add_function(wrap_pyfunction!(activation, m)?)?;
    m.add_function(wrap_pyfunction!(activation_names, m)?)?;
    m.add_function(wrap_pyfunction!(draw_seed, m)?)?;
    m.add_function(wrap_pyfunction!(layer_call, m)?)?;
    m.add_function(wrap_pyfunction!(layer_apply_constraints, m)?)?;
    m.add_function(wrap_pyfunction!(dense_layer, m)?)?;
    m.add_function(wrap_pyfunction!(activation_layer, m)?)?;
    m.add_function(wrap_pyfunction!(relu_layer, m)?)?;
    m.add_function(wrap_pyfunction!(leaky_relu_layer, m)?)?;
    m.add_function(wrap_pyfunction!(elu_layer, m)?)?;
    m.add_function(wrap_pyfunction!(prelu_layer, m)?)?;
    m.add_function(wrap_pyfunction!(softmax_layer, m)?)?;
    m.add_function(wrap_pyfunction!(dropout_layer, m)?)?;
    m.add_function(wrap_pyfunction!(alpha_dropout_layer, m)?)?;
    m.add_function(wrap_pyfunction!(gaussian_dropout_layer, m)?)?;
    m.add_function(wrap_pyfunction!(gaussian_noise_layer, m)?)?;
    m.add_function(wrap_pyfunction!(activity_regularization_layer, m)?)?;
    m.add_function(wrap_pyfunction!(flatten_layer, m)?)?;
    m.add_function(wrap_pyfunction!(reshape_layer, m)?)?;
    m.add_function(wrap_pyfunction!(permute_layer, m)?)?;
    m.add_function(wrap_pyfunction!(repeat_vector_layer, m)?)?;
    m.add_function(wrap_pyfunction!(identity_layer, m)?)?;
    Ok(())
}
