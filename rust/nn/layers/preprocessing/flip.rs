//! `RandomFlip`: each image flipped with probability 1/2 in training.
use super::super::single_input;
use super::{label, Images, SeedStream};
use crate::error::Result;
use crate::nn::{Context, Layer};
use crate::ops::image::flip_images;
use crate::tensor::Tensor;
use crate::value_err;

/// Which flips `RandomFlip` makes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlipMode {
    Horizontal,
    Vertical,
    HorizontalAndVertical,
}

impl FlipMode {
    pub fn parse(who: &str, mode: &str) -> Result<FlipMode> {
        match mode {
            "horizontal" => Ok(FlipMode::Horizontal),
            "vertical" => Ok(FlipMode::Vertical),
            "horizontal_and_vertical" => Ok(FlipMode::HorizontalAndVertical),
            other => Err(value_err!(
                "{who}: unknown `mode` '{other}'; expected 'horizontal', 'vertical' or 'horizontal_and_vertical'"
            )),
        }
    }
}

/// `keras.layers.RandomFlip(mode="horizontal_and_vertical", seed=None)`: one draw per
/// image; an image whose draw is <= 0.5 gets every flip of the mode (left-right for
/// "horizontal", top-bottom for "vertical", both together for "horizontal_and_vertical").
pub struct RandomFlip {
    name: String,
    mode: FlipMode,
    stream: SeedStream,
    channels_first: bool,
}

impl RandomFlip {
    pub fn new(name: &str, mode: FlipMode, seed: Option<u64>, channels_first: bool) -> RandomFlip {
        RandomFlip {
            name: name.to_string(),
            mode,
            stream: SeedStream::new(seed),
            channels_first,
        }
    }
}

impl Layer for RandomFlip {
    fn name(&self) -> &str {
        &self.name
    }

    fn call(&self, inputs: &[Tensor], ctx: &mut Context) -> Result<Vec<Tensor>> {
        let x = single_input(&self.name, inputs)?;
        let images = Images::new(&label("RandomFlip", &self.name), x, self.channels_first)?;
        if !ctx.training {
            return Ok(vec![x.clone()]);
        }
        let lr = self.mode != FlipMode::Vertical;
        let tb = self.mode != FlipMode::Horizontal;
        let flips: Vec<(bool, bool)> = self
            .stream
            .uniform(ctx, images.n(), 0.0, 1.0)
            .into_iter()
            .map(|u| (u <= 0.5 && lr, u <= 0.5 && tb))
            .collect();
        Ok(vec![images.finish(flip_images(&images.x, &flips)?)?])
    }
}
