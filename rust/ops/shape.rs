//! Shape ops. Views (no copy) wherever the strided layout allows: reshape of compatible
//! strides, permutations, inserted/removed unit axes, broadcasts (stride 0), slices and
//! split pieces. Everything else (concatenate, tile, repeat, pad, flip) is one copy
//! through `strided::gather_tables`, whose adjoint `scatter_add_tables` is the backward.
use super::sum_to_shape;
use crate::autograd::record;
use crate::cpu::strided::{gather_tables, scatter_add_tables, strided_table, Elem, Tables};
use crate::error::Result;
use crate::tensor::{
    broadcast_shapes, broadcast_strides, contiguous_strides, normalize_axes, normalize_axis, numel,
    CpuBuffer, DType, Storage, Tensor,
};
use crate::{type_err, value_err};
use std::borrow::Cow;

/// The element count of a new tensor of `shape`, or an error naming `op` when the count
/// overflows or needs more bytes than one allocation may hold.
pub(crate) fn checked_numel(op: &str, shape: &[usize]) -> Result<usize> {
    shape
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .filter(|&n| n <= isize::MAX as usize / 8)
        .ok_or_else(|| value_err!("{op}: a tensor of shape {shape:?} would be too large"))
}

/// A dimension computed from user values, or an error naming `op` when it overflows.
fn checked_dim(op: &str, d: Option<usize>) -> Result<usize> {
    d.filter(|&n| n <= isize::MAX as usize / 8)
        .ok_or_else(|| value_err!("{op}: the requested size would be too large"))
}

/// Resolves a Keras/numpy target shape with at most one -1 for `n` elements.
pub(crate) fn resolve_shape(op: &str, from: &[usize], target: &[isize]) -> Result<Vec<usize>> {
    let n = numel(from);
    let known_dims: Vec<usize> = target
        .iter()
        .filter(|&&d| d >= 0)
        .map(|&d| d as usize)
        .collect();
    let known = checked_numel(op, &known_dims)?;
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

/// Strides that show the data of (`shape`, `strides`) as `new` without a copy, when they
/// exist (numpy's no-copy reshape: each group of old axes merged or split must be
/// contiguous within itself).
fn nocopy_strides(shape: &[usize], strides: &[usize], new: &[usize]) -> Option<Vec<usize>> {
    if numel(shape) == 0 {
        return Some(contiguous_strides(new).to_vec());
    }
    let old: Vec<(usize, usize)> = shape
        .iter()
        .zip(strides)
        .filter(|(&d, _)| d != 1)
        .map(|(&d, &s)| (d, s))
        .collect();
    let mut out = vec![0usize; new.len()];
    let (mut oi, mut ni) = (0, 0);
    while ni < new.len() && oi < old.len() {
        let (mut np, mut op) = (new[ni], old[oi].0);
        let (mut nj, mut oj) = (ni + 1, oi + 1);
        while np != op {
            if np < op {
                np *= *new.get(nj)?;
                nj += 1;
            } else {
                op *= old.get(oj)?.0;
                oj += 1;
            }
        }
        if (oi..oj - 1).any(|k| old[k].1 != old[k + 1].0 * old[k + 1].1) {
            return None;
        }
        out[nj - 1] = old[oj - 1].1;
        for k in (ni + 1..nj).rev() {
            out[k - 1] = out[k] * new[k];
        }
        ni = nj;
        oi = oj;
    }
    Some(out)
}

/// Reshape to `shape` (same element count): a view whenever the strides allow, else a copy.
pub fn reshape(x: &Tensor, shape: &[usize]) -> Result<Tensor> {
    if checked_numel("reshape", shape)? != x.numel() {
        return Err(value_err!(
            "reshape: cannot reshape a tensor of shape {:?} ({} elements) into shape {:?}",
            x.shape(),
            x.numel(),
            shape
        ));
    }
    let out = match nocopy_strides(x.shape(), x.strides(), shape) {
        Some(st) => x.view(shape, &st, if x.numel() == 0 { 0 } else { x.offset() }),
        None => {
            let base = x.contiguous_data();
            base.view(shape, &contiguous_strides(shape), 0)
        }
    };
    Ok(record("reshape", &[x], out, || {
        let in_shape = x.shape().to_vec();
        move |g: &Tensor| Ok(vec![Some(reshape(g, &in_shape)?)])
    }))
}

/// Reshape to a Keras/numpy target shape in which one entry may be -1 (inferred).
pub fn reshape_infer(x: &Tensor, shape: &[isize]) -> Result<Tensor> {
    reshape(x, &resolve_shape("reshape", x.shape(), shape)?)
}

/// The elements in row-major order as a 1-D tensor (numpy's `ravel`).
pub fn flatten(x: &Tensor) -> Result<Tensor> {
    reshape(x, &[x.numel()])
}

/// A view with axes reordered: output axis `i` is input axis `perm[i]`. Not recorded,
/// not checked.
pub(crate) fn permute_view(x: &Tensor, perm: &[usize]) -> Tensor {
    let shape: Vec<usize> = perm.iter().map(|&p| x.shape()[p]).collect();
    let strides: Vec<usize> = perm.iter().map(|&p| x.strides()[p]).collect();
    x.view(&shape, &strides, x.offset())
}

/// The inverse of a permutation.
pub(crate) fn inverse_permutation(perm: &[usize]) -> Vec<usize> {
    let mut inv = vec![0; perm.len()];
    for (i, &p) in perm.iter().enumerate() {
        inv[p] = i;
    }
    inv
}

/// Reorders the axes (a view): output axis `i` is input axis `perm[i]`.
pub fn permute(x: &Tensor, perm: &[usize]) -> Result<Tensor> {
    let nd = x.ndim();
    let mut seen = vec![false; nd];
    for &p in perm {
        if p >= nd || std::mem::replace(&mut seen[p], true) {
            return Err(value_err!(
                "transpose: axes {perm:?} are not a permutation of the {nd} axes of a tensor of shape {:?}",
                x.shape()
            ));
        }
    }
    if perm.len() != nd {
        return Err(value_err!(
            "transpose: axes {perm:?} do not match a tensor of shape {:?} (rank {nd})",
            x.shape()
        ));
    }
    let out = permute_view(x, perm);
    Ok(record("transpose", &[x], out, || {
        let inv = inverse_permutation(perm);
        move |g: &Tensor| Ok(vec![Some(permute_view(g, &inv))])
    }))
}

/// Permutes the axes (numpy's `transpose`): reversed when `axes` is None; negative axes count
/// from the end.
pub fn transpose(x: &Tensor, axes: Option<&[isize]>) -> Result<Tensor> {
    let nd = x.ndim();
    let perm: Vec<usize> = match axes {
        None => (0..nd).rev().collect(),
        Some(a) => {
            if a.len() != nd {
                return Err(value_err!(
                    "transpose: axes {a:?} do not match a tensor of shape {:?} (rank {nd})",
                    x.shape()
                ));
            }
            a.iter()
                .map(|&d| normalize_axis("transpose", d, nd))
                .collect::<Result<_>>()?
        }
    };
    permute(x, &perm)
}

/// Swaps two axes (a view).
pub fn swapaxes(x: &Tensor, axis1: isize, axis2: isize) -> Result<Tensor> {
    let nd = x.ndim();
    let (a, b) = (
        normalize_axis("swapaxes", axis1, nd)?,
        normalize_axis("swapaxes", axis2, nd)?,
    );
    let mut perm: Vec<usize> = (0..nd).collect();
    perm.swap(a, b);
    permute(x, &perm)
}

/// Moves axes `source` to positions `destination`, the others keeping their order (a view).
pub fn moveaxis(x: &Tensor, source: &[isize], destination: &[isize]) -> Result<Tensor> {
    let nd = x.ndim();
    if source.len() != destination.len() {
        return Err(value_err!(
            "moveaxis: source {source:?} and destination {destination:?} must have the same number of elements"
        ));
    }
    let src = normalize_list("moveaxis", source, nd)?;
    let dst = normalize_list("moveaxis", destination, nd)?;
    let mut perm: Vec<usize> = (0..nd).filter(|d| !src.contains(d)).collect();
    let mut pairs: Vec<(usize, usize)> = dst.into_iter().zip(src).collect();
    pairs.sort_unstable();
    for (d, s) in pairs {
        perm.insert(d, s);
    }
    permute(x, &perm)
}

/// Resolves axes keeping their order, rejecting repeats.
fn normalize_list(op: &str, axes: &[isize], nd: usize) -> Result<Vec<usize>> {
    let v = axes
        .iter()
        .map(|&a| normalize_axis(op, a, nd))
        .collect::<Result<Vec<_>>>()?;
    if normalize_axes(op, Some(axes), nd)?.len() != v.len() {
        return Err(value_err!("{op}: repeated axis in {axes:?}"));
    }
    Ok(v)
}

/// Inserts unit axes at positions `axes` of the output (a view).
pub fn expand_dims(x: &Tensor, axes: &[isize]) -> Result<Tensor> {
    let out_nd = x.ndim() + axes.len();
    let new = normalize_axes("expand_dims", Some(axes), out_nd)?;
    let mut shape = Vec::with_capacity(out_nd);
    let mut src = x.shape().iter();
    for d in 0..out_nd {
        shape.push(if new.contains(&d) {
            1
        } else {
            *src.next().unwrap_or(&1)
        });
    }
    reshape(x, &shape)
}

/// Removes unit axes: all of them when `axes` is None, else the listed ones, each of
/// which must have size 1 (a view).
pub fn squeeze(x: &Tensor, axes: Option<&[isize]>) -> Result<Tensor> {
    let drop: Vec<usize> = match axes {
        None => (0..x.ndim()).filter(|&d| x.shape()[d] == 1).collect(),
        Some(a) => {
            let v = normalize_axes("squeeze", Some(a), x.ndim())?;
            if let Some(&d) = v.iter().find(|&&d| x.shape()[d] != 1) {
                return Err(value_err!(
                    "squeeze: cannot squeeze axis {d} of a tensor of shape {:?}: its size is {}, not 1",
                    x.shape(),
                    x.shape()[d]
                ));
            }
            v
        }
    };
    let shape: Vec<usize> = (0..x.ndim())
        .filter(|d| !drop.contains(d))
        .map(|d| x.shape()[d])
        .collect();
    reshape(x, &shape)
}

/// `x` broadcast to `shape` with numpy's rules: a view with stride 0 on the broadcast axes.
/// The gradient sums over them.
pub fn broadcast_to(x: &Tensor, shape: &[usize]) -> Result<Tensor> {
    checked_numel("broadcast_to", shape)?;
    let fits = broadcast_shapes("broadcast_to", x.shape(), shape)
        .map(|s| s.as_slice() == shape)
        .unwrap_or(false);
    if !fits {
        return Err(value_err!(
            "broadcast_to: cannot broadcast a tensor of shape {:?} to shape {:?}",
            x.shape(),
            shape
        ));
    }
    let strides = broadcast_strides(x.shape(), x.strides(), shape);
    let out = x.view(shape, &strides, x.offset());
    Ok(record("broadcast_to", &[x], out, || {
        let in_shape = x.shape().to_vec();
        move |g: &Tensor| Ok(vec![Some(sum_to_shape(g, &in_shape)?)])
    }))
}

/// One axis of an affine view: it walks input axis `src` (None: a new unit axis) in
/// steps of `step`, `len` times, from that input axis's start index.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ViewAxis {
    pub src: Option<usize>,
    pub step: usize,
    pub len: usize,
}

/// A recorded strided view of `x`: output axes `axes`, reading from input index `starts`
/// (one per input axis; axes not walked by any output axis are fixed there). The backward
/// scatters the gradient into zeros of the input's shape through the same geometry.
pub(crate) fn affine_view(
    op: &'static str,
    x: &Tensor,
    axes: &[ViewAxis],
    starts: &[usize],
) -> Tensor {
    let geometry = |strides: &[usize], offset: usize| -> (Vec<usize>, usize) {
        let st = axes
            .iter()
            .map(|a| a.src.map_or(0, |d| a.step * strides[d]))
            .collect();
        let off = offset
            + starts
                .iter()
                .zip(strides)
                .map(|(s, t)| s * t)
                .sum::<usize>();
        (st, off)
    };
    let shape: Vec<usize> = axes.iter().map(|a| a.len).collect();
    let (strides, offset) = geometry(x.strides(), x.offset());
    // an empty view reads nothing; keep its offset inside the storage
    let offset = if numel(&shape) == 0 { 0 } else { offset };
    let out = x.view(&shape, &strides, offset);
    record(op, &[x], out, || {
        let in_shape = x.shape().to_vec();
        let (st, base) = geometry(&contiguous_strides(&in_shape), 0);
        let tables: Tables = shape
            .iter()
            .zip(&st)
            .map(|(&n, &s)| strided_table(n, s))
            .collect();
        move |g: &Tensor| {
            let mut dx = vec![0.0f32; numel(&in_shape)];
            if !dx.is_empty() {
                scatter_add_tables(&mut dx, &tables, base, &g.f32_data()?);
            }
            Ok(vec![Some(Tensor::new_f32(dx, &in_shape))])
        }
    })
}

/// The piece `[start, start + len)` of `x` along `axis` (a view).
pub(crate) fn slice_axis(
    op: &'static str,
    x: &Tensor,
    axis: usize,
    start: usize,
    len: usize,
) -> Tensor {
    let axes: Vec<ViewAxis> = (0..x.ndim())
        .map(|d| ViewAxis {
            src: Some(d),
            step: 1,
            len: if d == axis { len } else { x.shape()[d] },
        })
        .collect();
    let mut starts = vec![0; x.ndim()];
    starts[axis] = start;
    affine_view(op, x, &axes, &starts)
}

/// Keras `slice`: the block of `shape` starting at `start` (a view); a size of -1 takes
/// everything to the end of that axis.
pub fn slice(x: &Tensor, start: &[usize], shape: &[isize]) -> Result<Tensor> {
    let nd = x.ndim();
    if start.len() != nd || shape.len() != nd {
        return Err(value_err!(
            "slice: start_indices {start:?} and shape {shape:?} must each have one entry per axis of the tensor of shape {:?}",
            x.shape()
        ));
    }
    let mut axes = Vec::with_capacity(nd);
    for d in 0..nd {
        let n = x.shape()[d];
        let len = match shape[d] {
            -1 if start[d] <= n => n - start[d],
            s if s >= 0 && start[d] + s as usize <= n => s as usize,
            _ => {
                return Err(value_err!(
                    "slice: start_indices {start:?} with shape {shape:?} exceed the tensor of shape {:?} on axis {d}",
                    x.shape()
                ))
            }
        };
        axes.push(ViewAxis {
            src: Some(d),
            step: 1,
            len,
        });
    }
    Ok(affine_view("slice", x, &axes, start))
}

/// Copies `x` through per-axis index maps: output index `i` along axis `d` reads input
/// index `maps[d][i]` (None: `fill`). The result, one axis per input axis, is laid out
/// as `out_shape` (same element count). The backward adds the gradient back through
/// the maps into zeros of the input's shape.
pub(crate) fn index_gather(
    op: &'static str,
    x: &Tensor,
    maps: Vec<Vec<Option<usize>>>,
    out_shape: &[usize],
    fill: f32,
) -> Tensor {
    let tables = |strides: &[usize]| -> Tables {
        maps.iter()
            .zip(strides)
            .map(|(m, &s)| m.iter().map(|i| i.map(|i| i * s)).collect())
            .collect()
    };
    let t = tables(x.strides());
    let out = match &**x.storage() {
        Storage::Cpu(CpuBuffer::F32(v)) => {
            Tensor::new_f32(gather_tables(v, &t, x.offset(), fill), out_shape)
        }
        Storage::Cpu(CpuBuffer::I64(v)) => Tensor::new_i64(
            gather_tables(v, &t, x.offset(), i64::from_f32(fill)),
            out_shape,
        ),
    };
    record(op, &[x], out, || {
        let in_shape = x.shape().to_vec();
        let t = tables(&contiguous_strides(&in_shape));
        move |g: &Tensor| {
            let mut dx = vec![0.0f32; numel(&in_shape)];
            if !dx.is_empty() {
                scatter_add_tables(&mut dx, &t, 0, &g.f32_data()?);
            }
            Ok(vec![Some(Tensor::new_f32(dx, &in_shape))])
        }
    })
}

/// The identity map of an axis of length `n`.
pub(crate) fn identity_map(n: usize) -> Vec<Option<usize>> {
    (0..n).map(Some).collect()
}

/// Reverses the order of elements along `axes` (all when None).
pub fn flip(x: &Tensor, axes: Option<&[isize]>) -> Result<Tensor> {
    let axes = normalize_axes("flip", axes, x.ndim())?;
    let maps = (0..x.ndim())
        .map(|d| {
            let n = x.shape()[d];
            if axes.contains(&d) {
                (0..n).rev().map(Some).collect()
            } else {
                identity_map(n)
            }
        })
        .collect();
    Ok(index_gather("flip", x, maps, x.shape(), 0.0))
}

/// Checks that all tensors share a dtype and returns it.
fn common_dtype(op: &str, xs: &[Tensor]) -> Result<DType> {
    let d = xs[0].dtype();
    if let Some(o) = xs.iter().find(|t| t.dtype() != d) {
        return Err(type_err!(
            "{op}: all tensors must have the same dtype, got {} and {}",
            d.name(),
            o.dtype().name()
        ));
    }
    Ok(d)
}

/// Interleaves row blocks: for each of `outer` rows, block `i` of `parts[i]` in turn.
fn concat_rows<T: Copy>(parts: &[Cow<'_, [T]>], blocks: &[usize], outer: usize) -> Vec<T> {
    let mut out = Vec::with_capacity(blocks.iter().sum::<usize>() * outer);
    for o in 0..outer {
        for (p, &b) in parts.iter().zip(blocks) {
            out.extend_from_slice(&p[o * b..(o + 1) * b]);
        }
    }
    out
}

/// Joins tensors along an existing axis; all other dimensions must match.
pub fn concatenate(xs: &[Tensor], axis: isize) -> Result<Tensor> {
    let Some(first) = xs.first() else {
        return Err(value_err!(
            "concatenate: need at least one tensor, got an empty list"
        ));
    };
    let nd = first.ndim();
    if nd == 0 {
        return Err(value_err!(
            "concatenate: zero-dimensional tensors cannot be concatenated"
        ));
    }
    let ax = normalize_axis("concatenate", axis, nd)?;
    for (i, t) in xs.iter().enumerate() {
        let same = t.ndim() == nd && (0..nd).all(|d| d == ax || t.shape()[d] == first.shape()[d]);
        if !same {
            return Err(value_err!(
                "concatenate: tensor {i} has shape {:?}, which does not match shape {:?} of tensor 0 except on axis {ax}",
                t.shape(),
                first.shape()
            ));
        }
    }
    let dtype = common_dtype("concatenate", xs)?;
    let mut shape = first.shape().to_vec();
    shape[ax] = checked_dim(
        "concatenate",
        xs.iter()
            .try_fold(0usize, |a, t| a.checked_add(t.shape()[ax])),
    )?;
    checked_numel("concatenate", &shape)?;
    let outer: usize = shape[..ax].iter().product();
    let inner: usize = shape[ax + 1..].iter().product();
    let blocks: Vec<usize> = xs.iter().map(|t| t.shape()[ax] * inner).collect();
    let out = match dtype {
        DType::F32 => {
            let parts = xs
                .iter()
                .map(|t| t.f32_data())
                .collect::<Result<Vec<_>>>()?;
            Tensor::new_f32(concat_rows(&parts, &blocks, outer), &shape)
        }
        DType::I64 => {
            let parts = xs
                .iter()
                .map(|t| t.i64_data())
                .collect::<Result<Vec<_>>>()?;
            Tensor::new_i64(concat_rows(&parts, &blocks, outer), &shape)
        }
    };
    let inputs: Vec<&Tensor> = xs.iter().collect();
    Ok(record("concatenate", &inputs, out, || {
        let lens: Vec<usize> = xs.iter().map(|t| t.shape()[ax]).collect();
        move |g: &Tensor| {
            let mut start = 0;
            Ok(lens
                .iter()
                .map(|&n| {
                    start += n;
                    Some(slice_axis("concatenate", g, ax, start - n, n))
                })
                .collect())
        }
    }))
}

/// Joins tensors of one shape along a new axis.
pub fn stack(xs: &[Tensor], axis: isize) -> Result<Tensor> {
    let Some(first) = xs.first() else {
        return Err(value_err!(
            "stack: need at least one tensor, got an empty list"
        ));
    };
    if let Some((i, t)) = xs
        .iter()
        .enumerate()
        .find(|(_, t)| t.shape() != first.shape())
    {
        return Err(value_err!(
            "stack: all tensors must have the same shape, got {:?} for tensor 0 and {:?} for tensor {i}",
            first.shape(),
            t.shape()
        ));
    }
    let ax = normalize_axis("stack", axis, first.ndim() + 1)? as isize;
    let expanded = xs
        .iter()
        .map(|t| expand_dims(t, &[ax]))
        .collect::<Result<Vec<_>>>()?;
    concatenate(&expanded, ax)
}

/// How `split` cuts an axis: into equal sections, or at the given indices (numpy rules:
/// negative indices count from the end, pieces may be empty).
#[derive(Clone, Debug)]
pub enum Split {
    Sections(usize),
    Indices(Vec<isize>),
}

/// Cuts `x` along `axis` into views.
pub fn split(x: &Tensor, how: &Split, axis: isize) -> Result<Vec<Tensor>> {
    if x.ndim() == 0 {
        return Err(value_err!("split: cannot split a zero-dimensional tensor"));
    }
    let ax = normalize_axis("split", axis, x.ndim())?;
    let n = x.shape()[ax];
    let bounds: Vec<(usize, usize)> = match how {
        Split::Sections(0) => {
            return Err(value_err!(
                "split: the number of sections must be at least 1, got 0"
            ))
        }
        Split::Sections(k) => {
            if n % k != 0 {
                return Err(value_err!(
                    "split: axis {ax} of size {n} (shape {:?}) cannot be split into {k} equal sections",
                    x.shape()
                ));
            }
            (0..*k).map(|i| (i * n / k, (i + 1) * n / k)).collect()
        }
        Split::Indices(points) => {
            // python slice semantics for each consecutive pair of cut points
            let clamp = |p: isize| -> usize {
                let p = if p < 0 { p + n as isize } else { p };
                p.clamp(0, n as isize) as usize
            };
            let mut cuts = vec![0usize];
            cuts.extend(points.iter().map(|&p| clamp(p)));
            cuts.push(n);
            cuts.windows(2).map(|w| (w[0], w[1].max(w[0]))).collect()
        }
    };
    Ok(bounds
        .into_iter()
        .map(|(a, b)| slice_axis("split", x, ax, a, b - a))
        .collect())
}

/// Repeats the whole tensor `reps[d]` times along each axis (numpy's `tile`: the shorter of
/// the tensor's rank and `reps` is padded with leading ones).
pub fn tile(x: &Tensor, reps: &[usize]) -> Result<Tensor> {
    let nd = x.ndim().max(reps.len());
    let mut in_shape = vec![1; nd - x.ndim()];
    in_shape.extend_from_slice(x.shape());
    let mut r = vec![1; nd - reps.len()];
    r.extend_from_slice(reps);
    let xv = reshape(x, &in_shape)?;
    let out_shape = in_shape
        .iter()
        .zip(&r)
        .map(|(n, k)| checked_dim("tile", n.checked_mul(*k)))
        .collect::<Result<Vec<_>>>()?;
    checked_numel("tile", &out_shape)?;
    let maps = in_shape
        .iter()
        .zip(&r)
        .map(|(&n, &k)| (0..n * k).map(|i| Some(i % n)).collect())
        .collect();
    Ok(index_gather("tile", &xv, maps, &out_shape, 0.0))
}

/// Repeats each element along `axis` (flattened first when None): `repeats` is one count
/// for all elements or one per element.
pub fn repeat(x: &Tensor, repeats: &[usize], axis: Option<isize>) -> Result<Tensor> {
    let (xv, ax) = match axis {
        None => (flatten(x)?, 0),
        Some(a) => (x.clone(), normalize_axis("repeat", a, x.ndim())?),
    };
    let n = xv.shape()[ax];
    let counts: Vec<usize> = match repeats.len() {
        1 => vec![repeats[0]; n],
        k if k == n => repeats.to_vec(),
        k => {
            return Err(value_err!(
                "repeat: {k} repeat counts do not match axis {ax} of size {n} (shape {:?})",
                xv.shape()
            ))
        }
    };
    let mut out_shape = xv.shape().to_vec();
    out_shape[ax] = checked_dim(
        "repeat",
        counts.iter().try_fold(0usize, |a, &c| a.checked_add(c)),
    )?;
    checked_numel("repeat", &out_shape)?;
    let map: Vec<Option<usize>> = counts
        .iter()
        .enumerate()
        .flat_map(|(i, &c)| std::iter::repeat(Some(i)).take(c))
        .collect();
    let maps = (0..xv.ndim())
        .map(|d| {
            if d == ax {
                map.clone()
            } else {
                identity_map(xv.shape()[d])
            }
        })
        .collect();
    Ok(index_gather("repeat", &xv, maps, &out_shape, 0.0))
}

/// How `pad` fills the border (numpy's modes of the same names).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PadMode {
    Constant,
    Edge,
    Reflect,
    Symmetric,
    Wrap,
}

impl PadMode {
    pub fn parse(mode: &str) -> Result<PadMode> {
        Ok(match mode {
            "constant" => PadMode::Constant,
            "edge" => PadMode::Edge,
            "reflect" => PadMode::Reflect,
            "symmetric" => PadMode::Symmetric,
            "wrap" => PadMode::Wrap,
            other => {
                return Err(value_err!(
                    "pad: unsupported mode '{other}'; expected one of 'constant', 'edge', 'reflect', 'symmetric', 'wrap'"
                ))
            }
        })
    }
}

/// The input index read by each output index of an axis of length `n` padded by
/// `before`/`after` (None: the constant). Reflections and wraps repeat periodically, as
/// numpy's do for pads wider than the axis.
fn pad_map(n: usize, before: usize, after: usize, mode: PadMode) -> Vec<Option<usize>> {
    (0..before + n + after)
        .map(|i| {
            let j = i as isize - before as isize;
            if (0..n as isize).contains(&j) {
                return Some(j as usize);
            }
            let n = n as isize;
            let k = match mode {
                PadMode::Constant => return None,
                PadMode::Edge => j.clamp(0, n - 1),
                PadMode::Wrap => j.rem_euclid(n),
                PadMode::Reflect if n == 1 => 0,
                PadMode::Reflect => {
                    let k = j.rem_euclid(2 * (n - 1));
                    if k >= n {
                        2 * (n - 1) - k
                    } else {
                        k
                    }
                }
                PadMode::Symmetric => {
                    let k = j.rem_euclid(2 * n);
                    if k >= n {
                        2 * n - 1 - k
                    } else {
                        k
                    }
                }
            };
            Some(k as usize)
        })
        .collect()
}

/// Pads each axis `d` with `pad_width[d] = (before, after)` elements.
pub fn pad(
    x: &Tensor,
    pad_width: &[(usize, usize)],
    mode: PadMode,
    constant: f32,
) -> Result<Tensor> {
    if pad_width.len() != x.ndim() {
        return Err(value_err!(
            "pad: pad_width has {} (before, after) pairs but the tensor of shape {:?} has {} axes",
            pad_width.len(),
            x.shape(),
            x.ndim()
        ));
    }
    let out_shape = x
        .shape()
        .iter()
        .zip(pad_width)
        .map(|(&n, &(b, a))| checked_dim("pad", n.checked_add(b).and_then(|m| m.checked_add(a))))
        .collect::<Result<Vec<_>>>()?;
    checked_numel("pad", &out_shape)?;
    let mut maps = Vec::with_capacity(x.ndim());
    for (d, (&n, &(b, a))) in x.shape().iter().zip(pad_width).enumerate() {
        if n == 0 && b + a > 0 && mode != PadMode::Constant {
            return Err(value_err!(
                "pad: cannot extend the empty axis {d} of a tensor of shape {:?} in mode {mode:?}; only 'constant' can",
                x.shape()
            ));
        }
        maps.push(pad_map(n, b, a, mode));
    }
    Ok(index_gather("pad", x, maps, &out_shape, constant))
}
