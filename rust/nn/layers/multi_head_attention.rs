//! `MultiHeadAttention` (Keras 3): query/key/value projections to `num_heads` heads,
//! scaled dot-product attention per head over all non-batch, non-feature axes (Keras's
//! default `attention_axes`), and an output projection. Masks as Keras: the query mask
//! (B, T) masks rows, the value and key masks (B, S) columns, the causal mask `s > t`,
//! and an explicit `attention_mask` (broadcast to (B, T, S)); masked scores get `-1e9`
//! before the softmax. The output is not multiplied by the query mask; it carries it.
use super::attention::{check_dropout, dropout, mask_values, masked_softmax, score_mask};
use super::dense::linear;
use super::{permute, project_weights, weight_penalties};
use crate::autograd::Variable;
use crate::error::Result;
use crate::nn::constraints::Constraint;
use crate::nn::regularizers::Regularizer;
use crate::nn::{Context, Layer, SeedStream};
use crate::ops;
use crate::tensor::Tensor;
use crate::value_err;
use std::sync::Arc;

/// One projection: kernel and optional bias, in Keras's EinsumDense shapes.
#[derive(Clone)]
pub struct Projection {
    pub kernel: Variable,
    pub bias: Option<Variable>,
}

/// `keras.layers.MultiHeadAttention`. Inputs `[query (B, T.., dq), value (B, S.., dv),
/// key (B, S.., dk)?, attention_mask?]` (the key defaults to the value; an attention mask
/// comes fourth, after an explicit key), masks `[query_mask (B, T..), value_mask (B, S..),
/// key_mask (B, S..)]`. Outputs `[output (B, T.., *output_shape)]` and, with
/// `return_attention_scores`, the softmax scores (B, heads, T.., S..) before dropout.
///
/// Weights (Keras's order and shapes): query kernel (dq, heads, key_dim) and bias
/// (heads, key_dim), key kernel (dk, heads, key_dim) and bias, value kernel
/// (dv, heads, value_dim) and bias (heads, value_dim), output kernel
/// (heads, value_dim, *output_shape) and bias (*output_shape).
pub struct MultiHeadAttention {
    name: String,
    num_heads: usize,
    key_dim: usize,
    value_dim: usize,
    projections: [Projection; 4],
    dropout: f32,
    noise: Arc<SeedStream>,
    kernel_regularizer: Option<Regularizer>,
    bias_regularizer: Option<Regularizer>,
    activity_regularizer: Option<Regularizer>,
    kernel_constraint: Option<Constraint>,
    bias_constraint: Option<Constraint>,
    causal: bool,
    return_scores: bool,
}

impl MultiHeadAttention {
    /// A layer over existing weights: `query`, `key`, `value` and `output` projections.
    pub fn new(
        name: &str,
        query: Projection,
        key: Projection,
        value: Projection,
        output: Projection,
        dropout: f32,
        seed: Option<u64>,
    ) -> Result<MultiHeadAttention> {
        let layer = format!("MultiHeadAttention layer \"{name}\"");
        check_dropout(&layer, dropout)?;
        for (p, what) in [
            (&query, "query"),
            (&key, "key"),
            (&value, "value"),
            (&output, "output"),
        ] {
            if p.kernel.shape().contains(&0) {
                return Err(value_err!(
                    "{layer}: the {what} kernel has an empty dimension: shape {:?}",
                    p.kernel.shape()
                ));
            }
        }
        let qk = query.kernel.shape();
        let bad = |what: &str, want: String, got: Vec<usize>| {
            value_err!("{layer}: the {what} must have shape {want}, got {got:?}")
        };
        if qk.len() != 3 {
            return Err(bad(
                "query kernel",
                "(query_dim, num_heads, key_dim)".into(),
                qk,
            ));
        }
        let (heads, key_dim) = (qk[1], qk[2]);
        let kk = key.kernel.shape();
        if kk.len() != 3 || kk[1..] != [heads, key_dim] {
            return Err(bad(
                "key kernel",
                format!("(key_dim_in, {heads}, {key_dim})"),
                kk,
            ));
        }
        let vk = value.kernel.shape();
        if vk.len() != 3 || vk[1] != heads || vk[2] == 0 {
            return Err(bad(
                "value kernel",
                format!("(value_dim_in, {heads}, value_dim)"),
                vk,
            ));
        }
        let value_dim = vk[2];
        let ok = output.kernel.shape();
        if ok.len() < 3 || ok[..2] != [heads, value_dim] {
            return Err(bad(
                "output kernel",
                format!("({heads}, {value_dim}, *output_shape)"),
                ok,
            ));
        }
        let has_bias = query.bias.is_some();
        for (p, what, want) in [
            (&query, "query bias", vec![heads, key_dim]),
            (&key, "key bias", vec![heads, key_dim]),
            (&value, "value bias", vec![heads, value_dim]),
            (&output, "output bias", ok[2..].to_vec()),
        ] {
            match &p.bias {
                Some(b) if b.shape() != want => {
                    return Err(bad(what, format!("{want:?}"), b.shape()))
                }
                None if has_bias => {
                    return Err(value_err!(
                        "{layer}: either every projection has a bias or none has"
                    ))
                }
                Some(_) if !has_bias => {
                    return Err(value_err!(
                        "{layer}: either every projection has a bias or none has"
                    ))
                }
                _ => {}
            }
        }
        Ok(MultiHeadAttention {
            name: name.to_string(),
            num_heads: heads,
            key_dim,
            value_dim,
            projections: [query, key, value, output],
            dropout,
            noise: Arc::new(SeedStream::new(seed)),
            kernel_regularizer: None,
            bias_regularizer: None,
            activity_regularizer: None,
            kernel_constraint: None,
            bias_constraint: None,
            causal: false,
            return_scores: false,
        })
    }

    /// Regularizers shared by the four projections (Keras passes them to each sublayer;
    /// the activity penalty applies to each projection's output).
    pub fn with_regularizers(
        mut self,
        kernel: Option<Regularizer>,
        bias: Option<Regularizer>,
        activity: Option<Regularizer>,
    ) -> Self {
        self.kernel_regularizer = kernel;
        self.bias_regularizer = bias;
        self.activity_regularizer = activity;
        self
    }

    pub fn with_constraints(
        mut self,
        kernel: Option<Constraint>,
        bias: Option<Constraint>,
    ) -> Self {
        self.kernel_constraint = kernel;
        self.bias_constraint = bias;
        self
    }

    /// The same layer (same weights, dropout stream, regularizers) with Keras's call-time
    /// options `use_causal_mask` and `return_attention_scores`.
    pub fn with_call_options(&self, use_causal_mask: bool, return_attention_scores: bool) -> Self {
        MultiHeadAttention {
            name: self.name.clone(),
            projections: self.projections.clone(),
            noise: self.noise.clone(),
            kernel_constraint: self.kernel_constraint.clone(),
            bias_constraint: self.bias_constraint.clone(),
            causal: use_causal_mask,
            return_scores: return_attention_scores,
            ..*self
        }
    }

    pub fn num_heads(&self) -> usize {
        self.num_heads
    }

    pub fn key_dim(&self) -> usize {
        self.key_dim
    }

    pub fn value_dim(&self) -> usize {
        self.value_dim
    }

    /// `x` (B, steps.., d) projected by `kernel` (d, ..out) and `bias` (..out) to
    /// (B * steps, prod(out)), with the activity penalty if any.
    fn project(
        &self,
        x: &Tensor,
        kernel: &Tensor,
        bias: Option<&Tensor>,
        ctx: &mut Context,
    ) -> Result<Tensor> {
        let d = kernel.shape()[0];
        let out: usize = kernel.shape()[1..].iter().product();
        let x2 = ops::reshape(x, &[x.numel() / d, d])?;
        let w = ops::reshape(kernel, &[d, out])?;
        let b = bias.map(|b| ops::reshape(b, &[out])).transpose()?;
        let y = linear(&x2, &w, b.as_ref())?;
        if let Some(r) = &self.activity_regularizer {
            ctx.losses.push(r.penalty(&y)?);
        }
        Ok(y)
    }

    /// The call with the weights given as tensors (in `variables()` order), so that
    /// gradients with respect to them can be checked.
    pub fn call_with_weights(
        &self,
        inputs: &[Tensor],
        masks: &[Option<Tensor>],
        weights: &[Tensor],
        ctx: &mut Context,
    ) -> Result<Vec<Tensor>> {
        let name = &self.name;
        let layer = format!("MultiHeadAttention layer \"{name}\"");
        let (q, v, k, attn) = match inputs {
            [q, v] => (q, v, v, None),
            [q, v, k] => (q, v, k, None),
            [q, v, k, a] => (q, v, k, Some(a)),
            _ => {
                return Err(value_err!(
                    "{layer} expects inputs [query, value], [query, value, key] or [query, value, key, attention_mask], but received {} input tensors",
                    inputs.len()
                ))
            }
        };
        if weights.len() != self.variables().len() {
            return Err(value_err!(
                "{layer}: expected {} weights, got {}",
                self.variables().len(),
                weights.len()
            ));
        }
        let has_bias = self.projections[0].bias.is_some();
        let wk = |i: usize| &weights[if has_bias { 2 * i } else { i }];
        let wb = |i: usize| has_bias.then(|| &weights[2 * i + 1]);
        let nd = q.ndim();
        for (t, what, kernel) in [(q, "query", wk(0)), (k, "key", wk(1)), (v, "value", wk(2))] {
            t.expect_f32(&layer)?;
            if t.ndim() < 3 || t.ndim() != nd {
                return Err(value_err!(
                    "{layer}: query, value and key must have the same rank, at least 3 (batch_size, steps.., dim); received the {what} of shape {:?} with the query of shape {:?}",
                    t.shape(),
                    q.shape()
                ));
            }
            let want = kernel.shape()[0];
            if t.shape()[nd - 1] != want {
                return Err(value_err!(
                    "{layer}: the last axis of the {what} must be {want} (the layer was built for it), but received the {what} of shape {:?}",
                    t.shape()
                ));
            }
        }
        let (qs, vs, ks) = (q.shape(), v.shape(), k.shape());
        if vs[..nd - 1] != ks[..nd - 1] || qs[0] != vs[0] {
            return Err(value_err!(
                "{layer}: all dimensions of `value` and `key`, except the last one, must be equal, and the batch sizes of query and value too. Received: query_shape={qs:?}, value_shape={vs:?} and key_shape={ks:?}"
            ));
        }
        let (b, n) = (qs[0], self.num_heads);
        let t: usize = qs[1..nd - 1].iter().product();
        let s: usize = vs[1..nd - 1].iter().product();
        let (kd, vd) = (self.key_dim, self.value_dim);

        // masks: (B, T..) for the query, (B, S..) for value and key, attention (B, T.., S..)
        if masks.len() > 4 {
            return Err(value_err!(
                "{layer}: expected at most one mask per input, got {}",
                masks.len()
            ));
        }
        let get = |i: usize, what: &str, want: &[usize]| -> Result<Option<Vec<f32>>> {
            masks
                .get(i)
                .and_then(Option::as_ref)
                .map(|m| mask_values(name, what, m, want))
                .transpose()
        };
        let q_mask = get(0, "query", &qs[..nd - 1])?;
        let v_mask = get(1, "value", &vs[..nd - 1])?;
        let k_mask = if inputs.len() >= 3 {
            get(2, "key", &ks[..nd - 1])?
        } else {
            None
        };
        let attn = match attn {
            Some(a) => {
                let mut full = qs[..nd - 1].to_vec();
                full.extend_from_slice(&vs[1..nd - 1]);
                let bc = ops::broadcast_to(a, &full).map_err(|_| {
                    value_err!(
                        "{layer}: the attention_mask of shape {:?} does not broadcast to (batch_size, T.., S..) = {full:?}",
                        a.shape()
                    )
                })?;
                let bc = ops::cast(&bc.contiguous_data(), crate::DType::F32)?;
                Some(
                    bc.to_vec_f32()?
                        .into_iter()
                        .map(|x| if x != 0.0 { 1.0 } else { 0.0 })
                        .collect::<Vec<f32>>(),
                )
            }
            None => None,
        };
        let smask = score_mask(
            (b, t, s),
            q_mask.as_deref(),
            &[v_mask, k_mask],
            self.causal,
            attn.as_deref(),
        );

        // projections to (B, steps, heads, dim), heads moved to axis 1
        let query = self.project(q, wk(0), wb(0), ctx)?;
        let key = self.project(k, wk(1), wb(1), ctx)?;
        let value = self.project(v, wk(2), wb(2), ctx)?;
        let query = ops::scale(&query, 1.0 / (kd as f32).sqrt())?;
        let query = permute(&ops::reshape(&query, &[b, t, n, kd])?, &[0, 2, 1, 3]);
        let key = permute(&ops::reshape(&key, &[b, s, n, kd])?, &[0, 2, 3, 1]);
        let value = permute(&ops::reshape(&value, &[b, s, n, vd])?, &[0, 2, 1, 3]);
        let scores = ops::matmul(&query, &key)?; // (B, N, T, S)
        let scores = masked_softmax(&scores, smask.as_deref(), (b, t, s))?;
        let dropped = dropout(&scores, self.dropout, &self.noise, ctx)?;
        let heads = ops::matmul(&dropped, &value)?; // (B, N, T, vd)
        let heads = permute(&heads, &[0, 2, 1, 3]);
        let heads = ops::reshape(&heads, &[b * t, n * vd])?;
        let ok = wk(3);
        let out_shape = &ok.shape()[2..];
        let out_w = ops::reshape(ok, &[n * vd, out_shape.iter().product()])?;
        let out_b = wb(3)
            .map(|bb| ops::reshape(bb, &[bb.numel()]))
            .transpose()?;
        let y = linear(&heads, &out_w, out_b.as_ref())?;
        if let Some(r) = &self.activity_regularizer {
            ctx.losses.push(r.penalty(&y)?);
        }
        let mut y_shape = qs[..nd - 1].to_vec();
        y_shape.extend_from_slice(out_shape);
        let mut outs = vec![ops::reshape(&y, &y_shape)?];
        if self.return_scores {
            let mut sc_shape = vec![b, n];
            sc_shape.extend_from_slice(&qs[1..nd - 1]);
            sc_shape.extend_from_slice(&vs[1..nd - 1]);
            outs.push(ops::reshape(&scores, &sc_shape)?);
        }
        Ok(outs)
    }
}

impl Layer for MultiHeadAttention {
    fn name(&self) -> &str {
        &self.name
    }

    fn call(&self, inputs: &[Tensor], ctx: &mut Context) -> Result<Vec<Tensor>> {
        self.call_masked(inputs, &[], ctx)
    }

    fn call_masked(
        &self,
        inputs: &[Tensor],
        masks: &[Option<Tensor>],
        ctx: &mut Context,
    ) -> Result<Vec<Tensor>> {
        let weights: Vec<Tensor> = self.variables().iter().map(Variable::value).collect();
        self.call_with_weights(inputs, masks, &weights, ctx)
    }

    fn variables(&self) -> Vec<Variable> {
        self.projections
            .iter()
            .flat_map(|p| std::iter::once(p.kernel.clone()).chain(p.bias.clone()))
            .collect()
    }

    fn regularization(&self) -> Result<Option<Tensor>> {
        let mut weights = Vec::new();
        for p in &self.projections {
            weights.push((&p.kernel, self.kernel_regularizer));
            if let Some(b) = &p.bias {
                weights.push((b, self.bias_regularizer));
            }
        }
        weight_penalties(&weights)
    }

    fn apply_constraints(&self) -> Result<()> {
        let mut weights = Vec::new();
        for p in &self.projections {
            weights.push((&p.kernel, &self.kernel_constraint));
            if let Some(b) = &p.bias {
                weights.push((b, &self.bias_constraint));
            }
        }
        project_weights(&weights)
    }

    fn supports_masking(&self) -> bool {
        true
    }
}
