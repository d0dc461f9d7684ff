//! Nadam (Dozat, 2015), Keras's form with the momentum schedule
//! `u_t = beta_1 (1 - 0.5 * 0.96^t)` and its running product `u_product`:
//! `m_hat = u_{t+1} m / (1 - u_product u_{t+1}) + (1 - u_t) g / (1 - u_product)`,
//! `v_hat = v / (1 - beta_2^t)`, `w -= lr m_hat / (sqrt(v_hat) + epsilon)`.
use super::clip::Pre;
use super::config::{Args, Config};
use super::fused::{Rule, Slot};
use crate::error::Result;

#[derive(Clone, Debug, PartialEq)]
pub struct Nadam {
    pub beta_1: f32,
    pub beta_2: f32,
    pub epsilon: f32,
    /// The running product of the momentum schedule (state, a float32 as in Keras).
    pub u_product: f32,
}

impl Default for Nadam {
    fn default() -> Nadam {
        Nadam {
            beta_1: 0.9,
            beta_2: 0.999,
            epsilon: 1e-7,
            u_product: 1.0,
        }
    }
}

impl Nadam {
    pub(crate) fn from_args(a: &Args<'_>) -> Result<Nadam> {
        Ok(Nadam {
            beta_1: a.f32("beta_1", 0.9)?,
            beta_2: a.f32("beta_2", 0.999)?,
            epsilon: a.f32("epsilon", 1e-7)?,
            u_product: 1.0,
        })
    }
}

#[derive(Clone, Copy)]
pub struct NadamStep {
    lr: f32,
    one_minus_beta_1: f32,
    one_minus_beta_2: f32,
    m_coef: f32,
    g_coef: f32,
    v_coef: f32,
    epsilon: f32,
}

impl Rule for Nadam {
    type Step = NadamStep;

    fn slots(&self) -> Vec<Slot> {
        vec![Slot::zeros("momentum"), Slot::zeros("velocity")]
    }

    fn begin(&mut self, lr: f32, t: u64) -> NadamStep {
        let (t, b1, b2) = (t as f64, self.beta_1 as f64, self.beta_2 as f64);
        let u_t = b1 * (1.0 - 0.5 * 0.96f64.powf(t));
        let u_t1 = b1 * (1.0 - 0.5 * 0.96f64.powf(t + 1.0));
        self.u_product = (self.u_product as f64 * u_t) as f32;
        let u_prod = self.u_product as f64;
        NadamStep {
            lr,
            one_minus_beta_1: 1.0 - self.beta_1,
            one_minus_beta_2: 1.0 - self.beta_2,
            m_coef: (u_t1 / (1.0 - u_prod * u_t1)) as f32,
            g_coef: ((1.0 - u_t) / (1.0 - u_prod)) as f32,
            v_coef: (1.0 / (1.0 - b2.powf(t))) as f32,
            epsilon: self.epsilon,
        }
    }

    #[inline(always)]
    fn update(s: &NadamStep, pre: Pre, w: &mut [f32], g: &[f32], slots: &mut [&mut [f32]]) {
        let [m, v] = slots else { return };
        for (((w, &g), m), v) in w.iter_mut().zip(g).zip(m.iter_mut()).zip(v.iter_mut()) {
            let g = pre.grad(g);
            *m += (g - *m) * s.one_minus_beta_1;
            *v += (g * g - *v) * s.one_minus_beta_2;
            let m_hat = s.m_coef * *m + s.g_coef * g;
            let v_hat = *v * s.v_coef;
            *w = pre.decayed(*w) - m_hat * s.lr / (v_hat.sqrt() + s.epsilon);
        }
    }

    fn config(&self) -> Config {
        Config::new()
            .set("beta_1", self.beta_1)
            .set("beta_2", self.beta_2)
            .set("epsilon", self.epsilon)
    }

    fn scalar_state(&self) -> Vec<(&'static str, f32)> {
        vec![("u_product", self.u_product)]
    }

    fn set_scalar_state(&mut self, values: &[f32]) {
        if let [u] = values {
            self.u_product = *u;
        }
    }
}
