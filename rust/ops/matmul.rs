//! `matmul` with numpy semantics: 1-D operands promoted, batch dims broadcast, any
//! strides (so the transposes in backward are views, never copies).
use super::{reshape, sum_to_shape};
use crate::autograd::record;
use crate::cpu::gemm::{sgemm, MatRef};
use crate::error::Result;
use crate::tensor::{broadcast_shapes, broadcast_strides, Shape, Tensor};
use crate::value_err;

/// A view of `x` with its last two axes swapped. Not recorded.
pub(crate) fn swap_last2(x: &Tensor) -> Tensor {
    let nd = x.ndim();
    let (mut shape, mut strides) = (x.shape().to_vec(), x.strides().to_vec());
    shape.swap(nd - 2, nd - 1);
    strides.swap(nd - 2, nd - 1);
    x.view(&shape, &strides, x.offset())
}

/// `a @ b` for operands of rank >= 2, not recorded.
fn matmul_nd(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    let (na, nb) = (a.ndim(), b.ndim());
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
    for bi in 0..nbatch {
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
        sgemm(
            m,
            n,
            k,
            ma,
            mb,
            &mut out[bi * m * n..(bi + 1) * m * n],
            n,
            false,
        );
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
            let gb = Some(sum_to_shape(&matmul_nd(&swap_last2(&a), g)?, b.shape())?);
            Ok(vec![ga, gb])
        }
    }))
}
