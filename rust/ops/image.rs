//! Image ops (`keras.ops.image`) on channels-last images: rank 4 `(n, h, w, c)` batches or
//! rank 3 `(h, w, c)` single images. Resizing, affine transforms and per-image flips are
//! gathers through `cpu::image` samplers, differentiable with respect to the images (the
//! backward scatters the gradient through the same weights); crops are views.
use super::{checked_numel, pad, reshape, slice, PadMode};
use crate::autograd::record;
use crate::cpu::image::{gather, scatter, Affine, Dims, Flip, Resize, Sampler};
use crate::error::Result;
use crate::tensor::{DType, Tensor};
use crate::value_err;

pub use crate::cpu::image::FillMode;

/// How samples between pixel centers are read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Interpolation {
    Nearest,
    Bilinear,
}

impl Interpolation {
    /// Parses a Keras interpolation name; `op` names the caller in the error.
    pub fn parse(op: &str, name: &str) -> Result<Interpolation> {
        match name {
            "bilinear" => Ok(Interpolation::Bilinear),
            "nearest" => Ok(Interpolation::Nearest),
            other => Err(value_err!(
                "{op}: invalid value for argument `interpolation`: expected one of 'bilinear', 'nearest'. Received: interpolation='{other}'"
            )),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Interpolation::Nearest => "nearest",
            Interpolation::Bilinear => "bilinear",
        }
    }
}

impl FillMode {
    /// Parses a Keras fill mode name; `op` names the caller in the error.
    pub fn parse(op: &str, name: &str) -> Result<FillMode> {
        match name {
            "constant" => Ok(FillMode::Constant),
            "nearest" => Ok(FillMode::Nearest),
            "wrap" => Ok(FillMode::Wrap),
            "reflect" => Ok(FillMode::Reflect),
            "mirror" => Ok(FillMode::Mirror),
            other => Err(value_err!(
                "{op}: invalid value for argument `fill_mode`: expected one of 'constant', 'nearest', 'wrap', 'reflect', 'mirror'. Received: fill_mode='{other}'"
            )),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            FillMode::Constant => "constant",
            FillMode::Nearest => "nearest",
            FillMode::Wrap => "wrap",
            FillMode::Reflect => "reflect",
            FillMode::Mirror => "mirror",
        }
    }
}

/// `images` as a rank-4 batch, and whether it was a single rank-3 image.
pub fn as_batch(op: &str, images: &Tensor) -> Result<(Tensor, bool)> {
    images.expect_f32(op)?;
    match images.ndim() {
        4 => Ok((images.clone(), false)),
        3 => {
            let mut shape = vec![1];
            shape.extend_from_slice(images.shape());
            Ok((reshape(images, &shape)?, true))
        }
        _ => Err(value_err!(
            "{op}: expected images of rank 3 (single image) or 4 (batch of images), channels last. Received input with shape {:?}",
            images.shape()
        )),
    }
}

/// Undoes `as_batch`: drops the batch axis again for a single image.
pub fn from_batch(y: Tensor, single: bool) -> Result<Tensor> {
    if single {
        reshape(&y, &y.shape()[1..])
    } else {
        Ok(y)
    }
}

fn dims(x: &Tensor) -> Dims {
    let s = x.shape();
    Dims {
        n: s[0],
        h: s[1],
        w: s[2],
        c: s[3],
    }
}

/// Runs `sampler` over the batch `x` into `oh` by `ow` images; the backward scatters the
/// gradient through the same taps.
fn sample<S: Sampler + 'static>(
    op: &'static str,
    x: &Tensor,
    oh: usize,
    ow: usize,
    sampler: S,
    fill: f32,
) -> Result<Tensor> {
    let d = dims(x);
    let out = gather(&x.f32_data()?, d, oh, ow, &sampler, fill);
    let out = Tensor::from_f32(out, &[d.n, oh, ow, d.c])?;
    Ok(record(op, &[x], out, move || {
        move |g: &Tensor| {
            let dx = scatter(&g.f32_data()?, d, oh, ow, &sampler);
            Ok(vec![Some(Tensor::from_f32(dx, &[d.n, d.h, d.w, d.c])?)])
        }
    }))
}

/// Keras's largest centered window of an `h` by `w` image with the aspect ratio of
/// `th` by `tw`: `(top, left, height, width)`.
pub fn aspect_crop_box(h: usize, w: usize, th: usize, tw: usize) -> (usize, usize, usize, usize) {
    let ch = ((w as f64 * th as f64 / tw as f64) as usize).min(h).max(1);
    let cw = ((h as f64 * tw as f64 / th as f64) as usize).min(w).max(1);
    (h.saturating_sub(ch) / 2, w.saturating_sub(cw) / 2, ch, cw)
}

/// `keras.ops.image.resize`: images to `height` by `width` with half-pixel centers
/// (TF/jax semantics). `crop_to_aspect_ratio` first takes the largest centered window of
/// the target aspect ratio; `pad_to_aspect_ratio` first pads the short side evenly with
/// `fill_value`. `antialias` changes nothing when upsampling and is refused when
/// downsampling (not implemented).
#[allow(clippy::too_many_arguments)]
pub fn resize(
    images: &Tensor,
    height: usize,
    width: usize,
    interpolation: Interpolation,
    antialias: bool,
    crop_to_aspect_ratio: bool,
    pad_to_aspect_ratio: bool,
    fill_value: f32,
) -> Result<Tensor> {
    const OP: &str = "resize";
    let (x, single) = as_batch(OP, images)?;
    let d = dims(&x);
    if height == 0 || width == 0 {
        return Err(value_err!(
            "{OP}: `size` must have positive height and width. Received: size=({height}, {width})"
        ));
    }
    if crop_to_aspect_ratio && pad_to_aspect_ratio {
        return Err(value_err!(
            "{OP}: only one of `pad_to_aspect_ratio` & `crop_to_aspect_ratio` can be True"
        ));
    }
    if d.h == 0 || d.w == 0 {
        return Err(value_err!(
            "{OP}: cannot resize empty images of shape {:?} to ({height}, {width})",
            images.shape()
        ));
    }
    checked_numel(OP, &[d.n, height, width, d.c])?;
    let x = if crop_to_aspect_ratio {
        let (top, left, ch, cw) = aspect_crop_box(d.h, d.w, height, width);
        crop_images(&x, top, left, ch, cw)?
    } else if pad_to_aspect_ratio {
        let ph = ((d.w as f64 * height as f64 / width as f64) as usize).max(d.h);
        let pw = ((d.h as f64 * width as f64 / height as f64) as usize).max(d.w);
        let (top, left) = ((ph - d.h) / 2, (pw - d.w) / 2);
        pad(
            &x,
            &[(0, 0), (top, top), (left, left), (0, 0)],
            PadMode::Constant,
            fill_value,
        )?
    } else {
        x
    };
    let d = dims(&x);
    if antialias && (height < d.h || width < d.w) {
        return Err(value_err!(
            "{OP}: antialias=True is not supported when downsampling (images of shape {:?} to ({height}, {width})); pass antialias=False",
            images.shape()
        ));
    }
    let y = if (d.h, d.w) == (height, width) {
        x
    } else {
        let bilinear = interpolation == Interpolation::Bilinear;
        let r = Resize::new(d.h, d.w, height, width, bilinear);
        sample("resize", &x, height, width, r, 0.0)?
    };
    from_batch(y, single)
}

/// `keras.ops.image.affine_transform`: each output pixel `(x, y)` reads the input at the
/// point its transform row `[a0, a1, a2, b0, b1, b2, c0, c1]` maps it to (see
/// `cpu::image::Affine`). `transform` is `(8,)` or `(k, 8)` with `k` 1 or the batch size.
/// Gradients flow to the images, not to the transforms.
pub fn affine_transform(
    images: &Tensor,
    transform: &Tensor,
    interpolation: Interpolation,
    fill_mode: FillMode,
    fill_value: f32,
) -> Result<Tensor> {
    let ts = transform.shape();
    let rows = match ts {
        [8] => 1,
        [k, 8] => *k,
        _ => {
            return Err(value_err!(
                "affine_transform: expected a transform of shape (8,) or (batch, 8) for images of shape {:?}. Received: transform.shape={ts:?}",
                images.shape()
            ))
        }
    };
    let t = match transform.dtype() {
        DType::F32 => transform.to_vec_f32()?,
        DType::I64 => transform.i64_data()?.iter().map(|&v| v as f32).collect(),
    };
    let rows = (0..rows)
        .map(|r| std::array::from_fn(|j| t[r * 8 + j] as f64))
        .collect();
    affine_rows(images, rows, interpolation, fill_mode, fill_value)
}

/// `affine_transform` by transform rows given in f64 (one per image, or one for all), for
/// layers that build the transforms themselves.
pub fn affine_rows(
    images: &Tensor,
    rows: Vec<[f64; 8]>,
    interpolation: Interpolation,
    fill_mode: FillMode,
    fill_value: f32,
) -> Result<Tensor> {
    const OP: &str = "affine_transform";
    let (x, single) = as_batch(OP, images)?;
    let d = dims(&x);
    if rows.len() != 1 && rows.len() != d.n {
        return Err(value_err!(
            "{OP}: got {} transforms for images of shape {:?}; expected 1 or one per image",
            rows.len(),
            images.shape()
        ));
    }
    let bilinear = interpolation == Interpolation::Bilinear;
    let s = Affine::new(rows, d.h, d.w, bilinear, fill_mode);
    from_batch(sample(OP, &x, d.h, d.w, s, fill_value)?, single)
}

/// Flips each image of a batch on its own: `flips[b] = (left-right, top-bottom)`.
pub fn flip_images(images: &Tensor, flips: &[(bool, bool)]) -> Result<Tensor> {
    const OP: &str = "flip_images";
    let (x, single) = as_batch(OP, images)?;
    let d = dims(&x);
    if flips.len() != d.n {
        return Err(value_err!(
            "{OP}: got {} flip choices for a batch of {} images of shape {:?}",
            flips.len(),
            d.n,
            images.shape()
        ));
    }
    let y = if flips.iter().all(|&f| f == (false, false)) {
        x
    } else {
        sample(OP, &x, d.h, d.w, Flip::new(flips.to_vec(), d.h, d.w), 0.0)?
    };
    from_batch(y, single)
}

/// The `height` by `width` window at (`top`, `left`) of every image (a view).
pub fn crop_images(
    images: &Tensor,
    top: usize,
    left: usize,
    height: usize,
    width: usize,
) -> Result<Tensor> {
    const OP: &str = "crop_images";
    let (x, single) = as_batch(OP, images)?;
    let d = dims(&x);
    if top.checked_add(height).map_or(true, |b| b > d.h)
        || left.checked_add(width).map_or(true, |r| r > d.w)
    {
        return Err(value_err!(
            "{OP}: the window of {height}x{width} pixels at (top={top}, left={left}) does not fit in images of shape {:?}",
            images.shape()
        ));
    }
    let y = slice(
        &x,
        &[0, top, left, 0],
        &[d.n as isize, height as isize, width as isize, d.c as isize],
    )?;
    from_batch(y, single)
}
