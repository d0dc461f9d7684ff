//! Adamax (Kingma & Ba, section 7.1), Keras's form:
//! `m += (g - m)(1 - beta_1); u = max(beta_2 u, |g|)`;
//! `w -= lr m / ((1 - beta_1^t)(u + epsilon))`.
use super::adam::max_nan;
use super::clip::Pre;
use super::config::{Args, Config};
use super::fused::{Rule, Slot};
use crate::error::Result;

#[derive(Clone, Debug, PartialEq)]
pub struct Adamax {
    pub beta_1: f32,
    pub beta_2: f32,
    pub epsilon: f32,
}

impl Default for Adamax {
    fn default() -> Adamax {
        Adamax {
            beta_1: 0.9,
            beta_2: 0.999,
            epsilon: 1e-7,
        }
    }
}

impl Adamax {
    pub(crate) fn from_args(a: &Args<'_>) -> Result<Adamax> {
        Ok(Adamax {
            beta_1: a.f32("beta_1", 0.9)?,
            beta_2: a.f32("beta_2", 0.999)?,
            epsilon: a.f32("epsilon", 1e-7)?,
        })
    }
}

#[derive(Clone, Copy)]
pub struct AdamaxStep {
    lr: f32,
    one_minus_beta_1: f32,
    beta_2: f32,
    correction: f32,
    epsilon: f32,
}

impl Rule for Adamax {
    type Step = AdamaxStep;

    fn slots(&self) -> Vec<Slot> {
        vec![Slot::zeros("momentum"), Slot::zeros("norm")]
    }

    fn interleaved(&self) -> bool {
        true
    }

    fn begin(&mut self, lr: f32, t: u64) -> AdamaxStep {
        AdamaxStep {
            lr,
            one_minus_beta_1: 1.0 - self.beta_1,
            beta_2: self.beta_2,
            correction: (1.0 - (self.beta_1 as f64).powf(t as f64)) as f32,
            epsilon: self.epsilon,
        }
    }

    #[inline(always)]
    fn update(s: &AdamaxStep, pre: Pre, w: &mut [f32], g: &[f32], slots: &mut [&mut [f32]]) {
        let [m, u] = slots else { return };
        for (((w, &g), m), u) in w.iter_mut().zip(g).zip(m.iter_mut()).zip(u.iter_mut()) {
            let g = pre.grad(g);
            *m += (g - *m) * s.one_minus_beta_1;
            *u = max_nan(s.beta_2 * *u, g.abs());
            *w = pre.decayed(*w) - s.lr * *m / (s.correction * (*u + s.epsilon));
        }
    }

    fn config(&self) -> Config {
        Config::new()
            .set("beta_1", self.beta_1)
            .set("beta_2", self.beta_2)
            .set("epsilon", self.epsilon)
    }
}
