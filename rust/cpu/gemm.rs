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
    check_output(m, n, c.len(), ldc);
    // SAFETY: `c` holds the (m x n) output at stride `ldc`, checked above.
    unsafe {
        run(
            m,
            n,
            k,
            a,
            b,
            c.as_mut_ptr(),
            ldc,
            accumulate,
            threads_for(m, n, k),
        )
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
    check_output(m, n, c.len(), ldc);
    // SAFETY: as in `sgemm`.
    unsafe { run(m, n, k, a, b, c.as_mut_ptr(), ldc, accumulate, 1) }
}

/// `a @ b` as a new row-major (m x n) buffer, written once by the kernel (no zero fill
/// first: the gradients of a training step are a few MB each).
pub fn sgemm_new((m, n, k, a, b): Product) -> Vec<f32> {
    new_product(m, n, k, a, b, threads_for(m, n, k))
}

/// The operands of a product `a @ b`: (m, n, k, a (m x k), b (k x n)).
pub type Product<'a> = (usize, usize, usize, MatRef<'a>, MatRef<'a>);

/// Two independent products as new buffers, at the same time on two halves of the pool
/// when both are large (a linear layer's input and kernel gradients, which cost the same:
/// two half-pool products wait on each other less than two whole-pool ones in turn).
pub fn sgemm_new_pair(p: Product, q: Product) -> (Vec<f32>, Vec<f32>) {
    let threads = pool::num_threads();
    let large = |(m, n, k, ..): &Product| m * n * k >= PAR_MIN_FLOPS;
    if threads < 2 || !large(&p) || !large(&q) {
        return (sgemm_new(p), sgemm_new(q));
    }
    let half = threads / 2;
    pool::install(|| {
        rayon::join(
            || new_product(p.0, p.1, p.2, p.3, p.4, half),
            || new_product(q.0, q.1, q.2, q.3, q.4, threads - half),
        )
    })
}

fn new_product(m: usize, n: usize, k: usize, a: MatRef, b: MatRef, threads: usize) -> Vec<f32> {
    let mut c = Vec::with_capacity(m * n);
    // SAFETY: without `accumulate`, `run` writes every element of the (m x n) output and
    // reads none of it, so all `m * n` values are initialised before `set_len`.
    unsafe {
        run(m, n, k, a, b, c.as_mut_ptr(), n, false, threads);
        c.set_len(m * n);
    }
    c
}

fn threads_for(m: usize, n: usize, k: usize) -> usize {
    let threads = pool::num_threads();
    if threads > 1 && m * n * k >= PAR_MIN_FLOPS {
        threads
    } else {
        1
    }
}

fn check_output(m: usize, n: usize, len: usize, ldc: usize) {
    assert!(
        m == 0 || n == 0 || len >= (m - 1) * ldc + n,
        "sgemm: output buffer too small"
    );
}

/// The product on `threads` threads of the ember pool.
///
/// # Safety
/// `c` must point to an (m x n) row-major output with row stride `ldc`; without
/// `accumulate` it is only written, so it may be uninitialised.
#[allow(clippy::too_many_arguments)]
unsafe fn run(
    m: usize,
    n: usize,
    k: usize,
    a: MatRef,
    b: MatRef,
    c: *mut f32,
    ldc: usize,
    accumulate: bool,
    threads: usize,
) {
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            for i in 0..m {
                std::ptr::write_bytes(c.add(i * ldc), 0, n);
            }
        }
        return;
    }
    if threads > 1 {
        let c = SendPtr(c);
        return pool::install(move || {
            let c = c;
            product(m, n, k, a, b, c.0, ldc, accumulate, threads)
        });
    }
    product(m, n, k, a, b, c, ldc, accumulate, 1)
}

/// A raw output pointer moved into the pool.
#[derive(Clone, Copy)]
struct SendPtr(*mut f32);
// SAFETY: the pointer is used by one product at a time, whose caller owns the output.
unsafe impl Send for SendPtr {}

/// The kernel call itself: `gemm`, or faer when `b`'s rows are not contiguous.
#[allow(clippy::too_many_arguments)]
unsafe fn product(
    m: usize,
    n: usize,
    k: usize,
    a: MatRef,
    b: MatRef,
    c: *mut f32,
    ldc: usize,
    accumulate: bool,
    threads: usize,
) {
    // SAFETY (both calls): the operands' extents were checked by the callers (ops::matmul)
    // against their storage; `c` is the caller's (see `run`). Neither kernel reads `c`
    // unless accumulating (gemm's `read_dst`, faer's documented `Accum::Replace`).
    #[cfg(target_arch = "x86_64")]
    if b.cs != 1 && n > 1 {
        use faer::{linalg::matmul::matmul, Accum, MatMut, MatRef as FaerRef, Par};
        unsafe {
            let fa = FaerRef::from_raw_parts(a.data.as_ptr().add(a.offset), m, k, a.rs, a.cs);
            let fb = FaerRef::from_raw_parts(b.data.as_ptr().add(b.offset), k, n, b.rs, b.cs);
            let fc = MatMut::from_raw_parts_mut(c, m, n, ldc as isize, 1);
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
            c,
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
