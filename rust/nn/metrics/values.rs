//! Stateless metric functions: per-sample values that `Mean` accumulates
//! (`keras.metrics.binary_accuracy`, `categorical_accuracy`, ... and the loss functions).
use crate::autograd::NoGrad;
use crate::error::Result;
use crate::nn::losses::{f32_values, squeeze_or_expand, Kind};
use crate::ops;
use crate::tensor::{DType, Tensor};
use crate::value_err;

/// A metric function and its arguments.
#[derive(Clone, Debug, PartialEq)]
pub enum Values {
    /// The values themselves (`Mean`, `Sum`: `update(_, values, weight)`).
    Identity,
    /// `(y_pred - y_true)^2` elementwise (`RootMeanSquaredError`).
    SquaredError,
    Accuracy,
    BinaryAccuracy {
        threshold: f32,
    },
    CategoricalAccuracy,
    SparseCategoricalAccuracy,
    TopK {
        k: usize,
    },
    SparseTopK {
        k: usize,
        from_sorted_ids: bool,
    },
    /// `sum(l2_normalize(y_true) * l2_normalize(y_pred))` along `axis`.
    CosineSimilarity {
        axis: isize,
    },
    /// A loss function (per-sample values, no gradient).
    Loss(Kind),
}

/// Float values of a tensor with its shape.
fn floats(t: &Tensor) -> Result<Tensor> {
    match t.dtype() {
        DType::F32 => Ok(t.clone()),
        DType::I64 => Tensor::from_f32(f32_values(t)?.into_owned(), t.shape()),
    }
}

/// Index of the first maximum of each row of length `n`.
fn argmax_rows(x: &[f32], n: usize) -> Vec<usize> {
    x.chunks(n.max(1))
        .map(|r| {
            let mut best = 0;
            for (j, &v) in r.iter().enumerate() {
                if v > r[best] || (r[best].is_nan() && !v.is_nan()) {
                    best = j;
                }
            }
            best
        })
        .collect()
}

/// Keras's `in_top_k`: the target's score is finite and fewer than `k` scores beat it.
fn in_top_k(row: &[f32], target: i64, k: usize) -> bool {
    if target < 0 || target as usize >= row.len() {
        return false;
    }
    let s = row[target as usize];
    s.is_finite() && row.iter().filter(|&&v| v > s).count() < k
}

fn need_rank(op: &str, x: &Tensor, what: &str) -> Result<()> {
    if x.ndim() == 0 || x.numel() == 0 {
        return Err(value_err!(
            "{op}: {what} must be a non-empty tensor of rank >= 1, got shape {:?}",
            x.shape()
        ));
    }
    Ok(())
}

impl Values {
    pub fn function_name(&self) -> &'static str {
        match self {
            Values::Identity => "mean",
            Values::SquaredError => "squared_error",
            Values::Accuracy => "accuracy",
            Values::BinaryAccuracy { .. } => "binary_accuracy",
            Values::CategoricalAccuracy => "categorical_accuracy",
            Values::SparseCategoricalAccuracy => "sparse_categorical_accuracy",
            Values::TopK { .. } => "top_k_categorical_accuracy",
            Values::SparseTopK { .. } => "sparse_top_k_categorical_accuracy",
            Values::CosineSimilarity { .. } => "cosine_similarity",
            Values::Loss(k) => k.function_name(),
        }
    }

    /// The per-sample values of this function (float32, no autograd history).
    pub fn compute(&self, y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
        let _ng = NoGrad::new();
        let op = self.function_name();
        if y_pred.numel() == 0 {
            return Err(value_err!(
                "{op}: y_pred of shape {:?} is empty",
                y_pred.shape()
            ));
        }
        match self {
            Values::Identity => floats(y_pred),
            Values::Loss(kind) => Ok(kind.values(y_true, y_pred)?.0.detach()),
            Values::CosineSimilarity { axis } => {
                let neg = Kind::CosineSimilarity { axis: *axis }
                    .values(y_true, y_pred)?
                    .0;
                ops::scale(&neg, -1.0)
            }
            Values::SquaredError | Values::Accuracy | Values::BinaryAccuracy { .. } => {
                let (yt, yp) = squeeze_or_expand(&floats(y_true)?, &floats(y_pred)?, true)?;
                if yt.shape() != yp.shape() {
                    return Err(value_err!(
                        "{op}: y_true of shape {:?} does not match y_pred of shape {:?}",
                        y_true.shape(),
                        y_pred.shape()
                    ));
                }
                let (t, p) = (yt.f32_data()?, yp.f32_data()?);
                if let Values::SquaredError = self {
                    let v = t
                        .iter()
                        .zip(p.iter())
                        .map(|(a, b)| (b - a) * (b - a))
                        .collect();
                    return Tensor::from_f32(v, yp.shape());
                }
                let hit = |a: f32, b: f32| match self {
                    Values::BinaryAccuracy { threshold } => {
                        a == if b > *threshold { 1.0 } else { 0.0 }
                    }
                    _ => a == b,
                };
                mean_last(yp.shape(), t.iter().zip(p.iter()).map(|(&a, &b)| hit(a, b)))
            }
            Values::CategoricalAccuracy | Values::TopK { .. } => {
                need_rank(op, y_pred, "y_pred")?;
                if y_true.shape() != y_pred.shape() {
                    return Err(value_err!(
                        "{op}: y_true of shape {:?} does not match y_pred of shape {:?}; for \
                         integer class ids use sparse_{op}",
                        y_true.shape(),
                        y_pred.shape()
                    ));
                }
                let n = *y_pred.shape().last().unwrap_or(&1);
                let targets = argmax_rows(&f32_values(y_true)?, n);
                let p = f32_values(y_pred)?;
                let out_shape = &y_pred.shape()[..y_pred.ndim() - 1];
                let hits = p.chunks(n.max(1)).zip(targets).map(|(row, k)| match self {
                    Values::TopK { k: top } => in_top_k(row, k as i64, *top),
                    _ => argmax_rows(row, n)[0] == k,
                });
                indicator(hits, out_shape)
            }
            Values::SparseCategoricalAccuracy | Values::SparseTopK { .. } => {
                need_rank(op, y_pred, "y_pred")?;
                let mut true_shape = y_true.shape().to_vec();
                if y_true.ndim() == y_pred.ndim() && true_shape.last() == Some(&1) {
                    true_shape.pop();
                }
                let n = *y_pred.shape().last().unwrap_or(&1);
                let rows = y_pred.numel() / n.max(1);
                let batch_rows = match self {
                    Values::SparseTopK { .. } => y_true.numel() == rows,
                    _ => true_shape.as_slice() == &y_pred.shape()[..y_pred.ndim() - 1],
                };
                if !batch_rows {
                    return Err(value_err!(
                        "{op}: y_true of shape {:?} does not match y_pred of shape {:?}: expected \
                         one integer class id per row of y_pred",
                        y_true.shape(),
                        y_pred.shape()
                    ));
                }
                let t = f32_values(y_true)?;
                let p = f32_values(y_pred)?;
                let hits = p
                    .chunks(n.max(1))
                    .zip(t.iter())
                    .map(|(row, &label)| match self {
                        Values::SparseTopK {
                            k,
                            from_sorted_ids: true,
                        } => row.iter().take(*k).any(|&id| id == label),
                        Values::SparseTopK { k, .. } => {
                            label.fract() == 0.0 && in_top_k(row, label as i64, *k)
                        }
                        _ => argmax_rows(row, n)[0] as f32 == label,
                    });
                // Keras returns one value per label, dropping a trailing 1
                let mut out_shape = y_true.shape().to_vec();
                if out_shape.len() > 1 && out_shape.last() == Some(&1) {
                    out_shape.pop();
                }
                indicator(hits, &out_shape)
            }
        }
    }
}

/// 1.0 / 0.0 values of `hits` with `shape`.
fn indicator(hits: impl Iterator<Item = bool>, shape: &[usize]) -> Result<Tensor> {
    Tensor::from_f32(hits.map(|h| if h { 1.0 } else { 0.0 }).collect(), shape)
}

/// The mean over the last axis of 1.0 / 0.0 hits laid out with `shape`.
fn mean_last(shape: &[usize], hits: impl Iterator<Item = bool>) -> Result<Tensor> {
    let n = *shape.last().unwrap_or(&1);
    let v: Vec<f32> = hits.map(|h| if h { 1.0 } else { 0.0 }).collect();
    let out: Vec<f32> = v
        .chunks(n.max(1))
        .map(|c| c.iter().sum::<f32>() / n as f32)
        .collect();
    Tensor::from_f32(out, &shape[..shape.len().saturating_sub(1)])
}
