//! Convolution kernels over a `ConvGeom` (channels last): the forward product and, in one
//! pass, the gradients of the input, kernel and bias. Transposed convolutions use the same
//! two functions with the roles of input and output exchanged (ops::conv_transpose).
//!
//! Two algorithms, chosen by the geometry:
//! - im2col + GEMM: lines of output positions are gathered, a tile at a time, into a
//!   per-thread scratch matrix (reused across calls) and multiplied by the kernel, one
//!   product per group; the input gradient is the product with the kernel transposed,
//!   scattered back by `col2im`. 1x1 convolutions skip the gather.
//! - direct, for depthwise-like convolutions (one input channel per group, several groups):
//!   SIMD multiply-adds along the contiguous channel axis, a span of output positions per
//!   kernel tap.
//!
//! Threads: forward lines are split evenly over the pool; the backward pass splits whole
//! samples (their input gradients never overlap), each part accumulating its own kernel
//! and bias gradients, summed at the end.
use super::gemm::{sgemm, sgemm_serial, MatRef, PAR_MIN_FLOPS};
use super::im2col::{col2im, im2col, ConvGeom};
use super::pool;
use pulp::{Arch, Simd, WithSimd};
use rayon::prelude::*;
use std::cell::Cell;
use std::ops::Range;

/// im2col tiles hold about this many floats (256 KiB), so they stay in cache while the
/// product reads them.
const TILE_FLOATS: usize = 1 << 16;

thread_local! {
    static SCRATCH: Cell<Vec<f32>> = const { Cell::new(Vec::new()) };
}

/// Runs `f` on `len` floats of this thread's scratch (grown as needed, kept for later
/// calls). A nested call on the same thread (a task stolen while a product waits) gets a
/// buffer of its own.
fn with_scratch<R>(len: usize, f: impl FnOnce(&mut [f32]) -> R) -> R {
    let mut buf = SCRATCH.with(Cell::take);
    if buf.len() < len {
        buf.resize(len, 0.0);
    }
    let out = f(&mut buf[..len]);
    SCRATCH.with(|s| {
        let other = s.take();
        s.set(if other.len() > buf.len() { other } else { buf });
    });
    out
}

/// Lines of output positions per im2col tile (at least one).
fn tile_lines(g: &ConvGeom) -> usize {
    let rows = (TILE_FLOATS / g.col_width().max(1)).clamp(16, 1024);
    (rows / g.line_len()).max(1)
}

/// Depthwise-like: the direct kernels apply.
fn is_direct(g: &ConvGeom) -> bool {
    g.in_per_group() == 1 && g.groups > 1
}

/// How many parts to split `units` over: one per thread when the work is large enough.
fn parts_for(g: &ConvGeom, units: usize) -> usize {
    let threads = pool::num_threads();
    if threads > 1 && g.flops() >= PAR_MIN_FLOPS {
        threads.min(units).max(1)
    } else {
        1
    }
}

type Gemm = fn(usize, usize, usize, MatRef, MatRef, &mut [f32], usize, bool);

/// Products run on the calling thread when the parts already use every thread, else
/// (a batch smaller than the pool) across the pool themselves.
fn gemm_for(parts: usize) -> Gemm {
    if parts >= pool::num_threads() {
        sgemm_serial
    } else {
        sgemm
    }
}

/// `y = conv(x, w) + bias`, `y` of `g.y_len()` values.
pub fn conv_forward(g: &ConvGeom, x: &[f32], w: &[f32], bias: Option<&[f32]>) -> Vec<f32> {
    assert!(
        x.len() == g.x_len() && w.len() == g.w_len(),
        "conv_forward: operand sizes"
    );
    let (lines, line) = (g.lines(), g.line_len() * g.out_channels);
    let mut y = vec![0.0f32; lines * line];
    if y.is_empty() {
        return y;
    }
    let parts = parts_for(g, lines);
    let chunk = lines.div_ceil(parts);
    let mm = gemm_for(parts);
    let run = |(i, yc): (usize, &mut [f32])| {
        let l = i * chunk..i * chunk + yc.len() / line;
        if is_direct(g) {
            direct_forward(g, x, w, bias, l, yc)
        } else {
            gemm_forward(g, x, w, bias, l, yc, mm)
        }
    };
    if parts > 1 {
        pool::install(|| y.par_chunks_mut(chunk * line).enumerate().for_each(run));
    } else {
        run((0, &mut y));
    }
    y
}

/// The gemm forward of `lines` into `y` (their outputs), a tile of lines at a time.
fn gemm_forward(
    g: &ConvGeom,
    x: &[f32],
    w: &[f32],
    bias: Option<&[f32]>,
    lines: Range<usize>,
    y: &mut [f32],
    mm: Gemm,
) {
    let (cin, cout, cg, len) = (
        g.in_channels,
        g.out_channels,
        g.out_per_group(),
        g.line_len(),
    );
    let width = g.col_width();
    let pointwise = g.is_pointwise();
    let tile = tile_lines(g);
    let first = lines.start * len;
    with_scratch(if pointwise { 0 } else { tile * len * width }, |col| {
        let mut l = lines.start;
        while l < lines.end {
            let e = (l + tile).min(lines.end);
            let (r, re) = (l * len, e * len);
            let yt = &mut y[(r - first) * cout..(re - first) * cout];
            if let Some(b) = bias {
                yt.chunks_exact_mut(cout)
                    .for_each(|row| row.copy_from_slice(b));
            }
            for group in 0..g.groups {
                let a = if pointwise {
                    MatRef {
                        data: x,
                        offset: r * cin,
                        rs: cin as isize,
                        cs: 1,
                    }
                } else {
                    im2col(g, x, group, r..re, col);
                    MatRef::row_major(col, width)
                };
                let b = MatRef {
                    data: w,
                    offset: group * cg,
                    rs: cout as isize,
                    cs: 1,
                };
                mm(
                    re - r,
                    cg,
                    width,
                    a,
                    b,
                    &mut yt[group * cg..],
                    cout,
                    bias.is_some(),
                );
            }
            l = e;
        }
    });
}

/// What a backward pass computes: the kernel gradient when the input `x` is given, the
/// input gradient when the kernel `w` is given, the bias gradient when `bias`.
#[derive(Clone, Copy, Default)]
pub struct BackwardInputs<'a> {
    pub x: Option<&'a [f32]>,
    pub w: Option<&'a [f32]>,
    pub bias: bool,
    /// The input gradient starts from this row (one value per input channel) at every
    /// position instead of zeros: the bias of a transposed convolution, whose forward pass
    /// is this input gradient.
    pub x_init: Option<&'a [f32]>,
}

/// The gradients a backward pass returns, each present when asked for.
#[derive(Default)]
pub struct ConvGrads {
    pub x: Option<Vec<f32>>,
    pub w: Option<Vec<f32>>,
    pub bias: Option<Vec<f32>>,
}

/// One part of the backward pass: a range of whole samples and its outputs.
struct Part<'a> {
    samples: Range<usize>,
    gx: Option<&'a mut [f32]>,
    gw: Option<&'a mut [f32]>,
    gb: Option<&'a mut [f32]>,
}

/// The gradients of `y = conv(x, w) + b` given `gy = dL/dy`, in one pass over `gy`.
pub fn conv_backward(g: &ConvGeom, gy: &[f32], inputs: BackwardInputs) -> ConvGrads {
    assert_eq!(gy.len(), g.y_len(), "conv_backward: gradient size");
    let (cin, cout) = (g.in_channels, g.out_channels);
    let x_per = g.in_positions() * cin;
    let mut gx = inputs.w.map(|_| match inputs.x_init {
        Some(row) => row.repeat(g.batch * g.in_positions()),
        None => vec![0.0f32; g.x_len()],
    });
    let parts = parts_for(g, g.batch);
    let per_part = g.batch.div_ceil(parts).max(1);
    let parts = g.batch.div_ceil(per_part).max(1);
    let mut gw = inputs.x.map(|_| vec![0.0f32; parts * g.w_len()]);
    let mut gb = inputs.bias.then(|| vec![0.0f32; parts * cout]);
    if g.batch > 0 {
        let mut gx_parts = gx.as_deref_mut().map(|v| v.chunks_mut(per_part * x_per));
        let mut gw_parts = gw.as_deref_mut().map(|v| v.chunks_mut(g.w_len()));
        let mut gb_parts = gb.as_deref_mut().map(|v| v.chunks_mut(cout));
        let jobs: Vec<Part> = (0..parts)
            .map(|i| Part {
                samples: i * per_part..((i + 1) * per_part).min(g.batch),
                gx: gx_parts.as_mut().and_then(Iterator::next),
                gw: gw_parts.as_mut().and_then(Iterator::next),
                gb: gb_parts.as_mut().and_then(Iterator::next),
            })
            .collect();
        let mm = gemm_for(parts);
        let run = |part: Part| backward_part(g, gy, inputs, part, mm);
        if parts > 1 {
            pool::install(|| jobs.into_par_iter().for_each(run));
        } else {
            jobs.into_iter().for_each(run);
        }
    }
    ConvGrads {
        x: gx,
        w: gw.map(|v| sum_parts(v, g.w_len())),
        bias: gb.map(|v| sum_parts(v, cout)),
    }
}

/// The sum of the consecutive `len`-value parts of `v`.
fn sum_parts(mut v: Vec<f32>, len: usize) -> Vec<f32> {
    let (first, rest) = v.split_at_mut(len);
    for part in rest.chunks_exact(len) {
        add_into(first, part);
    }
    v.truncate(len);
    v
}

fn add_into(acc: &mut [f32], x: &[f32]) {
    Arch::new().dispatch(
        #[inline(always)]
        || {
            for (a, &b) in acc.iter_mut().zip(x) {
                *a += b;
            }
        },
    )
}

fn backward_part(g: &ConvGeom, gy: &[f32], inputs: BackwardInputs, part: Part, mm: Gemm) {
    let (cin, cout) = (g.in_channels, g.out_channels);
    let (per, x_per) = (g.out_positions(), g.in_positions() * cin);
    let s = part.samples;
    let lines = (s.end - s.start) * g.output[0] * g.output[1];
    let x = inputs.x.map(|x| &x[s.start * x_per..s.end * x_per]);
    let gy = &gy[s.start * per * cout..s.end * per * cout];
    if let Some(gb) = part.gb {
        Arch::new().dispatch(
            #[inline(always)]
            || {
                for row in gy.chunks_exact(cout) {
                    for (a, &b) in gb.iter_mut().zip(row) {
                        *a += b;
                    }
                }
            },
        );
    }
    let gx = part.gx.zip(inputs.w);
    let gw = part.gw.zip(x);
    if is_direct(g) {
        direct_backward(g, gy, lines, gx, gw);
    } else {
        gemm_backward(g, gy, lines, gx, gw, inputs.x_init.is_some(), mm);
    }
}

/// The gemm backward of local lines `0..lines` (samples counted from the part's first):
/// `gw += col(x)^T @ gy` and `gx += col2im(gy @ w^T)`, one tile and group at a time.
fn gemm_backward(
    g: &ConvGeom,
    gy: &[f32],
    lines: usize,
    mut gx: Option<(&mut [f32], &[f32])>,
    mut gw: Option<(&mut [f32], &[f32])>,
    gx_preset: bool,
    mm: Gemm,
) {
    let (cin, cout, cg, len) = (
        g.in_channels,
        g.out_channels,
        g.out_per_group(),
        g.line_len(),
    );
    let width = g.col_width();
    let pointwise = g.is_pointwise();
    let tile = tile_lines(g);
    let scratch = if pointwise { 0 } else { 2 * tile * len * width };
    with_scratch(scratch, |buf| {
        let (col, dcol) = buf.split_at_mut(scratch / 2);
        let mut l = 0;
        while l < lines {
            let e = (l + tile).min(lines);
            let (r, re) = (l * len, e * len);
            for group in 0..g.groups {
                let gy_g = MatRef {
                    data: gy,
                    offset: r * cout + group * cg,
                    rs: cout as isize,
                    cs: 1,
                };
                if let Some((gw, x)) = gw.as_mut() {
                    // col^T, (width x rows)
                    let a = if pointwise {
                        MatRef {
                            data: x,
                            offset: r * cin,
                            rs: 1,
                            cs: cin as isize,
                        }
                    } else {
                        im2col(g, x, group, r..re, col);
                        MatRef::row_major(col, width).t()
                    };
                    mm(
                        width,
                        cg,
                        re - r,
                        a,
                        gy_g,
                        &mut gw[group * cg..],
                        cout,
                        true,
                    );
                }
                if let Some((gx, w)) = gx.as_mut() {
                    // w_g^T, (cg x width)
                    let wt = MatRef {
                        data: w,
                        offset: group * cg,
                        rs: 1,
                        cs: cout as isize,
                    };
                    if pointwise {
                        mm(
                            re - r,
                            cin,
                            cg,
                            gy_g,
                            wt,
                            &mut gx[r * cin..],
                            cin,
                            gx_preset,
                        );
                    } else {
                        mm(re - r, width, cg, gy_g, wt, dcol, width, false);
                        col2im(g, dcol, group, l..e, gx);
                    }
                }
            }
            l = e;
        }
    });
}

/// `y[c*dm + m] += x[c] * w[c*dm + m]` for `dm` outputs per input channel.
#[inline(always)]
fn multiply_add<S: Simd>(simd: S, y: &mut [f32], x: &[f32], w: &[f32], dm: usize) {
    if dm == 1 {
        fma_into(simd, y, x, w);
    } else {
        for ((y, w), &x) in y.chunks_exact_mut(dm).zip(w.chunks_exact(dm)).zip(x) {
            for (y, &w) in y.iter_mut().zip(w) {
                *y += x * w;
            }
        }
    }
}

/// `acc[i] += a[i] * b[i]` over the shortest of the three, with fused multiply-adds where
/// the instruction set has them.
#[inline(always)]
fn fma_into<S: Simd>(simd: S, acc: &mut [f32], a: &[f32], b: &[f32]) {
    let n = acc.len().min(a.len()).min(b.len());
    let (acc_v, acc_t) = S::as_mut_simd_f32s(&mut acc[..n]);
    let (a_v, a_t) = S::as_simd_f32s(&a[..n]);
    let (b_v, b_t) = S::as_simd_f32s(&b[..n]);
    for ((o, &x), &y) in acc_v.iter_mut().zip(a_v).zip(b_v) {
        *o = simd.mul_add_e_f32s(x, y, *o);
    }
    for ((o, &x), &y) in acc_t.iter_mut().zip(a_t).zip(b_t) {
        *o += x * y;
    }
}

/// Whether a span of output positions is one long elementwise product: one output per
/// channel and unit stride along the last axis, so that the span's outputs, inputs (and
/// their gradients) are contiguous runs of `count * channels` values.
fn flat_spans(g: &ConvGeom) -> bool {
    g.out_per_group() == 1 && g.stride[2] == 1
}

/// Each tap's kernel row repeated along a line: `rep[tap][i] = w[tap][i % channels]`, the
/// multiplier of a whole flat span.
fn repeat_rows(g: &ConvGeom, w: &[f32], rep: &mut [f32]) {
    let (cout, line) = (g.out_channels, g.line_len() * g.out_channels);
    for (row, r) in w.chunks_exact(cout).zip(rep.chunks_exact_mut(line)) {
        r.chunks_exact_mut(cout)
            .for_each(|c| c.copy_from_slice(row));
    }
}

/// Direct forward of `lines` into `y` (their outputs).
fn direct_forward(
    g: &ConvGeom,
    x: &[f32],
    w: &[f32],
    bias: Option<&[f32]>,
    lines: Range<usize>,
    y: &mut [f32],
) {
    let rep_len = if flat_spans(g) {
        g.taps() * g.line_len() * g.out_channels
    } else {
        0
    };
    with_scratch(rep_len, |rep| {
        repeat_rows(g, w, rep);
        let (cout, first) = (g.out_channels, lines.start * g.line_len());
        for row in y.chunks_exact_mut(cout) {
            match bias {
                Some(b) => row.copy_from_slice(b),
                None => row.fill(0.0),
            }
        }
        Arch::new().dispatch(Direct {
            g,
            lines,
            first,
            out: y,
            a: x,
            b: w,
            rep,
            op: DirectOp::Forward,
        })
    })
}

/// Which direct kernel `Direct` runs.
#[derive(Clone, Copy, PartialEq, Eq)]
enum DirectOp {
    /// `out = y`, `a = x`, `b = w`: `y[c*dm+m] += x[c] w[c*dm+m]`.
    Forward,
    /// `out = gx`, `a = gy`, `b = w`: `gx[c] += sum_m gy[c*dm+m] w[c*dm+m]`.
    InputGrad,
    /// `out = gw` (or `rep`, per line position, on flat spans), `a = gy`, `b = x`:
    /// `gw[c*dm+m] += x[c] gy[c*dm+m]`.
    KernelGrad,
}

/// One direct kernel over the spans of `lines` (rows counted from `first`), run through
/// `WithSimd` so that the whole loop nest is compiled for the instruction set found.
/// `rep` holds the repeated kernel rows (forward, input gradient) or the per-position
/// kernel-gradient accumulators (kernel gradient) on flat spans, and is empty otherwise.
struct Direct<'a> {
    g: &'a ConvGeom,
    lines: Range<usize>,
    first: usize,
    out: &'a mut [f32],
    a: &'a [f32],
    b: &'a [f32],
    rep: &'a mut [f32],
    op: DirectOp,
}

impl WithSimd for Direct<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) {
        let Direct {
            g,
            lines,
            first,
            out,
            a,
            b,
            rep,
            op,
        } = self;
        let (cin, cout, dm, s) = (
            g.in_channels,
            g.out_channels,
            g.out_per_group(),
            g.stride[2],
        );
        let (in_pos, line) = (g.in_positions(), g.line_len() * cout);
        let flat = !rep.is_empty();
        g.for_each_span(
            lines,
            #[inline(always)]
            |n, tap, row, pos, count| {
                let at = (n * in_pos + pos) * cin;
                let rows = (row - first) * cout..(row - first + count) * cout;
                let k = rows.len();
                match (op, flat) {
                    (DirectOp::Forward, true) => fma_into(
                        simd,
                        &mut out[rows],
                        &a[at..at + k],
                        &rep[tap * line..tap * line + k],
                    ),
                    (DirectOp::Forward, false) => {
                        let ws = &b[tap * cout..(tap + 1) * cout];
                        for (j, yr) in out[rows].chunks_exact_mut(cout).enumerate() {
                            multiply_add(
                                simd,
                                yr,
                                &a[at + j * s * cin..at + j * s * cin + cin],
                                ws,
                                dm,
                            );
                        }
                    }
                    (DirectOp::InputGrad, true) => fma_into(
                        simd,
                        &mut out[at..at + k],
                        &a[rows],
                        &rep[tap * line..tap * line + k],
                    ),
                    (DirectOp::InputGrad, false) => {
                        let ws = &b[tap * cout..(tap + 1) * cout];
                        for (j, gyr) in a[rows].chunks_exact(cout).enumerate() {
                            let gxs = &mut out[at + j * s * cin..at + j * s * cin + cin];
                            for ((o, gy), w) in gxs
                                .iter_mut()
                                .zip(gyr.chunks_exact(dm))
                                .zip(ws.chunks_exact(dm))
                            {
                                *o += gy.iter().zip(w).map(|(&p, &q)| p * q).sum::<f32>();
                            }
                        }
                    }
                    (DirectOp::KernelGrad, true) => fma_into(
                        simd,
                        &mut rep[tap * line..tap * line + k],
                        &b[at..at + k],
                        &a[rows],
                    ),
                    (DirectOp::KernelGrad, false) => {
                        let gws = &mut out[tap * cout..(tap + 1) * cout];
                        for (j, gyr) in a[rows].chunks_exact(cout).enumerate() {
                            multiply_add(
                                simd,
                                gws,
                                &b[at + j * s * cin..at + j * s * cin + cin],
                                gyr,
                                dm,
                            );
                        }
                    }
                }
            },
        );
    }
}

/// Direct backward of local lines `0..lines`: the input gradient, then the kernel gradient,
/// which on flat spans is first accumulated per position of a line (one long product per
/// span) and then summed over the line.
fn direct_backward(
    g: &ConvGeom,
    gy: &[f32],
    lines: usize,
    gx: Option<(&mut [f32], &[f32])>,
    gw: Option<(&mut [f32], &[f32])>,
) {
    let (cout, line) = (g.out_channels, g.line_len() * g.out_channels);
    let rep_len = if flat_spans(g) { g.taps() * line } else { 0 };
    with_scratch(rep_len, |rep| {
        if let Some((gx, w)) = gx {
            repeat_rows(g, w, rep);
            Arch::new().dispatch(Direct {
                g,
                lines: 0..lines,
                first: 0,
                out: gx,
                a: gy,
                b: w,
                rep: &mut *rep,
                op: DirectOp::InputGrad,
            });
        }
        if let Some((gw, x)) = gw {
            rep.fill(0.0);
            Arch::new().dispatch(Direct {
                g,
                lines: 0..lines,
                first: 0,
                out: &mut *gw,
                a: gy,
                b: x,
                rep: &mut *rep,
                op: DirectOp::KernelGrad,
            });
            for (gw, acc) in gw.chunks_exact_mut(cout).zip(rep.chunks_exact(line)) {
                acc.chunks_exact(cout).for_each(|a| add_into(gw, a));
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// conv by its definition, for 2-d geometries (the leading axis of size 1).
    fn naive(g: &ConvGeom, x: &[f32], w: &[f32]) -> Vec<f32> {
        let (cin, cout, cg, og) = (
            g.in_channels,
            g.out_channels,
            g.in_per_group(),
            g.out_per_group(),
        );
        let ([_, o1, o2], [_, k1, k2], [_, i1, i2]) = (g.output, g.kernel, g.input);
        let mut y = vec![0.0; g.y_len()];
        for n in 0..g.batch {
            for (a, b) in (0..o1).flat_map(|a| (0..o2).map(move |b| (a, b))) {
                for (t1, t2) in (0..k1).flat_map(|t| (0..k2).map(move |u| (t, u))) {
                    let p1 = (a * g.stride[1] + t1 * g.dilation[1]) as isize - g.pad[1] as isize;
                    let p2 = (b * g.stride[2] + t2 * g.dilation[2]) as isize - g.pad[2] as isize;
                    if p1 < 0 || p2 < 0 || p1 >= i1 as isize || p2 >= i2 as isize {
                        continue;
                    }
                    let pos = (n * i1 + p1 as usize) * i2 + p2 as usize;
                    for co in 0..cout {
                        for c in 0..cg {
                            y[((n * o1 + a) * o2 + b) * cout + co] += x
                                [pos * cin + (co / og) * cg + c]
                                * w[((t1 * k2 + t2) * cg + c) * cout + co];
                        }
                    }
                }
            }
        }
        y
    }

    fn geom(groups: usize, cin: usize, cout: usize, pad: usize, stride: usize) -> ConvGeom {
        let (input, kernel) = ([1, 5, 6], [1, 3, 3]);
        let output = std::array::from_fn(|d| {
            let (s, p) = if d == 0 { (1, 0) } else { (stride, pad) };
            (input[d] + 2 * p - kernel[d]) / s + 1
        });
        ConvGeom {
            batch: 3,
            input,
            output,
            kernel,
            stride: [1, stride, stride],
            dilation: [1; 3],
            pad: [0, pad, pad],
            in_channels: cin,
            out_channels: cout,
            groups,
        }
    }

    fn data(len: usize, seed: usize) -> Vec<f32> {
        (0..len)
            .map(|i| (((i * 31 + seed * 17) % 23) as f32 - 11.0) / 8.0)
            .collect()
    }

    #[test]
    fn forward_and_backward_agree_with_the_definition() {
        // gemm path (groups 1 and 2, one channel) and direct path (one channel per group)
        for g in [
            geom(1, 3, 4, 1, 1),
            geom(2, 4, 6, 0, 2),
            geom(3, 3, 6, 1, 2),
            geom(1, 1, 5, 1, 1),
            geom(4, 4, 4, 1, 1),
        ] {
            let (x, w) = (data(g.x_len(), 1), data(g.w_len(), 2));
            let y = conv_forward(&g, &x, &w, None);
            for (a, b) in y.iter().zip(naive(&g, &x, &w)) {
                assert!((a - b).abs() < 1e-4, "{g:?}: {a} vs {b}");
            }
            // <gy, conv(x, w)> is linear in x and in w: <grad, x> and <grad, w> equal it
            let gy = data(g.y_len(), 3);
            let grads = conv_backward(
                &g,
                &gy,
                BackwardInputs {
                    x: Some(&x),
                    w: Some(&w),
                    bias: true,
                    x_init: None,
                },
            );
            let dot = |a: &[f32], b: &[f32]| -> f64 {
                a.iter().zip(b).map(|(&a, &b)| a as f64 * b as f64).sum()
            };
            let base = dot(&gy, &y);
            let gx = grads.x.unwrap();
            let gw = grads.w.unwrap();
            assert!((dot(&gx, &x) - base).abs() < 1e-2 * (1.0 + base.abs()));
            assert!((dot(&gw, &w) - base).abs() < 1e-2 * (1.0 + base.abs()));
            let gb = grads.bias.unwrap();
            for (c, v) in gb.iter().enumerate() {
                let want: f32 = gy.iter().skip(c).step_by(g.out_channels).sum();
                assert!((v - want).abs() < 1e-3);
            }
        }
    }
}
