//! `TimeDistributed(layer)`: the inner layer applied to every time step, by folding the
//! time axis into the batch axis: (batch, steps, ...) -> (batch * steps, ...) -> back.
use super::masking::check_masks;
use super::{incompatible, single_input};
use crate::autograd::Variable;
use crate::error::Result;
use crate::nn::{Context, Layer};
use crate::ops;
use crate::tensor::Tensor;
use std::sync::Arc;

pub struct TimeDistributed {
    name: String,
    layer: Arc<dyn Layer>,
}

impl TimeDistributed {
    pub fn new(name: &str, layer: Arc<dyn Layer>) -> TimeDistributed {
        TimeDistributed {
            name: name.to_string(),
            layer,
        }
    }

    fn fold(x: &Tensor) -> Result<Tensor> {
        let s = x.shape();
        let mut shape = vec![s[0] * s[1]];
        shape.extend_from_slice(&s[2..]);
        ops::reshape(x, &shape)
    }
}

impl Layer for TimeDistributed {
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
        let x = single_input(&self.name, inputs)?;
        if x.ndim() < 3 {
            return Err(incompatible(&self.name, "min_ndim=3", x.shape()));
        }
        check_masks(&self.name, inputs, masks)?;
        let (b, t) = (x.shape()[0], x.shape()[1]);
        // a mask with more than (batch, steps) axes folds like its input
        let inner_masks: Vec<Option<Tensor>> = match masks.first() {
            Some(Some(m)) if m.ndim() > 2 => vec![Some(Self::fold(m)?)],
            _ => Vec::new(),
        };
        let ys = self
            .layer
            .call_masked(&[Self::fold(x)?], &inner_masks, ctx)?;
        ys.iter()
            .map(|y| {
                let mut shape = vec![b, t];
                shape.extend_from_slice(&y.shape()[1..]);
                ops::reshape(y, &shape)
            })
            .collect()
    }

    fn variables(&self) -> Vec<Variable> {
        self.layer.variables()
    }

    fn regularization(&self) -> Result<Option<Tensor>> {
        self.layer.regularization()
    }

    fn apply_constraints(&self) -> Result<()> {
        self.layer.apply_constraints()
    }

    fn set_trainable(&self, trainable: bool) {
        self.layer.set_trainable(trainable)
    }

    fn supports_masking(&self) -> bool {
        true
    }
}
