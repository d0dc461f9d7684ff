//! Stateful metrics with Keras's semantics.
use crate::error::Result;
use crate::tensor::Tensor;

pub trait Metric: Send {
    fn name(&self) -> &str;
    /// Accumulates a batch.
    fn update(
        &mut self,
        y_true: &Tensor,
        y_pred: &Tensor,
        sample_weight: Option<&Tensor>,
    ) -> Result<()>;
    /// The current value (a scalar for most metrics).
    fn result(&self) -> Result<Tensor>;
    fn reset(&mut self);
}
