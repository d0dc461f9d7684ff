//! Pooling layers: `MaxPooling1D/2D/3D` and `AveragePooling1D/2D/3D` (one `Pooling` over
//! `ops::PoolSpec`), and the global poolings `GlobalMaxPooling1D/2D/3D` and
//! `GlobalAveragePooling1D/2D/3D` (reductions over the spatial axes).
use super::{incompatible, single_input};
use crate::error::Result;
use crate::nn::{Context, Layer};
use crate::ops::{self, PoolMode, PoolPadding, PoolSpec};
use crate::tensor::{DType, Tensor};
use crate::value_err;

/// The Keras class name of a pooling layer, for messages.
fn class_name(global: bool, mode: PoolMode, rank: usize) -> String {
    let kind = match mode {
        PoolMode::Max => "Max",
        PoolMode::Average => "Average",
    };
    format!("{}{kind}Pooling{rank}D", if global { "Global" } else { "" })
}

/// `keras.layers.MaxPooling{1,2,3}D` / `AveragePooling{1,2,3}D`: the rank is the length of
/// `pool_size`.
pub struct Pooling {
    name: String,
    spec: PoolSpec,
}

impl Pooling {
    pub fn new(
        name: &str,
        mode: PoolMode,
        pool_size: &[usize],
        strides: Option<&[usize]>,
        padding: PoolPadding,
        channels_first: bool,
    ) -> Result<Pooling> {
        let op = format!(
            "{} layer \"{name}\"",
            class_name(false, mode, pool_size.len())
        );
        Ok(Pooling {
            name: name.to_string(),
            spec: PoolSpec::new(&op, mode, pool_size, strides, padding, channels_first)?,
        })
    }

    pub fn spec(&self) -> &PoolSpec {
        &self.spec
    }
}

impl Layer for Pooling {
    fn name(&self) -> &str {
        &self.name
    }

    fn call(&self, inputs: &[Tensor], _ctx: &mut Context) -> Result<Vec<Tensor>> {
        let x = single_input(&self.name, inputs)?;
        let rank = self.spec.rank();
        if x.ndim() != rank + 2 {
            return Err(incompatible(
                &self.name,
                format!("ndim={}", rank + 2),
                x.shape(),
            ));
        }
        let op = format!(
            "{} layer \"{}\"",
            class_name(false, self.spec.mode, rank),
            self.name
        );
        Ok(vec![self.spec.apply(&op, x)?])
    }
}

/// `keras.layers.GlobalMaxPooling{1,2,3}D` / `GlobalAveragePooling{1,2,3}D`: the maximum or
/// mean over the `rank` spatial axes, kept as size 1 with `keepdims`.
pub struct GlobalPooling {
    name: String,
    mode: PoolMode,
    rank: usize,
    channels_first: bool,
    keepdims: bool,
}

impl GlobalPooling {
    pub fn new(
        name: &str,
        mode: PoolMode,
        rank: usize,
        channels_first: bool,
        keepdims: bool,
    ) -> GlobalPooling {
        GlobalPooling {
            name: name.to_string(),
            mode,
            rank,
            channels_first,
            keepdims,
        }
    }
}

impl GlobalPooling {
    /// Keras's masked `GlobalAveragePooling1D`: `sum(x * mask) / sum(mask)` over the steps.
    fn masked_mean(&self, x: &Tensor, mask: &Tensor) -> Result<Tensor> {
        let steps: isize = if self.channels_first { 2 } else { 1 };
        let mut shape = mask.shape().to_vec();
        if mask.shape() != [x.shape()[0], x.shape()[steps as usize]] {
            return Err(value_err!(
                "GlobalAveragePooling1D layer \"{}\": the mask must have shape (batch, steps), got {:?} for an input of shape {:?}",
                self.name,
                mask.shape(),
                x.shape()
            ));
        }
        shape.insert(if self.channels_first { 1 } else { 2 }, 1);
        let m = ops::reshape(&ops::cast(mask, DType::F32)?.detach(), &shape)?;
        let num = ops::sum(&ops::multiply(x, &m)?, Some(&[steps]), self.keepdims)?;
        let den = ops::sum(&m, Some(&[steps]), self.keepdims)?;
        ops::divide(&num, &den)
    }
}

impl Layer for GlobalPooling {
    fn name(&self) -> &str {
        &self.name
    }

    fn call(&self, inputs: &[Tensor], ctx: &mut Context) -> Result<Vec<Tensor>> {
        self.call_masked(inputs, &[], ctx)
    }

    /// Keras: only `GlobalAveragePooling1D` supports masking (and gives no output mask).
    fn supports_masking(&self) -> bool {
        self.mode == PoolMode::Average && self.rank == 1
    }

    fn compute_mask(
        &self,
        _inputs: &[Tensor],
        _masks: &[Option<Tensor>],
    ) -> Result<Vec<Option<Tensor>>> {
        Ok(vec![None])
    }

    fn call_masked(
        &self,
        inputs: &[Tensor],
        masks: &[Option<Tensor>],
        _ctx: &mut Context,
    ) -> Result<Vec<Tensor>> {
        let x = single_input(&self.name, inputs)?;
        if x.ndim() != self.rank + 2 {
            return Err(incompatible(
                &self.name,
                format!("ndim={}", self.rank + 2),
                x.shape(),
            ));
        }
        x.expect_f32(&format!(
            "{} layer \"{}\"",
            class_name(true, self.mode, self.rank),
            self.name
        ))?;
        let first = if self.channels_first { 2 } else { 1 };
        let axes: Vec<isize> = (first..first + self.rank).map(|d| d as isize).collect();
        if self.mode == PoolMode::Max && axes.iter().any(|&d| x.shape()[d as usize] == 0) {
            return Err(incompatible(
                &self.name,
                "non-empty spatial axes",
                x.shape(),
            ));
        }
        if let (true, Some(Some(m))) = (self.supports_masking(), masks.first()) {
            return Ok(vec![self.masked_mean(x, m)?]);
        }
        Ok(vec![match self.mode {
            PoolMode::Max => ops::max(x, Some(&axes), self.keepdims)?,
            PoolMode::Average => ops::mean(x, Some(&axes), self.keepdims)?,
        }])
    }
}
