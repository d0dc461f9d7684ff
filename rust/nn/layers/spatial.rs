//! Spatial reshaping layers: `ZeroPadding{1,2,3}D` (zeros around the spatial axes),
//! `Cropping{1,2,3}D` (a view without the borders) and `UpSampling{1,2,3}D` (each position
//! repeated, or half-pixel bilinear interpolation for `UpSampling2D`). The rank is the
//! number of spatial axes; the batch and channel axes are never touched.
use super::{incompatible, single_input};
use crate::error::Result;
use crate::nn::{Context, Layer};
use crate::ops::{self, PadMode};
use crate::tensor::Tensor;
use crate::value_err;

/// The axis of spatial axis `i` in an input of the given layout.
fn spatial_axis(channels_first: bool, i: usize) -> usize {
    if channels_first {
        i + 2
    } else {
        i + 1
    }
}

/// The single input, which must have rank `rank + 2`.
fn spatial_input<'a>(layer: &str, inputs: &'a [Tensor], rank: usize) -> Result<&'a Tensor> {
    let x = single_input(layer, inputs)?;
    if x.ndim() != rank + 2 {
        return Err(incompatible(layer, format!("ndim={}", rank + 2), x.shape()));
    }
    Ok(x)
}

/// `keras.layers.ZeroPadding{1,2,3}D`: `padding[i] = (before, after)` zeros on spatial axis `i`.
pub struct ZeroPadding {
    name: String,
    padding: Vec<(usize, usize)>,
    channels_first: bool,
}

impl ZeroPadding {
    pub fn new(name: &str, padding: Vec<(usize, usize)>, channels_first: bool) -> Result<Self> {
        if padding.is_empty() {
            return Err(value_err!(
                "ZeroPadding layer \"{name}\": `padding` must hold one (before, after) pair per spatial axis"
            ));
        }
        Ok(ZeroPadding {
            name: name.to_string(),
            padding,
            channels_first,
        })
    }
}

impl Layer for ZeroPadding {
    fn name(&self) -> &str {
        &self.name
    }

    fn call(&self, inputs: &[Tensor], _ctx: &mut Context) -> Result<Vec<Tensor>> {
        let x = spatial_input(&self.name, inputs, self.padding.len())?;
        let mut widths = vec![(0, 0); x.ndim()];
        for (i, &p) in self.padding.iter().enumerate() {
            widths[spatial_axis(self.channels_first, i)] = p;
        }
        Ok(vec![ops::pad(x, &widths, PadMode::Constant, 0.0)?])
    }
}

/// `keras.layers.Cropping{1,2,3}D`: drops `cropping[i] = (before, after)` elements from
/// spatial axis `i` (a view); at least one element must remain.
pub struct Cropping {
    name: String,
    cropping: Vec<(usize, usize)>,
    channels_first: bool,
}

impl Cropping {
    pub fn new(name: &str, cropping: Vec<(usize, usize)>, channels_first: bool) -> Result<Self> {
        if cropping.is_empty() {
            return Err(value_err!(
                "Cropping layer \"{name}\": `cropping` must hold one (before, after) pair per spatial axis"
            ));
        }
        Ok(Cropping {
            name: name.to_string(),
            cropping,
            channels_first,
        })
    }
}

impl Layer for Cropping {
    fn name(&self) -> &str {
        &self.name
    }

    fn call(&self, inputs: &[Tensor], _ctx: &mut Context) -> Result<Vec<Tensor>> {
        let x = spatial_input(&self.name, inputs, self.cropping.len())?;
        let mut start = vec![0; x.ndim()];
        let mut size: Vec<isize> = vec![-1; x.ndim()];
        for (i, &(a, b)) in self.cropping.iter().enumerate() {
            let d = spatial_axis(self.channels_first, i);
            let n = x.shape()[d];
            if a.saturating_add(b) >= n {
                return Err(value_err!(
                    "Cropping{}D layer \"{}\": values in `cropping` should be smaller than the corresponding spatial dimension of the input. Received: inputs.shape={:?}, cropping={:?}",
                    self.cropping.len(),
                    self.name,
                    x.shape(),
                    self.cropping
                ));
            }
            start[d] = a;
            size[d] = (n - a - b) as isize;
        }
        Ok(vec![ops::slice(x, &start, &size)?])
    }
}

/// How `UpSampling` fills the new positions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Interpolation {
    /// Each position repeated.
    Nearest,
    /// Half-pixel linear interpolation along each spatial axis (`ops::resize_linear_axis`).
    Bilinear,
}

/// `keras.layers.UpSampling{1,2,3}D`: spatial axis `i` grows by the factor `size[i]`.
pub struct UpSampling {
    name: String,
    size: Vec<usize>,
    interpolation: Interpolation,
    channels_first: bool,
}

impl UpSampling {
    pub fn new(
        name: &str,
        size: Vec<usize>,
        interpolation: Interpolation,
        channels_first: bool,
    ) -> Result<Self> {
        if size.is_empty() || size.contains(&0) {
            return Err(value_err!(
                "UpSampling layer \"{name}\": `size` must hold one positive factor per spatial axis. Received: size={size:?}"
            ));
        }
        Ok(UpSampling {
            name: name.to_string(),
            size,
            interpolation,
            channels_first,
        })
    }
}

impl Layer for UpSampling {
    fn name(&self) -> &str {
        &self.name
    }

    fn call(&self, inputs: &[Tensor], _ctx: &mut Context) -> Result<Vec<Tensor>> {
        let x = spatial_input(&self.name, inputs, self.size.len())?;
        x.expect_f32(&format!(
            "UpSampling{}D layer \"{}\"",
            self.size.len(),
            self.name
        ))?;
        let mut out_shape = x.shape().to_vec();
        for (i, &f) in self.size.iter().enumerate() {
            let d = spatial_axis(self.channels_first, i);
            out_shape[d] = out_shape[d].checked_mul(f).ok_or_else(|| {
                value_err!(
                    "UpSampling layer \"{}\": inputs of shape {:?} upsampled by {:?} would be too large",
                    self.name,
                    x.shape(),
                    self.size
                )
            })?;
        }
        let y = match self.interpolation {
            Interpolation::Nearest => {
                ops::checked_numel("up_sampling", &out_shape)?;
                let maps = (0..x.ndim())
                    .map(|d| {
                        let f = (0..self.size.len())
                            .find(|&i| spatial_axis(self.channels_first, i) == d)
                            .map_or(1, |i| self.size[i]);
                        (0..out_shape[d]).map(|j| Some(j / f)).collect()
                    })
                    .collect();
                ops::index_gather("up_sampling", x, maps, &out_shape, 0.0)
            }
            Interpolation::Bilinear => {
                let mut y = x.clone();
                for (i, &f) in self.size.iter().enumerate() {
                    if f != 1 {
                        let d = spatial_axis(self.channels_first, i);
                        y = ops::resize_linear_axis(&y, d, out_shape[d])?;
                    }
                }
                y
            }
        };
        Ok(vec![y])
    }
}
