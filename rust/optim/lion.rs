//! Lion (Chen et al., 2023), Keras's form:
//! `w -= lr * sign(beta_1 * m + (1 - beta_1) * g); m = beta_2 * m + (1 - beta_2) * g`.
use super::clip::Pre;
use super::config::{Args, Config};
use super::fused::{Rule, Slot};
use crate::error::Result;
use crate::value_err;

#[derive(Clone, Debug, PartialEq)]
pub struct Lion {
    pub beta_1: f32,
    pub beta_2: f32,
}

impl Default for Lion {
    fn default() -> Lion {
        Lion {
            beta_1: 0.9,
            beta_2: 0.99,
        }
    }
}

impl Lion {
    pub fn new(beta_1: f32, beta_2: f32) -> Result<Lion> {
        if beta_1.is_nan() || beta_1 <= 0.0 || beta_1 > 1.0 {
            return Err(value_err!(
                "Lion: Argument `beta_1` must be in the [0, 1] range. Otherwise, the optimizer \
                 degenerates to SignSGD. Received: beta_1={beta_1:?}."
            ));
        }
        Ok(Lion { beta_1, beta_2 })
    }

    pub(crate) fn from_args(a: &Args<'_>) -> Result<Lion> {
        Lion::new(a.f32("beta_1", 0.9)?, a.f32("beta_2", 0.99)?)
    }
}

#[derive(Clone, Copy)]
pub struct LionStep {
    lr: f32,
    beta_1: f32,
    beta_2: f32,
}

/// `ops.sign`: -1, 0 or 1 (NaN stays NaN).
#[inline(always)]
fn sign(x: f32) -> f32 {
    if x > 0.0 {
        1.0
    } else if x < 0.0 {
        -1.0
    } else {
        x
    }
}

impl Rule for Lion {
    type Step = LionStep;

    fn slots(&self) -> Vec<Slot> {
        vec![Slot::zeros("momentum")]
    }

    fn begin(&mut self, lr: f32, _t: u64) -> LionStep {
        LionStep {
            lr,
            beta_1: self.beta_1,
            beta_2: self.beta_2,
        }
    }

    #[inline(always)]
    fn update(s: &LionStep, pre: Pre, w: &mut [f32], g: &[f32], slots: &mut [&mut [f32]]) {
        let [m] = slots else { return };
        let (b1, b2) = (s.beta_1, s.beta_2);
        for ((w, &g), m) in w.iter_mut().zip(g).zip(m.iter_mut()) {
            let g = pre.grad(g);
            *w = pre.decayed(*w) - s.lr * sign(*m * b1 + g * (1.0 - b1));
            *m = *m * b2 + g * (1.0 - b2);
        }
    }

    fn config(&self) -> Config {
        Config::new()
            .set("beta_1", self.beta_1)
            .set("beta_2", self.beta_2)
    }
}
