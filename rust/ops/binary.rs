//! Elementwise binary ops with numpy broadcasting: arithmetic, power, maximum/minimum,
//! where, comparisons and logical ops (the last two give int64 0/1 tensors).
use super::reduce::broadcast_to;
use super::unary::unary;
use super::{cast, negative, sum_to_shape};
use crate::autograd::record;
use crate::cpu::elementwise::{broadcast_map, broadcast_zip, zip3_map, zip_map};
use crate::error::Result;
use crate::tensor::{broadcast_shapes, DType, Tensor};

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

/// A differentiable broadcasting op `f(a, b)` whose partial derivatives are `dfa(a, b)`
/// and `dfb(a, b)`; each input's gradient is computed only when that input needs one.
fn binary_diff(
    op: &'static str,
    a: &Tensor,
    b: &Tensor,
    f: impl Fn(f32, f32) -> f32 + Sync + Send,
    dfa: impl Fn(f32, f32) -> f32 + Sync + Send + 'static,
    dfb: impl Fn(f32, f32) -> f32 + Sync + Send + 'static,
) -> Result<Tensor> {
    let out = broadcast_forward(op, a, b, f)?;
    Ok(record(op, &[a, b], out, || {
        let need = (a.requires_grad(), b.requires_grad());
        let (a, b) = (a.detach(), b.detach());
        move |g: &Tensor| {
            let partial = |df: &(dyn Fn(f32, f32) -> f32 + Sync + Send), shape: &[usize]| {
                let d = broadcast_map(&a, &b, g.shape(), df);
                let gd = g.f32_data()?;
                sum_to_shape(
                    &Tensor::new_f32(zip_map(&gd, &d, |g, d| g * d), g.shape()),
                    shape,
                )
            };
            Ok(vec![
                need.0.then(|| partial(&dfa, a.shape())).transpose()?,
                need.1.then(|| partial(&dfb, b.shape())).transpose()?,
            ])
        }
    }))
}

/// `a ** b` elementwise with broadcasting. d/db is `a^b ln a`, taken as 0 where a == 0
/// and b >= 0 (as PyTorch does).
pub fn power(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    binary_diff(
        "power",
        a,
        b,
        f32::powf,
        |x, p| if p == 0.0 { 0.0 } else { p * x.powf(p - 1.0) },
        |x, p| {
            if x == 0.0 && p >= 0.0 {
                0.0
            } else {
                x.powf(p) * x.ln()
            }
        },
    )
}

/// `x ** p` for a scalar exponent.
pub fn power_scalar(x: &Tensor, p: f32) -> Result<Tensor> {
    let df = move |x: f32, _: f32| if p == 0.0 { 0.0 } else { p * x.powf(p - 1.0) };
    if p == 2.0 {
        unary("power", x, |v| v * v, |x, _| 2.0 * x)
    } else if p == 1.0 {
        unary("power", x, |v| v, |_, _| 1.0)
    } else if p == 0.5 {
        unary("power", x, f32::sqrt, |_, y| 0.5 / y)
    } else {
        unary("power", x, move |v| v.powf(p), df)
    }
}

/// Elementwise maximum with broadcasting; NaN wins (as numpy). Ties split the gradient.
pub fn maximum(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    binary_diff(
        "maximum",
        a,
        b,
        |x, y| {
            if x > y {
                x
            } else if y >= x {
                y
            } else {
                x + y
            }
        },
        tie_split,
        |x, y| tie_split(y, x),
    )
}

/// Elementwise minimum with broadcasting; NaN wins (as numpy). Ties split the gradient.
pub fn minimum(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    binary_diff(
        "minimum",
        a,
        b,
        |x, y| {
            if x < y {
                x
            } else if y <= x {
                y
            } else {
                x + y
            }
        },
        |x, y| tie_split(y, x),
        tie_split,
    )
}

/// 1 where x > y, 0.5 on a tie, else 0: the share of max(x, y)'s gradient that goes to x.
#[inline(always)]
fn tie_split(x: f32, y: f32) -> f32 {
    if x > y {
        1.0
    } else if x == y {
        0.5
    } else {
        0.0
    }
}

/// `x` where `condition` is non-zero, else `y`, all three broadcast together. x and y
/// are float32 or int64 (an int64 operand is promoted when the other is float32); the
/// condition may have either dtype. Gradients flow to x and y, never to the condition.
pub fn where_(condition: &Tensor, x: &Tensor, y: &Tensor) -> Result<Tensor> {
    const OP: &str = "where";
    let shape = broadcast_shapes(OP, condition.shape(), x.shape())?;
    let shape = broadcast_shapes(OP, &shape, y.shape())?;
    let mask = broadcast_to(&truth(condition)?, &shape)?;
    let md = mask.i64_data()?;
    if x.dtype() == DType::I64 && y.dtype() == DType::I64 {
        let (xd, yd) = (
            broadcast_to(x, &shape)?.i64_data()?.into_owned(),
            broadcast_to(y, &shape)?.i64_data()?.into_owned(),
        );
        let out = md
            .iter()
            .zip(xd.iter().zip(&yd))
            .map(|(&m, (&a, &b))| if m != 0 { a } else { b })
            .collect();
        return Ok(Tensor::new_i64(out, &shape));
    }
    let (x, y) = (cast(x, DType::F32)?, cast(y, DType::F32)?);
    let mf: Vec<f32> = md.iter().map(|&m| m as f32).collect();
    let (xe, ye) = (broadcast_to(&x, &shape)?, broadcast_to(&y, &shape)?);
    let out = zip3_map(&mf, &xe.f32_data()?, &ye.f32_data()?, |m, a, b| {
        if m != 0.0 {
            a
        } else {
            b
        }
    });
    let out = Tensor::new_f32(out, &shape);
    Ok(record(OP, &[&x, &y], out, || {
        let need = (x.requires_grad(), y.requires_grad());
        let (sx, sy) = (x.shape().to_vec(), y.shape().to_vec());
        move |g: &Tensor| {
            let gd = g.f32_data()?;
            let pick = |keep: f32, shape: &[usize]| {
                let d = zip_map(&gd, &mf, |g, m| if m == keep { g } else { 0.0 });
                sum_to_shape(&Tensor::new_f32(d, g.shape()), shape)
            };
            Ok(vec![
                need.0.then(|| pick(1.0, &sx)).transpose()?,
                need.1.then(|| pick(0.0, &sy)).transpose()?,
            ])
        }
    }))
}

/// 1 where `x` is non-zero (NaN counts as true, as in numpy), else 0, as int64.
fn truth(x: &Tensor) -> Result<Tensor> {
    let v = match x.dtype() {
        DType::F32 => x.f32_data()?.iter().map(|&v| (v != 0.0) as i64).collect(),
        DType::I64 => x.i64_data()?.iter().map(|&v| (v != 0) as i64).collect(),
    };
    Ok(Tensor::new_i64(v, x.shape()))
}

/// Compares with broadcasting, giving an int64 tensor of 0/1 (ember has no bool dtype).
/// Two int64 operands compare as integers; otherwise both as float32. Records nothing.
fn compare(
    op: &'static str,
    a: &Tensor,
    b: &Tensor,
    ff: impl Fn(f32, f32) -> bool + Sync + Send,
    fi: impl Fn(i64, i64) -> bool + Sync + Send,
) -> Result<Tensor> {
    let shape = broadcast_shapes(op, a.shape(), b.shape())?;
    let out = if a.dtype() == DType::I64 && b.dtype() == DType::I64 {
        let (ad, bd) = (a.i64_data()?, b.i64_data()?);
        broadcast_zip(&ad, a.shape(), &bd, b.shape(), &shape, |x, y| {
            fi(x, y) as i64
        })
    } else {
        let (a, b) = (cast(a, DType::F32)?, cast(b, DType::F32)?);
        let (ad, bd) = (a.f32_data()?, b.f32_data()?);
        broadcast_zip(&ad, a.shape(), &bd, b.shape(), &shape, |x, y| {
            ff(x, y) as i64
        })
    };
    Ok(Tensor::new_i64(out, &shape))
}

pub fn equal(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    compare("equal", a, b, |x, y| x == y, |x, y| x == y)
}

pub fn not_equal(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    compare("not_equal", a, b, |x, y| x != y, |x, y| x != y)
}

pub fn less(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    compare("less", a, b, |x, y| x < y, |x, y| x < y)
}

pub fn less_equal(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    compare("less_equal", a, b, |x, y| x <= y, |x, y| x <= y)
}

pub fn greater(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    compare("greater", a, b, |x, y| x > y, |x, y| x > y)
}

pub fn greater_equal(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    compare("greater_equal", a, b, |x, y| x >= y, |x, y| x >= y)
}

/// A logical op on the truth values (non-zero = true) of `a` and `b`, broadcast; int64 0/1.
fn logical(
    op: &'static str,
    a: &Tensor,
    b: &Tensor,
    f: impl Fn(bool, bool) -> bool + Sync + Send,
) -> Result<Tensor> {
    let shape = broadcast_shapes(op, a.shape(), b.shape())?;
    let (ta, tb) = (truth(a)?, truth(b)?);
    let (ad, bd) = (ta.i64_data()?, tb.i64_data()?);
    let out = broadcast_zip(&ad, a.shape(), &bd, b.shape(), &shape, |x, y| {
        f(x != 0, y != 0) as i64
    });
    Ok(Tensor::new_i64(out, &shape))
}

pub fn logical_and(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    logical("logical_and", a, b, |x, y| x && y)
}

pub fn logical_or(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    logical("logical_or", a, b, |x, y| x || y)
}

pub fn logical_xor(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    logical("logical_xor", a, b, |x, y| x != y)
}

/// 1 where `x` is zero, else 0 (int64).
pub fn logical_not(x: &Tensor) -> Result<Tensor> {
    let t = truth(x)?;
    let v = t.i64_data()?.iter().map(|&v| 1 - v).collect();
    Ok(Tensor::new_i64(v, x.shape()))
}
