//! `Recurrent`: one fused recurrent layer (SimpleRNN, LSTM or GRU) with Keras's options:
//! return_sequences, return_state, go_backwards, stateful, initial states as extra inputs,
//! dropout and recurrent_dropout (masks fixed across time steps, training only), masks,
//! regularizers and constraints.
use super::super::{incompatible, project_weights, weight_penalties};
use crate::autograd::Variable;
use crate::cpu::rnn::Cell;
use crate::error::Result;
use crate::nn::constraints::Constraint;
use crate::nn::regularizers::Regularizer;
use crate::nn::{Context, Layer, SeedStream};
use crate::ops::{self, RnnInput, RnnSpec};
use crate::tensor::Tensor;
use crate::value_err;
use parking_lot::Mutex;
use std::sync::Arc;

/// The carried-over states of a stateful layer (None until the first call and after a
/// reset); shared with Python's `reset_states`.
pub type StateSlot = Arc<Mutex<Option<Vec<Tensor>>>>;

/// Options of a recurrent layer besides its weights.
#[derive(Clone, Default)]
pub struct RecurrentOptions {
    pub return_sequences: bool,
    pub return_state: bool,
    pub stateful: bool,
    pub zero_output_for_mask: bool,
    pub dropout: f32,
    pub recurrent_dropout: f32,
    pub seed: Option<u64>,
    pub kernel_regularizer: Option<Regularizer>,
    pub recurrent_regularizer: Option<Regularizer>,
    pub bias_regularizer: Option<Regularizer>,
    pub activity_regularizer: Option<Regularizer>,
    pub kernel_constraint: Option<Constraint>,
    pub recurrent_constraint: Option<Constraint>,
    pub bias_constraint: Option<Constraint>,
}

pub struct Recurrent {
    name: String,
    spec: RnnSpec,
    kernel: Variable,
    recurrent_kernel: Variable,
    bias: Option<Variable>,
    opts: RecurrentOptions,
    noise: SeedStream,
    states: StateSlot,
}

impl Recurrent {
    pub fn new(
        name: &str,
        spec: RnnSpec,
        kernel: Variable,
        recurrent_kernel: Variable,
        bias: Option<Variable>,
        opts: RecurrentOptions,
    ) -> Result<Recurrent> {
        let (ks, rs) = (kernel.shape(), recurrent_kernel.shape());
        let g = spec.cell.gates();
        if rs.len() != 2 || rs[0] == 0 || rs[1] != g * rs[0] || ks.len() != 2 || ks[1] != rs[1] {
            return Err(value_err!(
                "Recurrent layer \"{name}\": kernel {ks:?} and recurrent_kernel {rs:?} must have shapes (input_dim, {g} * units) and (units, {g} * units)"
            ));
        }
        let u = rs[0];
        if let Some(b) = &bias {
            let want = if spec.cell == (Cell::Gru { reset_after: true }) {
                vec![2, g * u]
            } else {
                vec![g * u]
            };
            if b.shape() != want {
                return Err(value_err!(
                    "Recurrent layer \"{name}\": the bias must have shape {want:?}, got {:?}",
                    b.shape()
                ));
            }
        }
        for (what, rate) in [
            ("dropout", opts.dropout),
            ("recurrent_dropout", opts.recurrent_dropout),
        ] {
            if !(0.0..=1.0).contains(&rate) {
                return Err(value_err!(
                    "Recurrent layer \"{name}\": `{what}` must be in [0, 1], got {rate}"
                ));
            }
        }
        Ok(Recurrent {
            name: name.to_string(),
            spec,
            noise: SeedStream::new(opts.seed),
            kernel,
            recurrent_kernel,
            bias,
            opts,
            states: Arc::new(Mutex::new(None)),
        })
    }

    pub fn units(&self) -> usize {
        self.recurrent_kernel.shape()[0]
    }

    pub fn spec(&self) -> RnnSpec {
        self.spec
    }

    /// The number of state tensors (2 for LSTM: h and c).
    pub fn num_states(&self) -> usize {
        if self.spec.cell == Cell::Lstm {
            2
        } else {
            1
        }
    }

    /// The stateful layer's carried states, for `reset_states`.
    pub fn state_slot(&self) -> StateSlot {
        self.states.clone()
    }

    pub fn options(&self) -> &RecurrentOptions {
        &self.opts
    }

    /// A dropout mask of `n` entries: 0 with probability `rate`, else `1 / (1 - rate)`.
    fn dropout_mask(&self, ctx: &mut Context, n: usize, rate: f32) -> Vec<f32> {
        let scale = 1.0 / (1.0 - rate);
        self.noise
            .uniform(ctx, n, 0.0, 1.0)
            .into_iter()
            .map(|p| if p < rate { 0.0 } else { scale })
            .collect()
    }

    /// Runs the layer on `x` (batch, steps, features) with the given initial states and
    /// mask; returns (full output sequence in processing order, final states).
    /// Whether `run` can take token ids (`RnnInput::Tokens`) in this call: not while
    /// input dropout has to drop features of the looked-up vectors.
    pub fn takes_tokens(&self, ctx: &Context) -> bool {
        !(ctx.training && self.opts.dropout > 0.0)
    }

    pub fn run(
        &self,
        input: RnnInput,
        initial: &[Tensor],
        mask: Option<&Tensor>,
        ctx: &mut Context,
    ) -> Result<(Tensor, Vec<Tensor>)> {
        let name = &self.name;
        let (b, t, d, shape) = match input {
            RnnInput::Sequence(x) => {
                x.expect_f32(&format!("Recurrent layer \"{name}\""))?;
                if x.ndim() != 3 {
                    return Err(value_err!(
                        "Input 0 of layer \"{name}\" is incompatible with the layer: expected ndim=3 (batch, timesteps, features), found ndim={}. Full shape received: {:?}",
                        x.ndim(),
                        x.shape()
                    ));
                }
                let s = x.shape();
                (s[0], s[1], s[2], s.to_vec())
            }
            RnnInput::Tokens { ids, table, .. } => {
                if ids.ndim() != 2 || table.ndim() != 2 || !self.takes_tokens(ctx) {
                    return Err(value_err!(
                        "Layer \"{name}\" takes token ids of shape (batch, timesteps) only without input dropout, got ids of shape {:?}",
                        ids.shape()
                    ));
                }
                let (s, d) = (ids.shape(), table.shape()[1]);
                (s[0], s[1], d, vec![s[0], s[1], d])
            }
        };
        let k = self.kernel.shape()[0];
        if d != k {
            return Err(incompatible(
                name,
                format!("axis -1 of input shape to have value {k}"),
                &shape,
            ));
        }
        if t == 0 {
            return Err(value_err!(
                "Layer \"{name}\": the inputs {shape:?} have no time steps"
            ));
        }
        let u = self.units();
        let ns = self.num_states();
        if !initial.is_empty()
            && (initial.len() != ns || initial.iter().any(|s| s.shape() != [b, u]))
        {
            return Err(value_err!(
                "Layer \"{name}\" expects {ns} initial state(s) of shape [{b}, {u}] (batch, units), got {} of shapes {:?}",
                initial.len(),
                initial.iter().map(|s| s.shape().to_vec()).collect::<Vec<_>>()
            ));
        }
        if let Some(m) = mask {
            if m.shape() != [b, t] {
                return Err(value_err!(
                    "Layer \"{name}\": the mask of shape {:?} does not match the inputs of shape {shape:?}; expected a mask of shape [{b}, {t}]",
                    m.shape()
                ));
            }
        }
        let mask = mask.map(|m| ops::cast(m, crate::DType::F32)).transpose()?;
        let states: Vec<Tensor> = if !initial.is_empty() {
            initial.to_vec()
        } else {
            let carried = if self.opts.stateful {
                self.states.lock().clone()
            } else {
                None
            };
            match carried {
                Some(s) if s.iter().all(|s| s.shape() == [b, u]) => s,
                _ => vec![Tensor::zeros(&[b, u]); ns],
            }
        };
        let dropped = match input {
            RnnInput::Sequence(x) if ctx.training && self.opts.dropout > 0.0 => {
                let m = self.dropout_mask(ctx, b * d, self.opts.dropout);
                Some(ops::multiply(x, &Tensor::from_f32(m, &[b, 1, d])?)?)
            }
            _ => None,
        };
        let input = dropped.as_ref().map_or(input, RnnInput::Sequence);
        let rmask = if ctx.training && self.opts.recurrent_dropout > 0.0 {
            let m = self.dropout_mask(ctx, b * u, self.opts.recurrent_dropout);
            Some(Tensor::from_f32(m, &[b, u])?)
        } else {
            None
        };
        let bias = self.bias.as_ref().map(|v| v.value());
        let packed = ops::rnn(
            input,
            &self.kernel.value(),
            &self.recurrent_kernel.value(),
            bias.as_ref(),
            &states,
            mask.as_ref(),
            rmask.as_ref(),
            &self.spec,
        )?;
        let u_i = u as isize;
        let (b_i, t_i) = (b as isize, t as isize);
        let seq = ops::slice(&packed, &[0, 0, 0], &[b_i, t_i, u_i])?;
        let mut finals = vec![ops::reshape(
            &ops::slice(&packed, &[0, t - 1, 0], &[b_i, 1, u_i])?,
            &[b, u],
        )?];
        if ns == 2 {
            finals.push(ops::reshape(
                &ops::slice(&packed, &[0, t, 0], &[b_i, 1, u_i])?,
                &[b, u],
            )?);
        }
        if self.opts.stateful {
            *self.states.lock() = Some(finals.iter().map(|s| s.detach()).collect());
        }
        let seq = match (&mask, self.opts.zero_output_for_mask) {
            (Some(m), true) => {
                let m = if self.spec.go_backwards {
                    ops::flip(m, Some(&[1]))?
                } else {
                    m.clone()
                };
                ops::multiply(&seq, &ops::reshape(&m, &[b, t, 1])?)?
            }
            _ => seq,
        };
        Ok((seq, finals))
    }

    /// The layer's outputs as Keras returns them (the last output or the sequence, then
    /// the final states with `return_state`) for the sequence `input`.
    pub fn call_on(
        &self,
        input: RnnInput,
        initial: &[Tensor],
        mask: Option<&Tensor>,
        ctx: &mut Context,
    ) -> Result<Vec<Tensor>> {
        let (seq, finals) = self.run(input, initial, mask, ctx)?;
        let out = if self.opts.return_sequences {
            seq
        } else {
            finals[0].clone()
        };
        if let Some(r) = &self.opts.activity_regularizer {
            ctx.losses.push(r.penalty(&out)?);
        }
        let mut outs = vec![out];
        if self.opts.return_state {
            outs.extend(finals);
        }
        Ok(outs)
    }
}

impl Layer for Recurrent {
    fn name(&self) -> &str {
        &self.name
    }

    fn call(&self, inputs: &[Tensor], ctx: &mut Context) -> Result<Vec<Tensor>> {
        self.call_masked(inputs, &[], ctx)
    }

    fn call_masked(
        &self,
        inputs: &[Tensor],
        masks: &[Option<Tensor>],
        ctx: &mut Context,
    ) -> Result<Vec<Tensor>> {
        let Some((x, initial)) = inputs.split_first() else {
            return Err(value_err!(
                "Layer \"{}\" expects the input sequence (and optionally initial states), got no inputs",
                self.name
            ));
        };
        let mask = masks.first().cloned().flatten();
        self.call_on(RnnInput::Sequence(x), initial, mask.as_ref(), ctx)
    }

    fn variables(&self) -> Vec<Variable> {
        [
            Some(&self.kernel),
            Some(&self.recurrent_kernel),
            self.bias.as_ref(),
        ]
        .into_iter()
        .flatten()
        .cloned()
        .collect()
    }

    fn regularization(&self) -> Result<Option<Tensor>> {
        let mut w = vec![
            (&self.kernel, self.opts.kernel_regularizer),
            (&self.recurrent_kernel, self.opts.recurrent_regularizer),
        ];
        if let Some(b) = &self.bias {
            w.push((b, self.opts.bias_regularizer));
        }
        weight_penalties(&w)
    }

    fn apply_constraints(&self) -> Result<()> {
        let mut w = vec![
            (&self.kernel, &self.opts.kernel_constraint),
            (&self.recurrent_kernel, &self.opts.recurrent_constraint),
        ];
        if let Some(b) = &self.bias {
            w.push((b, &self.opts.bias_constraint));
        }
        project_weights(&w)
    }

    fn supports_masking(&self) -> bool {
        true
    }

    fn compute_mask(
        &self,
        _inputs: &[Tensor],
        masks: &[Option<Tensor>],
    ) -> Result<Vec<Option<Tensor>>> {
        let m = if self.opts.return_sequences {
            masks.first().cloned().flatten()
        } else {
            None
        };
        let extra = if self.opts.return_state {
            self.num_states()
        } else {
            0
        };
        Ok(std::iter::once(m).chain(vec![None; extra]).collect())
    }
}
