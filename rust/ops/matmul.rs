//! `matmul` with numpy semantics: 1-D operands promoted, batch dims broadcast, any
//! strides (so the transposes in backward are views, never copies).
use super::{reshape, sum_to_shape};
use crate::autograd::record;
use crate::cpu::gemm::{sgemm, sgemm_serial, MatRef, PAR_MIN_FLOPS};
use crate::cpu::pool;
use crate::error::Result;
use crate::tensor::{broadcast_shapes, broadcast_strides, contiguous_strides, Shape, Tensor};
use crate::value_err;
use rayon::prelude::*;

/// A view of `x` with its last two axes swapped. Not recorded.
pub(crate) fn swap_last2(x: &Tensor) -> Tensor {
    let nd = x.ndim();
    let (mut shape, mut strides) = (x.shape().to_vec(), x.strides().to_vec());
    shape.swap(nd - 2, nd - 1);
    strides.swap(nd - 2, nd - 1);
    x.view(&shape, &strides, x.offset())
}

/// Whether a batch of `nbatch` products of `flops` multiply-adds each runs one product per
/// task (each on one thread) rather than one after the other, each using all threads. Small
/// products gain nothing from threads inside the GEMM; large ones split well inside it, and
/// a batch of a few large products would leave threads idle in its last round.
fn batch_parallel(nbatch: usize, flops: usize, threads: usize) -> bool {
    threads > 1
        && nbatch > 1
        && nbatch * flops >= PAR_MIN_FLOPS
        && (flops < BATCH_PAR_MAX_FLOPS || nbatch % threads == 0)
}

/// Products at least this large are split inside the GEMM when the batch does not divide
/// evenly among the threads.
const BATCH_PAR_MAX_FLOPS: usize = 1 << 24;

/// `x` (rank >= 2) as one (rows x cols) matrix whose rows are the rows of all its batch
/// entries, when its strides allow that without a copy (always for contiguous `x`).
fn fold_batch(x: &Tensor) -> Option<Tensor> {
    let nd = x.ndim();
    let (shape, strides) = (x.shape(), x.strides());
    let mut rows = shape[nd - 2];
    for d in (0..nd - 2).rev() {
        if shape[d] != 1 && strides[d] != rows * strides[nd - 2] {
            return None;
        }
        rows *= shape[d];
    }
    Some(x.view(
        &[rows, shape[nd - 1]],
        &[strides[nd - 2], strides[nd - 1]],
        x.offset(),
    ))
}

/// `a @ b` for operands of rank >= 2, not recorded.
fn matmul_nd(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    let (na, nb) = (a.ndim(), b.ndim());
    if na > 2 && nb == 2 {
        // one shared matrix on the right: a single tall product over all of a's rows
        if let Some(a2) = fold_batch(a) {
            let out = matmul_nd(&a2, b)?;
            let mut shape = a.shape().to_vec();
            shape[na - 1] = b.shape()[1];
            return Ok(out.view(&shape, &contiguous_strides(&shape), 0));
        }
    }
    let (m, k, k2, n) = (
        a.shape()[na - 2],
        a.shape()[na - 1],
        b.shape()[nb - 2],
        b.shape()[nb - 1],
    );
    if k != k2 {
        return Err(value_err!(
            "matmul: shapes {:?} and {:?} are incompatible (inner dimensions {k} and {k2} differ)",
            a.shape(),
            b.shape()
        ));
    }
    let batch = broadcast_shapes("matmul", &a.shape()[..na - 2], &b.shape()[..nb - 2])?;
    let bs_a = broadcast_strides(&a.shape()[..na - 2], &a.strides()[..na - 2], &batch);
    let bs_b = broadcast_strides(&b.shape()[..nb - 2], &b.strides()[..nb - 2], &batch);
    let nbatch: usize = batch.iter().product();
    let mut out = vec![0.0f32; nbatch * m * n];
    let (da, db) = (a.f32_storage()?, b.f32_storage()?);
    let (sa, sb) = (a.strides(), b.strides());
    // the operands of product `bi` (row-major index over the broadcast batch dims)
    let operands = |bi: usize| {
        let (mut oa, mut ob, mut rem) = (a.offset(), b.offset(), bi);
        for d in (0..batch.len()).rev() {
            let i = rem % batch[d];
            rem /= batch[d];
            oa += i * bs_a[d];
            ob += i * bs_b[d];
        }
        let ma = MatRef {
            data: da,
            offset: oa,
            rs: sa[na - 2] as isize,
            cs: sa[na - 1] as isize,
        };
        let mb = MatRef {
            data: db,
            offset: ob,
            rs: sb[nb - 2] as isize,
            cs: sb[nb - 1] as isize,
        };
        (ma, mb)
    };
    if m * n > 0 && batch_parallel(nbatch, m * n * k, pool::num_threads()) {
        pool::install(|| {
            out.par_chunks_mut(m * n).enumerate().for_each(|(bi, c)| {
                let (ma, mb) = operands(bi);
                sgemm_serial(m, n, k, ma, mb, c, n, false)
            })
        });
    } else {
        for (bi, c) in out.chunks_mut((m * n).max(1)).enumerate() {
            let (ma, mb) = operands(bi);
            sgemm(m, n, k, ma, mb, c, n, false);
        }
    }
    let mut shape: Shape = batch;
    shape.extend_from_slice(&[m, n]);
    Ok(Tensor::new_f32(out, &shape))
}

/// Matrix product with numpy's rules.
pub fn matmul(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    a.expect_f32("matmul")?;
    b.expect_f32("matmul")?;
    if a.ndim() == 0 || b.ndim() == 0 {
        return Err(value_err!(
            "matmul: operands must have at least 1 dimension, got shapes {:?} and {:?}",
            a.shape(),
            b.shape()
        ));
    }
    if a.ndim() == 1 {
        let a2 = reshape(a, &[1, a.shape()[0]])?;
        let out = matmul(&a2, b)?;
        let mut s = out.shape().to_vec();
        s.remove(s.len() - 2);
        return reshape(&out, &s);
    }
    if b.ndim() == 1 {
        let b2 = reshape(b, &[b.shape()[0], 1])?;
        let out = matmul(a, &b2)?;
        let s = &out.shape()[..out.ndim() - 1].to_vec();
        return reshape(&out, s);
    }
    let out = matmul_nd(a, b)?;
    Ok(record("matmul", &[a, b], out, || {
        let (a, b) = (a.detach(), b.detach());
        move |g: &Tensor| {
            let ga = Some(sum_to_shape(&matmul_nd(g, &swap_last2(&b))?, a.shape())?);
            let gb = match (b.ndim(), fold_batch(&a), fold_batch(g)) {
                // sum over the batch of a_i^T g_i, as one product over the folded rows
                (2, Some(a2), Some(g2)) if a.ndim() > 2 => matmul_nd(&swap_last2(&a2), &g2)?,
                _ => sum_to_shape(&matmul_nd(&swap_last2(&a), g)?, b.shape())?,
            };
            let gb = Some(gb);
            Ok(vec![ga, gb])
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::autograd::check_gradients;

    fn t(shape: &[usize], seed: usize) -> Tensor {
        let n: usize = shape.iter().product();
        let v = (0..n)
            .map(|i| (((i + seed) * 7919 % 101) as f32 / 101.0 - 0.5) * 2.0)
            .collect();
        Tensor::from_f32(v, shape).unwrap()
    }

    /// numpy's matmul for rank-3 operands with batch broadcasting, by loops.
    fn naive(a: &Tensor, b: &Tensor) -> (Vec<usize>, Vec<f32>) {
        let (sa, sb) = (a.shape(), b.shape());
        let nbatch = sa[0].max(sb[0]);
        let (m, k, n) = (sa[1], sa[2], sb[2]);
        let (ad, bd) = (a.to_vec_f32().unwrap(), b.to_vec_f32().unwrap());
        let mut out = vec![0.0f32; nbatch * m * n];
        for bi in 0..nbatch {
            let (ia, ib) = (bi % sa[0], bi % sb[0]);
            for i in 0..m {
                for j in 0..n {
                    out[(bi * m + i) * n + j] = (0..k)
                        .map(|p| ad[(ia * m + i) * k + p] * bd[(ib * k + p) * n + j])
                        .sum();
                }
            }
        }
        (vec![nbatch, m, n], out)
    }

    fn assert_close(got: &Tensor, want: (Vec<usize>, Vec<f32>)) {
        assert_eq!(got.shape(), &want.0[..]);
        for (x, y) in got.to_vec_f32().unwrap().iter().zip(&want.1) {
            assert!((x - y).abs() < 1e-4 * (1.0 + y.abs()), "{x} vs {y}");
        }
    }

    #[test]
    fn batched_products_match_loops() {
        // many small products (one per task when threads > 1), a broadcast batch on either
        // side, a few large ones, and a shared right operand folded into one tall product
        for (sa, sb) in [
            ([64, 32, 32], [64, 32, 32]),
            ([1, 9, 7], [40, 7, 5]),
            ([40, 9, 7], [1, 7, 5]),
            ([3, 130, 70], [3, 70, 90]),
            ([5, 0, 4], [5, 4, 3]),
            ([5, 3, 0], [5, 0, 4]),
        ] {
            let (a, b) = (t(&sa, 1), t(&sb, 2));
            assert_close(&matmul(&a, &b).unwrap(), naive(&a, &b));
        }
        let (a, b) = (t(&[6, 20, 8], 3), t(&[8, 11], 4));
        let got = matmul(&a, &b).unwrap();
        let b3 = b.view(&[1, 8, 11], &[0, 11, 1], 0);
        assert_close(&got, naive(&a, &b3));
        // a strided left operand that cannot be folded: each product on its own
        let at = swap_last2(&t(&[6, 8, 20], 5));
        let want = naive(&at.contiguous_data(), &b3);
        assert_close(&matmul(&at, &b).unwrap(), want);
    }

    #[test]
    fn folded_and_batched_gradients() {
        check_gradients(
            |x| matmul(&x[0], &x[1]),
            &[t(&[2, 2, 3, 4], 1), t(&[4, 5], 2)],
            1e-2,
            1e-2,
        )
        .unwrap();
        check_gradients(
            |x| matmul(&x[0], &x[1]),
            &[t(&[2, 1, 3, 4], 5), t(&[3, 4, 2], 6)],
            1e-2,
            1e-2,
        )
        .unwrap();
    }

    #[test]
    fn batch_parallel_choice() {
        assert!(!batch_parallel(64, 32 * 32 * 32, 1));
        assert!(batch_parallel(64, 32 * 32 * 32, 2));
        assert!(
            !batch_parallel(4, 8 * 8 * 8, 2),
            "too little work for threads"
        );
        assert!(
            !batch_parallel(3, 512 * 512 * 512, 2),
            "large products split inside"
        );
        assert!(batch_parallel(4, 512 * 512 * 512, 2));
    }
}
