//! `SpatialDropout1D/2D/3D`: dropout of whole channels (feature maps), active only in
//! training, kept channels scaled by `1 / (1 - rate)`.
use super::{incompatible, single_input, Dropout};
use crate::error::Result;
use crate::nn::{Context, Layer};
use crate::tensor::Tensor;
use crate::value_err;

/// `keras.layers.SpatialDropout{1,2,3}D` for inputs of rank `ndim` (3, 4 or 5): one draw
/// per sample and channel (the channel axis is 1 with `channels_first`, else the last),
/// shared by every position of the feature map.
pub struct SpatialDropout {
    ndim: usize,
    dropout: Dropout,
}

impl SpatialDropout {
    pub fn new(
        name: &str,
        ndim: usize,
        rate: f32,
        channels_first: bool,
        seed: Option<u64>,
    ) -> Result<SpatialDropout> {
        if !(3..=5).contains(&ndim) {
            return Err(value_err!(
                "SpatialDropout layer \"{name}\": inputs must have rank 3, 4 or 5, got {ndim}"
            ));
        }
        let mut noise_shape = vec![Some(1); ndim];
        noise_shape[0] = None;
        noise_shape[if channels_first { 1 } else { ndim - 1 }] = None;
        Ok(SpatialDropout {
            ndim,
            dropout: Dropout::new(name, rate, Some(noise_shape), seed)?,
        })
    }
}

impl Layer for SpatialDropout {
    fn name(&self) -> &str {
        self.dropout.name()
    }

    /// Keras: `supports_masking = True` (masks pass through).
    fn supports_masking(&self) -> bool {
        true
    }

    fn call(&self, inputs: &[Tensor], ctx: &mut Context) -> Result<Vec<Tensor>> {
        let x = single_input(self.name(), inputs)?;
        if x.ndim() != self.ndim {
            return Err(incompatible(
                self.name(),
                format!("ndim={}, found ndim={}", self.ndim, x.ndim()),
                x.shape(),
            ));
        }
        self.dropout.call(inputs, ctx)
    }
}
