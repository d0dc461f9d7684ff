//! The Keras convolution layers (Conv1D-3D, their transposes, DepthwiseConv1D/2D,
//! SeparableConv1D/2D) as one `Conv` layer over the ops in ops/conv.rs: the bias is fused
//! into the convolution, then the activation and the activity penalty follow.
use super::{incompatible, project_weights, single_input, weight_penalties};
use crate::autograd::Variable;
use crate::error::{Error, Result};
use crate::nn::activations::Activation;
use crate::nn::constraints::Constraint;
use crate::nn::regularizers::Regularizer;
use crate::nn::{Context, Layer};
use crate::ops::{self, ConvOptions, Padding};
use crate::tensor::Tensor;
use crate::value_err;

/// Which convolution a `Conv` layer computes, and the layout of its kernel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConvKind {
    /// Conv1D/2D/3D: kernel (*kernel_size, in_channels / groups, filters).
    Conv { groups: usize },
    /// Conv1D/2D/3DTranspose: kernel (*kernel_size, filters, in_channels).
    Transpose { output_padding: Option<Vec<usize>> },
    /// DepthwiseConv1D/2D: kernel (*kernel_size, in_channels, depth_multiplier).
    Depthwise,
    /// SeparableConv1D/2D: a depthwise kernel, then a pointwise kernel
    /// (*ones, in_channels * depth_multiplier, filters).
    Separable,
}

/// A convolution layer: weights shared with Python's `add_weight`, shapes checked on
/// every call, errors naming the layer.
pub struct Conv {
    name: String,
    kind: ConvKind,
    opts: ConvOptions,
    channels_first: bool,
    kernel: Variable,
    pointwise: Option<Variable>,
    bias: Option<Variable>,
    activation: Activation,
    kernel_regularizer: Option<Regularizer>,
    pointwise_regularizer: Option<Regularizer>,
    bias_regularizer: Option<Regularizer>,
    activity_regularizer: Option<Regularizer>,
    kernel_constraint: Option<Constraint>,
    pointwise_constraint: Option<Constraint>,
    bias_constraint: Option<Constraint>,
}

impl Conv {
    /// A layer over existing weights; `pointwise` is the separable layers' second kernel.
    pub fn new(
        name: &str,
        kind: ConvKind,
        opts: ConvOptions,
        kernel: Variable,
        pointwise: Option<Variable>,
        bias: Option<Variable>,
        activation: Activation,
    ) -> Result<Conv> {
        let layer = Conv {
            name: name.to_string(),
            kind,
            opts,
            channels_first: false,
            kernel,
            pointwise,
            bias,
            activation,
            kernel_regularizer: None,
            pointwise_regularizer: None,
            bias_regularizer: None,
            activity_regularizer: None,
            kernel_constraint: None,
            pointwise_constraint: None,
            bias_constraint: None,
        };
        layer.check_weights()?;
        Ok(layer)
    }

    /// Inputs and outputs as (batch, channels, *spatial): transposed around the kernels.
    pub fn channels_first(mut self, yes: bool) -> Conv {
        self.channels_first = yes;
        self
    }

    pub fn with_regularizers(
        mut self,
        kernel: Option<Regularizer>,
        pointwise: Option<Regularizer>,
        bias: Option<Regularizer>,
        activity: Option<Regularizer>,
    ) -> Conv {
        self.kernel_regularizer = kernel;
        self.pointwise_regularizer = pointwise;
        self.bias_regularizer = bias;
        self.activity_regularizer = activity;
        self
    }

    pub fn with_constraints(
        mut self,
        kernel: Option<Constraint>,
        pointwise: Option<Constraint>,
        bias: Option<Constraint>,
    ) -> Conv {
        self.kernel_constraint = kernel;
        self.pointwise_constraint = pointwise;
        self.bias_constraint = bias;
        self
    }

    /// The number of spatial axes.
    pub fn rank(&self) -> usize {
        self.kernel.shape().len().saturating_sub(2)
    }

    /// The Keras class this layer is, for messages.
    pub fn class_name(&self) -> String {
        let base = match self.kind {
            ConvKind::Conv { .. } => "Conv{}D",
            ConvKind::Transpose { .. } => "Conv{}DTranspose",
            ConvKind::Depthwise => "DepthwiseConv{}D",
            ConvKind::Separable => "SeparableConv{}D",
        };
        base.replace("{}", &self.rank().to_string())
    }

    /// The channels the inputs must have.
    pub fn in_channels(&self) -> usize {
        let ks = self.kernel.shape();
        let r = ks.len() - 2;
        match self.kind {
            ConvKind::Conv { groups } => ks[r] * groups,
            ConvKind::Transpose { .. } => ks[r + 1],
            ConvKind::Depthwise | ConvKind::Separable => ks[r],
        }
    }

    /// The channels of the outputs.
    pub fn out_channels(&self) -> usize {
        let ks = self.kernel.shape();
        let r = ks.len() - 2;
        match &self.kind {
            ConvKind::Conv { .. } => ks[r + 1],
            ConvKind::Transpose { .. } => ks[r],
            ConvKind::Depthwise => ks[r] * ks[r + 1],
            ConvKind::Separable => self
                .pointwise
                .as_ref()
                .map_or(0, |p| *p.shape().last().unwrap_or(&0)),
        }
    }

    fn error(&self, msg: impl std::fmt::Display) -> Error {
        value_err!("{} layer \"{}\": {msg}", self.class_name(), self.name)
    }

    fn check_weights(&self) -> Result<()> {
        let ks = self.kernel.shape();
        if !(3..=5).contains(&ks.len()) || ks.contains(&0) {
            return Err(value_err!(
                "convolution layer \"{}\": the kernel must have rank 3, 4 or 5 and no empty axis, got shape {ks:?}",
                self.name
            ));
        }
        let r = ks.len() - 2;
        if let ConvKind::Conv { groups } = self.kind {
            if groups == 0 || ks[r + 1] % groups != 0 {
                return Err(self.error(format!(
                    "the number of filters ({}) must be divisible by the number of groups ({groups})",
                    ks[r + 1]
                )));
            }
        }
        match (&self.kind, &self.pointwise) {
            (ConvKind::Separable, Some(p)) => {
                let ps = p.shape();
                if ps.len() != r + 2
                    || ps[..r].iter().any(|&k| k != 1)
                    || ps[r] != ks[r] * ks[r + 1]
                {
                    return Err(self.error(format!(
                        "the pointwise kernel must have shape {:?} + [{}, filters], got {ps:?}",
                        vec![1; r],
                        ks[r] * ks[r + 1]
                    )));
                }
            }
            (ConvKind::Separable, None) => return Err(self.error("a pointwise kernel is required")),
            (_, Some(_)) => {
                return Err(self.error("only separable convolutions take a pointwise kernel"))
            }
            (_, None) => {}
        }
        if let Some(b) = &self.bias {
            if b.shape() != [self.out_channels()] {
                return Err(self.error(format!(
                    "the bias must have shape [{}], got {:?}",
                    self.out_channels(),
                    b.shape()
                )));
            }
        }
        for (name, v) in [
            ("strides", &self.opts.strides),
            ("dilation_rate", &self.opts.dilation),
        ] {
            if !(v.len() == 1 || v.len() == r) || v.contains(&0) {
                return Err(self.error(format!(
                    "`{name}` must be 1 or {r} positive integers, got {v:?}"
                )));
            }
        }
        if self.opts.padding == Padding::Causal
            && (r != 1 || !matches!(self.kind, ConvKind::Conv { .. }))
        {
            return Err(self.error("causal padding is only for Conv1D"));
        }
        Ok(())
    }

    /// The convolution of channels-last inputs.
    fn convolve(&self, x: &Tensor) -> Result<Tensor> {
        let (kernel, bias) = (self.kernel.value(), self.bias.as_ref().map(Variable::value));
        let bias = bias.as_ref();
        match &self.kind {
            ConvKind::Conv { .. } => ops::conv(x, &kernel, bias, &self.opts),
            ConvKind::Transpose { output_padding } => {
                ops::conv_transpose(x, &kernel, bias, &self.opts, output_padding.as_deref())
            }
            ConvKind::Depthwise => ops::depthwise_conv(x, &kernel, bias, &self.opts),
            ConvKind::Separable => {
                let pointwise = self.pointwise.as_ref().expect("checked in new").value();
                ops::separable_conv(x, &kernel, &pointwise, bias, &self.opts)
            }
        }
    }
}

impl Layer for Conv {
    fn name(&self) -> &str {
        &self.name
    }

    fn call(&self, inputs: &[Tensor], ctx: &mut Context) -> Result<Vec<Tensor>> {
        let x = single_input(&self.name, inputs)?;
        x.expect_f32(&format!("{} layer \"{}\"", self.class_name(), self.name))?;
        let nd = self.rank() + 2;
        if x.ndim() != nd {
            return Err(incompatible(&self.name, format!("ndim={nd}"), x.shape()));
        }
        let (axis, label) = if self.channels_first {
            (1, "1")
        } else {
            (nd - 1, "-1")
        };
        let cin = self.in_channels();
        if x.shape()[axis] != cin {
            return Err(incompatible(
                &self.name,
                format!("axis {label} of input shape to have value {cin}"),
                x.shape(),
            ));
        }
        let wrap = |e: Error| match e {
            Error::Value(m) => self.error(m),
            other => other,
        };
        let y = if self.channels_first {
            let y = self
                .convolve(&ops::channels_first_to_last(x)?)
                .map_err(wrap)?;
            ops::channels_last_to_first(&y)?
        } else {
            self.convolve(x).map_err(wrap)?
        };
        let y = self.activation.apply(&y)?;
        if let Some(r) = &self.activity_regularizer {
            ctx.losses.push(r.penalty(&y)?);
        }
        Ok(vec![y])
    }

    fn variables(&self) -> Vec<Variable> {
        std::iter::once(self.kernel.clone())
            .chain(self.pointwise.clone())
            .chain(self.bias.clone())
            .collect()
    }

    fn regularization(&self) -> Result<Option<Tensor>> {
        let mut weights = vec![(&self.kernel, self.kernel_regularizer)];
        if let Some(p) = &self.pointwise {
            weights.push((p, self.pointwise_regularizer));
        }
        if let Some(b) = &self.bias {
            weights.push((b, self.bias_regularizer));
        }
        weight_penalties(&weights)
    }

    fn apply_constraints(&self) -> Result<()> {
        let mut weights = vec![(&self.kernel, &self.kernel_constraint)];
        if let Some(p) = &self.pointwise {
            weights.push((p, &self.pointwise_constraint));
        }
        if let Some(b) = &self.bias {
            weights.push((b, &self.bias_constraint));
        }
        project_weights(&weights)
    }
}
