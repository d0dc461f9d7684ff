//! Learning-rate schedules with Keras's formulas and defaults
//! (`keras/src/optimizers/schedules/learning_rate_schedule.py`), evaluated from the
//! optimizer's iteration count (0 on the first step). Computed in f64.
use super::config::{Args, Config, Value};
use crate::error::Result;
use crate::value_err;
use std::f64::consts::PI;

#[derive(Clone, Debug, PartialEq)]
pub enum Schedule {
    /// `initial * decay_rate ^ (step / decay_steps)` (`floor` of the exponent if staircase).
    ExponentialDecay {
        initial_learning_rate: f64,
        decay_steps: f64,
        decay_rate: f64,
        staircase: bool,
        name: String,
    },
    /// `values[0]` while `step <= boundaries[0]`, `values[i]` while
    /// `boundaries[i-1] < step <= boundaries[i]`, `values[-1]` after the last boundary.
    PiecewiseConstantDecay {
        boundaries: Vec<f64>,
        values: Vec<f64>,
        name: String,
    },
    /// `(initial - end) * (1 - step / decay_steps) ^ power + end`, the step clipped to
    /// `decay_steps`, or with `cycle` the first multiple of `decay_steps` above the step.
    PolynomialDecay {
        initial_learning_rate: f64,
        decay_steps: f64,
        end_learning_rate: f64,
        power: f64,
        cycle: bool,
        name: String,
    },
    /// `initial / (1 + decay_rate * step / decay_steps)` (`floor` of the ratio if staircase).
    InverseTimeDecay {
        initial_learning_rate: f64,
        decay_steps: f64,
        decay_rate: f64,
        staircase: bool,
        name: String,
    },
    /// Optional linear warmup from `initial` to `warmup_target` over `warmup_steps`, then
    /// cosine decay to `alpha` times the start value over `decay_steps`.
    CosineDecay {
        initial_learning_rate: f64,
        decay_steps: f64,
        alpha: f64,
        warmup_target: Option<f64>,
        warmup_steps: f64,
        name: String,
    },
    /// SGDR: cosine decay over `first_decay_steps`, restarted with periods growing by
    /// `t_mul` and peaks scaled by `m_mul`.
    CosineDecayRestarts {
        initial_learning_rate: f64,
        first_decay_steps: f64,
        t_mul: f64,
        m_mul: f64,
        alpha: f64,
        name: String,
    },
}

/// Keras's class names of the built-in schedules.
pub const SCHEDULE_NAMES: [&str; 6] = [
    "ExponentialDecay",
    "PiecewiseConstantDecay",
    "PolynomialDecay",
    "InverseTimeDecay",
    "CosineDecay",
    "CosineDecayRestarts",
];

fn positive(owner: &str, key: &str, v: f64) -> Result<f64> {
    if v > 0.0 {
        Ok(v)
    } else {
        Err(value_err!(
            "{owner}: argument `{key}` must be > 0. Received: {key}={v}"
        ))
    }
}

impl Schedule {
    /// Builds a schedule from its Keras class name and `get_config()` dictionary.
    pub fn from_config(class_name: &str, cfg: &Config) -> Result<Schedule> {
        let a = Args::new(cfg, class_name);
        let name = |default: &str| -> Result<String> {
            Ok(a.opt_str("name")?.unwrap_or_else(|| default.to_string()))
        };
        let s = match class_name {
            "ExponentialDecay" => Schedule::ExponentialDecay {
                initial_learning_rate: a.req_f64("initial_learning_rate")?,
                decay_steps: positive(class_name, "decay_steps", a.req_f64("decay_steps")?)?,
                decay_rate: a.req_f64("decay_rate")?,
                staircase: a.bool("staircase", false)?,
                name: name("ExponentialDecay")?,
            },
            "PiecewiseConstantDecay" => {
                let boundaries = a.numbers("boundaries")?;
                let values = a.numbers("values")?;
                if boundaries.len() + 1 != values.len() {
                    return Err(value_err!(
                        "PiecewiseConstantDecay: the length of boundaries should be 1 less than \
                         the length of values. Received: boundaries={boundaries:?} of length {}, \
                         and values={values:?} of length {}.",
                        boundaries.len(),
                        values.len()
                    ));
                }
                Schedule::PiecewiseConstantDecay {
                    boundaries,
                    values,
                    name: name("PiecewiseConstant")?,
                }
            }
            "PolynomialDecay" => Schedule::PolynomialDecay {
                initial_learning_rate: a.req_f64("initial_learning_rate")?,
                decay_steps: positive(class_name, "decay_steps", a.req_f64("decay_steps")?)?,
                end_learning_rate: a.f64("end_learning_rate", 0.0001)?,
                power: a.f64("power", 1.0)?,
                cycle: a.bool("cycle", false)?,
                name: name("PolynomialDecay")?,
            },
            "InverseTimeDecay" => Schedule::InverseTimeDecay {
                initial_learning_rate: a.req_f64("initial_learning_rate")?,
                decay_steps: positive(class_name, "decay_steps", a.req_f64("decay_steps")?)?,
                decay_rate: a.req_f64("decay_rate")?,
                staircase: a.bool("staircase", false)?,
                name: name("InverseTimeDecay")?,
            },
            "CosineDecay" => Schedule::CosineDecay {
                initial_learning_rate: a.req_f64("initial_learning_rate")?,
                decay_steps: positive(class_name, "decay_steps", a.req_f64("decay_steps")?)?,
                alpha: a.f64("alpha", 0.0)?,
                warmup_target: a.opt_f64("warmup_target")?,
                warmup_steps: a.f64("warmup_steps", 0.0)?,
                name: name("CosineDecay")?,
            },
            "CosineDecayRestarts" => Schedule::CosineDecayRestarts {
                initial_learning_rate: a.req_f64("initial_learning_rate")?,
                first_decay_steps: positive(
                    class_name,
                    "first_decay_steps",
                    a.req_f64("first_decay_steps")?,
                )?,
                t_mul: a.f64("t_mul", 2.0)?,
                m_mul: a.f64("m_mul", 1.0)?,
                alpha: a.f64("alpha", 0.0)?,
                name: name("SGDRDecay")?,
            },
            other => {
                return Err(value_err!(
                    "unknown learning rate schedule {other:?}; known schedules: {}",
                    SCHEDULE_NAMES.join(", ")
                ))
            }
        };
        a.finish()?;
        Ok(s)
    }

    pub fn class_name(&self) -> &'static str {
        match self {
            Schedule::ExponentialDecay { .. } => "ExponentialDecay",
            Schedule::PiecewiseConstantDecay { .. } => "PiecewiseConstantDecay",
            Schedule::PolynomialDecay { .. } => "PolynomialDecay",
            Schedule::InverseTimeDecay { .. } => "InverseTimeDecay",
            Schedule::CosineDecay { .. } => "CosineDecay",
            Schedule::CosineDecayRestarts { .. } => "CosineDecayRestarts",
        }
    }

    /// Keras's `get_config()` of this schedule.
    pub fn config(&self) -> Config {
        match self {
            Schedule::ExponentialDecay {
                initial_learning_rate,
                decay_steps,
                decay_rate,
                staircase,
                name,
            }
            | Schedule::InverseTimeDecay {
                initial_learning_rate,
                decay_steps,
                decay_rate,
                staircase,
                name,
            } => Config::new()
                .set("initial_learning_rate", *initial_learning_rate)
                .set("decay_steps", number(*decay_steps))
                .set("decay_rate", *decay_rate)
                .set("staircase", *staircase)
                .set("name", name.as_str()),
            Schedule::PiecewiseConstantDecay {
                boundaries,
                values,
                name,
            } => Config::new()
                .set(
                    "boundaries",
                    Value::List(boundaries.iter().map(|b| number(*b)).collect()),
                )
                .set("values", values.clone())
                .set("name", name.as_str()),
            Schedule::PolynomialDecay {
                initial_learning_rate,
                decay_steps,
                end_learning_rate,
                power,
                cycle,
                name,
            } => Config::new()
                .set("initial_learning_rate", *initial_learning_rate)
                .set("decay_steps", number(*decay_steps))
                .set("end_learning_rate", *end_learning_rate)
                .set("power", *power)
                .set("cycle", *cycle)
                .set("name", name.as_str()),
            Schedule::CosineDecay {
                initial_learning_rate,
                decay_steps,
                alpha,
                warmup_target,
                warmup_steps,
                name,
            } => Config::new()
                .set("initial_learning_rate", *initial_learning_rate)
                .set("decay_steps", number(*decay_steps))
                .set("alpha", *alpha)
                .set("name", name.as_str())
                .set("warmup_target", *warmup_target)
                .set("warmup_steps", number(*warmup_steps)),
            Schedule::CosineDecayRestarts {
                initial_learning_rate,
                first_decay_steps,
                t_mul,
                m_mul,
                alpha,
                name,
            } => Config::new()
                .set("initial_learning_rate", *initial_learning_rate)
                .set("first_decay_steps", number(*first_decay_steps))
                .set("t_mul", *t_mul)
                .set("m_mul", *m_mul)
                .set("alpha", *alpha)
                .set("name", name.as_str()),
        }
    }

    /// The learning rate at `step` (the optimizer's iteration count before the update).
    pub fn value(&self, step: f64) -> f64 {
        match self {
            Schedule::ExponentialDecay {
                initial_learning_rate,
                decay_steps,
                decay_rate,
                staircase,
                ..
            } => {
                let mut p = step / decay_steps;
                if *staircase {
                    p = p.floor();
                }
                initial_learning_rate * decay_rate.powf(p)
            }
            Schedule::PiecewiseConstantDecay {
                boundaries, values, ..
            } => {
                let i = boundaries.iter().take_while(|&&b| step > b).count();
                values[i]
            }
            Schedule::PolynomialDecay {
                initial_learning_rate,
                decay_steps,
                end_learning_rate,
                power,
                cycle,
                ..
            } => {
                let (mut step, mut decay_steps) = (step, *decay_steps);
                if *cycle {
                    let multiplier = if step == 0.0 {
                        1.0
                    } else {
                        (step / decay_steps).ceil()
                    };
                    decay_steps *= multiplier;
                } else {
                    step = step.min(decay_steps);
                }
                let p = step / decay_steps;
                (initial_learning_rate - end_learning_rate) * (1.0 - p).powf(*power)
                    + end_learning_rate
            }
            Schedule::InverseTimeDecay {
                initial_learning_rate,
                decay_steps,
                decay_rate,
                staircase,
                ..
            } => {
                let mut p = step / decay_steps;
                if *staircase {
                    p = p.floor();
                }
                initial_learning_rate / (1.0 + decay_rate * p)
            }
            Schedule::CosineDecay {
                initial_learning_rate,
                decay_steps,
                alpha,
                warmup_target,
                warmup_steps,
                ..
            } => {
                let decay = |step: f64, from: f64| {
                    let cosine = 0.5 * (1.0 + (PI * (step / decay_steps)).cos());
                    from * ((1.0 - alpha) * cosine + alpha)
                };
                match warmup_target {
                    None => decay(step.min(*decay_steps), *initial_learning_rate),
                    Some(target) => {
                        let step = step.min(decay_steps + warmup_steps);
                        if step < *warmup_steps {
                            (target - initial_learning_rate) * (step / warmup_steps)
                                + initial_learning_rate
                        } else {
                            decay(step - warmup_steps, *target)
                        }
                    }
                }
            }
            Schedule::CosineDecayRestarts {
                initial_learning_rate,
                first_decay_steps,
                t_mul,
                m_mul,
                alpha,
                ..
            } => {
                let fraction = step / first_decay_steps;
                let (i_restart, fraction) = if *t_mul == 1.0 {
                    let i = fraction.floor();
                    (i, fraction - i)
                } else {
                    let i = ((1.0 - fraction * (1.0 - t_mul)).ln() / t_mul.ln()).floor();
                    let sum_r = (1.0 - t_mul.powf(i)) / (1.0 - t_mul);
                    (i, (fraction - sum_r) / t_mul.powf(i))
                };
                let cosine = 0.5 * m_mul.powf(i_restart) * (1.0 + (PI * fraction).cos());
                initial_learning_rate * ((1.0 - alpha) * cosine + alpha)
            }
        }
    }
}

/// Step counts print as integers in configs when they are whole numbers, as Keras users
/// pass them.
fn number(x: f64) -> Value {
    if x.fract() == 0.0 && x.abs() < 9.0e15 {
        Value::Int(x as i64)
    } else {
        Value::Float(x)
    }
}
