//! Image ops (`ember.ops.image`) and the preprocessing/augmentation layer factories. Each
//! factory returns the `NativeLayer` a Python layer keeps as its core; arguments arrive
//! already parsed into Keras's `(lower, upper)` ranges by the Python classes.
use super::handles::PyLayer;
use super::tensor::{to_tensor, PyTensor, PyVariable};
use crate::nn::layers::preprocessing::{
    CenterCrop, FlipMode, Normalization, RandomBrightness, RandomContrast, RandomCrop, RandomFlip,
    RandomRotation, RandomTranslation, RandomZoom, Rescaling, Resizing, Sampling,
};
use crate::nn::Layer;
use crate::ops::image::{self, FillMode, Interpolation};
use pyo3::prelude::*;
use std::sync::Arc;

type Range = (f32, f32);

fn native(layer: impl Layer + 'static) -> PyLayer {
    PyLayer {
        layer: Arc::new(layer),
    }
}

fn sampling(
    who: &str,
    interpolation: &str,
    fill_mode: &str,
    fill_value: f32,
) -> PyResult<Sampling> {
    Ok(Sampling {
        interpolation: Interpolation::parse(who, interpolation)?,
        fill_mode: FillMode::parse(who, fill_mode)?,
        fill_value,
    })
}

/// `keras.ops.image.resize` of channels-last images to `height` by `width`.
#[pyfunction]
#[pyo3(signature = (images, height, width, interpolation="bilinear", antialias=false, crop_to_aspect_ratio=false, pad_to_aspect_ratio=false, fill_value=0.0))]
#[allow(clippy::too_many_arguments)]
fn image_resize(
    py: Python<'_>,
    images: &Bound<'_, PyAny>,
    height: usize,
    width: usize,
    interpolation: &str,
    antialias: bool,
    crop_to_aspect_ratio: bool,
    pad_to_aspect_ratio: bool,
    fill_value: f32,
) -> PyResult<PyTensor> {
    let interpolation = Interpolation::parse("resize", interpolation)?;
    let x = to_tensor(images, Some("float32"))?;
    let y = py.detach(|| {
        image::resize(
            &x,
            height,
            width,
            interpolation,
            antialias,
            crop_to_aspect_ratio,
            pad_to_aspect_ratio,
            fill_value,
        )
    })?;
    Ok(PyTensor::new(y))
}

/// `keras.ops.image.affine_transform` of channels-last images.
#[pyfunction]
#[pyo3(signature = (images, transform, interpolation="bilinear", fill_mode="constant", fill_value=0.0))]
fn image_affine_transform(
    py: Python<'_>,
    images: &Bound<'_, PyAny>,
    transform: &Bound<'_, PyAny>,
    interpolation: &str,
    fill_mode: &str,
    fill_value: f32,
) -> PyResult<PyTensor> {
    let interpolation = Interpolation::parse("affine_transform", interpolation)?;
    let fill_mode = FillMode::parse("affine_transform", fill_mode)?;
    let x = to_tensor(images, Some("float32"))?;
    let t = to_tensor(transform, Some("float32"))?;
    let y = py.detach(|| image::affine_transform(&x, &t, interpolation, fill_mode, fill_value))?;
    Ok(PyTensor::new(y))
}

/// The `height` by `width` window at (`top`, `left`) of channels-last images (a view).
#[pyfunction]
fn image_crop(
    images: &Bound<'_, PyAny>,
    top: usize,
    left: usize,
    height: usize,
    width: usize,
) -> PyResult<PyTensor> {
    let x = to_tensor(images, Some("float32"))?;
    Ok(PyTensor::new(image::crop_images(
        &x, top, left, height, width,
    )?))
}

#[pyfunction]
fn rescaling_layer(
    name: &str,
    scale: &Bound<'_, PyAny>,
    offset: &Bound<'_, PyAny>,
) -> PyResult<PyLayer> {
    let scale = to_tensor(scale, Some("float32"))?;
    let offset = to_tensor(offset, Some("float32"))?;
    Ok(native(Rescaling::new(name, scale, offset)?))
}

#[pyfunction]
#[allow(clippy::too_many_arguments)]
fn normalization_layer(
    name: &str,
    mean: &Bound<'_, PyVariable>,
    variance: &Bound<'_, PyVariable>,
    count: &Bound<'_, PyVariable>,
    shape: Vec<usize>,
    invert: bool,
    epsilon: f32,
) -> PyResult<PyLayer> {
    let v = |b: &Bound<'_, PyVariable>| b.get().v.clone();
    Ok(native(Normalization::adapted(
        name,
        v(mean),
        v(variance),
        v(count),
        shape,
        invert,
        epsilon,
    )?))
}

#[pyfunction]
fn normalization_fixed_layer(
    name: &str,
    mean: &Bound<'_, PyAny>,
    variance: &Bound<'_, PyAny>,
    invert: bool,
    epsilon: f32,
) -> PyResult<PyLayer> {
    let mean = to_tensor(mean, Some("float32"))?;
    let variance = to_tensor(variance, Some("float32"))?;
    Ok(native(Normalization::fixed(
        name, mean, variance, invert, epsilon,
    )?))
}

#[pyfunction]
#[allow(clippy::too_many_arguments)]
fn resizing_layer(
    name: &str,
    height: usize,
    width: usize,
    interpolation: &str,
    crop_to_aspect_ratio: bool,
    pad_to_aspect_ratio: bool,
    fill_value: f32,
    channels_first: bool,
) -> PyResult<PyLayer> {
    let interpolation = Interpolation::parse("Resizing", interpolation)?;
    Ok(native(Resizing::new(
        name,
        height,
        width,
        interpolation,
        crop_to_aspect_ratio,
        pad_to_aspect_ratio,
        fill_value,
        channels_first,
    )?))
}

#[pyfunction]
fn center_crop_layer(
    name: &str,
    height: usize,
    width: usize,
    channels_first: bool,
) -> PyResult<PyLayer> {
    Ok(native(CenterCrop::new(
        name,
        height,
        width,
        channels_first,
    )?))
}

#[pyfunction]
#[pyo3(signature = (name, height, width, seed, channels_first))]
fn random_crop_layer(
    name: &str,
    height: usize,
    width: usize,
    seed: Option<u64>,
    channels_first: bool,
) -> PyResult<PyLayer> {
    Ok(native(RandomCrop::new(
        name,
        height,
        width,
        seed,
        channels_first,
    )?))
}

#[pyfunction]
#[pyo3(signature = (name, mode, seed, channels_first))]
fn random_flip_layer(
    name: &str,
    mode: &str,
    seed: Option<u64>,
    channels_first: bool,
) -> PyResult<PyLayer> {
    let mode = FlipMode::parse("RandomFlip", mode)?;
    Ok(native(RandomFlip::new(name, mode, seed, channels_first)))
}

#[pyfunction]
#[pyo3(signature = (name, factor, fill_mode, interpolation, fill_value, seed, channels_first))]
fn random_rotation_layer(
    name: &str,
    factor: Range,
    fill_mode: &str,
    interpolation: &str,
    fill_value: f32,
    seed: Option<u64>,
    channels_first: bool,
) -> PyResult<PyLayer> {
    let s = sampling("RandomRotation", interpolation, fill_mode, fill_value)?;
    Ok(native(RandomRotation::new(
        name,
        factor,
        s,
        seed,
        channels_first,
    )?))
}

#[pyfunction]
#[pyo3(signature = (name, height_factor, width_factor, fill_mode, interpolation, fill_value, seed, channels_first))]
#[allow(clippy::too_many_arguments)]
fn random_translation_layer(
    name: &str,
    height_factor: Range,
    width_factor: Range,
    fill_mode: &str,
    interpolation: &str,
    fill_value: f32,
    seed: Option<u64>,
    channels_first: bool,
) -> PyResult<PyLayer> {
    let s = sampling("RandomTranslation", interpolation, fill_mode, fill_value)?;
    Ok(native(RandomTranslation::new(
        name,
        height_factor,
        width_factor,
        s,
        seed,
        channels_first,
    )?))
}

#[pyfunction]
#[pyo3(signature = (name, height_factor, width_factor, fill_mode, interpolation, fill_value, seed, channels_first))]
#[allow(clippy::too_many_arguments)]
fn random_zoom_layer(
    name: &str,
    height_factor: Range,
    width_factor: Option<Range>,
    fill_mode: &str,
    interpolation: &str,
    fill_value: f32,
    seed: Option<u64>,
    channels_first: bool,
) -> PyResult<PyLayer> {
    let s = sampling("RandomZoom", interpolation, fill_mode, fill_value)?;
    Ok(native(RandomZoom::new(
        name,
        height_factor,
        width_factor,
        s,
        seed,
        channels_first,
    )?))
}

#[pyfunction]
#[pyo3(signature = (name, factor, value_range, seed, channels_first))]
fn random_contrast_layer(
    name: &str,
    factor: Range,
    value_range: Range,
    seed: Option<u64>,
    channels_first: bool,
) -> PyResult<PyLayer> {
    Ok(native(RandomContrast::new(
        name,
        factor,
        value_range,
        seed,
        channels_first,
    )?))
}

#[pyfunction]
#[pyo3(signature = (name, factor, value_range, seed))]
fn random_brightness_layer(
    name: &str,
    factor: Range,
    value_range: Range,
    seed: Option<u64>,
) -> PyResult<PyLayer> {
    Ok(native(RandomBrightness::new(
        name,
        factor,
        value_range,
        seed,
    )?))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(image_resize, m)?)?;
    m.add_function(wrap_pyfunction!(image_affine_transform, m)?)?;
    m.add_function(wrap_pyfunction!(image_crop, m)?)?;
    m.add_function(wrap_pyfunction!(rescaling_layer, m)?)?;
    m.add_function(wrap_pyfunction!(normalization_layer, m)?)?;
    m.add_function(wrap_pyfunction!(normalization_fixed_layer, m)?)?;
    m.add_function(wrap_pyfunction!(resizing_layer, m)?)?;
    m.add_function(wrap_pyfunction!(center_crop_layer, m)?)?;
    m.add_function(wrap_pyfunction!(random_crop_layer, m)?)?;
    m.add_function(wrap_pyfunction!(random_flip_layer, m)?)?;
    m.add_function(wrap_pyfunction!(random_rotation_layer, m)?)?;
    m.add_function(wrap_pyfunction!(random_translation_layer, m)?)?;
    m.add_function(wrap_pyfunction!(random_zoom_layer, m)?)?;
    m.add_function(wrap_pyfunction!(random_contrast_layer, m)?)?;
    m.add_function(wrap_pyfunction!(random_brightness_layer, m)?)?;
    Ok(())
}
