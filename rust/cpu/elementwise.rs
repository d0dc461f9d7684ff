//! Elementwise kernels, written once and made generic over the scalar function.
//!
//! `pulp::Arch::dispatch` compiles each loop for the best instruction set found at run
//! time (AVX-512, AVX2+FMA, or scalar); large arrays are split across the pool.
use super::pool::{self, PAR_MIN_ELEMS};
use crate::tensor::{broadcast_strides, contiguous_strides, Tensor};
use pulp::Arch;
use rayon::prelude::*;

const CHUNK: usize = 1 << 14;

/// Lanes are computed into a stack buffer before they are copied out: the buffer cannot alias
/// what `f` captured (a scalar operand, a slope), so LLVM keeps those in registers and
/// vectorises the loop; written straight into `out` it reloads them after every store and
/// stays scalar.
const LANES: usize = 64;

/// Fills `out` with `f` applied to the zipped inputs, `LANES` at a time through a buffer.
macro_rules! fill_lanes {
    ($out:expr, $f:expr, $($x:ident),+) => {{
        let mut buf = [Default::default(); LANES];
        let mut start = 0;
        for o in $out.chunks_mut(LANES) {
            let end = start + o.len();
            $(let $x = &$x[start..end];)+
            let lanes = buf[..o.len()].iter_mut();
            fill_lanes!(@zip lanes, $f, $($x),+);
            o.copy_from_slice(&buf[..o.len()]);
            start = end;
        }
    }};
    (@zip $lanes:ident, $f:expr, $a:ident) => {
        for (b, &a) in $lanes.zip($a) { *b = $f(a); }
    };
    (@zip $lanes:ident, $f:expr, $a:ident, $b:ident) => {
        for ((o, &a), &b) in $lanes.zip($a).zip($b) { *o = $f(a, b); }
    };
    (@zip $lanes:ident, $f:expr, $a:ident, $b:ident, $c:ident) => {
        for (((o, &a), &b), &c) in $lanes.zip($a).zip($b).zip($c) { *o = $f(a, b, c); }
    };
}

/// `out[i] = f(x[i])`.
pub fn map(x: &[f32], f: impl Fn(f32) -> f32 + Sync + Send) -> Vec<f32> {
    let mut out = vec![0.0f32; x.len()];
    let kernel = |o: &mut [f32], x: &[f32]| {
        Arch::new().dispatch(
            #[inline(always)]
            || fill_lanes!(o, f, x),
        )
    };
    if x.len() < PAR_MIN_ELEMS {
        kernel(&mut out, x);
    } else {
        pool::install(|| {
            out.par_chunks_mut(CHUNK)
                .zip(x.par_chunks(CHUNK))
                .for_each(|(o, x)| kernel(o, x))
        });
    }
    out
}

/// `out[i] = f(a[i], b[i])` for equal-length slices.
pub fn zip_map(a: &[f32], b: &[f32], f: impl Fn(f32, f32) -> f32 + Sync + Send) -> Vec<f32> {
    debug_assert_eq!(a.len(), b.len());
    let mut out = vec![0.0f32; a.len()];
    let kernel = |o: &mut [f32], a: &[f32], b: &[f32]| {
        Arch::new().dispatch(
            #[inline(always)]
            || fill_lanes!(o, f, a, b),
        )
    };
    if a.len() < PAR_MIN_ELEMS {
        kernel(&mut out, a, b);
    } else {
        pool::install(|| {
            out.par_chunks_mut(CHUNK)
                .zip(a.par_chunks(CHUNK).zip(b.par_chunks(CHUNK)))
                .for_each(|(o, (a, b))| kernel(o, a, b))
        });
    }
    out
}

/// `out[i] = f(a[i], b[i], c[i])` for equal-length slices (fused backward passes).
pub fn zip3_map(
    a: &[f32],
    b: &[f32],
    c: &[f32],
    f: impl Fn(f32, f32, f32) -> f32 + Sync + Send,
) -> Vec<f32> {
    debug_assert!(a.len() == b.len() && b.len() == c.len());
    let mut out = vec![0.0f32; a.len()];
    let kernel = |o: &mut [f32], a: &[f32], b: &[f32], c: &[f32]| {
        Arch::new().dispatch(
            #[inline(always)]
            || fill_lanes!(o, f, a, b, c),
        )
    };
    if a.len() < PAR_MIN_ELEMS {
        kernel(&mut out, a, b, c);
    } else {
        pool::install(|| {
            out.par_chunks_mut(CHUNK)
                .zip(
                    a.par_chunks(CHUNK)
                        .zip(b.par_chunks(CHUNK).zip(c.par_chunks(CHUNK))),
                )
                .for_each(|(o, (a, (b, c)))| kernel(o, a, b, c))
        });
    }
    out
}

/// `f(a, b)` with numpy broadcasting of `a` and `b` to `out_shape` (already checked).
pub fn broadcast_map(
    a: &Tensor,
    b: &Tensor,
    out_shape: &[usize],
    f: impl Fn(f32, f32) -> f32 + Sync + Send,
) -> Vec<f32> {
    let (ad, bd) = (
        a.f32_data().expect("f32 checked"),
        b.f32_data().expect("f32 checked"),
    );
    if a.shape() == out_shape && b.shape() == out_shape {
        return zip_map(&ad, &bd, f);
    }
    if bd.len() == 1 && a.shape() == out_shape {
        let s = bd[0];
        return map(&ad, move |x| f(x, s));
    }
    if ad.len() == 1 && b.shape() == out_shape {
        let s = ad[0];
        return map(&bd, move |y| f(s, y));
    }
    broadcast_zip(&ad, a.shape(), &bd, b.shape(), out_shape, f)
}

/// `f(a, b)` over row-major `a` and `b` broadcast to `out_shape` (already checked), for any
/// element types: the general kernel behind `broadcast_map`, comparisons and logical ops.
pub fn broadcast_zip<A, B, O>(
    ad: &[A],
    a_shape: &[usize],
    bd: &[B],
    b_shape: &[usize],
    out_shape: &[usize],
    f: impl Fn(A, B) -> O + Sync + Send,
) -> Vec<O>
where
    A: Copy + Sync,
    B: Copy + Sync,
    O: Copy + Default + Send + Sync,
{
    let n: usize = out_shape.iter().product();
    let mut out = vec![O::default(); n];
    if n == 0 {
        return out;
    }
    if out_shape.is_empty() {
        out[0] = f(ad[0], bd[0]);
        return out;
    }
    // row by row over the last dimension, with broadcast strides
    let nd = out_shape.len();
    let sa = broadcast_strides(a_shape, &contiguous_strides(a_shape), out_shape);
    let sb = broadcast_strides(b_shape, &contiguous_strides(b_shape), out_shape);
    let inner = out_shape[nd - 1];
    let (ia, ib) = (sa[nd - 1], sb[nd - 1]);
    let row = |r: usize, o: &mut [O]| {
        let (mut oa, mut ob, mut rem) = (0usize, 0usize, r);
        for d in (0..nd - 1).rev() {
            let i = rem % out_shape[d];
            rem /= out_shape[d];
            oa += i * sa[d];
            ob += i * sb[d];
        }
        Arch::new().dispatch(
            #[inline(always)]
            || match (ia, ib) {
                (1, 1) => {
                    let (x, y) = (&ad[oa..oa + inner], &bd[ob..ob + inner]);
                    fill_lanes!(o, f, x, y)
                }
                (1, 0) => {
                    let (x, s) = (&ad[oa..oa + inner], bd[ob]);
                    fill_lanes!(o, |x| f(x, s), x)
                }
                (0, 1) => {
                    let (s, y) = (ad[oa], &bd[ob..ob + inner]);
                    fill_lanes!(o, |y| f(s, y), y)
                }
                _ => {
                    for (j, o) in o.iter_mut().enumerate() {
                        *o = f(ad[oa + j * ia], bd[ob + j * ib]);
                    }
                }
            },
        )
    };
    if n < PAR_MIN_ELEMS {
        out.chunks_mut(inner)
            .enumerate()
            .for_each(|(r, o)| row(r, o));
    } else {
        pool::install(|| {
            out.par_chunks_mut(inner)
                .enumerate()
                .for_each(|(r, o)| row(r, o))
        });
    }
    out
}
