//! Embedding lookup: a row gather from a (vocab, dim) table with a scatter-add backward.
use crate::autograd::record;
use crate::cpu::pool::{self, PAR_MIN_ELEMS};
use crate::cpu::scratch::filled;
use crate::error::Result;
use crate::tensor::{DType, Tensor};
use crate::value_err;
use rayon::prelude::*;

/// The token ids of `ids` (int64, or float32 holding whole numbers) as row numbers of a
/// table with `n` rows; an id outside `[0, n)` is a ValueError naming `op`, the id and `n`.
pub fn token_ids(op: &str, ids: &Tensor, n: usize) -> Result<Vec<usize>> {
    let bad = |id: String| {
        value_err!("{op}: token id {id} is out of range; ids must be in [0, input_dim={n})")
    };
    match ids.dtype() {
        DType::I64 => ids
            .i64_data()?
            .iter()
            .map(|&i| {
                if i >= 0 && (i as u64) < n as u64 {
                    Ok(i as usize)
                } else {
                    Err(bad(i.to_string()))
                }
            })
            .collect(),
        DType::F32 => ids
            .f32_data()?
            .iter()
            .map(|&f| {
                if f >= 0.0 && f.fract() == 0.0 && (f as f64) < n as f64 {
                    Ok(f as usize)
                } else {
                    Err(bad(f.to_string()))
                }
            })
            .collect(),
    }
}

/// `table[ids]`: for ids of any shape, the output has shape `ids.shape + [dim]`.
/// Backward: the output gradient's rows added into zeros of the table's shape at the
/// rows read (grouped by table row, so rows are summed in parallel without races).
pub fn embedding_lookup(op: &str, table: &Tensor, ids: &Tensor) -> Result<Tensor> {
    table.expect_f32(op)?;
    if table.ndim() != 2 {
        return Err(value_err!(
            "{op}: the embeddings table must have rank 2 (input_dim, output_dim), got shape {:?}",
            table.shape()
        ));
    }
    let (vocab, dim) = (table.shape()[0], table.shape()[1]);
    let rows = token_ids(op, ids, vocab)?;
    let data = table.f32_data()?;
    let mut out = vec![0.0f32; rows.len() * dim];
    let copy = |(o, &r): (&mut [f32], &usize)| o.copy_from_slice(&data[r * dim..(r + 1) * dim]);
    if dim > 0 {
        if out.len() >= PAR_MIN_ELEMS {
            pool::install(|| out.par_chunks_mut(dim).zip(rows.par_iter()).for_each(copy));
        } else {
            out.chunks_mut(dim).zip(rows.iter()).for_each(copy);
        }
    }
    let mut shape = ids.shape().to_vec();
    shape.push(dim);
    let out = Tensor::new_f32(out, &shape);
    Ok(record("embedding", &[table], out, || {
        move |g: &Tensor| {
            let dx = scatter_rows(&g.f32_data()?, dim, &rows, vocab, dim);
            Ok(vec![Some(Tensor::new_f32(dx, &[vocab, dim]))])
        }
    }))
}

/// `dx[rows[i]] += g[i]` into (vocab, dim) zeros, where row `i` of `g` is the `dim`
/// values at `g[i * stride..]`.
pub(crate) fn scatter_rows(
    g: &[f32],
    stride: usize,
    rows: &[usize],
    vocab: usize,
    dim: usize,
) -> Vec<f32> {
    if dim == 0 {
        return Vec::new();
    }
    let g_row = |i: usize| &g[i * stride..i * stride + dim];
    if rows.len() * dim < PAR_MIN_ELEMS {
        let mut dx = vec![0.0f32; vocab * dim];
        for (i, &r) in rows.iter().enumerate() {
            let d = &mut dx[r * dim..(r + 1) * dim];
            d.iter_mut().zip(g_row(i)).for_each(|(d, v)| *d += v);
        }
        return dx;
    }
    // positions grouped by table row (a counting sort), then one task per table row,
    // which writes the row once: its first position's values, or zeros when none
    let mut start = vec![0usize; vocab + 1];
    for &r in rows {
        start[r + 1] += 1;
    }
    for v in 0..vocab {
        start[v + 1] += start[v];
    }
    let mut fill = start.clone();
    let mut order = vec![0usize; rows.len()];
    for (i, &r) in rows.iter().enumerate() {
        order[fill[r]] = i;
        fill[r] += 1;
    }
    filled(vocab * dim, |dx| {
        pool::install(|| {
            dx.par_chunks_mut(dim).enumerate().for_each(|(v, d)| {
                match order[start[v]..start[v + 1]].split_first() {
                    None => d.fill(0.0),
                    Some((&first, rest)) => {
                        d.copy_from_slice(g_row(first));
                        for &i in rest {
                            d.iter_mut().zip(g_row(i)).for_each(|(d, v)| *d += v);
                        }
                    }
                }
            })
        })
    })
}
