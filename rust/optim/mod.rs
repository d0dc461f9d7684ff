//! Optimizers: Keras 3's algorithms, formulas and hyperparameters
//! (`keras/src/optimizers/*.py`), with fused in-place updates (one pass per parameter).
//!
//! Build one from Keras's class name and `get_config()` dictionary with [`from_config`]
//! (`from_config("adam", &Config::new().set("learning_rate", 1e-3))`), or with defaults
//! with [`get`]. Each is a [`Fused`] engine (the common Keras machinery) around a
//! [`Rule`] (the algorithm's per-element update).
pub mod clip;
pub mod config;
mod fused;
pub mod schedules;

mod adadelta;
mod adagrad;
mod adam;
mod adamax;
mod ftrl;
mod lion;
mod nadam;
mod rmsprop;
mod sgd;

pub use adadelta::Adadelta;
pub use adagrad::Adagrad;
pub use adam::Adam;
pub use adamax::Adamax;
pub use config::{Config, Value};
pub use ftrl::Ftrl;
pub use fused::{Fused, Rule, Slot};
pub use lion::Lion;
pub use nadam::Nadam;
pub use rmsprop::RMSprop;
pub use schedules::Schedule;
pub use sgd::SGD;

use crate::autograd::Variable;
use crate::error::Result;
use crate::tensor::Tensor;
use crate::value_err;
use config::Args;

pub trait Optimizer: Send {
    /// The instance name (Keras's `name`, "adam" by default).
    fn name(&self) -> &str;
    /// Keras's class name ("Adam").
    fn class_name(&self) -> &str;
    /// Creates the slot variables for `vars` (done by the first `apply` otherwise); a
    /// no-op once built.
    fn build(&mut self, vars: &[Variable]) -> Result<()>;
    /// The variables the optimizer was built with (empty before `build` or the first step).
    fn built_variables(&self) -> Vec<Variable>;
    /// Applies one step: each variable is updated in place from its gradient.
    fn apply(&mut self, grads: &[Tensor], vars: &[Variable]) -> Result<()>;
    /// The learning rate the next step will use.
    fn learning_rate(&self) -> f32;
    /// Overrides the learning rate (replacing a schedule), as assigning `optimizer.learning_rate` does in Keras.
    /// An `External` learning rate stays external (it is the value for the next step).
    fn set_learning_rate(&mut self, lr: f32);
    /// Replaces the learning rate or schedule.
    fn set_learning_rate_schedule(&mut self, lr: LearningRate);
    fn learning_rate_schedule(&self) -> &LearningRate;
    /// Steps taken so far (Keras's `iterations`; counted in updates when gradients are
    /// accumulated).
    fn iterations(&self) -> u64;
    /// The state as Keras's `optimizer.variables`: "iteration" (int64), "learning_rate"
    /// when it is a constant, then the slot variables in Keras's creation order and names
    /// (`{variable}_momentum`, ...), then scalar state such as Nadam's "u_product".
    fn variables(&self) -> Vec<(String, Tensor)>;
    /// Restores values in the order of `variables()` (the optimizer must be built on the
    /// same variables first, as Keras's `set_weights` requires).
    fn set_variables(&mut self, values: &[Tensor]) -> Result<()>;
    /// Variables (by identity) and name substrings that weight decay skips.
    fn exclude_from_weight_decay(&mut self, vars: &[Variable], names: &[String]);
    /// With `use_ema`, overwrites `vars` with their moving averages (Keras calls this at
    /// the end of `fit`); otherwise does nothing.
    fn finalize_variable_values(&mut self, vars: &[Variable]) -> Result<()>;
    /// Keras's `get_config()`.
    fn config(&self) -> Config;
}

/// Where the learning rate comes from.
#[derive(Clone, Debug, PartialEq)]
pub enum LearningRate {
    /// A float; part of the state ("learning_rate" in `variables()`), as Keras tracks it.
    Constant(f32),
    /// A built-in schedule evaluated at the iteration count before each step.
    Schedule(Schedule),
    /// Set by the driver before each step (a Python schedule subclass or callable); not
    /// part of the state.
    External(f32),
}

/// The arguments every Keras optimizer takes (`BaseOptimizer.__init__`).
#[derive(Clone, Debug)]
pub struct Common {
    pub name: String,
    pub learning_rate: LearningRate,
    pub weight_decay: Option<f32>,
    pub clipnorm: Option<f32>,
    pub clipvalue: Option<f32>,
    pub global_clipnorm: Option<f32>,
    pub use_ema: bool,
    pub ema_momentum: f32,
    pub ema_overwrite_frequency: Option<u64>,
    pub loss_scale_factor: Option<f32>,
    pub gradient_accumulation_steps: Option<u64>,
}

impl Common {
    /// Keras's defaults with the given name and learning rate.
    pub fn new(name: &str, learning_rate: f32) -> Common {
        Common {
            name: name.to_string(),
            learning_rate: LearningRate::Constant(learning_rate),
            weight_decay: None,
            clipnorm: None,
            clipvalue: None,
            global_clipnorm: None,
            use_ema: false,
            ema_momentum: 0.99,
            ema_overwrite_frequency: None,
            loss_scale_factor: None,
            gradient_accumulation_steps: None,
        }
    }

    fn from_args(a: &Args<'_>, name: &str, learning_rate: f32) -> Result<Common> {
        let lr = match a.raw("learning_rate") {
            None => LearningRate::Constant(learning_rate),
            Some(Value::Float(x)) => LearningRate::Constant(*x as f32),
            Some(Value::Int(x)) => LearningRate::Constant(*x as f32),
            Some(Value::Dict(d)) => {
                let class = match d.get("class_name") {
                    Some(Value::Str(s)) => s.clone(),
                    _ => {
                        return Err(value_err!(
                            "{}: a learning_rate schedule config needs a `class_name`",
                            a.owner()
                        ))
                    }
                };
                let cfg = match d.get("config") {
                    Some(Value::Dict(c)) => c.clone(),
                    _ => Config::new(),
                };
                LearningRate::Schedule(Schedule::from_config(&class, &cfg)?)
            }
            Some(v) => {
                return Err(value_err!(
                    "{}: argument `learning_rate` should be a float or a LearningRateSchedule, \
                     received {v:?}",
                    a.owner()
                ))
            }
        };
        // Keras warns that `decay` is no longer supported and ignores it.
        let _ = a.raw("decay");
        Ok(Common {
            name: a.opt_str("name")?.unwrap_or_else(|| name.to_string()),
            learning_rate: lr,
            weight_decay: a.opt_f32("weight_decay")?,
            clipnorm: a.opt_f32("clipnorm")?,
            clipvalue: a.opt_f32("clipvalue")?,
            global_clipnorm: a.opt_f32("global_clipnorm")?,
            use_ema: a.bool("use_ema", false)?,
            ema_momentum: a.f32("ema_momentum", 0.99)?,
            ema_overwrite_frequency: a.opt_u64("ema_overwrite_frequency")?,
            loss_scale_factor: a.opt_f32("loss_scale_factor")?,
            gradient_accumulation_steps: a.opt_u64("gradient_accumulation_steps")?,
        })
    }

    /// Keras's argument checks.
    pub fn validate(&self, owner: &str) -> Result<()> {
        let clips = [self.clipnorm, self.clipvalue, self.global_clipnorm];
        if clips.iter().filter(|c| c.is_some()).count() > 1 {
            return Err(value_err!(
                "{owner}: only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be set. \
                 Received: clipnorm={}, clipvalue={}, global_clipnorm={}",
                show(self.clipnorm),
                show(self.clipvalue),
                show(self.global_clipnorm)
            ));
        }
        if let Some(n) = self.gradient_accumulation_steps {
            if n == 1 {
                return Err(value_err!(
                    "{owner}: `gradient_accumulation_steps` must be an integer >= 2. \
                     Received: gradient_accumulation_steps={n}"
                ));
            }
        }
        if self.use_ema {
            if !(0.0..=1.0).contains(&self.ema_momentum) {
                return Err(value_err!(
                    "{owner}: `ema_momentum` must be in the range [0, 1]. Received: ema_momentum={}",
                    self.ema_momentum
                ));
            }
            if self.ema_overwrite_frequency == Some(0) {
                return Err(value_err!(
                    "{owner}: `ema_overwrite_frequency` must be an integer >= 1 or None. \
                     Received: ema_overwrite_frequency=0"
                ));
            }
        }
        if let Some(s) = self.loss_scale_factor {
            if s == 0.0 || !s.is_finite() {
                return Err(value_err!(
                    "{owner}: `loss_scale_factor` must be a finite non-zero float, received {s}"
                ));
            }
        }
        Ok(())
    }
}

fn show(x: Option<f32>) -> String {
    x.map_or("None".to_string(), |v| v.to_string())
}

/// The optimizers `from_config` and `get` know, by Keras class name.
pub const OPTIMIZER_NAMES: [&str; 10] = [
    "Adadelta", "Adagrad", "Adam", "AdamW", "Adamax", "Ftrl", "Lion", "Nadam", "RMSprop", "SGD",
];

fn boxed<R: Rule>(class: &'static str, common: Common, rule: R) -> Result<Box<dyn Optimizer>> {
    Ok(Box::new(Fused::new(class, common, rule)?))
}

/// Builds an optimizer from its Keras class name (any case: "adam", "Adam", "sgd") and
/// its `get_config()` dictionary (missing entries take Keras's defaults; unknown entries
/// are an error).
pub fn from_config(class_name: &str, cfg: &Config) -> Result<Box<dyn Optimizer>> {
    let lower = class_name.to_ascii_lowercase();
    let Some(class) = OPTIMIZER_NAMES
        .iter()
        .copied()
        .find(|n| n.to_ascii_lowercase() == lower)
    else {
        return Err(value_err!(
            "Could not interpret optimizer identifier: {class_name:?}; known optimizers: {}",
            OPTIMIZER_NAMES.join(", ")
        ));
    };
    let a = Args::new(cfg, class);
    let opt = match class {
        "SGD" => boxed(
            class,
            Common::from_args(&a, "SGD", 0.01)?,
            SGD::from_args(&a)?,
        ),
        "RMSprop" => boxed(
            class,
            Common::from_args(&a, "rmsprop", 0.001)?,
            RMSprop::from_args(&a)?,
        ),
        "Adam" => boxed(
            class,
            Common::from_args(&a, "adam", 0.001)?,
            Adam::from_args(&a)?,
        ),
        "AdamW" => {
            if cfg.get("weight_decay") == Some(&Value::None) {
                return Err(value_err!(
                    "AdamW: Argument `weight_decay` must be a float. Received: weight_decay=None"
                ));
            }
            let mut common = Common::from_args(&a, "adamw", 0.001)?;
            common.weight_decay.get_or_insert(0.004);
            boxed(class, common, Adam::from_args(&a)?)
        }
        "Adagrad" => boxed(
            class,
            Common::from_args(&a, "adagrad", 0.001)?,
            Adagrad::from_args(&a)?,
        ),
        "Adadelta" => boxed(
            class,
            Common::from_args(&a, "adadelta", 0.001)?,
            Adadelta::from_args(&a)?,
        ),
        "Adamax" => boxed(
            class,
            Common::from_args(&a, "adamax", 0.001)?,
            Adamax::from_args(&a)?,
        ),
        "Nadam" => boxed(
            class,
            Common::from_args(&a, "nadam", 0.001)?,
            Nadam::from_args(&a)?,
        ),
        "Ftrl" => boxed(
            class,
            Common::from_args(&a, "ftrl", 0.001)?,
            Ftrl::from_args(&a)?,
        ),
        _ => boxed(
            class,
            Common::from_args(&a, "lion", 0.001)?,
            Lion::from_args(&a)?,
        ),
    }?;
    a.finish()?;
    Ok(opt)
}

/// An optimizer with Keras's defaults, by name ("adam", "sgd", "rmsprop", ...).
pub fn get(name: &str) -> Result<Box<dyn Optimizer>> {
    from_config(name, &Config::new())
}
