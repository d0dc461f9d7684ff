//! The affine augmentations: `RandomRotation`, `RandomTranslation`, `RandomZoom`. Each
//! draws per-image parameters in training, builds Keras's transform rows (output pixel to
//! input point) and samples through `ops::image::affine_rows`.
use super::super::single_input;
use super::{check_range, label, Images, SeedStream};
use crate::error::Result;
use crate::nn::{Context, Layer};
use crate::ops::image::{affine_rows, FillMode, Interpolation};
use crate::tensor::Tensor;

/// How the affine layers read the input: interpolation, and what fills the outside.
#[derive(Clone, Copy, Debug)]
pub struct Sampling {
    pub interpolation: Interpolation,
    pub fill_mode: FillMode,
    pub fill_value: f32,
}

/// One affine layer's call: the identity at inference, else the images through the
/// transform rows `rows(ctx, n, h, w)` makes.
fn apply(
    who: &str,
    inputs: &[Tensor],
    ctx: &mut Context,
    channels_first: bool,
    sampling: Sampling,
    rows: impl FnOnce(&mut Context, usize, f64, f64) -> Vec<[f64; 8]>,
) -> Result<Vec<Tensor>> {
    let x = single_input(who, inputs)?;
    let images = Images::new(who, x, channels_first)?;
    if !ctx.training {
        return Ok(vec![x.clone()]);
    }
    let (n, h, w) = (images.n(), images.h() as f64, images.w() as f64);
    let y = affine_rows(
        &images.x,
        rows(ctx, n, h, w),
        sampling.interpolation,
        sampling.fill_mode,
        sampling.fill_value,
    )?;
    Ok(vec![images.finish(y)?])
}

/// `keras.layers.RandomRotation(factor, fill_mode="reflect", interpolation="bilinear",
/// seed=None, fill_value=0.0)`: rotation by an angle drawn in `[lower, upper] * 2 pi` per
/// image, counter-clockwise for positive angles, about the image center.
pub struct RandomRotation {
    name: String,
    factor: (f32, f32),
    sampling: Sampling,
    stream: SeedStream,
    channels_first: bool,
}

impl RandomRotation {
    pub fn new(
        name: &str,
        factor: (f32, f32),
        sampling: Sampling,
        seed: Option<u64>,
        channels_first: bool,
    ) -> Result<RandomRotation> {
        check_range(
            &label("RandomRotation", name),
            "factor",
            factor,
            (-1.0, 1.0),
        )?;
        Ok(RandomRotation {
            name: name.to_string(),
            factor,
            sampling,
            stream: SeedStream::new(seed),
            channels_first,
        })
    }
}

impl Layer for RandomRotation {
    fn name(&self) -> &str {
        &self.name
    }

    fn call(&self, inputs: &[Tensor], ctx: &mut Context) -> Result<Vec<Tensor>> {
        let who = label("RandomRotation", &self.name);
        let rows = |ctx: &mut Context, n, h: f64, w: f64| {
            let tau = std::f32::consts::TAU;
            let (lo, hi) = (self.factor.0 * tau, self.factor.1 * tau);
            let angles = self.stream.uniform(ctx, n, lo, hi);
            angles
                .into_iter()
                .map(|a| {
                    let (sin, cos) = (a as f64).sin_cos();
                    let x_offset = ((w - 1.0) - (cos * (w - 1.0) - sin * (h - 1.0))) / 2.0;
                    let y_offset = ((h - 1.0) - (sin * (w - 1.0) + cos * (h - 1.0))) / 2.0;
                    [cos, -sin, x_offset, sin, cos, y_offset, 0.0, 0.0]
                })
                .collect()
        };
        apply(&who, inputs, ctx, self.channels_first, self.sampling, rows)
    }
}

/// `keras.layers.RandomTranslation(height_factor, width_factor, fill_mode="reflect",
/// interpolation="bilinear", seed=None, fill_value=0.0)`: shifts by fractions of the
/// height and width drawn per image (positive: down and right).
pub struct RandomTranslation {
    name: String,
    height_factor: (f32, f32),
    width_factor: (f32, f32),
    sampling: Sampling,
    stream: SeedStream,
    channels_first: bool,
}

impl RandomTranslation {
    pub fn new(
        name: &str,
        height_factor: (f32, f32),
        width_factor: (f32, f32),
        sampling: Sampling,
        seed: Option<u64>,
        channels_first: bool,
    ) -> Result<RandomTranslation> {
        let who = label("RandomTranslation", name);
        check_range(&who, "height_factor", height_factor, (-1.0, 1.0))?;
        check_range(&who, "width_factor", width_factor, (-1.0, 1.0))?;
        Ok(RandomTranslation {
            name: name.to_string(),
            height_factor,
            width_factor,
            sampling,
            stream: SeedStream::new(seed),
            channels_first,
        })
    }
}

impl Layer for RandomTranslation {
    fn name(&self) -> &str {
        &self.name
    }

    fn call(&self, inputs: &[Tensor], ctx: &mut Context) -> Result<Vec<Tensor>> {
        let who = label("RandomTranslation", &self.name);
        let rows = |ctx: &mut Context, n, h: f64, w: f64| {
            let (hf, wf) = (self.height_factor, self.width_factor);
            let dy = self.stream.uniform(ctx, n, hf.0, hf.1);
            let dx = self.stream.uniform(ctx, n, wf.0, wf.1);
            dy.into_iter()
                .zip(dx)
                .map(|(dy, dx)| {
                    let (dy, dx) = (dy as f64 * h, dx as f64 * w);
                    [1.0, 0.0, -dx, 0.0, 1.0, -dy, 0.0, 0.0]
                })
                .collect()
        };
        apply(&who, inputs, ctx, self.channels_first, self.sampling, rows)
    }
}

/// `keras.layers.RandomZoom(height_factor, width_factor=None, fill_mode="reflect",
/// interpolation="bilinear", seed=None, fill_value=0.0)`: zooms about the center by
/// `1 + f` per axis, `f` drawn per image (positive: out, negative: in); without a
/// `width_factor` both axes share the height's zoom.
pub struct RandomZoom {
    name: String,
    height_factor: (f32, f32),
    width_factor: Option<(f32, f32)>,
    sampling: Sampling,
    stream: SeedStream,
    channels_first: bool,
}

impl RandomZoom {
    pub fn new(
        name: &str,
        height_factor: (f32, f32),
        width_factor: Option<(f32, f32)>,
        sampling: Sampling,
        seed: Option<u64>,
        channels_first: bool,
    ) -> Result<RandomZoom> {
        let who = label("RandomZoom", name);
        check_range(&who, "height_factor", height_factor, (-1.0, 1.0))?;
        if let Some(wf) = width_factor {
            check_range(&who, "width_factor", wf, (-1.0, 1.0))?;
        }
        Ok(RandomZoom {
            name: name.to_string(),
            height_factor,
            width_factor,
            sampling,
            stream: SeedStream::new(seed),
            channels_first,
        })
    }
}

impl Layer for RandomZoom {
    fn name(&self) -> &str {
        &self.name
    }

    fn call(&self, inputs: &[Tensor], ctx: &mut Context) -> Result<Vec<Tensor>> {
        let who = label("RandomZoom", &self.name);
        let rows = |ctx: &mut Context, n, h: f64, w: f64| {
            let hf = self.height_factor;
            let zy = self.stream.uniform(ctx, n, 1.0 + hf.0, 1.0 + hf.1);
            let zx = match self.width_factor {
                Some(wf) => self.stream.uniform(ctx, n, 1.0 + wf.0, 1.0 + wf.1),
                None => zy.clone(),
            };
            zx.into_iter()
                .zip(zy)
                .map(|(zx, zy)| {
                    let (zx, zy) = (zx as f64, zy as f64);
                    let x_offset = (w - 1.0) / 2.0 * (1.0 - zx);
                    let y_offset = (h - 1.0) / 2.0 * (1.0 - zy);
                    [zx, 0.0, x_offset, 0.0, zy, y_offset, 0.0, 0.0]
                })
                .collect()
        };
        apply(&who, inputs, ctx, self.channels_first, self.sampling, rows)
    }
}
