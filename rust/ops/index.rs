//! Indexing: numpy basic indexing as views (`getitem`), integer-array gathers (`take`,
//! `take_along_axis`) and `one_hot`. Backward passes add the gradient into zeros of the
//! input's shape at the positions read.
use super::{affine_view, checked_numel, flatten, identity_map, index_gather, permute, ViewAxis};
use crate::autograd::record;
use crate::cpu::strided::gather;
use crate::error::{Error, Result};
use crate::tensor::{
    broadcast_strides, contiguous_strides, normalize_axis, numel, CpuBuffer, DType, Storage, Tensor,
};
use crate::{type_err, value_err};

/// Wraps a possibly negative index into `[0, n)` as numpy does, or an IndexError naming
/// the op, the index, the axis and its size.
fn wrap_index(op: &str, i: i64, axis: usize, n: usize) -> Result<usize> {
    let j = if i < 0 { i + n as i64 } else { i };
    if j < 0 || j >= n as i64 {
        return Err(Error::Index(format!(
            "{op}: index {i} is out of bounds for axis {axis} with size {n}"
        )));
    }
    Ok(j as usize)
}

fn expect_indices(op: &str, indices: &Tensor) -> Result<()> {
    if indices.dtype() != DType::I64 {
        return Err(type_err!(
            "{op}: indices must be an int64 tensor, got {} of shape {:?}",
            indices.dtype().name(),
            indices.shape()
        ));
    }
    Ok(())
}

/// Gathers slices of `x` along `axis` at `indices` (any shape; negative indices count
/// from the end). With `axis` None, `x` is flattened first. The output shape is
/// `x.shape[..axis] + indices.shape + x.shape[axis+1..]`.
pub fn take(x: &Tensor, indices: &Tensor, axis: Option<isize>) -> Result<Tensor> {
    expect_indices("take", indices)?;
    let (xv, ax) = match axis {
        None => (flatten(x)?, 0),
        Some(a) => (x.clone(), normalize_axis("take", a, x.ndim())?),
    };
    let n = xv.shape()[ax];
    let map = indices
        .i64_data()?
        .iter()
        .map(|&i| wrap_index("take", i, ax, n).map(Some))
        .collect::<Result<Vec<_>>>()?;
    let s = xv.shape();
    let out_shape: Vec<usize> = s[..ax]
        .iter()
        .chain(indices.shape())
        .chain(&s[ax + 1..])
        .copied()
        .collect();
    checked_numel("take", &out_shape)?;
    let maps = (0..xv.ndim())
        .map(|d| {
            if d == ax {
                map.clone()
            } else {
                identity_map(s[d])
            }
        })
        .collect();
    Ok(index_gather("take", &xv, maps, &out_shape, 0.0))
}

/// Picks, at every position, the element of `x` along `axis` named by `indices` (numpy's
/// `take_along_axis`: same rank, other axes broadcast). With `axis` None both are
/// flattened and `indices` must be 1-D.
pub fn take_along_axis(x: &Tensor, indices: &Tensor, axis: Option<isize>) -> Result<Tensor> {
    expect_indices("take_along_axis", indices)?;
    let (xv, ax) = match axis {
        None => {
            if indices.ndim() != 1 {
                return Err(value_err!(
                    "take_along_axis: with axis=None, indices must be 1-D, got shape {:?}",
                    indices.shape()
                ));
            }
            (flatten(x)?, 0)
        }
        Some(a) => {
            if indices.ndim() != x.ndim() {
                return Err(value_err!(
                    "take_along_axis: indices of shape {:?} must have the same rank as the tensor of shape {:?}",
                    indices.shape(),
                    x.shape()
                ));
            }
            (x.clone(), normalize_axis("take_along_axis", a, x.ndim())?)
        }
    };
    let nd = xv.ndim();
    let (xs, is) = (xv.shape(), indices.shape());
    let mut out_shape = Vec::with_capacity(nd);
    for d in 0..nd {
        out_shape.push(if d == ax {
            is[d]
        } else if xs[d] == is[d] || is[d] == 1 {
            xs[d]
        } else if xs[d] == 1 {
            is[d]
        } else {
            return Err(value_err!(
                "take_along_axis: indices of shape {is:?} do not broadcast against the tensor of shape {xs:?} (axis {d})"
            ));
        });
    }
    checked_numel("take_along_axis", &out_shape)?;
    // the indices, broadcast to the output shape
    let mut ishape = is.to_vec();
    ishape[ax] = out_shape[ax];
    let istr = broadcast_strides(&ishape, indices.strides(), &out_shape);
    let idx: Vec<usize> = match &**indices.storage() {
        Storage::Cpu(CpuBuffer::I64(v)) => gather(v, &out_shape, &istr, indices.offset()),
        _ => unreachable!("dtype checked"),
    }
    .into_iter()
    .map(|i| wrap_index("take_along_axis", i, ax, xs[ax]))
    .collect::<Result<_>>()?;
    // storage offset of each output element: its position on the other axes, plus its
    // index along `ax`
    let offsets = |shape: &[usize], strides: &[usize], base: usize| -> Vec<usize> {
        let mut xshape = shape.to_vec();
        xshape[ax] = 1;
        let mut st = broadcast_strides(&xshape, strides, &out_shape);
        st[ax] = 0;
        let mut offs = offsets_of(&out_shape, &st, base);
        for (o, &i) in offs.iter_mut().zip(&idx) {
            *o += i * strides[ax];
        }
        offs
    };
    let offs = offsets(xs, xv.strides(), xv.offset());
    let out = match &**xv.storage() {
        Storage::Cpu(CpuBuffer::F32(v)) => {
            Tensor::new_f32(offs.iter().map(|&o| v[o]).collect(), &out_shape)
        }
        Storage::Cpu(CpuBuffer::I64(v)) => {
            Tensor::new_i64(offs.iter().map(|&o| v[o]).collect(), &out_shape)
        }
    };
    Ok(record("take_along_axis", &[&xv], out, || {
        let in_shape = xs.to_vec();
        let offs = offsets(&in_shape, &contiguous_strides(&in_shape), 0);
        move |g: &Tensor| {
            let mut dx = vec![0.0f32; numel(&in_shape)];
            for (&o, &v) in offs.iter().zip(g.f32_data()?.iter()) {
                dx[o] += v;
            }
            Ok(vec![Some(Tensor::new_f32(dx, &in_shape))])
        }
    }))
}

/// The storage offset of every element of a strided layout, in row-major order.
fn offsets_of(shape: &[usize], strides: &[usize], base: usize) -> Vec<usize> {
    let mut out = vec![base; numel(shape)];
    let mut block = out.len();
    for (&n, &s) in shape.iter().zip(strides) {
        if n == 0 {
            return out;
        }
        let inner = block / n;
        for (k, o) in out.iter_mut().enumerate() {
            *o += (k / inner % n) * s;
        }
        block = inner;
    }
    out
}

/// One-hot encodes int64 `indices` into float32 with `num_classes` entries along `axis` of
/// the output (-1: a new last axis). Out-of-range and negative indices give all zeros,
/// as Keras' backends do. Not differentiable.
pub fn one_hot(indices: &Tensor, num_classes: usize, axis: isize) -> Result<Tensor> {
    expect_indices("one_hot", indices)?;
    let ax = normalize_axis("one_hot", axis, indices.ndim() + 1)?;
    let mut shape = indices.shape().to_vec();
    shape.insert(ax, num_classes);
    checked_numel("one_hot", &shape)?;
    let inner: usize = indices.shape()[ax..].iter().product();
    let mut out = vec![0.0f32; numel(&shape)];
    for (k, &c) in indices.i64_data()?.iter().enumerate() {
        if c >= 0 && (c as usize) < num_classes {
            let (o, i) = (k / inner, k % inner);
            out[(o * num_classes + c as usize) * inner + i] = 1.0;
        }
    }
    Ok(Tensor::new_f32(out, &shape))
}

/// One entry of a numpy-style index.
#[derive(Clone, Debug)]
pub enum Index {
    /// A single position (negative counts from the end); removes the axis.
    Int(isize),
    /// `start:stop:step` with Python's defaults and clamping; `step` may be negative.
    Slice {
        start: Option<isize>,
        stop: Option<isize>,
        step: Option<isize>,
    },
    /// `None` / `np.newaxis`: a new axis of length 1.
    NewAxis,
    /// `...`: as many full slices as needed.
    Ellipsis,
    /// An int64 tensor of positions along one axis (at most one array or mask per index).
    Array(Tensor),
    /// A boolean mask of one axis (its length must match): the positions where it is true.
    Mask(Vec<bool>),
}

/// Python's `slice.indices(n)`: the first position, the step and the element count.
fn slice_indices(
    start: Option<isize>,
    stop: Option<isize>,
    step: Option<isize>,
    n: usize,
) -> Result<(isize, isize, usize)> {
    let step = step.unwrap_or(1);
    if step == 0 {
        return Err(value_err!("getitem: slice step cannot be zero"));
    }
    let n = n as isize;
    let clamp = |v: Option<isize>, default: isize| -> isize {
        match v {
            None => default,
            Some(v) if v < 0 => {
                let v = v + n;
                if v < 0 {
                    if step < 0 {
                        -1
                    } else {
                        0
                    }
                } else {
                    v
                }
            }
            Some(v) if v >= n => {
                if step < 0 {
                    n - 1
                } else {
                    n
                }
            }
            Some(v) => v,
        }
    };
    let (a, b) = if step > 0 {
        (clamp(start, 0), clamp(stop, n))
    } else {
        (clamp(start, n - 1), clamp(stop, -1))
    };
    // the distance is below n, so nothing here overflows whatever the step
    let span = if step > 0 { b - a } else { a - b };
    let len = if span > 0 {
        (span as usize - 1) / step.unsigned_abs() + 1
    } else {
        0
    };
    Ok((a, step, len))
}

/// numpy indexing `x[items]`. Integers, slices (any step), `NewAxis` and `Ellipsis` give a
/// view (negative steps add one reversing copy); one integer-array entry gathers along its
/// axis with `take`, its dimensions placed as numpy places them (in place when the array
/// and the integer entries are adjacent, else first).
pub fn getitem(x: &Tensor, items: &[Index]) -> Result<Tensor> {
    let nd = x.ndim();
    let consumed = items
        .iter()
        .filter(|i| !matches!(i, Index::NewAxis | Index::Ellipsis))
        .count();
    if items
        .iter()
        .filter(|i| matches!(i, Index::Ellipsis))
        .count()
        > 1
    {
        return Err(Error::Index(
            "getitem: an index can only have a single ellipsis ('...')".into(),
        ));
    }
    if consumed > nd {
        return Err(Error::Index(format!(
            "getitem: too many indices for a tensor of shape {:?}: it is {nd}-dimensional, but {consumed} were indexed",
            x.shape()
        )));
    }
    if items
        .iter()
        .filter(|i| matches!(i, Index::Array(_) | Index::Mask(_)))
        .count()
        > 1
    {
        return Err(value_err!(
            "getitem: only one integer-array or boolean-mask index is supported, in a key for a tensor of shape {:?}",
            x.shape()
        ));
    }
    // expand the ellipsis (or pad at the end) into full slices
    let full = Index::Slice {
        start: None,
        stop: None,
        step: None,
    };
    let mut expanded: Vec<&Index> = Vec::with_capacity(nd + items.len());
    let fill = nd - consumed;
    let mut had_ellipsis = false;
    for it in items {
        if matches!(it, Index::Ellipsis) {
            expanded.extend(std::iter::repeat(&full).take(fill));
            had_ellipsis = true;
        } else {
            expanded.push(it);
        }
    }
    if !had_ellipsis {
        expanded.extend(std::iter::repeat(&full).take(fill));
    }
    let mut axes: Vec<ViewAxis> = Vec::new();
    let mut starts = vec![0usize; nd];
    let mut reversed: Vec<usize> = Vec::new();
    let mut array: Option<(usize, Tensor)> = None;
    let mut advanced_positions = Vec::new();
    let mut d = 0;
    for (pos, it) in expanded.iter().enumerate() {
        match it {
            Index::Int(i) => {
                starts[d] = wrap_index("getitem", *i as i64, d, x.shape()[d])?;
                advanced_positions.push(pos);
                d += 1;
            }
            Index::Slice { start, stop, step } => {
                let (a, step, len) = slice_indices(*start, *stop, *step, x.shape()[d])?;
                // a step only matters between two selected elements (so it is below n)
                let walk = if len > 1 { step.unsigned_abs() } else { 1 };
                if step > 0 || len == 0 {
                    starts[d] = if len == 0 { 0 } else { a as usize };
                    axes.push(ViewAxis {
                        src: Some(d),
                        step: walk,
                        len,
                    });
                } else {
                    // walk forwards from the last element selected, then reverse
                    starts[d] = a as usize - (len - 1) * walk;
                    reversed.push(axes.len());
                    axes.push(ViewAxis {
                        src: Some(d),
                        step: walk,
                        len,
                    });
                }
                d += 1;
            }
            Index::NewAxis => axes.push(ViewAxis {
                src: None,
                step: 0,
                len: 1,
            }),
            Index::Array(_) | Index::Mask(_) => {
                let t = match it {
                    Index::Mask(m) => mask_positions(m, d, x.shape()[d])?,
                    Index::Array(t) => t.clone(),
                    _ => unreachable!(),
                };
                array = Some((axes.len(), t));
                advanced_positions.push(pos);
                axes.push(ViewAxis {
                    src: Some(d),
                    step: 1,
                    len: x.shape()[d],
                });
                d += 1;
            }
            Index::Ellipsis => unreachable!("expanded above"),
        }
    }
    let mut out = affine_view("getitem", x, &axes, &starts);
    if !reversed.is_empty() {
        let maps = out
            .shape()
            .iter()
            .enumerate()
            .map(|(k, &n)| {
                if reversed.contains(&k) {
                    (0..n).rev().map(Some).collect()
                } else {
                    identity_map(n)
                }
            })
            .collect();
        let shape = out.shape().to_vec();
        out = index_gather("getitem", &out, maps, &shape, 0.0);
    }
    let Some((p, idx)) = array else {
        return Ok(out);
    };
    let out = take(&out, &idx, Some(p as isize)).map_err(|e| match e {
        Error::Index(m) => Error::Index(m.replacen("take", "getitem", 1)),
        e => e,
    })?;
    let adjacent = advanced_positions.windows(2).all(|w| w[1] == w[0] + 1);
    if adjacent || p == 0 {
        return Ok(out);
    }
    // numpy puts the array's dimensions first when advanced indices are separated
    let k = idx.ndim();
    let perm: Vec<usize> = (p..p + k).chain(0..p).chain(p + k..out.ndim()).collect();
    permute(&out, &perm)
}

/// The positions of the true entries of a mask over axis `axis` of size `n`.
fn mask_positions(mask: &[bool], axis: usize, n: usize) -> Result<Tensor> {
    if mask.len() != n {
        return Err(Error::Index(format!(
            "getitem: boolean index did not match axis {axis}: its size is {n} but the mask has {} entries",
            mask.len()
        )));
    }
    let pos: Vec<i64> = (0..n as i64).filter(|&i| mask[i as usize]).collect();
    let k = pos.len();
    Tensor::from_i64(pos, &[k])
}

impl Index {
    /// A slice entry from Python-style optional bounds.
    pub fn slice(start: Option<isize>, stop: Option<isize>, step: Option<isize>) -> Index {
        Index::Slice { start, stop, step }
    }
}
