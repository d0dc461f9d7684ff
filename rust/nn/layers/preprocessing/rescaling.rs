//! `Rescaling`: `x * scale + offset`, in training and inference alike.
use super::super::single_input;
use super::label;
use crate::autograd::record;
use crate::cpu::elementwise::map;
use crate::error::Result;
use crate::nn::{Context, Layer};
use crate::ops;
use crate::tensor::Tensor;

/// `keras.layers.Rescaling(scale, offset=0.0)`: `scale` and `offset` broadcast against the
/// inputs with numpy's rules (scalars, or per-channel arrays).
pub struct Rescaling {
    name: String,
    scale: Tensor,
    offset: Tensor,
}

impl Rescaling {
    pub fn new(name: &str, scale: Tensor, offset: Tensor) -> Result<Rescaling> {
        let who = label("Rescaling", name);
        scale.expect_f32(&who)?;
        offset.expect_f32(&who)?;
        Ok(Rescaling {
            name: name.to_string(),
            scale: scale.detach(),
            offset: offset.detach(),
        })
    }
}

impl Layer for Rescaling {
    fn name(&self) -> &str {
        &self.name
    }

    fn call(&self, inputs: &[Tensor], _ctx: &mut Context) -> Result<Vec<Tensor>> {
        let x = single_input(&self.name, inputs)?;
        x.expect_f32(&label("Rescaling", &self.name))?;
        if self.scale.ndim() == 0 && self.offset.ndim() == 0 {
            // one pass for the usual scalar case
            let (s, o) = (self.scale.item()?, self.offset.item()?);
            let y = Tensor::from_f32(map(&x.f32_data()?, |v| v * s + o), x.shape())?;
            return Ok(vec![record("rescaling", &[x], y, || {
                move |g: &Tensor| Ok(vec![Some(ops::scale(g, s)?)])
            })]);
        }
        let y = ops::add(&ops::multiply(x, &self.scale)?, &self.offset)?;
        Ok(vec![y])
    }
}
