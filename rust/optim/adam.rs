//! Adam (and AdamW, which is Adam with a default decoupled weight decay), Keras's form:
//! `m += (g - m)(1 - beta_1); v += (g^2 - v)(1 - beta_2)`;
//! `w -= m * alpha / (sqrt(v) + epsilon)` with `alpha = lr sqrt(1 - beta_2^t) / (1 - beta_1^t)`
//! (epsilon outside the square root, "epsilon hat"); AMSGrad uses `max` of all `v` so far.
use super::clip::Pre;
use super::config::{Args, Config};
use super::fused::{Rule, Slot};
use crate::error::Result;

#[derive(Clone, Debug, PartialEq)]
pub struct Adam {
    pub beta_1: f32,
    pub beta_2: f32,
    pub epsilon: f32,
    pub amsgrad: bool,
}

impl Default for Adam {
    fn default() -> Adam {
        Adam {
            beta_1: 0.9,
            beta_2: 0.999,
            epsilon: 1e-7,
            amsgrad: false,
        }
    }
}

impl Adam {
    pub(crate) fn from_args(a: &Args<'_>) -> Result<Adam> {
        Ok(Adam {
            beta_1: a.f32("beta_1", 0.9)?,
            beta_2: a.f32("beta_2", 0.999)?,
            epsilon: a.f32("epsilon", 1e-7)?,
            amsgrad: a.bool("amsgrad", false)?,
        })
    }
}

#[derive(Clone, Copy)]
pub struct AdamStep {
    alpha: f32,
    one_minus_beta_1: f32,
    one_minus_beta_2: f32,
    epsilon: f32,
}

/// `max(a, b)` that keeps a NaN in `b`.
#[inline(always)]
pub(super) fn max_nan(a: f32, b: f32) -> f32 {
    if a > b {
        a
    } else {
        b
    }
}

impl Rule for Adam {
    type Step = AdamStep;

    fn slots(&self) -> Vec<Slot> {
        let mut s = vec![Slot::zeros("momentum"), Slot::zeros("velocity")];
        if self.amsgrad {
            s.push(Slot::zeros("velocity_hat"));
        }
        s
    }

    fn begin(&mut self, lr: f32, t: u64) -> AdamStep {
        let t = t as f64;
        let b1p = (self.beta_1 as f64).powf(t);
        let b2p = (self.beta_2 as f64).powf(t);
        AdamStep {
            alpha: (lr as f64 * (1.0 - b2p).sqrt() / (1.0 - b1p)) as f32,
            one_minus_beta_1: 1.0 - self.beta_1,
            one_minus_beta_2: 1.0 - self.beta_2,
            epsilon: self.epsilon,
        }
    }

    #[inline(always)]
    fn update(s: &AdamStep, pre: Pre, w: &mut [f32], g: &[f32], slots: &mut [&mut [f32]]) {
        let (c1, c2, alpha, eps) = (s.one_minus_beta_1, s.one_minus_beta_2, s.alpha, s.epsilon);
        match slots {
            [m, v] => {
                for (((w, &g), m), v) in w.iter_mut().zip(g).zip(m.iter_mut()).zip(v.iter_mut()) {
                    let g = pre.grad(g);
                    *m += (g - *m) * c1;
                    *v += (g * g - *v) * c2;
                    *w = pre.decayed(*w) - *m * alpha / (v.sqrt() + eps);
                }
            }
            [m, v, vh] => {
                let it = w.iter_mut().zip(g).zip(m.iter_mut()).zip(v.iter_mut());
                for ((((w, &g), m), v), vh) in it.zip(vh.iter_mut()) {
                    let g = pre.grad(g);
                    *m += (g - *m) * c1;
                    *v += (g * g - *v) * c2;
                    *vh = max_nan(*vh, *v);
                    *w = pre.decayed(*w) - *m * alpha / (vh.sqrt() + eps);
                }
            }
            _ => {}
        }
    }

    fn config(&self) -> Config {
        Config::new()
            .set("beta_1", self.beta_1)
            .set("beta_2", self.beta_2)
            .set("epsilon", self.epsilon)
            .set("amsgrad", self.amsgrad)
    }
}
