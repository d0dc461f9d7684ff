//! dtype conversion.
use crate::autograd::record;
use crate::error::Result;
use crate::tensor::{DType, Tensor};

/// Converts to `dtype` (float -> int truncates toward zero, as numpy's astype). Gradients
/// flow through float -> float only.
pub fn cast(x: &Tensor, dtype: DType) -> Result<Tensor> {
    Ok(match (x.dtype(), dtype) {
        (a, b) if a == b => x.clone(),
        (DType::F32, DType::I64) => {
            Tensor::new_i64(x.f32_data()?.iter().map(|&v| v as i64).collect(), x.shape())
        }
        (DType::I64, DType::F32) => {
            let out = Tensor::new_f32(x.i64_data()?.iter().map(|&v| v as f32).collect(), x.shape());
            record("cast", &[x], out, || |_: &Tensor| Ok(vec![None]))
        }
        _ => unreachable!(),
    })
}
