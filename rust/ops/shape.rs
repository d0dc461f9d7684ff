//! Shape ops: views where the layout allows, copies otherwise.
use crate::autograd::record;
use crate::error::Result;
use crate::tensor::{contiguous_strides, numel, Tensor};
use crate::value_err;

/// Resolves a Keras/numpy target shape with at most one -1 for `n` elements.
pub(crate) fn resolve_shape(op: &str, from: &[usize], target: &[isize]) -> Result<Vec<usize>> {
    let n = numel(from);
    let known: usize = target
        .iter()
        .filter(|&&d| d >= 0)
        .map(|&d| d as usize)
        .product();
    let unknown = target.iter().filter(|&&d| d < 0).count();
    let bad = || {
        value_err!(
            "{op}: cannot reshape a tensor of shape {from:?} ({n} elements) into shape {target:?}"
        )
    };
    if target.iter().any(|&d| d < -1) || unknown > 1 {
        return Err(bad());
    }
    if unknown == 1 {
        if known == 0 || n % known != 0 {
            return Err(bad());
        }
        return Ok(target
            .iter()
            .map(|&d| if d < 0 { n / known } else { d as usize })
            .collect());
    }
    if known != n {
        return Err(bad());
    }
    Ok(target.iter().map(|&d| d as usize).collect())
}

/// Reshape to `shape` (same element count); a view when `x` is contiguous.
pub fn reshape(x: &Tensor, shape: &[usize]) -> Result<Tensor> {
    if numel(shape) != x.numel() {
        return Err(value_err!(
            "reshape: cannot reshape a tensor of shape {:?} ({} elements) into shape {:?}",
            x.shape(),
            x.numel(),
            shape
        ));
    }
    let base = if x.is_contiguous() {
        x.detach()
    } else {
        x.contiguous_data()
    };
    let out = base.view(shape, &contiguous_strides(shape), base.offset());
    Ok(record("reshape", &[x], out, || {
        let in_shape = x.shape().to_vec();
        move |g: &Tensor| Ok(vec![Some(reshape(g, &in_shape)?)])
    }))
}
