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

/// max(x, 0); NaN propagates (as in numpy and TF; `f32::max` would swallow it).
pub fn relu(x: &Tensor) -> Result<Tensor> {
    unary(
        "relu",
        x,
        |v| if v < 0.0 { 0.0 } else { v },
        |x, _| if x > 0.0 { 1.0 } else { 0.0 },
    )
}

pub fn abs(x: &Tensor) -> Result<Tensor> {
    unary("abs", x, f32::abs, |x, _| {
        if x > 0.0 {
            1.0
        } else if x < 0.0 {
            -1.0
        } else {
            0.0
        }
    })
}

pub fn square(x: &Tensor) -> Result<Tensor> {
    unary("square", x, |v| v * v, |x, _| 2.0 * x)
}

pub fn sqrt(x: &Tensor) -> Result<Tensor> {
    unary("sqrt", x, f32::sqrt, |_, y| 0.5 / y)
}

/// Natural logarithm.
pub fn log(x: &Tensor) -> Result<Tensor> {
    unary("log", x, math::ln, |x, _| 1.0 / x)
}

/// ln(1 + x), accurate near 0.
pub fn log1p(x: &Tensor) -> Result<Tensor> {
    unary("log1p", x, math::ln_1p, |x, _| 1.0 / (1.0 + x))
}

/// e^x - 1, accurate near 0.
pub fn expm1(x: &Tensor) -> Result<Tensor> {
    unary("expm1", x, math::exp_m1, |_, y| y + 1.0)
}

pub fn sin(x: &Tensor) -> Result<Tensor> {
    unary("sin", x, f32::sin, |x, _| x.cos())
}

pub fn cos(x: &Tensor) -> Result<Tensor> {
    unary("cos", x, f32::cos, |x, _| -x.sin())
}

/// 1 / x.
pub fn reciprocal(x: &Tensor) -> Result<Tensor> {
    unary("reciprocal", x, |v| 1.0 / v, |_, y| -y * y)
}

/// Clips to [min, max] as numpy does (`min(max(x, min), max)`, so `max` wins when
/// min > max; NaN stays NaN). The gradient passes where min <= x <= max.
pub fn clip(x: &Tensor, min: f32, max: f32) -> Result<Tensor> {
    unary(
        "clip",
        x,
        move |v| {
            let v = if v < min { min } else { v };
            if v > max {
                max
            } else {
                v
            }
        },
        move |x, _| if x >= min && x <= max { 1.0 } else { 0.0 },
    )
}

/// -1, 0 or 1 by the sign of x (NaN stays NaN). Not differentiable: records nothing.
pub fn sign(x: &Tensor) -> Result<Tensor> {
    unary_nondiff("sign", x, |v| {
        if v > 0.0 {
            1.0
        } else if v < 0.0 {
            -1.0
        } else {
            v
        }
    })
}

/// Not differentiable: records nothing.
pub fn floor(x: &Tensor) -> Result<Tensor> {
    unary_nondiff("floor", x, f32::floor)
}

/// Not differentiable: records nothing.
pub fn ceil(x: &Tensor) -> Result<Tensor> {
    unary_nondiff("ceil", x, f32::ceil)
}

/// Rounds half to even (numpy's rule) at `decimals` decimal places (negative: to tens,
/// hundreds...). Not differentiable: records nothing.
pub fn round(x: &Tensor, decimals: i32) -> Result<Tensor> {
    if decimals == 0 {
        return unary_nondiff("round", x, f32::round_ties_even);
    }
    let s = 10f32.powi(decimals.abs());
    if !s.is_finite() {
        // beyond f32's range of exponents: nothing to round (decimals > 0) or all to 0
        let big = decimals > 0;
        return unary_nondiff("round", x, move |v| if big { v } else { v * 0.0 });
    }
    if decimals > 0 {
        unary_nondiff("round", x, move |v| (v * s).round_ties_even() / s)
    } else {
        unary_nondiff("round", x, move |v| (v / s).round_ties_even() * s)
    }
}
