//! Losses with Keras's semantics and reductions.
use crate::error::Result;
use crate::tensor::Tensor;

/// How per-sample losses become the scalar that is minimised (Keras names).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reduction {
    /// Weighted sum divided by the number of loss values (Keras's default).
    SumOverBatchSize,
    Sum,
    /// Per-sample values are returned.
    None,
}

pub trait Loss: Send + Sync {
    fn name(&self) -> &str;
    /// Per-sample loss values (the loss function reduced over the last axis, as in Keras).
    fn call(&self, y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor>;
    fn reduction(&self) -> Reduction;
}

/// The reduced loss of a batch. (Placeholder until the losses work lands: the weighted
/// mean of the per-sample values.)
pub fn compute(loss: &dyn Loss, y_true: &Tensor, y_pred: &Tensor, sample_weight: Option<&Tensor>) -> Result<Tensor> {
    let per = loss.call(y_true, y_pred)?;
    let per = match sample_weight {
        Some(w) => crate::ops::multiply(&per, w)?,
        None => per,
    };
    let n = per.numel().max(1) as f32;
    crate::ops::scale(&crate::ops::sum(&per, None, false)?, 1.0 / n)
}
