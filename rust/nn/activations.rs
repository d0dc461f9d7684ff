//! Activation functions by Keras name (`keras.activations`), with Keras's default
//! parameters: `get("leaky_relu")` has `negative_slope` 0.2, `get("softmax")` axis -1,
//! `get("gelu")` the exact (erf) form.
use crate::error::Result;
use crate::ops;
use crate::tensor::Tensor;
use crate::value_err;

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Activation {
    Linear,
    Relu {
        negative_slope: f32,
        max_value: Option<f32>,
        threshold: f32,
    },
    Relu6,
    LeakyRelu {
        negative_slope: f32,
    },
    Elu {
        alpha: f32,
    },
    Selu,
    Gelu {
        approximate: bool,
    },
    Sigmoid,
    HardSigmoid,
    HardSilu,
    Tanh,
    Softmax {
        axis: isize,
    },
    LogSoftmax {
        axis: isize,
    },
    Softplus,
    Softsign,
    Silu,
    Mish,
    Exponential,
}

/// Every name `get` accepts (Keras's `ALL_OBJECTS_DICT` for the activations ember has).
pub const NAMES: &[&str] = &[
    "linear",
    "relu",
    "relu6",
    "leaky_relu",
    "elu",
    "selu",
    "gelu",
    "sigmoid",
    "hard_sigmoid",
    "hard_silu",
    "hard_swish",
    "tanh",
    "softmax",
    "log_softmax",
    "softplus",
    "softsign",
    "silu",
    "swish",
    "mish",
    "exponential",
];

/// The activation called `name`, with Keras's default parameters. Unknown names are a
/// ValueError listing the known ones.
pub fn get(name: &str) -> Result<Activation> {
    use Activation::*;
    Ok(match name {
        "linear" => Linear,
        "relu" => Relu {
            negative_slope: 0.0,
            max_value: None,
            threshold: 0.0,
        },
        "relu6" => Relu6,
        "leaky_relu" => LeakyRelu {
            negative_slope: 0.2,
        },
        "elu" => Elu { alpha: 1.0 },
        "selu" => Selu,
        "gelu" => Gelu { approximate: false },
        "sigmoid" => Sigmoid,
        "hard_sigmoid" => HardSigmoid,
        "hard_silu" | "hard_swish" => HardSilu,
        "tanh" => Tanh,
        "softmax" => Softmax { axis: -1 },
        "log_softmax" => LogSoftmax { axis: -1 },
        "softplus" => Softplus,
        "softsign" => Softsign,
        "silu" | "swish" => Silu,
        "mish" => Mish,
        "exponential" => Exponential,
        other => {
            return Err(value_err!(
            "Could not interpret activation function identifier: '{other}'. Known activations: {}",
            NAMES.join(", ")
        ))
        }
    })
}

/// Applies the activation called `name` (Keras defaults) to `x`.
pub fn apply(name: &str, x: &Tensor) -> Result<Tensor> {
    get(name)?.apply(x)
}

impl Activation {
    /// The Keras name (the canonical one where Keras has aliases).
    pub fn name(&self) -> &'static str {
        use Activation::*;
        match self {
            Linear => "linear",
            Relu { .. } => "relu",
            Relu6 => "relu6",
            LeakyRelu { .. } => "leaky_relu",
            Elu { .. } => "elu",
            Selu => "selu",
            Gelu { .. } => "gelu",
            Sigmoid => "sigmoid",
            HardSigmoid => "hard_sigmoid",
            HardSilu => "hard_silu",
            Tanh => "tanh",
            Softmax { .. } => "softmax",
            LogSoftmax { .. } => "log_softmax",
            Softplus => "softplus",
            Softsign => "softsign",
            Silu => "silu",
            Mish => "mish",
            Exponential => "exponential",
        }
    }

    pub fn apply(&self, x: &Tensor) -> Result<Tensor> {
        use Activation::*;
        match *self {
            Linear => Ok(x.clone()),
            Relu {
                negative_slope,
                max_value,
                threshold,
            } => {
                if negative_slope == 0.0 && max_value.is_none() && threshold == 0.0 {
                    ops::relu(x)
                } else {
                    ops::relu_with(x, negative_slope, max_value, threshold)
                }
            }
            Relu6 => ops::relu6(x),
            LeakyRelu { negative_slope } => ops::leaky_relu(x, negative_slope),
            Elu { alpha } => ops::elu(x, alpha),
            Selu => ops::selu(x),
            Gelu { approximate } => ops::gelu(x, approximate),
            Sigmoid => ops::sigmoid(x),
            HardSigmoid => ops::hard_sigmoid(x),
            HardSilu => ops::hard_silu(x),
            Tanh => ops::tanh(x),
            Softmax { axis } => ops::softmax(x, axis),
            LogSoftmax { axis } => ops::log_softmax(x, axis),
            Softplus => ops::softplus(x),
            Softsign => ops::softsign(x),
            Silu => ops::silu(x),
            Mish => ops::mish(x),
            Exponential => ops::exp(x),
        }
    }
}
