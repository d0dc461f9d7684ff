//! Intensity augmentations: `RandomContrast` and `RandomBrightness`, one random factor per
//! image in training, the identity at inference. Both are linear in the images before the
//! final clip, so gradients flow to the images.
use super::super::single_input;
use super::{check_range, label, Images, SeedStream};
use crate::error::Result;
use crate::nn::{Context, Layer};
use crate::ops;
use crate::tensor::Tensor;
use crate::value_err;

/// Per-image values as a tensor that broadcasts over `(n, h, w, c)`.
fn per_image(v: Vec<f32>) -> Result<Tensor> {
    let n = v.len();
    Tensor::from_f32(v, &[n, 1, 1, 1])
}

/// `keras.layers.RandomContrast(factor, value_range=(0, 255), seed=None)`: per image and
/// channel, `(x - mean) * f + mean` with `mean` over the height and width and `f` drawn in
/// `[1 - lower, 1 + upper]` per image, clipped to `value_range`.
pub struct RandomContrast {
    name: String,
    factor: (f32, f32),
    value_range: (f32, f32),
    stream: SeedStream,
    channels_first: bool,
}

impl RandomContrast {
    pub fn new(
        name: &str,
        factor: (f32, f32),
        value_range: (f32, f32),
        seed: Option<u64>,
        channels_first: bool,
    ) -> Result<RandomContrast> {
        let who = label("RandomContrast", name);
        let (lower, upper) = factor;
        if !(lower >= 0.0 && upper >= 0.0 && lower <= 1.0) {
            return Err(value_err!(
                "{who}: the `factor` argument cannot have negative values or a lower bound greater than 1. Received: factor=({lower}, {upper})"
            ));
        }
        Ok(RandomContrast {
            name: name.to_string(),
            factor,
            value_range,
            stream: SeedStream::new(seed),
            channels_first,
        })
    }
}

impl Layer for RandomContrast {
    fn name(&self) -> &str {
        &self.name
    }

    fn call(&self, inputs: &[Tensor], ctx: &mut Context) -> Result<Vec<Tensor>> {
        let x = single_input(&self.name, inputs)?;
        let images = Images::new(&label("RandomContrast", &self.name), x, self.channels_first)?;
        if !ctx.training {
            return Ok(vec![x.clone()]);
        }
        let (lower, upper) = self.factor;
        let f = self
            .stream
            .uniform(ctx, images.n(), 1.0 - lower, 1.0 + upper);
        let mean = ops::mean(&images.x, Some(&[1, 2]), true)?;
        let centered = ops::subtract(&images.x, &mean)?;
        let y = ops::add(&ops::multiply(&centered, &per_image(f)?)?, &mean)?;
        let y = ops::clip(&y, self.value_range.0, self.value_range.1)?;
        Ok(vec![images.finish(y)?])
    }
}

/// `keras.layers.RandomBrightness(factor, value_range=(0, 255), seed=None)`: adds
/// `f * (high - low)` with `f` drawn in `factor` per image, clipped to `value_range`
/// (`(low, high)`, sorted).
pub struct RandomBrightness {
    name: String,
    factor: (f32, f32),
    value_range: (f32, f32),
    stream: SeedStream,
}

impl RandomBrightness {
    pub fn new(
        name: &str,
        factor: (f32, f32),
        value_range: (f32, f32),
        seed: Option<u64>,
    ) -> Result<RandomBrightness> {
        check_range(
            &label("RandomBrightness", name),
            "factor",
            factor,
            (-1.0, 1.0),
        )?;
        let (a, b) = value_range;
        Ok(RandomBrightness {
            name: name.to_string(),
            factor,
            value_range: (a.min(b), a.max(b)),
            stream: SeedStream::new(seed),
        })
    }
}

impl Layer for RandomBrightness {
    fn name(&self) -> &str {
        &self.name
    }

    fn call(&self, inputs: &[Tensor], ctx: &mut Context) -> Result<Vec<Tensor>> {
        let x = single_input(&self.name, inputs)?;
        if !ctx.training {
            return Ok(vec![x.clone()]);
        }
        let images = Images::new(&label("RandomBrightness", &self.name), x, false)?;
        let (low, high) = self.value_range;
        let delta = self
            .stream
            .uniform(ctx, images.n(), self.factor.0, self.factor.1);
        let delta = delta.into_iter().map(|d| d * (high - low)).collect();
        let y = ops::add(&images.x, &per_image(delta)?)?;
        Ok(vec![images.finish(ops::clip(&y, low, high)?)?])
    }
}
