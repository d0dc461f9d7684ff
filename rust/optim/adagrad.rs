//! Adagrad, Keras's form: `acc += g^2; w -= lr g / sqrt(acc + epsilon)`.
use super::clip::Pre;
use super::config::{Args, Config};
use super::fused::{Rule, Slot};
use crate::error::Result;
use crate::value_err;

#[derive(Clone, Debug, PartialEq)]
pub struct Adagrad {
    pub initial_accumulator_value: f32,
    pub epsilon: f32,
}

impl Default for Adagrad {
    fn default() -> Adagrad {
        Adagrad {
            initial_accumulator_value: 0.1,
            epsilon: 1e-7,
        }
    }
}

impl Adagrad {
    pub(crate) fn from_args(a: &Args<'_>) -> Result<Adagrad> {
        let s = Adagrad {
            initial_accumulator_value: a.f32("initial_accumulator_value", 0.1)?,
            epsilon: a.f32("epsilon", 1e-7)?,
        };
        if s.initial_accumulator_value < 0.0 {
            return Err(value_err!(
                "Adagrad: `initial_accumulator_value` must be non-negative. Received: \
                 initial_accumulator_value={}",
                s.initial_accumulator_value
            ));
        }
        Ok(s)
    }
}

#[derive(Clone, Copy)]
pub struct AdagradStep {
    lr: f32,
    epsilon: f32,
}

impl Rule for Adagrad {
    type Step = AdagradStep;

    fn slots(&self) -> Vec<Slot> {
        vec![Slot {
            name: "accumulator",
            init: self.initial_accumulator_value,
            prefixed: true,
        }]
    }

    fn begin(&mut self, lr: f32, _t: u64) -> AdagradStep {
        AdagradStep {
            lr,
            epsilon: self.epsilon,
        }
    }

    #[inline(always)]
    fn update(s: &AdagradStep, pre: Pre, w: &mut [f32], g: &[f32], slots: &mut [&mut [f32]]) {
        let [acc] = slots else { return };
        for ((w, &g), acc) in w.iter_mut().zip(g).zip(acc.iter_mut()) {
            let g = pre.grad(g);
            *acc += g * g;
            *w = pre.decayed(*w) - s.lr * g / (*acc + s.epsilon).sqrt();
        }
    }

    fn config(&self) -> Config {
        Config::new()
            .set("initial_accumulator_value", self.initial_accumulator_value)
            .set("epsilon", self.epsilon)
    }
}
