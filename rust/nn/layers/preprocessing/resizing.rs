//! `Resizing`: images to a fixed height and width.
use super::super::single_input;
use super::{label, Images};
use crate::error::Result;
use crate::nn::{Context, Layer};
use crate::ops::image::{resize, Interpolation};
use crate::tensor::Tensor;
use crate::value_err;

/// `keras.layers.Resizing(height, width, interpolation="bilinear",
/// crop_to_aspect_ratio=False, pad_to_aspect_ratio=False, fill_mode="constant",
/// fill_value=0.0)`, computed by `ops::image::resize`.
pub struct Resizing {
    name: String,
    height: usize,
    width: usize,
    interpolation: Interpolation,
    crop_to_aspect_ratio: bool,
    pad_to_aspect_ratio: bool,
    fill_value: f32,
    channels_first: bool,
}

impl Resizing {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        name: &str,
        height: usize,
        width: usize,
        interpolation: Interpolation,
        crop_to_aspect_ratio: bool,
        pad_to_aspect_ratio: bool,
        fill_value: f32,
        channels_first: bool,
    ) -> Result<Resizing> {
        let who = label("Resizing", name);
        if height == 0 || width == 0 {
            return Err(value_err!(
                "{who}: `height` and `width` must be positive. Received: height={height}, width={width}"
            ));
        }
        if crop_to_aspect_ratio && pad_to_aspect_ratio {
            return Err(value_err!(
                "{who}: only one of `pad_to_aspect_ratio` & `crop_to_aspect_ratio` can be True"
            ));
        }
        Ok(Resizing {
            name: name.to_string(),
            height,
            width,
            interpolation,
            crop_to_aspect_ratio,
            pad_to_aspect_ratio,
            fill_value,
            channels_first,
        })
    }
}

impl Layer for Resizing {
    fn name(&self) -> &str {
        &self.name
    }

    fn call(&self, inputs: &[Tensor], _ctx: &mut Context) -> Result<Vec<Tensor>> {
        let x = single_input(&self.name, inputs)?;
        let images = Images::new(&label("Resizing", &self.name), x, self.channels_first)?;
        let y = resize(
            &images.x,
            self.height,
            self.width,
            self.interpolation,
            false,
            self.crop_to_aspect_ratio,
            self.pad_to_aspect_ratio,
            self.fill_value,
        )?;
        Ok(vec![images.finish(y)?])
    }
}
