//! Reductions over any set of axes, generic over the combining function, plus the
//! arg-reductions and the exclusive products that reduction gradients need.
//!
//! Large inputs are split across the pool: along the leading axis when it is kept (each
//! task owns a block of the output), or into partial results combined with the same
//! function when it is reduced (so `f` must be associative with identity `init`).
use super::pool::{self, PAR_MIN_ELEMS};
use pulp::Arch;
use rayon::prelude::*;

/// Folds a contiguous row with 16 independent accumulators (so the loop vectorises),
/// then combines them.
#[inline(always)]
fn fold_row(row: &[f32], init: f32, f: &impl Fn(f32, f32) -> f32) -> f32 {
    let mut acc = [init; 16];
    let mut chunks = row.chunks_exact(16);
    for c in &mut chunks {
        for i in 0..16 {
            acc[i] = f(acc[i], c[i]);
        }
    }
    let mut r = init;
    for &a in &acc {
        r = f(r, a);
    }
    for &v in chunks.remainder() {
        r = f(r, v);
    }
    r
}

/// Drops size-1 axes and merges neighbouring axes that are both reduced or both kept:
/// the same reduction over fewer, longer axes.
fn coalesce(shape: &[usize], reduce: &[bool]) -> (Vec<usize>, Vec<bool>) {
    let (mut s, mut r): (Vec<usize>, Vec<bool>) = (Vec::new(), Vec::new());
    for (&d, &red) in shape.iter().zip(reduce) {
        if d == 1 {
            continue;
        }
        match (s.last_mut(), r.last()) {
            (Some(last), Some(&lr)) if lr == red => *last *= d,
            _ => {
                s.push(d);
                r.push(red);
            }
        }
    }
    (s, r)
}

/// Reduces `x` (row-major with `shape`) over the axes where `reduce[d]` is true, starting
/// every output from the identity `init` and combining with `f`. The result is row-major
/// over the kept axes (reduced axes dropped). Runs on the pool when `x` is large.
pub fn reduce_axes(
    x: &[f32],
    shape: &[usize],
    reduce: &[bool],
    init: f32,
    f: impl Fn(f32, f32) -> f32 + Sync + Send,
) -> Vec<f32> {
    let out_len: usize = shape
        .iter()
        .zip(reduce)
        .filter(|(_, &r)| !r)
        .map(|(&d, _)| d)
        .product();
    let mut out = vec![init; out_len];
    let n: usize = shape.iter().product();
    if n == 0 {
        return out;
    }
    let (shape, reduce) = coalesce(shape, reduce);
    if shape.is_empty() {
        out[0] = f(init, x[0]);
        return out;
    }
    let threads = pool::num_threads();
    if n < PAR_MIN_ELEMS || (threads < 2 && !reduce[0]) {
        reduce_into(&mut out, x, &shape, &reduce, init, &f);
        return out;
    }
    let lead = shape[0];
    let in_block = n / lead;
    let rows = lead.div_ceil(4 * threads).max(1);
    if !reduce[0] {
        // each task reduces a block of leading rows into its own block of the output
        let out_block = out_len / lead;
        pool::install(|| {
            out.par_chunks_mut(rows * out_block)
                .zip(x.par_chunks(rows * in_block))
                .for_each(|(o, xi)| {
                    let mut sub = shape.clone();
                    sub[0] = xi.len() / in_block;
                    reduce_into(o, xi, &sub, &reduce, init, &f);
                })
        });
    } else {
        // the leading axis is reduced: partial results per block, then combined in order.
        // The blocks depend on the size alone, so results do not change with the thread count.
        let blocks = (n / PAR_MIN_ELEMS).clamp(1, 64);
        let rows = lead.div_ceil(blocks);
        let partials: Vec<Vec<f32>> = pool::install(|| {
            x.par_chunks(rows * in_block)
                .map(|xi| {
                    let mut sub = shape.clone();
                    sub[0] = xi.len() / in_block;
                    let mut o = vec![init; out_len];
                    reduce_into(&mut o, xi, &sub, &reduce, init, &f);
                    o
                })
                .collect()
        });
        for p in &partials {
            for (o, &v) in out.iter_mut().zip(p) {
                *o = f(*o, v);
            }
        }
    }
    out
}

/// The serial kernel: folds `x` into `out` (pre-filled with `init`). `shape` has no
/// size-0 axes and at least one axis.
fn reduce_into(
    out: &mut [f32],
    x: &[f32],
    shape: &[usize],
    reduce: &[bool],
    init: f32,
    f: &impl Fn(f32, f32) -> f32,
) {
    let nd = shape.len();
    // output stride of each input axis (0 for reduced axes)
    let mut ostride = vec![0usize; nd];
    let mut s = 1;
    for d in (0..nd).rev() {
        if !reduce[d] {
            ostride[d] = s;
            s *= shape[d];
        }
    }
    let inner = shape[nd - 1];
    let last_reduced = reduce[nd - 1];
    Arch::new().dispatch(
        #[inline(always)]
        || {
            let mut idx = vec![0usize; nd];
            let mut obase = 0usize;
            for row in x.chunks_exact(inner) {
                if last_reduced {
                    let o = &mut out[obase];
                    *o = f(*o, fold_row(row, init, f));
                } else {
                    for (o, &v) in out[obase..obase + inner].iter_mut().zip(row) {
                        *o = f(*o, v);
                    }
                }
                // odometer over the outer axes
                let mut d = nd - 1;
                while d > 0 {
                    d -= 1;
                    idx[d] += 1;
                    obase += ostride[d];
                    if idx[d] < shape[d] {
                        break;
                    }
                    obase -= ostride[d] * shape[d];
                    idx[d] = 0;
                }
            }
        },
    );
}

/// Sum over the flagged axes.
pub fn sum_axes(x: &[f32], shape: &[usize], reduce: &[bool]) -> Vec<f32> {
    reduce_axes(x, shape, reduce, 0.0, |a, b| a + b)
}

/// For a row-major `[outer, len, inner]` array, the index along the middle axis of the
/// first element that no later element beats (`better(a, b)`: `a` beats `b`), for each
/// `(outer, inner)` pair. `len` must be at least 1.
pub fn arg_reduce(
    x: &[f32],
    outer: usize,
    len: usize,
    inner: usize,
    better: impl Fn(f32, f32) -> bool + Sync + Send,
) -> Vec<i64> {
    let mut out = vec![0i64; outer * inner];
    let block = |o: usize, res: &mut [i64]| {
        let base = o * len * inner;
        if inner == 1 {
            // one contiguous row
            let row = &x[base..base + len];
            let (mut bi, mut bv) = (0, row[0]);
            for (i, &v) in row.iter().enumerate().skip(1) {
                if better(v, bv) {
                    (bi, bv) = (i, v);
                }
            }
            res[0] = bi as i64;
            return;
        }
        let mut best: Vec<f32> = x[base..base + inner].to_vec();
        for r in 1..len {
            let row = &x[base + r * inner..base + (r + 1) * inner];
            for ((b, i), &v) in best.iter_mut().zip(res.iter_mut()).zip(row) {
                if better(v, *b) {
                    *b = v;
                    *i = r as i64;
                }
            }
        }
    };
    if x.len() < PAR_MIN_ELEMS || inner == 0 {
        out.chunks_mut(inner.max(1))
            .enumerate()
            .for_each(|(o, r)| block(o, r));
    } else {
        pool::install(|| {
            out.par_chunks_mut(inner)
                .enumerate()
                .for_each(|(o, r)| block(o, r))
        });
    }
    out
}

/// For each row of a row-major `[rows, len]` array, `g[row]` times the product of all the
/// row's other elements (the gradient of a product, exact when elements are zero).
pub fn exclusive_products(x: &[f32], len: usize, g: &[f32]) -> Vec<f32> {
    let mut out = vec![0.0f32; x.len()];
    if len == 0 {
        return out;
    }
    for ((o, row), &gr) in out.chunks_mut(len).zip(x.chunks(len)).zip(g) {
        // prefix products left to right, then multiply in suffix products right to left
        let mut acc = gr;
        for (o, &v) in o.iter_mut().zip(row) {
            *o = acc;
            acc *= v;
        }
        let mut acc = 1.0f32;
        for (o, &v) in o.iter_mut().zip(row).rev() {
            *o *= acc;
            acc *= v;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_over_any_axes() {
        let x: Vec<f32> = (0..24).map(|v| v as f32).collect(); // 2x3x4
        assert_eq!(
            sum_axes(&x, &[2, 3, 4], &[true, false, false]),
            (0..12).map(|i| (2 * i + 12) as f32).collect::<Vec<_>>()
        );
        assert_eq!(
            sum_axes(&x, &[2, 3, 4], &[false, false, true]),
            vec![6., 22., 38., 54., 70., 86.]
        );
        assert_eq!(sum_axes(&x, &[2, 3, 4], &[true, true, true]), vec![276.]);
        assert_eq!(
            sum_axes(&x, &[2, 3, 4], &[false, true, false]),
            vec![12., 15., 18., 21., 48., 51., 54., 57.]
        );
        assert_eq!(
            sum_axes(&x, &[2, 1, 3, 1, 4], &[false, true, true, false, true]),
            vec![66., 210.]
        );
    }

    /// The pooled paths (leading axis kept, leading axis reduced) agree with a naive sum.
    #[test]
    fn parallel_paths_match_naive() {
        let (a, b, c) = (37, 29, 41); // > PAR_MIN_ELEMS in total
        let x: Vec<f32> = (0..a * b * c).map(|i| ((i * 31) % 17) as f32).collect();
        let at = |i: usize, j: usize, k: usize| x[(i * b + j) * c + k];
        let r = sum_axes(&x, &[a, b, c], &[false, true, false]);
        for i in 0..a {
            for k in 0..c {
                let want: f32 = (0..b).map(|j| at(i, j, k)).sum();
                assert_eq!(r[i * c + k], want);
            }
        }
        let r = sum_axes(&x, &[a, b, c], &[true, false, true]);
        for (j, &got) in r.iter().enumerate() {
            let want: f32 = (0..a)
                .flat_map(|i| (0..c).map(move |k| (i, k)))
                .map(|(i, k)| at(i, j, k))
                .sum();
            assert_eq!(got, want);
        }
        let m = reduce_axes(&x, &[a * b * c], &[true], f32::NEG_INFINITY, f32::max);
        assert_eq!(m, vec![16.0]);
    }

    #[test]
    fn arg_reduce_takes_the_first_extreme() {
        // [2, 3, 2]
        let x = [1., 5., 3., 5., 3., 0., 9., 9., 9., 1., 0., 9.];
        assert_eq!(arg_reduce(&x, 2, 3, 2, |a, b| a > b), vec![1, 0, 0, 0]);
        assert_eq!(arg_reduce(&x, 2, 3, 2, |a, b| a < b), vec![0, 2, 2, 1]);
    }

    #[test]
    fn exclusive_products_handle_zeros() {
        let x = [2., 0., 3., 1., 2., 4.];
        assert_eq!(
            exclusive_products(&x, 3, &[1.0, 2.0]),
            vec![0., 6., 0., 16., 8., 4.]
        );
    }
}
