//! Reductions over any set of axes, generic over the combining function.
use pulp::Arch;

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

/// Reduces `x` (row-major with `shape`) over the axes where `reduce[d]` is true, starting
/// every output from the identity `init` and combining with `f`. The result is row-major over the kept
/// axes (reduced axes dropped).
pub fn reduce_axes(
    x: &[f32],
    shape: &[usize],
    reduce: &[bool],
    init: f32,
    f: impl Fn(f32, f32) -> f32,
) -> Vec<f32> {
    let nd = shape.len();
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
    if nd == 0 {
        out[0] = f(init, x[0]);
        return out;
    }
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
                    obase_fold(&mut out[obase], row, init, &f);
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
    out
}

#[inline(always)]
fn obase_fold(o: &mut f32, row: &[f32], identity: f32, f: &impl Fn(f32, f32) -> f32) {
    *o = f(*o, fold_row(row, identity, f));
}

/// Sum over the flagged axes.
pub fn sum_axes(x: &[f32], shape: &[usize], reduce: &[bool]) -> Vec<f32> {
    reduce_axes(x, shape, reduce, 0.0, |a, b| a + b)
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
    }
}
