//! Reductions over axes with keras.ops names, and `sum_to_shape`, the one place
//! broadcasting is undone. Every reduction folds with `cpu::reduce::reduce_axes` (threaded
//! for large inputs); gradients broadcast the output gradient back over the reduced axes.
//!
//! Gradient conventions (as JAX's and TensorFlow's, which numpy-based references follow):
//! `max`/`min` split the gradient equally between all elements tied at the extreme;
//! `std` has zero gradient where the deviation is zero; `prod` is exact with zeros.
use super::{broadcast_to, inverse_permutation, permute_view, reshape, scale};
use crate::autograd::record;
use crate::cpu::elementwise::{broadcast_map, map, zip_map};
use crate::cpu::reduce::{arg_reduce, exclusive_products, reduce_axes, sum_axes};
use crate::error::Result;
use crate::tensor::{normalize_axes, normalize_axis, DType, Shape, Tensor};
use crate::value_err;

/// The output shape of reducing `shape` over `axes`.
pub(crate) fn reduced_shape(shape: &[usize], axes: &[usize], keepdims: bool) -> Shape {
    shape
        .iter()
        .enumerate()
        .filter_map(|(d, &n)| {
            if axes.contains(&d) {
                keepdims.then_some(1)
            } else {
                Some(n)
            }
        })
        .collect()
}

/// One reduction's axes and the shapes around it.
struct Reduction {
    in_shape: Vec<usize>,
    axes: Vec<usize>,
    /// `mask[d]`: axis `d` is reduced.
    mask: Vec<bool>,
    /// The output shape with reduced axes kept as 1.
    kept: Vec<usize>,
    /// How many input elements fold into each output element.
    count: usize,
}

impl Reduction {
    fn new(op: &str, x: &Tensor, axes: Option<&[isize]>) -> Result<Reduction> {
        let axes = normalize_axes(op, axes, x.ndim())?;
        let mask: Vec<bool> = (0..x.ndim()).map(|d| axes.contains(&d)).collect();
        Ok(Reduction {
            in_shape: x.shape().to_vec(),
            kept: reduced_shape(x.shape(), &axes, true).to_vec(),
            count: axes.iter().map(|&d| x.shape()[d]).product(),
            axes,
            mask,
        })
    }

    fn fold(&self, x: &[f32], init: f32, f: impl Fn(f32, f32) -> f32 + Sync + Send) -> Vec<f32> {
        reduce_axes(x, &self.in_shape, &self.mask, init, f)
    }

    fn output(&self, data: Vec<f32>, keepdims: bool) -> Tensor {
        Tensor::new_f32(data, &reduced_shape(&self.in_shape, &self.axes, keepdims))
    }

    /// `t` (shaped as the output) with the reduced axes kept as size 1 (a view).
    fn keep(&self, t: &Tensor) -> Result<Tensor> {
        reshape(t, &self.kept)
    }

    /// The output gradient broadcast back over the reduced axes (a view).
    fn expand(&self, g: &Tensor) -> Result<Tensor> {
        broadcast_to(&self.keep(g)?, &self.in_shape)
    }

    /// `f(x, y)` for each input element `x` and the kept-shape value `y` of its output.
    fn with_output(
        &self,
        x: &Tensor,
        y: &Tensor,
        f: impl Fn(f32, f32) -> f32 + Sync + Send,
    ) -> Result<Vec<f32>> {
        Ok(broadcast_map(x, &self.keep(y)?, &self.in_shape, f))
    }
}

/// NaN-propagating maximum (numpy's `max` returns NaN when any element is NaN).
fn nan_max(a: f32, b: f32) -> f32 {
    if a.is_nan() || a > b {
        a
    } else {
        b
    }
}

fn nan_min(a: f32, b: f32) -> f32 {
    if a.is_nan() || a < b {
        a
    } else {
        b
    }
}

/// Sum over `axes` (all when None).
pub fn sum(x: &Tensor, axes: Option<&[isize]>, keepdims: bool) -> Result<Tensor> {
    x.expect_f32("sum")?;
    let r = Reduction::new("sum", x, axes)?;
    let out = r.output(sum_axes(&x.f32_data()?, x.shape(), &r.mask), keepdims);
    Ok(record("sum", &[x], out, || {
        move |g: &Tensor| Ok(vec![Some(r.expand(g)?)])
    }))
}

/// Arithmetic mean over `axes` (NaN for an empty selection, as numpy).
pub fn mean(x: &Tensor, axes: Option<&[isize]>, keepdims: bool) -> Result<Tensor> {
    x.expect_f32("mean")?;
    let r = Reduction::new("mean", x, axes)?;
    let inv = 1.0 / r.count as f32;
    let s = sum_axes(&x.f32_data()?, x.shape(), &r.mask);
    let out = r.output(map(&s, |v| v * inv), keepdims);
    Ok(record("mean", &[x], out, || {
        move |g: &Tensor| Ok(vec![Some(scale(&r.expand(g)?, inv)?)])
    }))
}

/// Which end `extremum` looks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Extreme {
    Max,
    Min,
}

/// Maximum over `axes` (NaN wins, as numpy).
pub fn max(x: &Tensor, axes: Option<&[isize]>, keepdims: bool) -> Result<Tensor> {
    extremum(x, axes, keepdims, None, Extreme::Max)
}

/// Minimum over `axes` (NaN wins, as numpy).
pub fn min(x: &Tensor, axes: Option<&[isize]>, keepdims: bool) -> Result<Tensor> {
    extremum(x, axes, keepdims, None, Extreme::Min)
}

/// `max`/`min` with numpy's `initial`: a value folded into every output, which also makes
/// empty selections valid. The gradient goes to the elements equal to the result, split
/// equally between ties; none goes anywhere when `initial` wins.
pub fn extremum(
    x: &Tensor,
    axes: Option<&[isize]>,
    keepdims: bool,
    initial: Option<f32>,
    kind: Extreme,
) -> Result<Tensor> {
    let (op, init, f): (&'static str, f32, fn(f32, f32) -> f32) = match kind {
        Extreme::Max => ("max", f32::NEG_INFINITY, nan_max),
        Extreme::Min => ("min", f32::INFINITY, nan_min),
    };
    x.expect_f32(op)?;
    let r = Reduction::new(op, x, axes)?;
    if r.count == 0 && initial.is_none() {
        return Err(value_err!(
            "{op}: cannot reduce axes {:?} of a tensor of shape {:?}: the selection is empty and no initial value was given",
            r.axes,
            x.shape()
        ));
    }
    let mut data = r.fold(&x.f32_data()?, init, f);
    if let Some(v) = initial {
        data = map(&data, |m| f(m, v));
    }
    let out = r.output(data, keepdims);
    Ok(record(op, &[x], out.clone(), || {
        let (x, y) = (x.detach(), out);
        move |g: &Tensor| {
            let hit = r.with_output(&x, &y, |a, m| if a == m { 1.0 } else { 0.0 })?;
            let ties = sum_axes(&hit, &r.in_shape, &r.mask);
            let share = zip_map(
                &g.f32_data()?,
                &ties,
                |g, c| if c > 0.0 { g / c } else { 0.0 },
            );
            let share = Tensor::new_f32(share, &r.kept);
            let hit = Tensor::new_f32(hit, &r.in_shape);
            Ok(vec![Some(Tensor::new_f32(
                broadcast_map(&hit, &share, &r.in_shape, |h, s| h * s),
                &r.in_shape,
            ))])
        }
    }))
}

/// Product over `axes` (1 for an empty selection).
pub fn prod(x: &Tensor, axes: Option<&[isize]>, keepdims: bool) -> Result<Tensor> {
    x.expect_f32("prod")?;
    let r = Reduction::new("prod", x, axes)?;
    let out = r.output(r.fold(&x.f32_data()?, 1.0, |a, b| a * b), keepdims);
    Ok(record("prod", &[x], out, || {
        let x = x.detach();
        move |g: &Tensor| {
            // kept axes first, reduced axes last: one row of `count` elements per output
            let perm: Vec<usize> = (0..x.ndim())
                .filter(|d| !r.mask[*d])
                .chain(r.axes.iter().copied())
                .collect();
            let rows = permute_view(&x, &perm);
            let d = exclusive_products(&rows.f32_data()?, r.count, &g.f32_data()?);
            let d = Tensor::new_f32(d, rows.shape());
            Ok(vec![Some(permute_view(&d, &inverse_permutation(&perm)))])
        }
    }))
}

/// The mean (kept shape) and the population variance (output order) over the axes.
fn moments(x: &Tensor, r: &Reduction) -> Result<(Tensor, Vec<f32>)> {
    let inv = 1.0 / r.count as f32;
    let mean = map(&sum_axes(&x.f32_data()?, x.shape(), &r.mask), |v| v * inv);
    let mean = Tensor::new_f32(mean, &r.kept);
    let sq = broadcast_map(x, &mean, x.shape(), |a, m| (a - m) * (a - m));
    let var = map(&sum_axes(&sq, x.shape(), &r.mask), |v| v * inv);
    Ok((mean, var))
}

/// `(x - mean) * coef`, with one coefficient per output element (output order).
fn deviation_times(x: &Tensor, mean: &Tensor, r: &Reduction, coef: Vec<f32>) -> Tensor {
    let dev = Tensor::new_f32(
        broadcast_map(x, mean, &r.in_shape, |a, m| a - m),
        &r.in_shape,
    );
    let coef = Tensor::new_f32(coef, &r.kept);
    Tensor::new_f32(
        broadcast_map(&dev, &coef, &r.in_shape, |d, c| d * c),
        &r.in_shape,
    )
}

/// Population variance over `axes` (numpy's `var` with ddof=0, as Keras).
pub fn var(x: &Tensor, axes: Option<&[isize]>, keepdims: bool) -> Result<Tensor> {
    x.expect_f32("var")?;
    let r = Reduction::new("var", x, axes)?;
    let (mean, v) = moments(x, &r)?;
    let out = r.output(v, keepdims);
    Ok(record("var", &[x], out, || {
        let x = x.detach();
        move |g: &Tensor| {
            let k = 2.0 / r.count as f32;
            let coef = map(&g.f32_data()?, |g| g * k);
            Ok(vec![Some(deviation_times(&x, &mean, &r, coef))])
        }
    }))
}

/// Population standard deviation over `axes`. Its gradient is taken as zero where the
/// standard deviation is zero (the derivative of sqrt at 0 is undefined).
pub fn std(x: &Tensor, axes: Option<&[isize]>, keepdims: bool) -> Result<Tensor> {
    x.expect_f32("std")?;
    let r = Reduction::new("std", x, axes)?;
    let (mean, v) = moments(x, &r)?;
    let out = r.output(map(&v, f32::sqrt), keepdims);
    Ok(record("std", &[x], out.clone(), || {
        let (x, y) = (x.detach(), out);
        move |g: &Tensor| {
            let n = r.count as f32;
            let coef = zip_map(&g.f32_data()?, &y.f32_data()?, |g, s| {
                if s > 0.0 {
                    g / (n * s)
                } else {
                    0.0
                }
            });
            Ok(vec![Some(deviation_times(&x, &mean, &r, coef))])
        }
    }))
}

/// `log(sum(exp(x)))` over `axes`, computed stably around the maximum.
pub fn logsumexp(x: &Tensor, axes: Option<&[isize]>, keepdims: bool) -> Result<Tensor> {
    x.expect_f32("logsumexp")?;
    let r = Reduction::new("logsumexp", x, axes)?;
    let xd = x.f32_data()?;
    // shift by the maximum where it is finite (an all -inf or +inf selection needs none)
    let m = map(&r.fold(&xd, f32::NEG_INFINITY, nan_max), |v| {
        if v.is_finite() {
            v
        } else {
            0.0
        }
    });
    let mk = Tensor::new_f32(m, &r.kept);
    let e = broadcast_map(x, &mk, x.shape(), |a, m| (a - m).exp());
    let s = sum_axes(&e, x.shape(), &r.mask);
    let out = r.output(zip_map(&s, &mk.f32_data()?, |s, m| m + s.ln()), keepdims);
    Ok(record("logsumexp", &[x], out.clone(), || {
        let (x, y) = (x.detach(), out);
        move |g: &Tensor| {
            // d/dx = softmax(x) over the reduced axes
            let p = r.with_output(&x, &y, |a, l| {
                if l == f32::NEG_INFINITY {
                    0.0
                } else {
                    (a - l).exp()
                }
            })?;
            let p = Tensor::new_f32(p, &r.in_shape);
            let gk = r.keep(g)?;
            Ok(vec![Some(Tensor::new_f32(
                broadcast_map(&p, &gk, &r.in_shape, |p, g| p * g),
                &r.in_shape,
            ))])
        }
    }))
}

/// Index of the first maximum along `axis` (over the flattened tensor when None), int64,
/// not differentiable. NaN counts as the maximum, as numpy.
pub fn argmax(x: &Tensor, axis: Option<isize>, keepdims: bool) -> Result<Tensor> {
    arg_extreme("argmax", x, axis, keepdims, |a, b| {
        a > b || (a.is_nan() && !b.is_nan())
    })
}

/// Index of the first minimum along `axis` (over the flattened tensor when None).
pub fn argmin(x: &Tensor, axis: Option<isize>, keepdims: bool) -> Result<Tensor> {
    arg_extreme("argmin", x, axis, keepdims, |a, b| {
        a < b || (a.is_nan() && !b.is_nan())
    })
}

fn arg_extreme(
    op: &str,
    x: &Tensor,
    axis: Option<isize>,
    keepdims: bool,
    better: impl Fn(f32, f32) -> bool + Sync + Send,
) -> Result<Tensor> {
    x.expect_f32(op)?;
    let nd = x.ndim();
    let (outer, len, inner, shape) = match axis {
        None => (1, x.numel(), 1, if keepdims { vec![1; nd] } else { vec![] }),
        Some(a) => {
            let a = normalize_axis(op, a, nd)?;
            let s = x.shape();
            let mut shape = s.to_vec();
            if keepdims {
                shape[a] = 1;
            } else {
                shape.remove(a);
            }
            (
                s[..a].iter().product(),
                s[a],
                s[a + 1..].iter().product(),
                shape,
            )
        }
    };
    if len == 0 {
        return Err(value_err!(
            "{op}: attempt to get the {op} of an empty sequence (axis {axis:?} of a tensor of shape {:?})",
            x.shape()
        ));
    }
    Ok(Tensor::new_i64(
        arg_reduce(&x.f32_data()?, outer, len, inner, better),
        &shape,
    ))
}

/// The truth (nonzero, NaN counts as true) of each element as 0.0 / 1.0.
fn truth(x: &Tensor) -> Result<Vec<f32>> {
    Ok(match x.dtype() {
        DType::F32 => map(&x.f32_data()?, |v| if v != 0.0 { 1.0 } else { 0.0 }),
        DType::I64 => x
            .i64_data()?
            .iter()
            .map(|&v| (v != 0) as i64 as f32)
            .collect(),
    })
}

fn logical(
    op: &str,
    x: &Tensor,
    axes: Option<&[isize]>,
    keepdims: bool,
    init: f32,
    f: fn(f32, f32) -> f32,
) -> Result<Tensor> {
    let r = Reduction::new(op, x, axes)?;
    let v = r.fold(&truth(x)?, init, f);
    Ok(Tensor::new_i64(
        v.iter().map(|&b| b as i64).collect(),
        &reduced_shape(x.shape(), &r.axes, keepdims),
    ))
}

/// Whether any element over `axes` is nonzero: int64 0/1 (ember has no bool dtype).
pub fn any(x: &Tensor, axes: Option<&[isize]>, keepdims: bool) -> Result<Tensor> {
    logical("any", x, axes, keepdims, 0.0, f32::max)
}

/// Whether all elements over `axes` are nonzero: int64 0/1.
pub fn all(x: &Tensor, axes: Option<&[isize]>, keepdims: bool) -> Result<Tensor> {
    logical("all", x, axes, keepdims, 1.0, f32::min)
}

/// Sums `g` down to `shape` (undoing numpy broadcasting). Not recorded.
pub fn sum_to_shape(g: &Tensor, shape: &[usize]) -> Result<Tensor> {
    if g.shape() == shape {
        return Ok(g.detach());
    }
    let nd = g.ndim();
    if shape.len() > nd {
        return Err(value_err!(
            "sum_to_shape: cannot reduce shape {:?} to {:?}",
            g.shape(),
            shape
        ));
    }
    let off = nd - shape.len();
    let mask: Vec<bool> = (0..nd)
        .map(|d| d < off || (shape[d - off] == 1 && g.shape()[d] != 1))
        .collect();
    let data = sum_axes(&g.f32_data()?, g.shape(), &mask);
    Tensor::from_f32(data, shape)
}
