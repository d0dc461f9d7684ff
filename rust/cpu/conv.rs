//! Convolution kernels over a `ConvGeom` (channels last): the forward product and, in one
//! pass, the gradients of the input, kernel and bias. Transposed convolutions use the same
//! two functions with the roles of input and output exchanged (ops::conv_transpose).
//!
//! Two algorithms, chosen by the geometry:
//! - im2col + GEMM: rows of output positions are gathered, a tile at a time, into a
//!   per-thread scratch matrix (reused across calls) and multiplied by the kernel, one
//!   product per group; the input gradient is the product with the kernel transposed,
//!   scattered back by `col2im`. 1x1 convolutions skip the gather.
//! - direct, when each group has one input channel (depthwise convolutions, and a first
//!   layer on one-channel images): SIMD multiply-adds along the contiguous channel axis.
//!
//! Threads: forward rows are split evenly over the pool; the backward pass splits whole
//! samples (their input gradients never overlap), each part accumulating its own kernel
//! and bias gradients, summed at the end.
use super::gemm::{sgemm, sgemm_serial, MatRef, PAR_MIN_FLOPS};
use super::im2col::{col2im, im2col, ConvGeom};
use super::pool;
use pulp::Arch;
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

fn tile_rows(g: &ConvGeom) -> usize {
    (TILE_FLOATS / g.col_width().max(1)).clamp(16, 1024)
}

/// One group's input channel: the direct kernels apply.
fn is_direct(g: &ConvGeom) -> bool {
    g.in_per_group() == 1 && !g.is_pointwise()
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
    let (rows, cout) = (g.batch * g.out_positions(), g.out_channels);
    let mut y = vec![0.0f32; rows * cout];
    if rows == 0 {
        return y;
    }
    let parts = parts_for(g, rows);
    let chunk = rows.div_ceil(parts);
    let mm = gemm_for(parts);
    let run = |(i, yc): (usize, &mut [f32])| {
        let r = i * chunk..i * chunk + yc.len() / cout;
        if is_direct(g) {
            direct_forward(g, x, w, bias, r, yc)
        } else {
            gemm_forward(g, x, w, bias, r, yc, mm)
        }
    };
    if parts > 1 {
        pool::install(|| y.par_chunks_mut(chunk * cout).enumerate().for_each(run));
    } else {
        run((0, &mut y));
    }
    y
}

fn gemm_forward(
    g: &ConvGeom,
    x: &[f32],
    w: &[f32],
    bias: Option<&[f32]>,
    rows: Range<usize>,
    y: &mut [f32],
    mm: Gemm,
) {
    let (cin, cout, cg) = (g.in_channels, g.out_channels, g.out_per_group());
    let width = g.col_width();
    let pointwise = g.is_pointwise();
    let tile = tile_rows(g);
    with_scratch(if pointwise { 0 } else { tile * width }, |col| {
        let mut r = rows.start;
        while r < rows.end {
            let e = (r + tile).min(rows.end);
            let yt = &mut y[(r - rows.start) * cout..(e - rows.start) * cout];
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
                    im2col(g, x, group, r..e, col);
                    MatRef::row_major(col, width)
                };
                let b = MatRef {
                    data: w,
                    offset: group * cg,
                    rs: cout as isize,
                    cs: 1,
                };
                mm(
                    e - r,
                    cg,
                    width,
                    a,
                    b,
                    &mut yt[group * cg..],
                    cout,
                    bias.is_some(),
                );
            }
            r = e;
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
    let rows = (s.end - s.start) * per;
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
        direct_backward(g, gy, rows, gx, gw);
    } else {
        gemm_backward(g, gy, rows, gx, gw, inputs.x_init.is_some(), mm);
    }
}

/// The gemm backward of local rows `0..rows` (samples counted from the part's first):
/// `gw += col(x)^T @ gy` and `gx += col2im(gy @ w^T)`, one tile and group at a time.
fn gemm_backward(
    g: &ConvGeom,
    gy: &[f32],
    rows: usize,
    mut gx: Option<(&mut [f32], &[f32])>,
    mut gw: Option<(&mut [f32], &[f32])>,
    gx_preset: bool,
    mm: Gemm,
) {
    let (cin, cout, cg) = (g.in_channels, g.out_channels, g.out_per_group());
    let width = g.col_width();
    let pointwise = g.is_pointwise();
    let tile = tile_rows(g);
    let scratch = if pointwise { 0 } else { 2 * tile * width };
    with_scratch(scratch, |buf| {
        let (col, dcol) = buf.split_at_mut(scratch / 2);
        let mut r = 0;
        while r < rows {
            let e = (r + tile).min(rows);
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
                        im2col(g, x, group, r..e, col);
                        MatRef::row_major(col, width).t()
                    };
                    mm(width, cg, e - r, a, gy_g, &mut gw[group * cg..], cout, true);
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
                        mm(e - r, cin, cg, gy_g, wt, &mut gx[r * cin..], cin, gx_preset);
                    } else {
                        mm(e - r, width, cg, gy_g, wt, dcol, width, false);
                        col2im(g, dcol, group, r..e, gx);
                    }
                }
            }
            r = e;
        }
    });
}

/// `y[c*dm + m] += x[c] * w[c*dm + m]` for `dm` outputs per input channel.
#[inline(always)]
fn multiply_add(y: &mut [f32], x: &[f32], w: &[f32], dm: usize) {
    if dm == 1 {
        for ((y, &x), &w) in y.iter_mut().zip(x).zip(w) {
            *y += x * w;
        }
    } else {
        for ((y, w), &x) in y.chunks_exact_mut(dm).zip(w.chunks_exact(dm)).zip(x) {
            for (y, &w) in y.iter_mut().zip(w) {
                *y += x * w;
            }
        }
    }
}

/// Direct forward of global rows `rows` into `y` (their outputs).
fn direct_forward(
    g: &ConvGeom,
    x: &[f32],
    w: &[f32],
    bias: Option<&[f32]>,
    rows: Range<usize>,
    y: &mut [f32],
) {
    let (cin, cout, dm) = (g.in_channels, g.out_channels, g.out_per_group());
    let in_pos = g.in_positions();
    Arch::new().dispatch(
        #[inline(always)]
        || {
            for row in y.chunks_exact_mut(cout) {
                match bias {
                    Some(b) => row.copy_from_slice(b),
                    None => row.fill(0.0),
                }
            }
            let start = rows.start;
            g.for_each_tap(rows, |row, n, tap, pos| {
                let at = (n * in_pos + pos) * cin;
                multiply_add(
                    &mut y[(row - start) * cout..(row - start + 1) * cout],
                    &x[at..at + cin],
                    &w[tap * cout..(tap + 1) * cout],
                    dm,
                );
            });
        },
    )
}

/// Direct backward of local rows `0..rows`: `gx[c] += sum_m gy[c*dm+m] w[c*dm+m]` and
/// `gw[c*dm+m] += x[c] gy[c*dm+m]` for each tap.
fn direct_backward(
    g: &ConvGeom,
    gy: &[f32],
    rows: usize,
    mut gx: Option<(&mut [f32], &[f32])>,
    mut gw: Option<(&mut [f32], &[f32])>,
) {
    let (cin, cout, dm) = (g.in_channels, g.out_channels, g.out_per_group());
    let in_pos = g.in_positions();
    Arch::new().dispatch(
        #[inline(always)]
        || {
            g.for_each_tap(0..rows, |row, n, tap, pos| {
                let gyr = &gy[row * cout..(row + 1) * cout];
                let at = (n * in_pos + pos) * cin;
                if let Some((gx, w)) = gx.as_mut() {
                    let gxs = &mut gx[at..at + cin];
                    let ws = &w[tap * cout..(tap + 1) * cout];
                    if dm == 1 {
                        for ((a, &b), &c) in gxs.iter_mut().zip(gyr).zip(ws) {
                            *a += b * c;
                        }
                    } else {
                        for ((a, b), c) in gxs
                            .iter_mut()
                            .zip(gyr.chunks_exact(dm))
                            .zip(ws.chunks_exact(dm))
                        {
                            *a += b.iter().zip(c).map(|(&b, &c)| b * c).sum::<f32>();
                        }
                    }
                }
                if let Some((gw, x)) = gw.as_mut() {
                    multiply_add(
                        &mut gw[tap * cout..(tap + 1) * cout],
                        &x[at..at + cin],
                        gyr,
                        dm,
                    );
                }
            });
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// conv by its definition, for geometries of any rank <= 3.
    fn naive(g: &ConvGeom, x: &[f32], w: &[f32]) -> Vec<f32> {
        let (cin, cout, cg, og) = (
            g.in_channels,
            g.out_channels,
            g.in_per_group(),
            g.out_per_group(),
        );
        let mut y = vec![0.0; g.y_len()];
        let rows = g.batch * g.out_positions();
        g.for_each_tap(0..rows, |row, n, tap, pos| {
            for co in 0..cout {
                let grp = co / og;
                for c in 0..cg {
                    y[row * cout + co] += x[(n * g.in_positions() + pos) * cin + grp * cg + c]
                        * w[(tap * cg + c) * cout + co];
                }
            }
        });
        y
    }

    fn geom(groups: usize, cin: usize, cout: usize, pad: usize, stride: usize) -> ConvGeom {
        let (input, kernel) = ([2, 5, 6], [2, 3, 3]);
        let output = std::array::from_fn(|d| {
            let s = if d == 0 { 1 } else { stride };
            let p = if d == 0 { 0 } else { pad };
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
        // gemm path (groups 1 and 2) and direct path (one input channel per group)
        for g in [
            geom(1, 3, 4, 1, 1),
            geom(2, 4, 6, 0, 2),
            geom(3, 3, 6, 1, 2),
            geom(1, 1, 5, 1, 1),
        ] {
            let (x, w) = (data(g.x_len(), 1), data(g.w_len(), 2));
            let y = conv_forward(&g, &x, &w, None);
            for (a, b) in y.iter().zip(naive(&g, &x, &w)) {
                assert!((a - b).abs() < 1e-4, "{g:?}: {a} vs {b}");
            }
            // <gy, conv(x, w)> is bilinear: its gradients are checked against conv itself
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
