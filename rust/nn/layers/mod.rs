//! Built-in layers (Keras 3 semantics), one file per family. Each is a `Layer` that both
//! drivers run: weights are shared `Variable`s (created by Python's `add_weight`, or by the
//! constructors here), shapes are checked on every call, and errors name the layer.
mod activation;
mod attention;
mod conv;
mod dense;
mod embedding;
mod masking;
mod merge;
mod multi_head_attention;
mod normalization;
mod pooling;
pub mod preprocessing;
mod regularization;
mod reshaping;
mod rnn;
mod spatial;
mod spatial_dropout;
mod time_distributed;

pub use activation::{Activation, PReLU, Softmax};
pub use attention::{Attention, ScoreMode};
pub use conv::{Conv, ConvKind};
pub use dense::{linear, Dense};
pub use embedding::Embedding;
pub use masking::{check_mask_batches, check_masks, mask_as_weights, Masking};
pub use merge::{Concatenate, Dot, Merge, MergeOp};
pub use multi_head_attention::{MultiHeadAttention, Projection};
pub use normalization::{
    BatchNormalization, GroupNormalization, LayerNormalization, UnitNormalization,
};
pub use pooling::{GlobalPooling, Pooling};
pub use regularization::{
    ActivityRegularization, AlphaDropout, Dropout, GaussianDropout, GaussianNoise,
};
pub use reshaping::{Flatten, Identity, Permute, RepeatVector, Reshape};
pub use rnn::{
    Bidirectional, EmbeddedRecurrent, MergeMode, Recurrent, RecurrentOptions, StateSlot,
};
pub use spatial::{Cropping, Interpolation, UpSampling, ZeroPadding};
pub use spatial_dropout::SpatialDropout;
pub use time_distributed::TimeDistributed;

use super::constraints::Constraint;
use super::regularizers::Regularizer;
use crate::autograd::{record, Variable};
use crate::error::{Error, Result};
use crate::ops;
use crate::tensor::Tensor;
use crate::value_err;

/// The one input of a single-input layer.
pub(crate) fn single_input<'a>(layer: &str, inputs: &'a [Tensor]) -> Result<&'a Tensor> {
    match inputs {
        [x] => Ok(x),
        _ => Err(value_err!(
            "Layer \"{layer}\" expects 1 input, but it received {} input tensors",
            inputs.len()
        )),
    }
}

/// Keras's message for an input that does not fit the layer.
pub(crate) fn incompatible(
    layer: &str,
    expected: impl std::fmt::Display,
    shape: &[usize],
) -> Error {
    value_err!(
        "Input 0 of layer \"{layer}\" is incompatible with the layer: expected {expected}, but received input with shape {shape:?}"
    )
}

/// `x` with its axes reordered (`out.shape[i] = x.shape[axes[i]]`): a strided view,
/// recorded with the inverse permutation as its backward. `axes` must be a permutation.
pub(crate) fn permute(x: &Tensor, axes: &[usize]) -> Tensor {
    let shape: Vec<usize> = axes.iter().map(|&a| x.shape()[a]).collect();
    let strides: Vec<usize> = axes.iter().map(|&a| x.strides()[a]).collect();
    let out = x.view(&shape, &strides, x.offset());
    record("permute", &[x], out, || {
        let mut inverse = vec![0; axes.len()];
        for (i, &a) in axes.iter().enumerate() {
            inverse[a] = i;
        }
        move |g: &Tensor| Ok(vec![Some(permute(g, &inverse).contiguous_data())])
    })
}

/// The sum of the penalties of the trainable weights that have a regularizer (Keras only
/// regularizes trainable weights), or None when there are none.
pub(crate) fn weight_penalties(
    weights: &[(&Variable, Option<Regularizer>)],
) -> Result<Option<Tensor>> {
    let mut total: Option<Tensor> = None;
    for (v, reg) in weights {
        if let (Some(reg), true) = (reg, v.trainable()) {
            let p = reg.penalty(&v.value())?;
            total = Some(match total {
                Some(t) => ops::add(&t, &p)?,
                None => p,
            });
        }
    }
    Ok(total)
}

/// Projects each weight that has a constraint.
pub(crate) fn project_weights(weights: &[(&Variable, &Option<Constraint>)]) -> Result<()> {
    for (v, c) in weights {
        if let Some(c) = c {
            c.apply(v)?;
        }
    }
    Ok(())
}
