//! Image sampling kernels for channels-last batches `(n, h, w, c)`.
//!
//! Every geometric image op (resize, affine transform, per-image flips) is one gather: each
//! output pixel is a weighted sum of at most four input pixels, or of the fill value where a
//! sample falls outside the image. A `Sampler` says which pixels and weights; `gather` runs
//! it forward over output rows and `scatter` runs its transpose (the gradient) over images,
//! both on the ember pool.
use super::pool::{self, PAR_MIN_ELEMS};
use rayon::prelude::*;

/// The shape of a channels-last image batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dims {
    pub n: usize,
    pub h: usize,
    pub w: usize,
    pub c: usize,
}

impl Dims {
    fn image_len(&self) -> usize {
        self.h * self.w * self.c
    }
}

/// Marks a tap that reads the fill value instead of a pixel.
const FILL: usize = usize::MAX;

/// The input pixels (row-major index `y * w + x` within one image, or the fill value) and
/// weights that make one output pixel.
#[derive(Clone, Copy, Debug)]
pub struct Taps {
    idx: [usize; 4],
    w: [f32; 4],
    len: usize,
}

impl Taps {
    fn new() -> Taps {
        Taps {
            idx: [FILL; 4],
            w: [0.0; 4],
            len: 0,
        }
    }

    fn push(&mut self, idx: Option<usize>, w: f32) {
        if w != 0.0 && self.len < 4 {
            self.idx[self.len] = idx.unwrap_or(FILL);
            self.w[self.len] = w;
            self.len += 1;
        }
    }

    fn one(idx: Option<usize>) -> Taps {
        let mut t = Taps::new();
        t.push(idx, 1.0);
        t
    }

    /// The products of two one-axis tap lists (rows times columns) in an image `width` wide.
    fn grid(ys: &[(Option<usize>, f32)], xs: &[(Option<usize>, f32)], width: usize) -> Taps {
        let mut t = Taps::new();
        for &(iy, wy) in ys {
            for &(ix, wx) in xs {
                let idx = match (iy, ix) {
                    (Some(y), Some(x)) => Some(y * width + x),
                    _ => None,
                };
                t.push(idx, wy * wx);
            }
        }
        t
    }
}

/// Which input pixels make each output pixel of image `b`.
pub trait Sampler: Send + Sync {
    fn taps(&self, b: usize, oy: usize, ox: usize) -> Taps;
}

/// `out[b, oy, ox, :] = sum_t w_t * x[b, pixel_t, :]` (the fill value for fill taps), for
/// an output of `oh` by `ow` pixels per image. Parallel over output rows.
pub fn gather<S: Sampler>(x: &[f32], d: Dims, oh: usize, ow: usize, s: &S, fill: f32) -> Vec<f32> {
    let c = d.c;
    let mut out = vec![0.0f32; d.n * oh * ow * c];
    if out.is_empty() {
        return out;
    }
    let row = |r: usize, o: &mut [f32]| {
        let (b, oy) = (r / oh, r % oh);
        let img = &x[b * d.image_len()..(b + 1) * d.image_len()];
        for (ox, o) in o.chunks_exact_mut(c).enumerate() {
            let t = s.taps(b, oy, ox);
            for k in 0..t.len {
                let w = t.w[k];
                match t.idx[k] {
                    FILL => o.iter_mut().for_each(|v| *v += w * fill),
                    i => {
                        for (v, &p) in o.iter_mut().zip(&img[i * c..(i + 1) * c]) {
                            *v += w * p;
                        }
                    }
                }
            }
        }
    };
    if out.len() < PAR_MIN_ELEMS {
        out.chunks_exact_mut(ow * c)
            .enumerate()
            .for_each(|(r, o)| row(r, o));
    } else {
        pool::install(|| {
            out.par_chunks_exact_mut(ow * c)
                .enumerate()
                .for_each(|(r, o)| row(r, o))
        });
    }
    out
}

/// The transpose of `gather`: adds `w_t * g[b, oy, ox, :]` into each pixel the output read.
/// Returns the gradient with respect to the input batch. Parallel over images.
pub fn scatter<S: Sampler>(g: &[f32], d: Dims, oh: usize, ow: usize, s: &S) -> Vec<f32> {
    let c = d.c;
    let mut dx = vec![0.0f32; d.n * d.image_len()];
    if dx.is_empty() || oh * ow == 0 {
        return dx;
    }
    let image = |b: usize, dxi: &mut [f32]| {
        let gi = &g[b * oh * ow * c..(b + 1) * oh * ow * c];
        for oy in 0..oh {
            for ox in 0..ow {
                let t = s.taps(b, oy, ox);
                let go = &gi[(oy * ow + ox) * c..(oy * ow + ox + 1) * c];
                for k in 0..t.len {
                    if t.idx[k] != FILL {
                        let i = t.idx[k];
                        for (v, &gv) in dxi[i * c..(i + 1) * c].iter_mut().zip(go) {
                            *v += t.w[k] * gv;
                        }
                    }
                }
            }
        }
    };
    if g.len() + dx.len() < PAR_MIN_ELEMS {
        dx.chunks_exact_mut(d.image_len())
            .enumerate()
            .for_each(|(b, o)| image(b, o));
    } else {
        pool::install(|| {
            dx.par_chunks_exact_mut(d.image_len())
                .enumerate()
                .for_each(|(b, o)| image(b, o))
        });
    }
    dx
}

/// One axis of a resize: the input indices and weights behind each output index.
type AxisTaps = Vec<[(Option<usize>, f32); 2]>;

/// Resizing with Keras/TF half-pixel centers (`align_corners=False`, no antialiasing).
pub struct Resize {
    ys: AxisTaps,
    xs: AxisTaps,
    width: usize,
}

impl Resize {
    pub fn new(h: usize, w: usize, oh: usize, ow: usize, bilinear: bool) -> Resize {
        let axis = |n: usize, on: usize| -> AxisTaps {
            let scale = n as f64 / on as f64;
            (0..on)
                .map(|o| {
                    if bilinear {
                        // sample at (o + 0.5) * scale - 0.5, clamped to the edge pixels
                        let src = (o as f64 + 0.5) * scale - 0.5;
                        let lo = src.floor();
                        let frac = (src - lo) as f32;
                        let clamp = |i: f64| Some(i.clamp(0.0, (n - 1) as f64) as usize);
                        [(clamp(lo), 1.0 - frac), (clamp(lo + 1.0), frac)]
                    } else {
                        let i = (((o as f64 + 0.5) * scale).floor() as usize).min(n - 1);
                        [(Some(i), 1.0), (None, 0.0)]
                    }
                })
                .collect()
        };
        Resize {
            ys: axis(h, oh),
            xs: axis(w, ow),
            width: w,
        }
    }
}

impl Sampler for Resize {
    fn taps(&self, _b: usize, oy: usize, ox: usize) -> Taps {
        Taps::grid(&self.ys[oy], &self.xs[ox], self.width)
    }
}

/// How samples outside the image are filled (`keras.ops.image.affine_transform`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FillMode {
    /// `(k k k k | a b c d | k k k k)` with `k` the fill value.
    Constant,
    /// `(a a a a | a b c d | d d d d)`.
    Nearest,
    /// `(a b c d | a b c d | a b c d)`.
    Wrap,
    /// `(d c b a | a b c d | d c b a)`: reflected about the edge of the last pixel.
    Reflect,
    /// `(c d c b | a b c d | c b a b)`: reflected about the center of the last pixel.
    Mirror,
}

impl FillMode {
    /// The pixel read for integer position `i` on an axis of length `n` (None: the fill).
    fn index(self, i: i64, n: usize) -> Option<usize> {
        let n = n as i64;
        let k = match self {
            FillMode::Constant if (0..n).contains(&i) => i,
            FillMode::Constant => return None,
            FillMode::Nearest => i.clamp(0, n - 1),
            FillMode::Wrap => i.rem_euclid(n),
            FillMode::Reflect => {
                let k = i.rem_euclid(2 * n);
                if k >= n {
                    2 * n - 1 - k
                } else {
                    k
                }
            }
            FillMode::Mirror if n == 1 => 0,
            FillMode::Mirror => {
                let k = i.rem_euclid(2 * (n - 1));
                if k >= n {
                    2 * (n - 1) - k
                } else {
                    k
                }
            }
        };
        Some(k as usize)
    }
}

/// Projective transforms, one per image or one for all: row `[a0, a1, a2, b0, b1, b2, c0, c1]`
/// maps output point `(x, y)` to input point `((a0 x + a1 y + a2) / k, (b0 x + b1 y + b2) / k)`
/// with `k = c0 x + c1 y + 1`. Integer positions are pixel centers; samples between pixels
/// are interpolated (nearest rounds half to even), and each neighbour outside the image is
/// mapped by the fill mode, one index at a time (as jax and scipy's `map_coordinates` do).
pub struct Affine {
    transforms: Vec<[f64; 8]>,
    h: usize,
    w: usize,
    bilinear: bool,
    fill_mode: FillMode,
}

impl Affine {
    pub fn new(
        transforms: Vec<[f64; 8]>,
        h: usize,
        w: usize,
        bilinear: bool,
        fill_mode: FillMode,
    ) -> Affine {
        Affine {
            transforms,
            h,
            w,
            bilinear,
            fill_mode,
        }
    }
}

/// Coordinates beyond this are as good as infinitely far (and keep index arithmetic exact).
const FAR: f64 = 1e12;

impl Sampler for Affine {
    fn taps(&self, b: usize, oy: usize, ox: usize) -> Taps {
        let t = &self.transforms[if self.transforms.len() == 1 { 0 } else { b }];
        let (x, y) = (ox as f64, oy as f64);
        let k = t[6] * x + t[7] * y + 1.0;
        let xin = (t[0] * x + t[1] * y + t[2]) / k;
        let yin = (t[3] * x + t[4] * y + t[5]) / k;
        if !(xin.is_finite() && yin.is_finite()) {
            return Taps::one(None);
        }
        let (xin, yin) = (xin.clamp(-FAR, FAR), yin.clamp(-FAR, FAR));
        let mode = self.fill_mode;
        if !self.bilinear {
            let iy = mode.index(yin.round_ties_even() as i64, self.h);
            let ix = mode.index(xin.round_ties_even() as i64, self.w);
            return Taps::grid(&[(iy, 1.0)], &[(ix, 1.0)], self.w);
        }
        let axis = |v: f64, n: usize| {
            let lo = v.floor();
            let frac = (v - lo) as f32;
            let lo = lo as i64;
            [
                (mode.index(lo, n), 1.0 - frac),
                (mode.index(lo + 1, n), frac),
            ]
        };
        Taps::grid(&axis(yin, self.h), &axis(xin, self.w), self.w)
    }
}

/// Per-image flips: `flips[b] = (left-right, top-bottom)`.
pub struct Flip {
    flips: Vec<(bool, bool)>,
    h: usize,
    w: usize,
}

impl Flip {
    pub fn new(flips: Vec<(bool, bool)>, h: usize, w: usize) -> Flip {
        Flip { flips, h, w }
    }
}

impl Sampler for Flip {
    fn taps(&self, b: usize, oy: usize, ox: usize) -> Taps {
        let (lr, tb) = self.flips[b];
        let y = if tb { self.h - 1 - oy } else { oy };
        let x = if lr { self.w - 1 - ox } else { ox };
        Taps::one(Some(y * self.w + x))
    }
}
