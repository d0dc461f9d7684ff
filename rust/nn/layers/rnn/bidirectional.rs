//! `Bidirectional`: a forward and a backward recurrent layer over the same sequence, their
//! outputs merged (Keras's merge_mode concat, sum, mul, ave, or None for both).
use super::Recurrent;
use crate::autograd::Variable;
use crate::error::Result;
use crate::nn::{Context, Layer};
use crate::ops;
use crate::tensor::Tensor;
use crate::value_err;
use std::sync::Arc;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MergeMode {
    Concat,
    Sum,
    Mul,
    Ave,
    /// Both outputs, unmerged.
    None,
}

impl MergeMode {
    pub fn from_name(name: Option<&str>) -> Result<MergeMode> {
        Ok(match name {
            Some("concat") => MergeMode::Concat,
            Some("sum") => MergeMode::Sum,
            Some("mul") => MergeMode::Mul,
            Some("ave") => MergeMode::Ave,
            None => MergeMode::None,
            Some(other) => {
                return Err(value_err!(
                    "Invalid merge mode. Received: {other}. Merge mode should be one of {{\"sum\", \"mul\", \"ave\", \"concat\", None}}"
                ))
            }
        })
    }
}

pub struct Bidirectional {
    name: String,
    forward: Arc<Recurrent>,
    backward: Arc<Recurrent>,
    merge: MergeMode,
    return_sequences: bool,
    return_state: bool,
}

impl Bidirectional {
    /// `backward` must process the sequence in the opposite direction of `forward`, and
    /// both must agree on return_sequences and return_state.
    pub fn new(
        name: &str,
        forward: Arc<Recurrent>,
        backward: Arc<Recurrent>,
        merge: MergeMode,
    ) -> Result<Bidirectional> {
        let (f, b) = (forward.options(), backward.options());
        if f.return_sequences != b.return_sequences || f.return_state != b.return_state {
            return Err(value_err!(
                "Bidirectional \"{name}\": forward layer \"{}\" and backward layer \"{}\" must have the same return_sequences and return_state",
                forward.name(),
                backward.name()
            ));
        }
        if forward.spec().go_backwards == backward.spec().go_backwards {
            return Err(value_err!(
                "Bidirectional \"{name}\": backward layer \"{}\" must have go_backwards different from the forward layer's",
                backward.name()
            ));
        }
        Ok(Bidirectional {
            name: name.to_string(),
            return_sequences: f.return_sequences,
            return_state: f.return_state,
            forward,
            backward,
            merge,
        })
    }
}

impl Layer for Bidirectional {
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
        let nf = self.forward.num_states();
        let nb = self.backward.num_states();
        if !initial.is_empty() && initial.len() != nf + nb {
            return Err(value_err!(
                "Bidirectional \"{}\": expected {} initial states ({nf} for the forward layer, {nb} for the backward one), got {}",
                self.name,
                nf + nb,
                initial.len()
            ));
        }
        let (init_f, init_b) = if initial.is_empty() {
            (&[][..], &[][..])
        } else {
            initial.split_at(nf)
        };
        let mask = masks.first().cloned().flatten();
        let (seq_f, states_f) = self.forward.run(x.into(), init_f, mask.as_ref(), ctx)?;
        let (seq_b, states_b) = self.backward.run(x.into(), init_b, mask.as_ref(), ctx)?;
        let (y, y_rev) = if self.return_sequences {
            (seq_f, ops::flip(&seq_b, Some(&[1]))?)
        } else {
            (states_f[0].clone(), states_b[0].clone())
        };
        let mut outs = match self.merge {
            MergeMode::Concat => vec![ops::concatenate(&[y, y_rev], -1)?],
            MergeMode::Sum => vec![ops::add(&y, &y_rev)?],
            MergeMode::Mul => vec![ops::multiply(&y, &y_rev)?],
            MergeMode::Ave => vec![ops::scale(&ops::add(&y, &y_rev)?, 0.5)?],
            MergeMode::None => vec![y, y_rev],
        };
        if self.return_state {
            outs.extend(states_f);
            outs.extend(states_b);
        }
        Ok(outs)
    }

    fn variables(&self) -> Vec<Variable> {
        let mut v = self.forward.variables();
        v.extend(self.backward.variables());
        v
    }

    fn regularization(&self) -> Result<Option<Tensor>> {
        Ok(
            match (
                self.forward.regularization()?,
                self.backward.regularization()?,
            ) {
                (Some(a), Some(b)) => Some(ops::add(&a, &b)?),
                (a, b) => a.or(b),
            },
        )
    }

    fn apply_constraints(&self) -> Result<()> {
        self.forward.apply_constraints()?;
        self.backward.apply_constraints()
    }

    fn supports_masking(&self) -> bool {
        true
    }

    fn compute_mask(
        &self,
        _inputs: &[Tensor],
        masks: &[Option<Tensor>],
    ) -> Result<Vec<Option<Tensor>>> {
        let m = if self.return_sequences {
            masks.first().cloned().flatten()
        } else {
            None
        };
        let mut out = vec![m.clone()];
        if self.merge == MergeMode::None {
            out.push(m);
        }
        if self.return_state {
            let n = self.forward.num_states() + self.backward.num_states();
            out.extend(vec![None; n]);
        }
        Ok(out)
    }
}
