//! Reshaping layers: `Flatten`, `Reshape`, `Permute`, `RepeatVector`, and `Identity`.
//! The batch axis (axis 0) is never touched.
use super::{incompatible, permute, single_input};
use crate::autograd::record;
use crate::error::Result;
use crate::nn::{Context, Layer};
use crate::ops::{self, broadcast_to, resolve_shape, sum_to_shape};
use crate::tensor::Tensor;
use crate::value_err;

/// `keras.layers.Flatten(data_format=None)`: (batch, ...) -> (batch, prod(...)); a
/// (batch,) input becomes (batch, 1). `channels_first` inputs are moved to channels-last
/// first, as Keras does.
pub struct Flatten {
    name: String,
    channels_first: bool,
}

impl Flatten {
    pub fn new(name: &str, channels_first: bool) -> Flatten {
        Flatten {
            name: name.to_string(),
            channels_first,
        }
    }
}

impl Layer for Flatten {
    fn name(&self) -> &str {
        &self.name
    }

    fn call(&self, inputs: &[Tensor], _ctx: &mut Context) -> Result<Vec<Tensor>> {
        let x = single_input(&self.name, inputs)?;
        let nd = x.ndim();
        if nd == 0 {
            return Err(incompatible(&self.name, "min_ndim=1", x.shape()));
        }
        let x = if self.channels_first && nd > 2 {
            let order: Vec<usize> = std::iter::once(0).chain(2..nd).chain([1]).collect();
            permute(x, &order)
        } else {
            x.clone()
        };
        let rest = x.shape()[1..].iter().product();
        Ok(vec![ops::reshape(&x, &[x.shape()[0], rest])?])
    }
}

/// `keras.layers.Reshape(target_shape)`: (batch, ...) -> (batch, *target_shape), with at
/// most one -1 inferred.
pub struct Reshape {
    name: String,
    target_shape: Vec<isize>,
}

impl Reshape {
    pub fn new(name: &str, target_shape: Vec<isize>) -> Result<Reshape> {
        if target_shape.iter().filter(|&&d| d == -1).count() > 1
            || target_shape.iter().any(|&d| d < -1)
        {
            return Err(value_err!(
                "Reshape layer \"{name}\": target_shape must hold positive sizes and at most one -1. Received: target_shape={target_shape:?}"
            ));
        }
        Ok(Reshape {
            name: name.to_string(),
            target_shape,
        })
    }
}

impl Layer for Reshape {
    fn name(&self) -> &str {
        &self.name
    }

    fn call(&self, inputs: &[Tensor], _ctx: &mut Context) -> Result<Vec<Tensor>> {
        let x = single_input(&self.name, inputs)?;
        if x.ndim() == 0 {
            return Err(incompatible(&self.name, "min_ndim=1", x.shape()));
        }
        let op = format!(
            "Reshape layer \"{}\" (target_shape {:?})",
            self.name, self.target_shape
        );
        let mut shape = vec![x.shape()[0]];
        shape.extend(resolve_shape(&op, &x.shape()[1..], &self.target_shape)?);
        Ok(vec![ops::reshape(x, &shape)?])
    }
}

/// `keras.layers.Permute(dims)`: reorders the non-batch axes; `dims` counts from 1.
pub struct Permute {
    name: String,
    dims: Vec<usize>,
}

impl Permute {
    pub fn new(name: &str, dims: Vec<usize>) -> Result<Permute> {
        let mut sorted = dims.clone();
        sorted.sort_unstable();
        if sorted != (1..=dims.len()).collect::<Vec<_>>() {
            return Err(value_err!(
                "Invalid permutation argument `dims` for Permute layer \"{name}\". The set of indices in `dims` must be consecutive and start from 1. Received dims={dims:?}"
            ));
        }
        Ok(Permute {
            name: name.to_string(),
            dims,
        })
    }
}

impl Layer for Permute {
    fn name(&self) -> &str {
        &self.name
    }

    fn call(&self, inputs: &[Tensor], _ctx: &mut Context) -> Result<Vec<Tensor>> {
        let x = single_input(&self.name, inputs)?;
        if x.ndim() != self.dims.len() + 1 {
            return Err(incompatible(
                &self.name,
                format!("ndim={}", self.dims.len() + 1),
                x.shape(),
            ));
        }
        let order: Vec<usize> = std::iter::once(0)
            .chain(self.dims.iter().copied())
            .collect();
        Ok(vec![permute(x, &order)])
    }
}

/// `keras.layers.RepeatVector(n)`: (batch, features) -> (batch, n, features).
pub struct RepeatVector {
    name: String,
    n: usize,
}

impl RepeatVector {
    pub fn new(name: &str, n: usize) -> RepeatVector {
        RepeatVector {
            name: name.to_string(),
            n,
        }
    }
}

impl Layer for RepeatVector {
    fn name(&self) -> &str {
        &self.name
    }

    fn call(&self, inputs: &[Tensor], _ctx: &mut Context) -> Result<Vec<Tensor>> {
        let x = single_input(&self.name, inputs)?;
        x.expect_f32(&format!("RepeatVector layer \"{}\"", self.name))?;
        let [b, f] = x.shape()[..] else {
            return Err(incompatible(&self.name, "ndim=2", x.shape()));
        };
        let out = broadcast_to(
            &x.view(&[b, 1, f], &[x.strides()[0], 0, x.strides()[1]], x.offset()),
            &[b, self.n, f],
        )?;
        Ok(vec![record("repeat_vector", &[x], out, || {
            move |g: &Tensor| {
                let summed = sum_to_shape(g, &[b, 1, f])?;
                Ok(vec![Some(Tensor::from_f32(summed.to_vec_f32()?, &[b, f])?)])
            }
        })])
    }
}

/// `keras.layers.Identity`: returns its inputs.
pub struct Identity {
    name: String,
}

impl Identity {
    pub fn new(name: &str) -> Identity {
        Identity {
            name: name.to_string(),
        }
    }
}

impl Layer for Identity {
    fn name(&self) -> &str {
        &self.name
    }

    /// Keras: `supports_masking = True` (masks pass through).
    fn supports_masking(&self) -> bool {
        true
    }

    fn call(&self, inputs: &[Tensor], _ctx: &mut Context) -> Result<Vec<Tensor>> {
        Ok(inputs.to_vec())
    }
}
