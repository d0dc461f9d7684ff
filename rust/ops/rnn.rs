//! The fused recurrent sequence op behind SimpleRNN, LSTM and GRU: the input projection
//! of all steps as one GEMM, then per step one GEMM `h @ recurrent_kernel` (two for GRU
//! without reset_after) and one gate kernel per batch row (rust/cpu/rnn.rs); backward
//! through time with the same structure, the recurrent kernel's gradient in GEMMs over
//! blocks of steps as they finish, then the input kernel's as one whole-sequence GEMM.
//! The batch runs in one part per thread, each through the whole sequence, its per-step
//! buffers time-major. One autograd node covers the whole sequence; workspaces are
//! allocated once per call, never per step.
use crate::autograd::record;
use crate::cpu::gemm::{sgemm, sgemm_new, sgemm_new_pair, sgemm_serial, MatRef};
use crate::cpu::pool;
use crate::cpu::rnn::{prefetch, Backward, Cell, Forward, GateFn, GruGates, GruReset};
use crate::cpu::scratch::{filled, Scratch};
use crate::cpu::strided::transpose;
use crate::error::Result;
use crate::ops::embedding::{scatter_rows, token_ids};
use crate::tensor::Tensor;
use crate::value_err;
use pulp::Arch;
use rayon::prelude::*;
use std::ops::Range;

/// What a fused recurrent layer computes.
#[derive(Clone, Copy, Debug)]
pub struct RnnSpec {
    pub cell: Cell,
    pub activation: GateFn,
    pub recurrent_activation: GateFn,
    pub go_backwards: bool,
}

/// The sequence a fused recurrent layer reads.
#[derive(Clone, Copy)]
pub enum RnnInput<'a> {
    /// The inputs themselves, (batch, steps, input_dim).
    Sequence(&'a Tensor),
    /// Token ids (batch, steps) and the (vocab, input_dim) table of the Embedding layer
    /// that looks them up, fused into the recurrent layer: the input projection is then
    /// `table @ kernel` once and a row of it per step, and the backward pass gives the
    /// table's gradient directly. `op` names the Embedding layer in errors on bad ids.
    Tokens {
        ids: &'a Tensor,
        table: &'a Tensor,
        op: &'a str,
    },
}

impl<'a> From<&'a Tensor> for RnnInput<'a> {
    fn from(x: &'a Tensor) -> Self {
        RnnInput::Sequence(x)
    }
}

/// Batch rows below which a part of the batch is not given a thread of its own.
const MIN_CHUNK_ROWS: usize = 16;

/// Rows (steps times a part's batch rows) per product of the recurrent kernel's gradient
/// in the backward pass: enough for the product to run at full speed, few enough that
/// their pre-activation gradients are still in the core's cache.
const KERNEL_GRAD_ROWS: usize = 512;

/// Runs the sequence `x` (batch, steps, input_dim) through the cell from the initial
/// state (`h0`, and `c0` for LSTM, each (batch, units)) and returns one tensor of shape
/// (batch, steps + extra, units): the outputs of the steps in processing order (reversed
/// input order with `go_backwards`, as Keras returns them), then for LSTM the final carry.
/// The final output state is the last output (masked steps keep the previous state).
///
/// Weights have Keras's shapes: kernel (input_dim, gates * units), recurrent_kernel
/// (units, gates * units), bias (gates * units) or, for GRU with reset_after, (2, 3 * units).
/// `mask` (batch, steps) marks the steps that update the state; `recurrent_mask`
/// (batch, units) scales the previous output before it enters the step (recurrent
/// dropout, fixed across steps). With `RnnInput::Tokens` the sequence is the table's
/// rows at the ids, and the gradient goes to the table (same numbers up to rounding).
#[allow(clippy::too_many_arguments)]
pub fn rnn<'a>(
    x: impl Into<RnnInput<'a>>,
    kernel: &Tensor,
    recurrent_kernel: &Tensor,
    bias: Option<&Tensor>,
    initial: &[Tensor],
    mask: Option<&Tensor>,
    recurrent_mask: Option<&Tensor>,
    spec: &RnnSpec,
) -> Result<Tensor> {
    let input = x.into();
    let cell = spec.cell;
    let g = cell.gates();
    // the tensor the gradient of the inputs goes to, and the shape of the sequence
    let (x, seq_shape) = match input {
        RnnInput::Sequence(x) => (x, x.shape()),
        RnnInput::Tokens { ids, table, .. } => (table, ids.shape()),
    };
    for t in [Some(x), Some(kernel), Some(recurrent_kernel), bias]
        .into_iter()
        .flatten()
        .chain(initial)
    {
        t.expect_f32("rnn")?;
    }
    let (b, t, d, tokens) = match input {
        RnnInput::Sequence(x) => {
            if x.ndim() != 3 {
                return Err(value_err!(
                    "rnn: the inputs must have rank 3 (batch, timesteps, features), got shape {:?}",
                    x.shape()
                ));
            }
            (x.shape()[0], x.shape()[1], x.shape()[2], None)
        }
        RnnInput::Tokens { ids, table, op } => {
            if table.ndim() != 2 || ids.ndim() != 2 {
                return Err(value_err!(
                    "{op}: the token ids must have rank 2 (batch, timesteps) and the table rank 2, got shapes {:?} and {:?}",
                    ids.shape(),
                    table.shape()
                ));
            }
            let vocab = table.shape()[0];
            let tokens = Tokens::new(token_ids(op, ids, vocab)?, vocab);
            (
                ids.shape()[0],
                ids.shape()[1],
                table.shape()[1],
                Some(tokens),
            )
        }
    };
    let rs = recurrent_kernel.shape();
    if rs.len() != 2 || rs[1] != g * rs[0] || rs[0] == 0 {
        return Err(value_err!(
            "rnn: the recurrent kernel must have shape (units, {g} * units), got {rs:?}"
        ));
    }
    let u = rs[0];
    let gu = g * u;
    if kernel.shape() != [d, gu] {
        return Err(value_err!(
            "rnn: the kernel must have shape [{d}, {gu}] for inputs {:?} and {u} units, got {:?}",
            seq_shape,
            kernel.shape()
        ));
    }
    let two_bias = cell == Cell::Gru { reset_after: true };
    if let Some(bt) = bias {
        let want: &[usize] = if two_bias { &[2, gu] } else { &[gu] };
        if bt.shape() != want {
            return Err(value_err!(
                "rnn: the bias must have shape {want:?}, got {:?}",
                bt.shape()
            ));
        }
    }
    if t == 0 {
        return Err(value_err!(
            "rnn: the inputs {:?} have no time steps",
            seq_shape
        ));
    }
    let nstates = if cell == Cell::Lstm { 2 } else { 1 };
    if initial.len() != nstates || initial.iter().any(|s| s.shape() != [b, u]) {
        return Err(value_err!(
            "rnn: expected {nstates} initial state(s) of shape [{b}, {u}], got shapes {:?}",
            initial
                .iter()
                .map(|s| s.shape().to_vec())
                .collect::<Vec<_>>()
        ));
    }
    if let Some(m) = mask {
        if m.shape() != [b, t] {
            return Err(value_err!(
                "rnn: the mask must have shape [{b}, {t}] to match the inputs {:?}, got {:?}",
                seq_shape,
                m.shape()
            ));
        }
    }
    if let Some(m) = recurrent_mask {
        if m.shape() != [b, u] {
            return Err(value_err!(
                "rnn: the recurrent dropout mask must have shape [{b}, {u}], got {:?}",
                m.shape()
            ));
        }
    }
    // the rows the input projection multiplies: the sequence's, or the table's read
    let xc = match &tokens {
        None => x.contiguous_data(),
        Some(tk) => {
            let table = x.contiguous_data();
            let table = table.f32_data()?;
            let rows = tk.rows.iter().flat_map(|&r| &table[r * d..(r + 1) * d]);
            Tensor::from_f32(rows.copied().collect(), &[tk.rows.len(), d])?
        }
    };
    let w = kernel.contiguous_data();
    let r = recurrent_kernel.contiguous_data();
    let bias_data = bias.map(|bt| bt.to_vec_f32()).transpose()?;
    let mask_data = mask.map(|m| m.to_vec_f32()).transpose()?;
    let rmask = recurrent_mask.map(|m| m.to_vec_f32()).transpose()?;
    let h0 = initial[0].to_vec_f32()?;
    let c0 = if nstates == 2 {
        initial[1].to_vec_f32()?
    } else {
        Vec::new()
    };
    let dims = Dims {
        b,
        t,
        d,
        u,
        spec: *spec,
        parts: Dims::parts_for(b),
    };
    let fw = forward(
        &dims,
        &xc.f32_data()?,
        tokens.as_ref().map_or(b * t, |tk| tk.rows.len()),
        tokens.as_ref().map(|tk| &tk.at[..]),
        &w.f32_data()?,
        &r.f32_data()?,
        bias_data.as_deref(),
        &h0,
        &c0,
        mask_data.as_deref(),
        rmask.as_deref(),
    );
    let out = Tensor::from_f32(fw.out, &[b, t + nstates - 1, u])?;
    let mut inputs: Vec<&Tensor> = vec![x, kernel, recurrent_kernel];
    inputs.extend(bias);
    inputs.extend(initial);
    let has_bias = bias.is_some();
    let x_shape = x.shape().to_vec();
    Ok(record("rnn", &inputs, out.clone(), || {
        let saved = Saved {
            x: xc,
            tokens,
            w,
            r,
            out: out.detach(),
            h0,
            c0,
            mask: mask_data,
            rmask,
            saved: fw.saved,
            eff: fw.eff,
            reff: fw.reff,
            cs: fw.cs,
        };
        move |gr: &Tensor| {
            let gd = gr.f32_data()?;
            let grads = backward(&dims, &saved, &gd)?;
            let dx = match &saved.tokens {
                None => grads.dx,
                Some(tk) => tk.to_table(&grads.dx, d),
            };
            let mut out = vec![
                Some(Tensor::from_f32(dx, &x_shape)?),
                Some(Tensor::from_f32(grads.dw, &[d, gu])?),
                Some(Tensor::from_f32(grads.dr, &[u, gu])?),
            ];
            if has_bias {
                let shape: &[usize] = if two_bias { &[2, gu] } else { &[gu] };
                out.push(Some(Tensor::from_f32(grads.db, shape)?));
            }
            out.push(Some(Tensor::from_f32(grads.dh0, &[b, u])?));
            if nstates == 2 {
                out.push(Some(Tensor::from_f32(grads.dc0, &[b, u])?));
            }
            Ok(out)
        }
    }))
}

/// Token ids as rows of the table they index: the distinct ids in ascending order, and
/// for each batch row and step the position of its id among them. The projection then
/// multiplies each table row read once, never more rows than the sequence has.
struct Tokens {
    rows: Vec<usize>,
    at: Vec<usize>,
    vocab: usize,
}

impl Tokens {
    /// One pass over the vocabulary (the table's gradient, `to_table`, costs more).
    fn new(ids: Vec<usize>, vocab: usize) -> Tokens {
        let mut rank = vec![0usize; vocab];
        for &i in &ids {
            rank[i] = 1;
        }
        let mut rows = Vec::new();
        for (v, r) in rank.iter_mut().enumerate() {
            if *r == 1 {
                *r = rows.len();
                rows.push(v);
            }
        }
        let at = ids.iter().map(|&i| rank[i]).collect();
        Tokens { rows, at, vocab }
    }

    /// The gradient of the whole (vocab, d) table from that of the rows read.
    fn to_table(&self, grad: &[f32], d: usize) -> Vec<f32> {
        let mut out = vec![0.0; self.vocab * d];
        for (&r, g) in self.rows.iter().zip(grad.chunks_exact(d.max(1))) {
            out[r * d..(r + 1) * d].copy_from_slice(g);
        }
        out
    }
}

#[derive(Clone, Copy)]
struct Dims {
    b: usize,
    t: usize,
    d: usize,
    u: usize,
    spec: RnnSpec,
    /// Parts the batch runs in (`Dims::parts_for`), fixed at the forward pass: the
    /// per-step buffers' layout depends on it.
    parts: usize,
}

impl Dims {
    /// The input step processed at step `s`.
    fn ti(&self, s: usize) -> usize {
        if self.spec.go_backwards {
            self.t - 1 - s
        } else {
            s
        }
    }

    /// Rows of the packed output per batch entry.
    fn out_rows(&self) -> usize {
        self.t + (self.spec.cell == Cell::Lstm) as usize
    }

    /// How many parts a batch of `b` rows runs in: one per thread while each gets at
    /// least `MIN_CHUNK_ROWS` rows. Each part runs the whole sequence on its own, so
    /// threads never wait on each other between steps (at W4's size one step of the
    /// whole batch on two threads takes 52 us, each thread's half on its own 37 us).
    fn parts_for(b: usize) -> usize {
        (b / MIN_CHUNK_ROWS).clamp(1, pool::num_threads())
    }

    /// The batch split into `parts` row ranges.
    fn chunks(&self) -> Vec<Range<usize>> {
        let per = self.b.div_ceil(self.parts);
        (0..self.b)
            .step_by(per.max(1))
            .map(|r| r..(r + per).min(self.b))
            .collect()
    }

    /// The order of the rows of the per-step buffers (`saved`, `eff`, `da`, ...): part by
    /// part, each time-major (a step's rows together, so that the per-step products and
    /// kernels read contiguous memory). Entry k is the sequence row (`batch row * t +
    /// input step`) that buffer row k holds.
    fn seq_rows(&self) -> Vec<usize> {
        let t = self.t;
        self.chunks()
            .into_iter()
            .flat_map(|r| (0..t).flat_map(move |ti| r.clone().map(move |bi| bi * t + ti)))
            .collect()
    }
}

/// Runs `f` on each part, on the pool's threads when there are several.
fn for_parts<P: Send>(parts: Vec<P>, f: impl Fn(P) + Sync + Send) {
    if parts.len() > 1 {
        pool::install(|| parts.into_par_iter().for_each(f))
    } else {
        parts.into_iter().for_each(f)
    }
}

/// `buf` cut into the row ranges `chunks`, rows of `per_row` values (an empty buffer
/// gives empty parts).
fn split_rows<'a>(
    mut buf: &'a mut [f32],
    per_row: usize,
    chunks: &[Range<usize>],
) -> Vec<&'a mut [f32]> {
    chunks
        .iter()
        .map(|r| {
            let n = if buf.is_empty() { 0 } else { r.len() * per_row };
            let (part, rest) = std::mem::take(&mut buf).split_at_mut(n);
            buf = rest;
            part
        })
        .collect()
}

/// `(&v[a..a + n], &mut v[b..b + n])` for two ranges that do not overlap.
fn read_write(v: &mut [f32], a: usize, b: usize, n: usize) -> (&[f32], &mut [f32]) {
    if a < b {
        let (lo, hi) = v.split_at_mut(b);
        (&lo[a..a + n], &mut hi[..n])
    } else {
        let (lo, hi) = v.split_at_mut(a);
        (&hi[..n], &mut lo[b..b + n])
    }
}

/// `c (+)= a @ b` (row stride `ldc`) for one part of the batch: on the calling thread when
/// the parts already run in parallel, else on the pool.
#[allow(clippy::too_many_arguments)]
fn part_product(
    serial: bool,
    m: usize,
    n: usize,
    k: usize,
    a: MatRef,
    b: MatRef,
    c: &mut [f32],
    ldc: usize,
    accumulate: bool,
) {
    let f = if serial { sgemm_serial } else { sgemm };
    f(m, n, k, a, b, c, ldc, accumulate)
}

/// The `nb` rows of step `ti` in a part's per-step buffer (time-major: the rows of one
/// step are contiguous, `nb` per step, `width` values each) as a matrix from column `col`.
fn step_block(data: &[f32], nb: usize, width: usize, ti: usize, col: usize) -> MatRef<'_> {
    MatRef {
        data,
        offset: ti * nb * width + col,
        rs: width as isize,
        cs: 1,
    }
}

struct Fwd {
    out: Vec<f32>,
    saved: Scratch,
    eff: Scratch,
    reff: Scratch,
    cs: Scratch,
}

/// The buffers the backward pass reads; the per-step buffers (`saved`, `eff`, `reff`,
/// `cs`) are indexed by input step, their rows laid out as `Dims::seq_rows` gives.
struct Saved {
    /// The rows the input projection multiplied (see `FwdIn::xw`).
    x: Tensor,
    tokens: Option<Tokens>,
    w: Tensor,
    r: Tensor,
    out: Tensor,
    h0: Vec<f32>,
    c0: Vec<f32>,
    mask: Option<Vec<f32>>,
    rmask: Option<Vec<f32>>,
    saved: Scratch,
    eff: Scratch,
    reff: Scratch,
    cs: Scratch,
}

/// What every part of the forward pass reads, for the whole batch.
struct FwdIn<'a> {
    dm: Dims,
    serial: bool,
    /// The input projection: one row per batch row and step, or with token ids one per
    /// table row read (`ids` gives the row of each batch row and step).
    xw: &'a [f32],
    ids: Option<&'a [usize]>,
    bias: &'a [f32],
    rbias: &'a [f32],
    r: &'a [f32],
    h0: &'a [f32],
    c0: &'a [f32],
    mask: Option<&'a [f32]>,
    rmask: Option<&'a [f32]>,
}

/// The rows of one part of the batch in the forward pass's outputs.
struct FwdPart<'a> {
    rows: Range<usize>,
    out: &'a mut [f32],
    saved: &'a mut [f32],
    eff: &'a mut [f32],
    reff: &'a mut [f32],
    cs: &'a mut [f32],
}

#[allow(clippy::too_many_arguments)]
fn forward(
    dm: &Dims,
    x: &[f32],
    x_rows: usize,
    ids: Option<&[usize]>,
    w: &[f32],
    r: &[f32],
    bias: Option<&[f32]>,
    h0: &[f32],
    c0: &[f32],
    mask: Option<&[f32]>,
    rmask: Option<&[f32]>,
) -> Fwd {
    let Dims {
        b, t, d, u, spec, ..
    } = *dm;
    let cell = spec.cell;
    let gu = cell.gates() * u;
    let v1 = cell == Cell::Gru { reset_after: false };
    // the gates' bias; with reset_after the recurrent bias of z and r joins the input
    // one (they are only ever summed) and the candidate's stays apart (it is scaled by r)
    let (bias, rbias): (Vec<f32>, &[f32]) = match bias {
        None => (Vec::new(), &[]),
        Some(bv) if cell == (Cell::Gru { reset_after: true }) => {
            let mut v = bv[..gu].to_vec();
            v[..2 * u]
                .iter_mut()
                .zip(&bv[gu..gu + 2 * u])
                .for_each(|(a, &r)| *a += r);
            (v, &bv[gu + 2 * u..])
        }
        Some(bv) => (bv.to_vec(), &[]),
    };
    // the input projection of every step (or every table row read) at once
    let xw = sgemm_new((
        x_rows,
        gu,
        d,
        MatRef::row_major(x, d),
        MatRef::row_major(w, gu),
    ));
    let rows_out = dm.out_rows();
    let sw = cell.saved() * u;
    // every step writes its rows of these (and of `out`) before any are read
    let mut saved = Scratch::take(b * t * sw);
    let mut eff = Scratch::take(b * t * u);
    let mut reff = Scratch::take(if v1 { b * t * u } else { 0 });
    let mut cs = Scratch::take(if cell == Cell::Lstm { b * t * u } else { 0 });
    let chunks = dm.chunks();
    let inp = FwdIn {
        dm: *dm,
        serial: chunks.len() > 1,
        xw: &xw,
        ids,
        bias: &bias,
        rbias,
        r,
        h0,
        c0,
        mask,
        rmask,
    };
    let out = filled(b * rows_out * u, |out| {
        let parts: Vec<FwdPart> = split_rows(out, rows_out * u, &chunks)
            .into_iter()
            .zip(split_rows(&mut saved, t * sw, &chunks))
            .zip(split_rows(&mut eff, t * u, &chunks))
            .zip(split_rows(&mut reff, t * u, &chunks))
            .zip(split_rows(&mut cs, t * u, &chunks))
            .zip(chunks.iter().cloned())
            .map(|(((((out, saved), eff), reff), cs), rows)| FwdPart {
                rows,
                out,
                saved,
                eff,
                reff,
                cs,
            })
            .collect();
        for_parts(parts, |p| forward_part(&inp, p));
    });
    Fwd {
        out,
        saved,
        eff,
        reff,
        cs,
    }
}

/// The whole sequence for the batch rows of `p`.
fn forward_part(inp: &FwdIn, p: FwdPart) {
    let Dims { t, u, spec, .. } = inp.dm;
    let cell = spec.cell;
    let gu = cell.gates() * u;
    let sw = cell.saved() * u;
    let v1 = cell == Cell::Gru { reset_after: false };
    let rows_out = inp.dm.out_rows();
    let (r0, nb) = (p.rows.start, p.rows.len());
    let FwdPart {
        out,
        saved,
        eff,
        reff,
        cs,
        ..
    } = p;
    // the projection row of batch row `bi` (of this part) at input step `ti`
    let xw_row = |bi: usize, ti: usize| {
        let row = (r0 + bi) * t + ti;
        let at = inp.ids.map_or(row, |ids| ids[row]) * gu;
        &inp.xw[at..at + gu]
    };
    let h0 = &inp.h0[r0 * u..(r0 + nb) * u];
    let c0 = inp.c0.get(r0 * u..(r0 + nb) * u).unwrap_or(&[]);
    let mask = inp.mask.map(|m| &m[r0 * t..(r0 + nb) * t]);
    let rmask = inp.rmask.map(|m| &m[r0 * u..(r0 + nb) * u]);
    let rw = if v1 { 2 * u } else { gu };
    let mut rz = vec![0.0; nb * rw];
    let mut rh = if v1 { vec![0.0; nb * u] } else { Vec::new() };
    let arch = Arch::new();
    // the first step's `eff`; each step's kernel writes the next one's
    let t0 = inp.dm.ti(0);
    for bi in 0..nb {
        let at = (t0 * nb + bi) * u;
        let e = &mut eff[at..at + u];
        let h = &h0[bi * u..(bi + 1) * u];
        match rmask {
            Some(rm) => {
                for ((e, &h), &k) in e.iter_mut().zip(h).zip(&rm[bi * u..(bi + 1) * u]) {
                    *e = h * k;
                }
            }
            None => e.copy_from_slice(h),
        }
    }
    for s in 0..t {
        let ti = inp.dm.ti(s);
        let prev_ti = (s > 0).then(|| inp.dm.ti(s - 1));
        let next_ti = (s + 1 < t).then(|| inp.dm.ti(s + 1));
        let eff_t = step_block(eff, nb, u, ti, 0);
        let rk = MatRef::row_major(inp.r, gu);
        part_product(inp.serial, nb, rw, u, eff_t, rk, &mut rz, rw, false);
        if v1 {
            for bi in 0..nb {
                let row = ti * nb + bi;
                arch.dispatch(GruGates {
                    ract: spec.recurrent_activation,
                    xw: xw_row(bi, ti),
                    bias: inp.bias,
                    rz: &rz[bi * rw..(bi + 1) * rw],
                    eff: &eff[row * u..(row + 1) * u],
                    saved: &mut saved[row * sw..(row + 1) * sw],
                    reff: &mut reff[row * u..(row + 1) * u],
                });
            }
            let reff_t = step_block(reff, nb, u, ti, 0);
            let rk = MatRef {
                data: inp.r,
                offset: 2 * u,
                rs: gu as isize,
                cs: 1,
            };
            part_product(inp.serial, nb, u, u, reff_t, rk, &mut rh, u, false);
        }
        let (rec, rwid): (&[f32], usize) = if v1 { (&rh, u) } else { (&rz, rw) };
        for bi in 0..nb {
            let row = ti * nb + bi;
            if bi + 1 < nb {
                // the next batch row's projection and outputs lie far from this one's
                prefetch(xw_row(bi + 1, ti));
                let at = ((bi + 1) * rows_out + s) * u;
                prefetch(&out[at - u..at + u]);
            }
            let (h_prev, h): (&[f32], &mut [f32]) = match s {
                0 => (
                    &h0[bi * u..(bi + 1) * u],
                    &mut out[bi * rows_out * u..(bi * rows_out + 1) * u],
                ),
                _ => {
                    let at = (bi * rows_out + s) * u;
                    read_write(out, at - u, at, u)
                }
            };
            let (c_prev, c): (&[f32], &mut [f32]) = match (cell, prev_ti) {
                (Cell::Lstm, None) => (&c0[bi * u..(bi + 1) * u], &mut cs[row * u..(row + 1) * u]),
                (Cell::Lstm, Some(p)) => read_write(cs, (p * nb + bi) * u, row * u, u),
                _ => (&[], &mut []),
            };
            let eff_next: &mut [f32] = match next_ti {
                Some(n) => &mut eff[(n * nb + bi) * u..(n * nb + bi + 1) * u],
                None => &mut [],
            };
            arch.dispatch(Forward {
                cell,
                act: spec.activation,
                ract: spec.recurrent_activation,
                m: mask.map_or(1.0, |m| m[bi * t + ti]),
                xw: xw_row(bi, ti),
                bias: inp.bias,
                rz: &rec[bi * rwid..(bi + 1) * rwid],
                rbias: inp.rbias,
                h_prev,
                c_prev,
                saved: &mut saved[row * sw..(row + 1) * sw],
                h,
                c,
                eff_next,
                rmask: rmask.map(|rm| &rm[bi * u..(bi + 1) * u]),
            });
        }
    }
    if cell == Cell::Lstm {
        let last = inp.dm.ti(t - 1);
        for bi in 0..nb {
            let src = (last * nb + bi) * u;
            out[(bi * rows_out + t) * u..(bi * rows_out + t + 1) * u]
                .copy_from_slice(&cs[src..src + u]);
        }
    }
}

struct Grads {
    dx: Vec<f32>,
    dw: Vec<f32>,
    dr: Vec<f32>,
    db: Vec<f32>,
    dh0: Vec<f32>,
    dc0: Vec<f32>,
}

/// What every part of the backward pass reads, for the whole batch.
struct BwdIn<'a> {
    dm: Dims,
    serial: bool,
    sv: &'a Saved,
    /// The output's gradient, laid out as the output.
    g: &'a [f32],
    out: &'a [f32],
    /// `R^T` (gates * U x U), rows contiguous for the per-step products.
    rt: &'a [f32],
}

/// The rows of one part of the batch in the backward pass's buffers: `da` per step, the
/// rest one row of U values per batch entry.
struct BwdPart<'a> {
    rows: Range<usize>,
    da: &'a mut [f32],
    /// This part's sum of `da` over its rows and steps (the bias gradient's share).
    da_sum: &'a mut [f32],
    /// This part's share of the recurrent kernel's gradient, transposed (gates * U x U).
    dr: &'a mut [f32],
    deff: &'a mut [f32],
    pass: &'a mut [f32],
    dc: &'a mut [f32],
}

fn backward(dm: &Dims, sv: &Saved, g: &[f32]) -> Result<Grads> {
    let Dims {
        b, t, d, u, spec, ..
    } = *dm;
    let cell = spec.cell;
    let gu = cell.gates() * u;
    let dw_ = cell.grad_width() * u;
    let two_bias = cell == Cell::Gru { reset_after: true };
    let rows_out = dm.out_rows();
    let (x, w, r) = (sv.x.f32_data()?, sv.w.f32_data()?, sv.r.f32_data()?);
    let out = sv.out.f32_data()?;
    // every step writes its rows of `da` before they are read
    let mut da = Scratch::take(b * t * dw_);
    let mut deff = vec![0.0; b * u];
    let mut pass = vec![0.0; b * u];
    let mut dc = vec![0.0; if cell == Cell::Lstm { b * u } else { 0 }];
    if cell == Cell::Lstm {
        for bi in 0..b {
            let at = (bi * rows_out + t) * u;
            dc[bi * u..(bi + 1) * u].copy_from_slice(&g[at..at + u]);
        }
    }
    // R^T copied once, so that the per-step products read rows of contiguous memory
    let rt = transpose(&r, u, gu);
    let chunks = dm.chunks();
    let mut da_sums = vec![0.0; chunks.len() * dw_];
    let mut dr_parts = vec![0.0; chunks.len() * u * gu];
    let inp = BwdIn {
        dm: *dm,
        serial: chunks.len() > 1,
        sv,
        g,
        out: &out,
        rt: &rt,
    };
    let parts: Vec<BwdPart> = split_rows(&mut da, t * dw_, &chunks)
        .into_iter()
        .zip(da_sums.chunks_mut(dw_))
        .zip(dr_parts.chunks_mut(u * gu))
        .zip(split_rows(&mut deff, u, &chunks))
        .zip(split_rows(&mut pass, u, &chunks))
        .zip(split_rows(&mut dc, u, &chunks))
        .zip(chunks.iter().cloned())
        .map(|((((((da, da_sum), dr), deff), pass), dc), rows)| BwdPart {
            rows,
            da,
            da_sum,
            dr,
            deff,
            pass,
            dc,
        })
        .collect();
    for_parts(parts, |p| backward_part(&inp, p));
    let rmask = sv.rmask.as_deref();
    let mut dh0 = pass;
    for (i, h) in dh0.iter_mut().enumerate() {
        *h += deff[i] * rmask.map_or(1.0, |m| m[i]);
    }
    // whole-sequence products. The input part of the pre-activation gradient is its
    // first `gu` columns, or for GRU with reset_after columns [0, 2u) (z, r) and [3u, 4u)
    // (the candidate's input part): pieces (column of `da`, width, column of the kernel).
    let pieces: &[(usize, usize, usize)] = if two_bias {
        &[(0, 2 * u, 0), (3 * u, u, 2 * u)]
    } else {
        &[(0, gu, 0)]
    };
    // With token ids the products read `da`'s rows summed per table row (the projection
    // read one table row per step), against the table in place of the sequence; else
    // they read `da` against the sequence's rows taken in `da`'s order.
    let seq = dm.seq_rows();
    let (n, per_token, x_seq): (usize, Vec<Vec<f32>>, Vec<f32>) = match &sv.tokens {
        None => {
            let x_seq = seq.iter().flat_map(|&r| &x[r * d..(r + 1) * d]);
            (b * t, Vec::new(), x_seq.copied().collect())
        }
        Some(tk) => {
            let n = tk.rows.len();
            let at: Vec<usize> = seq.iter().map(|&r| tk.at[r]).collect();
            let sums = pieces
                .iter()
                .map(|&(col, width, _)| scatter_rows(&da[col..], dw_, &at, n, width))
                .collect();
            (n, sums, Vec::new())
        }
    };
    let grad_in = |i: usize| {
        let (col, width, _) = pieces[i];
        match per_token.get(i) {
            Some(v) => MatRef::row_major(v, width),
            None => MatRef {
                data: &da,
                offset: col,
                rs: dw_ as isize,
                cs: 1,
            },
        }
    };
    let w_t = |col: usize| {
        MatRef {
            data: &w,
            offset: col,
            rs: gu as isize,
            cs: 1,
        }
        .t()
    };
    let x_t = MatRef::row_major(if sv.tokens.is_some() { &x } else { &x_seq }, d).t();
    let (dx, dwk) = if let [(_, width, _)] = pieces {
        sgemm_new_pair(
            (n, d, *width, grad_in(0), w_t(0)),
            (d, gu, n, x_t, grad_in(0)),
        )
    } else {
        let mut dx = vec![0.0; n * d];
        let mut dwk = vec![0.0; d * gu];
        for (i, &(_, width, wcol)) in pieces.iter().enumerate() {
            sgemm(n, d, width, grad_in(i), w_t(wcol), &mut dx, d, i > 0);
            sgemm(d, width, n, x_t, grad_in(i), &mut dwk[wcol..], gu, false);
        }
        (dx, dwk)
    };
    // the sequence's gradient back in its own row order
    let dx = match &sv.tokens {
        Some(_) => dx,
        None => filled(b * t * d, |out| {
            for (&r, row) in seq.iter().zip(dx.chunks_exact(d.max(1))) {
                out[r * d..(r + 1) * d].copy_from_slice(row);
            }
        }),
    };
    // the parts' shares (each transposed) summed, then turned into (U x gates * U)
    let (dr_sum, rest) = dr_parts.split_at_mut(u * gu);
    for part in rest.chunks_exact(u * gu) {
        dr_sum.iter_mut().zip(part).for_each(|(s, &p)| *s += p);
    }
    let dr = transpose(dr_sum, gu, u);
    let mut sums = vec![0.0; dw_];
    for part in da_sums.chunks(dw_) {
        sums.iter_mut().zip(part).for_each(|(s, &p)| *s += p);
    }
    let db = if two_bias {
        let mut v = sums[..2 * u].to_vec();
        v.extend_from_slice(&sums[3 * u..4 * u]);
        v.extend_from_slice(&sums[..3 * u]);
        v
    } else {
        sums[..gu].to_vec()
    };
    Ok(Grads {
        dx,
        dw: dwk,
        dr,
        db,
        dh0,
        dc0: dc,
    })
}

/// Backward through time for the batch rows of `p`.
fn backward_part(inp: &BwdIn, p: BwdPart) {
    let Dims { t, u, spec, .. } = inp.dm;
    let sv = inp.sv;
    let cell = spec.cell;
    let gu = cell.gates() * u;
    let sw = cell.saved() * u;
    let dw_ = cell.grad_width() * u;
    let v1 = cell == Cell::Gru { reset_after: false };
    let rows_out = inp.dm.out_rows();
    let (r0, nb) = (p.rows.start, p.rows.len());
    let BwdPart {
        da,
        da_sum,
        dr,
        deff,
        pass,
        dc,
        ..
    } = p;
    // this part's rows of the saved buffers
    fn rows(v: &[f32], r0: usize, nb: usize, per_row: usize) -> &[f32] {
        v.get(r0 * per_row..(r0 + nb) * per_row).unwrap_or(&[])
    }
    let rows = |v, per_row| rows(v, r0, nb, per_row);
    let (g, out) = (rows(inp.g, rows_out * u), rows(inp.out, rows_out * u));
    let (saved, eff, cs) = (
        rows(&sv.saved, t * sw),
        rows(&sv.eff, t * u),
        rows(&sv.cs, t * u),
    );
    let (h0, c0) = (rows(&sv.h0, u), rows(&sv.c0, u));
    let mask = sv.mask.as_deref().map(|m| rows(m, t));
    let rmask = sv.rmask.as_deref().map(|m| rows(m, u));
    let mut dh = vec![0.0; nb * u];
    let mut tmp = vec![0.0; nb * u];
    let mut q = if v1 { vec![0.0; nb * u] } else { Vec::new() };
    // recurrent columns of the pre-activation gradient and of R
    let rec_k = match cell {
        Cell::Gru { reset_after: true } => 3 * u,
        Cell::Gru { reset_after: false } => 2 * u,
        _ => gu,
    };
    let arch = Arch::new();
    // steps per product of the recurrent kernel's gradient, and the steps done since one
    let block = (KERNEL_GRAD_ROWS / nb).max(1);
    let (mut pending, mut first) = (0, true);
    for s in (0..t).rev() {
        let ti = inp.dm.ti(s);
        let prev_ti = (s > 0).then(|| inp.dm.ti(s - 1));
        for bi in 0..nb {
            let row = ti * nb + bi;
            let unit = bi * u..(bi + 1) * u;
            if bi + 1 < nb {
                let at = ((bi + 1) * rows_out + s) * u;
                prefetch(&g[at..at + u]);
            }
            let (c, c_prev, dcr): (&[f32], &[f32], &mut [f32]) = if cell == Cell::Lstm {
                let c_prev = match prev_ti {
                    None => &c0[unit.clone()],
                    Some(p) => &cs[(p * nb + bi) * u..(p * nb + bi + 1) * u],
                };
                (&cs[row * u..(row + 1) * u], c_prev, &mut dc[unit.clone()])
            } else {
                (&[], &[], &mut [])
            };
            let at = (bi * rows_out + s) * u;
            arch.dispatch(Backward {
                cell,
                act: spec.activation,
                ract: spec.recurrent_activation,
                m: mask.map_or(1.0, |m| m[bi * t + ti]),
                g_out: &g[at..at + u],
                rmask: rmask.map(|rm| &rm[unit.clone()]),
                dh: &mut dh[unit.clone()],
                dc: dcr,
                saved: &saved[row * sw..(row + 1) * sw],
                h: &out[at..at + u],
                h_prev: match (cell, s) {
                    (Cell::Gru { .. }, 0) => &h0[unit.clone()],
                    (Cell::Gru { .. }, _) => &out[at - u..at],
                    _ => &[],
                },
                c,
                c_prev,
                da: &mut da[row * dw_..(row + 1) * dw_],
                deff: &mut deff[unit.clone()],
                pass: &mut pass[unit.clone()],
                tmp: &mut tmp[unit],
            });
        }
        if v1 {
            let rh_t = MatRef {
                data: inp.rt,
                offset: 2 * u * u,
                rs: u as isize,
                cs: 1,
            };
            let da_t = step_block(da, nb, dw_, ti, 2 * u);
            part_product(inp.serial, nb, u, u, da_t, rh_t, &mut q, u, false);
            for bi in 0..nb {
                let row = ti * nb + bi;
                let (dar, _) = da[row * dw_ + u..].split_at_mut(u);
                arch.dispatch(GruReset {
                    ract: spec.recurrent_activation,
                    q: &q[bi * u..(bi + 1) * u],
                    r: &saved[row * sw + u..row * sw + 2 * u],
                    eff: &eff[row * u..(row + 1) * u],
                    dar,
                    deff: &mut deff[bi * u..(bi + 1) * u],
                });
            }
        }
        for da_row in da[ti * nb * dw_..(ti + 1) * nb * dw_].chunks_exact(dw_) {
            da_sum.iter_mut().zip(da_row).for_each(|(s, &v)| *s += v);
        }
        let da_t = step_block(da, nb, dw_, ti, 0);
        let r_t = MatRef::row_major(inp.rt, u);
        part_product(inp.serial, nb, u, rec_k, da_t, r_t, deff, u, true);
        // every `block` steps (and at the end), the recurrent kernel's gradient of the
        // steps since, while their rows of `da` are still in this core's cache
        pending += 1;
        if pending == block || s == 0 {
            let (a, z) = (inp.dm.ti(s + pending - 1), ti);
            let steps = a.min(z)..a.max(z) + 1;
            let reff = rows(&sv.reff, t * u);
            kernel_grad(inp.serial, cell, u, da, eff, reff, dr, steps, nb, !first);
            (pending, first) = (0, false);
        }
    }
}

/// Adds this part's share of the recurrent kernel's gradient over the time-major rows of
/// input steps `steps` into `dr` (or writes it, without `accumulate`), transposed:
/// `da^T @ eff` (for GRU without reset_after the candidate's rows pair with `r * eff`);
/// this order runs about 14% faster than `eff^T @ da` (benches/gemm.rs).
#[allow(clippy::too_many_arguments)]
fn kernel_grad(
    serial: bool,
    cell: Cell,
    u: usize,
    da: &[f32],
    eff: &[f32],
    reff: &[f32],
    dr: &mut [f32],
    steps: Range<usize>,
    nb: usize,
    accumulate: bool,
) {
    let dw_ = cell.grad_width() * u;
    let n = steps.len() * nb;
    let r0 = steps.start * nb;
    let eff_m = MatRef::row_major(&eff[r0 * u..], u);
    let da_t = |col: usize| {
        MatRef {
            data: da,
            offset: r0 * dw_ + col,
            rs: dw_ as isize,
            cs: 1,
        }
        .t()
    };
    if cell == (Cell::Gru { reset_after: false }) {
        part_product(serial, 2 * u, u, n, da_t(0), eff_m, dr, u, accumulate);
        let reff_m = MatRef::row_major(&reff[r0 * u..], u);
        let dr_h = &mut dr[2 * u * u..];
        part_product(serial, u, u, n, da_t(2 * u), reff_m, dr_h, u, accumulate);
    } else {
        let gu = cell.gates() * u;
        part_product(serial, gu, u, n, da_t(0), eff_m, dr, u, accumulate);
    }
}
