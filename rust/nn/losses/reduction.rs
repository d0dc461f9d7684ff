//! Sample weights, masks and reductions, as `keras.losses.loss.reduce_weighted_values`.
use super::{f32_values, Reduction};
use crate::error::Result;
use crate::ops;
use crate::tensor::{broadcast_shapes, DType, Tensor};
use crate::value_err;

/// Keras's `squeeze_or_expand_to_same_rank`: when the ranks differ by one and the longer
/// tensor ends in a dimension of 1, that dimension is squeezed (or, when the shorter tensor
/// is 1-D and `expand_rank_1`, the shorter one gains a trailing 1).
pub fn squeeze_or_expand(
    x1: &Tensor,
    x2: &Tensor,
    expand_rank_1: bool,
) -> Result<(Tensor, Tensor)> {
    let (r1, r2) = (x1.ndim(), x2.ndim());
    let with_last = |x: &Tensor, squeeze: bool| -> Result<Tensor> {
        let mut s = x.shape().to_vec();
        if squeeze {
            s.pop();
        } else {
            s.push(1);
        }
        ops::reshape(x, &s)
    };
    if r1 == r2 + 1 && x1.shape().last() == Some(&1) {
        return Ok(if r2 == 1 && expand_rank_1 {
            (x1.clone(), with_last(x2, false)?)
        } else {
            (with_last(x1, true)?, x2.clone())
        });
    }
    if r2 == r1 + 1 && x2.shape().last() == Some(&1) {
        return Ok(if r1 == 1 && expand_rank_1 {
            (with_last(x1, false)?, x2.clone())
        } else {
            (x1.clone(), with_last(x2, true)?)
        });
    }
    Ok((x1.clone(), x2.clone()))
}

/// A float32 copy of a weight or mask (int64 weights are cast; no gradient flows to labels).
fn as_f32(t: &Tensor) -> Result<Tensor> {
    match t.dtype() {
        DType::F32 => Ok(t.clone()),
        DType::I64 => Tensor::from_f32(f32_values(t)?.into_owned(), t.shape()),
    }
}

/// `values * weight` with Keras's rank alignment, or an error naming both shapes.
fn weigh(values: &Tensor, weight: &Tensor, what: &str) -> Result<(Tensor, Tensor)> {
    let (v, w) = squeeze_or_expand(values, weight, true)?;
    if broadcast_shapes("loss", v.shape(), w.shape()).is_err() {
        return Err(value_err!(
            "loss: {what} of shape {:?} cannot be broadcast to the per-sample losses of shape {:?}",
            weight.shape(),
            values.shape()
        ));
    }
    Ok((ops::multiply(&v, &w)?, w))
}

/// Applies the mask (samples that count), the sample weights and the reduction to
/// per-sample loss values. Differentiable in `values`.
pub fn reduce_weighted(
    values: &Tensor,
    sample_weight: Option<&Tensor>,
    mask: Option<&Tensor>,
    reduction: Reduction,
) -> Result<Tensor> {
    let values = as_f32(values)?;
    let mut weight = sample_weight.map(as_f32).transpose()?;
    if let Some(mask) = mask {
        let mut mask = as_f32(mask)?;
        if matches!(reduction, Reduction::Mean | Reduction::SumOverBatchSize) {
            // valid entries weigh total/valid, so the mean runs over the valid ones only
            let valid: f32 = mask.f32_data()?.iter().sum();
            let scale = if valid == 0.0 {
                0.0
            } else {
                mask.numel() as f32 / valid
            };
            mask = ops::scale(&mask, scale)?;
        }
        weight = Some(match weight {
            Some(w) => weigh(&mask, &w, "sample_weight")?.0,
            None => mask,
        });
    }
    let (values, weight) = match weight {
        Some(w) => {
            let (v, w) = weigh(&values, &w, "sample_weight")?;
            (v, Some(w))
        }
        None => (values, None),
    };
    if reduction == Reduction::None || values.ndim() == 0 || values.shape() == [0] {
        return Ok(values);
    }
    let total = ops::sum(&values, None, false)?;
    let divisor = match reduction {
        Reduction::Sum => return Ok(total),
        Reduction::MeanWithSampleWeight if weight.is_some() => weight
            .as_ref()
            .map(|w| w.f32_data().map(|d| d.iter().sum::<f32>()))
            .transpose()?
            .unwrap_or(0.0),
        _ => values.numel() as f32,
    };
    ops::scale(&total, if divisor == 0.0 { 0.0 } else { 1.0 / divisor })
}
