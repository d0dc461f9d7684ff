//! SGD with optional (Nesterov) momentum, Keras's form:
//! `m = momentum * m - lr * g; w += m` (Nesterov: `w += momentum * m - lr * g`).
use super::clip::Pre;
use super::config::{Args, Config};
use super::fused::{Rule, Slot};
use crate::error::Result;
use crate::value_err;

#[derive(Clone, Debug, PartialEq)]
pub struct SGD {
    pub momentum: f32,
    pub nesterov: bool,
}

impl Default for SGD {
    fn default() -> SGD {
        SGD {
            momentum: 0.0,
            nesterov: false,
        }
    }
}

impl SGD {
    pub fn new(momentum: f32, nesterov: bool) -> Result<SGD> {
        if !(0.0..=1.0).contains(&momentum) {
            return Err(value_err!(
                "SGD: `momentum` must be a float between [0, 1]. Received: momentum={momentum}"
            ));
        }
        Ok(SGD { momentum, nesterov })
    }

    pub(crate) fn from_args(a: &Args<'_>) -> Result<SGD> {
        SGD::new(a.f32("momentum", 0.0)?, a.bool("nesterov", false)?)
    }
}

#[derive(Clone, Copy)]
pub struct SgdStep {
    lr: f32,
    momentum: f32,
    nesterov: bool,
}

impl Rule for SGD {
    type Step = SgdStep;

    fn slots(&self) -> Vec<Slot> {
        if self.momentum != 0.0 {
            vec![Slot::zeros("momentum")]
        } else {
            vec![]
        }
    }

    fn begin(&mut self, lr: f32, _t: u64) -> SgdStep {
        SgdStep {
            lr,
            momentum: self.momentum,
            nesterov: self.nesterov,
        }
    }

    #[inline(always)]
    fn update(s: &SgdStep, pre: Pre, w: &mut [f32], g: &[f32], slots: &mut [&mut [f32]]) {
        let (lr, mu) = (s.lr, s.momentum);
        match slots {
            [m] if s.nesterov => {
                for ((w, &g), m) in w.iter_mut().zip(g).zip(m.iter_mut()) {
                    let g = pre.grad(g);
                    *m = *m * mu - g * lr;
                    *w = pre.decayed(*w) + (*m * mu - g * lr);
                }
            }
            [m] => {
                for ((w, &g), m) in w.iter_mut().zip(g).zip(m.iter_mut()) {
                    *m = *m * mu - pre.grad(g) * lr;
                    *w = pre.decayed(*w) + *m;
                }
            }
            _ => {
                for (w, &g) in w.iter_mut().zip(g) {
                    *w = pre.decayed(*w) - pre.grad(g) * lr;
                }
            }
        }
    }

    fn config(&self) -> Config {
        Config::new()
            .set("momentum", self.momentum)
            .set("nesterov", self.nesterov)
    }
}
