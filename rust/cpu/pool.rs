//! The one rayon pool every parallel kernel runs in (DESIGN.md §6).
//!
//! Its size comes from `set_num_threads`, else `EMBER_NUM_THREADS`, else the number of
//! cores. A fork handler marks the pool stale in the child (its threads do not survive
//! `fork`), so the child builds a fresh pool on first use instead of hanging.
use crate::error::Result;
use crate::value_err;
use parking_lot::Mutex;
use rayon::ThreadPool;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Once};

/// Below this many elements an elementwise kernel runs on the calling thread.
pub const PAR_MIN_ELEMS: usize = 1 << 15;

static REQUESTED: AtomicUsize = AtomicUsize::new(0);
static GENERATION: AtomicU64 = AtomicU64::new(0);
static POOL: Mutex<Option<(u64, Arc<ThreadPool>)>> = Mutex::new(None);
static FORK_HANDLER: Once = Once::new();

extern "C" fn after_fork_in_child() {
    GENERATION.fetch_add(1, Ordering::SeqCst);
}

fn default_threads() -> usize {
    std::env::var("EMBER_NUM_THREADS")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|&n| n > 0)
        .unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        })
}

/// The number of threads parallel kernels use.
pub fn num_threads() -> usize {
    match REQUESTED.load(Ordering::Relaxed) {
        0 => default_threads(),
        n => n,
    }
}

/// Sets the number of threads for all later parallel work (the pool is rebuilt).
pub fn set_num_threads(n: usize) -> Result<()> {
    if n == 0 {
        return Err(value_err!(
            "set_num_threads: the number of threads must be at least 1, got 0"
        ));
    }
    REQUESTED.store(n, Ordering::Relaxed);
    *POOL.lock() = None;
    Ok(())
}

fn pool() -> Arc<ThreadPool> {
    FORK_HANDLER.call_once(|| unsafe {
        libc::pthread_atfork(None, None, Some(after_fork_in_child));
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
            .thread_name(|i| format!("ember-{i}"))
            .build()
            .expect("building the ember thread pool"),
    );
    *slot = Some((generation, p.clone()));
    p
}

/// Runs `f` inside the ember pool, so rayon calls within it use that pool's threads.
pub fn install<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    if rayon::current_thread_index().is_some() && num_threads() == rayon::current_num_threads() {
        return f();
    }
    pool().install(f)
}
