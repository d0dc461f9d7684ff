//! Optimizers: Keras formulas, fused in-place updates (one pass per parameter).
use crate::autograd::Variable;
use crate::error::Result;
use crate::tensor::Tensor;

pub trait Optimizer: Send {
    fn name(&self) -> &str;
    /// Applies one step: each variable is updated in place from its gradient.
    fn apply(&mut self, grads: &[Tensor], vars: &[Variable]) -> Result<()>;
    /// The learning rate the next step will use.
    fn learning_rate(&self) -> f32;
    /// Overrides the learning rate (replacing a schedule), as assigning `optimizer.learning_rate` does in Keras.
    fn set_learning_rate(&mut self, lr: f32);
    /// Steps taken so far.
    fn iterations(&self) -> u64;
}
