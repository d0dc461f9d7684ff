//! Pooling and resampling of spatial data: N-d max and average pooling (`keras.ops.max_pool`,
//! `keras.ops.average_pool`) and half-pixel linear interpolation along one axis (the
//! bilinear `UpSampling2D`).
//!
//! One pooling kernel serves every rank. The data are channels-last, `(batch, spatial..,
//! channels)` (channels-first inputs are permuted around it); each output position visits
//! its window, clipped to the input, and folds whole channel vectors (the contiguous
//! innermost axis), so the inner loops vectorise. Clipping gives TensorFlow's "same"
//! semantics: max pooling never sees the padding, average pooling divides by the number of
//! valid elements. Max pooling remembers where the first maximum of each window is (TF's rule
//! for ties) and its backward adds each gradient there; average pooling's backward spreads
//! each gradient evenly over its window.
use super::permute;
use crate::autograd::{is_grad_enabled, record};
use crate::cpu::pool::{self as threads, PAR_MIN_ELEMS};
use crate::error::Result;
use crate::tensor::Tensor;
use crate::value_err;
use pulp::Arch;
use rayon::prelude::*;
use smallvec::SmallVec;

/// Values per parallel task.
const CHUNK: usize = 1 << 13;

/// How windows meet the border (TensorFlow's padding algorithms).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PoolPadding {
    /// Only windows that fit entirely: `floor((n - pool) / stride) + 1` outputs.
    Valid,
    /// `ceil(n / stride)` outputs, the padding split evenly (the odd one after).
    Same,
}

impl PoolPadding {
    /// "valid" or "same", in any case.
    pub fn parse(op: &str, padding: &str) -> Result<PoolPadding> {
        match padding.to_ascii_lowercase().as_str() {
            "valid" => Ok(PoolPadding::Valid),
            "same" => Ok(PoolPadding::Same),
            _ => Err(value_err!(
                "{op}: argument `padding` must be either 'valid' or 'same'. Received: padding={padding}"
            )),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            PoolPadding::Valid => "valid",
            PoolPadding::Same => "same",
        }
    }
}

/// What a window is reduced to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PoolMode {
    Max,
    Average,
}

/// A pooling: window size, strides and padding per spatial axis, and the data layout.
#[derive(Clone, Debug)]
pub struct PoolSpec {
    pub mode: PoolMode,
    pub pool_size: Vec<usize>,
    pub strides: Vec<usize>,
    pub padding: PoolPadding,
    pub channels_first: bool,
}

impl PoolSpec {
    /// Checks the sizes (one positive window size and stride per spatial axis; `strides`
    /// defaults to `pool_size`), naming `op` on error.
    pub fn new(
        op: &str,
        mode: PoolMode,
        pool_size: &[usize],
        strides: Option<&[usize]>,
        padding: PoolPadding,
        channels_first: bool,
    ) -> Result<PoolSpec> {
        let strides = strides.unwrap_or(pool_size);
        if pool_size.is_empty() || pool_size.contains(&0) {
            return Err(value_err!(
                "{op}: `pool_size` must hold one positive integer per spatial axis. Received: pool_size={pool_size:?}"
            ));
        }
        if strides.len() != pool_size.len() || strides.contains(&0) {
            return Err(value_err!(
                "{op}: `strides` must hold {} positive integers, one per spatial axis. Received: strides={strides:?}",
                pool_size.len()
            ));
        }
        Ok(PoolSpec {
            mode,
            pool_size: pool_size.to_vec(),
            strides: strides.to_vec(),
            padding,
            channels_first,
        })
    }

    /// The number of spatial axes.
    pub fn rank(&self) -> usize {
        self.pool_size.len()
    }

    fn check_rank(&self, op: &str, shape: &[usize]) -> Result<()> {
        if shape.len() != self.rank() + 2 {
            return Err(value_err!(
                "{op}: expected an input of rank {} (batch, {}spatial axes{}), got shape {shape:?}",
                self.rank() + 2,
                if self.channels_first {
                    "channels, "
                } else {
                    ""
                },
                if self.channels_first {
                    ""
                } else {
                    ", channels"
                }
            ));
        }
        Ok(())
    }

    /// The spatial axes of an input of rank `rank() + 2`.
    fn spatial_axes(&self) -> std::ops::Range<usize> {
        if self.channels_first {
            2..self.rank() + 2
        } else {
            1..self.rank() + 1
        }
    }

    /// The input range `(first, count)` of each window along spatial axis `i` of `shape`.
    fn axis_windows(&self, op: &str, shape: &[usize], i: usize) -> Result<Vec<(usize, usize)>> {
        let n = shape[self.spatial_axes().start + i];
        let (k, s) = (self.pool_size[i], self.strides[i]);
        let (out, before) = match self.padding {
            PoolPadding::Valid if n < k => {
                return Err(value_err!(
                    "{op}: the pooling window is larger than the input (computed output size would be zero or negative). Received: inputs.shape={shape:?}, pool_size={:?}, strides={:?}, padding=\"valid\"",
                    self.pool_size,
                    self.strides
                ))
            }
            PoolPadding::Valid => ((n - k) / s + 1, 0),
            PoolPadding::Same => {
                let out = n.div_ceil(s);
                let total = match out {
                    0 => 0,
                    _ => ((out - 1) * s).saturating_add(k).saturating_sub(n),
                };
                (out, total / 2)
            }
        };
        Ok((0..out)
            .map(|o| {
                let start = (o * s) as isize - before as isize;
                let end = start.saturating_add(k.min(isize::MAX as usize) as isize);
                let lo = start.max(0) as usize;
                (lo, (end.clamp(0, n as isize) as usize).saturating_sub(lo))
            })
            .collect())
    }

    /// Pools `x`; `op` names the caller in errors.
    pub fn apply(&self, op: &str, x: &Tensor) -> Result<Tensor> {
        x.expect_f32(op)?;
        self.check_rank(op, x.shape())?;
        let windows = (0..self.rank())
            .map(|i| self.axis_windows(op, x.shape(), i))
            .collect::<Result<Vec<_>>>()?;
        if !self.channels_first {
            return pool_channels_last(op, self.mode, x, windows);
        }
        let nd = self.rank();
        let to_last: Vec<usize> = std::iter::once(0).chain(2..nd + 2).chain([1]).collect();
        let to_first: Vec<usize> = [0, nd + 1].into_iter().chain(1..nd + 1).collect();
        let y = pool_channels_last(op, self.mode, &permute(x, &to_last)?, windows)?;
        permute(&y, &to_first)
    }
}

/// Pools channels-last `x` through `windows` (per spatial axis, each output's input range).
fn pool_channels_last(
    op: &str,
    mode: PoolMode,
    x: &Tensor,
    windows: Vec<Vec<(usize, usize)>>,
) -> Result<Tensor> {
    let shape = x.shape();
    let geom = Geometry::new(shape, windows);
    if geom.in_positions > u32::MAX as usize {
        return Err(value_err!(
            "{op}: inputs of shape {shape:?} have too many spatial positions per sample"
        ));
    }
    let mut out_shape = vec![shape[0]];
    out_shape.extend_from_slice(&geom.out_spatial);
    out_shape.push(geom.channels);
    let track = is_grad_enabled() && x.requires_grad();
    let (out, arg) = forward(&geom, &x.f32_data()?, mode, track);
    let out = Tensor::new_f32(out, &out_shape);
    let name = match mode {
        PoolMode::Max => "max_pool",
        PoolMode::Average => "average_pool",
    };
    Ok(record(name, &[x], out, || {
        let in_shape = shape.to_vec();
        move |g: &Tensor| {
            let g = g.f32_data()?;
            let dx = match mode {
                PoolMode::Max => max_backward(&geom, &g, &arg),
                PoolMode::Average => average_backward(&geom, &g),
            };
            Ok(vec![Some(Tensor::new_f32(dx, &in_shape))])
        }
    }))
}

/// `keras.ops.max_pool` on channels-last (or channels-first) inputs of rank
/// `pool_size.len() + 2`; `strides` defaults to `pool_size`.
pub fn max_pool(
    x: &Tensor,
    pool_size: &[usize],
    strides: Option<&[usize]>,
    padding: PoolPadding,
    channels_first: bool,
) -> Result<Tensor> {
    PoolSpec::new(
        "max_pool",
        PoolMode::Max,
        pool_size,
        strides,
        padding,
        channels_first,
    )?
    .apply("max_pool", x)
}

/// `keras.ops.average_pool`: as `max_pool`, with the mean of the valid elements of each
/// window.
pub fn average_pool(
    x: &Tensor,
    pool_size: &[usize],
    strides: Option<&[usize]>,
    padding: PoolPadding,
    channels_first: bool,
) -> Result<Tensor> {
    PoolSpec::new(
        "average_pool",
        PoolMode::Average,
        pool_size,
        strides,
        padding,
        channels_first,
    )?
    .apply("average_pool", x)
}

/// The windows of one channels-last pooling; positions are flat spatial indices within a
/// sample (a position's channel vector starts at `position * channels`).
struct Geometry {
    batch: usize,
    channels: usize,
    in_positions: usize,
    out_spatial: Vec<usize>,
    out_positions: usize,
    /// Position stride of each spatial axis of the input.
    in_strides: Vec<usize>,
    /// Per spatial axis and output index, the window's input range `(first, count)`.
    windows: Vec<Vec<(usize, usize)>>,
}

type Window = SmallVec<[(usize, usize); 4]>;

impl Geometry {
    fn new(shape: &[usize], windows: Vec<Vec<(usize, usize)>>) -> Geometry {
        let nd = shape.len() - 2;
        let in_spatial = &shape[1..nd + 1];
        let mut in_strides = vec![1; nd];
        for d in (0..nd.saturating_sub(1)).rev() {
            in_strides[d] = in_strides[d + 1] * in_spatial[d + 1];
        }
        let out_spatial: Vec<usize> = windows.iter().map(Vec::len).collect();
        Geometry {
            batch: shape[0],
            channels: shape[nd + 1],
            in_positions: in_spatial.iter().product(),
            out_positions: out_spatial.iter().product(),
            out_spatial,
            in_strides,
            windows,
        }
    }

    /// The window of output position `p`.
    #[inline(always)]
    fn window(&self, mut p: usize) -> Window {
        let mut w: Window = SmallVec::from_elem((0, 0), self.windows.len());
        for d in (0..self.windows.len()).rev() {
            let n = self.out_spatial[d];
            w[d] = self.windows[d][p % n];
            p /= n;
        }
        w
    }

    /// Calls `f` with each input position of window `w`, in row-major order.
    #[inline(always)]
    fn visit(&self, w: &Window, mut f: impl FnMut(usize)) {
        let nd = w.len();
        let (first, len) = w[nd - 1];
        let mut idx: SmallVec<[usize; 4]> = SmallVec::from_elem(0, nd - 1);
        loop {
            let row: usize = (0..nd - 1)
                .map(|d| (w[d].0 + idx[d]) * self.in_strides[d])
                .sum::<usize>()
                + first;
            for k in 0..len {
                f(row + k);
            }
            let mut d = nd - 1;
            loop {
                if d == 0 {
                    return;
                }
                d -= 1;
                idx[d] += 1;
                if idx[d] < w[d].1 {
                    break;
                }
                idx[d] = 0;
            }
        }
    }
}

/// The pooled values and, for max pooling with `track`, the position of each maximum.
fn forward(g: &Geometry, x: &[f32], mode: PoolMode, track: bool) -> (Vec<f32>, Vec<u32>) {
    let c = g.channels;
    let n = g.batch * g.out_positions * c;
    let mut out = vec![0.0f32; n];
    let mut arg = vec![0u32; if track && mode == PoolMode::Max { n } else { 0 }];
    if n == 0 {
        return (out, arg);
    }
    let sample = g.in_positions * c;
    let per_task = (CHUNK / c).max(1);
    // output positions [t * per_task, ..) of the whole batch
    let task = |t: usize, o: &mut [f32], a: &mut [u32]| {
        Arch::new().dispatch(
            #[inline(always)]
            || {
                for (j, oc) in o.chunks_exact_mut(c).enumerate() {
                    let q = t * per_task + j;
                    let (b, p) = (q / g.out_positions, q % g.out_positions);
                    let xb = &x[b * sample..(b + 1) * sample];
                    let w = g.window(p);
                    match mode {
                        PoolMode::Max if a.is_empty() => max_window(g, &w, xb, oc, None),
                        PoolMode::Max => {
                            max_window(g, &w, xb, oc, Some(&mut a[j * c..(j + 1) * c]))
                        }
                        PoolMode::Average => average_window(g, &w, xb, oc),
                    }
                }
            },
        )
    };
    let len = per_task * c;
    let parallel = x.len() + n >= PAR_MIN_ELEMS;
    match (arg.is_empty(), parallel) {
        (true, false) => out
            .chunks_mut(len)
            .enumerate()
            .for_each(|(t, o)| task(t, o, &mut [])),
        (false, false) => out
            .chunks_mut(len)
            .zip(arg.chunks_mut(len))
            .enumerate()
            .for_each(|(t, (o, a))| task(t, o, a)),
        (true, true) => threads::install(|| {
            out.par_chunks_mut(len)
                .enumerate()
                .for_each(|(t, o)| task(t, o, &mut []))
        }),
        (false, true) => threads::install(|| {
            out.par_chunks_mut(len)
                .zip(arg.par_chunks_mut(len))
                .enumerate()
                .for_each(|(t, (o, a))| task(t, o, a))
        }),
    }
    (out, arg)
}

/// The maximum of window `w` of sample `xb` per channel into `o`, and where it is into `arg`
/// (the first position holding it).
#[inline(always)]
fn max_window(g: &Geometry, w: &Window, xb: &[f32], o: &mut [f32], mut arg: Option<&mut [u32]>) {
    let c = o.len();
    let mut first = true;
    g.visit(w, |p| {
        let xs = &xb[p * c..(p + 1) * c];
        if first {
            o.copy_from_slice(xs);
            if let Some(a) = arg.as_deref_mut() {
                a.fill(p as u32);
            }
            first = false;
        } else if let Some(a) = arg.as_deref_mut() {
            let p = p as u32;
            for ((m, i), &v) in o.iter_mut().zip(a.iter_mut()).zip(xs) {
                let gt = v > *m;
                *m = if gt { v } else { *m };
                *i = if gt { p } else { *i };
            }
        } else {
            for (m, &v) in o.iter_mut().zip(xs) {
                *m = if v > *m { v } else { *m };
            }
        }
    });
}

/// The mean of window `w` of sample `xb` per channel into `o`.
#[inline(always)]
fn average_window(g: &Geometry, w: &Window, xb: &[f32], o: &mut [f32]) {
    let c = o.len();
    o.fill(0.0);
    g.visit(w, |p| {
        for (s, &v) in o.iter_mut().zip(&xb[p * c..(p + 1) * c]) {
            *s += v;
        }
    });
    let inv = 1.0 / w.iter().map(|r| r.1).product::<usize>() as f32;
    for s in o.iter_mut() {
        *s *= inv;
    }
}

/// Runs `f(input gradient, output gradient, argmax)` per sample, in parallel for large
/// inputs (samples touch disjoint parts of the input gradient).
fn per_sample(
    g: &Geometry,
    grad: &[f32],
    arg: &[u32],
    f: impl Fn(&mut [f32], &[f32], &[u32]) + Sync + Send,
) -> Vec<f32> {
    let c = g.channels;
    let (sample_in, sample_out) = (g.in_positions * c, g.out_positions * c);
    let mut dx = vec![0.0f32; g.batch * sample_in];
    if sample_in == 0 || sample_out == 0 {
        return dx;
    }
    let arg_len = if arg.is_empty() { 0 } else { sample_out };
    let run = |(b, d): (usize, &mut [f32])| {
        let a = &arg[b * arg_len..(b + 1) * arg_len];
        f(d, &grad[b * sample_out..(b + 1) * sample_out], a)
    };
    if dx.len() + grad.len() < PAR_MIN_ELEMS || g.batch == 1 {
        dx.chunks_mut(sample_in).enumerate().for_each(run);
    } else {
        threads::install(|| dx.par_chunks_mut(sample_in).enumerate().for_each(run));
    }
    dx
}

/// Max pooling's backward: each output gradient goes to its window's first maximum.
fn max_backward(g: &Geometry, grad: &[f32], arg: &[u32]) -> Vec<f32> {
    let c = g.channels;
    per_sample(g, grad, arg, |dx, gs, a| {
        for (gp, ap) in gs.chunks_exact(c).zip(a.chunks_exact(c)) {
            for (k, (&v, &p)) in gp.iter().zip(ap).enumerate() {
                dx[p as usize * c + k] += v;
            }
        }
    })
}

/// Average pooling's backward: each output gradient spread evenly over its window.
fn average_backward(g: &Geometry, grad: &[f32]) -> Vec<f32> {
    let c = g.channels;
    per_sample(g, grad, &[], |dx, gs, _| {
        Arch::new().dispatch(
            #[inline(always)]
            || {
                for (p, gp) in gs.chunks_exact(c).enumerate() {
                    let w = g.window(p);
                    let inv = 1.0 / w.iter().map(|r| r.1).product::<usize>() as f32;
                    g.visit(&w, |q| {
                        for (d, &v) in dx[q * c..(q + 1) * c].iter_mut().zip(gp) {
                            *d += v * inv;
                        }
                    });
                }
            },
        )
    })
}

/// Half-pixel linear interpolation of axis `axis` of `x` to `size` samples: output `j`
/// reads input coordinate `(j + 0.5) * n / size - 0.5`, clamped to the edges (TensorFlow's
/// bilinear resize with half-pixel centers, without antialiasing; along two axes it is the
/// bilinear `UpSampling2D`). Backward: each output gradient goes to its two taps, by the
/// same weights.
pub fn resize_linear_axis(x: &Tensor, axis: usize, size: usize) -> Result<Tensor> {
    x.expect_f32("resize")?;
    if axis >= x.ndim() {
        return Err(value_err!(
            "resize: axis {axis} is out of range for a tensor of shape {:?}",
            x.shape()
        ));
    }
    let n = x.shape()[axis];
    if n == 0 && size > 0 {
        return Err(value_err!(
            "resize: cannot interpolate the empty axis {axis} of a tensor of shape {:?}",
            x.shape()
        ));
    }
    let mut out_shape = x.shape().to_vec();
    out_shape[axis] = size;
    super::checked_numel("resize", &out_shape)?;
    let outer: usize = x.shape()[..axis].iter().product();
    let inner: usize = x.shape()[axis + 1..].iter().product();
    let scale = n as f32 / size.max(1) as f32;
    let taps: Vec<(usize, usize, f32)> = (0..size)
        .map(|j| {
            let at = (j as f32 + 0.5) * scale - 0.5;
            let lo = at.floor();
            let w = at - lo;
            let clamp = |v: f32| (v.max(0.0) as usize).min(n - 1);
            (clamp(lo), clamp(at.ceil()), w)
        })
        .collect();
    let xd = x.f32_data()?;
    let mut out = vec![0.0f32; outer * size * inner];
    if inner > 0 {
        let row = |r: usize, o: &mut [f32]| {
            let (b, j) = (r / size, r % size);
            let (lo, hi, w) = taps[j];
            let base = b * n * inner;
            let (a, c) = (
                &xd[base + lo * inner..][..inner],
                &xd[base + hi * inner..][..inner],
            );
            Arch::new().dispatch(
                #[inline(always)]
                || {
                    for ((o, &a), &c) in o.iter_mut().zip(a).zip(c) {
                        *o = a + (c - a) * w;
                    }
                },
            )
        };
        if out.len() < PAR_MIN_ELEMS {
            out.chunks_mut(inner)
                .enumerate()
                .for_each(|(r, o)| row(r, o));
        } else {
            threads::install(|| {
                out.par_chunks_mut(inner)
                    .enumerate()
                    .for_each(|(r, o)| row(r, o))
            });
        }
    }
    let out = Tensor::new_f32(out, &out_shape);
    Ok(record("resize", &[x], out, || {
        let in_shape = x.shape().to_vec();
        move |g: &Tensor| {
            let g = g.f32_data()?;
            let mut dx = vec![0.0f32; outer * n * inner];
            if inner > 0 && size > 0 {
                let block = |(d, gb): (&mut [f32], &[f32])| {
                    Arch::new().dispatch(
                        #[inline(always)]
                        || {
                            for (&(lo, hi, w), gr) in taps.iter().zip(gb.chunks_exact(inner)) {
                                for (d, &v) in d[lo * inner..(lo + 1) * inner].iter_mut().zip(gr) {
                                    *d += v * (1.0 - w);
                                }
                                for (d, &v) in d[hi * inner..(hi + 1) * inner].iter_mut().zip(gr) {
                                    *d += v * w;
                                }
                            }
                        },
                    )
                };
                if dx.len() + g.len() < PAR_MIN_ELEMS {
                    dx.chunks_mut(n * inner)
                        .zip(g.chunks(size * inner))
                        .for_each(block);
                } else {
                    threads::install(|| {
                        dx.par_chunks_mut(n * inner)
                            .zip(g.par_chunks(size * inner))
                            .for_each(block)
                    });
                }
            }
            Ok(vec![Some(Tensor::new_f32(dx, &in_shape))])
        }
    }))
}
