//! Reductions over axes, and `sum_to_shape`, the one place broadcasting is undone.
use crate::autograd::record;
use crate::cpu::reduce::sum_axes;
use crate::error::Result;
use crate::tensor::{normalize_axes, Shape, Tensor};
use crate::value_err;

/// The output shape of reducing `shape` over `axes`.
pub(crate) fn reduced_shape(shape: &[usize], axes: &[usize], keepdims: bool) -> Shape {
    shape
        .iter()
        .enumerate()
        .filter_map(|(d, &n)| {
            if axes.contains(&d) {
                keepdims.then_some(1)
            } else {
                Some(n)
            }
        })
        .collect()
}

/// Sum over `axes` (all when None).
pub fn sum(x: &Tensor, axes: Option<&[isize]>, keepdims: bool) -> Result<Tensor> {
    x.expect_f32("sum")?;
    let axes = normalize_axes("sum", axes, x.ndim())?;
    let mask: Vec<bool> = (0..x.ndim()).map(|d| axes.contains(&d)).collect();
    let shape = reduced_shape(x.shape(), &axes, keepdims);
    let out = Tensor::new_f32(sum_axes(&x.f32_data()?, x.shape(), &mask), &shape);
    Ok(record("sum", &[x], out, || {
        let in_shape = x.shape().to_vec();
        let kept = reduced_shape(&in_shape, &axes, true);
        move |g: &Tensor| {
            Ok(vec![Some(broadcast_to(
                &reshape_data(g, &kept)?,
                &in_shape,
            )?)])
        }
    }))
}

/// Sums `g` down to `shape` (undoing numpy broadcasting). Not recorded.
pub fn sum_to_shape(g: &Tensor, shape: &[usize]) -> Result<Tensor> {
    if g.shape() == shape {
        return Ok(g.detach());
    }
    let nd = g.ndim();
    if shape.len() > nd {
        return Err(value_err!(
            "sum_to_shape: cannot reduce shape {:?} to {:?}",
            g.shape(),
            shape
        ));
    }
    let off = nd - shape.len();
    let mask: Vec<bool> = (0..nd)
        .map(|d| d < off || (shape[d - off] == 1 && g.shape()[d] != 1))
        .collect();
    let data = sum_axes(&g.f32_data()?, g.shape(), &mask);
    Tensor::from_f32(data, shape)
}

/// A contiguous copy of `x`'s data viewed with a new shape (same element count). Not recorded.
pub(crate) fn reshape_data(x: &Tensor, shape: &[usize]) -> Result<Tensor> {
    Tensor::from_f32(x.to_vec_f32()?, shape)
}

/// Materialises `x` broadcast to `shape`. Not recorded.
pub(crate) fn broadcast_to(x: &Tensor, shape: &[usize]) -> Result<Tensor> {
    let s = crate::tensor::broadcast_shapes("broadcast_to", x.shape(), shape)?;
    if s.as_slice() != shape {
        return Err(value_err!(
            "broadcast_to: cannot broadcast shape {:?} to {:?}",
            x.shape(),
            shape
        ));
    }
    let strides = crate::tensor::broadcast_strides(x.shape(), x.strides(), shape);
    Ok(x.view(shape, &strides, x.offset()).contiguous_data())
}
