//! Normalization ops: keras.ops `moments`, `batch_normalization`, `layer_normalization`,
//! `rms_normalization` and `normalize`, plus group normalization, all on one fused kernel:
//! statistics over any set of axes, an affine transform over any other set, and the
//! analytic backward in one reduction pass and one elementwise pass.
//!
//! Layout. The input is seen as rows along its last (coalesced) axis. Every row has a base
//! index into the statistics (one per group of normalized elements) and into the affine
//! parameters, and along the row each index either stays fixed or advances by one. The four
//! cases are compiled separately (const generics), so every inner loop is a plain SIMD loop;
//! a sum along a row goes through a scratch row and a many-accumulator fold.
//!
//! Threads. Rows are cut into blocks of about `BLOCK` elements run on the ember pool. A
//! reduction sums each block into its own partial over the range of statistics and
//! parameters the block touches, and adds the partials in block order. Blocks depend on the
//! size only, so results do not change with the thread count.
//!
//! Math, per group of `N` elements, with `r = 1 / sqrt(var + eps)`, `xh` the normalized
//! input and `gh = g * gamma`: `y = xh * gamma + beta`, `dgamma = sum(g * xh)`,
//! `dbeta = sum(g)` and, for standard normalization,
//! `dx = r * (gh - mean(gh) - xh * mean(gh * xh))`. The other kinds (`NormKind`) drop the
//! `mean(gh)` term and scale the last one differently; `dx_row` takes both as per-group
//! coefficients.
use super::{broadcast_to, multiply, reduced_shape, reshape, scale, subtract};
use crate::autograd::record;
use crate::cpu::pool::{self, PAR_MIN_ELEMS};
use crate::error::Result;
use crate::tensor::{normalize_axes, normalize_axis, Tensor};
use crate::value_err;
use pulp::Arch;
use rayon::prelude::*;

/// Rows per parallel task hold about this many elements.
const BLOCK: usize = 1 << 14;

/// How a normalization makes its statistics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NormKind {
    /// `(x - mean) / sqrt(var + eps)`: batch, layer and group normalization.
    Standard,
    /// `x / sqrt(var + eps)`, the mean not subtracted: Keras's
    /// `LayerNormalization(rms_scaling=True)`.
    RmsScaling,
    /// `x / sqrt(mean(x^2) + eps)`: `rms_normalization`.
    Rms,
    /// `x / max(sqrt(sum(x^2)), eps)`: L2 normalization (`normalize`, `UnitNormalization`).
    L2,
}

/// The input seen as rows: a coalesced shape (no size-1 axes, neighbours merged where both
/// index maps allow) with, per axis, the stride into the statistics (0 on normalized axes)
/// and into the parameters (0 on axes they do not span).
#[derive(Clone)]
struct Plan {
    shape: Vec<usize>,
    sstr: Vec<usize>,
    pstr: Vec<usize>,
    n_stats: usize,
    n_params: usize,
    /// Elements per group.
    count: usize,
    numel: usize,
}

impl Plan {
    /// `reduce[d]`: axis `d` is normalized over; `param[d]`: the parameters vary along it.
    fn new(shape: &[usize], reduce: &[bool], param: &[bool]) -> Plan {
        let nd = shape.len();
        let (mut sstr, mut pstr) = (vec![0; nd], vec![0; nd]);
        let (mut n_stats, mut n_params) = (1, 1);
        for d in (0..nd).rev() {
            if !reduce[d] {
                sstr[d] = n_stats;
                n_stats *= shape[d];
            }
            if param[d] {
                pstr[d] = n_params;
                n_params *= shape[d];
            }
        }
        let count = (0..nd).filter(|&d| reduce[d]).map(|d| shape[d]).product();
        let (mut sh, mut ss, mut ps): (Vec<usize>, Vec<usize>, Vec<usize>) = Default::default();
        for d in (0..nd).filter(|&d| shape[d] != 1) {
            match (sh.last_mut(), ss.last_mut(), ps.last_mut()) {
                (Some(n), Some(s), Some(p))
                    if *s == sstr[d] * shape[d] && *p == pstr[d] * shape[d] =>
                {
                    *n *= shape[d];
                    *s = sstr[d];
                    *p = pstr[d];
                }
                _ => {
                    sh.push(shape[d]);
                    ss.push(sstr[d]);
                    ps.push(pstr[d]);
                }
            }
        }
        if sh.is_empty() {
            (sh, ss, ps) = (vec![1], vec![0], vec![0]);
        }
        Plan {
            shape: sh,
            sstr: ss,
            pstr: ps,
            n_stats,
            n_params,
            count,
            numel: shape.iter().product(),
        }
    }

    fn inner(&self) -> usize {
        self.shape[self.shape.len() - 1]
    }

    /// Whether the statistic and the parameter index advance along a row.
    fn steps(&self) -> (bool, bool) {
        let last = self.shape.len() - 1;
        (self.sstr[last] == 1, self.pstr[last] == 1)
    }

    /// Rows per block and the number of blocks.
    fn blocks(&self) -> (usize, usize) {
        let rows = self.numel / self.inner();
        let per = if self.numel < PAR_MIN_ELEMS {
            rows
        } else {
            (BLOCK / self.inner()).clamp(1, rows)
        };
        (per, rows.div_ceil(per))
    }

    /// The (statistic, parameter) base offsets of rows `r0..r1`.
    fn bases(&self, r0: usize, r1: usize) -> Vec<(usize, usize)> {
        let outer = &self.shape[..self.shape.len() - 1];
        let mut idx = vec![0; outer.len()];
        let (mut sb, mut pb, mut rem) = (0, 0, r0);
        for d in (0..outer.len()).rev() {
            idx[d] = rem % outer[d];
            rem /= outer[d];
            sb += idx[d] * self.sstr[d];
            pb += idx[d] * self.pstr[d];
        }
        let mut out = Vec::with_capacity(r1 - r0);
        for _ in r0..r1 {
            out.push((sb, pb));
            for d in (0..outer.len()).rev() {
                idx[d] += 1;
                sb += self.sstr[d];
                pb += self.pstr[d];
                if idx[d] < outer[d] {
                    break;
                }
                idx[d] = 0;
                sb -= self.sstr[d] * outer[d];
                pb -= self.pstr[d] * outer[d];
            }
        }
        out
    }
}

// ------------------------------------------------------------------ row kernels

/// Sum of a contiguous row with 16 accumulators (so it vectorises).
#[inline(always)]
fn row_sum(v: &[f32]) -> f32 {
    let mut acc = [0.0f32; 16];
    let mut chunks = v.chunks_exact(16);
    for c in &mut chunks {
        for i in 0..16 {
            acc[i] += c[i];
        }
    }
    acc.iter().sum::<f32>() + chunks.remainder().iter().sum::<f32>()
}

/// Adds a row's contributions `c` to accumulators that advance along the row (`ALONG`),
/// or their sum to the one accumulator `acc[0]`.
#[inline(always)]
fn sink<const ALONG: bool>(acc: &mut [f32], c: &[f32]) {
    if ALONG {
        for (a, &v) in acc[..c.len()].iter_mut().zip(c) {
            *a += v;
        }
    } else {
        acc[0] += row_sum(c);
    }
}

/// The values of a per-group (or per-parameter) array along a row: `a[..n]` when the
/// index advances, else `a[..1]`, read as `at::<ALONG>(a, j)`.
#[inline(always)]
fn lane<const ALONG: bool>(a: &[f32], n: usize) -> &[f32] {
    if ALONG {
        &a[..n]
    } else {
        &a[..1]
    }
}

#[inline(always)]
fn at<const ALONG: bool>(a: &[f32], j: usize) -> f32 {
    if ALONG {
        a[j]
    } else {
        a[0]
    }
}

/// Statistics of one row: adds `x`, or `(x - shift)^2` when a shift is given, to `acc`.
#[inline(always)]
fn stat_row<const SS: bool>(
    x: &[f32],
    shift: Option<&[f32]>,
    acc: &mut [f32],
    scratch: &mut [f32],
) {
    let n = x.len();
    match shift {
        None => sink::<SS>(acc, x),
        Some(m) => {
            let (c, m) = (&mut scratch[..n], lane::<SS>(m, n));
            for (j, (c, &v)) in c.iter_mut().zip(x).enumerate() {
                let d = v - at::<SS>(m, j);
                *c = d * d;
            }
            sink::<SS>(acc, c);
        }
    }
}

/// The output of one row: `y = (x - shift) * r * gamma + beta`.
#[inline(always)]
fn out_row<const SS: bool, const PS: bool>(
    o: &mut [f32],
    x: &[f32],
    shift: &[f32],
    r: &[f32],
    gamma: &[f32],
    beta: &[f32],
) {
    let n = x.len();
    let (m, r) = (lane::<SS>(shift, n), lane::<SS>(r, n));
    let (g, b) = (lane::<PS>(gamma, n), lane::<PS>(beta, n));
    for (j, (o, &v)) in o[..n].iter_mut().zip(x).enumerate() {
        *o = (v - at::<SS>(m, j)) * at::<SS>(r, j) * at::<PS>(g, j) + at::<PS>(b, j);
    }
}

/// The backward sums of one row, with `xh = (x - shift) * r` and `gh = g * gamma`: adds
/// `gh` and `gh * xh` to the groups' sums `t`, and (when given) `g * xh` and `g` to the
/// parameters' sums `p`.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn grad_row<const SS: bool, const PS: bool>(
    x: &[f32],
    g: &[f32],
    shift: &[f32],
    r: &[f32],
    gamma: &[f32],
    t: [&mut [f32]; 2],
    p: Option<[&mut [f32]; 2]>,
    scratch: &mut [f32],
) {
    let n = x.len();
    let (c0, rest) = scratch.split_at_mut(n);
    let (c1, rest) = rest.split_at_mut(n);
    let c2 = &mut rest[..n];
    let (m, r, gm) = (lane::<SS>(shift, n), lane::<SS>(r, n), lane::<PS>(gamma, n));
    for (j, ((((c0, c1), c2), &v), &gv)) in c0
        .iter_mut()
        .zip(c1.iter_mut())
        .zip(c2.iter_mut())
        .zip(x)
        .zip(&g[..n])
        .enumerate()
    {
        let xh = (v - at::<SS>(m, j)) * at::<SS>(r, j);
        let gh = gv * at::<PS>(gm, j);
        *c0 = gh;
        *c1 = gh * xh;
        *c2 = gv * xh;
    }
    let [t0, t1] = t;
    sink::<SS>(t0, c0);
    sink::<SS>(t1, c1);
    if let Some([p0, p1]) = p {
        sink::<PS>(p0, c2);
        sink::<PS>(p1, &g[..n]);
    }
}

/// The input gradient of one row: `dx = r * (g * gamma - c1 - (x - shift) * q)`.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn dx_row<const SS: bool, const PS: bool>(
    o: &mut [f32],
    x: &[f32],
    g: &[f32],
    shift: &[f32],
    r: &[f32],
    c1: &[f32],
    q: &[f32],
    gamma: &[f32],
) {
    let n = x.len();
    let (m, r) = (lane::<SS>(shift, n), lane::<SS>(r, n));
    let (c1, q, gm) = (lane::<SS>(c1, n), lane::<SS>(q, n), lane::<PS>(gamma, n));
    for (j, ((o, &v), &gv)) in o[..n].iter_mut().zip(x).zip(&g[..n]).enumerate() {
        *o = at::<SS>(r, j)
            * (gv * at::<PS>(gm, j) - at::<SS>(c1, j) - (v - at::<SS>(m, j)) * at::<SS>(q, j));
    }
}

/// Calls `$f::<SS, PS>($args)` for the runtime flags `($ss, $ps)`.
macro_rules! by_steps {
    ($ss:expr, $ps:expr, $f:ident($($a:expr),* $(,)?)) => {
        match ($ss, $ps) {
            (false, false) => $f::<false, false>($($a),*),
            (false, true) => $f::<false, true>($($a),*),
            (true, false) => $f::<true, false>($($a),*),
            (true, true) => $f::<true, true>($($a),*),
        }
    };
}

// ------------------------------------------------------------------ drivers

/// One block's partial sums: `s[k]` over the statistics from `s_lo`, `p[k]` over the
/// parameters from `p_lo`.
struct Partial {
    s_lo: usize,
    s: Vec<Vec<f32>>,
    p_lo: usize,
    p: Vec<Vec<f32>>,
}

/// Sums over all rows into `ns` arrays per statistic and `np` per parameter:
/// `row(r, sb, pb, partial, scratch)` adds row `r` (bases `sb`, `pb`) to the partial.
fn reduce_rows(
    plan: &Plan,
    ns: usize,
    np: usize,
    row: impl Fn(usize, usize, usize, &mut Partial, &mut [f32]) + Sync,
) -> (Vec<Vec<f32>>, Vec<Vec<f32>>) {
    let (inner, (per, nblocks)) = (plan.inner(), plan.blocks());
    let (ss, ps) = plan.steps();
    let rows = plan.numel / inner;
    let block = |b: usize| {
        let (r0, r1) = (b * per, ((b + 1) * per).min(rows));
        let bases = plan.bases(r0, r1);
        let range = |base: fn(&(usize, usize)) -> usize, along: bool| {
            let lo = bases.iter().map(base).min().unwrap_or(0);
            let hi = bases.iter().map(base).max().unwrap_or(0) + if along { inner } else { 1 };
            (lo, hi - lo)
        };
        let (s_lo, s_len) = range(|b| b.0, ss);
        let (p_lo, p_len) = range(|b| b.1, ps);
        let mut part = Partial {
            s_lo,
            s: vec![vec![0.0; s_len]; ns],
            p_lo,
            p: vec![vec![0.0; p_len]; np],
        };
        let mut scratch = vec![0.0f32; 3 * inner];
        Arch::new().dispatch(
            #[inline(always)]
            || {
                for (i, &(sb, pb)) in bases.iter().enumerate() {
                    row(r0 + i, sb, pb, &mut part, &mut scratch);
                }
            },
        );
        part
    };
    let partials: Vec<Partial> = if nblocks == 1 {
        vec![block(0)]
    } else {
        pool::install(|| (0..nblocks).into_par_iter().map(block).collect())
    };
    let mut s = vec![vec![0.0f32; plan.n_stats]; ns];
    let mut p = vec![vec![0.0f32; plan.n_params]; np];
    for part in &partials {
        for (total, local) in s.iter_mut().zip(&part.s) {
            for (t, &v) in total[part.s_lo..].iter_mut().zip(local) {
                *t += v;
            }
        }
        for (total, local) in p.iter_mut().zip(&part.p) {
            for (t, &v) in total[part.p_lo..].iter_mut().zip(local) {
                *t += v;
            }
        }
    }
    (s, p)
}

/// Fills `out` row by row with `f(r, sb, pb, out_row)`, blocks in parallel.
fn map_rows(plan: &Plan, out: &mut [f32], f: impl Fn(usize, usize, usize, &mut [f32]) + Sync) {
    let (inner, (per, nblocks)) = (plan.inner(), plan.blocks());
    let run = |b: usize, o: &mut [f32]| {
        let r0 = b * per;
        let bases = plan.bases(r0, r0 + o.len() / inner);
        Arch::new().dispatch(
            #[inline(always)]
            || {
                for (i, (o, &(sb, pb))) in o.chunks_exact_mut(inner).zip(&bases).enumerate() {
                    f(r0 + i, sb, pb, o);
                }
            },
        );
    };
    if nblocks == 1 {
        run(0, out);
    } else {
        pool::install(|| {
            out.par_chunks_mut(per * inner)
                .enumerate()
                .for_each(|(b, o)| run(b, o))
        });
    }
}

/// Row `r` of a row-major array of rows of `inner` elements.
#[inline(always)]
fn row_of(a: &[f32], r: usize, inner: usize) -> &[f32] {
    &a[r * inner..(r + 1) * inner]
}

/// Per-group statistics: the mean, the variance (mean square for `Rms`, sum of squares
/// for `L2`) and the factor `r` that normalizes.
struct Stats {
    mean: Vec<f32>,
    var: Vec<f32>,
    r: Vec<f32>,
}

fn statistics(plan: &Plan, x: &[f32], kind: NormKind, eps: f32) -> Stats {
    let (inner, (ss, _)) = (plan.inner(), plan.steps());
    let n = plan.count as f32;
    let sums = |shift: Option<&[f32]>| {
        let (mut s, _) = reduce_rows(
            plan,
            1,
            0,
            #[inline(always)]
            |r, sb, _, part, scratch| {
                let acc = &mut part.s[0][sb - part.s_lo..];
                let (x, shift) = (row_of(x, r, inner), shift.map(|m| &m[sb..]));
                if ss {
                    stat_row::<true>(x, shift, acc, scratch)
                } else {
                    stat_row::<false>(x, shift, acc, scratch)
                }
            },
        );
        s.remove(0)
    };
    match kind {
        NormKind::Standard | NormKind::RmsScaling => {
            let mean: Vec<f32> = sums(None).iter().map(|s| s / n).collect();
            let var: Vec<f32> = sums(Some(&mean)).iter().map(|s| s / n).collect();
            let r = var.iter().map(|v| 1.0 / (v + eps).sqrt()).collect();
            Stats { mean, var, r }
        }
        NormKind::Rms | NormKind::L2 => {
            let mean = vec![0.0; plan.n_stats];
            let squares = sums(Some(&mean));
            let (var, r) = if kind == NormKind::Rms {
                let var: Vec<f32> = squares.iter().map(|s| s / n).collect();
                let r = var.iter().map(|v| 1.0 / (v + eps).sqrt()).collect();
                (var, r)
            } else {
                let r = squares.iter().map(|s| 1.0 / s.sqrt().max(eps)).collect();
                (squares, r)
            };
            Stats { mean, var, r }
        }
    }
}

/// `y = (x - shift) * r * gamma + beta` over the whole input.
fn forward(
    plan: &Plan,
    x: &[f32],
    shift: &[f32],
    r: &[f32],
    gamma: &[f32],
    beta: &[f32],
) -> Vec<f32> {
    let (inner, (ss, ps)) = (plan.inner(), plan.steps());
    let mut out = vec![0.0f32; plan.numel];
    map_rows(
        plan,
        &mut out,
        #[inline(always)]
        |row, sb, pb, o| {
            let x = row_of(x, row, inner);
            let (m, r, g, b) = (&shift[sb..], &r[sb..], &gamma[pb..], &beta[pb..]);
            by_steps!(ss, ps, out_row(o, x, m, r, g, b))
        },
    );
    out
}

/// The backward sums: per group `sum(gh)`, `sum(gh * xh)`; per parameter (when
/// `params`) `sum(g * xh)`, `sum(g)`.
fn grad_sums(
    plan: &Plan,
    x: &[f32],
    g: &[f32],
    shift: &[f32],
    r: &[f32],
    gamma: &[f32],
    params: bool,
) -> ([Vec<f32>; 2], Option<[Vec<f32>; 2]>) {
    let (inner, (ss, ps)) = (plan.inner(), plan.steps());
    let (s, p) = reduce_rows(
        plan,
        2,
        if params { 2 } else { 0 },
        #[inline(always)]
        |row, sb, pb, part, scratch| {
            let (x, g) = (row_of(x, row, inner), row_of(g, row, inner));
            let (m, r, gm) = (&shift[sb..], &r[sb..], &gamma[pb..]);
            let (so, po) = (sb - part.s_lo, pb - part.p_lo);
            let [t0, t1] = part.s.as_mut_slice() else {
                unreachable!("two sums per group")
            };
            let t = [&mut t0[so..], &mut t1[so..]];
            let p = match part.p.as_mut_slice() {
                [p0, p1] => Some([&mut p0[po..], &mut p1[po..]]),
                _ => None,
            };
            by_steps!(ss, ps, grad_row(x, g, m, r, gm, t, p, scratch))
        },
    );
    let mut s = s.into_iter();
    let t = [s.next().unwrap_or_default(), s.next().unwrap_or_default()];
    let p = params.then(|| {
        let mut p = p.into_iter();
        [p.next().unwrap_or_default(), p.next().unwrap_or_default()]
    });
    (t, p)
}

/// `dx = r * (g * gamma - c1 - (x - shift) * q)` over the whole input.
#[allow(clippy::too_many_arguments)]
fn backward_dx(
    plan: &Plan,
    x: &[f32],
    g: &[f32],
    shift: &[f32],
    r: &[f32],
    c1: &[f32],
    q: &[f32],
    gamma: &[f32],
) -> Vec<f32> {
    let (inner, (ss, ps)) = (plan.inner(), plan.steps());
    let mut out = vec![0.0f32; plan.numel];
    map_rows(
        plan,
        &mut out,
        #[inline(always)]
        |row, sb, pb, o| {
            let (x, g) = (row_of(x, row, inner), row_of(g, row, inner));
            let (m, r, c1, q, gm) = (&shift[sb..], &r[sb..], &c1[sb..], &q[sb..], &gamma[pb..]);
            by_steps!(ss, ps, dx_row(o, x, g, m, r, c1, q, gm))
        },
    );
    out
}

// ------------------------------------------------------------------ ops

/// The output of `normalization` with the batch statistics it used.
pub struct Normalized {
    pub output: Tensor,
    /// The mean of each group (zeros for `Rms` and `L2`), row-major over the axes that are
    /// not normalized.
    pub mean: Tensor,
    /// The (biased) variance of each group; the mean square for `Rms`, the sum of squares
    /// for `L2`.
    pub variance: Tensor,
}

/// A parameter's values as a flat vector of `n`, or `fill` when absent; fails unless it is
/// float32 with `n` elements.
fn param_values(
    op: &str,
    what: &str,
    p: Option<&Tensor>,
    n: usize,
    fill: f32,
    dims: &[usize],
) -> Result<Vec<f32>> {
    match p {
        None => Ok(vec![fill; n]),
        Some(t) => {
            t.expect_f32(op)?;
            if t.numel() != n {
                return Err(value_err!(
                    "{op}: {what} of shape {:?} does not match the {n} values of the normalized dimensions {dims:?}",
                    t.shape()
                ));
            }
            Ok(t.to_vec_f32()?)
        }
    }
}

/// Normalizes `x` over `axes` (each group: the elements that share the indices of all
/// other axes) and applies `gamma * xh + beta`, with `gamma` and `beta` spanning
/// `param_axes` (row-major in axis order, any shape with that many elements). One fused op;
/// `op` names it in errors and on the tape.
#[allow(clippy::too_many_arguments)]
pub fn normalization(
    op: &'static str,
    x: &Tensor,
    axes: &[usize],
    param_axes: &[usize],
    gamma: Option<&Tensor>,
    beta: Option<&Tensor>,
    epsilon: f32,
    kind: NormKind,
) -> Result<Normalized> {
    x.expect_f32(op)?;
    let nd = x.ndim();
    if let Some(&a) = axes.iter().chain(param_axes).find(|&&a| a >= nd) {
        return Err(value_err!(
            "{op}: axis {a} is out of range for an input of shape {:?}",
            x.shape()
        ));
    }
    let has_params = gamma.is_some() || beta.is_some();
    let reduce: Vec<bool> = (0..nd).map(|d| axes.contains(&d)).collect();
    let param: Vec<bool> = (0..nd)
        .map(|d| has_params && param_axes.contains(&d))
        .collect();
    let plan = Plan::new(x.shape(), &reduce, &param);
    let dims: Vec<usize> = (0..nd)
        .filter(|&d| param[d])
        .map(|d| x.shape()[d])
        .collect();
    let gam = param_values(op, "gamma", gamma, plan.n_params, 1.0, &dims)?;
    let bet = param_values(op, "beta", beta, plan.n_params, 0.0, &dims)?;
    let stats_shape = reduced_shape(x.shape(), axes, false);
    if plan.numel == 0 {
        let nan = || Tensor::full(&stats_shape, f32::NAN);
        return Ok(Normalized {
            output: Tensor::zeros(x.shape()),
            mean: nan(),
            variance: nan(),
        });
    }
    let xd = x.f32_data()?;
    let st = statistics(&plan, &xd, kind, epsilon);
    let zeros = vec![0.0f32; plan.n_stats];
    let shift_out = if kind == NormKind::Standard {
        &st.mean
    } else {
        &zeros
    };
    let y = Tensor::new_f32(forward(&plan, &xd, shift_out, &st.r, &gam, &bet), x.shape());
    let (mean, variance) = (
        Tensor::new_f32(st.mean.clone(), &stats_shape),
        Tensor::new_f32(st.var.clone(), &stats_shape),
    );
    let inputs: Vec<&Tensor> = [Some(x), gamma, beta].into_iter().flatten().collect();
    let output = record(op, &inputs, y, || {
        let need: Vec<bool> = inputs.iter().map(|t| t.requires_grad()).collect();
        let x = x.detach();
        let gamma_shape = gamma.map(|t| t.shape().to_vec());
        let beta_shape = beta.map(|t| t.shape().to_vec());
        let n = plan.count as f32;
        // the kinds differ in the mean the variance was taken around, whether mean(gh) is
        // subtracted, and the factor of sum(gh * xh)
        let centered = matches!(kind, NormKind::Standard | NormKind::RmsScaling);
        let shift_var = if centered {
            st.mean.clone()
        } else {
            zeros.clone()
        };
        let k: Vec<f32> = match kind {
            NormKind::L2 => st
                .var
                .iter()
                .map(|&s| (s.sqrt() > epsilon) as u8 as f32)
                .collect(),
            _ => vec![1.0 / n; plan.n_stats],
        };
        let shift_out = if kind == NormKind::Standard {
            st.mean
        } else {
            zeros
        };
        let r = st.r;
        move |g: &Tensor| {
            let (gd, xd) = (g.f32_data()?, x.f32_data()?);
            let params = need[1..].iter().any(|&n| n);
            let ([t0, t1], p) = grad_sums(&plan, &xd, &gd, &shift_out, &r, &gam, params);
            let dx = need[0].then(|| {
                let c1: Vec<f32> = match kind {
                    NormKind::Standard => t0.iter().map(|t| t / n).collect(),
                    _ => vec![0.0; t0.len()],
                };
                let q: Vec<f32> = r
                    .iter()
                    .zip(&t1)
                    .zip(&k)
                    .map(|((r, t), k)| r * t * k)
                    .collect();
                let dx = backward_dx(&plan, &xd, &gd, &shift_var, &r, &c1, &q, &gam);
                Tensor::new_f32(dx, x.shape())
            });
            let (dgamma, dbeta) = match p {
                Some([p0, p1]) => (Some(p0), Some(p1)),
                None => (None, None),
            };
            let mut grads = vec![dx];
            for (shape, sums) in [(&gamma_shape, dgamma), (&beta_shape, dbeta)] {
                if let Some(shape) = shape {
                    let i = grads.len();
                    grads.push(sums.filter(|_| need[i]).map(|v| Tensor::new_f32(v, shape)));
                }
            }
            Ok(grads)
        }
    });
    Ok(Normalized {
        output,
        mean,
        variance,
    })
}

/// `keras.ops.moments(x, axes, keepdims)`: the mean and the (biased) variance over `axes`,
/// each differentiable.
pub fn moments(x: &Tensor, axes: &[isize], keepdims: bool) -> Result<(Tensor, Tensor)> {
    x.expect_f32("moments")?;
    let axes = normalize_axes("moments", Some(axes), x.ndim())?;
    let reduce: Vec<bool> = (0..x.ndim()).map(|d| axes.contains(&d)).collect();
    let plan = Plan::new(x.shape(), &reduce, &vec![false; x.ndim()]);
    let (out_shape, kept) = (
        reduced_shape(x.shape(), &axes, keepdims),
        reduced_shape(x.shape(), &axes, true),
    );
    let (mean, var) = if plan.numel == 0 {
        let nan = vec![f32::NAN; plan.n_stats];
        (nan.clone(), nan)
    } else {
        let st = statistics(&plan, &x.f32_data()?, NormKind::Standard, 0.0);
        (st.mean, st.var)
    };
    let n = plan.count as f32;
    let mean_kept = Tensor::new_f32(mean.clone(), &kept);
    let mean_t = record("moments", &[x], Tensor::new_f32(mean, &out_shape), || {
        let (shape, kept) = (x.shape().to_vec(), kept.clone());
        move |g: &Tensor| {
            let g = scale(&reshape(g, &kept)?, 1.0 / n)?;
            Ok(vec![Some(broadcast_to(&g, &shape)?.contiguous_data())])
        }
    });
    let var_t = record("moments", &[x], Tensor::new_f32(var, &out_shape), || {
        let x = x.detach();
        move |g: &Tensor| {
            let g = scale(&reshape(g, &kept)?, 2.0 / n)?;
            Ok(vec![Some(multiply(&subtract(&x, &mean_kept)?, &g)?)])
        }
    });
    Ok((mean_t, var_t))
}

/// `keras.ops.batch_normalization(x, mean, variance, axis, offset, scale, epsilon)`:
/// `(x - mean) / sqrt(variance + epsilon) * scale + offset` with given statistics, each a
/// vector along `axis` (any shape with `x.shape[axis]` elements). Differentiable in all
/// inputs.
pub fn batch_normalization(
    x: &Tensor,
    mean: &Tensor,
    variance: &Tensor,
    axis: isize,
    offset: Option<&Tensor>,
    scale: Option<&Tensor>,
    epsilon: f32,
) -> Result<Tensor> {
    const OP: &str = "batch_normalization";
    x.expect_f32(OP)?;
    let ax = normalize_axis(OP, axis, x.ndim())?;
    let c = x.shape()[ax];
    let dims = [c];
    let m = param_values(OP, "mean", Some(mean), c, 0.0, &dims)?;
    let v = param_values(OP, "variance", Some(variance), c, 0.0, &dims)?;
    let gam = param_values(OP, "scale", scale, c, 1.0, &dims)?;
    let bet = param_values(OP, "offset", offset, c, 0.0, &dims)?;
    let reduce: Vec<bool> = (0..x.ndim()).map(|d| d != ax).collect();
    let param: Vec<bool> = reduce.iter().map(|r| !r).collect();
    let plan = Plan::new(x.shape(), &reduce, &param);
    let r: Vec<f32> = v.iter().map(|v| 1.0 / (v + epsilon).sqrt()).collect();
    let y = if plan.numel == 0 {
        Vec::new()
    } else {
        forward(&plan, &x.f32_data()?, &m, &r, &gam, &bet)
    };
    let y = Tensor::new_f32(y, x.shape());
    let inputs: Vec<&Tensor> = [Some(x), Some(mean), Some(variance), offset, scale]
        .into_iter()
        .flatten()
        .collect();
    Ok(record(OP, &inputs, y, || {
        let need: Vec<bool> = inputs.iter().map(|t| t.requires_grad()).collect();
        let shapes: Vec<Vec<usize>> = inputs.iter().map(|t| t.shape().to_vec()).collect();
        let (x, has_offset, has_scale) = (x.detach(), offset.is_some(), scale.is_some());
        move |g: &Tensor| {
            let (gd, xd) = (g.f32_data()?, x.f32_data()?);
            let t = |v: Vec<f32>, i: usize| Tensor::new_f32(v, &shapes[i]);
            if plan.numel == 0 {
                return Ok(need
                    .iter()
                    .enumerate()
                    .map(|(i, &n)| n.then(|| t(vec![0.0; shapes[i].iter().product()], i)))
                    .collect());
            }
            let ([t0, t1], p) = grad_sums(&plan, &xd, &gd, &m, &r, &gam, true);
            let [p0, p1] = p.expect("parameter sums were asked for");
            let zeros = vec![0.0f32; c];
            let dx = need[0].then(|| {
                t(
                    backward_dx(&plan, &xd, &gd, &m, &r, &zeros, &zeros, &gam),
                    0,
                )
            });
            // d/dmean = -r sum(gh); d/dvariance = -r^2 / 2 sum(gh * xh)
            let dmean: Vec<f32> = r.iter().zip(&t0).map(|(r, t)| -r * t).collect();
            let dvar: Vec<f32> = r.iter().zip(&t1).map(|(r, t)| -0.5 * r * r * t).collect();
            let mut grads = vec![
                dx,
                need[1].then(|| t(dmean, 1)),
                need[2].then(|| t(dvar, 2)),
            ];
            if has_offset {
                grads.push(need[grads.len()].then(|| t(p1, grads.len())));
            }
            if has_scale {
                grads.push(need[grads.len()].then(|| t(p0, grads.len())));
            }
            Ok(grads)
        }
    }))
}

/// The dimensions of `x` along `axes` and the axes resolved (sorted, distinct).
fn resolve(op: &str, x: &Tensor, axes: &[isize]) -> Result<Vec<usize>> {
    if axes.is_empty() {
        return Err(value_err!("{op}: at least one axis is needed, got none"));
    }
    normalize_axes(op, Some(axes), x.ndim())
}

/// `keras.ops.layer_normalization`: standard normalization over `axes` with `gamma` and
/// `beta` over the same axes; with `rms_scaling`, `x / sqrt(var + epsilon) * gamma` (the
/// mean not subtracted, `beta` unused), as Keras computes it.
pub fn layer_normalization(
    x: &Tensor,
    gamma: Option<&Tensor>,
    beta: Option<&Tensor>,
    axes: &[isize],
    epsilon: f32,
    rms_scaling: bool,
) -> Result<Tensor> {
    const OP: &str = "layer_normalization";
    let axes = resolve(OP, x, axes)?;
    let (kind, beta) = if rms_scaling {
        (NormKind::RmsScaling, None)
    } else {
        (NormKind::Standard, beta)
    };
    Ok(normalization(OP, x, &axes, &axes, gamma, beta, epsilon, kind)?.output)
}

/// `keras.ops.rms_normalization`: `x / sqrt(mean(x^2) + epsilon) * scale` over `axes`.
/// A `scale` with the shape of the trailing normalized axes is fused; any other shape is
/// broadcast against the result.
pub fn rms_normalization(
    x: &Tensor,
    scale: Option<&Tensor>,
    axes: &[isize],
    epsilon: f32,
) -> Result<Tensor> {
    const OP: &str = "rms_normalization";
    let x = if x.ndim() == 0 {
        reshape(x, &[1])?
    } else {
        x.clone()
    };
    let axes = resolve(OP, &x, axes)?;
    let first = axes[0];
    let trailing = axes.iter().copied().eq(first..x.ndim());
    match scale {
        Some(s) if !(trailing && s.shape() == &x.shape()[first..]) => {
            let y = normalization(OP, &x, &axes, &[], None, None, epsilon, NormKind::Rms)?.output;
            multiply(&y, s)
        }
        s => Ok(normalization(OP, &x, &axes, &axes, s, None, epsilon, NormKind::Rms)?.output),
    }
}

/// `x / max(||x||_2, epsilon)` over `axes`: `keras.ops.normalize(order=2)` and
/// `UnitNormalization`.
pub fn l2_normalize(x: &Tensor, axes: &[isize], epsilon: f32) -> Result<Tensor> {
    const OP: &str = "normalize";
    let x = if x.ndim() == 0 {
        reshape(x, &[1])?
    } else {
        x.clone()
    };
    let axes = resolve(OP, &x, axes)?;
    Ok(normalization(OP, &x, &axes, &[], None, None, epsilon, NormKind::L2)?.output)
}

/// Group normalization (`keras.layers.GroupNormalization`): the channels along `axis` are
/// split into `groups`; each sample's group is normalized over its channels and all axes
/// but the batch axis 0. `gamma` and `beta` have one value per channel.
pub fn group_normalization(
    x: &Tensor,
    groups: usize,
    axis: isize,
    gamma: Option<&Tensor>,
    beta: Option<&Tensor>,
    epsilon: f32,
) -> Result<Tensor> {
    const OP: &str = "group_normalization";
    let ax = normalize_axis(OP, axis, x.ndim())?;
    if ax == 0 {
        return Err(value_err!(
            "{OP}: axis {axis} is the batch axis of the input of shape {:?}; the channel axis must be another one",
            x.shape()
        ));
    }
    let c = x.shape()[ax];
    if groups == 0 || c % groups != 0 {
        return Err(value_err!(
            "{OP}: the number of groups ({groups}) must divide the number of channels ({c}) of the input of shape {:?}",
            x.shape()
        ));
    }
    let mut shape = x.shape().to_vec();
    shape.splice(ax..=ax, [groups, c / groups]);
    let xg = reshape(x, &shape)?;
    let axes: Vec<usize> = (1..shape.len()).filter(|&d| d != ax).collect();
    let y = normalization(
        OP,
        &xg,
        &axes,
        &[ax, ax + 1],
        gamma,
        beta,
        epsilon,
        NormKind::Standard,
    )?;
    reshape(&y.output, x.shape())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_coalesce_and_index() {
        // [N=2, H=3, W=4, C=5] normalized over N, H, W (batch norm): one axis of 24 rows
        // with the channels along the row
        let p = Plan::new(
            &[2, 3, 4, 5],
            &[true, true, true, false],
            &[false, false, false, true],
        );
        assert_eq!(
            (p.shape.clone(), p.sstr.clone(), p.pstr.clone()),
            (vec![24, 5], vec![0, 1], vec![0, 1])
        );
        assert_eq!((p.n_stats, p.n_params, p.count), (5, 5, 24));
        // group norm [N=2, HW=3, G=2, Cg=4]
        let p = Plan::new(
            &[2, 3, 2, 4],
            &[false, true, false, true],
            &[false, false, true, true],
        );
        assert_eq!(p.shape, vec![2, 3, 2, 4]);
        let bases = p.bases(0, 12);
        assert_eq!(bases[0], (0, 0));
        assert_eq!(bases[1], (1, 4));
        assert_eq!(bases[2], (0, 0));
        assert_eq!(bases[7], (3, 4));
        assert_eq!(p.bases(7, 8), vec![(3, 4)]);
        assert_eq!((p.n_stats, p.n_params, p.count), (4, 8, 12));
        // scalar input
        let p = Plan::new(&[], &[], &[]);
        assert_eq!((p.shape.clone(), p.numel, p.n_stats), (vec![1], 1, 1));
    }

    /// Large inputs run in parallel blocks and agree with a small-block serial reference
    /// computed in f64.
    #[test]
    fn blocked_statistics_match_naive() {
        let (rows, c) = (3000, 24); // > PAR_MIN_ELEMS
        let x: Vec<f32> = (0..rows * c)
            .map(|i| ((i * 37 % 101) as f32 - 50.0) / 10.0 + 3.0)
            .collect();
        let plan = Plan::new(&[rows, c], &[true, false], &[false, true]);
        assert!(plan.blocks().1 > 1);
        let st = statistics(&plan, &x, NormKind::Standard, 1e-3);
        for j in 0..c {
            let col: Vec<f64> = (0..rows).map(|i| x[i * c + j] as f64).collect();
            let m = col.iter().sum::<f64>() / rows as f64;
            let v = col.iter().map(|a| (a - m) * (a - m)).sum::<f64>() / rows as f64;
            assert!(
                (st.mean[j] as f64 - m).abs() < 1e-4,
                "{} vs {m}",
                st.mean[j]
            );
            assert!(
                (st.var[j] as f64 - v).abs() < 1e-4 * (1.0 + v),
                "{} vs {v}",
                st.var[j]
            );
        }
    }
}
