//! The one optimizer engine: Keras's base-optimizer logic (build, learning rate or
//! schedule, clipping, decoupled weight decay, EMA, gradient accumulation, iteration
//! counter, state as `optimizer.variables`) around a `Rule`, the per-element update of
//! one algorithm. Each step makes one fused pass per parameter: the weight, its gradient
//! and its slots are read and written once, in SIMD loops, split across the pool for
//! large parameters.
use super::clip::{self, Pre};
use super::config::{Config, Value};
use super::{Common, LearningRate, Optimizer};
use crate::autograd::Variable;
use crate::cpu::pool::{self, PAR_MIN_ELEMS};
use crate::error::Result;
use crate::tensor::{DType, Tensor};
use crate::{type_err, value_err};
use pulp::Arch;
use rayon::prelude::*;
use smallvec::SmallVec;
use std::collections::HashMap;

/// Elements per parallel task.
const CHUNK: usize = 1 << 14;

/// A per-parameter slot variable of an algorithm (Adam's "momentum", ...).
#[derive(Clone, Copy, Debug)]
pub struct Slot {
    /// Keras's name suffix: the slot is called `{variable}_{name}`.
    pub name: &'static str,
    pub init: f32,
    /// False for slots Keras names without the variable prefix (Ftrl's "accumulator").
    pub prefixed: bool,
}

impl Slot {
    pub const fn zeros(name: &'static str) -> Slot {
        Slot {
            name,
            init: 0.0,
            prefixed: true,
        }
    }
}

/// The update rule of one algorithm, element by element.
pub trait Rule: Send + 'static {
    /// Constants of one step shared by every parameter (learning rate, bias corrections).
    type Step: Copy + Send + Sync;

    /// The slots each parameter gets, in Keras's creation order.
    fn slots(&self) -> Vec<Slot>;

    /// True when Keras creates all slots of one variable before the next variable's
    /// (Adamax, Ftrl); false when it creates one kind for all variables at a time.
    fn interleaved(&self) -> bool {
        false
    }

    /// The constants of the step about to run. `lr` is the learning rate, `t` the 1-based
    /// step (Keras's `iterations + 1`). Runs once per step, before any parameter update,
    /// and may advance scalar state (Nadam's `u_product`).
    fn begin(&mut self, lr: f32, t: u64) -> Self::Step;

    /// Updates one chunk in place. `w`, `g` and every slot have the same length; `g` is
    /// the raw gradient, to be passed through `pre.grad`, and `w` must first be decayed
    /// with `pre.decayed`. Must be `#[inline(always)]` so it is compiled for the SIMD
    /// level chosen at run time.
    fn update(step: &Self::Step, pre: Pre, w: &mut [f32], g: &[f32], slots: &mut [&mut [f32]]);

    /// The algorithm's own hyperparameters, as in Keras's `get_config()`.
    fn config(&self) -> Config;

    /// Scalar state beyond the slots, listed after them in `variables()`.
    fn scalar_state(&self) -> Vec<(&'static str, f32)> {
        Vec::new()
    }

    fn set_scalar_state(&mut self, _values: &[f32]) {}
}

struct VarState {
    var: Variable,
    shape: Vec<usize>,
    slots: Vec<Vec<f32>>,
    average: Option<Vec<f32>>,
    accumulator: Option<Vec<f32>>,
    decay: bool,
}

/// An optimizer: common Keras machinery around the rule `R`.
pub struct Fused<R: Rule> {
    class_name: &'static str,
    common: Common,
    rule: R,
    iterations: u64,
    built: bool,
    states: Vec<VarState>,
    index: HashMap<u64, usize>,
    exclude_ids: Vec<u64>,
    exclude_names: Vec<String>,
}

impl<R: Rule> Fused<R> {
    /// Checks the common arguments as Keras's base optimizer does.
    pub fn new(class_name: &'static str, common: Common, rule: R) -> Result<Fused<R>> {
        common.validate(class_name)?;
        Ok(Fused {
            class_name,
            common,
            rule,
            iterations: 0,
            built: false,
            states: Vec::new(),
            index: HashMap::new(),
            exclude_ids: Vec::new(),
            exclude_names: Vec::new(),
        })
    }

    pub fn rule(&self) -> &R {
        &self.rule
    }

    fn uses_decay(&self, v: &Variable) -> bool {
        self.common.weight_decay.is_some()
            && !self.exclude_ids.contains(&v.id())
            && !self
                .exclude_names
                .iter()
                .any(|n| v.name().contains(n.as_str()))
    }

    /// The learning rate at the current (raw) iteration count.
    fn current_lr(&self) -> f32 {
        match &self.common.learning_rate {
            LearningRate::Constant(x) | LearningRate::External(x) => *x,
            LearningRate::Schedule(s) => s.value(self.iterations as f64) as f32,
        }
    }

    fn accumulation(&self) -> Option<u64> {
        self.common.gradient_accumulation_steps.filter(|&n| n > 0)
    }

    /// Keras's `iterations` property: completed steps, counted in updates when gradients
    /// are accumulated.
    fn keras_iterations(&self) -> u64 {
        self.iterations / self.accumulation().unwrap_or(1)
    }

    /// Names and shapes of all state entries, in Keras's `optimizer.variables` order.
    fn layout(&self) -> Vec<(String, Vec<usize>)> {
        let mut out = vec![("iteration".to_string(), vec![])];
        if matches!(self.common.learning_rate, LearningRate::Constant(_)) {
            out.push(("learning_rate".to_string(), vec![]));
        }
        for (name, shape) in self.entries() {
            out.push((name, shape));
        }
        for (name, _) in self.scalar_state() {
            out.push((name.to_string(), vec![]));
        }
        out
    }

    /// The rule's scalar state, which exists once built (Keras creates it in `build`).
    fn scalar_state(&self) -> Vec<(&'static str, f32)> {
        if self.built {
            self.rule.scalar_state()
        } else {
            Vec::new()
        }
    }

    /// The per-variable entries in order, each as (name, shape).
    fn entries(&self) -> Vec<(String, Vec<usize>)> {
        self.entry_refs()
            .into_iter()
            .map(|e| {
                let st = &self.states[e.var];
                (entry_name(&st.var, e.name, e.prefixed), st.shape.clone())
            })
            .collect()
    }

    fn entry_refs(&self) -> Vec<EntryRef> {
        let mut out = Vec::new();
        if !self.built {
            return out;
        }
        let n = self.states.len();
        for i in 0..n {
            if self.common.use_ema {
                out.push(EntryRef::new(i, Kind::Average, "average", true));
            }
            if self.accumulation().is_some() {
                out.push(EntryRef::new(
                    i,
                    Kind::Accumulator,
                    "gradient_accumulator",
                    true,
                ));
            }
        }
        let slots = self.rule.slots();
        if self.rule.interleaved() {
            for i in 0..n {
                for (k, s) in slots.iter().enumerate() {
                    out.push(EntryRef::new(i, Kind::Slot(k), s.name, s.prefixed));
                }
            }
        } else {
            for (k, s) in slots.iter().enumerate() {
                for i in 0..n {
                    out.push(EntryRef::new(i, Kind::Slot(k), s.name, s.prefixed));
                }
            }
        }
        out
    }

    fn buffer(&self, e: &EntryRef) -> &[f32] {
        let st = &self.states[e.var];
        match e.kind {
            Kind::Average => st.average.as_deref().unwrap_or(&[]),
            Kind::Accumulator => st.accumulator.as_deref().unwrap_or(&[]),
            Kind::Slot(k) => &st.slots[k],
        }
    }

    fn buffer_mut(&mut self, e: &EntryRef) -> &mut Vec<f32> {
        let st = &mut self.states[e.var];
        match e.kind {
            Kind::Average => st.average.get_or_insert_with(Vec::new),
            Kind::Accumulator => st.accumulator.get_or_insert_with(Vec::new),
            Kind::Slot(k) => &mut st.slots[k],
        }
    }

    /// Adds this step's gradients to the accumulators (a step that does not update).
    fn accumulate(&mut self, idx: &[usize], grads: &[std::borrow::Cow<'_, [f32]>], inv: f32) {
        for (&i, g) in idx.iter().zip(grads) {
            if let Some(acc) = self.states[i].accumulator.as_mut() {
                for_chunks(acc, g, |a, g| {
                    for (a, &g) in a.iter_mut().zip(g) {
                        *a += g * inv;
                    }
                });
            }
        }
    }

    /// Updates the moving averages (and overwrites the weights with them when due).
    fn ema(&mut self, idx: &[usize]) -> Result<()> {
        if !self.common.use_ema {
            return Ok(());
        }
        let it = self.keras_iterations();
        let m = if it == 0 {
            0.0
        } else {
            self.common.ema_momentum
        };
        let overwrite = self
            .common
            .ema_overwrite_frequency
            .is_some_and(|f| f > 0 && (it + 1) % f == 0);
        for &i in idx {
            let st = &mut self.states[i];
            let Some(avg) = st.average.as_mut() else {
                continue;
            };
            st.var.update(|w| {
                for_chunks_mut(avg, w, |a, w| {
                    for (a, w) in a.iter_mut().zip(w.iter_mut()) {
                        *a = m * *a + (1.0 - m) * *w;
                        if overwrite {
                            *w = *a;
                        }
                    }
                })
            })?;
        }
        Ok(())
    }
}

#[derive(Clone, Copy)]
enum Kind {
    Average,
    Accumulator,
    Slot(usize),
}

struct EntryRef {
    var: usize,
    kind: Kind,
    name: &'static str,
    prefixed: bool,
}

impl EntryRef {
    fn new(var: usize, kind: Kind, name: &'static str, prefixed: bool) -> EntryRef {
        EntryRef {
            var,
            kind,
            name,
            prefixed,
        }
    }
}

/// Equal shapes up to dimensions of size 1 (a scalar saved as `[1]` restores into `[]`).
fn same_shape(a: &[usize], b: &[usize]) -> bool {
    a == b
        || a.iter()
            .filter(|&&d| d != 1)
            .eq(b.iter().filter(|&&d| d != 1))
}

/// Keras's `add_variable_from_reference` name: the variable's name with "/" and ":"
/// replaced by "_", then "_" and the slot name.
fn entry_name(var: &Variable, slot: &str, prefixed: bool) -> String {
    if prefixed {
        format!("{}_{slot}", var.name().replace(['/', ':'], "_"))
    } else {
        slot.to_string()
    }
}

/// `f(a_chunk, b_chunk)` over matching chunks, in parallel for large inputs.
fn for_chunks(a: &mut [f32], b: &[f32], f: impl Fn(&mut [f32], &[f32]) + Sync) {
    let k = |a: &mut [f32], b: &[f32]| Arch::new().dispatch(|| f(a, b));
    if a.len() < PAR_MIN_ELEMS {
        k(a, b)
    } else {
        pool::install(|| {
            a.par_chunks_mut(CHUNK)
                .zip(b.par_chunks(CHUNK))
                .for_each(|(a, b)| k(a, b))
        })
    }
}

fn for_chunks_mut(a: &mut [f32], b: &mut [f32], f: impl Fn(&mut [f32], &mut [f32]) + Sync) {
    let k = |a: &mut [f32], b: &mut [f32]| Arch::new().dispatch(|| f(a, b));
    if a.len() < PAR_MIN_ELEMS {
        k(a, b)
    } else {
        pool::install(|| {
            a.par_chunks_mut(CHUNK)
                .zip(b.par_chunks_mut(CHUNK))
                .for_each(|(a, b)| k(a, b))
        })
    }
}

/// `R::update` over one chunk, compiled for the instruction set `Arch` picks at run time.
/// (A `WithSimd` type rather than a closure: through a closure LLVM kept the loop outside
/// the target-feature function, at SSE width.)
struct Update<'a, 'b, R: Rule> {
    step: &'a R::Step,
    pre: Pre,
    w: &'a mut [f32],
    g: &'a [f32],
    slots: &'a mut [&'b mut [f32]],
}

impl<R: Rule> pulp::WithSimd for Update<'_, '_, R> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _simd: S) {
        R::update(self.step, self.pre, self.w, self.g, self.slots)
    }
}

/// One fused update of one parameter: `R::update` over the whole buffer, split into
/// chunks across the pool when it is large.
fn run<R: Rule>(step: &R::Step, pre: Pre, w: &mut [f32], g: &[f32], slots: &mut [Vec<f32>]) {
    let kernel = |w: &mut [f32], g: &[f32], slots: &mut [&mut [f32]]| {
        Arch::new().dispatch(Update::<R> {
            step,
            pre,
            w,
            g,
            slots,
        })
    };
    if w.len() < PAR_MIN_ELEMS {
        let mut s: SmallVec<[&mut [f32]; 4]> = slots.iter_mut().map(|v| v.as_mut_slice()).collect();
        kernel(w, g, &mut s);
        return;
    }
    let mut slot_chunks: SmallVec<[_; 4]> = slots.iter_mut().map(|v| v.chunks_mut(CHUNK)).collect();
    let jobs: Vec<_> = w
        .chunks_mut(CHUNK)
        .zip(g.chunks(CHUNK))
        .map(|(w, g)| {
            let s: SmallVec<[&mut [f32]; 4]> =
                slot_chunks.iter_mut().filter_map(|c| c.next()).collect();
            (w, g, s)
        })
        .collect();
    pool::install(|| {
        jobs.into_par_iter()
            .for_each(|(w, g, mut s)| kernel(w, g, &mut s))
    });
}

impl<R: Rule> Optimizer for Fused<R> {
    fn name(&self) -> &str {
        &self.common.name
    }

    fn class_name(&self) -> &str {
        self.class_name
    }

    fn build(&mut self, vars: &[Variable]) -> Result<()> {
        if self.built {
            return Ok(());
        }
        let slots = self.rule.slots();
        let mut states = Vec::with_capacity(vars.len());
        let mut index = HashMap::new();
        for (i, v) in vars.iter().enumerate() {
            let data = v.data();
            if data.dtype() != DType::F32 {
                return Err(type_err!(
                    "{}: cannot optimize variable '{}' of dtype {}; trainable variables must be float32",
                    self.class_name,
                    v.name(),
                    data.dtype().name()
                ));
            }
            let n = data.numel();
            index.insert(v.id(), i);
            states.push(VarState {
                var: v.clone(),
                shape: data.shape().to_vec(),
                slots: slots.iter().map(|s| vec![s.init; n]).collect(),
                average: self.common.use_ema.then(|| vec![0.0; n]),
                accumulator: self.accumulation().map(|_| vec![0.0; n]),
                decay: self.uses_decay(v),
            });
        }
        self.states = states;
        self.index = index;
        self.built = true;
        Ok(())
    }

    fn built_variables(&self) -> Vec<Variable> {
        self.states.iter().map(|s| s.var.clone()).collect()
    }

    fn apply(&mut self, grads: &[Tensor], vars: &[Variable]) -> Result<()> {
        let cls = self.class_name;
        if grads.len() != vars.len() {
            return Err(value_err!(
                "{cls}.apply: got {} gradients for {} variables; they must match one to one",
                grads.len(),
                vars.len()
            ));
        }
        if grads.is_empty() {
            return Ok(());
        }
        self.build(vars)?;
        let mut idx = Vec::with_capacity(vars.len());
        for (g, v) in grads.iter().zip(vars) {
            let Some(&i) = self.index.get(&v.id()) else {
                return Err(value_err!(
                    "{cls}: unknown variable '{}'. This optimizer can only be called for the \
                     variables it was originally built with. When working with a new set of \
                     variables, you should recreate a new optimizer instance.",
                    v.name()
                ));
            };
            if g.dtype() != DType::F32 {
                return Err(type_err!(
                    "{cls}: the gradient of variable '{}' must be float32, got {}",
                    v.name(),
                    g.dtype().name()
                ));
            }
            if g.shape() != self.states[i].shape.as_slice() {
                return Err(value_err!(
                    "{cls}: the gradient of variable '{}' has shape {:?}, but the variable has shape {:?}",
                    v.name(),
                    g.shape(),
                    self.states[i].shape
                ));
            }
            idx.push(i);
        }
        let data = grads
            .iter()
            .map(|g| g.f32_data())
            .collect::<Result<Vec<_>>>()?;
        let inv_scale = self.common.loss_scale_factor.map_or(1.0, |s| 1.0 / s);
        let lr = self.current_lr();

        // Gradient accumulation: only every n-th step updates, with the mean gradient.
        let mut averaged: Vec<Option<Vec<f32>>> = vec![None; idx.len()];
        if let Some(n) = self.accumulation() {
            if (self.iterations + 1) % n != 0 {
                self.accumulate(&idx, &data, inv_scale);
                self.ema(&idx)?;
                self.iterations += 1;
                return Ok(());
            }
            let nf = n as f32;
            for (k, (&i, g)) in idx.iter().zip(&data).enumerate() {
                if let Some(acc) = self.states[i].accumulator.as_mut() {
                    let mut mean = std::mem::take(acc);
                    for_chunks(&mut mean, g, |a, g| {
                        for (a, &g) in a.iter_mut().zip(g) {
                            *a = (g * inv_scale + *a) / nf;
                        }
                    });
                    *acc = vec![0.0; mean.len()];
                    averaged[k] = Some(mean);
                }
            }
        }
        let grad_of = |k: usize| -> (&[f32], f32) {
            match &averaged[k] {
                Some(m) => (m.as_slice(), 1.0),
                None => (&data[k], inv_scale),
            }
        };

        // Clipping factors (one extra read of the gradients, only when clipping).
        let c = &self.common;
        let mut scales = vec![1.0f32; idx.len()];
        if let Some(cn) = c.clipnorm.filter(|&x| x > 0.0) {
            for (k, s) in scales.iter_mut().enumerate() {
                let (g, sc) = grad_of(k);
                *s = clip::clipnorm_scale(clip::sum_squares(g, sc).sqrt(), cn);
            }
        } else if let Some(gn) = c.global_clipnorm.filter(|&x| x > 0.0) {
            let total: f64 = (0..idx.len())
                .map(|k| {
                    let (g, sc) = grad_of(k);
                    clip::sum_squares(g, sc)
                })
                .sum();
            scales.fill(clip::global_clipnorm_scale(total.sqrt(), gn));
        }
        let clipvalue = c
            .clipvalue
            .filter(|&x| x > 0.0 && c.clipnorm.is_none() && c.global_clipnorm.is_none())
            .unwrap_or(f32::INFINITY);
        let decay = c.weight_decay.map_or(0.0, |wd| wd * lr);

        let step = self.rule.begin(lr, self.keras_iterations() + 1);
        for (k, &i) in idx.iter().enumerate() {
            let (g, sc) = grad_of(k);
            let st = &mut self.states[i];
            let pre = Pre {
                scale: sc * scales[k],
                clip: clipvalue,
                decay: if st.decay { decay } else { 0.0 },
            };
            let slots = &mut st.slots;
            st.var.update(|w| run::<R>(&step, pre, w, g, slots))?;
        }
        self.ema(&idx)?;
        self.iterations += 1;
        Ok(())
    }

    fn learning_rate(&self) -> f32 {
        self.current_lr()
    }

    fn set_learning_rate(&mut self, lr: f32) {
        self.common.learning_rate = match self.common.learning_rate {
            LearningRate::External(_) => LearningRate::External(lr),
            _ => LearningRate::Constant(lr),
        };
    }

    fn set_learning_rate_schedule(&mut self, lr: LearningRate) {
        self.common.learning_rate = lr;
    }

    fn learning_rate_schedule(&self) -> &LearningRate {
        &self.common.learning_rate
    }

    fn iterations(&self) -> u64 {
        self.keras_iterations()
    }

    fn variables(&self) -> Vec<(String, Tensor)> {
        let mut out = vec![(
            "iteration".to_string(),
            Tensor::from_i64(vec![self.iterations as i64], &[]).expect("scalar"),
        )];
        if let LearningRate::Constant(lr) = self.common.learning_rate {
            out.push(("learning_rate".to_string(), Tensor::scalar(lr)));
        }
        for e in self.entry_refs() {
            let st = &self.states[e.var];
            let t = Tensor::from_f32(self.buffer(&e).to_vec(), &st.shape).expect("slot shape");
            out.push((entry_name(&st.var, e.name, e.prefixed), t));
        }
        for (name, v) in self.scalar_state() {
            out.push((name.to_string(), Tensor::scalar(v)));
        }
        out
    }

    fn set_variables(&mut self, values: &[Tensor]) -> Result<()> {
        let cls = self.class_name;
        let layout = self.layout();
        if values.len() != layout.len() {
            let hint = if self.built {
                ""
            } else {
                " (it has not been built yet: call build(variables) first)"
            };
            return Err(value_err!(
                "{cls}: cannot set {} state values on an optimizer with {} variables{hint}",
                values.len(),
                layout.len()
            ));
        }
        for ((name, shape), v) in layout.iter().zip(values) {
            if !same_shape(v.shape(), shape) {
                return Err(value_err!(
                    "{cls}: optimizer variable '{name}' has shape {shape:?}, not compatible with \
                     the provided value of shape {:?}",
                    v.shape()
                ));
            }
        }
        let iterations = values[0].item()?;
        if iterations.is_nan() || iterations < 0.0 {
            return Err(value_err!(
                "{cls}: the iteration count must be >= 0, got {iterations}"
            ));
        }
        let mut pos = 1;
        if let LearningRate::Constant(_) = self.common.learning_rate {
            self.common.learning_rate = LearningRate::Constant(values[1].item()?);
            pos = 2;
        }
        let refs = self.entry_refs();
        let slot_values = values[pos..pos + refs.len()]
            .iter()
            .map(|t| t.to_vec_f32())
            .collect::<Result<Vec<_>>>()?;
        let scalars = values[pos + refs.len()..]
            .iter()
            .map(|t| t.item())
            .collect::<Result<Vec<_>>>()?;
        for (e, v) in refs.iter().zip(slot_values) {
            *self.buffer_mut(e) = v;
        }
        self.rule.set_scalar_state(&scalars);
        self.iterations = match &values[0].dtype() {
            DType::I64 => values[0].i64_data()?[0] as u64,
            DType::F32 => iterations as u64,
        };
        Ok(())
    }

    fn exclude_from_weight_decay(&mut self, vars: &[Variable], names: &[String]) {
        self.exclude_ids = vars.iter().map(|v| v.id()).collect();
        self.exclude_names = names.to_vec();
        for i in 0..self.states.len() {
            let d = self.uses_decay(&self.states[i].var);
            self.states[i].decay = d;
        }
    }

    fn finalize_variable_values(&mut self, vars: &[Variable]) -> Result<()> {
        if !self.common.use_ema {
            return Ok(());
        }
        for v in vars {
            if let Some(&i) = self.index.get(&v.id()) {
                if let Some(avg) = &self.states[i].average {
                    v.update(|w| w.copy_from_slice(avg))?;
                }
            }
        }
        Ok(())
    }

    fn config(&self) -> Config {
        let c = &self.common;
        let lr: Value = match &c.learning_rate {
            LearningRate::Constant(x) | LearningRate::External(x) => Value::Float(*x as f64),
            LearningRate::Schedule(s) => Value::Dict(
                Config::new()
                    .set("module", "keras.optimizers.schedules")
                    .set("class_name", s.class_name())
                    .set("config", s.config())
                    .set("registered_name", Value::None),
            ),
        };
        let mut cfg = Config::new()
            .set("name", c.name.as_str())
            .set("learning_rate", lr)
            .set("weight_decay", c.weight_decay)
            .set("clipnorm", c.clipnorm)
            .set("global_clipnorm", c.global_clipnorm)
            .set("clipvalue", c.clipvalue)
            .set("use_ema", c.use_ema)
            .set("ema_momentum", c.ema_momentum)
            .set(
                "ema_overwrite_frequency",
                c.ema_overwrite_frequency.map(|x| x as i64),
            )
            .set("loss_scale_factor", c.loss_scale_factor)
            .set(
                "gradient_accumulation_steps",
                c.gradient_accumulation_steps.map(|x| x as i64),
            );
        cfg.extend(self.rule.config());
        cfg
    }
}
