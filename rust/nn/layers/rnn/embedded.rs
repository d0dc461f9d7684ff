//! An Embedding layer feeding a fused recurrent layer, run as one call. The graph driver
//! puts it in place of the pair when the Embedding's output goes nowhere else
//! (`train::graph`). The recurrent layer then multiplies each table row read by its
//! kernel once, instead of every step's looked-up vector, and reads one projected row per
//! step (`ops::rnn` with `RnnInput::Tokens`); the gradient goes straight to the table.
//! The numbers are the pair's up to rounding, and each layer keeps its own weights: the
//! graph lists the two layers themselves, not this one.
use super::Recurrent;
use crate::error::Result;
use crate::nn::layers::Embedding;
use crate::nn::{Context, Layer};
use crate::ops::RnnInput;
use crate::tensor::Tensor;
use crate::value_err;
use std::sync::Arc;

pub struct EmbeddedRecurrent {
    embedding: Arc<Embedding>,
    rnn: Arc<Recurrent>,
}

impl EmbeddedRecurrent {
    pub fn new(embedding: Arc<Embedding>, rnn: Arc<Recurrent>) -> EmbeddedRecurrent {
        EmbeddedRecurrent { embedding, rnn }
    }

    /// The Keras mask of the looked-up sequence (`ids != 0` with `mask_zero`).
    fn sequence_mask(&self, ids: &Tensor) -> Result<Option<Tensor>> {
        if !self.embedding.supports_masking() {
            return Ok(None);
        }
        let masks = self
            .embedding
            .compute_mask(std::slice::from_ref(ids), &[])?;
        Ok(masks.into_iter().next().flatten())
    }
}

impl Layer for EmbeddedRecurrent {
    fn name(&self) -> &str {
        self.rnn.name()
    }

    fn call(&self, inputs: &[Tensor], ctx: &mut Context) -> Result<Vec<Tensor>> {
        self.call_masked(inputs, &[], ctx)
    }

    fn call_masked(
        &self,
        inputs: &[Tensor],
        _masks: &[Option<Tensor>],
        ctx: &mut Context,
    ) -> Result<Vec<Tensor>> {
        let Some((ids, initial)) = inputs.split_first() else {
            return Err(value_err!(
                "Layer \"{}\" expects token ids (and optionally initial states), got no inputs",
                self.embedding.name()
            ));
        };
        let mask = self.sequence_mask(ids)?;
        if ids.ndim() == 2 && self.rnn.takes_tokens(ctx) {
            let table = self.embedding.table();
            let op = self.embedding.op();
            let input = RnnInput::Tokens {
                ids,
                table: &table,
                op: &op,
            };
            self.rnn.call_on(input, initial, mask.as_ref(), ctx)
        } else {
            let x = self.embedding.call(std::slice::from_ref(ids), ctx)?;
            self.rnn
                .call_on(RnnInput::Sequence(&x[0]), initial, mask.as_ref(), ctx)
        }
    }

    fn supports_masking(&self) -> bool {
        self.rnn.supports_masking()
    }

    fn compute_mask(
        &self,
        inputs: &[Tensor],
        _masks: &[Option<Tensor>],
    ) -> Result<Vec<Option<Tensor>>> {
        let mask = match inputs.first() {
            Some(ids) => self.sequence_mask(ids)?,
            None => None,
        };
        self.rnn.compute_mask(&[], &[mask])
    }
}
