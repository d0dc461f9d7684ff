//! The training loop of the graph driver: shuffle, gather, forward, loss, backward,
//! optimizer step, constraints and metrics, all in Rust. The caller's `on_batch` hook is
//! the only way back out (for progress bars, batch callbacks and Ctrl-C).
use super::data::{epoch_order, gather_rows};
use super::graph::Graph;
use crate::autograd::{self, NoGrad};
use crate::cpu::pool;
use crate::error::Result;
use crate::nn::losses::{self, Loss};
use crate::nn::metrics::Metric;
use crate::nn::Context;
use crate::ops;
use crate::optim::Optimizer;
use crate::tensor::Tensor;
use crate::value_err;
use parking_lot::Mutex;
use std::sync::Arc;

pub type SharedMetric = Arc<Mutex<Box<dyn Metric>>>;
pub type SharedOptimizer = Arc<Mutex<Box<dyn Optimizer>>>;

/// A graph with what `compile` attached to it.
pub struct Compiled {
    pub graph: Arc<Graph>,
    /// One loss per model output (None: the output is not trained).
    pub losses: Vec<Option<Arc<dyn Loss>>>,
    pub loss_weights: Vec<f32>,
    pub optimizer: Option<SharedOptimizer>,
    /// The metrics of each output.
    pub metrics: Vec<Vec<SharedMetric>>,
    /// The running mean of each output's unweighted loss since the last reset, one per
    /// output that has a loss (Keras logs them as `<output>_loss`).
    pub output_losses: Mutex<Vec<LossTracker>>,
}

/// Whole-dataset arrays: inputs, targets and optional per-sample weights, all with the
/// samples along axis 0.
pub struct Dataset {
    pub x: Vec<Tensor>,
    pub y: Vec<Tensor>,
    pub sample_weight: Option<Tensor>,
}

impl Dataset {
    /// The number of samples, after checking that every array has it.
    pub fn num_samples(&self) -> Result<usize> {
        let first = self
            .x
            .first()
            .ok_or_else(|| value_err!("fit: no input arrays were given"))?;
        let n = *first
            .shape()
            .first()
            .ok_or_else(|| value_err!("fit: inputs must have a batch dimension, got a scalar"))?;
        let all = self
            .x
            .iter()
            .map(|t| ("x", t))
            .chain(self.y.iter().map(|t| ("y", t)))
            .chain(self.sample_weight.iter().map(|t| ("sample_weight", t)));
        for (what, t) in all {
            if t.shape().first() != Some(&n) {
                return Err(value_err!(
                    "data cardinality is ambiguous: x has {n} samples but {what} has shape {:?}; make sure all arrays contain the same number of samples",
                    t.shape()
                ));
            }
        }
        if n == 0 {
            return Err(value_err!("the input arrays are empty (0 samples)"));
        }
        Ok(n)
    }

    fn batch(&self, idx: &[usize]) -> Result<(Vec<Tensor>, Vec<Tensor>, Option<Tensor>)> {
        let g = |v: &Vec<Tensor>| {
            v.iter()
                .map(|t| gather_rows(t, idx))
                .collect::<Result<Vec<_>>>()
        };
        Ok((
            g(&self.x)?,
            g(&self.y)?,
            self.sample_weight
                .as_ref()
                .map(|w| gather_rows(w, idx))
                .transpose()?,
        ))
    }
}

/// The running mean of the loss over an epoch, weighted by batch size (Keras's tracker).
#[derive(Default, Clone, Copy)]
pub struct LossTracker {
    total: f64,
    count: f64,
}

impl LossTracker {
    pub fn update(&mut self, loss: f32, n: usize) {
        self.total += loss as f64 * n as f64;
        self.count += n as f64;
    }

    pub fn result(&self) -> f64 {
        if self.count == 0.0 {
            0.0
        } else {
            self.total / self.count
        }
    }
}

/// What the batch hook tells the loop.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Control {
    Continue,
    Stop,
}

impl Compiled {
    /// The target of each output: `y` holds one target per output, or one per output
    /// that has a loss (in output order).
    fn targets<'a>(&self, y: &'a [Tensor], outputs: usize) -> Result<Vec<Option<&'a Tensor>>> {
        if y.len() == outputs {
            return Ok(y.iter().map(Some).collect());
        }
        let with_loss = self.losses.iter().filter(|l| l.is_some()).count();
        if y.len() != with_loss {
            return Err(value_err!(
                "the model has {outputs} output(s) ({with_loss} with a loss) but {} target array(s) were given",
                y.len()
            ));
        }
        let mut next = y.iter();
        Ok(self
            .losses
            .iter()
            .map(|l| l.as_ref().and_then(|_| next.next()))
            .collect())
    }

    /// The total loss of a batch: the weighted losses of the outputs plus the layers'
    /// regularization and activity losses (Keras's `compute_loss`). Each output's
    /// unweighted loss goes to its tracker.
    fn total_loss(
        &self,
        targets: &[Option<&Tensor>],
        outs: &[Tensor],
        masks: &[Option<Tensor>],
        sw: Option<&Tensor>,
        ctx: &mut Context,
    ) -> Result<Tensor> {
        let mut total: Option<Tensor> = None;
        let mut per_output = Vec::new();
        for (i, out) in outs.iter().enumerate() {
            let Some(loss) = self.losses.get(i).and_then(|l| l.as_ref()) else {
                continue;
            };
            let target =
                targets[i].ok_or_else(|| value_err!("no target array for model output {i}"))?;
            let mask = masks.get(i).and_then(|m| m.as_ref());
            let mut l = losses::compute_masked(loss.as_ref(), target, out, sw, mask)?;
            per_output.push(l.item()?);
            if self.loss_weights[i] != 1.0 {
                l = ops::scale(&l, self.loss_weights[i])?;
            }
            total = Some(match total {
                Some(t) => ops::add(&t, &l)?,
                None => l,
            });
        }
        let mut total = total.ok_or_else(|| {
            value_err!("the model was compiled without a loss; pass loss= to compile()")
        })?;
        if let Some(r) = self.graph.regularization()? {
            total = ops::add(&total, &r)?;
        }
        for extra in ctx.losses.drain(..) {
            total = ops::add(&total, &ops::sum(&extra, None, false)?)?;
        }
        let n = outs
            .first()
            .and_then(|o| o.shape().first())
            .copied()
            .unwrap_or(1);
        let mut trackers = self.output_losses.lock();
        trackers.resize(per_output.len(), LossTracker::default());
        for (t, v) in trackers.iter_mut().zip(per_output) {
            t.update(v, n);
        }
        Ok(total)
    }

    fn update_metrics(
        &self,
        targets: &[Option<&Tensor>],
        outs: &[Tensor],
        masks: &[Option<Tensor>],
        sw: Option<&Tensor>,
    ) -> Result<()> {
        let _ng = NoGrad::new();
        for (i, ((ms, target), out)) in self.metrics.iter().zip(targets).zip(outs).enumerate() {
            if let Some(target) = target {
                // Keras's metric wrappers fold y_pred's mask into the sample weights only
                // when sample weights are given (`apply_mask` with reduction "sum")
                let masked = match (sw, masks.get(i).and_then(|m| m.as_ref())) {
                    (Some(w), Some(m)) => Some(masked_weights(w, m)?),
                    _ => None,
                };
                for m in ms {
                    m.lock().update(target, out, masked.as_ref().or(sw))?;
                }
            }
        }
        Ok(())
    }

    /// Each output's mean loss since the last reset (outputs with a loss, in order).
    pub fn output_losses(&self) -> Vec<f64> {
        self.output_losses
            .lock()
            .iter()
            .map(|t| t.result())
            .collect()
    }

    pub fn reset_metrics(&self) {
        self.metrics.iter().flatten().for_each(|m| m.lock().reset());
        self.output_losses.lock().clear();
    }

    /// One optimizer step on a batch; returns the batch loss.
    pub fn train_batch(&self, x: &[Tensor], y: &[Tensor], sw: Option<&Tensor>) -> Result<f32> {
        let optimizer = self.optimizer.as_ref().ok_or_else(|| {
            value_err!("the model must be compiled with an optimizer before training")
        })?;
        let mut ctx = Context::new(true);
        let (outs, masks) = self.graph.forward_masked(x, &mut ctx)?;
        let targets = self.targets(y, outs.len())?;
        let total = self.total_loss(&targets, &outs, &masks, sw, &mut ctx)?;
        let loss = total.item()?;
        let grads = autograd::grad(&total, None, &[])?;
        // free the tape before the update so weights are updated in place
        let outs: Vec<Tensor> = outs.into_iter().map(|t| t.detach()).collect();
        drop(total);
        let (mut gs, mut vs) = (Vec::new(), Vec::new());
        for v in self.graph.trainable_variables() {
            if let Some(g) = grads.get(&v.id()) {
                gs.push(g.clone());
                vs.push(v);
            }
        }
        drop(grads);
        optimizer.lock().apply(&gs, &vs)?;
        self.graph.apply_constraints()?;
        self.update_metrics(&targets, &outs, &masks, sw)?;
        Ok(loss)
    }

    /// The loss of a batch without training; updates the metrics.
    pub fn test_batch(&self, x: &[Tensor], y: &[Tensor], sw: Option<&Tensor>) -> Result<f32> {
        let _ng = NoGrad::new();
        let mut ctx = Context::new(false);
        let (outs, masks) = self.graph.forward_masked(x, &mut ctx)?;
        let targets = self.targets(y, outs.len())?;
        let loss = self
            .total_loss(&targets, &outs, &masks, sw, &mut ctx)?
            .item()?;
        self.update_metrics(&targets, &outs, &masks, sw)?;
        Ok(loss)
    }

    /// One epoch over `data` in batches. `on_batch(step, running_loss)` runs after every
    /// batch and may stop the epoch. Returns the epoch's mean loss.
    pub fn train_epoch(
        &self,
        data: &Dataset,
        batch_size: usize,
        shuffle: bool,
        steps: Option<usize>,
        on_batch: &mut dyn FnMut(usize, f64) -> Result<Control>,
    ) -> Result<f64> {
        let n = data.num_samples()?;
        let batch_size = batch_size.max(1);
        let order = epoch_order(n, shuffle, &mut crate::random::rng());
        let mut tracker = LossTracker::default();
        self.reset_metrics();
        for (step, idx) in order
            .chunks(batch_size)
            .take(steps.unwrap_or(usize::MAX))
            .enumerate()
        {
            let loss = pool::install(|| {
                let (x, y, sw) = data.batch(idx)?;
                self.train_batch(&x, &y, sw.as_ref())
            })?;
            tracker.update(loss, idx.len());
            if on_batch(step, tracker.result())? == Control::Stop {
                break;
            }
        }
        Ok(tracker.result())
    }

    /// Mean loss over `data` (metrics updated), without training.
    pub fn evaluate(
        &self,
        data: &Dataset,
        batch_size: usize,
        steps: Option<usize>,
        on_batch: &mut dyn FnMut(usize, f64) -> Result<Control>,
    ) -> Result<f64> {
        let n = data.num_samples()?;
        let order: Vec<usize> = (0..n).collect();
        let mut tracker = LossTracker::default();
        self.reset_metrics();
        for (step, idx) in order
            .chunks(batch_size.max(1))
            .take(steps.unwrap_or(usize::MAX))
            .enumerate()
        {
            let loss = pool::install(|| {
                let (x, y, sw) = data.batch(idx)?;
                self.test_batch(&x, &y, sw.as_ref())
            })?;
            tracker.update(loss, idx.len());
            if on_batch(step, tracker.result())? == Control::Stop {
                break;
            }
        }
        Ok(tracker.result())
    }
}

/// Sample weights times a mask, each squeezed or expanded to the other's rank as Keras does.
fn masked_weights(sw: &Tensor, mask: &Tensor) -> Result<Tensor> {
    let sw = ops::cast(sw, crate::tensor::DType::F32)?;
    let (m, w) = losses::squeeze_or_expand(mask, &sw, true)?;
    ops::multiply(&w, &m)
}

/// The model's outputs for all samples of `x`, computed in batches in inference mode.
pub fn predict(
    graph: &Graph,
    x: &[Tensor],
    batch_size: usize,
    on_batch: &mut dyn FnMut(usize) -> Result<Control>,
) -> Result<Vec<Tensor>> {
    let data = Dataset {
        x: x.to_vec(),
        y: Vec::new(),
        sample_weight: None,
    };
    let n = data.num_samples()?;
    let mut parts: Vec<Vec<Vec<f32>>> = vec![Vec::new(); graph.num_outputs()];
    let mut shapes: Vec<Vec<usize>> = vec![Vec::new(); graph.num_outputs()];
    let order: Vec<usize> = (0..n).collect();
    let mut done = 0;
    for (step, idx) in order.chunks(batch_size.max(1)).enumerate() {
        let outs = pool::install(|| {
            let _ng = NoGrad::new();
            let xb = x
                .iter()
                .map(|t| gather_rows(t, idx))
                .collect::<Result<Vec<_>>>()?;
            graph
                .forward(&xb, &mut Context::new(false))?
                .iter()
                .map(|o| Ok((o.shape().to_vec(), o.to_vec_f32()?)))
                .collect::<Result<Vec<_>>>()
        })?;
        for (i, (shape, values)) in outs.into_iter().enumerate() {
            shapes[i] = shape;
            parts[i].push(values);
        }
        done += idx.len();
        if on_batch(step)? == Control::Stop {
            break;
        }
    }
    parts
        .into_iter()
        .zip(shapes)
        .map(|(p, mut s)| {
            if s.is_empty() {
                return Err(value_err!(
                    "predict: the model produced a scalar; outputs need a batch dimension"
                ));
            }
            s[0] = done;
            Tensor::from_f32(p.concat(), &s)
        })
        .collect()
}
