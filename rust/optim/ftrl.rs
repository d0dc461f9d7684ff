//! FTRL-Proximal (McMahan et al., 2013), Keras's form with online L2 (`l2 + beta / (2 lr)`)
//! and shrinkage L2 (`g + 2 l2_shrinkage w` in the linear term):
//! `n' = n + g^2; z += g_s - (n'^-p - n^-p) / lr * w`;
//! `w = (clip(z, -l1, l1) - z) / (n'^-p / lr + 2 l2_total); n = n'`, `p = learning_rate_power`.
use super::clip::Pre;
use super::config::{Args, Config};
use super::fused::{Rule, Slot};
use crate::error::Result;
use crate::value_err;

#[derive(Clone, Debug, PartialEq)]
pub struct Ftrl {
    pub learning_rate_power: f32,
    pub initial_accumulator_value: f32,
    pub l1_regularization_strength: f32,
    pub l2_regularization_strength: f32,
    pub l2_shrinkage_regularization_strength: f32,
    pub beta: f32,
}

impl Default for Ftrl {
    fn default() -> Ftrl {
        Ftrl {
            learning_rate_power: -0.5,
            initial_accumulator_value: 0.1,
            l1_regularization_strength: 0.0,
            l2_regularization_strength: 0.0,
            l2_shrinkage_regularization_strength: 0.0,
            beta: 0.0,
        }
    }
}

impl Ftrl {
    pub(crate) fn from_args(a: &Args<'_>) -> Result<Ftrl> {
        let f = Ftrl {
            learning_rate_power: a.f32("learning_rate_power", -0.5)?,
            initial_accumulator_value: a.f32("initial_accumulator_value", 0.1)?,
            l1_regularization_strength: a.f32("l1_regularization_strength", 0.0)?,
            l2_regularization_strength: a.f32("l2_regularization_strength", 0.0)?,
            l2_shrinkage_regularization_strength: a
                .f32("l2_shrinkage_regularization_strength", 0.0)?,
            beta: a.f32("beta", 0.0)?,
        };
        let checks = [
            (
                "initial_accumulator_value",
                f.initial_accumulator_value,
                "positive or zero",
            ),
            (
                "l1_regularization_strength",
                f.l1_regularization_strength,
                "positive or zero",
            ),
            (
                "l2_regularization_strength",
                f.l2_regularization_strength,
                "positive or zero",
            ),
            (
                "l2_shrinkage_regularization_strength",
                f.l2_shrinkage_regularization_strength,
                "positive or zero",
            ),
            (
                "learning_rate_power",
                -f.learning_rate_power,
                "negative or zero",
            ),
        ];
        for (name, v, what) in checks {
            if v < 0.0 {
                let shown = if name == "learning_rate_power" { -v } else { v };
                return Err(value_err!(
                    "Ftrl: `{name}` needs to be {what}. Received: {name}={shown}."
                ));
            }
        }
        Ok(f)
    }
}

#[derive(Clone, Copy)]
pub struct FtrlStep {
    lr: f32,
    /// `-learning_rate_power`
    power: f32,
    l1: f32,
    /// `2 * (l2 + beta / (2 lr))`
    l2_twice: f32,
    /// `2 * l2_shrinkage`
    shrinkage_twice: f32,
}

#[inline(always)]
fn kernel<const SQRT: bool>(
    s: &FtrlStep,
    pre: Pre,
    w: &mut [f32],
    g: &[f32],
    n: &mut [f32],
    z: &mut [f32],
) {
    let pow = |x: f32| if SQRT { x.sqrt() } else { x.powf(s.power) };
    for (((w, &g), n), z) in w.iter_mut().zip(g).zip(n.iter_mut()).zip(z.iter_mut()) {
        let g = pre.grad(g);
        let wd = pre.decayed(*w);
        let shrunk = g + s.shrinkage_twice * wd;
        let n_new = *n + g * g;
        let n_new_pow = pow(n_new);
        *z += shrunk - (n_new_pow - pow(*n)) / s.lr * wd;
        let quadratic = n_new_pow / s.lr + s.l2_twice;
        let clipped = z.clamp(-s.l1, s.l1);
        *w = (clipped - *z) / quadratic;
        *n = n_new;
    }
}

impl Rule for Ftrl {
    type Step = FtrlStep;

    fn slots(&self) -> Vec<Slot> {
        vec![
            Slot {
                name: "accumulator",
                init: self.initial_accumulator_value,
                prefixed: false,
            },
            Slot::zeros("linear"),
        ]
    }

    fn interleaved(&self) -> bool {
        true
    }

    fn begin(&mut self, lr: f32, _t: u64) -> FtrlStep {
        FtrlStep {
            lr,
            power: -self.learning_rate_power,
            l1: self.l1_regularization_strength,
            l2_twice: 2.0 * (self.l2_regularization_strength + self.beta / (2.0 * lr)),
            shrinkage_twice: 2.0 * self.l2_shrinkage_regularization_strength,
        }
    }

    #[inline(always)]
    fn update(s: &FtrlStep, pre: Pre, w: &mut [f32], g: &[f32], slots: &mut [&mut [f32]]) {
        let [n, z] = slots else { return };
        if s.power == 0.5 {
            kernel::<true>(s, pre, w, g, n, z)
        } else {
            kernel::<false>(s, pre, w, g, n, z)
        }
    }

    fn config(&self) -> Config {
        Config::new()
            .set("learning_rate_power", self.learning_rate_power)
            .set("initial_accumulator_value", self.initial_accumulator_value)
            .set(
                "l1_regularization_strength",
                self.l1_regularization_strength,
            )
            .set(
                "l2_regularization_strength",
                self.l2_regularization_strength,
            )
            .set(
                "l2_shrinkage_regularization_strength",
                self.l2_shrinkage_regularization_strength,
            )
            .set("beta", self.beta)
    }
}
