//! Recycled f32 buffers for kernels that write every value before reading it. A fresh
//! zeroed buffer costs a whole write pass, and once it has left the cache the kernel's
//! own writes read it back in: for the fused recurrent layers (about 16 MB of per-step
//! buffers a W4 batch) that is as much memory traffic as the gate kernels' own.
//! `Scratch::take` hands out a buffer an earlier user dropped, with whatever values it
//! holds, or zeros when none is free; dropping a `Scratch` keeps it for the next user
//! while the kept buffers stay under `KEEP_BYTES`. `filled` makes a new vector the same
//! way: written once by the kernel, never zeroed first.
use parking_lot::Mutex;
use std::ops::{Deref, DerefMut};

/// The most memory the free buffers may hold.
const KEEP_BYTES: usize = 256 << 20;

static FREE: Mutex<Vec<Vec<f32>>> = Mutex::new(Vec::new());

/// A buffer of `len()` f32 values with unspecified contents (the caller overwrites them).
pub struct Scratch(Vec<f32>);

impl Scratch {
    /// A buffer of `n` values: the smallest free one that holds `n`, else zeros.
    pub fn take(n: usize) -> Scratch {
        let mut free = FREE.lock();
        let best = free
            .iter()
            .enumerate()
            .filter(|(_, v)| v.capacity() >= n)
            .min_by_key(|(_, v)| v.capacity())
            .map(|(i, _)| i);
        let mut v = match best {
            Some(i) => free.swap_remove(i),
            None => Vec::new(),
        };
        drop(free);
        // shorter: no write; longer (within the capacity, or a new buffer): zeros appended
        v.resize(n, 0.0);
        Scratch(v)
    }
}

impl Deref for Scratch {
    type Target = [f32];

    fn deref(&self) -> &[f32] {
        &self.0
    }
}

impl DerefMut for Scratch {
    fn deref_mut(&mut self) -> &mut [f32] {
        &mut self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let v = std::mem::take(&mut self.0);
        if v.capacity() == 0 {
            return;
        }
        let mut free = FREE.lock();
        let held: usize = free.iter().map(|b| b.capacity() * 4).sum();
        if held + v.capacity() * 4 <= KEEP_BYTES {
            free.push(v);
        }
    }
}

/// A new vector of `n` values, every one of which `f` writes (without reading any).
pub fn filled(n: usize, f: impl FnOnce(&mut [f32])) -> Vec<f32> {
    let mut out: Vec<f32> = Vec::with_capacity(n);
    let spare = &mut out.spare_capacity_mut()[..n];
    // SAFETY: `MaybeUninit<f32>` has the layout of f32, which has no invalid bit patterns;
    // the values are only written (by `f`, every one of them) before `set_len` below.
    let buf = unsafe { &mut *(spare as *mut [std::mem::MaybeUninit<f32>] as *mut [f32]) };
    f(buf);
    // SAFETY: all `n` values were written above.
    unsafe { out.set_len(n) };
    out
}
