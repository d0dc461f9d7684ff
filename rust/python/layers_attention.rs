//! Attention layers for Python: `_native.attention_layer` (Attention and
//! AdditiveAttention) and `_native.multi_head_attention_layer`. Keras's call-time options
//! `use_causal_mask` and `return_attention_scores` are fixed per core; a Python layer
//! keeps one core per combination it is called with, all over the same weights.
use super::handles::PyLayer;
use super::layers::{cons, native, reg, var, PyConstraint, PyRegularizer};
use super::tensor::PyVariable;
use crate::nn::layers::{Attention, MultiHeadAttention, Projection, ScoreMode};
use crate::value_err;
use pyo3::prelude::*;

#[pyfunction]
#[pyo3(signature = (name, score_mode="dot", scale=None, concat_score_weight=None, dropout=0.0, seed=None, use_causal_mask=false, return_attention_scores=false))]
#[allow(clippy::too_many_arguments)]
fn attention_layer(
    name: &str,
    score_mode: &str,
    scale: Option<&Bound<'_, PyVariable>>,
    concat_score_weight: Option<&Bound<'_, PyVariable>>,
    dropout: f32,
    seed: Option<u64>,
    use_causal_mask: bool,
    return_attention_scores: bool,
) -> PyResult<PyLayer> {
    let mode = match score_mode {
        "dot" => ScoreMode::Dot,
        "concat" => ScoreMode::Concat,
        "additive" => ScoreMode::Additive,
        other => {
            return Err(value_err!(
                "Invalid value for argument score_mode. Expected one of {{'dot', 'concat'}}. Received: score_mode={other}"
            )
            .into())
        }
    };
    let a = Attention::new(
        name,
        mode,
        scale.map(var),
        concat_score_weight.map(var),
        dropout,
        seed,
    )?;
    Ok(native(a.with_call_options(
        use_causal_mask,
        return_attention_scores,
    )))
}

#[pyfunction]
#[pyo3(signature = (name, query_kernel, key_kernel, value_kernel, output_kernel, query_bias=None, key_bias=None, value_bias=None, output_bias=None, dropout=0.0, seed=None, kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None, kernel_constraint=None, bias_constraint=None, use_causal_mask=false, return_attention_scores=false))]
#[allow(clippy::too_many_arguments)]
fn multi_head_attention_layer(
    name: &str,
    query_kernel: &Bound<'_, PyVariable>,
    key_kernel: &Bound<'_, PyVariable>,
    value_kernel: &Bound<'_, PyVariable>,
    output_kernel: &Bound<'_, PyVariable>,
    query_bias: Option<&Bound<'_, PyVariable>>,
    key_bias: Option<&Bound<'_, PyVariable>>,
    value_bias: Option<&Bound<'_, PyVariable>>,
    output_bias: Option<&Bound<'_, PyVariable>>,
    dropout: f32,
    seed: Option<u64>,
    kernel_regularizer: Option<&Bound<'_, PyRegularizer>>,
    bias_regularizer: Option<&Bound<'_, PyRegularizer>>,
    activity_regularizer: Option<&Bound<'_, PyRegularizer>>,
    kernel_constraint: Option<&Bound<'_, PyConstraint>>,
    bias_constraint: Option<&Bound<'_, PyConstraint>>,
    use_causal_mask: bool,
    return_attention_scores: bool,
) -> PyResult<PyLayer> {
    let p = |k: &Bound<'_, PyVariable>, b: Option<&Bound<'_, PyVariable>>| Projection {
        kernel: var(k),
        bias: b.map(var),
    };
    let m = MultiHeadAttention::new(
        name,
        p(query_kernel, query_bias),
        p(key_kernel, key_bias),
        p(value_kernel, value_bias),
        p(output_kernel, output_bias),
        dropout,
        seed,
    )?
    .with_regularizers(
        reg(kernel_regularizer),
        reg(bias_regularizer),
        reg(activity_regularizer),
    )
    .with_constraints(cons(kernel_constraint), cons(bias_constraint));
    Ok(native(m.with_call_options(
        use_causal_mask,
        return_attention_scores,
    )))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(attention_layer, m)?)?;
    m.add_function(wrap_pyfunction!(multi_head_attention_layer, m)?)?;
    Ok(())
}
