//! Bindings of the convolutions: the ops (`_native.op_conv`, `op_conv_transpose`,
//! `op_depthwise_conv`, `op_separable_conv`, channels first handled by transposing) and
//! the `conv_layer` factory behind every Keras convolution layer.
use super::handles::PyLayer;
use super::layers::{cons, native, reg, var, PyConstraint, PyRegularizer};
use super::tensor::{to_tensor, PyTensor, PyVariable};
use crate::error::Result;
use crate::nn::activations;
use crate::nn::layers::{Conv, ConvKind};
use crate::ops::{self, ConvOptions, Padding};
use crate::tensor::Tensor;
use pyo3::prelude::*;

fn float(x: &Bound<'_, PyAny>) -> PyResult<Tensor> {
    to_tensor(x, Some("float32"))
}

/// `f` on `x` in channels-last layout, the result back in `x`'s layout.
fn in_layout(
    x: &Tensor,
    channels_first: bool,
    f: impl FnOnce(&Tensor) -> Result<Tensor>,
) -> Result<Tensor> {
    if !channels_first {
        return f(x);
    }
    if x.ndim() < 3 {
        return f(x); // the op reports the rank
    }
    ops::channels_last_to_first(&f(&ops::channels_first_to_last(x)?)?)
}

fn options(
    op: &str,
    strides: Vec<usize>,
    padding: &str,
    dilation_rate: Vec<usize>,
) -> Result<ConvOptions> {
    Ok(ConvOptions {
        strides,
        padding: Padding::parse(op, padding)?,
        dilation: dilation_rate,
    })
}

#[pyfunction]
#[pyo3(signature = (x, kernel, strides, padding, dilation_rate, channels_first=false))]
fn op_conv(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    kernel: &Bound<'_, PyAny>,
    strides: Vec<usize>,
    padding: &str,
    dilation_rate: Vec<usize>,
    channels_first: bool,
) -> PyResult<PyTensor> {
    let (x, k) = (float(x)?, float(kernel)?);
    let o = options("conv", strides, padding, dilation_rate)?;
    Ok(PyTensor::new(py.detach(|| {
        in_layout(&x, channels_first, |x| ops::conv(x, &k, None, &o))
    })?))
}

#[pyfunction]
#[pyo3(signature = (x, kernel, strides, padding, output_padding, dilation_rate, channels_first=false))]
#[allow(clippy::too_many_arguments)]
fn op_conv_transpose(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    kernel: &Bound<'_, PyAny>,
    strides: Vec<usize>,
    padding: &str,
    output_padding: Option<Vec<usize>>,
    dilation_rate: Vec<usize>,
    channels_first: bool,
) -> PyResult<PyTensor> {
    let (x, k) = (float(x)?, float(kernel)?);
    let o = options("conv_transpose", strides, padding, dilation_rate)?;
    Ok(PyTensor::new(py.detach(|| {
        in_layout(&x, channels_first, |x| {
            ops::conv_transpose(x, &k, None, &o, output_padding.as_deref())
        })
    })?))
}

#[pyfunction]
#[pyo3(signature = (x, kernel, strides, padding, dilation_rate, channels_first=false))]
fn op_depthwise_conv(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    kernel: &Bound<'_, PyAny>,
    strides: Vec<usize>,
    padding: &str,
    dilation_rate: Vec<usize>,
    channels_first: bool,
) -> PyResult<PyTensor> {
    let (x, k) = (float(x)?, float(kernel)?);
    let o = options("depthwise_conv", strides, padding, dilation_rate)?;
    Ok(PyTensor::new(py.detach(|| {
        in_layout(&x, channels_first, |x| ops::depthwise_conv(x, &k, None, &o))
    })?))
}

#[pyfunction]
#[pyo3(signature = (x, depthwise_kernel, pointwise_kernel, strides, padding, dilation_rate, channels_first=false))]
#[allow(clippy::too_many_arguments)]
fn op_separable_conv(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    depthwise_kernel: &Bound<'_, PyAny>,
    pointwise_kernel: &Bound<'_, PyAny>,
    strides: Vec<usize>,
    padding: &str,
    dilation_rate: Vec<usize>,
    channels_first: bool,
) -> PyResult<PyTensor> {
    let (x, dk, pk) = (
        float(x)?,
        float(depthwise_kernel)?,
        float(pointwise_kernel)?,
    );
    let o = options("separable_conv", strides, padding, dilation_rate)?;
    Ok(PyTensor::new(py.detach(|| {
        in_layout(&x, channels_first, |x| {
            ops::separable_conv(x, &dk, &pk, None, &o)
        })
    })?))
}

/// The core of a Keras convolution layer. `kind`: "conv" (with `groups`), "transpose"
/// (with `output_padding`), "depthwise" or "separable" (with `pointwise_kernel`).
#[pyfunction]
#[pyo3(signature = (
    name, kind, kernel, strides, padding, dilation_rate, bias=None, pointwise_kernel=None,
    groups=1, output_padding=None, channels_first=false, activation="linear",
    kernel_regularizer=None, pointwise_regularizer=None, bias_regularizer=None,
    activity_regularizer=None, kernel_constraint=None, pointwise_constraint=None,
    bias_constraint=None
))]
#[allow(clippy::too_many_arguments)]
fn conv_layer(
    name: &str,
    kind: &str,
    kernel: &Bound<'_, PyVariable>,
    strides: Vec<usize>,
    padding: &str,
    dilation_rate: Vec<usize>,
    bias: Option<&Bound<'_, PyVariable>>,
    pointwise_kernel: Option<&Bound<'_, PyVariable>>,
    groups: usize,
    output_padding: Option<Vec<usize>>,
    channels_first: bool,
    activation: &str,
    kernel_regularizer: Option<&Bound<'_, PyRegularizer>>,
    pointwise_regularizer: Option<&Bound<'_, PyRegularizer>>,
    bias_regularizer: Option<&Bound<'_, PyRegularizer>>,
    activity_regularizer: Option<&Bound<'_, PyRegularizer>>,
    kernel_constraint: Option<&Bound<'_, PyConstraint>>,
    pointwise_constraint: Option<&Bound<'_, PyConstraint>>,
    bias_constraint: Option<&Bound<'_, PyConstraint>>,
) -> PyResult<PyLayer> {
    let kind = match kind {
        "conv" => ConvKind::Conv { groups },
        "transpose" => ConvKind::Transpose { output_padding },
        "depthwise" => ConvKind::Depthwise,
        "separable" => ConvKind::Separable,
        other => {
            return Err(crate::value_err!(
                "conv_layer: unknown kind {other:?} (conv, transpose, depthwise or separable)"
            )
            .into())
        }
    };
    let layer = Conv::new(
        name,
        kind,
        options(name, strides, padding, dilation_rate)?,
        var(kernel),
        pointwise_kernel.map(var),
        bias.map(var),
        activations::get(activation)?,
    )?
    .channels_first(channels_first)
    .with_regularizers(
        reg(kernel_regularizer),
        reg(pointwise_regularizer),
        reg(bias_regularizer),
        reg(activity_regularizer),
    )
    .with_constraints(
        cons(kernel_constraint),
        cons(pointwise_constraint),
        cons(bias_constraint),
    );
    Ok(native(layer))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(op_conv, m)?)?;
    m.add_function(wrap_pyfunction!(op_conv_transpose, m)?)?;
    m.add_function(wrap_pyfunction!(op_depthwise_conv, m)?)?;
    m.add_function(wrap_pyfunction!(op_separable_conv, m)?)?;
    m.add_function(wrap_pyfunction!(conv_layer, m)?)?;
    Ok(())
}
