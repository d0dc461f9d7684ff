//! Activation functions (keras.activations / keras.ops.nn formulas), each a pointwise
//! `unary` op whose gradient comes from the saved input and output.
use super::unary::unary;
use crate::cpu::math;
use crate::error::Result;
use crate::tensor::Tensor;
use crate::value_err;

const SELU_ALPHA: f32 = 1.673_263_2;
const SELU_SCALE: f32 = 1.050_701;
/// sqrt(2 / pi), for the tanh form of gelu.
const GELU_K: f32 = 0.797_884_6;
const GELU_C: f32 = 0.044_715;
/// 1 / sqrt(2 pi).
const INV_SQRT_2PI: f32 = 0.398_942_3;

/// min(max(x, 0), 6).
pub fn relu6(x: &Tensor) -> Result<Tensor> {
    unary(
        "relu6",
        x,
        |v| v.clamp(0.0, 6.0),
        |x, _| if x > 0.0 && x < 6.0 { 1.0 } else { 0.0 },
    )
}

/// x for x >= 0, `negative_slope * x` below.
pub fn leaky_relu(x: &Tensor, negative_slope: f32) -> Result<Tensor> {
    unary(
        "leaky_relu",
        x,
        move |v| if v >= 0.0 { v } else { negative_slope * v },
        move |x, _| if x >= 0.0 { 1.0 } else { negative_slope },
    )
}

/// keras.activations.relu(x, negative_slope, max_value, threshold):
/// `y = clip(x if x > threshold else 0, 0, max_value) - negative_slope * max(threshold - x, 0)`
/// (no clipping when `max_value` is None; with threshold 0 the first term is max(x, 0)).
pub fn relu_with(
    x: &Tensor,
    negative_slope: f32,
    max_value: Option<f32>,
    threshold: f32,
) -> Result<Tensor> {
    if let Some(m) = max_value {
        if m.is_nan() {
            return Err(value_err!("relu: max_value must be a number, got NaN"));
        }
    }
    let (hi, clip) = (max_value.unwrap_or(f32::INFINITY), max_value.is_some());
    unary(
        "relu",
        x,
        move |v| {
            let p = if v <= threshold { 0.0 } else { v }; // NaN passes through
            let p = if clip && p < 0.0 { 0.0 } else { p };
            let p = if p > hi { hi } else { p };
            let n = threshold - v;
            p - negative_slope * if n > 0.0 { n } else { 0.0 }
        },
        move |x, _| {
            let pass = x > threshold && (!clip || (x >= 0.0 && x <= hi));
            (if pass { 1.0 } else { 0.0 })
                + if threshold - x > 0.0 {
                    negative_slope
                } else {
                    0.0
                }
        },
    )
}

/// x for x > 0, `alpha * (e^x - 1)` below.
pub fn elu(x: &Tensor, alpha: f32) -> Result<Tensor> {
    unary(
        "elu",
        x,
        move |v| if v > 0.0 { v } else { alpha * math::exp_m1(v) },
        move |x, y| if x > 0.0 { 1.0 } else { y + alpha },
    )
}

/// `scale * elu(x, alpha)` with the self-normalising constants of Klambauer et al.
pub fn selu(x: &Tensor) -> Result<Tensor> {
    unary(
        "selu",
        x,
        |v| {
            SELU_SCALE
                * if v > 0.0 {
                    v
                } else {
                    SELU_ALPHA * math::exp_m1(v)
                }
        },
        |x, y| {
            if x > 0.0 {
                SELU_SCALE
            } else {
                y + SELU_SCALE * SELU_ALPHA
            }
        },
    )
}

/// Gaussian error linear unit: `x * Phi(x)` exactly (erf), or its tanh approximation
/// `0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))` when `approximate`.
pub fn gelu(x: &Tensor, approximate: bool) -> Result<Tensor> {
    if approximate {
        unary(
            "gelu",
            x,
            |v| 0.5 * v * (1.0 + math::tanh(GELU_K * (v + GELU_C * v * v * v))),
            |x, _| {
                let t = math::tanh(GELU_K * (x + GELU_C * x * x * x));
                0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * GELU_K * (1.0 + 3.0 * GELU_C * x * x)
            },
        )
    } else {
        unary(
            "gelu",
            x,
            |v| 0.5 * v * (1.0 + math::erf(v * std::f32::consts::FRAC_1_SQRT_2)),
            |x, _| {
                0.5 * (1.0 + math::erf(x * std::f32::consts::FRAC_1_SQRT_2))
                    + x * INV_SQRT_2PI * math::exp(-0.5 * x * x)
            },
        )
    }
}

pub fn sigmoid(x: &Tensor) -> Result<Tensor> {
    unary("sigmoid", x, math::sigmoid, |_, y| y * (1.0 - y))
}

/// Keras 3's piecewise-linear sigmoid: `relu6(x + 3) / 6`.
pub fn hard_sigmoid(x: &Tensor) -> Result<Tensor> {
    unary("hard_sigmoid", x, hard_sigmoid_f, |x, _| {
        if x > -3.0 && x < 3.0 {
            1.0 / 6.0
        } else {
            0.0
        }
    })
}

#[inline(always)]
fn hard_sigmoid_f(v: f32) -> f32 {
    (v * (1.0 / 6.0) + 0.5).clamp(0.0, 1.0)
}

/// `x * hard_sigmoid(x)` (hard swish).
pub fn hard_silu(x: &Tensor) -> Result<Tensor> {
    unary(
        "hard_silu",
        x,
        |v| v * hard_sigmoid_f(v),
        |x, _| {
            if x <= -3.0 {
                0.0
            } else if x >= 3.0 {
                1.0
            } else {
                (2.0 * x + 3.0) / 6.0
            }
        },
    )
}

pub fn tanh(x: &Tensor) -> Result<Tensor> {
    unary("tanh", x, math::tanh, |_, y| 1.0 - y * y)
}

/// ln(1 + e^x), computed without overflow.
pub fn softplus(x: &Tensor) -> Result<Tensor> {
    unary("softplus", x, math::softplus, |x, _| math::sigmoid(x))
}

/// x / (1 + |x|).
pub fn softsign(x: &Tensor) -> Result<Tensor> {
    unary(
        "softsign",
        x,
        |v| v / (1.0 + v.abs()),
        |x, _| {
            let d = 1.0 + x.abs();
            1.0 / (d * d)
        },
    )
}

/// x * sigmoid(x) (swish).
pub fn silu(x: &Tensor) -> Result<Tensor> {
    unary(
        "silu",
        x,
        |v| v * math::sigmoid(v),
        |x, _| {
            let s = math::sigmoid(x);
            s * (1.0 + x * (1.0 - s))
        },
    )
}

/// x * tanh(softplus(x)).
pub fn mish(x: &Tensor) -> Result<Tensor> {
    unary(
        "mish",
        x,
        |v| v * math::tanh(math::softplus(v)),
        |x, _| {
            let t = math::tanh(math::softplus(x));
            t + x * (1.0 - t * t) * math::sigmoid(x)
        },
    )
}

/// ln(sigmoid(x)) = -softplus(-x).
pub fn log_sigmoid(x: &Tensor) -> Result<Tensor> {
    unary(
        "log_sigmoid",
        x,
        |v| -math::softplus(-v),
        |x, _| math::sigmoid(-x),
    )
}

/// x for x >= 0, `alpha * (e^(x / alpha) - 1)` below.
pub fn celu(x: &Tensor, alpha: f32) -> Result<Tensor> {
    if alpha == 0.0 || alpha.is_nan() {
        return Err(value_err!("celu: alpha must be non-zero, got {alpha}"));
    }
    unary(
        "celu",
        x,
        move |v| {
            if v >= 0.0 {
                v
            } else {
                alpha * math::exp_m1(v / alpha)
            }
        },
        move |x, y| if x >= 0.0 { 1.0 } else { y / alpha + 1.0 },
    )
}

/// clip(x, -1, 1).
pub fn hard_tanh(x: &Tensor) -> Result<Tensor> {
    unary(
        "hard_tanh",
        x,
        |v| v.clamp(-1.0, 1.0),
        |x, _| if x > -1.0 && x < 1.0 { 1.0 } else { 0.0 },
    )
}

/// x - tanh(x).
pub fn tanh_shrink(x: &Tensor) -> Result<Tensor> {
    unary(
        "tanh_shrink",
        x,
        |v| v - math::tanh(v),
        |x, _| {
            let t = math::tanh(x);
            t * t
        },
    )
}

/// x - threshold above threshold, x + threshold below -threshold, else 0.
pub fn soft_shrink(x: &Tensor, threshold: f32) -> Result<Tensor> {
    unary(
        "soft_shrink",
        x,
        move |v| {
            if v > threshold {
                v - threshold
            } else if v < -threshold {
                v + threshold
            } else {
                0.0
            }
        },
        move |x, _| if x.abs() > threshold { 1.0 } else { 0.0 },
    )
}

/// x where |x| > threshold, else 0.
pub fn hard_shrink(x: &Tensor, threshold: f32) -> Result<Tensor> {
    unary(
        "hard_shrink",
        x,
        move |v| if v.abs() > threshold { v } else { 0.0 },
        move |x, _| if x.abs() > threshold { 1.0 } else { 0.0 },
    )
}

/// (x + sqrt(x^2 + b)) / 2.
pub fn squareplus(x: &Tensor, b: f32) -> Result<Tensor> {
    if b < 0.0 || b.is_nan() {
        return Err(value_err!("squareplus: b must be >= 0, got {b}"));
    }
    unary(
        "squareplus",
        x,
        move |v| 0.5 * (v + (v * v + b).sqrt()),
        move |x, _| 0.5 * (1.0 + x / (x * x + b).sqrt()),
    )
}

/// 0 below -1, (x + 1)^2 / 4 on [-1, 1], x above 1.
pub fn sparse_plus(x: &Tensor) -> Result<Tensor> {
    unary(
        "sparse_plus",
        x,
        |v| {
            if v <= -1.0 {
                0.0
            } else if v >= 1.0 {
                v
            } else {
                0.25 * (v + 1.0) * (v + 1.0)
            }
        },
        |x, _| {
            if x <= -1.0 {
                0.0
            } else if x >= 1.0 {
                1.0
            } else {
                0.5 * (x + 1.0)
            }
        },
    )
}

/// 0 below -1, (x + 1) / 2 on [-1, 1], 1 above 1.
pub fn sparse_sigmoid(x: &Tensor) -> Result<Tensor> {
    unary(
        "sparse_sigmoid",
        x,
        |v| {
            if v <= -1.0 {
                0.0
            } else if v >= 1.0 {
                1.0
            } else {
                0.5 * (v + 1.0)
            }
        },
        |x, _| if x > -1.0 && x < 1.0 { 0.5 } else { 0.0 },
    )
}

/// x where x > threshold, else `default_value`.
pub fn threshold(x: &Tensor, threshold: f32, default_value: f32) -> Result<Tensor> {
    unary(
        "threshold",
        x,
        move |v| if v > threshold { v } else { default_value },
        move |x, _| if x > threshold { 1.0 } else { 0.0 },
    )
}
