//! The fused recurrent sequence op behind SimpleRNN, LSTM and GRU: the input projection
//! of all steps as one GEMM, then per step one GEMM `h @ recurrent_kernel` (two for GRU
//! without reset_after) and one gate kernel per batch row (rust/cpu/rnn.rs); backward
//! through time with the same structure, then the weight gradients as whole-sequence
//! GEMMs. One autograd node covers the whole sequence; workspaces are allocated once per
//! call, never per step.
use crate::autograd::record;
use crate::cpu::gemm::{sgemm, sgemm_new, sgemm_new_pair, MatRef};
use crate::cpu::pool;
use crate::cpu::reduce::sum_axes;
use crate::cpu::rnn::{Backward, Cell, Forward, GateFn, GruGates, GruReset};
use crate::error::Result;
use crate::tensor::Tensor;
use crate::value_err;
use pulp::Arch;
use rayon::prelude::*;

/// What a fused recurrent layer computes.
#[derive(Clone, Copy, Debug)]
pub struct RnnSpec {
    pub cell: Cell,
    pub activation: GateFn,
    pub recurrent_activation: GateFn,
    pub go_backwards: bool,
}

/// Rows per step below which the gate kernels run on the calling thread.
const PAR_MIN_ROW_ELEMS: usize = 1 << 13;

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
/// dropout, fixed across steps).
#[allow(clippy::too_many_arguments)]
pub fn rnn(
    x: &Tensor,
    kernel: &Tensor,
    recurrent_kernel: &Tensor,
    bias: Option<&Tensor>,
    initial: &[Tensor],
    mask: Option<&Tensor>,
    recurrent_mask: Option<&Tensor>,
    spec: &RnnSpec,
) -> Result<Tensor> {
    let cell = spec.cell;
    let g = cell.gates();
    for t in [Some(x), Some(kernel), Some(recurrent_kernel), bias]
        .into_iter()
        .flatten()
        .chain(initial)
    {
        t.expect_f32("rnn")?;
    }
    if x.ndim() != 3 {
        return Err(value_err!(
            "rnn: the inputs must have rank 3 (batch, timesteps, features), got shape {:?}",
            x.shape()
        ));
    }
    let (b, t, d) = (x.shape()[0], x.shape()[1], x.shape()[2]);
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
            x.shape(),
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
            x.shape()
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
                x.shape(),
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
    let xc = x.contiguous_data();
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
    };
    let fw = forward(
        &dims,
        &xc.f32_data()?,
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
    Ok(record("rnn", &inputs, out.clone(), || {
        let saved = Saved {
            x: xc,
            w,
            r,
            out: out.detach(),
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
            let mut out = vec![
                Some(Tensor::from_f32(grads.dx, &[b, t, d])?),
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

#[derive(Clone, Copy)]
struct Dims {
    b: usize,
    t: usize,
    d: usize,
    u: usize,
    spec: RnnSpec,
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

    fn parallel(&self) -> bool {
        pool::num_threads() > 1 && self.b * self.u * self.spec.cell.gates() >= PAR_MIN_ROW_ELEMS
    }
}

/// A raw pointer to a buffer whose rows the tasks of one step write disjointly.
#[derive(Clone, Copy)]
struct Rows(*mut f32);
// SAFETY: each task touches only its own batch row's ranges (see the callers).
unsafe impl Send for Rows {}
unsafe impl Sync for Rows {}

impl Rows {
    fn of(v: &mut [f32]) -> Rows {
        Rows(v.as_mut_ptr())
    }

    /// # Safety
    /// `at + len` must be within the buffer and no other live slice may overlap it
    /// mutably.
    #[allow(clippy::mut_from_ref)]
    unsafe fn get<'a>(self, at: usize, len: usize) -> &'a mut [f32] {
        std::slice::from_raw_parts_mut(self.0.add(at), len)
    }
}

/// Runs `f(row)` for each batch row, on the pool's threads when `par`.
fn for_rows(par: bool, n: usize, f: impl Fn(usize) + Sync + Send) {
    if par {
        pool::install(|| (0..n).into_par_iter().for_each(&f))
    } else {
        (0..n).for_each(f)
    }
}

struct Fwd {
    out: Vec<f32>,
    saved: Vec<f32>,
    eff: Vec<f32>,
    reff: Vec<f32>,
    cs: Vec<f32>,
}

/// The buffers the backward pass reads; all per-step buffers are indexed by input step.
struct Saved {
    x: Tensor,
    w: Tensor,
    r: Tensor,
    out: Tensor,
    c0: Vec<f32>,
    mask: Option<Vec<f32>>,
    rmask: Option<Vec<f32>>,
    saved: Vec<f32>,
    eff: Vec<f32>,
    reff: Vec<f32>,
    cs: Vec<f32>,
}

#[allow(clippy::too_many_arguments)]
fn forward(
    dm: &Dims,
    x: &[f32],
    w: &[f32],
    r: &[f32],
    bias: Option<&[f32]>,
    h0: &[f32],
    c0: &[f32],
    mask: Option<&[f32]>,
    rmask: Option<&[f32]>,
) -> Fwd {
    let Dims { b, t, d, u, spec } = *dm;
    let cell = spec.cell;
    let gu = cell.gates() * u;
    let sw = cell.saved() * u;
    let two_bias = cell == Cell::Gru { reset_after: true };
    let v1 = cell == Cell::Gru { reset_after: false };
    let (bias_in, rbias): (Option<&[f32]>, &[f32]) = match bias {
        Some(bv) if two_bias => (Some(&bv[..gu]), &bv[gu..]),
        Some(bv) => (Some(bv), &[]),
        None => (None, &[]),
    };
    let zeros_rbias;
    let rbias = if two_bias && rbias.is_empty() {
        zeros_rbias = vec![0.0; gu];
        &zeros_rbias[..]
    } else {
        rbias
    };
    // the input projection of every step at once
    let mut xw = match bias_in {
        Some(bv) => bv.repeat(b * t),
        None => vec![0.0; b * t * gu],
    };
    sgemm(
        b * t,
        gu,
        d,
        MatRef::row_major(x, d),
        MatRef::row_major(w, gu),
        &mut xw,
        gu,
        bias_in.is_some(),
    );
    let rows_out = dm.out_rows();
    let mut out = vec![0.0; b * rows_out * u];
    let mut saved = vec![0.0; b * t * sw];
    let mut eff = vec![0.0; b * t * u];
    let mut reff = if v1 { vec![0.0; b * t * u] } else { Vec::new() };
    let mut cs = if cell == Cell::Lstm {
        vec![0.0; b * t * u]
    } else {
        Vec::new()
    };
    let rw = if v1 { 2 * u } else { gu };
    let mut rz = vec![0.0; b * rw];
    let mut rh = if v1 { vec![0.0; b * u] } else { Vec::new() };
    let arch = Arch::new();
    let par = dm.parallel();
    // the first step's `eff`; each step's kernel writes the next one's
    let t0 = dm.ti(0);
    for bi in 0..b {
        let e = &mut eff[(bi * t + t0) * u..(bi * t + t0 + 1) * u];
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
    let (po, ps, pe, prf, pc) = (
        Rows::of(&mut out),
        Rows::of(&mut saved),
        Rows::of(&mut eff),
        Rows::of(&mut reff),
        Rows::of(&mut cs),
    );
    for s in 0..t {
        let ti = dm.ti(s);
        let prev_ti = (s > 0).then(|| dm.ti(s - 1));
        let next_ti = (s + 1 < t).then(|| dm.ti(s + 1));
        let eff_t = MatRef {
            data: &eff,
            offset: ti * u,
            rs: (t * u) as isize,
            cs: 1,
        };
        sgemm(
            b,
            rw,
            u,
            eff_t,
            MatRef::row_major(r, gu),
            &mut rz,
            rw,
            false,
        );
        if v1 {
            let rz = &rz;
            for_rows(par, b, |bi| unsafe {
                let row = bi * t + ti;
                arch.dispatch(GruGates {
                    ract: spec.recurrent_activation,
                    xw: &xw[row * gu..(row + 1) * gu],
                    rz: &rz[bi * rw..(bi + 1) * rw],
                    eff: pe.get(row * u, u),
                    saved: ps.get(row * sw, sw),
                    reff: prf.get(row * u, u),
                });
            });
            let reff_t = MatRef {
                data: &reff,
                offset: ti * u,
                rs: (t * u) as isize,
                cs: 1,
            };
            let rk = MatRef {
                data: r,
                offset: 2 * u,
                rs: gu as isize,
                cs: 1,
            };
            sgemm(b, u, u, reff_t, rk, &mut rh, u, false);
        }
        let rec: &[f32] = if v1 { &rh } else { &rz };
        let rwid = if v1 { u } else { rw };
        for_rows(par, b, |bi| unsafe {
            let row = bi * t + ti;
            let m = mask.map_or(1.0, |m| m[row]);
            let hp: &[f32] = match s {
                0 => &h0[bi * u..(bi + 1) * u],
                _ => po.get((bi * rows_out + s - 1) * u, u),
            };
            let (c_prev, c): (&[f32], &mut [f32]) = if cell == Cell::Lstm {
                (
                    match prev_ti {
                        None => &c0[bi * u..(bi + 1) * u],
                        Some(p) => pc.get((bi * t + p) * u, u),
                    },
                    pc.get(row * u, u),
                )
            } else {
                (&[], &mut [])
            };
            arch.dispatch(Forward {
                cell,
                act: spec.activation,
                ract: spec.recurrent_activation,
                m,
                xw: &xw[row * gu..(row + 1) * gu],
                rz: &rec[bi * rwid..(bi + 1) * rwid],
                rbias,
                eff: pe.get(row * u, u),
                h_prev: hp,
                c_prev,
                saved: ps.get(row * sw, sw),
                h: po.get((bi * rows_out + s) * u, u),
                c,
                eff_next: match next_ti {
                    Some(n) => pe.get((bi * t + n) * u, u),
                    None => &mut [],
                },
                rmask: rmask.map(|rm| &rm[bi * u..(bi + 1) * u]),
            });
        });
    }
    if cell == Cell::Lstm {
        let last = dm.ti(t - 1);
        for bi in 0..b {
            let src = (bi * t + last) * u;
            out[(bi * rows_out + t) * u..(bi * rows_out + t + 1) * u]
                .copy_from_slice(&cs[src..src + u]);
        }
    }
    Fwd {
        out,
        saved,
        eff,
        reff,
        cs,
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

fn backward(dm: &Dims, sv: &Saved, g: &[f32]) -> Result<Grads> {
    let Dims { b, t, d, u, spec } = *dm;
    let cell = spec.cell;
    let gu = cell.gates() * u;
    let sw = cell.saved() * u;
    let dw_ = cell.grad_width() * u;
    let two_bias = cell == Cell::Gru { reset_after: true };
    let v1 = cell == Cell::Gru { reset_after: false };
    let rows_out = dm.out_rows();
    let (x, w, r) = (sv.x.f32_data()?, sv.w.f32_data()?, sv.r.f32_data()?);
    let out = sv.out.f32_data()?;
    let mut da = vec![0.0; b * t * dw_];
    let mut deff = vec![0.0; b * u];
    let mut pass = vec![0.0; b * u];
    let mut dhs = vec![0.0; b * u];
    let mut tmp = vec![0.0; b * u];
    let mut q = if v1 { vec![0.0; b * u] } else { Vec::new() };
    let mut dc = vec![0.0; if cell == Cell::Lstm { b * u } else { 0 }];
    if cell == Cell::Lstm {
        for bi in 0..b {
            let at = (bi * rows_out + t) * u;
            dc[bi * u..(bi + 1) * u].copy_from_slice(&g[at..at + u]);
        }
    }
    let arch = Arch::new();
    let par = dm.parallel();
    let rmask = sv.rmask.as_deref();
    let (pda, pdeff, ppass, pdh, ptmp, pdc) = (
        Rows::of(&mut da),
        Rows::of(&mut deff),
        Rows::of(&mut pass),
        Rows::of(&mut dhs),
        Rows::of(&mut tmp),
        Rows::of(&mut dc),
    );
    // recurrent columns of the pre-activation gradient and of R
    let rec_k = match cell {
        Cell::Gru { reset_after: true } => 3 * u,
        Cell::Gru { reset_after: false } => 2 * u,
        _ => gu,
    };
    // R^T copied once, so that the per-step products read rows of contiguous memory
    let mut rt = vec![0.0; gu * u];
    for (i, row) in r.chunks_exact(gu).enumerate() {
        for (j, &v) in row.iter().enumerate() {
            rt[j * u + i] = v;
        }
    }
    let r_t = MatRef::row_major(&rt, u);
    for s in (0..t).rev() {
        let ti = dm.ti(s);
        let prev_ti = (s > 0).then(|| dm.ti(s - 1));
        // SAFETY (all row accesses below): row `bi` touches only batch row `bi`'s ranges.
        for_rows(par, b, |bi| unsafe {
            let row = bi * t + ti;
            let m = sv.mask.as_ref().map_or(1.0, |m| m[row]);
            let (c, c_prev): (&[f32], &[f32]) = if cell == Cell::Lstm {
                (
                    &sv.cs[row * u..(row + 1) * u],
                    match prev_ti {
                        None => &sv.c0[bi * u..(bi + 1) * u],
                        Some(p) => &sv.cs[(bi * t + p) * u..(bi * t + p + 1) * u],
                    },
                )
            } else {
                (&[], &[])
            };
            let dcr: &mut [f32] = if cell == Cell::Lstm {
                pdc.get(bi * u, u)
            } else {
                &mut []
            };
            arch.dispatch(Backward {
                cell,
                act: spec.activation,
                ract: spec.recurrent_activation,
                m,
                g_out: &g[(bi * rows_out + s) * u..(bi * rows_out + s + 1) * u],
                rmask: rmask.map(|rm| &rm[bi * u..(bi + 1) * u]),
                dh: pdh.get(bi * u, u),
                dc: dcr,
                saved: &sv.saved[row * sw..(row + 1) * sw],
                h: &out[(bi * rows_out + s) * u..(bi * rows_out + s + 1) * u],
                c,
                c_prev,
                eff: &sv.eff[row * u..(row + 1) * u],
                da: pda.get(row * dw_, dw_),
                deff: pdeff.get(bi * u, u),
                pass: ppass.get(bi * u, u),
                tmp: ptmp.get(bi * u, u),
            });
        });
        let da_t = |col: usize| MatRef {
            data: unsafe { std::slice::from_raw_parts(pda.0, b * t * dw_) },
            offset: ti * dw_ + col,
            rs: (t * dw_) as isize,
            cs: 1,
        };
        if v1 {
            let rh_t = MatRef {
                data: &rt,
                offset: 2 * u * u,
                rs: u as isize,
                cs: 1,
            };
            sgemm(b, u, u, da_t(2 * u), rh_t, &mut q, u, false);
            let q = &q;
            for_rows(par, b, |bi| unsafe {
                let row = bi * t + ti;
                arch.dispatch(GruReset {
                    ract: spec.recurrent_activation,
                    q: &q[bi * u..(bi + 1) * u],
                    r: &sv.saved[row * sw + u..row * sw + 2 * u],
                    eff: &sv.eff[row * u..(row + 1) * u],
                    dar: pda.get(row * dw_ + u, u),
                    deff: pdeff.get(bi * u, u),
                });
            });
        }
        // SAFETY: no row task is running; `deff` is written only by this product.
        let de = unsafe { pdeff.get(0, b * u) };
        sgemm(b, u, rec_k, da_t(0), r_t, de, u, true);
    }
    let mut dh0 = pass;
    for (i, h) in dh0.iter_mut().enumerate() {
        *h += deff[i] * rmask.map_or(1.0, |m| m[i]);
    }
    // whole-sequence products: the input part of the pre-activation gradient is its
    // first `gu` columns, or for GRU with reset_after columns [0, 2u) and [3u, 4u)
    let bt = b * t;
    let da_m = |col: usize| MatRef {
        data: &da,
        offset: col,
        rs: dw_ as isize,
        cs: 1,
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
    let x_t = MatRef::row_major(&x, d).t();
    let eff_t = MatRef::row_major(&sv.eff, u).t();
    let (dx, mut dwk, mut dr): (Vec<f32>, Vec<f32>, Vec<f32>);
    if two_bias {
        let mut v = sgemm_new((bt, d, 2 * u, da_m(0), w_t(0)));
        sgemm(bt, d, u, da_m(3 * u), w_t(2 * u), &mut v, d, true);
        dx = v;
        dwk = vec![0.0; d * gu];
        sgemm(d, 2 * u, bt, x_t, da_m(0), &mut dwk, gu, false);
        sgemm(d, u, bt, x_t, da_m(3 * u), &mut dwk[2 * u..], gu, false);
        dr = sgemm_new((u, gu, bt, eff_t, da_m(0)));
    } else {
        (dx, dwk) = sgemm_new_pair((bt, d, gu, da_m(0), w_t(0)), (d, gu, bt, x_t, da_m(0)));
        if v1 {
            dr = vec![0.0; u * gu];
            sgemm(u, 2 * u, bt, eff_t, da_m(0), &mut dr, gu, false);
            let reff_t = MatRef::row_major(&sv.reff, u).t();
            sgemm(u, u, bt, reff_t, da_m(2 * u), &mut dr[2 * u..], gu, false);
        } else {
            dr = sgemm_new((u, gu, bt, eff_t, da_m(0)));
        }
    }
    let sums = sum_axes(&da, &[bt, dw_], &[true, false]);
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
