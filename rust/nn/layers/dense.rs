//! `Dense`: `activation(x @ kernel + bias)` over the last axis, on a fused linear op.
use super::{incompatible, project_weights, single_input, weight_penalties};
use crate::autograd::{record, Variable};
use crate::cpu::gemm::{sgemm, sgemm_new, sgemm_new_pair, MatRef};
use crate::cpu::reduce::sum_axes;
use crate::error::Result;
use crate::nn::activations::Activation;
use crate::nn::constraints::Constraint;
use crate::nn::regularizers::Regularizer;
use crate::nn::{Context, Layer};
use crate::ops;
use crate::tensor::Tensor;
use crate::value_err;
use rand::Rng as _;

fn mat(t: &Tensor) -> Result<MatRef<'_>> {
    Ok(MatRef {
        data: t.f32_storage()?,
        offset: t.offset(),
        rs: t.strides()[0] as isize,
        cs: t.strides()[1] as isize,
    })
}

/// `x @ w + b` for `x` (n, k), `w` (k, m) and an optional `b` (m,): the bias rows are
/// written first and the product accumulated onto them, one pass over the output.
/// Backward: `g @ w^T`, `x^T @ g` and the column sums of `g`, each only when needed.
pub fn linear(x: &Tensor, w: &Tensor, b: Option<&Tensor>) -> Result<Tensor> {
    for t in [Some(x), Some(w), b].into_iter().flatten() {
        t.expect_f32("linear")?;
    }
    let bad = || {
        value_err!(
            "linear: incompatible shapes x {:?}, kernel {:?}, bias {:?}",
            x.shape(),
            w.shape(),
            b.map(|b| b.shape().to_vec())
        )
    };
    if x.ndim() != 2 || w.ndim() != 2 || x.shape()[1] != w.shape()[0] {
        return Err(bad());
    }
    let (n, k, m) = (x.shape()[0], x.shape()[1], w.shape()[1]);
    if b.is_some_and(|b| b.shape() != [m]) {
        return Err(bad());
    }
    let mut out = match b {
        Some(b) => b.f32_data()?.repeat(n),
        None => vec![0.0; n * m],
    };
    sgemm(n, m, k, mat(x)?, mat(w)?, &mut out, m, b.is_some());
    let out = Tensor::from_f32(out, &[n, m])?;
    let inputs: Vec<&Tensor> = [Some(x), Some(w), b].into_iter().flatten().collect();
    Ok(record("linear", &inputs, out, || {
        let need: Vec<bool> = inputs.iter().map(|t| t.requires_grad()).collect();
        let (x, w) = (x.detach(), w.detach());
        move |g: &Tensor| {
            let gd = g.f32_data()?;
            let gm = MatRef::row_major(&gd, m);
            let gx = (n, k, m, gm, mat(&w)?.t());
            let gw = (k, m, n, mat(&x)?.t(), gm);
            let (gx, gw) = match (need[0], need[1]) {
                (true, true) => {
                    let (gx, gw) = sgemm_new_pair(gx, gw);
                    (Some(gx), Some(gw))
                }
                (true, false) => (Some(sgemm_new(gx)), None),
                (false, true) => (None, Some(sgemm_new(gw))),
                (false, false) => (None, None),
            };
            let mut grads = vec![
                gx.map(|v| Tensor::from_f32(v, &[n, k])).transpose()?,
                gw.map(|v| Tensor::from_f32(v, &[k, m])).transpose()?,
            ];
            if need.len() == 3 {
                grads.push(if need[2] {
                    Some(Tensor::from_f32(
                        sum_axes(&gd, &[n, m], &[true, false]),
                        &[m],
                    )?)
                } else {
                    None
                });
            }
            Ok(grads)
        }
    }))
}

/// `keras.layers.Dense`: kernel (input_dim, units), optional bias (units,), applied to the
/// last axis of inputs of rank >= 2.
pub struct Dense {
    name: String,
    kernel: Variable,
    bias: Option<Variable>,
    activation: Activation,
    kernel_regularizer: Option<Regularizer>,
    bias_regularizer: Option<Regularizer>,
    activity_regularizer: Option<Regularizer>,
    kernel_constraint: Option<Constraint>,
    bias_constraint: Option<Constraint>,
}

impl Dense {
    /// A Dense layer over existing weights (shared with Python's `add_weight`).
    pub fn new(
        name: &str,
        kernel: Variable,
        bias: Option<Variable>,
        activation: Activation,
    ) -> Result<Dense> {
        let ks = kernel.shape();
        if ks.len() != 2 {
            return Err(value_err!(
                "Dense layer \"{name}\": the kernel must have rank 2 (input_dim, units), got shape {ks:?}"
            ));
        }
        if let Some(b) = &bias {
            if b.shape() != [ks[1]] {
                return Err(value_err!(
                    "Dense layer \"{name}\": the bias must have shape [{}] to match the kernel {ks:?}, got {:?}",
                    ks[1],
                    b.shape()
                ));
            }
        }
        Ok(Dense {
            name: name.to_string(),
            kernel,
            bias,
            activation,
            kernel_regularizer: None,
            bias_regularizer: None,
            activity_regularizer: None,
            kernel_constraint: None,
            bias_constraint: None,
        })
    }

    /// A Dense layer with Keras's default initialization: a glorot-uniform kernel
    /// (limit `sqrt(6 / (input_dim + units))`, drawn from ember's seeded stream) and a
    /// zero bias.
    pub fn glorot(
        name: &str,
        input_dim: usize,
        units: usize,
        activation: Activation,
    ) -> Result<Dense> {
        let limit = (6.0 / (input_dim + units).max(1) as f32).sqrt();
        let mut rng = crate::random::rng();
        let w: Vec<f32> = (0..input_dim * units)
            .map(|_| rng.random_range(-limit..=limit))
            .collect();
        let kernel = Variable::new("kernel", Tensor::from_f32(w, &[input_dim, units])?, true);
        let bias = Variable::new("bias", Tensor::zeros(&[units]), true);
        Dense::new(name, kernel, Some(bias), activation)
    }

    pub fn with_regularizers(
        mut self,
        kernel: Option<Regularizer>,
        bias: Option<Regularizer>,
        activity: Option<Regularizer>,
    ) -> Dense {
        self.kernel_regularizer = kernel;
        self.bias_regularizer = bias;
        self.activity_regularizer = activity;
        self
    }

    pub fn with_constraints(
        mut self,
        kernel: Option<Constraint>,
        bias: Option<Constraint>,
    ) -> Dense {
        self.kernel_constraint = kernel;
        self.bias_constraint = bias;
        self
    }

    pub fn units(&self) -> usize {
        self.kernel.shape()[1]
    }

    pub fn input_dim(&self) -> usize {
        self.kernel.shape()[0]
    }
}

impl Layer for Dense {
    fn name(&self) -> &str {
        &self.name
    }

    /// Keras: `supports_masking = True` (masks pass through).
    fn supports_masking(&self) -> bool {
        true
    }

    fn call(&self, inputs: &[Tensor], ctx: &mut Context) -> Result<Vec<Tensor>> {
        let x = single_input(&self.name, inputs)?;
        x.expect_f32(&format!("Dense layer \"{}\"", self.name))?;
        let (k, units) = (self.input_dim(), self.units());
        let nd = x.ndim();
        if nd < 2 {
            return Err(incompatible(&self.name, "min_ndim=2", x.shape()));
        }
        if x.shape()[nd - 1] != k {
            return Err(incompatible(
                &self.name,
                format!("axis -1 of input shape to have value {k}"),
                x.shape(),
            ));
        }
        let rows = x.shape()[..nd - 1].iter().product();
        let x2 = if nd == 2 {
            x.clone()
        } else {
            ops::reshape(x, &[rows, k])?
        };
        let bias = self.bias.as_ref().map(|b| b.value());
        let mut y = linear(&x2, &self.kernel.value(), bias.as_ref())?;
        if nd != 2 {
            let mut shape = x.shape()[..nd - 1].to_vec();
            shape.push(units);
            y = ops::reshape(&y, &shape)?;
        }
        let y = self.activation.apply(&y)?;
        if let Some(r) = &self.activity_regularizer {
            ctx.losses.push(r.penalty(&y)?);
        }
        Ok(vec![y])
    }

    fn variables(&self) -> Vec<Variable> {
        std::iter::once(self.kernel.clone())
            .chain(self.bias.clone())
            .collect()
    }

    fn regularization(&self) -> Result<Option<Tensor>> {
        let mut weights = vec![(&self.kernel, self.kernel_regularizer)];
        if let Some(b) = &self.bias {
            weights.push((b, self.bias_regularizer));
        }
        weight_penalties(&weights)
    }

    fn apply_constraints(&self) -> Result<()> {
        let mut weights = vec![(&self.kernel, &self.kernel_constraint)];
        if let Some(b) = &self.bias {
            weights.push((b, &self.bias_constraint));
        }
        project_weights(&weights)
    }
}
