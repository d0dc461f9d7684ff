//! Gradient preprocessing as Keras's base optimizer applies it (loss-scale undo, then at
//! most one of clipnorm / global_clipnorm / clipvalue) and its decoupled weight decay,
//! folded into per-variable constants that the fused update kernels apply element by
//! element, so no gradient copy is made.
use crate::cpu::pool::{self, PAR_MIN_ELEMS};
use pulp::Arch;
use rayon::prelude::*;

/// Per-variable constants every fused kernel applies: the gradient it uses is
/// `clip(g * scale, -clip, clip)` and the weight is first decayed to `w - w * decay`.
#[derive(Clone, Copy, Debug)]
pub struct Pre {
    pub scale: f32,
    pub clip: f32,
    pub decay: f32,
}

impl Pre {
    pub const IDENTITY: Pre = Pre {
        scale: 1.0,
        clip: f32::INFINITY,
        decay: 0.0,
    };

    /// The preprocessed gradient. NaN passes through unchanged (as `ops.clip` does).
    #[inline(always)]
    pub fn grad(&self, g: f32) -> f32 {
        let g = g * self.scale;
        if g > self.clip {
            self.clip
        } else if g < -self.clip {
            -self.clip
        } else {
            g
        }
    }

    /// The weight after decoupled weight decay: `w - w * (weight_decay * lr)`.
    #[inline(always)]
    pub fn decayed(&self, w: f32) -> f32 {
        w - w * self.decay
    }
}

/// `sum(x^2)` accumulated in f64 (one read of `x`; parallel for large inputs).
pub fn sum_squares(x: &[f32], scale: f32) -> f64 {
    let kernel = |x: &[f32]| -> f64 {
        Arch::new().dispatch(
            #[inline(always)]
            || {
                // 8 partial f32 sums over short blocks keep the loop vectorised; each block
                // is folded into the f64 total.
                let mut total = 0.0f64;
                for block in x.chunks(1024) {
                    let mut acc = [0.0f32; 8];
                    let mut it = block.chunks_exact(8);
                    for c in &mut it {
                        for (a, &v) in acc.iter_mut().zip(c) {
                            let v = v * scale;
                            *a += v * v;
                        }
                    }
                    let tail: f32 = it
                        .remainder()
                        .iter()
                        .map(|&v| (v * scale) * (v * scale))
                        .sum();
                    total += acc.iter().map(|&a| a as f64).sum::<f64>() + tail as f64;
                }
                total
            },
        )
    };
    if x.len() < PAR_MIN_ELEMS {
        kernel(x)
    } else {
        pool::install(|| x.par_chunks(1 << 14).map(kernel).sum())
    }
}

/// Keras's `_clip_by_norm` factor: `clipnorm / max(||g||, clipnorm)` (1 for a zero norm).
pub fn clipnorm_scale(norm: f64, clipnorm: f32) -> f32 {
    (clipnorm as f64 / norm.max(clipnorm as f64)) as f32
}

/// Keras's `clip_by_global_norm` factor: `clip * min(1 / norm, 1 / clip)`, NaN when the
/// norm is not finite (so a diverged step shows as NaN rather than passing silently).
pub fn global_clipnorm_scale(norm: f64, clipnorm: f32) -> f32 {
    if !norm.is_finite() {
        return f32::NAN;
    }
    let c = clipnorm as f64;
    (c * (1.0 / norm).min(1.0 / c)) as f32
}
