//! Normalization layers: `BatchNormalization` (batch statistics in training, moving ones in
//! inference, and inference mode whenever the layer is frozen), `LayerNormalization`,
//! `GroupNormalization` and `UnitNormalization`, each one fused op of `ops::normalization`.
use super::{incompatible, project_weights, single_input, weight_penalties};
use crate::autograd::Variable;
use crate::error::Result;
use crate::nn::constraints::Constraint;
use crate::nn::regularizers::Regularizer;
use crate::nn::{Context, Layer};
use crate::ops::{self, NormKind};
use crate::tensor::{normalize_axes, normalize_axis, Tensor};
use crate::value_err;
use std::sync::atomic::{AtomicBool, Ordering};

/// The optional `gamma` (scale) and `beta` (offset) of a normalization layer, with their
/// regularizers and constraints.
struct Affine {
    gamma: Option<Variable>,
    beta: Option<Variable>,
    regularizers: [Option<Regularizer>; 2],
    constraints: [Option<Constraint>; 2],
}

impl Affine {
    /// Checks that both weights, when present, have `shape`.
    fn new(
        layer: &str,
        shape: &[usize],
        gamma: Option<Variable>,
        beta: Option<Variable>,
    ) -> Result<Affine> {
        for v in gamma.iter().chain(&beta) {
            if v.shape() != shape {
                return Err(value_err!(
                    "Layer \"{layer}\": weight '{}' has shape {:?}, expected {shape:?}",
                    v.name(),
                    v.shape()
                ));
            }
        }
        Ok(Affine {
            gamma,
            beta,
            regularizers: [None, None],
            constraints: [None, None],
        })
    }

    fn values(&self) -> (Option<Tensor>, Option<Tensor>) {
        (
            self.gamma.as_ref().map(Variable::value),
            self.beta.as_ref().map(Variable::value),
        )
    }

    fn variables(&self) -> impl Iterator<Item = Variable> + '_ {
        self.gamma.iter().chain(&self.beta).cloned()
    }

    fn regularization(&self) -> Result<Option<Tensor>> {
        let weights: Vec<_> = [&self.gamma, &self.beta]
            .into_iter()
            .zip(self.regularizers)
            .filter_map(|(v, r)| v.as_ref().map(|v| (v, r)))
            .collect();
        weight_penalties(&weights)
    }

    fn apply_constraints(&self) -> Result<()> {
        let weights: Vec<_> = [&self.gamma, &self.beta]
            .into_iter()
            .zip(&self.constraints)
            .filter_map(|(v, c)| v.as_ref().map(|v| (v, c)))
            .collect();
        project_weights(&weights)
    }
}

/// Builder methods and the weight hooks every layer here shares through its `affine`.
macro_rules! affine_layer {
    ($t:ty) => {
        impl $t {
            /// The gamma and beta regularizers (Keras's `gamma_regularizer`, `beta_regularizer`).
            pub fn with_regularizers(
                mut self,
                gamma: Option<Regularizer>,
                beta: Option<Regularizer>,
            ) -> Self {
                self.affine.regularizers = [gamma, beta];
                self
            }

            /// The gamma and beta constraints.
            pub fn with_constraints(
                mut self,
                gamma: Option<Constraint>,
                beta: Option<Constraint>,
            ) -> Self {
                self.affine.constraints = [gamma, beta];
                self
            }
        }
    };
}

/// The axes of `axes` resolved against `x`, or an error naming the layer.
fn layer_axes(layer: &str, axes: &[isize], x: &Tensor) -> Result<Vec<usize>> {
    normalize_axes(layer, Some(axes), x.ndim()).map_err(|_| {
        value_err!(
            "Layer \"{layer}\": axis {axes:?} is out of bounds for input shape {:?}",
            x.shape()
        )
    })
}

/// `keras.layers.BatchNormalization`: in training, normalizes each feature (the entries of
/// `axis`) by the batch's mean and variance and updates the moving statistics in place,
/// `moving = moving * momentum + batch * (1 - momentum)`; in inference, or whenever the
/// layer is frozen (`trainable = False`), normalizes by the moving statistics.
pub struct BatchNormalization {
    name: String,
    axis: usize,
    ndim: usize,
    momentum: f32,
    epsilon: f32,
    affine: Affine,
    moving_mean: Variable,
    moving_variance: Variable,
    trainable: AtomicBool,
}

affine_layer!(BatchNormalization);

impl BatchNormalization {
    /// A layer for rank-`ndim` inputs with the features on `axis` (resolved, `< ndim`);
    /// every weight has shape `(features,)`, taken from `moving_mean`.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        name: &str,
        axis: usize,
        ndim: usize,
        momentum: f32,
        epsilon: f32,
        gamma: Option<Variable>,
        beta: Option<Variable>,
        moving_mean: Variable,
        moving_variance: Variable,
    ) -> Result<BatchNormalization> {
        if axis >= ndim {
            return Err(value_err!(
                "BatchNormalization layer \"{name}\": axis {axis} is out of range for inputs of rank {ndim}"
            ));
        }
        let shape = moving_mean.shape();
        if shape.len() != 1 || moving_variance.shape() != shape {
            return Err(value_err!(
                "BatchNormalization layer \"{name}\": moving_mean {shape:?} and moving_variance {:?} must be vectors of the same length",
                moving_variance.shape()
            ));
        }
        Ok(BatchNormalization {
            name: name.to_string(),
            axis,
            ndim,
            momentum,
            epsilon,
            affine: Affine::new(name, &shape, gamma, beta)?,
            moving_mean,
            moving_variance,
            trainable: AtomicBool::new(true),
        })
    }

    pub fn features(&self) -> usize {
        self.moving_mean.shape()[0]
    }

    pub fn trainable(&self) -> bool {
        self.trainable.load(Ordering::Relaxed)
    }
}

impl Layer for BatchNormalization {
    fn name(&self) -> &str {
        &self.name
    }

    /// Keras: `supports_masking = True` (masks pass through).
    fn supports_masking(&self) -> bool {
        true
    }

    fn call(&self, inputs: &[Tensor], ctx: &mut Context) -> Result<Vec<Tensor>> {
        let x = single_input(&self.name, inputs)?;
        x.expect_f32(&format!("BatchNormalization layer \"{}\"", self.name))?;
        if x.ndim() != self.ndim {
            return Err(incompatible(
                &self.name,
                format!("ndim={}, found ndim={}", self.ndim, x.ndim()),
                x.shape(),
            ));
        }
        let c = self.features();
        if x.shape()[self.axis] != c {
            return Err(incompatible(
                &self.name,
                format!("axis {} of input shape to have value {c}", self.axis),
                x.shape(),
            ));
        }
        let (gamma, beta) = self.affine.values();
        if !(ctx.training && self.trainable()) {
            let y = ops::batch_normalization(
                x,
                &self.moving_mean.data(),
                &self.moving_variance.data(),
                self.axis as isize,
                beta.as_ref(),
                gamma.as_ref(),
                self.epsilon,
            )?;
            return Ok(vec![y]);
        }
        let axes: Vec<usize> = (0..self.ndim).filter(|&d| d != self.axis).collect();
        let out = ops::normalization(
            "batch_normalization",
            x,
            &axes,
            &[self.axis],
            gamma.as_ref(),
            beta.as_ref(),
            self.epsilon,
            NormKind::Standard,
        )?;
        if x.numel() > 0 {
            let m = self.momentum;
            for (moving, batch) in [
                (&self.moving_mean, &out.mean),
                (&self.moving_variance, &out.variance),
            ] {
                let batch = batch.f32_data()?;
                moving.update(|v| {
                    for (v, &b) in v.iter_mut().zip(batch.iter()) {
                        *v = *v * m + b * (1.0 - m);
                    }
                })?;
            }
        }
        Ok(vec![out.output])
    }

    fn variables(&self) -> Vec<Variable> {
        self.affine
            .variables()
            .chain([self.moving_mean.clone(), self.moving_variance.clone()])
            .collect()
    }

    fn regularization(&self) -> Result<Option<Tensor>> {
        self.affine.regularization()
    }

    fn apply_constraints(&self) -> Result<()> {
        self.affine.apply_constraints()
    }

    fn set_trainable(&self, trainable: bool) {
        self.trainable.store(trainable, Ordering::Relaxed)
    }
}

/// `keras.layers.LayerNormalization`: each sample normalized over `axes`, with `gamma` and
/// `beta` over the same axes (shape: the input's dimensions on `axes`, in the given order).
/// With `rms_scaling`, `x / sqrt(var + epsilon) * gamma` as Keras computes it.
pub struct LayerNormalization {
    name: String,
    axes: Vec<isize>,
    epsilon: f32,
    rms_scaling: bool,
    affine: Affine,
}

affine_layer!(LayerNormalization);

impl LayerNormalization {
    pub fn new(
        name: &str,
        axes: Vec<isize>,
        epsilon: f32,
        rms_scaling: bool,
        gamma: Option<Variable>,
        beta: Option<Variable>,
    ) -> Result<LayerNormalization> {
        if axes.is_empty() {
            return Err(value_err!(
                "LayerNormalization layer \"{name}\": `axis` must name at least one axis"
            ));
        }
        let shape = gamma.as_ref().or(beta.as_ref()).map(|v| v.shape());
        let affine = Affine::new(name, shape.as_deref().unwrap_or_default(), gamma, beta)?;
        Ok(LayerNormalization {
            name: name.to_string(),
            axes,
            epsilon,
            rms_scaling,
            affine,
        })
    }
}

impl Layer for LayerNormalization {
    fn name(&self) -> &str {
        &self.name
    }

    /// Keras: `supports_masking = True` (masks pass through).
    fn supports_masking(&self) -> bool {
        true
    }

    fn call(&self, inputs: &[Tensor], _ctx: &mut Context) -> Result<Vec<Tensor>> {
        let x = single_input(&self.name, inputs)?;
        x.expect_f32(&format!("LayerNormalization layer \"{}\"", self.name))?;
        let axes = layer_axes(&self.name, &self.axes, x)?;
        let dims: Vec<usize> = self
            .axes
            .iter()
            .map(|&a| normalize_axis("", a, x.ndim()).map(|a| x.shape()[a]))
            .collect::<Result<_>>()?;
        if let Some(v) = self.affine.gamma.iter().chain(&self.affine.beta).next() {
            if v.shape() != dims {
                return Err(incompatible(
                    &self.name,
                    format!(
                        "axes {:?} of input shape to have values {:?}",
                        self.axes,
                        v.shape()
                    ),
                    x.shape(),
                ));
            }
        }
        let (gamma, beta) = self.affine.values();
        let y = ops::layer_normalization(
            x,
            gamma.as_ref(),
            beta.as_ref(),
            &axes.iter().map(|&a| a as isize).collect::<Vec<_>>(),
            self.epsilon,
            self.rms_scaling,
        )?;
        Ok(vec![y])
    }

    fn variables(&self) -> Vec<Variable> {
        self.affine.variables().collect()
    }

    fn regularization(&self) -> Result<Option<Tensor>> {
        self.affine.regularization()
    }

    fn apply_constraints(&self) -> Result<()> {
        self.affine.apply_constraints()
    }
}

/// `keras.layers.GroupNormalization`: the `channels` along `axis` split into `groups`, each
/// sample's group normalized over its channels and all non-batch axes; `gamma` and `beta`
/// have one value per channel.
pub struct GroupNormalization {
    name: String,
    groups: usize,
    axis: isize,
    epsilon: f32,
    channels: usize,
    affine: Affine,
}

affine_layer!(GroupNormalization);

impl GroupNormalization {
    pub fn new(
        name: &str,
        groups: usize,
        axis: isize,
        epsilon: f32,
        channels: usize,
        gamma: Option<Variable>,
        beta: Option<Variable>,
    ) -> Result<GroupNormalization> {
        if groups == 0 || groups > channels || channels % groups != 0 {
            return Err(value_err!(
                "GroupNormalization layer \"{name}\": the number of groups ({groups}) must divide the number of channels ({channels})"
            ));
        }
        Ok(GroupNormalization {
            name: name.to_string(),
            groups,
            axis,
            epsilon,
            channels,
            affine: Affine::new(name, &[channels], gamma, beta)?,
        })
    }
}

impl Layer for GroupNormalization {
    fn name(&self) -> &str {
        &self.name
    }

    /// Keras: `supports_masking = True` (masks pass through).
    fn supports_masking(&self) -> bool {
        true
    }

    fn call(&self, inputs: &[Tensor], _ctx: &mut Context) -> Result<Vec<Tensor>> {
        let x = single_input(&self.name, inputs)?;
        x.expect_f32(&format!("GroupNormalization layer \"{}\"", self.name))?;
        let ax = layer_axes(&self.name, &[self.axis], x)?[0];
        if ax == 0 || x.shape()[ax] != self.channels {
            return Err(incompatible(
                &self.name,
                format!(
                    "axis {} of input shape to have value {}",
                    self.axis, self.channels
                ),
                x.shape(),
            ));
        }
        let (gamma, beta) = self.affine.values();
        let y = ops::group_normalization(
            x,
            self.groups,
            ax as isize,
            gamma.as_ref(),
            beta.as_ref(),
            self.epsilon,
        )?;
        Ok(vec![y])
    }

    fn variables(&self) -> Vec<Variable> {
        self.affine.variables().collect()
    }

    fn regularization(&self) -> Result<Option<Tensor>> {
        self.affine.regularization()
    }

    fn apply_constraints(&self) -> Result<()> {
        self.affine.apply_constraints()
    }
}

/// `keras.layers.UnitNormalization`: `x / max(||x||_2, 1e-6)` over `axes` (Keras's
/// `x * rsqrt(max(sum(x^2), 1e-12))`).
pub struct UnitNormalization {
    name: String,
    axes: Vec<isize>,
}

impl UnitNormalization {
    pub fn new(name: &str, axes: Vec<isize>) -> Result<UnitNormalization> {
        if axes.is_empty() {
            return Err(value_err!(
                "UnitNormalization layer \"{name}\": `axis` must name at least one axis"
            ));
        }
        Ok(UnitNormalization {
            name: name.to_string(),
            axes,
        })
    }
}

impl Layer for UnitNormalization {
    fn name(&self) -> &str {
        &self.name
    }

    /// Keras: `supports_masking = True` (masks pass through).
    fn supports_masking(&self) -> bool {
        true
    }

    fn call(&self, inputs: &[Tensor], _ctx: &mut Context) -> Result<Vec<Tensor>> {
        let x = single_input(&self.name, inputs)?;
        x.expect_f32(&format!("UnitNormalization layer \"{}\"", self.name))?;
        layer_axes(&self.name, &self.axes, x)?;
        Ok(vec![ops::l2_normalize(x, &self.axes, 1e-6)?])
    }
}
