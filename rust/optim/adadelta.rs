//! Adadelta (Zeiler, 2012), Keras's form:
//! `a = rho a + (1 - rho) g^2; d = -sqrt(b + eps) g / sqrt(a + eps)`;
//! `b = rho b + (1 - rho) d^2; w += lr d`.
use super::clip::Pre;
use super::config::{Args, Config};
use super::fused::{Rule, Slot};
use crate::error::Result;

#[derive(Clone, Debug, PartialEq)]
pub struct Adadelta {
    pub rho: f32,
    pub epsilon: f32,
}

impl Default for Adadelta {
    fn default() -> Adadelta {
        Adadelta {
            rho: 0.95,
            epsilon: 1e-7,
        }
    }
}

impl Adadelta {
    pub(crate) fn from_args(a: &Args<'_>) -> Result<Adadelta> {
        Ok(Adadelta {
            rho: a.f32("rho", 0.95)?,
            epsilon: a.f32("epsilon", 1e-7)?,
        })
    }
}

#[derive(Clone, Copy)]
pub struct AdadeltaStep {
    lr: f32,
    rho: f32,
    epsilon: f32,
}

impl Rule for Adadelta {
    type Step = AdadeltaStep;

    fn slots(&self) -> Vec<Slot> {
        vec![
            Slot::zeros("accumulated_grad"),
            Slot::zeros("accumulated_delta_var"),
        ]
    }

    fn begin(&mut self, lr: f32, _t: u64) -> AdadeltaStep {
        AdadeltaStep {
            lr,
            rho: self.rho,
            epsilon: self.epsilon,
        }
    }

    #[inline(always)]
    fn update(s: &AdadeltaStep, pre: Pre, w: &mut [f32], g: &[f32], slots: &mut [&mut [f32]]) {
        let [ag, ad] = slots else { return };
        let (rho, eps) = (s.rho, s.epsilon);
        for (((w, &g), ag), ad) in w.iter_mut().zip(g).zip(ag.iter_mut()).zip(ad.iter_mut()) {
            let g = pre.grad(g);
            *ag = rho * *ag + (1.0 - rho) * (g * g);
            let delta = -((*ad + eps).sqrt() * g / (*ag + eps).sqrt());
            *ad = rho * *ad + (1.0 - rho) * (delta * delta);
            *w = pre.decayed(*w) + s.lr * delta;
        }
    }

    fn config(&self) -> Config {
        Config::new()
            .set("rho", self.rho)
            .set("epsilon", self.epsilon)
    }
}
