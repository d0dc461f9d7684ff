//! Recurrent layers for Python: `recurrent_layer(...)` makes the core of a SimpleRNN,
//! LSTM or GRU (a `RecurrentCore`: its `layer()` is what the graph runs, its
//! `reset_states()` clears a stateful layer's carried states), `bidirectional_layer`
//! wraps two of them.
use super::handles::PyLayer;
use super::layers::{cons, reg, var, PyConstraint, PyRegularizer};
use super::tensor::{PyTensor, PyVariable};
use crate::cpu::rnn::{Cell, GateFn};
use crate::nn::layers::{Bidirectional, MergeMode, Recurrent, RecurrentOptions};
use crate::ops::RnnSpec;
use crate::value_err;
use pyo3::prelude::*;
use std::sync::Arc;

/// The core of a fused recurrent layer.
#[pyclass(name = "RecurrentCore", module = "ember._native", frozen)]
pub struct PyRecurrent {
    r: Arc<Recurrent>,
}

#[pymethods]
impl PyRecurrent {
    /// The layer object compiled graphs run.
    fn layer(&self) -> PyLayer {
        PyLayer {
            layer: self.r.clone(),
        }
    }

    /// Forgets the states a stateful layer carries between calls.
    fn reset_states(&self) {
        *self.r.state_slot().lock() = None;
    }

    /// The carried states of a stateful layer (None before the first call).
    fn states(&self) -> Option<Vec<PyTensor>> {
        self.r
            .state_slot()
            .lock()
            .clone()
            .map(|v| v.into_iter().map(PyTensor::new).collect())
    }
}

fn gate(name: &str, what: &str, layer: &str) -> PyResult<GateFn> {
    GateFn::from_name(name).ok_or_else(|| {
        value_err!(
            "Layer \"{layer}\": `{what}`=\"{name}\" is not supported by the fused recurrent kernels; use one of tanh, sigmoid, hard_sigmoid, relu, linear"
        )
        .into()
    })
}

#[pyfunction]
#[pyo3(signature = (name, cell, kernel, recurrent_kernel, bias=None, activation="tanh", recurrent_activation="sigmoid", reset_after=true, go_backwards=false, return_sequences=false, return_state=false, stateful=false, zero_output_for_mask=false, dropout=0.0, recurrent_dropout=0.0, seed=None, kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None, activity_regularizer=None, kernel_constraint=None, recurrent_constraint=None, bias_constraint=None))]
#[allow(clippy::too_many_arguments)]
fn recurrent_layer(
    name: &str,
    cell: &str,
    kernel: &Bound<'_, PyVariable>,
    recurrent_kernel: &Bound<'_, PyVariable>,
    bias: Option<&Bound<'_, PyVariable>>,
    activation: &str,
    recurrent_activation: &str,
    reset_after: bool,
    go_backwards: bool,
    return_sequences: bool,
    return_state: bool,
    stateful: bool,
    zero_output_for_mask: bool,
    dropout: f32,
    recurrent_dropout: f32,
    seed: Option<u64>,
    kernel_regularizer: Option<&Bound<'_, PyRegularizer>>,
    recurrent_regularizer: Option<&Bound<'_, PyRegularizer>>,
    bias_regularizer: Option<&Bound<'_, PyRegularizer>>,
    activity_regularizer: Option<&Bound<'_, PyRegularizer>>,
    kernel_constraint: Option<&Bound<'_, PyConstraint>>,
    recurrent_constraint: Option<&Bound<'_, PyConstraint>>,
    bias_constraint: Option<&Bound<'_, PyConstraint>>,
) -> PyResult<PyRecurrent> {
    let cell = match cell {
        "simple_rnn" => Cell::Simple,
        "lstm" => Cell::Lstm,
        "gru" => Cell::Gru { reset_after },
        other => {
            return Err(value_err!(
                "recurrent_layer: unknown cell \"{other}\" (simple_rnn, lstm or gru)"
            )
            .into())
        }
    };
    let spec = RnnSpec {
        cell,
        activation: gate(activation, "activation", name)?,
        recurrent_activation: gate(recurrent_activation, "recurrent_activation", name)?,
        go_backwards,
    };
    let opts = RecurrentOptions {
        return_sequences,
        return_state,
        stateful,
        zero_output_for_mask,
        dropout,
        recurrent_dropout,
        seed,
        kernel_regularizer: reg(kernel_regularizer),
        recurrent_regularizer: reg(recurrent_regularizer),
        bias_regularizer: reg(bias_regularizer),
        activity_regularizer: reg(activity_regularizer),
        kernel_constraint: cons(kernel_constraint),
        recurrent_constraint: cons(recurrent_constraint),
        bias_constraint: cons(bias_constraint),
    };
    let r = Recurrent::new(
        name,
        spec,
        var(kernel),
        var(recurrent_kernel),
        bias.map(var),
        opts,
    )?;
    Ok(PyRecurrent { r: Arc::new(r) })
}

#[pyfunction]
#[pyo3(signature = (name, forward, backward, merge_mode=Some("concat")))]
fn bidirectional_layer(
    name: &str,
    forward: &Bound<'_, PyRecurrent>,
    backward: &Bound<'_, PyRecurrent>,
    merge_mode: Option<&str>,
) -> PyResult<PyLayer> {
    let b = Bidirectional::new(
        name,
        forward.get().r.clone(),
        backward.get().r.clone(),
        MergeMode::from_name(merge_mode)?,
    )?;
    Ok(PyLayer { layer: Arc::new(b) })
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyRecurrent>()?;
    m.add_function(wrap_pyfunction!(recurrent_layer, m)?)?;
    m.add_function(wrap_pyfunction!(bidirectional_layer, m)?)?;
    Ok(())
}
