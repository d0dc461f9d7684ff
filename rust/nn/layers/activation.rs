//! Activation layers: `Activation` (any activation by name, which also serves `ReLU`,
//! `LeakyReLU` and `ELU` with their parameters), `PReLU` (a learned slope) and `Softmax`
//! over one or several axes.
use super::{incompatible, permute, project_weights, single_input, weight_penalties};
use crate::autograd::Variable;
use crate::error::Result;
use crate::nn::activations::{self, Activation as Act};
use crate::nn::constraints::Constraint;
use crate::nn::regularizers::Regularizer;
use crate::nn::{Context, Layer};
use crate::ops;
use crate::tensor::{normalize_axes, Tensor};
use crate::value_err;

/// `keras.layers.Activation` and the parametrised activation layers.
pub struct Activation {
    name: String,
    f: Act,
}

fn non_negative(layer: &str, arg: &str, v: f32) -> Result<()> {
    if v.is_nan() || v < 0.0 {
        return Err(value_err!(
            "{arg} of a {layer} layer cannot be None or a negative value. Received: {arg}={v}"
        ));
    }
    Ok(())
}

impl Activation {
    pub fn new(name: &str, f: Act) -> Activation {
        Activation {
            name: name.to_string(),
            f,
        }
    }

    /// `keras.layers.Activation(name)` with the activation's Keras defaults.
    pub fn named(name: &str, activation: &str) -> Result<Activation> {
        Ok(Activation::new(name, activations::get(activation)?))
    }

    /// `keras.layers.ReLU(max_value=None, negative_slope=0.0, threshold=0.0)`.
    pub fn relu(
        name: &str,
        max_value: Option<f32>,
        negative_slope: f32,
        threshold: f32,
    ) -> Result<Activation> {
        if let Some(m) = max_value {
            non_negative("ReLU", "max_value", m)?;
        }
        non_negative("ReLU", "negative_slope", negative_slope)?;
        non_negative("ReLU", "threshold", threshold)?;
        Ok(Activation::new(
            name,
            Act::Relu {
                negative_slope,
                max_value,
                threshold,
            },
        ))
    }

    /// `keras.layers.LeakyReLU(negative_slope=0.3)`.
    pub fn leaky_relu(name: &str, negative_slope: f32) -> Result<Activation> {
        non_negative("LeakyReLU", "negative_slope", negative_slope)?;
        Ok(Activation::new(name, Act::LeakyRelu { negative_slope }))
    }

    /// `keras.layers.ELU(alpha=1.0)`.
    pub fn elu(name: &str, alpha: f32) -> Activation {
        Activation::new(name, Act::Elu { alpha })
    }

    pub fn activation(&self) -> Act {
        self.f
    }
}

impl Layer for Activation {
    fn name(&self) -> &str {
        &self.name
    }

    /// Keras: `supports_masking = True` (masks pass through).
    fn supports_masking(&self) -> bool {
        true
    }

    fn call(&self, inputs: &[Tensor], _ctx: &mut Context) -> Result<Vec<Tensor>> {
        let x = single_input(&self.name, inputs)?;
        x.expect_f32(&format!("layer \"{}\"", self.name))?;
        Ok(vec![self.f.apply(x)?])
    }
}

/// `keras.layers.PReLU`: `max(x, 0) + alpha * min(x, 0)` with a learned `alpha` of the
/// input's per-sample shape (size 1 along `shared_axes`).
pub struct PReLU {
    name: String,
    alpha: Variable,
    regularizer: Option<Regularizer>,
    constraint: Option<Constraint>,
}

impl PReLU {
    pub fn new(
        name: &str,
        alpha: Variable,
        regularizer: Option<Regularizer>,
        constraint: Option<Constraint>,
    ) -> PReLU {
        PReLU {
            name: name.to_string(),
            alpha,
            regularizer,
            constraint,
        }
    }
}

impl Layer for PReLU {
    fn name(&self) -> &str {
        &self.name
    }

    /// Keras: `supports_masking = True` (masks pass through).
    fn supports_masking(&self) -> bool {
        true
    }

    fn call(&self, inputs: &[Tensor], _ctx: &mut Context) -> Result<Vec<Tensor>> {
        let x = single_input(&self.name, inputs)?;
        x.expect_f32(&format!("PReLU layer \"{}\"", self.name))?;
        let a = self.alpha.shape();
        let fits = x.ndim() == a.len() + 1
            && a.iter()
                .zip(&x.shape()[1..])
                .all(|(&p, &d)| p == 1 || p == d);
        if !fits {
            let want: Vec<String> = a
                .iter()
                .map(|&d| if d == 1 { "*".into() } else { d.to_string() })
                .collect();
            return Err(incompatible(
                &self.name,
                format!("shape (batch, {}) (alpha has shape {a:?})", want.join(", ")),
                x.shape(),
            ));
        }
        let pos = ops::relu(x)?;
        let neg = ops::relu(&ops::negative(x)?)?;
        Ok(vec![ops::subtract(
            &pos,
            &ops::multiply(&self.alpha.value(), &neg)?,
        )?])
    }

    fn variables(&self) -> Vec<Variable> {
        vec![self.alpha.clone()]
    }

    fn regularization(&self) -> Result<Option<Tensor>> {
        weight_penalties(&[(&self.alpha, self.regularizer)])
    }

    fn apply_constraints(&self) -> Result<()> {
        project_weights(&[(&self.alpha, &self.constraint)])
    }
}

/// `keras.layers.Softmax(axis=-1)`; several axes normalise jointly.
pub struct Softmax {
    name: String,
    axes: Vec<isize>,
}

impl Softmax {
    pub fn new(name: &str, axes: Vec<isize>) -> Result<Softmax> {
        if axes.is_empty() {
            return Err(value_err!(
                "Softmax layer \"{name}\": axis must name at least one axis"
            ));
        }
        Ok(Softmax {
            name: name.to_string(),
            axes,
        })
    }
}

impl Layer for Softmax {
    fn name(&self) -> &str {
        &self.name
    }

    /// Keras: `supports_masking = True` (masks pass through).
    fn supports_masking(&self) -> bool {
        true
    }

    fn call(&self, inputs: &[Tensor], _ctx: &mut Context) -> Result<Vec<Tensor>> {
        let x = single_input(&self.name, inputs)?;
        let op = format!("Softmax layer \"{}\"", self.name);
        x.expect_f32(&op)?;
        let axes = normalize_axes(&op, Some(&self.axes), x.ndim())?;
        if let [a] = axes[..] {
            return Ok(vec![ops::softmax(x, a as isize)?]);
        }
        // move the softmax axes last, merge them, normalise, and undo both steps
        let kept: Vec<usize> = (0..x.ndim()).filter(|d| !axes.contains(d)).collect();
        let order: Vec<usize> = kept.iter().chain(&axes).copied().collect();
        let moved = permute(x, &order);
        let mut merged: Vec<usize> = kept.iter().map(|&d| x.shape()[d]).collect();
        merged.push(axes.iter().map(|&d| x.shape()[d]).product());
        let s = ops::softmax(&ops::reshape(&moved, &merged)?, -1)?;
        let s = ops::reshape(&s, moved.shape())?;
        let mut inverse = vec![0; order.len()];
        for (i, &d) in order.iter().enumerate() {
            inverse[d] = i;
        }
        Ok(vec![permute(&s, &inverse)])
    }
}
