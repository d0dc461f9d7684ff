//! Normalization ops: keras.ops `moments`, `batch_normalization`, `layer_normalization`,
//! `rms_normalization` and `normalize`, plus group normalization, all on one fused kernel:
//! statistics over any set of axes, an affine transform over any other set, and the
//! analytic backward in one reduction pass and one elementwise pass.
//!
//! Layout. The input is seen as rows along its last (coalesced) axis. Every row has a base
//! index into the statistics (one per group of normalized elements) and into the affine
//! parameters, and along the row each index either stays fixed or advances by one. The four
//! cases are compiled separately (const generics), so every inner loop is a plain SIMD loop;
//! each kernel walks its row in fixed-size chunks the compiler vectorises. When an axis
//! that neither index varies along precedes the last axes (batch norm over channels last,
//! group norm), the input is instead seen as slabs reduced down their columns with the sums
//! in registers and normalized with per-column coefficients (`Columns`).
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
use crate::cpu::scratch::filled;
use crate::error::Result;
use crate::tensor::{normalize_axes, normalize_axis, Tensor};
use crate::value_err;
use pulp::{Arch, Simd, WithSimd};
use rayon::prelude::*;

/// Rows per parallel task hold about this many elements.
const BLOCK: usize = 1 << 14;

/// Rows per block and the number of blocks for `numel` values in rows of `inner`: one
/// block below `PAR_MIN_ELEMS`, else about `BLOCK` values each (the size alone decides).
fn split(numel: usize, inner: usize) -> (usize, usize) {
    let rows = numel / inner;
    let per = if numel < PAR_MIN_ELEMS {
        rows
    } else {
        (BLOCK / inner).clamp(1, rows)
    };
    (per, rows.div_ceil(per))
}

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
        split(self.numel, self.inner())
    }

    /// The slab view (see `Columns`), when it applies: `B` is the last axis but one along
    /// which neither index varies.
    fn columns(&self) -> Option<Columns> {
        let nd = self.shape.len();
        let k = (0..nd - 1)
            .rev()
            .find(|&d| self.sstr[d] == 0 && self.pstr[d] == 0)?;
        let nt: usize = self.shape[k + 1..].iter().product();
        if self.shape[k] < MIN_SLAB_ROWS || nt > MAX_COLUMNS {
            return None;
        }
        // the offsets of every index of `axes`, row-major
        let offsets = |axes: std::ops::Range<usize>| {
            let (mut s, mut p) = (vec![0usize], vec![0usize]);
            for d in axes {
                let n = self.shape[d];
                s = s
                    .iter()
                    .flat_map(|&b| (0..n).map(move |i| b + i * self.sstr[d]))
                    .collect();
                p = p
                    .iter()
                    .flat_map(|&b| (0..n).map(move |i| b + i * self.pstr[d]))
                    .collect();
            }
            (s, p)
        };
        let (col_s, col_p) = offsets(k + 1..nd);
        let (slab_s, slab_p) = offsets(0..k);
        Some(Columns {
            nb: self.shape[k],
            nt,
            col_s,
            col_p,
            slab_s,
            slab_p,
        })
    }

    /// The (statistic, parameter) base offsets of rows `r0..r1`.
    fn bases(&self, r0: usize, r1: usize) -> Vec<(usize, usize)> {
        if self.shape.len() == 2 {
            let (s, p) = (self.sstr[0], self.pstr[0]);
            return (r0..r1).map(|r| (r * s, r * p)).collect();
        }
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
//
// Each kernel walks its row in chunks of `W` elements held in fixed-size arrays (one
// bounds check per chunk, then straight-line code the compiler vectorises) and finishes the
// tail one element at a time. Values of per-group or per-parameter arrays are loaded with
// `load::<ALONG>`: a chunk when the index advances along the row, else one value splatted.

/// Elements per chunk (one AVX-512 register, two AVX2 ones).
const W: usize = 16;

#[inline(always)]
fn load<const ALONG: bool, const L: usize>(a: &[f32], i: usize) -> [f32; L] {
    if ALONG {
        a[i..i + L].try_into().expect("a chunk of L values")
    } else {
        [a[0]; L]
    }
}

/// The chunk `o[i..i + L]` to write.
#[inline(always)]
fn chunk_mut<const L: usize>(o: &mut [f32], i: usize) -> &mut [f32; L] {
    (&mut o[i..i + L]).try_into().expect("a chunk of L values")
}

/// Adds a chunk of contributions to sums that advance along the row (`ALONG`, at
/// `acc[i..]`), or to the row's lane accumulators.
#[inline(always)]
fn add<const ALONG: bool, const L: usize>(
    acc: &mut [f32],
    lanes: &mut [f32; W],
    i: usize,
    c: [f32; L],
) {
    if ALONG {
        let a: &mut [f32; L] = (&mut acc[i..i + L]).try_into().expect("a chunk of L sums");
        for k in 0..L {
            a[k] += c[k];
        }
    } else {
        for k in 0..L {
            lanes[k] += c[k];
        }
    }
}

/// Adds the lane accumulators of a row whose sums do not advance into `acc[0]`.
#[inline(always)]
fn flush<const ALONG: bool>(acc: &mut [f32], lanes: &[f32; W]) {
    if !ALONG {
        acc[0] += hsum(*lanes);
    }
}

/// The sum of a chunk, added pairwise (a few vector adds, not a chain of scalar ones).
#[inline(always)]
fn hsum<const L: usize>(mut v: [f32; L]) -> f32 {
    let mut w = L;
    while w > 1 {
        let half = w / 2;
        for k in 0..half {
            v[k] += v[k + half];
        }
        if w % 2 == 1 {
            v[0] += v[w - 1];
        }
        w = half;
    }
    v[0]
}

/// Runs `$f::<..., W>(args, i)` on the full chunks of a row of `$n`, then a half chunk and
/// `$f::<..., 1>(args, i)` on the tail.
macro_rules! chunked {
    ($n:expr, $f:ident $(::<$($g:ident),*>)? ($($a:expr),*)) => {{
        let n = $n;
        let mut i = 0;
        while i + W <= n {
            $f::<$($({ $g },)*)? W>($($a,)* i);
            i += W;
        }
        if i + W / 2 <= n {
            $f::<$($({ $g },)*)? { W / 2 }>($($a,)* i);
            i += W / 2;
        }
        while i < n {
            $f::<$($({ $g },)*)? 1>($($a,)* i);
            i += 1;
        }
    }};
}

#[inline(always)]
fn sum_chunk<const SS: bool, const L: usize>(
    x: &[f32],
    acc: &mut [f32],
    lanes: &mut [f32; W],
    i: usize,
) {
    add::<SS, L>(acc, lanes, i, load::<true, L>(x, i));
}

#[inline(always)]
fn square_chunk<const SS: bool, const L: usize>(
    x: &[f32],
    m: &[f32],
    acc: &mut [f32],
    lanes: &mut [f32; W],
    i: usize,
) {
    let (x, m) = (load::<true, L>(x, i), load::<SS, L>(m, i));
    let mut c = [0.0; L];
    for k in 0..L {
        let d = x[k] - m[k];
        c[k] = d * d;
    }
    add::<SS, L>(acc, lanes, i, c);
}

/// Statistics of one row: adds `x`, or `(x - shift)^2` when a shift is given, to `acc`.
#[inline(always)]
fn stat_row<const SS: bool>(x: &[f32], shift: Option<&[f32]>, acc: &mut [f32]) {
    let mut lanes = [0.0f32; W];
    match shift {
        None => chunked!(x.len(), sum_chunk::<SS>(x, acc, &mut lanes)),
        Some(m) => chunked!(x.len(), square_chunk::<SS>(x, m, acc, &mut lanes)),
    }
    flush::<SS>(acc, &lanes);
}

#[inline(always)]
fn out_chunk<const SS: bool, const PS: bool, const L: usize>(
    o: &mut [f32],
    x: &[f32],
    m: &[f32],
    r: &[f32],
    g: &[f32],
    b: &[f32],
    i: usize,
) {
    let (x, m, r) = (
        load::<true, L>(x, i),
        load::<SS, L>(m, i),
        load::<SS, L>(r, i),
    );
    let (g, b) = (load::<PS, L>(g, i), load::<PS, L>(b, i));
    let o = chunk_mut::<L>(o, i);
    for k in 0..L {
        o[k] = (x[k] - m[k]) * r[k] * g[k] + b[k];
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
    chunked!(x.len(), out_chunk::<SS, PS>(o, x, shift, r, gamma, beta));
}

#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn grad_chunk<const SS: bool, const PS: bool, const L: usize>(
    x: &[f32],
    g: &[f32],
    m: &[f32],
    r: &[f32],
    gamma: &[f32],
    t: &mut [&mut [f32]; 2],
    p: &mut Option<[&mut [f32]; 2]>,
    lanes: &mut [[f32; W]; 4],
    i: usize,
) {
    let (x, g, m, r) = (
        load::<true, L>(x, i),
        load::<true, L>(g, i),
        load::<SS, L>(m, i),
        load::<SS, L>(r, i),
    );
    let gm = load::<PS, L>(gamma, i);
    let (mut gh, mut ghxh, mut gxh) = ([0.0; L], [0.0; L], [0.0; L]);
    for k in 0..L {
        let xh = (x[k] - m[k]) * r[k];
        gh[k] = g[k] * gm[k];
        ghxh[k] = gh[k] * xh;
        gxh[k] = g[k] * xh;
    }
    let [l0, l1, l2, l3] = lanes;
    add::<SS, L>(t[0], l0, i, gh);
    add::<SS, L>(t[1], l1, i, ghxh);
    if let Some([p0, p1]) = p {
        add::<PS, L>(p0, l2, i, gxh);
        add::<PS, L>(p1, l3, i, g);
    }
}

/// The backward sums of one row, with `xh = (x - shift) * r` and `gh = g * gamma`: adds
/// `gh` and `gh * xh` to the groups' sums `t`, and (when given) `g * xh` and `g` to the
/// parameters' sums `p`.
#[inline(always)]
fn grad_row<const SS: bool, const PS: bool>(
    x: &[f32],
    g: &[f32],
    shift: &[f32],
    r: &[f32],
    gamma: &[f32],
    mut t: [&mut [f32]; 2],
    mut p: Option<[&mut [f32]; 2]>,
) {
    let mut lanes = [[0.0f32; W]; 4];
    chunked!(
        x.len(),
        grad_chunk::<SS, PS>(x, g, shift, r, gamma, &mut t, &mut p, &mut lanes)
    );
    flush::<SS>(t[0], &lanes[0]);
    flush::<SS>(t[1], &lanes[1]);
    if let Some([p0, p1]) = p {
        flush::<PS>(p0, &lanes[2]);
        flush::<PS>(p1, &lanes[3]);
    }
}

#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn dx_chunk<const SS: bool, const PS: bool, const L: usize>(
    o: &mut [f32],
    x: &[f32],
    g: &[f32],
    m: &[f32],
    r: &[f32],
    c1: &[f32],
    q: &[f32],
    gamma: &[f32],
    i: usize,
) {
    let (x, g, m, r) = (
        load::<true, L>(x, i),
        load::<true, L>(g, i),
        load::<SS, L>(m, i),
        load::<SS, L>(r, i),
    );
    let (c1, q, gm) = (
        load::<SS, L>(c1, i),
        load::<SS, L>(q, i),
        load::<PS, L>(gamma, i),
    );
    let o = chunk_mut::<L>(o, i);
    for k in 0..L {
        o[k] = r[k] * (g[k] * gm[k] - c1[k] - (x[k] - m[k]) * q[k]);
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
    chunked!(x.len(), dx_chunk::<SS, PS>(o, x, g, shift, r, c1, q, gamma));
}

/// The block versions of the row kernels: rows of `inner` elements with their
/// (statistic, parameter) bases.
#[inline(always)]
fn stat_rows<const SS: bool>(
    x: &[f32],
    inner: usize,
    bases: &[(usize, usize)],
    shift: Option<&[f32]>,
    part: &mut Partial,
) {
    let acc = &mut part.s[0];
    for (x, &(sb, _)) in x.chunks_exact(inner).zip(bases) {
        stat_row::<SS>(x, shift.map(|m| &m[sb..]), &mut acc[sb - part.s_lo..]);
    }
}

#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn out_rows<const SS: bool, const PS: bool>(
    o: &mut [f32],
    x: &[f32],
    inner: usize,
    bases: &[(usize, usize)],
    shift: &[f32],
    r: &[f32],
    gamma: &[f32],
    beta: &[f32],
) {
    for ((o, x), &(sb, pb)) in o
        .chunks_exact_mut(inner)
        .zip(x.chunks_exact(inner))
        .zip(bases)
    {
        out_row::<SS, PS>(o, x, &shift[sb..], &r[sb..], &gamma[pb..], &beta[pb..]);
    }
}

#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn grad_rows<const SS: bool, const PS: bool>(
    x: &[f32],
    g: &[f32],
    inner: usize,
    bases: &[(usize, usize)],
    shift: &[f32],
    r: &[f32],
    gamma: &[f32],
    part: &mut Partial,
) {
    let (s_lo, p_lo) = (part.s_lo, part.p_lo);
    let [t0, t1] = part.s.as_mut_slice() else {
        unreachable!("two sums per group")
    };
    let mut p = match part.p.as_mut_slice() {
        [p0, p1] => Some([p0, p1]),
        _ => None,
    };
    for ((x, g), &(sb, pb)) in x.chunks_exact(inner).zip(g.chunks_exact(inner)).zip(bases) {
        let (so, po) = (sb - s_lo, pb - p_lo);
        let t = [&mut t0[so..], &mut t1[so..]];
        let p = p.as_mut().map(|[p0, p1]| [&mut p0[po..], &mut p1[po..]]);
        grad_row::<SS, PS>(x, g, &shift[sb..], &r[sb..], &gamma[pb..], t, p);
    }
}

#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn dx_rows<const SS: bool, const PS: bool>(
    o: &mut [f32],
    x: &[f32],
    g: &[f32],
    inner: usize,
    bases: &[(usize, usize)],
    coef: [&[f32]; 4],
    gamma: &[f32],
) {
    let [m, r, c1, q] = coef;
    for (((o, x), g), &(sb, pb)) in o
        .chunks_exact_mut(inner)
        .zip(x.chunks_exact(inner))
        .zip(g.chunks_exact(inner))
        .zip(bases)
    {
        dx_row::<SS, PS>(
            o,
            x,
            g,
            &m[sb..],
            &r[sb..],
            &c1[sb..],
            &q[sb..],
            &gamma[pb..],
        );
    }
}

// Slabs (`Columns`): the input as `[A, B, T]`, where neither the statistics nor the
// parameters vary along `B`, so each `[B, T]` slab is reduced down its columns (one column
// chunk at a time, the sums in registers) and normalized with per-column coefficients.

/// Adds a chunk of column sums at `acc[j..]`.
#[inline(always)]
fn accumulate<const L: usize>(acc: &mut [f32], j: usize, v: [f32; L]) {
    let a: &mut [f32; L] = (&mut acc[j..j + L]).try_into().expect("a chunk of L sums");
    for k in 0..L {
        a[k] += v[k];
    }
}

/// Columns `j..j + L` of the rows `x` (of `nt`): sums of `x`, or of `(x - m)^2` (`SQ`).
#[inline(always)]
fn stat_cols<const SQ: bool, const L: usize>(
    x: &[f32],
    nt: usize,
    m: &[f32],
    acc: &mut [f32],
    j: usize,
) {
    let m = load::<SQ, L>(m, if SQ { j } else { 0 });
    let mut s = [0.0f32; L];
    for row in x.chunks_exact(nt) {
        let x = load::<true, L>(row, j);
        for k in 0..L {
            let d = x[k] - m[k];
            s[k] += if SQ { d * d } else { x[k] };
        }
    }
    accumulate::<L>(acc, j, s);
}

/// Columns `j..j + L` of the backward sums: `sum(g)` into `acc[0]`, `sum(g * (x - m))`
/// into `acc[1]`.
#[inline(always)]
fn grad_cols<const L: usize>(
    x: &[f32],
    g: &[f32],
    nt: usize,
    m: &[f32],
    acc: &mut [Vec<f32>],
    j: usize,
) {
    let m = load::<true, L>(m, j);
    let (mut sg, mut sgx) = ([0.0f32; L], [0.0f32; L]);
    for (xr, gr) in x.chunks_exact(nt).zip(g.chunks_exact(nt)) {
        let (x, g) = (load::<true, L>(xr, j), load::<true, L>(gr, j));
        for k in 0..L {
            sg[k] += g[k];
            sgx[k] += g[k] * (x[k] - m[k]);
        }
    }
    accumulate::<L>(&mut acc[0], j, sg);
    accumulate::<L>(&mut acc[1], j, sgx);
}

/// `o = x * a + b` along one row.
#[inline(always)]
fn affine_chunk<const L: usize>(o: &mut [f32], x: &[f32], a: &[f32], b: &[f32], j: usize) {
    let (x, a, b) = (
        load::<true, L>(x, j),
        load::<true, L>(a, j),
        load::<true, L>(b, j),
    );
    let o = chunk_mut::<L>(o, j);
    for k in 0..L {
        o[k] = x[k] * a[k] + b[k];
    }
}

/// `o = g * a + x * b + c` along one row.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn affine2_chunk<const L: usize>(
    o: &mut [f32],
    x: &[f32],
    g: &[f32],
    a: &[f32],
    b: &[f32],
    c: &[f32],
    j: usize,
) {
    let (x, g) = (load::<true, L>(x, j), load::<true, L>(g, j));
    let (a, b, c) = (
        load::<true, L>(a, j),
        load::<true, L>(b, j),
        load::<true, L>(c, j),
    );
    let o = chunk_mut::<L>(o, j);
    for k in 0..L {
        o[k] = g[k] * a[k] + x[k] * b[k] + c[k];
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

/// `f(arg)` compiled for the best instruction set found at run time. `f` is called through
/// `Fn` (its bound here), whose body carries a closure's `#[inline(always)]`, so the kernel
/// is inlined into pulp's target-feature function. A closure handed to `Arch::dispatch`
/// directly is called through a `FnOnce::call_once` shim that is not inlined, and so runs
/// with the baseline instruction set (SSE2).
#[inline(always)]
fn vectorized<A, R>(f: impl Fn(A) -> R, arg: A) -> R {
    struct Op<F, A>(F, A);
    impl<A, R, F: Fn(A) -> R> WithSimd for Op<F, A> {
        type Output = R;
        #[inline(always)]
        fn with_simd<S: Simd>(self, _simd: S) -> R {
            let Op(f, arg) = self;
            f(arg)
        }
    }
    Arch::new().dispatch(Op(f, arg))
}

/// One block's partial sums: `s[k]` over the statistics from `s_lo`, `p[k]` over the
/// parameters from `p_lo`.
struct Partial {
    s_lo: usize,
    s: Vec<Vec<f32>>,
    p_lo: usize,
    p: Vec<Vec<f32>>,
}

/// `block(b)` for each of `nblocks` blocks, in order, on the pool when there are several.
fn per_block<T: Send>(nblocks: usize, block: impl Fn(usize) -> T + Sync) -> Vec<T> {
    if nblocks == 1 {
        vec![block(0)]
    } else {
        pool::install(|| (0..nblocks).into_par_iter().map(&block).collect())
    }
}

/// An output of `numel` values written in blocks of `len` by `f(b, block)`, which must
/// write every value of its block; blocks in parallel.
fn fill_blocks(numel: usize, len: usize, f: impl Fn(usize, &mut [f32]) + Sync) -> Vec<f32> {
    filled(numel, |buf| {
        if len >= numel {
            f(0, buf);
        } else {
            pool::install(|| {
                buf.par_chunks_mut(len)
                    .enumerate()
                    .for_each(|(b, o)| f(b, o))
            });
        }
    })
}

/// Sums over all rows into `ns` arrays per statistic and `np` per parameter:
/// `block(r0, bases, partial)` adds the rows from `r0` (with these bases) to the partial.
fn reduce_rows(
    plan: &Plan,
    ns: usize,
    np: usize,
    block_sums: impl Fn(usize, &[(usize, usize)], &mut Partial) + Sync,
) -> (Vec<Vec<f32>>, Vec<Vec<f32>>) {
    let (inner, (per, nblocks)) = (plan.inner(), plan.blocks());
    let (ss, ps) = plan.steps();
    let rows = plan.numel / inner;
    let partials = per_block(nblocks, |b| {
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
        vectorized(
            #[inline(always)]
            |part: &mut Partial| block_sums(r0, &bases, part),
            &mut part,
        );
        part
    });
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

/// The whole output, written block by block by `f(r0, bases, out_rows)` (the rows from
/// `r0`, with these bases), blocks in parallel. `f` must write every element of its rows.
fn map_rows(plan: &Plan, f: impl Fn(usize, &[(usize, usize)], &mut [f32]) + Sync) -> Vec<f32> {
    let (inner, (per, _)) = (plan.inner(), plan.blocks());
    fill_blocks(plan.numel, per * inner, |b, o| {
        let r0 = b * per;
        let bases = plan.bases(r0, r0 + o.len() / inner);
        vectorized(
            #[inline(always)]
            |o: &mut [f32]| f(r0, &bases, o),
            o,
        );
    })
}

/// The input as slabs `[A, B, T]`: `B` an axis along which neither the statistics nor
/// the parameters vary, `T` the (contiguous) axes after it, `A` those before. Batch
/// normalization over channels last is one slab (`B` the batch and spatial axes, `T` the
/// channels); group normalization has one per sample.
struct Columns {
    /// The length of `B` and the number of columns (elements of `T`).
    nb: usize,
    nt: usize,
    /// Each column's statistic and parameter offset within a slab.
    col_s: Vec<usize>,
    col_p: Vec<usize>,
    /// Each slab's statistic and parameter base.
    slab_s: Vec<usize>,
    slab_p: Vec<usize>,
}

/// Slabs are used when `B` has at least this many rows and a row at most `MAX_COLUMNS`
/// elements (the column sums of a block stay small).
const MIN_SLAB_ROWS: usize = 8;
const MAX_COLUMNS: usize = 4096;

impl Columns {
    fn rows(&self) -> usize {
        self.slab_s.len() * self.nb
    }

    /// The pieces of rows `r0..r1` that lie in one slab: (slab, first row, rows).
    fn segments(&self, r0: usize, r1: usize) -> Vec<(usize, usize, usize)> {
        let mut out = Vec::new();
        let mut r = r0;
        while r < r1 {
            let n = (self.nb - r % self.nb).min(r1 - r);
            out.push((r / self.nb, r, n));
            r += n;
        }
        out
    }
}

/// Column sums of every slab piece: `kernel(slab, first row, rows, sums)` adds the piece's
/// `k` sums per column. Returns (slab, sums) per piece, in order.
fn column_sums(
    cols: &Columns,
    k: usize,
    kernel: impl Fn(usize, usize, usize, &mut [Vec<f32>]) + Sync,
) -> Vec<(usize, Vec<Vec<f32>>)> {
    let rows = cols.rows();
    let (per, nblocks) = split(rows * cols.nt, cols.nt);
    per_block(nblocks, |b| {
        let (r0, r1) = (b * per, ((b + 1) * per).min(rows));
        cols.segments(r0, r1)
            .into_iter()
            .map(|(slab, first, n)| {
                let mut sums = vec![vec![0.0f32; cols.nt]; k];
                vectorized(
                    #[inline(always)]
                    |sums: &mut [Vec<f32>]| kernel(slab, first, n, sums),
                    &mut sums[..],
                );
                (slab, sums)
            })
            .collect::<Vec<_>>()
    })
    .into_iter()
    .flatten()
    .collect()
}

/// The whole output, slab piece by slab piece: `f(slab, first row, out rows)` must write
/// every element of its rows.
fn map_cols(cols: &Columns, f: impl Fn(usize, usize, &mut [f32]) + Sync) -> Vec<f32> {
    let (rows, nt) = (cols.rows(), cols.nt);
    let (per, _) = split(rows * nt, nt);
    fill_blocks(rows * nt, per * nt, |b, o| {
        let r0 = b * per;
        let mut rest = o;
        for (slab, first, n) in cols.segments(r0, r0 + rest.len() / nt) {
            let (piece, tail) = rest.split_at_mut(n * nt);
            rest = tail;
            vectorized(
                #[inline(always)]
                |piece: &mut [f32]| f(slab, first, piece),
                piece,
            );
        }
    })
}

/// Rows `r0..` of a row-major array of rows of `inner` elements.
#[inline(always)]
fn rows_from(a: &[f32], r0: usize, inner: usize) -> &[f32] {
    &a[r0 * inner..]
}

/// The slabs' column sums (`column_sums`) scattered into per-group totals.
fn slab_totals(cols: &Columns, n: usize, parts: &[(usize, Vec<Vec<f32>>)]) -> Vec<f32> {
    let mut total = vec![0.0f32; n];
    for (a, sums) in parts {
        for (&c, v) in cols.col_s.iter().zip(&sums[0]) {
            total[cols.slab_s[*a] + c] += v;
        }
    }
    total
}

/// The per-column values `v[slab base + column offset]` of slab `a`.
fn per_column(cols: &Columns, a: usize, v: &[f32]) -> Vec<f32> {
    cols.col_s.iter().map(|&c| v[cols.slab_s[a] + c]).collect()
}

/// Per-group statistics: the mean, the variance (mean square for `Rms`, sum of squares
/// for `L2`) and the factor `r` that normalizes.
struct Stats {
    mean: Vec<f32>,
    var: Vec<f32>,
    r: Vec<f32>,
}

/// Per-group sums of `x`, or of `(x - shift)^2` when a shift is given.
fn group_sums(plan: &Plan, x: &[f32], shift: Option<&[f32]>) -> Vec<f32> {
    if let Some(cols) = plan.columns() {
        let nt = cols.nt;
        let parts = column_sums(
            &cols,
            1,
            #[inline(always)]
            |a, first, n, acc| {
                let x = &x[first * nt..(first + n) * nt];
                match shift {
                    Some(m) => {
                        let m = per_column(&cols, a, m);
                        chunked!(nt, stat_cols::<true>(x, nt, &m, &mut acc[0]))
                    }
                    None => chunked!(nt, stat_cols::<false>(x, nt, &[0.0], &mut acc[0])),
                }
            },
        );
        return slab_totals(&cols, plan.n_stats, &parts);
    }
    let (inner, (ss, _)) = (plan.inner(), plan.steps());
    let (mut s, _) = reduce_rows(
        plan,
        1,
        0,
        #[inline(always)]
        |r0, bases, part| {
            let x = rows_from(x, r0, inner);
            if ss {
                stat_rows::<true>(x, inner, bases, shift, part)
            } else {
                stat_rows::<false>(x, inner, bases, shift, part)
            }
        },
    );
    s.remove(0)
}

fn statistics(plan: &Plan, x: &[f32], kind: NormKind, eps: f32) -> Stats {
    let n = plan.count as f32;
    match kind {
        NormKind::Standard | NormKind::RmsScaling => {
            let mean: Vec<f32> = group_sums(plan, x, None).iter().map(|s| s / n).collect();
            let var: Vec<f32> = group_sums(plan, x, Some(&mean))
                .iter()
                .map(|s| s / n)
                .collect();
            let r = var.iter().map(|v| 1.0 / (v + eps).sqrt()).collect();
            Stats { mean, var, r }
        }
        NormKind::Rms | NormKind::L2 => {
            let mean = vec![0.0; plan.n_stats];
            let squares = group_sums(plan, x, Some(&mean));
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
    if let Some(cols) = plan.columns() {
        // y = x * a + b with per-column a, b
        let nt = cols.nt;
        return map_cols(
            &cols,
            #[inline(always)]
            |slab, first, o| {
                let (sa, pa) = (cols.slab_s[slab], cols.slab_p[slab]);
                let (mut a, mut b) = (vec![0.0f32; nt], vec![0.0f32; nt]);
                for t in 0..nt {
                    let (s, p) = (sa + cols.col_s[t], pa + cols.col_p[t]);
                    a[t] = r[s] * gamma[p];
                    b[t] = beta[p] - shift[s] * a[t];
                }
                let x = rows_from(x, first, nt);
                for (o, x) in o.chunks_exact_mut(nt).zip(x.chunks_exact(nt)) {
                    chunked!(nt, affine_chunk(o, x, &a, &b));
                }
            },
        );
    }
    let (inner, (ss, ps)) = (plan.inner(), plan.steps());
    map_rows(
        plan,
        #[inline(always)]
        |r0, bases, o| {
            let x = rows_from(x, r0, inner);
            by_steps!(ss, ps, out_rows(o, x, inner, bases, shift, r, gamma, beta))
        },
    )
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
    if let Some(cols) = plan.columns() {
        // per column, gamma, shift and r are constants: sum(g) and sum(g * (x - shift))
        // give all four sums
        let nt = cols.nt;
        let parts = column_sums(
            &cols,
            2,
            #[inline(always)]
            |a, first, n, acc| {
                let (x, g) = (
                    &x[first * nt..(first + n) * nt],
                    &g[first * nt..(first + n) * nt],
                );
                let m = per_column(&cols, a, shift);
                chunked!(nt, grad_cols(x, g, nt, &m, acc))
            },
        );
        let (mut t0, mut t1) = (vec![0.0f32; plan.n_stats], vec![0.0f32; plan.n_stats]);
        let (mut p0, mut p1) = (vec![0.0f32; plan.n_params], vec![0.0f32; plan.n_params]);
        for (a, sums) in &parts {
            let (sa, pa) = (cols.slab_s[*a], cols.slab_p[*a]);
            let columns = cols
                .col_s
                .iter()
                .zip(&cols.col_p)
                .zip(sums[0].iter().zip(&sums[1]));
            for ((&cs, &cp), (&sg, &sgx)) in columns {
                let (s, p) = (sa + cs, pa + cp);
                t0[s] += gamma[p] * sg;
                t1[s] += gamma[p] * r[s] * sgx;
                p0[p] += r[s] * sgx;
                p1[p] += sg;
            }
        }
        return ([t0, t1], params.then_some([p0, p1]));
    }
    let (inner, (ss, ps)) = (plan.inner(), plan.steps());
    let (s, p) = reduce_rows(
        plan,
        2,
        if params { 2 } else { 0 },
        #[inline(always)]
        |r0, bases, part| {
            let (x, g) = (rows_from(x, r0, inner), rows_from(g, r0, inner));
            by_steps!(ss, ps, grad_rows(x, g, inner, bases, shift, r, gamma, part))
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
    if let Some(cols) = plan.columns() {
        // dx = g * a + x * b + c with per-column a, b, c
        let nt = cols.nt;
        return map_cols(
            &cols,
            #[inline(always)]
            |slab, first, o| {
                let (sa, pa) = (cols.slab_s[slab], cols.slab_p[slab]);
                let (mut a, mut b, mut c) = (vec![0.0f32; nt], vec![0.0f32; nt], vec![0.0f32; nt]);
                for (t, (&cs, &cp)) in cols.col_s.iter().zip(&cols.col_p).enumerate() {
                    let (s, p) = (sa + cs, pa + cp);
                    a[t] = r[s] * gamma[p];
                    b[t] = -r[s] * q[s];
                    c[t] = r[s] * (shift[s] * q[s] - c1[s]);
                }
                let (a, b, c) = (&a, &b, &c);
                let (x, g) = (rows_from(x, first, nt), rows_from(g, first, nt));
                for ((o, x), g) in o
                    .chunks_exact_mut(nt)
                    .zip(x.chunks_exact(nt))
                    .zip(g.chunks_exact(nt))
                {
                    chunked!(nt, affine2_chunk(o, x, g, a, b, c));
                }
            },
        );
    }
    let (inner, (ss, ps)) = (plan.inner(), plan.steps());
    map_rows(
        plan,
        #[inline(always)]
        |r0, bases, o| {
            let (x, g) = (rows_from(x, r0, inner), rows_from(g, r0, inner));
            by_steps!(
                ss,
                ps,
                dx_rows(o, x, g, inner, bases, [shift, r, c1, q], gamma)
            )
        },
    )
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
