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

/// The most elements a max-pooling window may have: where the maximum lies in its window
/// is kept as a float32 ordinal (all-float selects vectorise), exact up to 2^24.
const MAX_WINDOW: usize = 1 << 24;

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
    let largest: usize = geom
        .windows
        .iter()
        .map(|w| w.iter().map(|r| r.1).max().unwrap_or(0))
        .product();
    if mode == PoolMode::Max && largest > MAX_WINDOW {
        return Err(value_err!(
            "{op}: windows of {largest} elements are too large for max pooling (at most {MAX_WINDOW}); inputs.shape={shape:?}"
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
            let dx = backward(&geom, mode, &g, &arg);
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
/// sample (a position's channel vector starts at `position * channels`). The kernels walk
/// the output by rows along the last spatial axis: the windows of one row share their
/// extent on the other axes, so each row lists once the input positions where its window
/// rows start (`row_starts`), and each output adds its own range along the last axis.
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

/// The input positions where the window rows of one output row start.
type RowStarts = SmallVec<[usize; 16]>;

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

    /// Outputs per row (the last spatial axis).
    fn row_len(&self) -> usize {
        self.out_spatial[self.out_spatial.len() - 1]
    }

    /// The windows along the last spatial axis.
    fn last_windows(&self) -> &[(usize, usize)] {
        &self.windows[self.windows.len() - 1]
    }

    /// Fills `starts` with the window-row starts of output row `r` of a sample, in
    /// row-major order, and returns how many window rows there are.
    fn row_starts(&self, mut r: usize, starts: &mut RowStarts) -> usize {
        let nd = self.windows.len();
        let mut ranges: SmallVec<[(usize, usize); 4]> = SmallVec::from_elem((0, 0), nd - 1);
        for d in (0..nd - 1).rev() {
            let n = self.out_spatial[d];
            ranges[d] = self.windows[d][r % n];
            r /= n;
        }
        starts.clear();
        starts.push(0);
        for (d, &(first, count)) in ranges.iter().enumerate() {
            let stride = self.in_strides[d];
            let prev: RowStarts = std::mem::take(starts);
            for p in prev {
                starts.extend((first..first + count).map(|i| p + i * stride));
            }
        }
        starts.len()
    }
}

/// The pooled values and, for max pooling with `track`, where each maximum is in its window.
fn forward(g: &Geometry, x: &[f32], mode: PoolMode, track: bool) -> (Vec<f32>, Vec<f32>) {
    let c = g.channels;
    let n = g.batch * g.out_positions * c;
    let mut out = vec![0.0f32; n];
    let mut arg = vec![0.0f32; if track && mode == PoolMode::Max { n } else { 0 }];
    if n == 0 {
        return (out, arg);
    }
    let rows_per_task = (CHUNK / (g.row_len() * c)).max(1);
    let task = |t: usize, out: &mut [f32], arg: &mut [f32]| {
        Arch::new().dispatch(Forward {
            g,
            x,
            mode,
            first_row: t * rows_per_task,
            out,
            arg,
        })
    };
    let len = rows_per_task * g.row_len() * c;
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

/// Output rows `first_row..` (counted over the whole batch) of a pooling into `out` (and,
/// when `arg` is not empty, where each maximum is into `arg`). A `WithSimd` type, so that
/// the loops are compiled inside the function `Arch` picks (AVX-512, AVX2, ...): through a
/// closure LLVM may keep them outside, at SSE width.
struct Forward<'a> {
    g: &'a Geometry,
    x: &'a [f32],
    mode: PoolMode,
    first_row: usize,
    out: &'a mut [f32],
    arg: &'a mut [f32],
}

impl pulp::WithSimd for Forward<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _simd: S) {
        let Forward {
            g,
            x,
            mode,
            first_row,
            out,
            arg,
        } = self;
        let c = g.channels;
        let (row_len, rows) = (g.row_len(), g.out_positions / g.row_len());
        let sample = g.in_positions * c;
        let mut starts = RowStarts::new();
        for (i, orow) in out.chunks_exact_mut(row_len * c).enumerate() {
            let q = first_row + i;
            let xb = &x[q / rows * sample..(q / rows + 1) * sample];
            let count = g.row_starts(q % rows, &mut starts);
            for (j, (oc, &(lo, len))) in orow.chunks_exact_mut(c).zip(g.last_windows()).enumerate()
            {
                let span = (lo, len, count);
                match mode {
                    PoolMode::Max if arg.is_empty() => max_window(xb, &starts, span, oc, None),
                    PoolMode::Max => {
                        let at = (i * row_len + j) * c;
                        max_window(xb, &starts, span, oc, Some(&mut arg[at..at + c]))
                    }
                    PoolMode::Average => average_window(xb, &starts, span, oc),
                }
            }
        }
    }
}

/// The channel vectors of one window, in row-major order: the positions `start + lo ..
/// start + lo + len` for each of the first `count` row starts.
#[inline(always)]
fn window_positions(
    starts: &RowStarts,
    (lo, len, count): (usize, usize, usize),
) -> impl Iterator<Item = usize> + '_ {
    starts[..count]
        .iter()
        .flat_map(move |&s| s + lo..s + lo + len)
}

/// The maximum of a window of sample `xb` per channel into `o`, and where it is into `arg`:
/// the ordinal (as a float) in the window's row-major order of the first element holding
/// it (TF's rule for ties).
#[inline(always)]
fn max_window(
    xb: &[f32],
    starts: &RowStarts,
    span: (usize, usize, usize),
    o: &mut [f32],
    arg: Option<&mut [f32]>,
) {
    let c = o.len();
    let mut positions = window_positions(starts, span);
    let Some(first) = positions.next() else {
        return;
    };
    o.copy_from_slice(&xb[first * c..(first + 1) * c]);
    match arg {
        Some(a) => {
            a.fill(0.0);
            for (e, p) in positions.enumerate() {
                let e = (e + 1) as f32;
                for ((m, i), &v) in o.iter_mut().zip(a.iter_mut()).zip(&xb[p * c..(p + 1) * c]) {
                    let gt = v > *m;
                    *m = if gt { v } else { *m };
                    *i = if gt { e } else { *i };
                }
            }
        }
        None => {
            for p in positions {
                for (m, &v) in o.iter_mut().zip(&xb[p * c..(p + 1) * c]) {
                    *m = if v > *m { v } else { *m };
                }
            }
        }
    }
}

/// The mean of a window of sample `xb` per channel into `o`.
#[inline(always)]
fn average_window(xb: &[f32], starts: &RowStarts, span: (usize, usize, usize), o: &mut [f32]) {
    let c = o.len();
    let mut positions = window_positions(starts, span);
    let Some(first) = positions.next() else {
        return;
    };
    o.copy_from_slice(&xb[first * c..(first + 1) * c]);
    for p in positions {
        for (s, &v) in o.iter_mut().zip(&xb[p * c..(p + 1) * c]) {
            *s += v;
        }
    }
    let inv = 1.0 / (span.1 * span.2) as f32;
    for s in o.iter_mut() {
        *s *= inv;
    }
}

/// Runs `f(input gradient, output gradient, argmax)` per sample, in parallel for large
/// inputs (samples touch disjoint parts of the input gradient).
fn per_sample(
    g: &Geometry,
    grad: &[f32],
    arg: &[f32],
    f: impl Fn(&mut [f32], &[f32], &[f32]) + Sync + Send,
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

/// Calls `f(o, starts, span)` for each output `o` of a sample, in order, with its window
/// (see `window_positions`).
#[inline(always)]
fn for_each_output(g: &Geometry, mut f: impl FnMut(usize, &RowStarts, (usize, usize, usize))) {
    let row_len = g.row_len();
    let mut starts = RowStarts::new();
    for r in 0..g.out_positions / row_len {
        let count = g.row_starts(r, &mut starts);
        for (j, &(lo, len)) in g.last_windows().iter().enumerate() {
            f(r * row_len + j, &starts, (lo, len, count));
        }
    }
}

/// The input gradient of one sample from its output gradient `grad` (and, for max pooling,
/// where each maximum is, `arg`): max pooling adds each output gradient to its window's
/// first maximum, average pooling spreads it evenly over its window. (`WithSimd`, as
/// `Forward`.)
struct Backward<'a> {
    g: &'a Geometry,
    mode: PoolMode,
    dx: &'a mut [f32],
    grad: &'a [f32],
    arg: &'a [f32],
}

impl pulp::WithSimd for Backward<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _simd: S) {
        let Backward {
            g,
            mode,
            dx,
            grad,
            arg,
        } = self;
        let c = g.channels;
        for_each_output(g, |o, starts, span| {
            let gp = &grad[o * c..(o + 1) * c];
            match mode {
                PoolMode::Max => {
                    let ap = &arg[o * c..(o + 1) * c];
                    for (e, p) in window_positions(starts, span).enumerate() {
                        let e = e as f32;
                        for ((d, &i), &v) in dx[p * c..(p + 1) * c].iter_mut().zip(ap).zip(gp) {
                            *d += if i == e { v } else { 0.0 };
                        }
                    }
                }
                PoolMode::Average => {
                    let inv = 1.0 / (span.1 * span.2) as f32;
                    for p in window_positions(starts, span) {
                        for (d, &v) in dx[p * c..(p + 1) * c].iter_mut().zip(gp) {
                            *d += v * inv;
                        }
                    }
                }
            }
        })
    }
}

/// The input gradient of a pooling from its output gradient.
fn backward(g: &Geometry, mode: PoolMode, grad: &[f32], arg: &[f32]) -> Vec<f32> {
    per_sample(g, grad, arg, |dx, grad, arg| {
        Arch::new().dispatch(Backward {
            g,
            mode,
            dx,
            grad,
            arg,
        })
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
