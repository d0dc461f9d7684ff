//! `Masking` (steps whose features all equal `mask_value` are masked and zeroed) and the
//! check every mask consumer shares.
use super::single_input;
use crate::error::Result;
use crate::nn::{Context, Layer};
use crate::ops;
use crate::tensor::Tensor;
use crate::value_err;

/// Checks that each given mask has the leading axes of its input (a mask of shape
/// (batch, steps) for an input of shape (batch, steps, ...)); a ValueError naming the layer
/// and both shapes otherwise. Layers that read masks over time call this.
pub fn check_masks(layer: &str, inputs: &[Tensor], masks: &[Option<Tensor>]) -> Result<()> {
    check_with(layer, inputs, masks, |m, x| {
        m.ndim() <= x.ndim() && x.shape()[..m.ndim()] == *m.shape()
    })
}

/// The drivers' check of every mask they pass: at least one axis, no more axes than its
/// input and the input's batch size (the steps axis is the consuming layer's to check, as
/// channels_first layers keep steps last).
pub fn check_mask_batches(layer: &str, inputs: &[Tensor], masks: &[Option<Tensor>]) -> Result<()> {
    check_with(layer, inputs, masks, |m, x| {
        m.ndim() <= x.ndim() && x.shape().first() == m.shape().first()
    })
}

fn check_with(
    layer: &str,
    inputs: &[Tensor],
    masks: &[Option<Tensor>],
    ok: impl Fn(&Tensor, &Tensor) -> bool,
) -> Result<()> {
    if masks.len() > inputs.len() {
        return Err(value_err!(
            "Layer \"{layer}\" received {} masks for {} inputs",
            masks.len(),
            inputs.len()
        ));
    }
    for (x, m) in inputs.iter().zip(masks) {
        if let Some(m) = m {
            if m.ndim() == 0 || !ok(m, x) {
                return Err(value_err!(
                    "Layer \"{layer}\": the mask of shape {:?} does not match its input of shape {:?}; a mask must have the input's leading (batch, steps) axes",
                    m.shape(),
                    x.shape()
                ));
            }
        }
    }
    Ok(())
}

/// A mask as f32 0/1 values broadcastable against its input: trailing axes of size 1.
pub fn mask_as_weights(mask: &Tensor, ndim: usize) -> Result<Tensor> {
    let mut shape = mask.shape().to_vec();
    shape.resize(ndim, 1);
    ops::reshape(
        &ops::cast(mask, crate::tensor::DType::F32)?.detach(),
        &shape,
    )
}

/// `keras.layers.Masking`: mask = any(x != mask_value, axis=-1); output = x * mask.
pub struct Masking {
    name: String,
    mask_value: f32,
}

impl Masking {
    pub fn new(name: &str, mask_value: f32) -> Masking {
        Masking {
            name: name.to_string(),
            mask_value,
        }
    }

    fn mask(&self, x: &Tensor) -> Result<Tensor> {
        x.expect_f32(&format!("Masking layer \"{}\"", self.name))?;
        if x.ndim() < 2 {
            return Err(super::incompatible(&self.name, "min_ndim=2", x.shape()));
        }
        let nd = x.ndim();
        let last = x.shape()[nd - 1];
        let data = x.f32_data()?;
        let v = self.mask_value;
        let m: Vec<f32> = if last == 0 {
            vec![0.0; x.shape()[..nd - 1].iter().product()]
        } else {
            data.chunks(last)
                .map(|row| row.iter().any(|&e| e != v) as u8 as f32)
                .collect()
        };
        Tensor::from_f32(m, &x.shape()[..nd - 1])
    }
}

impl Layer for Masking {
    fn name(&self) -> &str {
        &self.name
    }

    fn call(&self, inputs: &[Tensor], _ctx: &mut Context) -> Result<Vec<Tensor>> {
        let x = single_input(&self.name, inputs)?;
        let m = self.mask(x)?;
        Ok(vec![ops::multiply(x, &mask_as_weights(&m, x.ndim())?)?])
    }

    fn supports_masking(&self) -> bool {
        true
    }

    fn compute_mask(
        &self,
        inputs: &[Tensor],
        _masks: &[Option<Tensor>],
    ) -> Result<Vec<Option<Tensor>>> {
        Ok(vec![Some(self.mask(single_input(&self.name, inputs)?)?)])
    }
}
