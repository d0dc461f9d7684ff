//! Per-lane rules of the built-in losses: each returns the lane's loss and writes its
//! gradient with respect to the predictions, in closed form and numerically stable
//! (log-sum-exp for logits, Keras's clipping by epsilon for probabilities).

/// Keras's `backend.epsilon()`.
pub const EPS: f32 = 1e-7;

#[inline]
pub fn softplus(x: f32) -> f32 {
    x.max(0.0) + (-x.abs()).exp().ln_1p()
}

#[inline]
pub fn sigmoid(x: f32) -> f32 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

#[inline]
fn sign(x: f32) -> f32 {
    if x > 0.0 {
        1.0
    } else if x < 0.0 {
        -1.0
    } else {
        0.0
    }
}

/// `clip(p, EPS, 1 - EPS)` and whether `p` was inside (where the clip passes gradients).
#[inline]
fn clip_prob(p: f32) -> (f32, bool) {
    let hi = 1.0 - EPS;
    (p.clamp(EPS, hi), (EPS..=hi).contains(&p))
}

/// `base^gamma` and its derivative in `base` (0 where gamma is 0).
#[inline]
fn pow_d(base: f32, gamma: f32) -> (f32, f32) {
    if gamma == 0.0 {
        return (1.0, 0.0);
    }
    let d = if base == 0.0 && gamma >= 1.0 {
        if gamma == 1.0 {
            1.0
        } else {
            0.0
        }
    } else {
        gamma * base.powf(gamma - 1.0)
    };
    (base.powf(gamma), d)
}

/// Elementwise rules `(y_true, y_pred) -> (loss, d loss / d y_pred)`.
pub mod elem {
    use super::*;

    pub fn squared_error(t: f32, p: f32) -> (f32, f32) {
        let e = p - t;
        (e * e, 2.0 * e)
    }

    pub fn absolute_error(t: f32, p: f32) -> (f32, f32) {
        let e = p - t;
        (e.abs(), sign(e))
    }

    pub fn absolute_percentage_error(t: f32, p: f32) -> (f32, f32) {
        let den = t.abs().max(EPS);
        (100.0 * ((t - p) / den).abs(), 100.0 * sign(p - t) / den)
    }

    pub fn squared_log_error(t: f32, p: f32) -> (f32, f32) {
        let pm = p.max(EPS);
        let e = (pm + 1.0).ln() - (t.max(EPS) + 1.0).ln();
        let d = if p >= EPS { 2.0 * e / (pm + 1.0) } else { 0.0 };
        (e * e, d)
    }

    pub fn huber(delta: f32) -> impl Fn(f32, f32) -> (f32, f32) + Copy {
        move |t, p| {
            let e = p - t;
            if e.abs() <= delta {
                (0.5 * e * e, e)
            } else {
                (delta * e.abs() - 0.5 * delta * delta, delta * sign(e))
            }
        }
    }

    /// `log(cosh(x)) = x + softplus(-2x) - log(2)`, stable for large |x|.
    pub fn log_cosh(t: f32, p: f32) -> (f32, f32) {
        let x = p - t;
        (x + softplus(-2.0 * x) - std::f32::consts::LN_2, x.tanh())
    }

    pub fn poisson(t: f32, p: f32) -> (f32, f32) {
        (p - t * (p + EPS).ln(), 1.0 - t / (p + EPS))
    }

    pub fn kl_divergence(t: f32, p: f32) -> (f32, f32) {
        let tc = t.clamp(EPS, 1.0);
        let pc = p.clamp(EPS, 1.0);
        let d = if (EPS..=1.0).contains(&p) {
            -tc / pc
        } else {
            0.0
        };
        (tc * (tc / pc).ln(), d)
    }

    /// `t` already in {-1, 1} form.
    pub fn hinge(t: f32, p: f32) -> (f32, f32) {
        let m = 1.0 - t * p;
        if m >= 0.0 {
            (m, -t)
        } else {
            (0.0, 0.0)
        }
    }

    pub fn squared_hinge(t: f32, p: f32) -> (f32, f32) {
        let m = (1.0 - t * p).max(0.0);
        (m * m, -2.0 * m * t)
    }

    /// Binary crossentropy of a probability, clipped to [EPS, 1 - EPS] as Keras does.
    pub fn bce_prob(t: f32, p: f32) -> (f32, f32) {
        let (pc, inside) = clip_prob(p);
        let l = -(t * pc.ln() + (1.0 - t) * (1.0 - pc).ln());
        let d = if inside {
            -t / pc + (1.0 - t) / (1.0 - pc)
        } else {
            0.0
        };
        (l, d)
    }

    /// Binary crossentropy of a logit: `max(x, 0) - x t + log(1 + exp(-|x|))`, gradient
    /// `sigmoid(x) - t` (one exponential for both).
    pub fn bce_logit(t: f32, x: f32) -> (f32, f32) {
        let e = (-x.abs()).exp();
        let sig = if x >= 0.0 {
            1.0 / (1.0 + e)
        } else {
            e / (1.0 + e)
        };
        (x.max(0.0) + e.ln_1p() - x * t, sig - t)
    }

    /// Keras's binary focal crossentropy of one element (see `BinaryFocalCrossentropy`).
    pub fn binary_focal(
        balancing: Option<f32>,
        gamma: f32,
        from_logits: bool,
    ) -> impl Fn(f32, f32) -> (f32, f32) + Copy {
        move |t, x| {
            let (p, dp_dx) = if from_logits {
                let p = sigmoid(x);
                (p, p * (1.0 - p))
            } else {
                (x, 1.0)
            };
            let (b, db) = bce_prob(t, p);
            let p_t = t * p + (1.0 - t) * (1.0 - p);
            let (focal, dfocal) = pow_d(1.0 - p_t, gamma);
            let dfocal = dfocal * (1.0 - 2.0 * t);
            let w = balancing.map_or(1.0, |a| t * a + (1.0 - t) * (1.0 - a));
            (w * focal * b, w * (dfocal * b + focal * db) * dp_dx)
        }
    }
}

/// Mean (or sum) over a lane of an elementwise rule, against the lane's labels `t`.
#[inline]
pub fn reduce_lane(
    t: &[f32],
    p: &[f32],
    g: &mut [f32],
    mean: bool,
    f: impl Fn(f32, f32) -> (f32, f32),
) -> f32 {
    let scale = if mean { 1.0 / p.len() as f32 } else { 1.0 };
    let mut acc = 0.0f64;
    for ((gj, &tj), &pj) in g.iter_mut().zip(t).zip(p) {
        let (l, d) = f(tj, pj);
        acc += l as f64;
        *gj = d * scale;
    }
    acc as f32 * scale
}

/// Writes `softmax(x)` into `out` and returns `log(sum(exp(x)))` (one exponential per
/// element).
#[inline]
fn softmax_lse(x: &[f32], out: &mut [f32]) -> f32 {
    let m = x.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut s = 0.0f32;
    for (o, &v) in out.iter_mut().zip(x) {
        *o = (v - m).exp();
        s += *o;
    }
    let inv = 1.0 / s;
    out.iter_mut().for_each(|o| *o *= inv);
    m + s.ln()
}

/// Backpropagates `a = d loss / d clip(p / sum(p))` (already zero where clipped) to `p`:
/// `g_j = (a_j - sum_i a_i q_i) / s` with `q = p / s`.
#[inline]
fn through_normalization(a: &mut [f32], p: &[f32], s: f32) {
    let dot: f32 = a.iter().zip(p).map(|(&ai, &pi)| ai * pi / s).sum();
    for ai in a.iter_mut() {
        *ai = (*ai - dot) / s;
    }
}

/// Categorical crossentropy of a lane with (smoothed) labels `t`.
pub fn categorical_crossentropy(t: &[f32], x: &[f32], g: &mut [f32], from_logits: bool) -> f32 {
    if from_logits {
        let lse = softmax_lse(x, g);
        let st: f32 = t.iter().sum();
        let mut l = 0.0f64;
        for ((gj, &tj), &xj) in g.iter_mut().zip(t).zip(x) {
            l += (tj * (lse - xj)) as f64;
            *gj = *gj * st - tj;
        }
        l as f32
    } else {
        let s: f32 = x.iter().sum();
        let mut l = 0.0f64;
        for ((gj, &tj), &pj) in g.iter_mut().zip(t).zip(x) {
            let (c, inside) = clip_prob(pj / s);
            l -= (tj * c.ln()) as f64;
            *gj = if inside { -tj / c } else { 0.0 };
        }
        through_normalization(g, x, s);
        l as f32
    }
}

/// Sparse categorical crossentropy of a lane whose label is class `k`.
pub fn sparse_categorical_crossentropy(
    k: usize,
    x: &[f32],
    g: &mut [f32],
    from_logits: bool,
) -> f32 {
    if from_logits {
        let lse = softmax_lse(x, g);
        g[k] -= 1.0;
        lse - x[k]
    } else {
        let s: f32 = x.iter().sum();
        let (c, inside) = clip_prob(x[k] / s);
        g.fill(0.0);
        g[k] = if inside { -1.0 / c } else { 0.0 };
        through_normalization(g, x, s);
        -c.ln()
    }
}

/// Keras's categorical focal crossentropy of a lane: `sum_j alpha_j (1 - c_j)^gamma
/// (-t_j log c_j)` with `c = clip(p / sum(p))`, `p = softmax(x)` for logits.
pub fn categorical_focal(
    t: &[f32],
    x: &[f32],
    g: &mut [f32],
    alpha: &[f32],
    gamma: f32,
    from_logits: bool,
) -> f32 {
    let n = x.len();
    let mut soft = Vec::new();
    let p: &[f32] = if from_logits {
        soft.resize(n, 0.0);
        softmax_lse(x, &mut soft);
        &soft
    } else {
        x
    };
    let s: f32 = p.iter().sum();
    let mut l = 0.0f64;
    for j in 0..n {
        let a = if alpha.len() == 1 { alpha[0] } else { alpha[j] };
        let (c, inside) = clip_prob(p[j] / s);
        let ce = -t[j] * c.ln();
        let (m, dm) = pow_d(1.0 - c, gamma);
        l += (a * m * ce) as f64;
        g[j] = if inside {
            a * (-dm * ce - m * t[j] / c)
        } else {
            0.0
        };
    }
    through_normalization(g, p, s);
    if from_logits {
        let dot: f32 = g.iter().zip(p).map(|(&gj, &pj)| gj * pj).sum();
        for (gj, &pj) in g.iter_mut().zip(p) {
            *gj = pj * (*gj - dot);
        }
    }
    l as f32
}

/// `-sum(normalize(t) * normalize(p))` with Keras's `x * min(rsqrt(sum(x^2)), 1/EPS)`.
pub fn negative_cosine(t: &[f32], p: &[f32], g: &mut [f32]) -> f32 {
    let inv = |x: &[f32]| {
        let r = 1.0 / x.iter().map(|v| v * v).sum::<f32>().sqrt();
        (r.min(1.0 / EPS), r < 1.0 / EPS)
    };
    let (it, _) = inv(t);
    let (ip, unclipped) = inv(p);
    let dot: f32 = t.iter().zip(p).map(|(a, b)| a * b).sum();
    for ((gj, &tj), &pj) in g.iter_mut().zip(t).zip(p) {
        *gj = if unclipped {
            -it * ip * (tj - pj * ip * ip * dot)
        } else {
            -it * ip * tj
        };
    }
    -dot * it * ip
}

/// `max(max((1 - t) p) - sum(t p) + 1, 0)`; the gradient of the max is shared by ties.
pub fn categorical_hinge(t: &[f32], p: &[f32], g: &mut [f32]) -> f32 {
    let pos: f32 = t.iter().zip(p).map(|(a, b)| a * b).sum();
    let neg = t
        .iter()
        .zip(p)
        .map(|(a, b)| (1.0 - a) * b)
        .fold(f32::NEG_INFINITY, f32::max);
    let v = neg - pos + 1.0;
    if v < 0.0 {
        g.fill(0.0);
        return 0.0;
    }
    let ties = t
        .iter()
        .zip(p)
        .filter(|(a, b)| (1.0 - *a) * *b == neg)
        .count() as f32;
    for ((gj, &tj), &pj) in g.iter_mut().zip(t).zip(p) {
        let at_max = if (1.0 - tj) * pj == neg {
            1.0 / ties
        } else {
            0.0
        };
        *gj = -tj + (1.0 - tj) * at_max;
    }
    v
}
