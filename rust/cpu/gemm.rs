//! f32 matrix multiply over strided operands (so transposes in backward are free).
//!
//! Two cache-blocked, rayon-parallel kernels with run-time SIMD dispatch (AVX-512, AVX2+FMA,
//! ...), chosen by the layout of `b` (measured in benches/README.md): the `gemm` crate when
//! `b`'s rows are contiguous (the forward `x @ w` and the kernel gradient `x^T @ g`), faer's
//! matmul otherwise (the input gradient `g @ w^T`, where `gemm` packs `b` slowly: 60 against
//! 105 GFLOP/s on one core). Both run in the ember pool (`pool::install`).
use super::pool;

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
        pool::install(|| run(m, n, k, a, b, c, ldc, accumulate, threads))
    } else {
        run(m, n, k, a, b, c, ldc, accumulate, 1)
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
    run(m, n, k, a, b, c, ldc, accumulate, 1)
}

/// The product on `threads` threads of the current rayon pool.
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
    threads: usize,
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
    // SAFETY (both calls): the operands' extents were checked by the callers (ops::matmul)
    // against their storage; `c` was checked above.
    #[cfg(target_arch = "x86_64")]
    if b.cs != 1 && n > 1 {
        use faer::{linalg::matmul::matmul, Accum, MatMut, MatRef as FaerRef, Par};
        unsafe {
            let fa = FaerRef::from_raw_parts(a.data.as_ptr().add(a.offset), m, k, a.rs, a.cs);
            let fb = FaerRef::from_raw_parts(b.data.as_ptr().add(b.offset), k, n, b.rs, b.cs);
            let fc = MatMut::from_raw_parts_mut(c.as_mut_ptr(), m, n, ldc as isize, 1);
            let accum = if accumulate {
                Accum::Add
            } else {
                Accum::Replace
            };
            let par = if threads > 1 {
                Par::rayon(threads)
            } else {
                Par::Seq
            };
            matmul(fc, accum, fa, fb, 1.0f32, par);
        }
        return;
    }
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
            if threads > 1 {
                gemm::Parallelism::Rayon(threads)
            } else {
                gemm::Parallelism::None
            },
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
        // the last shape is large enough to run on the pool's threads
        for &(m, n, k) in &[
            (1, 1, 1),
            (3, 5, 7),
            (17, 33, 65),
            (130, 70, 90),
            (300, 200, 100),
        ] {
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
            // accumulating into c, each operand given transposed, c with a wider row stride
            let at: Vec<f32> = (0..m * k).map(|i| a[(i % m) * k + i / m]).collect();
            let ldc = n + 3;
            for b_view in [MatRef::row_major(&b, n), MatRef::row_major(&bt, k).t()] {
                let mut c2 = vec![1.0f32; (m - 1) * ldc + n];
                let a_view = MatRef::row_major(&at, m).t();
                sgemm(m, n, k, a_view, b_view, &mut c2, ldc, true);
                for i in 0..m {
                    for j in 0..n {
                        let (x, y) = (c2[i * ldc + j], 1.0 + want[i * n + j]);
                        assert!((x - y).abs() < 1e-3 * (1.0 + y.abs()), "{m}x{n}x{k} +=");
                    }
                }
            }
        }
    }
}
