//! The one loss kernel: every built-in loss reduces `y_pred` along one axis into a
//! per-sample value, computing that value and its gradient with respect to `y_pred` in
//! closed form in a single pass ("lanes" are the 1-D slices along the reduced axis).
use crate::autograd::{is_grad_enabled, record};
use crate::cpu::pool::{self, PAR_MIN_ELEMS};
use crate::error::Result;
use crate::tensor::{DType, Tensor};
use rayon::prelude::*;
use std::borrow::Cow;

/// The layout of a tensor seen as lanes along `axis`: `outer x n x inner`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Lanes {
    pub n: usize,
    outer: usize,
    inner: usize,
}

impl Lanes {
    pub fn new(shape: &[usize], axis: usize) -> Lanes {
        Lanes {
            n: shape[axis],
            outer: shape[..axis].iter().product(),
            inner: shape[axis + 1..].iter().product(),
        }
    }

    pub fn count(&self) -> usize {
        self.outer * self.inner
    }

    /// Reorders row-major data so that each lane is contiguous (lane `o * inner + i`).
    pub fn gather<'a, T: Copy + Default>(&self, x: Cow<'a, [T]>) -> Cow<'a, [T]> {
        if self.inner == 1 {
            return x;
        }
        let mut out = vec![T::default(); x.len()];
        for o in 0..self.outer {
            for j in 0..self.n {
                let src = &x[(o * self.n + j) * self.inner..][..self.inner];
                for (i, &v) in src.iter().enumerate() {
                    out[(o * self.inner + i) * self.n + j] = v;
                }
            }
        }
        Cow::Owned(out)
    }

    /// The inverse of `gather`.
    pub fn scatter(&self, x: Vec<f32>) -> Vec<f32> {
        if self.inner == 1 {
            return x;
        }
        let mut out = vec![0.0; x.len()];
        for o in 0..self.outer {
            for j in 0..self.n {
                let dst = &mut out[(o * self.n + j) * self.inner..][..self.inner];
                for (i, d) in dst.iter_mut().enumerate() {
                    *d = x[(o * self.inner + i) * self.n + j];
                }
            }
        }
        out
    }
}

/// The values of a float32 or int64 tensor as f32, row-major.
pub(crate) fn f32_values(t: &Tensor) -> Result<Cow<'_, [f32]>> {
    match t.dtype() {
        DType::F32 => t.f32_data(),
        DType::I64 => Ok(Cow::Owned(
            t.i64_data()?.iter().map(|&v| v as f32).collect(),
        )),
    }
}

/// A per-lane rule: given the lane index and its predictions, returns the lane's loss and
/// writes d(loss)/d(prediction) into the last argument.
pub(crate) trait LaneFn: Fn(usize, &[f32], &mut [f32]) -> f32 + Sync + Send {}
impl<F: Fn(usize, &[f32], &mut [f32]) -> f32 + Sync + Send> LaneFn for F {}

/// Applies `f` to every lane of `y_pred` along `axis` (`p` is `y_pred`'s data in lane
/// order, see `Lanes::gather`). Returns the per-lane losses (y_pred's shape without `axis`),
/// recorded on the tape as op `op` with the gradients `f` produced.
pub(crate) fn lane_loss(
    op: &'static str,
    y_pred: &Tensor,
    axis: usize,
    p: &[f32],
    f: impl LaneFn,
) -> Result<Tensor> {
    let lanes = Lanes::new(y_pred.shape(), axis);
    let n = lanes.n;
    let mut out_shape = y_pred.shape().to_vec();
    out_shape.remove(axis);
    let want_grad = is_grad_enabled() && y_pred.requires_grad();
    let mut losses = vec![0.0f32; lanes.count()];
    let mut grads = vec![0.0f32; if want_grad { p.len() } else { 0 }];
    // lanes per task: enough work per task to pay for the split
    let per_task = (PAR_MIN_ELEMS / n.max(1)).max(1);
    let run = |l0: usize, out: &mut [f32], g: Option<&mut [f32]>| match g {
        Some(g) => {
            for (k, (o, gl)) in out.iter_mut().zip(g.chunks_mut(n.max(1))).enumerate() {
                let l = l0 + k;
                *o = f(l, &p[l * n..(l + 1) * n], gl);
            }
        }
        None => {
            let mut scratch = vec![0.0f32; n];
            for (k, o) in out.iter_mut().enumerate() {
                let l = l0 + k;
                *o = f(l, &p[l * n..(l + 1) * n], &mut scratch);
            }
        }
    };
    if p.len() < PAR_MIN_ELEMS || lanes.count() < 2 {
        run(0, &mut losses, want_grad.then_some(&mut grads[..]));
    } else if want_grad {
        pool::install(|| {
            losses
                .par_chunks_mut(per_task)
                .zip(grads.par_chunks_mut(per_task * n))
                .enumerate()
                .for_each(|(c, (o, g))| run(c * per_task, o, Some(g)))
        });
    } else {
        pool::install(|| {
            losses
                .par_chunks_mut(per_task)
                .enumerate()
                .for_each(|(c, o)| run(c * per_task, o, None))
        });
    }
    let out = Tensor::new_f32(losses, &out_shape);
    if !want_grad {
        return Ok(out);
    }
    Ok(record(op, &[y_pred], out, || {
        let in_shape = y_pred.shape().to_vec();
        move |g: &Tensor| {
            let gd = g.f32_data()?;
            let dx: Vec<f32> = grads
                .chunks(n.max(1))
                .zip(gd.iter())
                .flat_map(|(row, &gl)| row.iter().map(move |&d| d * gl))
                .collect();
            Ok(vec![Some(Tensor::new_f32(lanes.scatter(dx), &in_shape))])
        }
    }))
}
