//! Seeded randomness. `set_seed` makes every later draw (initializers, dropout masks,
//! shuffles) reproducible; each consumer takes its own stream from `rng()`.
use rand::rngs::SmallRng;
use rand::SeedableRng;
use std::sync::atomic::{AtomicU64, Ordering};

pub type Rng = SmallRng;

static STATE: AtomicU64 = AtomicU64::new(0x853c_49e6_748f_ea9b);

/// Resets the global seed (`ember.utils.set_random_seed`).
pub fn set_seed(seed: u64) {
    STATE.store(seed ^ 0x853c_49e6_748f_ea9b, Ordering::SeqCst);
}

/// The position of the global sequence, to save it (`BackupAndRestore` resumes runs exactly).
pub fn state() -> u64 {
    STATE.load(Ordering::SeqCst)
}

/// Restores a position returned by `state`.
pub fn set_state(state: u64) {
    STATE.store(state, Ordering::SeqCst);
}

/// The next seed of the global sequence (splitmix64).
pub fn next_seed() -> u64 {
    let mut z = STATE
        .fetch_add(0x9e37_79b9_7f4a_7c15, Ordering::SeqCst)
        .wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A fresh generator from the global sequence.
pub fn rng() -> Rng {
    Rng::seed_from_u64(next_seed())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeding_repeats_the_sequence() {
        set_seed(42);
        let a = (next_seed(), next_seed());
        set_seed(42);
        assert_eq!(a, (next_seed(), next_seed()));
        assert_ne!(a.0, a.1);
    }
}
