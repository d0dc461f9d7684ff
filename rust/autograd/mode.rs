//! Grad mode: a thread-local switch so inference and backward passes record nothing.
use std::cell::Cell;

thread_local! {
    static NO_GRAD_DEPTH: Cell<u32> = const { Cell::new(0) };
}

/// True unless a `NoGrad` guard is alive on this thread.
pub fn is_grad_enabled() -> bool {
    NO_GRAD_DEPTH.with(|d| d.get() == 0)
}

/// While alive, ops on this thread record no autograd nodes. Guards nest.
pub struct NoGrad(());

impl NoGrad {
    #[allow(clippy::new_without_default)]
    pub fn new() -> NoGrad {
        NO_GRAD_DEPTH.with(|d| d.set(d.get() + 1));
        NoGrad(())
    }
}

impl Drop for NoGrad {
    fn drop(&mut self) {
        NO_GRAD_DEPTH.with(|d| d.set(d.get() - 1));
    }
}
