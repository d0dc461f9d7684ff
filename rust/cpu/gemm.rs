//! f32 matrix multiply over strided operands (so transposes in backward are free),
//! on the `gemm` crate: cache-blocked, SIMD with run-time dispatch, rayon-parallel.
use super::pool;
use gemm::Parallelism;

/// A read-only strided matrix: element (i, j) is `data[offset + i*rs + j*cs]`.
#[derive(Clone, Copy)]
pub struct MatRef<'a> {
    pub data: &'a [f32],
    pub offset: usize,
    pub rs: isize,
    pub cs: isize,
}

impl<'a> MatRef<'a> {
    /// A row-major (rows x cols) matrix.
    pub fn row_major(data: &'a [f32], cols: usize) -> Self {
        MatRef {
            data,
            offset: 0,
            rs: cols as isize,
            cs: 1,
        }
    }

    /// The same matrix transposed (a view).
    pub fn t(self) -> Self {
        MatRef {
            rs: self.cs,
            cs: self.rs,
            ..self
        }
    }
}

/// Below this many multiply-adds (`m*n*k`) a product runs on the calling thread: smaller
/// ones finish in a few microseconds, less than waking the pool costs.
pub const PAR_MIN_FLOPS: usize = 1 << 21;

/// `c = a @ b` (or `c += a @ b` when `accumulate`), with `a` (m x k), `b` (k x n) and `c`
/// row-major (m x n) with row stride `ldc`. Large products use the ember pool's threads.
#[allow(clippy::too_many_arguments)]
pub fn sgemm(
    m: usize,
    n: usize,
    k: usize,
    a: MatRef,
    b: MatRef,
    c: &mut [f32],
    ldc: usize,
    accumulate: bool,
) {
    let threads = pool::num_threads();
    if threads > 1 && m * n * k >= PAR_MIN_FLOPS {
        pool::install(|| {
            run(
                m,
                n,
                k,
                a,
                b,
                c,
                ldc,
                accumulate,
                Parallelism::Rayon(threads),
            )
        })
    } else {
        run(m, n, k, a, b, c, ldc, accumulate, Parallelism::None)
    }
}

/// As `sgemm`, always on the calling thread: for callers that are already parallel
/// (one product per task).
#[allow(clippy::too_many_arguments)]
pub fn sgemm_serial(
    m: usize,
    n: usize,
    k: usize,
    a: MatRef,
    b: MatRef,
    c: &mut [f32],
    ldc: usize,
    accumulate: bool,
) {
    run(m, n, k, a, b, c, ldc, accumulate, Parallelism::None)
}

#[allow(clippy::too_many_arguments)]
fn run(
    m: usize,
    n: usize,
    k: usize,
    a: MatRef,
    b: MatRef,
    c: &mut [f32],
    ldc: usize,
    accumulate: bool,
    par: Parallelism,
) {
    if m == 0 || n == 0 {
        return;
    }
    assert!(
        c.len() >= (m - 1) * ldc + n,
        "sgemm: output buffer too small"
    );
    if k == 0 {
        if !accumulate {
            for i in 0..m {
                c[i * ldc..i * ldc + n].fill(0.0);
            }
        }
        return;
    }
    // SAFETY: the operands' extents were checked by the callers (ops::matmul) against
    // their storage; `c` was checked above.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            c.as_mut_ptr(),
            1,
            ldc as isize,
            accumulate,
            a.data.as_ptr().add(a.offset),
            a.cs,
            a.rs,
            b.data.as_ptr().add(b.offset),
            b.cs,
            b.rs,
            if accumulate { 1.0 } else { 0.0 },
            1.0,
            false,
            false,
            false,
            par,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(m: usize, n: usize, k: usize, a: &[f32], b: &[f32]) -> Vec<f32> {
        let mut c = vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                c[i * n + j] = (0..k).map(|p| a[i * k + p] * b[p * n + j]).sum();
            }
        }
        c
    }

    #[test]
    fn matches_naive_on_odd_shapes_and_transposes() {
        for &(m, n, k) in &[(1, 1, 1), (3, 5, 7), (17, 33, 65), (130, 70, 90)] {
            let a: Vec<f32> = (0..m * k)
                .map(|i| ((i * 7 % 13) as f32 - 6.0) / 5.0)
                .collect();
            let b: Vec<f32> = (0..k * n)
                .map(|i| ((i * 5 % 11) as f32 - 5.0) / 4.0)
                .collect();
            let want = naive(m, n, k, &a, &b);
            let mut c = vec![0.0; m * n];
            sgemm(
                m,
                n,
                k,
                MatRef::row_major(&a, k),
                MatRef::row_major(&b, n),
                &mut c,
                n,
                false,
            );
            for (x, y) in c.iter().zip(&want) {
                assert!(
                    (x - y).abs() < 1e-3 * (1.0 + y.abs()),
                    "{m}x{n}x{k}: {x} vs {y}"
                );
            }
            // b given transposed in memory (n x k), viewed back
            let bt: Vec<f32> = (0..n * k).map(|i| b[(i % k) * n + i / k]).collect();
            sgemm(
                m,
                n,
                k,
                MatRef::row_major(&a, k),
                MatRef::row_major(&bt, k).t(),
                &mut c,
                n,
                false,
            );
            for (x, y) in c.iter().zip(&want) {
                assert!((x - y).abs() < 1e-3 * (1.0 + y.abs()));
            }
        }
    }
}
