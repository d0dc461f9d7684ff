//! `CenterCrop` and `RandomCrop`: windows of a fixed size, resized instead when the
//! images are too small (Keras's `smart_resize`: the largest centered window of the target
//! aspect ratio, resized bilinearly).
use super::super::single_input;
use super::{label, Images, SeedStream};
use crate::error::Result;
use crate::nn::{Context, Layer};
use crate::ops::image::{crop_images, resize, Interpolation};
use crate::tensor::Tensor;
use crate::value_err;

fn check_size(who: &str, height: usize, width: usize) -> Result<()> {
    if height == 0 || width == 0 {
        return Err(value_err!(
            "{who}: `height` and `width` must be positive. Received: height={height}, width={width}"
        ));
    }
    Ok(())
}

/// The largest centered window of the `height`/`width` aspect ratio, resized to that size.
fn smart_resize(x: &Tensor, height: usize, width: usize) -> Result<Tensor> {
    resize(
        x,
        height,
        width,
        Interpolation::Bilinear,
        false,
        true,
        false,
        0.0,
    )
}

/// `keras.layers.CenterCrop(height, width)`: the central `height` by `width` window; images
/// smaller than that on either side are smart-resized.
pub struct CenterCrop {
    name: String,
    height: usize,
    width: usize,
    channels_first: bool,
}

impl CenterCrop {
    pub fn new(
        name: &str,
        height: usize,
        width: usize,
        channels_first: bool,
    ) -> Result<CenterCrop> {
        check_size(&label("CenterCrop", name), height, width)?;
        Ok(CenterCrop {
            name: name.to_string(),
            height,
            width,
            channels_first,
        })
    }
}

impl Layer for CenterCrop {
    fn name(&self) -> &str {
        &self.name
    }

    fn call(&self, inputs: &[Tensor], _ctx: &mut Context) -> Result<Vec<Tensor>> {
        let x = single_input(&self.name, inputs)?;
        let images = Images::new(&label("CenterCrop", &self.name), x, self.channels_first)?;
        let (h, w) = (images.h(), images.w());
        let y = if h >= self.height && w >= self.width {
            let (top, left) = ((h - self.height) / 2, (w - self.width) / 2);
            crop_images(&images.x, top, left, self.height, self.width)?
        } else {
            smart_resize(&images.x, self.height, self.width)?
        };
        Ok(vec![images.finish(y)?])
    }
}

/// `keras.layers.RandomCrop(height, width, seed=None)`: in training, one random
/// `height` by `width` window for the whole batch when the images are larger on both
/// sides; otherwise (and at inference) the images are smart-resized.
pub struct RandomCrop {
    name: String,
    height: usize,
    width: usize,
    stream: SeedStream,
    channels_first: bool,
}

impl RandomCrop {
    pub fn new(
        name: &str,
        height: usize,
        width: usize,
        seed: Option<u64>,
        channels_first: bool,
    ) -> Result<RandomCrop> {
        check_size(&label("RandomCrop", name), height, width)?;
        Ok(RandomCrop {
            name: name.to_string(),
            height,
            width,
            stream: SeedStream::new(seed),
            channels_first,
        })
    }
}

impl Layer for RandomCrop {
    fn name(&self) -> &str {
        &self.name
    }

    fn call(&self, inputs: &[Tensor], ctx: &mut Context) -> Result<Vec<Tensor>> {
        let x = single_input(&self.name, inputs)?;
        let images = Images::new(&label("RandomCrop", &self.name), x, self.channels_first)?;
        let (h, w) = (images.h(), images.w());
        let y = if ctx.training && h > self.height && w > self.width {
            // Keras: int(uniform(0, h - height + 1)), then the same for the width
            let mut start = |room: usize| {
                let u = self.stream.uniform(ctx, 1, 0.0, (room + 1) as f32)[0];
                (u as usize).min(room)
            };
            let top = start(h - self.height);
            let left = start(w - self.width);
            crop_images(&images.x, top, left, self.height, self.width)?
        } else {
            smart_resize(&images.x, self.height, self.width)?
        };
        Ok(vec![images.finish(y)?])
    }
}
