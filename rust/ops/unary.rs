//! Elementwise unary ops. `unary` is the one kernel: forward map plus a gradient rule
//! computed from the input (and the output where that is cheaper).
use crate::autograd::record;
use crate::cpu::elementwise::{map, zip3_map};
use crate::cpu::math;
use crate::error::Result;
use crate::tensor::Tensor;

/// Applies `f` elementwise; the gradient is `g * df(x, y)` where `y = f(x)`, computed in
/// one fused pass.
pub(crate) fn unary(
    op: &'static str,
    x: &Tensor,
    f: impl Fn(f32) -> f32 + Sync + Send,
    df: impl Fn(f32, f32) -> f32 + Sync + Send + 'static,
) -> Result<Tensor> {
    x.expect_f32(op)?;
    let y = Tensor::new_f32(map(&x.f32_data()?, f), x.shape());
    Ok(record(op, &[x], y.clone(), || {
        let (x, y) = (x.detach(), y);
        move |g: &Tensor| {
            let (xd, yd, gd) = (x.f32_data()?, y.f32_data()?, g.f32_data()?);
            Ok(vec![Some(Tensor::new_f32(
                zip3_map(&gd, &xd, &yd, |g, x, y| g * df(x, y)),
                x.shape(),
            ))])
        }
    }))
}

/// Applies a non-differentiable `f` elementwise; nothing is recorded.
fn unary_nondiff(
    op: &'static str,
    x: &Tensor,
    f: impl Fn(f32) -> f32 + Sync + Send,
) -> Result<Tensor> {
    x.expect_f32(op)?;
    Ok(Tensor::new_f32(map(&x.f32_data()?, f), x.shape()))
}

pub fn negative(x: &Tensor) -> Result<Tensor> {
    unary("negative", x, |v| -v, |_, _| -1.0)
}

pub fn exp(x: &Tensor) -> Result<Tensor> {
    unary("exp", x, math::exp, |_, y| y)
}

pub fn relu(x: &Tensor) -> Result<Tensor> {
    unary(
        "relu",
        x,
        |v| v.max(0.0),
        |x, _| if x > 0.0 { 1.0 } else { 0.0 },
    )
}
