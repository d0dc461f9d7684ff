//! Shapes, strides and the numpy broadcasting rules.
use crate::error::Result;
use crate::value_err;
use smallvec::SmallVec;

/// Dimensions of a tensor; up to 6 dims live inline.
pub type Shape = SmallVec<[usize; 6]>;
/// Strides in elements (0 for a broadcast dimension).
pub type Strides = SmallVec<[usize; 6]>;

pub fn numel(shape: &[usize]) -> usize {
    shape.iter().product()
}

/// Row-major strides of a contiguous tensor of this shape.
pub fn contiguous_strides(shape: &[usize]) -> Strides {
    let mut s: Strides = SmallVec::from_elem(1, shape.len());
    for i in (0..shape.len().saturating_sub(1)).rev() {
        s[i] = s[i + 1] * shape[i + 1].max(1);
    }
    s
}

/// The broadcast shape of two shapes (numpy rules), or an error naming `op` and both shapes.
pub fn broadcast_shapes(op: &str, a: &[usize], b: &[usize]) -> Result<Shape> {
    let n = a.len().max(b.len());
    let mut out: Shape = SmallVec::from_elem(1, n);
    for i in 0..n {
        let da = if i + a.len() >= n {
            a[i + a.len() - n]
        } else {
            1
        };
        let db = if i + b.len() >= n {
            b[i + b.len() - n]
        } else {
            1
        };
        out[i] = if da == db || db == 1 {
            da
        } else if da == 1 {
            db
        } else {
            return Err(value_err!(
                "{op}: shapes {a:?} and {b:?} cannot be broadcast together (dimension {i}: {da} vs {db})"
            ));
        };
    }
    Ok(out)
}

/// Strides that view a tensor of `shape`/`strides` as the larger `target` shape
/// (broadcast dimensions get stride 0). The caller guarantees compatibility.
pub fn broadcast_strides(shape: &[usize], strides: &[usize], target: &[usize]) -> Strides {
    let n = target.len();
    let off = n - shape.len();
    let mut out: Strides = SmallVec::from_elem(0, n);
    for i in 0..shape.len() {
        out[i + off] = if shape[i] == 1 && target[i + off] != 1 {
            0
        } else {
            strides[i]
        };
    }
    out
}

/// Resolves a possibly negative axis against `ndim`, naming `op` on error.
pub fn normalize_axis(op: &str, axis: isize, ndim: usize) -> Result<usize> {
    let a = if axis < 0 { axis + ndim as isize } else { axis };
    if a < 0 || a as usize >= ndim {
        return Err(value_err!(
            "{op}: axis {axis} is out of range for a tensor of rank {ndim}"
        ));
    }
    Ok(a as usize)
}

/// Resolves a list of axes (None = all), sorted and de-duplicated.
pub fn normalize_axes(op: &str, axes: Option<&[isize]>, ndim: usize) -> Result<Vec<usize>> {
    match axes {
        None => Ok((0..ndim).collect()),
        Some(ax) => {
            let mut v = ax
                .iter()
                .map(|&a| normalize_axis(op, a, ndim))
                .collect::<Result<Vec<_>>>()?;
            v.sort_unstable();
            let before = v.len();
            v.dedup();
            if v.len() != before {
                return Err(value_err!("{op}: repeated axis in {ax:?}"));
            }
            Ok(v)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broadcasting_follows_numpy() {
        assert_eq!(
            broadcast_shapes("add", &[3, 1, 5], &[4, 1])
                .unwrap()
                .as_slice(),
            &[3, 4, 5]
        );
        assert_eq!(broadcast_shapes("add", &[], &[2]).unwrap().as_slice(), &[2]);
        let e = broadcast_shapes("add", &[3, 2], &[3]).unwrap_err();
        assert!(e.to_string().contains("[3, 2]") && e.to_string().contains("add"));
    }

    #[test]
    fn axes_normalise() {
        assert_eq!(normalize_axis("sum", -1, 3).unwrap(), 2);
        assert!(normalize_axis("sum", 3, 3).is_err());
        assert_eq!(
            normalize_axes("sum", Some(&[-1, 0]), 3).unwrap(),
            vec![0, 2]
        );
    }
}
