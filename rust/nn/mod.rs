//! Layers, losses and metrics: the building blocks the graph driver runs.
pub mod activations;
pub mod constraints;
pub mod layers;
pub mod losses;
pub mod metrics;
pub mod regularizers;

use crate::autograd::Variable;
use crate::error::Result;
use crate::random::Rng;
use crate::tensor::Tensor;

/// What a layer call may need besides its inputs.
pub struct Context {
    /// Training mode: dropout and noise are active, batch statistics are used.
    pub training: bool,
    /// The stream for dropout masks and noise.
    pub rng: Rng,
    /// Extra loss terms added during the call (activity regularization), summed into the loss.
    pub losses: Vec<Tensor>,
}

impl Context {
    pub fn new(training: bool) -> Context {
        Context {
            training,
            rng: crate::random::rng(),
            losses: Vec::new(),
        }
    }
}

/// Where a random layer's numbers come from: its own generator when given a `seed` (a
/// Keras `SeedGenerator`: one fixed sequence across calls), else the call's context.
pub(crate) struct SeedStream {
    own: Option<parking_lot::Mutex<Rng>>,
}

impl SeedStream {
    pub(crate) fn new(seed: Option<u64>) -> SeedStream {
        use rand::SeedableRng;
        SeedStream {
            own: seed.map(|s| parking_lot::Mutex::new(Rng::seed_from_u64(s))),
        }
    }

    /// `n` values of `f`, drawn from this stream.
    pub(crate) fn draw(
        &self,
        ctx: &mut Context,
        n: usize,
        mut f: impl FnMut(&mut Rng) -> f32,
    ) -> Vec<f32> {
        match &self.own {
            Some(m) => {
                let mut r = m.lock();
                (0..n).map(|_| f(&mut r)).collect()
            }
            None => (0..n).map(|_| f(&mut ctx.rng)).collect(),
        }
    }

    /// `n` draws uniform in `[lo, hi)` (all `lo` when the range is empty).
    pub(crate) fn uniform(&self, ctx: &mut Context, n: usize, lo: f32, hi: f32) -> Vec<f32> {
        use rand::Rng as _;
        self.draw(ctx, n, |r| lo + (hi - lo) * r.random::<f32>())
    }
}

/// A built-in layer: the same object serves the eager driver (Python calls it) and the
/// graph driver (the Rust trainer calls it).
pub trait Layer: std::any::Any + Send + Sync {
    fn name(&self) -> &str;

    /// Computes the layer's outputs (one tensor for most layers).
    fn call(&self, inputs: &[Tensor], ctx: &mut Context) -> Result<Vec<Tensor>>;

    /// All weights, trainable and not, in Keras's `get_weights()` order.
    fn variables(&self) -> Vec<Variable> {
        Vec::new()
    }

    /// The weight penalties of this layer (kernel/bias regularizers), if any.
    fn regularization(&self) -> Result<Option<Tensor>> {
        Ok(None)
    }

    /// Projects the weights onto their constraints (max_norm, non_neg, ...); the trainer
    /// calls this after every optimizer step.
    fn apply_constraints(&self) -> Result<()> {
        Ok(())
    }

    /// Follows the Keras layer's `trainable` flag, for layers whose computation depends on
    /// it (a frozen BatchNormalization runs in inference mode even in training).
    fn set_trainable(&self, _trainable: bool) {}

    /// Keras's `supports_masking`: the layer takes the masks of its inputs and gives its
    /// outputs masks (`compute_mask`). A layer that does not drops any mask it is given.
    fn supports_masking(&self) -> bool {
        false
    }

    /// `call` with Keras masks: one per input, each `None` or an f32 tensor of 0s and 1s
    /// shaped like the input's leading (batch, steps) axes. Layers that use masks (RNNs,
    /// attention, global pooling) override this; the rest ignore them.
    fn call_masked(
        &self,
        inputs: &[Tensor],
        _masks: &[Option<Tensor>],
        ctx: &mut Context,
    ) -> Result<Vec<Tensor>> {
        self.call(inputs, ctx)
    }

    /// The masks of the outputs (Keras `compute_mask`), at most one per output; missing
    /// entries mean no mask. By default a masking layer passes its first input's mask on
    /// to its first output, as Keras's base `Layer` does.
    fn compute_mask(
        &self,
        _inputs: &[Tensor],
        masks: &[Option<Tensor>],
    ) -> Result<Vec<Option<Tensor>>> {
        Ok(vec![masks.first().cloned().flatten()])
    }
}
