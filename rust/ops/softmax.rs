//! Softmax and log-softmax over any axis: numerically stable (the maximum is subtracted),
//! each a single fused op with a fused backward, parallel over independent lanes.
//!
//! The data is viewed as `[outer, n, inner]` with the softmax taken over `n`. With
//! `inner == 1` (the last axis) every lane is a contiguous row; otherwise a block of
//! `n * inner` values holds `inner` interleaved lanes, processed together as vectors.
use crate::autograd::record;
use crate::cpu::math;
use crate::cpu::pool::{self, PAR_MIN_ELEMS};
use crate::error::Result;
use crate::tensor::{normalize_axis, Tensor};
use pulp::Arch;
use rayon::prelude::*;

pub fn softmax(x: &Tensor, axis: isize) -> Result<Tensor> {
    softmax_op("softmax", x, axis, false)
}

pub fn log_softmax(x: &Tensor, axis: isize) -> Result<Tensor> {
    softmax_op("log_softmax", x, axis, true)
}

fn softmax_op(op: &'static str, x: &Tensor, axis: isize, log: bool) -> Result<Tensor> {
    x.expect_f32(op)?;
    let ax = normalize_axis(op, axis, x.ndim())?;
    let shape = x.shape();
    let (n, inner) = (shape[ax], shape[ax + 1..].iter().product::<usize>());
    let xd = x.f32_data()?;
    let mut out = vec![0.0f32; xd.len()];
    for_blocks(&mut out, &xd, None, n * inner, |o, x, _| {
        forward_block(o, x, n, inner, log)
    });
    let y = Tensor::new_f32(out, shape);
    Ok(record(op, &[x], y.clone(), || {
        move |g: &Tensor| {
            let (gd, yd) = (g.f32_data()?, y.f32_data()?);
            let mut dx = vec![0.0f32; gd.len()];
            for_blocks(&mut dx, &gd, Some(&yd), n * inner, |o, g, y| {
                backward_block(o, g, y.unwrap_or_default(), n, inner, log)
            });
            Ok(vec![Some(Tensor::new_f32(dx, y.shape()))])
        }
    }))
}

/// Runs `f(out_block, a_block, b_block)` over consecutive blocks of `block` elements, in
/// parallel when the data is large.
fn for_blocks(
    out: &mut [f32],
    a: &[f32],
    b: Option<&[f32]>,
    block: usize,
    f: impl Fn(&mut [f32], &[f32], Option<&[f32]>) + Sync + Send,
) {
    if block == 0 {
        return;
    }
    let b_block = |i: usize| b.map(|b| &b[i * block..(i + 1) * block]);
    let run = |i: usize, o: &mut [f32]| {
        Arch::new().dispatch(
            #[inline(always)]
            || f(o, &a[i * block..(i + 1) * block], b_block(i)),
        )
    };
    if out.len() < PAR_MIN_ELEMS || out.len() == block {
        out.chunks_mut(block)
            .enumerate()
            .for_each(|(i, o)| run(i, o));
    } else {
        // group small blocks so each task has at least ~PAR_MIN_ELEMS / 4 values
        let per = (PAR_MIN_ELEMS / 4).div_ceil(block).max(1);
        pool::install(|| {
            out.par_chunks_mut(block * per)
                .enumerate()
                .for_each(|(c, o)| {
                    o.chunks_mut(block)
                        .enumerate()
                        .for_each(|(i, o)| run(c * per + i, o))
                })
        });
    }
}

/// Sum of a contiguous row with 8 independent accumulators (so it vectorises).
#[inline(always)]
fn row_sum(v: &[f32]) -> f32 {
    let mut acc = [0.0f32; 8];
    let mut chunks = v.chunks_exact(8);
    for c in &mut chunks {
        for i in 0..8 {
            acc[i] += c[i];
        }
    }
    acc.iter().sum::<f32>() + chunks.remainder().iter().sum::<f32>()
}

#[inline(always)]
fn row_dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0.0f32; 8];
    let (mut ca, mut cb) = (a.chunks_exact(8), b.chunks_exact(8));
    for (x, y) in (&mut ca).zip(&mut cb) {
        for i in 0..8 {
            acc[i] += x[i] * y[i];
        }
    }
    let tail: f32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    acc.iter().sum::<f32>() + tail
}

#[inline(always)]
fn row_max(v: &[f32]) -> f32 {
    let mut acc = [f32::NEG_INFINITY; 8];
    let mut chunks = v.chunks_exact(8);
    for c in &mut chunks {
        for i in 0..8 {
            acc[i] = acc[i].max(c[i]);
        }
    }
    acc.iter()
        .chain(chunks.remainder())
        .fold(f32::NEG_INFINITY, |m, &v| m.max(v))
}

/// One block of `inner` lanes of length `n`: y = e^(x - max) / sum, or its log.
#[inline(always)]
fn forward_block(o: &mut [f32], x: &[f32], n: usize, inner: usize, log: bool) {
    if inner == 1 {
        let m = row_max(x);
        for (o, &v) in o.iter_mut().zip(x) {
            *o = math::exp(v - m);
        }
        let s = row_sum(o);
        if log {
            // (x - max) - ln(sum) keeps the precision of large logits
            let ls = math::ln(s);
            for (o, &v) in o.iter_mut().zip(x) {
                *o = (v - m) - ls;
            }
        } else {
            let r = 1.0 / s;
            o.iter_mut().for_each(|o| *o *= r);
        }
        return;
    }
    let mut m = x[..inner].to_vec();
    for row in x.chunks_exact(inner).skip(1) {
        for (m, &v) in m.iter_mut().zip(row) {
            *m = m.max(v);
        }
    }
    let mut s = vec![0.0f32; inner];
    for (orow, xrow) in o.chunks_exact_mut(inner).zip(x.chunks_exact(inner)) {
        for (((o, &v), &m), s) in orow.iter_mut().zip(xrow).zip(&m).zip(s.iter_mut()) {
            *o = math::exp(v - m);
            *s += *o;
        }
    }
    if log {
        s.iter_mut().for_each(|s| *s = math::ln(*s));
        for (orow, xrow) in o.chunks_exact_mut(inner).zip(x.chunks_exact(inner)) {
            for (((o, &v), &m), &ls) in orow.iter_mut().zip(xrow).zip(&m).zip(&s) {
                *o = (v - m) - ls;
            }
        }
    } else {
        s.iter_mut().for_each(|s| *s = 1.0 / *s);
        for orow in o.chunks_exact_mut(inner) {
            for (o, &r) in orow.iter_mut().zip(&s) {
                *o *= r;
            }
        }
    }
    debug_assert_eq!(x.len(), n * inner);
}

/// Gradient of one block: softmax `dx = y (g - sum(g y))`, log-softmax
/// `dx = g - e^y sum(g)`.
#[inline(always)]
fn backward_block(o: &mut [f32], g: &[f32], y: &[f32], n: usize, inner: usize, log: bool) {
    if inner == 1 {
        let s = if log { row_sum(g) } else { row_dot(g, y) };
        for ((o, &g), &y) in o.iter_mut().zip(g).zip(y) {
            *o = if log {
                g - math::exp(y) * s
            } else {
                y * (g - s)
            };
        }
        return;
    }
    let mut s = vec![0.0f32; inner];
    for (grow, yrow) in g.chunks_exact(inner).zip(y.chunks_exact(inner)) {
        for ((s, &g), &y) in s.iter_mut().zip(grow).zip(yrow) {
            *s += if log { g } else { g * y };
        }
    }
    for ((orow, grow), yrow) in o
        .chunks_exact_mut(inner)
        .zip(g.chunks_exact(inner))
        .zip(y.chunks_exact(inner))
    {
        for (((o, &g), &y), &s) in orow.iter_mut().zip(grow).zip(yrow).zip(&s) {
            *o = if log {
                g - math::exp(y) * s
            } else {
                y * (g - s)
            };
        }
    }
    debug_assert_eq!(g.len(), n * inner);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strided_input_equals_its_contiguous_copy() {
        let x =
            Tensor::from_f32((0..24).map(|v| (v as f32 * 0.37).sin()).collect(), &[4, 6]).unwrap();
        let xt = x.view(&[6, 4], &[1, 6], 0); // transpose
        for axis in [0, 1] {
            let a = softmax(&xt, axis).unwrap().to_vec_f32().unwrap();
            let b = softmax(&xt.contiguous_data(), axis)
                .unwrap()
                .to_vec_f32()
                .unwrap();
            assert_eq!(a, b);
        }
    }
}
