//! Elementwise binary arithmetic with numpy broadcasting.
use super::{negative, sum_to_shape};
use crate::autograd::record;
use crate::cpu::elementwise::broadcast_map;
use crate::error::Result;
use crate::tensor::{broadcast_shapes, Tensor};

/// Checks dtypes and shapes, then computes `f(a, b)` elementwise with broadcasting.
pub(crate) fn broadcast_forward(
    op: &str,
    a: &Tensor,
    b: &Tensor,
    f: impl Fn(f32, f32) -> f32 + Sync + Send,
) -> Result<Tensor> {
    a.expect_f32(op)?;
    b.expect_f32(op)?;
    let shape = broadcast_shapes(op, a.shape(), b.shape())?;
    Ok(Tensor::new_f32(broadcast_map(a, b, &shape, f), &shape))
}

pub fn add(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    let out = broadcast_forward("add", a, b, |x, y| x + y)?;
    Ok(record("add", &[a, b], out, || {
        let (sa, sb) = (a.shape().to_vec(), b.shape().to_vec());
        move |g: &Tensor| {
            Ok(vec![
                Some(sum_to_shape(g, &sa)?),
                Some(sum_to_shape(g, &sb)?),
            ])
        }
    }))
}

pub fn subtract(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    let out = broadcast_forward("subtract", a, b, |x, y| x - y)?;
    Ok(record("subtract", &[a, b], out, || {
        let (sa, sb) = (a.shape().to_vec(), b.shape().to_vec());
        move |g: &Tensor| {
            Ok(vec![
                Some(sum_to_shape(g, &sa)?),
                Some(sum_to_shape(&negative(g)?, &sb)?),
            ])
        }
    }))
}

pub fn multiply(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    let out = broadcast_forward("multiply", a, b, |x, y| x * y)?;
    Ok(record("multiply", &[a, b], out, || {
        let (a, b) = (a.detach(), b.detach());
        move |g: &Tensor| {
            Ok(vec![
                Some(sum_to_shape(&multiply(g, &b)?, a.shape())?),
                Some(sum_to_shape(&multiply(g, &a)?, b.shape())?),
            ])
        }
    }))
}

pub fn divide(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    let out = broadcast_forward("divide", a, b, |x, y| x / y)?;
    Ok(record("divide", &[a, b], out, || {
        let (a, b) = (a.detach(), b.detach());
        move |g: &Tensor| {
            let ga = divide(g, &b)?;
            // d(a/b)/db = -a/b^2 = -(g/b) * a/b
            let gb = negative(&multiply(&ga, &divide(&a, &b)?)?)?;
            Ok(vec![
                Some(sum_to_shape(&ga, a.shape())?),
                Some(sum_to_shape(&gb, b.shape())?),
            ])
        }
    }))
}

/// `x * s` for a scalar `s`.
pub fn scale(x: &Tensor, s: f32) -> Result<Tensor> {
    multiply(x, &Tensor::scalar(s))
}
