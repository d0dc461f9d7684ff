//! Finite-difference gradient checks: every op's backward is tested against central
//! differences of its forward.
use super::{grad, watch};
use crate::error::Result;
use crate::ops;
use crate::runtime_err;
use crate::tensor::Tensor;

/// Compares the autograd gradient of `sum(f(inputs) * w)` (fixed pseudo-random `w`, so
/// every output element matters differently) with central differences in each input.
/// Int64 inputs are passed through unwatched. Returns the largest mismatch on failure.
pub fn check_gradients(
    f: impl Fn(&[Tensor]) -> Result<Tensor>,
    inputs: &[Tensor],
    eps: f32,
    tol: f32,
) -> Result<()> {
    let leaves: Vec<Tensor> = inputs
        .iter()
        .map(|t| {
            if t.dtype() == crate::DType::F32 {
                watch(t)
            } else {
                t.clone()
            }
        })
        .collect();
    let out = f(&leaves)?;
    let w: Vec<f32> = (0..out.numel())
        .map(|i| 0.5 + ((i * 7919) % 13) as f32 / 13.0)
        .collect();
    let w = Tensor::from_f32(w, out.shape())?;
    let objective = |xs: &[Tensor]| -> Result<f64> {
        let y = f(xs)?;
        let yd = y.f32_data()?;
        let wd = w.f32_data()?;
        Ok(yd
            .iter()
            .zip(wd.iter())
            .map(|(&a, &b)| a as f64 * b as f64)
            .sum())
    };
    let loss = ops::sum(&ops::multiply(&out, &w)?, None, false)?;
    let ids: Vec<u64> = leaves
        .iter()
        .filter_map(|t| t.node().map(|n| n.id()))
        .collect();
    let grads = grad(&loss, None, &ids)?;
    for (i, leaf) in leaves.iter().enumerate() {
        let Some(node) = leaf.node() else { continue };
        let analytic = match grads.get(&node.id()) {
            Some(g) => g.to_vec_f32()?,
            None => vec![0.0; leaf.numel()],
        };
        let base = inputs[i].to_vec_f32()?;
        for j in 0..base.len() {
            let eval = |delta: f32| -> Result<f64> {
                let mut v = base.clone();
                v[j] += delta;
                let mut xs: Vec<Tensor> = inputs.to_vec();
                xs[i] = Tensor::from_f32(v, inputs[i].shape())?;
                objective(&xs)
            };
            let numeric = ((eval(eps)? - eval(-eps)?) / (2.0 * eps as f64)) as f32;
            let a = analytic[j];
            if (a - numeric).abs() > tol * (1.0 + numeric.abs().max(a.abs())) {
                return Err(runtime_err!(
                    "gradient check failed for input {i} element {j}: autograd {a}, finite differences {numeric}"
                ));
            }
        }
    }
    Ok(())
}
