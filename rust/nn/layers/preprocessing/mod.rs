//! Preprocessing and image augmentation layers (Keras 3 semantics). The random layers act
//! only in training (`Context::training`) and are the identity otherwise, except
//! `RandomCrop`, which center-crops and resizes at inference as Keras documents. Images are
//! channels-last `(n, h, w, c)` batches or single `(h, w, c)` images (channels-first when
//! the layer was made with that data format).
mod color;
mod crop;
mod flip;
mod normalization;
mod rescaling;
mod resizing;
mod transform;

pub use color::{RandomBrightness, RandomContrast};
pub use crop::{CenterCrop, RandomCrop};
pub use flip::{FlipMode, RandomFlip};
pub use normalization::Normalization;
pub use rescaling::Rescaling;
pub use resizing::Resizing;
pub use transform::{RandomRotation, RandomTranslation, RandomZoom, Sampling};

use super::permute;
use crate::error::Result;
use crate::nn::SeedStream;
use crate::ops::image::{as_batch, from_batch};
use crate::tensor::Tensor;
use crate::value_err;

/// How a layer names itself in errors: `RandomFlip layer "random_flip"`.
fn label(kind: &str, name: &str) -> String {
    format!("{kind} layer \"{name}\"")
}

/// Checks that a factor range lies within `[min, max]`.
fn check_range(who: &str, arg: &str, (lo, hi): (f32, f32), (min, max): (f32, f32)) -> Result<()> {
    if !(lo >= min && hi <= max && lo <= hi) {
        return Err(value_err!(
            "{who}: the `{arg}` argument should be a number (or a list of two numbers) in the range [{min}, {max}]. Received: {arg}=({lo}, {hi})"
        ));
    }
    Ok(())
}

/// A layer's image input as a channels-last batch, remembering how to give it back.
struct Images {
    x: Tensor,
    single: bool,
    channels_first: bool,
}

impl Images {
    fn new(who: &str, x: &Tensor, channels_first: bool) -> Result<Images> {
        x.expect_f32(who)?;
        let x = match (x.ndim(), channels_first) {
            (3 | 4, false) => x.clone(),
            (3, true) => permute(x, &[1, 2, 0]),
            (4, true) => permute(x, &[0, 2, 3, 1]),
            _ => {
                return Err(value_err!(
                    "{who}: expected image tensor to have rank 3 (single image) or 4 (batch of images). Received: inputs.shape={:?}",
                    x.shape()
                ))
            }
        };
        let (x, single) = as_batch(who, &x)?;
        Ok(Images {
            x,
            single,
            channels_first,
        })
    }

    fn n(&self) -> usize {
        self.x.shape()[0]
    }

    fn h(&self) -> usize {
        self.x.shape()[1]
    }

    fn w(&self) -> usize {
        self.x.shape()[2]
    }

    /// `y`, a channels-last batch, in the layout the input had.
    fn finish(&self, y: Tensor) -> Result<Tensor> {
        let y = from_batch(y, self.single)?;
        Ok(match (self.channels_first, self.single) {
            (false, _) => y,
            (true, true) => permute(&y, &[2, 0, 1]),
            (true, false) => permute(&y, &[0, 3, 1, 2]),
        })
    }
}
