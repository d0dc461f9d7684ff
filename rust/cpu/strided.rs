//! Gathering strided (non-contiguous or broadcast) data into row-major order, and the
//! per-axis offset tables that express every copying shape op (take, pad, tile, repeat,
//! reversed slices) as one gather forward and one scatter-add backward.
use super::pool::{self, PAR_MIN_ELEMS};
use rayon::prelude::*;

/// An element type the copying kernels move around.
pub trait Elem: Copy + Send + Sync + 'static {
    fn from_f32(v: f32) -> Self;
}

impl Elem for f32 {
    fn from_f32(v: f32) -> Self {
        v
    }
}

impl Elem for i64 {
    fn from_f32(v: f32) -> Self {
        v as i64
    }
}

/// Per output axis, the storage offset contributed by each output index along it, or
/// `None` where that index reads no input (padding).
pub type Tables = Vec<Vec<Option<usize>>>;

/// The offset table of a plain strided axis: index `i` reads `i * stride`.
pub fn strided_table(len: usize, stride: usize) -> Vec<Option<usize>> {
    (0..len).map(|i| Some(i * stride)).collect()
}

/// The storage offset of the first element of output row `r` (all axes but the last),
/// or None when the row reads no input.
#[inline]
fn row_base(tables: &[Vec<Option<usize>>], base: usize, mut r: usize) -> Option<usize> {
    let mut b = base;
    for t in tables[..tables.len() - 1].iter().rev() {
        let i = r % t.len();
        r /= t.len();
        b += t[i]?;
    }
    Some(b)
}

/// Output element `(i_0, .., i_k)` = `src[base + tables[0][i_0] + .. + tables[k][i_k]]`,
/// or `fill` where any table entry is None. The output is row-major with shape
/// `tables[d].len()`.
pub fn gather_tables<T: Elem>(
    src: &[T],
    tables: &[Vec<Option<usize>>],
    base: usize,
    fill: T,
) -> Vec<T> {
    let n: usize = tables.iter().map(Vec::len).product();
    let mut out = vec![fill; n];
    if n == 0 {
        return out;
    }
    let Some(last) = tables.last() else {
        out[0] = src[base];
        return out;
    };
    let row = |r: usize, o: &mut [T]| {
        if let Some(b) = row_base(tables, base, r) {
            for (o, t) in o.iter_mut().zip(last) {
                if let Some(t) = t {
                    *o = src[b + t];
                }
            }
        }
    };
    if n < PAR_MIN_ELEMS {
        out.chunks_mut(last.len())
            .enumerate()
            .for_each(|(r, o)| row(r, o));
    } else {
        pool::install(|| {
            out.par_chunks_mut(last.len())
                .enumerate()
                .for_each(|(r, o)| row(r, o))
        });
    }
    out
}

/// The adjoint of `gather_tables`: adds each element of `src` (row-major over the
/// tables' lengths) into `dst` at the offset it was gathered from. Serial, since
/// several output elements may come from one input element.
pub fn scatter_add_tables(
    dst: &mut [f32],
    tables: &[Vec<Option<usize>>],
    base: usize,
    src: &[f32],
) {
    let Some(last) = tables.last() else {
        if let Some(&v) = src.first() {
            dst[base] += v;
        }
        return;
    };
    if last.is_empty() {
        return;
    }
    for (r, row) in src.chunks(last.len()).enumerate() {
        if let Some(b) = row_base(tables, base, r) {
            for (&v, t) in row.iter().zip(last) {
                if let Some(t) = t {
                    dst[b + t] += v;
                }
            }
        }
    }
}

/// The (cols x rows) transpose of a row-major (rows x cols) matrix, copied in square
/// tiles so that the reads and the writes of a tile each stay within a few cache lines
/// (an element-by-element copy strides a whole row per write, a page every few writes).
pub fn transpose<T: Copy + Default>(src: &[T], rows: usize, cols: usize) -> Vec<T> {
    const TILE: usize = 16;
    let mut out = vec![T::default(); rows * cols];
    for r0 in (0..rows).step_by(TILE) {
        for c0 in (0..cols).step_by(TILE) {
            for r in r0..(r0 + TILE).min(rows) {
                for c in c0..(c0 + TILE).min(cols) {
                    out[c * rows + r] = src[r * cols + c];
                }
            }
        }
    }
    out
}

/// Copies the elements of a strided view into a new row-major vector.
pub fn gather<T: Copy>(src: &[T], shape: &[usize], strides: &[usize], offset: usize) -> Vec<T> {
    let n: usize = shape.iter().product();
    let mut out = Vec::with_capacity(n);
    if n == 0 {
        return out;
    }
    if shape.is_empty() {
        out.push(src[offset]);
        return out;
    }
    let nd = shape.len();
    let (inner, inner_stride) = (shape[nd - 1], strides[nd - 1]);
    let mut idx = vec![0usize; nd - 1];
    let mut base = offset;
    loop {
        if inner_stride == 1 {
            out.extend_from_slice(&src[base..base + inner]);
        } else {
            out.extend((0..inner).map(|j| src[base + j * inner_stride]));
        }
        // advance the outer multi-index (odometer)
        let mut d = nd - 1;
        loop {
            if d == 0 {
                return out;
            }
            d -= 1;
            idx[d] += 1;
            base += strides[d];
            if idx[d] < shape[d] {
                break;
            }
            base -= strides[d] * shape[d];
            idx[d] = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gathers_a_transpose_and_a_broadcast() {
        let a: Vec<i32> = (0..6).collect(); // 2x3
        assert_eq!(gather(&a, &[3, 2], &[1, 3], 0), vec![0, 3, 1, 4, 2, 5]);
        assert_eq!(gather(&a, &[2, 3], &[0, 1], 3), vec![3, 4, 5, 3, 4, 5]);
        assert_eq!(gather(&a, &[], &[], 4), vec![4]);
    }

    #[test]
    fn transposes_in_tiles_at_odd_sizes() {
        for (rows, cols) in [(1, 1), (3, 40), (37, 17), (16, 32)] {
            let a: Vec<i32> = (0..(rows * cols) as i32).collect();
            let t = transpose(&a, rows, cols);
            for r in 0..rows {
                for c in 0..cols {
                    assert_eq!(t[c * rows + r], a[r * cols + c]);
                }
            }
        }
    }

    #[test]
    fn tables_gather_and_scatter_are_adjoint() {
        let a: Vec<f32> = (0..6).map(|v| v as f32).collect(); // 2x3
                                                              // rows reversed, columns [2, pad, 0]
        let t = vec![vec![Some(3), Some(0)], vec![Some(2), None, Some(0)]];
        assert_eq!(
            gather_tables(&a, &t, 0, -1.0),
            vec![5., -1., 3., 2., -1., 0.]
        );
        let mut d = vec![0.0; 6];
        scatter_add_tables(&mut d, &t, 0, &[1., 2., 3., 4., 5., 6.]);
        assert_eq!(d, vec![6., 0., 4., 3., 0., 1.]);
        assert_eq!(gather_tables(&a, &[], 4, 0.0), vec![4.0]);
        assert_eq!(strided_table(3, 2), vec![Some(0), Some(2), Some(4)]);
    }
}
