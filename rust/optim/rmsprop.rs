//! RMSprop, Keras's form: `v = rho v + (1 - rho) g^2`; centered: `a = rho a + (1 - rho) g`
//! and `denominator = v - a^2 + eps`, else `v + eps`; `inc = lr g / sqrt(denominator)`;
//! with momentum `mo = momentum mo + inc; w -= mo`, else `w -= inc`.
use super::clip::Pre;
use super::config::{Args, Config};
use super::fused::{Rule, Slot};
use crate::error::Result;
use crate::value_err;

#[derive(Clone, Debug, PartialEq)]
pub struct RMSprop {
    pub rho: f32,
    pub momentum: f32,
    pub epsilon: f32,
    pub centered: bool,
}

impl Default for RMSprop {
    fn default() -> RMSprop {
        RMSprop {
            rho: 0.9,
            momentum: 0.0,
            epsilon: 1e-7,
            centered: false,
        }
    }
}

impl RMSprop {
    pub fn new(rho: f32, momentum: f32, epsilon: f32, centered: bool) -> Result<RMSprop> {
        if !(0.0..=1.0).contains(&rho) {
            return Err(value_err!(
                "RMSprop: `rho` must be in the range [0, 1]. Received: rho={rho}"
            ));
        }
        if !(0.0..=1.0).contains(&momentum) {
            return Err(value_err!(
                "RMSprop: `momentum` must be in the range [0, 1]. Received: momentum={momentum}"
            ));
        }
        if epsilon.is_nan() || epsilon <= 0.0 {
            return Err(value_err!(
                "RMSprop: `epsilon` must be positive. Received: epsilon={epsilon}"
            ));
        }
        Ok(RMSprop {
            rho,
            momentum,
            epsilon,
            centered,
        })
    }

    pub(crate) fn from_args(a: &Args<'_>) -> Result<RMSprop> {
        RMSprop::new(
            a.f32("rho", 0.9)?,
            a.f32("momentum", 0.0)?,
            a.f32("epsilon", 1e-7)?,
            a.bool("centered", false)?,
        )
    }
}

#[derive(Clone, Copy)]
pub struct RmsStep {
    lr: f32,
    rho: f32,
    momentum: f32,
    epsilon: f32,
    centered: bool,
}

/// The update with the optional parts chosen at compile time, so each loop is straight.
#[inline(always)]
fn kernel<const MOMENTUM: bool, const CENTERED: bool>(
    s: &RmsStep,
    pre: Pre,
    w: &mut [f32],
    g: &[f32],
    v: &mut [f32],
    mo: &mut [f32],
    avg: &mut [f32],
) {
    let n = w.len();
    let (g, v) = (&g[..n], &mut v[..n]);
    let mo = if MOMENTUM { &mut mo[..n] } else { mo };
    let avg = if CENTERED { &mut avg[..n] } else { avg };
    let (rho, eps, lr) = (s.rho, s.epsilon, s.lr);
    for i in 0..n {
        let gi = pre.grad(g[i]);
        v[i] = rho * v[i] + (1.0 - rho) * (gi * gi);
        let denominator = if CENTERED {
            avg[i] = rho * avg[i] + (1.0 - rho) * gi;
            v[i] - avg[i] * avg[i] + eps
        } else {
            v[i] + eps
        };
        let increment = lr * gi / denominator.sqrt();
        let wi = pre.decayed(w[i]);
        w[i] = if MOMENTUM {
            mo[i] = s.momentum * mo[i] + increment;
            wi - mo[i]
        } else {
            wi - increment
        };
    }
}

impl Rule for RMSprop {
    type Step = RmsStep;

    fn slots(&self) -> Vec<Slot> {
        let mut s = vec![Slot::zeros("velocity")];
        if self.momentum > 0.0 {
            s.push(Slot::zeros("momentum"));
        }
        if self.centered {
            s.push(Slot::zeros("average_gradient"));
        }
        s
    }

    fn begin(&mut self, lr: f32, _t: u64) -> RmsStep {
        RmsStep {
            lr,
            rho: self.rho,
            momentum: self.momentum,
            epsilon: self.epsilon,
            centered: self.centered,
        }
    }

    #[inline(always)]
    fn update(s: &RmsStep, pre: Pre, w: &mut [f32], g: &[f32], slots: &mut [&mut [f32]]) {
        let mut none: [f32; 0] = [];
        match (s.momentum > 0.0, s.centered, slots) {
            (false, false, [v]) => kernel::<false, false>(s, pre, w, g, v, &mut [], &mut none),
            (true, false, [v, mo]) => kernel::<true, false>(s, pre, w, g, v, mo, &mut none),
            (false, true, [v, avg]) => kernel::<false, true>(s, pre, w, g, v, &mut [], avg),
            (true, true, [v, mo, avg]) => kernel::<true, true>(s, pre, w, g, v, mo, avg),
            _ => {}
        }
    }

    fn config(&self) -> Config {
        Config::new()
            .set("rho", self.rho)
            .set("momentum", self.momentum)
            .set("epsilon", self.epsilon)
            .set("centered", self.centered)
    }
}
