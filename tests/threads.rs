//! The thread pool: `set_num_threads` and `EMBER_NUM_THREADS` size it, the GEMM runs in it,
//! results do not depend on the thread count, and a forked child can still compute.
use ember::cpu::gemm::{sgemm, MatRef};
use ember::cpu::pool;
use ember::{ops, Error, Tensor};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// The pool is process-wide: tests here take turns.
fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

fn data(len: usize, seed: usize) -> Vec<f32> {
    (0..len)
        .map(|i| ((i * 7919 + seed) % 101) as f32 / 101.0 - 0.5)
        .collect()
}

fn tensor(shape: &[usize], seed: usize) -> Tensor {
    Tensor::from_f32(data(shape.iter().product(), seed), shape).unwrap()
}

/// `a @ b` for row-major (m x k) and (k x n), through `sgemm` (parallel when large).
fn product(m: usize, k: usize, n: usize, a: &[f32], b: &[f32]) -> Vec<f32> {
    let mut c = vec![0.0f32; m * n];
    let (a, b) = (MatRef::row_major(a, k), MatRef::row_major(b, n));
    sgemm(m, n, k, a, b, &mut c, n, false);
    c
}

/// `a @ bt^T` for row-major (m x k) and (n x k): the other GEMM kernel.
fn product_bt(m: usize, k: usize, n: usize, a: &[f32], bt: &[f32]) -> Vec<f32> {
    let mut c = vec![0.0f32; m * n];
    let (a, b) = (MatRef::row_major(a, k), MatRef::row_major(bt, k).t());
    sgemm(m, n, k, a, b, &mut c, n, false);
    c
}

/// Live threads of this process named like the pool's workers.
#[cfg(target_os = "linux")]
fn pool_threads() -> usize {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .filter(|name| name.starts_with(pool::THREAD_NAME_PREFIX))
        .count()
}

#[test]
fn set_num_threads_sizes_the_pool_the_gemm_runs_in() {
    let _g = serial();
    let (a, b) = (data(512 * 300, 1), data(300 * 400, 2));
    pool::set_num_threads(1).unwrap();
    let want = product(512, 300, 400, &a, &b);
    for n in [2, 3, 1] {
        pool::set_num_threads(n).unwrap();
        assert_eq!(pool::num_threads(), n);
        assert_eq!(pool::install(rayon::current_num_threads), n);
        assert_eq!(product(512, 300, 400, &a, &b), want, "{n} threads");
        // the replaced pool's workers exit; the GEMM ran in a pool of exactly n
        #[cfg(target_os = "linux")]
        {
            let t0 = Instant::now();
            while pool_threads() != n && t0.elapsed() < Duration::from_secs(10) {
                std::thread::sleep(Duration::from_millis(10));
            }
            assert_eq!(pool_threads(), n, "worker threads with {n} requested");
        }
    }
}

#[test]
fn zero_threads_is_refused() {
    let _g = serial();
    let err = pool::set_num_threads(0).unwrap_err();
    assert!(matches!(&err, Error::Value(m) if m.contains("set_num_threads") && m.contains('0')));
}

#[test]
fn results_are_identical_across_thread_counts() {
    let _g = serial();
    let (a, b) = (data(301 * 257, 3), data(257 * 523, 4));
    let (x, y) = (tensor(&[64, 33, 40], 5), tensor(&[64, 40, 31], 6));
    let (big, row) = (tensor(&[1000, 1000], 7), tensor(&[1000], 8));
    let run = || {
        let s = ops::sum(&big, Some(&[0isize][..]), false).unwrap();
        let e = ops::exp(&ops::add(&big, &row).unwrap()).unwrap();
        [
            product(301, 257, 523, &a, &b),
            product_bt(301, 257, 523, &a, &b),
            ops::matmul(&x, &y).unwrap().to_vec_f32().unwrap(),
            s.to_vec_f32().unwrap(),
            e.to_vec_f32().unwrap(),
        ]
    };
    pool::set_num_threads(1).unwrap();
    let want = run();
    for n in [2, 3, 4] {
        pool::set_num_threads(n).unwrap();
        let got = run();
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            assert!(g == w, "result {i} differs between 1 and {n} threads");
        }
    }
}

/// Run by `environment_variable_sets_the_default` in a child process.
#[test]
#[ignore = "run in a child process with EMBER_NUM_THREADS set"]
fn child_reports_threads() {
    let want: usize = std::env::var("EXPECT_THREADS").unwrap().parse().unwrap();
    assert_eq!(pool::num_threads(), want);
    assert_eq!(pool::install(rayon::current_num_threads), want);
}

#[test]
fn environment_variable_sets_the_default() {
    let cores = std::thread::available_parallelism().unwrap().get();
    for (value, expect) in [("3", 3), (" 1 ", 1), ("0", cores), ("many", cores)] {
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "child_reports_threads",
                "--ignored",
                "--test-threads=1",
            ])
            .env("EMBER_NUM_THREADS", value)
            .env("EXPECT_THREADS", expect.to_string())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "EMBER_NUM_THREADS={value:?}: {}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
}

#[cfg(unix)]
#[test]
fn forked_child_runs_a_parallel_matmul() {
    let _g = serial();
    pool::set_num_threads(2).unwrap();
    let (a, b) = (data(400 * 300, 9), data(300 * 500, 10));
    let want = product(400, 300, 500, &a, &b); // the parent's pool now has live workers
    let want_bt = product_bt(400, 300, 500, &a, &b);
    // SAFETY: the child only computes with memory it inherited and leaves with `_exit`.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        let ok = std::panic::catch_unwind(|| {
            product(400, 300, 500, &a, &b) == want
                && product_bt(400, 300, 500, &a, &b) == want_bt
                && pool::install(rayon::current_num_threads) == 2
        });
        unsafe { libc::_exit(if matches!(ok, Ok(true)) { 0 } else { 1 }) }
    }
    let t0 = Instant::now();
    let mut status = 0;
    loop {
        let r = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        if r == pid {
            break;
        }
        if t0.elapsed() > Duration::from_secs(60) {
            unsafe {
                libc::kill(pid, libc::SIGKILL);
                libc::waitpid(pid, &mut status, 0);
            }
            panic!("the forked child hung in a parallel matmul");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "forked child failed (status {status})"
    );
    // the parent's pool still works too
    assert_eq!(product(400, 300, 500, &a, &b), want);
}
