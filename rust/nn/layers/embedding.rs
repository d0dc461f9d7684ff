//! `Embedding`: token ids to dense vectors (rows of a (input_dim, output_dim) table); with
//! `mask_zero` it also gives the Keras mask `ids != 0`.
use super::{project_weights, single_input, weight_penalties};
use crate::autograd::Variable;
use crate::error::Result;
use crate::nn::constraints::Constraint;
use crate::nn::regularizers::Regularizer;
use crate::nn::{Context, Layer};
use crate::ops;
use crate::tensor::{DType, Tensor};
use crate::value_err;

pub struct Embedding {
    name: String,
    embeddings: Variable,
    mask_zero: bool,
    regularizer: Option<Regularizer>,
    constraint: Option<Constraint>,
}

impl Embedding {
    pub fn new(
        name: &str,
        embeddings: Variable,
        mask_zero: bool,
        regularizer: Option<Regularizer>,
        constraint: Option<Constraint>,
    ) -> Result<Embedding> {
        if embeddings.shape().len() != 2 {
            return Err(value_err!(
                "Embedding layer \"{name}\": the embeddings must have rank 2 (input_dim, output_dim), got shape {:?}",
                embeddings.shape()
            ));
        }
        Ok(Embedding {
            name: name.to_string(),
            embeddings,
            mask_zero,
            regularizer,
            constraint,
        })
    }

    /// How errors name this layer's lookup (ids out of range).
    pub fn op(&self) -> String {
        format!("Embedding layer \"{}\"", self.name)
    }

    /// The (input_dim, output_dim) table's current value.
    pub fn table(&self) -> Tensor {
        self.embeddings.value()
    }
}

impl Layer for Embedding {
    fn name(&self) -> &str {
        &self.name
    }

    fn call(&self, inputs: &[Tensor], _ctx: &mut Context) -> Result<Vec<Tensor>> {
        let ids = single_input(&self.name, inputs)?;
        Ok(vec![ops::embedding_lookup(
            &self.op(),
            &self.embeddings.value(),
            ids,
        )?])
    }

    fn variables(&self) -> Vec<Variable> {
        vec![self.embeddings.clone()]
    }

    fn regularization(&self) -> Result<Option<Tensor>> {
        weight_penalties(&[(&self.embeddings, self.regularizer)])
    }

    fn apply_constraints(&self) -> Result<()> {
        project_weights(&[(&self.embeddings, &self.constraint)])
    }

    /// Keras: `supports_masking = mask_zero`.
    fn supports_masking(&self) -> bool {
        self.mask_zero
    }

    /// `ids != 0` when `mask_zero`, else no mask.
    fn compute_mask(
        &self,
        inputs: &[Tensor],
        _masks: &[Option<Tensor>],
    ) -> Result<Vec<Option<Tensor>>> {
        if !self.mask_zero {
            return Ok(vec![None]);
        }
        let ids = single_input(&self.name, inputs)?;
        let m: Vec<f32> = match ids.dtype() {
            DType::I64 => ids
                .i64_data()?
                .iter()
                .map(|&i| (i != 0) as u8 as f32)
                .collect(),
            DType::F32 => ids
                .f32_data()?
                .iter()
                .map(|&i| (i != 0.0) as u8 as f32)
                .collect(),
        };
        Ok(vec![Some(Tensor::from_f32(m, ids.shape())?)])
    }
}
