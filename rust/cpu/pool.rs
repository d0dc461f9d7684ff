//! The one rayon pool every parallel kernel runs in (DESIGN.md §6).
//!
//! Its size comes from `set_num_threads`, else `EMBER_NUM_THREADS` (read once), else the
//! number of cores. Every parallel kernel (our own and the `gemm` crate's, which uses the
//! rayon pool it is called in) runs inside `install`, so that size is obeyed everywhere.
//!
//! Fork safety: a pool's threads do not survive `fork`. `pthread_atfork` handlers hold the
//! pool lock across the fork (so the child never inherits it locked) and mark the pool stale
//! in the child, which then builds a fresh pool on first use instead of waiting forever on
//! threads that do not exist.
use crate::error::Result;
use crate::value_err;
use parking_lot::Mutex;
use rayon::ThreadPool;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Once, OnceLock};

/// Below this many elements an elementwise kernel runs on the calling thread.
pub const PAR_MIN_ELEMS: usize = 1 << 15;

/// Prefix of the pool's thread names (`ember-0`, `ember-1`, ...).
pub const THREAD_NAME_PREFIX: &str = "ember-";

static REQUESTED: AtomicUsize = AtomicUsize::new(0);
static GENERATION: AtomicU64 = AtomicU64::new(0);
static POOL: Mutex<Option<(u64, Arc<ThreadPool>)>> = Mutex::new(None);
static FORK_HANDLER: Once = Once::new();

extern "C" fn before_fork() {
    // held across fork() so that neither process sees it locked by a thread it lacks
    std::mem::forget(POOL.lock());
}

extern "C" fn after_fork_in_parent() {
    // SAFETY: locked by `before_fork` on this thread, whose guard was forgotten.
    unsafe { POOL.force_unlock() }
}

extern "C" fn after_fork_in_child() {
    GENERATION.fetch_add(1, Ordering::SeqCst);
    // SAFETY: as in the parent; the child's only thread is the one that locked it.
    unsafe { POOL.force_unlock() }
}

fn default_threads() -> usize {
    static DEFAULT: OnceLock<usize> = OnceLock::new();
    *DEFAULT.get_or_init(|| {
        std::env::var("EMBER_NUM_THREADS")
            .ok()
            .and_then(|v| v.trim().parse::<usize>().ok())
            .filter(|&n| n > 0)
            .unwrap_or_else(|| {
                std::thread::available_parallelism()
                    .map(|n| n.get())
                    .unwrap_or(1)
            })
    })
}

/// The number of threads parallel kernels use.
pub fn num_threads() -> usize {
    match REQUESTED.load(Ordering::Relaxed) {
        0 => default_threads(),
        n => n,
    }
}

/// Sets the number of threads for all later parallel work (the pool is rebuilt on next use).
pub fn set_num_threads(n: usize) -> Result<()> {
    if n == 0 {
        return Err(value_err!(
            "set_num_threads: the number of threads must be at least 1, got 0"
        ));
    }
    REQUESTED.store(n, Ordering::Relaxed);
    let mut slot = POOL.lock();
    if slot
        .as_ref()
        .is_some_and(|(_, p)| p.current_num_threads() != n)
    {
        *slot = None;
    }
    Ok(())
}

fn pool() -> Arc<ThreadPool> {
    FORK_HANDLER.call_once(|| unsafe {
        libc::pthread_atfork(
            Some(before_fork),
            Some(after_fork_in_parent),
            Some(after_fork_in_child),
        );
    });
    let generation = GENERATION.load(Ordering::SeqCst);
    let mut slot = POOL.lock();
    if let Some((g, p)) = slot.as_ref() {
        if *g == generation {
            return p.clone();
        }
        // a pool inherited across fork has no threads: leak it rather than join them
        std::mem::forget(slot.take());
    }
    let p = Arc::new(
        rayon::ThreadPoolBuilder::new()
            .num_threads(num_threads())
            .thread_name(|i| format!("{THREAD_NAME_PREFIX}{i}"))
            .build()
            .expect("building the ember thread pool"),
    );
    *slot = Some((generation, p.clone()));
    p
}

/// Makes glibc's malloc keep large freed buffers for reuse (call once, at start-up).
///
/// By default, freeing a buffer of more than 128 KiB at the top of the heap returns its pages
/// to the OS, and the next op's output faults them in again: about 0.1 ms per 256 KiB
/// output here, as long as a 256x256 GEMM. Buffers under 32 MiB are now reused from the heap,
/// and it is trimmed only beyond 256 MiB free. Settings given through `MALLOC_*_` or
/// `GLIBC_TUNABLES` are left alone.
pub fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let set_by_user = [
            "MALLOC_TRIM_THRESHOLD_",
            "MALLOC_MMAP_THRESHOLD_",
            "GLIBC_TUNABLES",
        ]
        .iter()
        .any(|v| std::env::var_os(v).is_some());
        if !set_by_user {
            // SAFETY: mallopt only changes allocator parameters.
            unsafe {
                libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
                libc::mallopt(libc::M_TRIM_THRESHOLD, 256 << 20);
            }
        }
    }
}

/// Runs `f` inside the ember pool, so rayon calls within it use that pool's threads.
pub fn install<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    if rayon::current_thread_index().is_some() && num_threads() == rayon::current_num_threads() {
        return f();
    }
    pool().install(f)
}
