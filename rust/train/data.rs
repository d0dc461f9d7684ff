//! Batches from whole-dataset tensors: rows gathered by index (or viewed when the batch
//! is a contiguous range), and the per-epoch order.
use crate::error::Result;
use crate::random::Rng;
use crate::tensor::{CpuBuffer, Storage, Tensor};
use crate::value_err;
use rand::seq::SliceRandom;

/// The dataset rows `idx` of `t` (axis 0), as a new tensor.
pub fn gather_rows(t: &Tensor, idx: &[usize]) -> Result<Tensor> {
    let n = t.shape().first().copied().unwrap_or(0);
    let row: usize = t.shape()[1..].iter().product();
    let mut shape = t.shape().to_vec();
    shape[0] = idx.len();
    // a contiguous run of rows of a contiguous tensor is a view
    if t.is_contiguous() && idx.windows(2).all(|w| w[1] == w[0] + 1) {
        if let Some(&first) = idx.first() {
            if first + idx.len() > n {
                return Err(value_err!(
                    "batch rows {first}..{} exceed the {n} samples",
                    first + idx.len()
                ));
            }
            let strides = crate::tensor::contiguous_strides(&shape);
            return Ok(t.view(&shape, &strides, t.offset() + first * row));
        }
    }
    if let Some(&bad) = idx.iter().find(|&&i| i >= n) {
        return Err(value_err!(
            "sample index {bad} is out of range for {n} samples"
        ));
    }
    let t = t.contiguous_data();
    Ok(match &**t.storage() {
        Storage::Cpu(CpuBuffer::F32(v)) => {
            let mut out = Vec::with_capacity(idx.len() * row);
            for &i in idx {
                out.extend_from_slice(&v[i * row..(i + 1) * row]);
            }
            Tensor::from_f32(out, &shape)?
        }
        Storage::Cpu(CpuBuffer::I64(v)) => {
            let mut out = Vec::with_capacity(idx.len() * row);
            for &i in idx {
                out.extend_from_slice(&v[i * row..(i + 1) * row]);
            }
            Tensor::from_i64(out, &shape)?
        }
    })
}

/// Sample order for one epoch: shuffled or in sequence.
pub fn epoch_order(n: usize, shuffle: bool, rng: &mut Rng) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    if shuffle {
        order.shuffle(rng);
    }
    order
}
