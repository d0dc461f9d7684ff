//! `Attention` (Luong, dot or concat scores) and `AdditiveAttention` (Bahdanau), with
//! Keras 3's masking: positions where the value mask (and the causal mask) is 0 get
//! `-1e9` added to their scores before the softmax over the value steps, and the output
//! is multiplied by the query mask. Also the helpers `MultiHeadAttention` shares.
use crate::autograd::{record, Variable};
use crate::cpu::math;
use crate::cpu::pool::{self, PAR_MIN_ELEMS};
use crate::error::Result;
use crate::nn::{Context, Layer, SeedStream};
use crate::ops;
use crate::tensor::{DType, Tensor};
use crate::value_err;
use rand::Rng as _;
use rayon::prelude::*;
use std::sync::Arc;

/// What masked scores get added before the softmax (Keras's large negative for float32).
pub(crate) const MASKED: f32 = -1e9;

/// The values of a Keras mask for an input whose leading axes are `want`, as 0.0/1.0
/// (any nonzero value counts as 1), or an error naming the layer and both shapes.
pub(crate) fn mask_values(
    layer: &str,
    which: &str,
    mask: &Tensor,
    want: &[usize],
) -> Result<Vec<f32>> {
    if mask.shape() != want {
        return Err(value_err!(
            "Layer \"{layer}\": the {which} mask must have shape {want:?} (the leading axes of the {which}), but received a mask of shape {:?}",
            mask.shape()
        ));
    }
    let m = if mask.dtype() == DType::F32 {
        mask.clone()
    } else {
        ops::cast(mask, DType::F32)?
    };
    Ok(m.to_vec_f32()?
        .into_iter()
        .map(|v| if v != 0.0 { 1.0 } else { 0.0 })
        .collect())
}

/// The (batch, t, s) score mask of the masks given: `query[b, t]`, `value[b, s]` (each
/// optional), the lower-triangular causal mask (`s <= t`), and `extra` (b, t, s).
/// None when nothing masks.
pub(crate) fn score_mask(
    (b, t, s): (usize, usize, usize),
    query: Option<&[f32]>,
    values: &[Option<Vec<f32>>],
    causal: bool,
    extra: Option<&[f32]>,
) -> Option<Vec<f32>> {
    if query.is_none() && values.iter().all(Option::is_none) && !causal && extra.is_none() {
        return None;
    }
    let mut m = match extra {
        Some(e) => e.to_vec(),
        None => vec![1.0f32; b * t * s],
    };
    for bi in 0..b {
        for ti in 0..t {
            let row = &mut m[(bi * t + ti) * s..(bi * t + ti + 1) * s];
            if query.is_some_and(|q| q[bi * t + ti] == 0.0) {
                row.iter_mut().for_each(|x| *x = 0.0);
            }
            for v in values.iter().flatten() {
                for (x, &vm) in row.iter_mut().zip(&v[bi * s..(bi + 1) * s]) {
                    *x *= vm;
                }
            }
            if causal {
                row.iter_mut().skip(ti + 1).for_each(|x| *x = 0.0);
            }
        }
    }
    Some(m)
}

/// `softmax(scores + (1 - mask) * -1e9)` over the last axis in one pass (Keras's
/// arithmetic, in f32): `scores` is (B, heads.., T, S) contiguous in its rows and `mask`
/// (B, T, S) holds 0s and 1s shared by the heads. The backward is softmax's, the mask
/// being a constant shift of the scores.
pub(crate) fn masked_softmax(
    scores: &Tensor,
    mask: Option<&[f32]>,
    (b, t, s): (usize, usize, usize),
) -> Result<Tensor> {
    let x = scores.f32_data()?;
    let Some(mask) = mask.filter(|m| !x.is_empty() && s > 0 && m.len() == b * t * s) else {
        return ops::softmax(scores, -1);
    };
    let heads = x.len() / (b * t * s);
    let forward = |r: usize, out: &mut [f32]| {
        let (xr, mr) = (
            &x[r * s..(r + 1) * s],
            &mask[((r / (heads * t)) * t + r % t) * s..],
        );
        let mut m = f32::NEG_INFINITY;
        for ((o, &v), &k) in out.iter_mut().zip(xr).zip(mr) {
            *o = v + (1.0 - k) * MASKED;
            m = m.max(*o);
        }
        let mut z = 0.0;
        for o in out.iter_mut() {
            *o = math::exp(*o - m);
            z += *o;
        }
        out.iter_mut().for_each(|o| *o /= z);
    };
    let mut y = vec![0.0f32; x.len()];
    rows(&mut y, s, forward);
    let y = Tensor::from_f32(y, scores.shape())?;
    Ok(record("masked_softmax", &[scores], y.clone(), || {
        move |g: &Tensor| {
            let (gd, yd) = (g.f32_data()?, y.f32_data()?);
            let mut dx = vec![0.0f32; gd.len()];
            rows(&mut dx, s, |r, out| {
                let (gr, yr) = (&gd[r * s..(r + 1) * s], &yd[r * s..(r + 1) * s]);
                let dot: f32 = gr.iter().zip(yr).map(|(g, y)| g * y).sum();
                for ((o, &g), &y) in out.iter_mut().zip(gr).zip(yr) {
                    *o = y * (g - dot);
                }
            });
            Ok(vec![Some(Tensor::from_f32(dx, y.shape())?)])
        }
    }))
}

/// Runs `f(row_index, row)` over the rows of length `s` of `out`, in parallel when large.
fn rows(out: &mut [f32], s: usize, f: impl Fn(usize, &mut [f32]) + Sync) {
    if out.len() >= PAR_MIN_ELEMS {
        pool::install(|| out.par_chunks_mut(s).enumerate().for_each(|(r, o)| f(r, o)));
    } else {
        out.chunks_mut(s).enumerate().for_each(|(r, o)| f(r, o));
    }
}

/// Inverted dropout of the attention weights (kept ones scaled by `1 / (1 - rate)`).
pub(crate) fn dropout(
    x: &Tensor,
    rate: f32,
    noise: &SeedStream,
    ctx: &mut Context,
) -> Result<Tensor> {
    if !ctx.training || rate == 0.0 {
        return Ok(x.clone());
    }
    let scale = 1.0 / (1.0 - rate);
    let mask = noise.draw(ctx, x.numel(), |r| {
        if rate < 1.0 && r.random::<f32>() >= rate {
            scale
        } else {
            0.0
        }
    });
    ops::multiply(x, &Tensor::from_f32(mask, x.shape())?)
}

pub(crate) fn check_dropout(layer: &str, rate: f32) -> Result<()> {
    if !(0.0..=1.0).contains(&rate) {
        return Err(value_err!(
            "{layer}: `dropout` must be a float between 0 and 1, got {rate}"
        ));
    }
    Ok(())
}

/// How the scores of `Attention` are computed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScoreMode {
    /// `query @ key^T`, times `scale` when given (Luong).
    Dot,
    /// `concat_score_weight * sum(tanh(scale * (query + key)), -1)`.
    Concat,
    /// `sum(scale * tanh(query + key), -1)` with `scale` of shape (dim,) (Bahdanau).
    Additive,
}

/// `keras.layers.Attention` and `keras.layers.AdditiveAttention`. Inputs
/// `[query (B, Tq, dim), value (B, Tv, dv), key (B, Tv, dim)?]`, masks
/// `[query_mask (B, Tq), value_mask (B, Tv)]`; outputs `[result (B, Tq, dv)]` and, with
/// `return_attention_scores`, the attention weights (B, Tq, Tv) after masking, softmax
/// and dropout (what Keras returns).
pub struct Attention {
    name: String,
    mode: ScoreMode,
    scale: Option<Variable>,
    concat_score_weight: Option<Variable>,
    dropout: f32,
    noise: Arc<SeedStream>,
    causal: bool,
    return_scores: bool,
}

impl Attention {
    /// `scale` is a scalar for Dot/Concat, shape (dim,) for Additive; `concat_score_weight`
    /// (a scalar) is required for Concat and refused otherwise.
    pub fn new(
        name: &str,
        mode: ScoreMode,
        scale: Option<Variable>,
        concat_score_weight: Option<Variable>,
        dropout: f32,
        seed: Option<u64>,
    ) -> Result<Attention> {
        let kind = if mode == ScoreMode::Additive {
            "AdditiveAttention"
        } else {
            "Attention"
        };
        check_dropout(&format!("{kind} layer \"{name}\""), dropout)?;
        if let Some(s) = &scale {
            let ok = if mode == ScoreMode::Additive {
                s.shape().len() == 1
            } else {
                s.shape().is_empty()
            };
            if !ok {
                return Err(value_err!(
                    "{kind} layer \"{name}\": `scale` must have shape {}, got {:?}",
                    if mode == ScoreMode::Additive {
                        "(dim,)"
                    } else {
                        "()"
                    },
                    s.shape()
                ));
            }
        }
        if (mode == ScoreMode::Concat) != concat_score_weight.is_some()
            || concat_score_weight
                .as_ref()
                .is_some_and(|w| !w.shape().is_empty())
        {
            return Err(value_err!(
                "{kind} layer \"{name}\": score_mode {mode:?} needs {} concat_score_weight",
                if mode == ScoreMode::Concat {
                    "a scalar"
                } else {
                    "no"
                }
            ));
        }
        Ok(Attention {
            name: name.to_string(),
            mode,
            scale,
            concat_score_weight,
            dropout,
            noise: Arc::new(SeedStream::new(seed)),
            causal: false,
            return_scores: false,
        })
    }

    /// The same layer (same weights and dropout stream) with Keras's call-time options:
    /// `use_causal_mask` and `return_attention_scores`.
    pub fn with_call_options(&self, use_causal_mask: bool, return_attention_scores: bool) -> Self {
        Attention {
            name: self.name.clone(),
            mode: self.mode,
            scale: self.scale.clone(),
            concat_score_weight: self.concat_score_weight.clone(),
            dropout: self.dropout,
            noise: self.noise.clone(),
            causal: use_causal_mask,
            return_scores: return_attention_scores,
        }
    }

    fn kind(&self) -> &'static str {
        if self.mode == ScoreMode::Additive {
            "AdditiveAttention"
        } else {
            "Attention"
        }
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
        let (kind, name) = (self.kind(), &self.name);
        let (q, v, k) = match inputs {
            [q, v] => (q, v, v),
            [q, v, k] => (q, v, k),
            _ => {
                return Err(value_err!(
                    "{kind} layer \"{name}\" accepts inputs list of length 2 or 3, namely [query, value] or [query, value, key]. Received length: {}.",
                    inputs.len()
                ))
            }
        };
        for (t, what) in [(q, "query"), (v, "value"), (k, "key")] {
            t.expect_f32(&format!("{kind} layer \"{name}\""))?;
            if t.ndim() != 3 {
                return Err(value_err!(
                    "{kind} layer \"{name}\": the {what} must have rank 3 (batch_size, steps, dim), but received shape {:?}",
                    t.shape()
                ));
            }
        }
        let (qs, vs, ks) = (q.shape(), v.shape(), k.shape());
        if qs[0] != vs[0] || ks[0] != vs[0] || ks[1] != vs[1] || qs[2] != ks[2] {
            return Err(value_err!(
                "{kind} layer \"{name}\": incompatible shapes query {qs:?}, value {vs:?}, key {ks:?}; expected query (batch_size, Tq, dim), value (batch_size, Tv, value_dim) and key (batch_size, Tv, dim)"
            ));
        }
        if masks.len() > 3 {
            return Err(value_err!(
                "{kind} layer \"{name}\" accepts mask list of length 2 or 3, got {}",
                masks.len()
            ));
        }
        let (b, tq, tv, dim) = (qs[0], qs[1], vs[1], qs[2]);
        if weights.len() != self.variables().len() {
            return Err(value_err!(
                "{kind} layer \"{name}\": expected {} weights, got {}",
                self.variables().len(),
                weights.len()
            ));
        }
        let mut w = weights.iter();
        let scale = self.scale.as_ref().and_then(|_| w.next());
        let concat_w = self.concat_score_weight.as_ref().and_then(|_| w.next());
        if let Some(s) = scale.filter(|_| self.mode == ScoreMode::Additive) {
            if s.shape() != [dim] {
                return Err(value_err!(
                    "AdditiveAttention layer \"{name}\": the query and key dim {dim} does not match the scale of shape {:?} (built for another dim)",
                    s.shape()
                ));
            }
        }
        let scores = match self.mode {
            ScoreMode::Dot => {
                let s = ops::matmul(q, &ops::swapaxes(k, 1, 2)?)?;
                match scale {
                    Some(sc) => ops::multiply(&s, sc)?,
                    None => s,
                }
            }
            ScoreMode::Concat | ScoreMode::Additive => {
                let qe = ops::reshape(q, &[b, tq, 1, dim])?;
                let ke = ops::reshape(k, &[b, 1, tv, dim])?;
                let mut sum = ops::add(&qe, &ke)?;
                if let (Some(sc), ScoreMode::Concat) = (scale, self.mode) {
                    sum = ops::multiply(&sum, sc)?;
                }
                let mut th = ops::tanh(&sum)?;
                if let (Some(sc), ScoreMode::Additive) = (scale, self.mode) {
                    th = ops::multiply(&th, sc)?;
                }
                let s = ops::sum(&th, Some(&[-1]), false)?;
                match concat_w {
                    Some(cw) => ops::multiply(&s, cw)?,
                    None => s,
                }
            }
        };
        let get = |i: usize, what: &str, want: &[usize]| -> Result<Option<Vec<f32>>> {
            masks
                .get(i)
                .and_then(Option::as_ref)
                .map(|m| mask_values(name, what, m, want))
                .transpose()
        };
        let q_mask = get(0, "query", &[b, tq])?;
        let v_mask = get(1, "value", &[b, tv])?;
        let smask = score_mask((b, tq, tv), None, &[v_mask], self.causal, None);
        let weights = masked_softmax(&scores, smask.as_deref(), (b, tq, tv))?;
        let weights = dropout(&weights, self.dropout, &self.noise, ctx)?;
        let mut out = ops::matmul(&weights, v)?;
        if let Some(qm) = q_mask {
            out = ops::multiply(&out, &Tensor::from_f32(qm, &[b, tq, 1])?)?;
        }
        let mut outs = vec![out];
        if self.return_scores {
            outs.push(weights);
        }
        Ok(outs)
    }
}

impl Layer for Attention {
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
        self.scale
            .iter()
            .chain(&self.concat_score_weight)
            .cloned()
            .collect()
    }

    fn supports_masking(&self) -> bool {
        true
    }
}
