//! Threads and seeds.
use crate::cpu::pool;
use pyo3::prelude::*;

/// Sets the number of threads every ember kernel uses.
#[pyfunction]
fn set_num_threads(n: usize) -> PyResult<()> {
    Ok(pool::set_num_threads(n)?)
}

#[pyfunction]
fn get_num_threads() -> usize {
    pool::num_threads()
}

/// Seeds the core's random streams (initializers, dropout, shuffling).
#[pyfunction]
fn set_random_seed(seed: u64) {
    crate::random::set_seed(seed)
}

/// The position of the core's global random sequence (saved by BackupAndRestore).
#[pyfunction]
fn random_get_state() -> u64 {
    crate::random::state()
}

/// Restores a position returned by `random_get_state`.
#[pyfunction]
fn random_set_state(state: u64) {
    crate::random::set_state(state)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    pool::keep_freed_memory();
    m.add_function(wrap_pyfunction!(set_num_threads, m)?)?;
    m.add_function(wrap_pyfunction!(get_num_threads, m)?)?;
    m.add_function(wrap_pyfunction!(set_random_seed, m)?)?;
    m.add_function(wrap_pyfunction!(random_get_state, m)?)?;
    m.add_function(wrap_pyfunction!(random_set_state, m)?)?;
    Ok(())
}
