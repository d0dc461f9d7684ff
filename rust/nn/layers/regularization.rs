//! Regularization layers: `Dropout`, `AlphaDropout`, `GaussianDropout`, `GaussianNoise`
//! (active only in training) and `ActivityRegularization` (adds a penalty to the loss).
use super::single_input;
use crate::cpu::elementwise::map;
use crate::error::Result;
use crate::nn::regularizers::Regularizer;
use crate::nn::{Context, Layer, SeedStream};
use crate::ops;
use crate::tensor::Tensor;
use crate::value_err;
use rand::Rng as _;
use rand_distr::StandardNormal;

fn check_rate(layer: &str, rate: f32) -> Result<()> {
    if !(0.0..=1.0).contains(&rate) {
        return Err(value_err!(
            "Invalid value received for argument `rate` of {layer}. Expected a float value between 0 and 1. Received: rate={rate}"
        ));
    }
    Ok(())
}

/// The mask shape for `input`: `noise_shape` with None filled from the input; each
/// dimension must equal the input's or be 1 (it is broadcast).
fn mask_shape(
    layer: &str,
    noise_shape: &Option<Vec<Option<usize>>>,
    input: &[usize],
) -> Result<Vec<usize>> {
    let Some(ns) = noise_shape else {
        return Ok(input.to_vec());
    };
    let shape: Vec<usize> = ns.iter().zip(input).map(|(d, &i)| d.unwrap_or(i)).collect();
    if ns.len() != input.len() || shape.iter().zip(input).any(|(&d, &i)| d != i && d != 1) {
        return Err(value_err!(
            "Layer \"{layer}\": noise_shape {ns:?} does not fit inputs of shape {input:?} (it needs one entry per axis, each None, 1 or the input's size)"
        ));
    }
    Ok(shape)
}

/// `keras.layers.Dropout(rate, noise_shape=None, seed=None)`: inverted dropout, kept
/// units scaled by `1 / (1 - rate)`.
pub struct Dropout {
    name: String,
    rate: f32,
    noise_shape: Option<Vec<Option<usize>>>,
    noise: SeedStream,
}

impl Dropout {
    pub fn new(
        name: &str,
        rate: f32,
        noise_shape: Option<Vec<Option<usize>>>,
        seed: Option<u64>,
    ) -> Result<Dropout> {
        check_rate("Dropout", rate)?;
        Ok(Dropout {
            name: name.to_string(),
            rate,
            noise_shape,
            noise: SeedStream::new(seed),
        })
    }
}

impl Layer for Dropout {
    fn name(&self) -> &str {
        &self.name
    }

    /// Keras: `supports_masking = True` (masks pass through).
    fn supports_masking(&self) -> bool {
        true
    }

    fn call(&self, inputs: &[Tensor], ctx: &mut Context) -> Result<Vec<Tensor>> {
        let x = single_input(&self.name, inputs)?;
        if !ctx.training || self.rate == 0.0 {
            return Ok(vec![x.clone()]);
        }
        let shape = mask_shape(&self.name, &self.noise_shape, x.shape())?;
        let (rate, scale) = (self.rate, 1.0 / (1.0 - self.rate));
        let n = shape.iter().product();
        let mask = self.noise.draw(ctx, n, |r| {
            if rate < 1.0 && r.random::<f32>() >= rate {
                scale
            } else {
                0.0
            }
        });
        Ok(vec![ops::multiply(x, &Tensor::from_f32(mask, &shape)?)?])
    }
}

/// `keras.layers.AlphaDropout(rate, noise_shape=None, seed=None)`: dropped units are set
/// to SELU's negative saturation and the result affinely corrected to keep mean and
/// variance: `a * (x * keep + alpha_p * (1 - keep)) + b`.
pub struct AlphaDropout {
    name: String,
    rate: f32,
    noise_shape: Option<Vec<Option<usize>>>,
    noise: SeedStream,
}

impl AlphaDropout {
    pub fn new(
        name: &str,
        rate: f32,
        noise_shape: Option<Vec<Option<usize>>>,
        seed: Option<u64>,
    ) -> Result<AlphaDropout> {
        check_rate("AlphaDropout", rate)?;
        Ok(AlphaDropout {
            name: name.to_string(),
            rate,
            noise_shape,
            noise: SeedStream::new(seed),
        })
    }
}

impl Layer for AlphaDropout {
    fn name(&self) -> &str {
        &self.name
    }

    /// Keras: `supports_masking = True` (masks pass through).
    fn supports_masking(&self) -> bool {
        true
    }

    fn call(&self, inputs: &[Tensor], ctx: &mut Context) -> Result<Vec<Tensor>> {
        let x = single_input(&self.name, inputs)?;
        if !ctx.training || self.rate == 0.0 {
            return Ok(vec![x.clone()]);
        }
        const ALPHA: f64 = 1.673_263_242_354_377_3;
        const SCALE: f64 = 1.050_700_987_355_480_5;
        let alpha_p = -ALPHA * SCALE;
        let p = self.rate as f64;
        let a = ((1.0 - p) * (1.0 + p * alpha_p * alpha_p)).powf(-0.5);
        let b = -a * alpha_p * p;
        let shape = mask_shape(&self.name, &self.noise_shape, x.shape())?;
        let rate = self.rate;
        let keep = self.noise.draw(ctx, shape.iter().product(), |r| {
            (r.random::<f32>() >= rate) as u8 as f32
        });
        let (a, b, dropped) = (a as f32, b as f32, (a * alpha_p + b) as f32);
        let factor = map(&keep, |k| k * a);
        let offset = map(&keep, |k| if k == 1.0 { b } else { dropped });
        let y = ops::multiply(x, &Tensor::from_f32(factor, &shape)?)?;
        Ok(vec![ops::add(&y, &Tensor::from_f32(offset, &shape)?)?])
    }
}

/// `keras.layers.GaussianDropout(rate, seed=None)`: multiplies by noise drawn from
/// `N(1, rate / (1 - rate))`.
pub struct GaussianDropout {
    name: String,
    rate: f32,
    noise: SeedStream,
}

impl GaussianDropout {
    pub fn new(name: &str, rate: f32, seed: Option<u64>) -> Result<GaussianDropout> {
        check_rate("GaussianDropout", rate)?;
        Ok(GaussianDropout {
            name: name.to_string(),
            rate,
            noise: SeedStream::new(seed),
        })
    }
}

impl Layer for GaussianDropout {
    fn name(&self) -> &str {
        &self.name
    }

    /// Keras: `supports_masking = True` (masks pass through).
    fn supports_masking(&self) -> bool {
        true
    }

    fn call(&self, inputs: &[Tensor], ctx: &mut Context) -> Result<Vec<Tensor>> {
        let x = single_input(&self.name, inputs)?;
        if !ctx.training || self.rate == 0.0 {
            return Ok(vec![x.clone()]);
        }
        let std = (self.rate / (1.0 - self.rate)).sqrt();
        let noise = self.noise.draw(ctx, x.numel(), |r| {
            1.0 + std * r.sample::<f32, _>(StandardNormal)
        });
        Ok(vec![ops::multiply(
            x,
            &Tensor::from_f32(noise, x.shape())?,
        )?])
    }
}

/// `keras.layers.GaussianNoise(stddev, seed=None)`: adds noise drawn from `N(0, stddev^2)`.
pub struct GaussianNoise {
    name: String,
    stddev: f32,
    noise: SeedStream,
}

impl GaussianNoise {
    pub fn new(name: &str, stddev: f32, seed: Option<u64>) -> Result<GaussianNoise> {
        if !(0.0..=1.0).contains(&stddev) {
            return Err(value_err!(
                "Invalid value received for argument `stddev` of GaussianNoise. Expected a float value between 0 and 1. Received: stddev={stddev}"
            ));
        }
        Ok(GaussianNoise {
            name: name.to_string(),
            stddev,
            noise: SeedStream::new(seed),
        })
    }
}

impl Layer for GaussianNoise {
    fn name(&self) -> &str {
        &self.name
    }

    /// Keras: `supports_masking = True` (masks pass through).
    fn supports_masking(&self) -> bool {
        true
    }

    fn call(&self, inputs: &[Tensor], ctx: &mut Context) -> Result<Vec<Tensor>> {
        let x = single_input(&self.name, inputs)?;
        if !ctx.training || self.stddev == 0.0 {
            return Ok(vec![x.clone()]);
        }
        let std = self.stddev;
        let noise = self
            .noise
            .draw(ctx, x.numel(), |r| std * r.sample::<f32, _>(StandardNormal));
        Ok(vec![ops::add(x, &Tensor::from_f32(noise, x.shape())?)?])
    }
}

/// `keras.layers.ActivityRegularization(l1=0.0, l2=0.0)`: the identity, adding
/// `l1 * sum|x| + l2 * sum x^2` to `ctx.losses` on every call (as Keras's
/// `activity_regularizer`, not divided by the batch size).
pub struct ActivityRegularization {
    name: String,
    regularizer: Regularizer,
}

impl ActivityRegularization {
    pub fn new(name: &str, l1: f32, l2: f32) -> Result<ActivityRegularization> {
        Ok(ActivityRegularization {
            name: name.to_string(),
            regularizer: Regularizer::new(l1, l2)?,
        })
    }
}

impl Layer for ActivityRegularization {
    fn name(&self) -> &str {
        &self.name
    }

    /// Keras: `supports_masking = True` (masks pass through).
    fn supports_masking(&self) -> bool {
        true
    }

    fn call(&self, inputs: &[Tensor], ctx: &mut Context) -> Result<Vec<Tensor>> {
        let x = single_input(&self.name, inputs)?;
        ctx.losses.push(self.regularizer.penalty(x)?);
        Ok(vec![x.clone()])
    }
}
