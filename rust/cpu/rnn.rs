//! Gate kernels of the fused recurrent layers: one batch row of one time step, forward
//! and backward, for SimpleRNN, LSTM (gates i, f, c, o) and GRU (gates z, r, h; Keras's
//! `reset_after` True and False). Each kernel is a `WithSimd` type so that its loops over
//! the units are compiled for the instruction set found at run time; activations are
//! applied a whole gate at a time with the choice of function outside the loop.
//!
//! Masks: `m` is 1 for a step that updates the state and 0 for a masked step, which keeps
//! the previous state (`new = m * cand + (1 - m) * prev`, as Keras's `rnn` loop does).
use super::math;
use pulp::{Simd, WithSimd};

/// Starts loading `v` into the cache (x86-64; nothing elsewhere). A step's rows of the
/// layer's output (and of its gradient, and with token ids of the input projection) lie
/// a whole sequence apart, so the hardware prefetcher meets each row cold; the step
/// loops ask for the next batch row's while they work on this one.
#[inline(always)]
pub fn prefetch(v: &[f32]) {
    #[cfg(target_arch = "x86_64")]
    for line in v.chunks(16) {
        // SAFETY: a prefetch is only a hint; it reads nothing and faults on no address.
        unsafe {
            std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(
                line.as_ptr() as *const i8
            )
        }
    }
}

/// Evaluates `$body` with `$f` bound to the gate function `$g` (Tanh and Sigmoid in their
/// gates' forms, within 7 and 3 ulp, see rust/cpu/math.rs), once per function, so that the
/// loops in `$body` are compiled without a choice per value.
macro_rules! with_gate_fn {
    ($g:expr, $f:ident => $body:expr) => {
        match $g {
            GateFn::Tanh => {
                let $f = math::tanh_rational;
                $body
            }
            GateFn::Sigmoid => {
                let $f = math::sigmoid_lean;
                $body
            }
            // Keras 3: relu6(x + 3) / 6
            GateFn::HardSigmoid => {
                let $f = |v: f32| ((v + 3.0).clamp(0.0, 6.0)) / 6.0;
                $body
            }
            GateFn::Relu => {
                let $f = |v: f32| v.max(0.0);
                $body
            }
            GateFn::Linear => {
                let $f = |v: f32| v;
                $body
            }
        }
    };
}

/// The activations a fused recurrent layer applies; each derivative is a function of the
/// activation's output, so the backward pass reads only the saved gate values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GateFn {
    Tanh,
    Sigmoid,
    HardSigmoid,
    Relu,
    Linear,
}

impl GateFn {
    /// The function called `name` in Keras, if a fused layer supports it.
    pub fn from_name(name: &str) -> Option<GateFn> {
        Some(match name {
            "tanh" => GateFn::Tanh,
            "sigmoid" => GateFn::Sigmoid,
            "hard_sigmoid" => GateFn::HardSigmoid,
            "relu" => GateFn::Relu,
            "linear" => GateFn::Linear,
            _ => return None,
        })
    }

    /// `x[i] = f(x[i])`.
    #[inline(always)]
    pub fn apply(self, x: &mut [f32]) {
        with_gate_fn!(self, f => x.iter_mut().for_each(|v| *v = f(*v)))
    }

    /// `out[i] = f(a[i] + b[i] + bias[i])`, or `f(a[i] + b[i])` when `bias` is empty: a
    /// gate's pre-activation and activation in one pass.
    #[inline(always)]
    pub fn apply_sum(self, out: &mut [f32], a: &[f32], b: &[f32], bias: &[f32]) {
        with_gate_fn!(self, f => {
            if bias.is_empty() {
                for ((o, &x), &y) in out.iter_mut().zip(a).zip(b) {
                    *o = f(x + y);
                }
            } else {
                for (((o, &x), &y), &z) in out.iter_mut().zip(a).zip(b).zip(bias) {
                    *o = f(x + y + z);
                }
            }
        })
    }

    /// `g[i] *= f'(x)` where `y[i] = f(x)`.
    #[inline(always)]
    pub fn mul_deriv(self, g: &mut [f32], y: &[f32]) {
        match self {
            GateFn::Tanh => g.iter_mut().zip(y).for_each(|(g, &y)| *g *= 1.0 - y * y),
            GateFn::Sigmoid => g.iter_mut().zip(y).for_each(|(g, &y)| *g *= y * (1.0 - y)),
            GateFn::HardSigmoid => g
                .iter_mut()
                .zip(y)
                .for_each(|(g, &y)| *g = if y > 0.0 && y < 1.0 { *g / 6.0 } else { 0.0 }),
            GateFn::Relu => g
                .iter_mut()
                .zip(y)
                .for_each(|(g, &y)| *g = if y > 0.0 { *g } else { 0.0 }),
            GateFn::Linear => {}
        }
    }
}

/// The cell of a fused recurrent layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cell {
    Simple,
    Lstm,
    Gru { reset_after: bool },
}

impl Cell {
    /// Gates per unit: the kernel has `gates * units` columns.
    pub fn gates(self) -> usize {
        match self {
            Cell::Simple => 1,
            Cell::Lstm => 4,
            Cell::Gru { .. } => 3,
        }
    }

    /// Values saved per unit and step for the backward pass (the gate activations; for
    /// GRU with reset_after also the recurrent candidate term `h @ R_h + b_rh`).
    pub fn saved(self) -> usize {
        match self {
            Cell::Simple => 0,
            Cell::Lstm => 4,
            Cell::Gru { reset_after } => 3 + reset_after as usize,
        }
    }

    /// Columns per unit of the pre-activation gradient: for GRU with reset_after
    /// `[dz, dr, dh * r, dh]` (the recurrent part first, then the input part of the
    /// candidate), otherwise one per gate.
    pub fn grad_width(self) -> usize {
        match self {
            Cell::Gru { reset_after: true } => 4,
            c => c.gates(),
        }
    }
}

/// `out[i] = a[i] + bias[i]`, or a copy of `a` when `bias` is empty.
#[inline(always)]
fn add_bias(out: &mut [f32], a: &[f32], bias: &[f32]) {
    if bias.is_empty() {
        out.copy_from_slice(a);
    } else {
        for ((o, &x), &y) in out.iter_mut().zip(a).zip(bias) {
            *o = x + y;
        }
    }
}

/// `new = m * cand + (1 - m) * prev`, in place in `cand`.
#[inline(always)]
fn blend(cand: &mut [f32], prev: &[f32], m: f32) {
    if m != 1.0 {
        for (c, &p) in cand.iter_mut().zip(prev) {
            *c = m * *c + (1.0 - m) * p;
        }
    }
}

/// Forward of one row of one step. `xw` is the input projection (without bias), `bias`
/// the bias of the gates' pre-activations (empty for none), `rz` the recurrent product of
/// the previous output after recurrent dropout (for GRU without reset_after only its z and
/// r columns), `h_prev`/`c_prev` the previous state. Writes the new state, the saved
/// values and the next step's recurrent-product input.
pub struct Forward<'a> {
    pub cell: Cell,
    pub act: GateFn,
    pub ract: GateFn,
    pub m: f32,
    pub xw: &'a [f32],
    /// The gates' bias (gates * U; for GRU with reset_after the z and r parts hold the
    /// input and recurrent biases summed), or empty.
    pub bias: &'a [f32],
    pub rz: &'a [f32],
    /// GRU with reset_after: the recurrent bias of the candidate (U), or empty.
    pub rbias: &'a [f32],
    pub h_prev: &'a [f32],
    pub c_prev: &'a [f32],
    pub saved: &'a mut [f32],
    pub h: &'a mut [f32],
    pub c: &'a mut [f32],
    /// Where the next step's `eff` goes (`h * rmask`, or `h`); empty after the last step.
    pub eff_next: &'a mut [f32],
    pub rmask: Option<&'a [f32]>,
}

impl WithSimd for Forward<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, _simd: S) {
        let Forward {
            cell,
            act,
            ract,
            m,
            xw,
            bias,
            rz,
            rbias,
            h_prev,
            c_prev,
            saved,
            h,
            c,
            eff_next,
            rmask,
        } = self;
        let u = h.len();
        // the bias of gate columns `at..` or `cols` (empty when there is none)
        let bias_from = |at: usize| bias.get(at..).unwrap_or(&[]);
        let bias_in = |cols: std::ops::Range<usize>| bias.get(cols).unwrap_or(&[]);
        match cell {
            Cell::Simple => act.apply_sum(h, xw, rz, bias),
            Cell::Lstm => {
                let (ifg, o) = saved.split_at_mut(3 * u);
                let (if_, g) = ifg.split_at_mut(2 * u);
                ract.apply_sum(if_, &xw[..2 * u], &rz[..2 * u], bias_in(0..2 * u));
                act.apply_sum(
                    g,
                    &xw[2 * u..3 * u],
                    &rz[2 * u..3 * u],
                    bias_in(2 * u..3 * u),
                );
                ract.apply_sum(o, &xw[3 * u..], &rz[3 * u..], bias_from(3 * u));
                let (i, f) = if_.split_at(u);
                // c = f * c_prev + i * g, h = o * act(c)
                with_gate_fn!(act, fa => {
                    for (((((c, h), &i), &f), &g), (&cp, &o)) in c
                        .iter_mut()
                        .zip(h.iter_mut())
                        .zip(i)
                        .zip(f)
                        .zip(&*g)
                        .zip(c_prev.iter().zip(&*o))
                    {
                        *c = f * cp + i * g;
                        *h = o * fa(*c);
                    }
                });
                blend(c, c_prev, m);
            }
            Cell::Gru { reset_after: true } => {
                let (zrh, rec) = saved.split_at_mut(3 * u);
                add_bias(rec, &rz[2 * u..], rbias);
                let (zr, hh) = zrh.split_at_mut(2 * u);
                ract.apply_sum(zr, &xw[..2 * u], &rz[..2 * u], bias_in(0..2 * u));
                let r = &zr[u..];
                add_bias(hh, &xw[2 * u..], bias_from(2 * u));
                for ((hh, &r), &rc) in hh.iter_mut().zip(r).zip(&*rec) {
                    *hh += r * rc;
                }
                act.apply(hh);
                gru_output(h, &zr[..u], hh, h_prev);
            }
            Cell::Gru { reset_after: false } => {
                // the candidate: `rz` holds (r * eff) @ R_h here (second phase)
                let (zr, hh) = saved.split_at_mut(2 * u);
                act.apply_sum(hh, &xw[2 * u..], rz, bias_from(2 * u));
                gru_output(h, &zr[..u], hh, h_prev);
            }
        }
        blend(h, h_prev, m);
        match rmask {
            _ if eff_next.is_empty() => {}
            Some(rm) => add_mul(eff_next, h, rm),
            None => eff_next.copy_from_slice(h),
        }
    }
}

/// `out[i] = a[i] * b[i]`.
#[inline(always)]
fn add_mul(out: &mut [f32], a: &[f32], b: &[f32]) {
    for ((o, &x), &y) in out.iter_mut().zip(a).zip(b) {
        *o = x * y;
    }
}

/// `h = z * h_prev + (1 - z) * hh`: as in Keras, the blend takes the previous output as it
/// is, not after recurrent dropout (which only scales what enters the recurrent products).
#[inline(always)]
fn gru_output(h: &mut [f32], z: &[f32], hh: &[f32], h_prev: &[f32]) {
    for (((h, &z), &hh), &p) in h.iter_mut().zip(z).zip(hh).zip(h_prev) {
        *h = z * p + (1.0 - z) * hh;
    }
}

/// First phase of a GRU step without reset_after: the z and r gates from `xw`, the bias
/// (3U, or empty) and the recurrent product `rz` (2U), saved in `saved[..2U]`, and
/// `reff = r * eff`.
pub struct GruGates<'a> {
    pub ract: GateFn,
    pub xw: &'a [f32],
    pub bias: &'a [f32],
    pub rz: &'a [f32],
    pub eff: &'a [f32],
    pub saved: &'a mut [f32],
    pub reff: &'a mut [f32],
}

impl WithSimd for GruGates<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, _simd: S) {
        let u = self.eff.len();
        let zr = &mut self.saved[..2 * u];
        let bz = self.bias.get(..2 * u).unwrap_or(&[]);
        self.ract.apply_sum(zr, &self.xw[..2 * u], self.rz, bz);
        for ((o, &r), &e) in self.reff.iter_mut().zip(&zr[u..]).zip(self.eff) {
            *o = r * e;
        }
    }
}

/// Backward of one row of one step. `dh` is the gradient of the new output (from later
/// steps and from the output sequence), `dc` (LSTM) that of the new carry, replaced by
/// the carry's gradient of the previous step. Writes the pre-activation gradients `da`
/// (layout of `Cell::grad_width`), `deff` (the gradient of `eff` not through the
/// recurrent product, to which the caller adds `da @ R^T`) and `pass`, what goes to the
/// previous state directly through a masked step.
pub struct Backward<'a> {
    pub cell: Cell,
    pub act: GateFn,
    pub ract: GateFn,
    pub m: f32,
    /// The gradient of this step's output in the output sequence.
    pub g_out: &'a [f32],
    pub rmask: Option<&'a [f32]>,
    /// Scratch for the new output's whole gradient: `g_out + deff * rmask + pass`, from
    /// the `deff` and `pass` the later step left.
    pub dh: &'a mut [f32],
    pub dc: &'a mut [f32],
    pub saved: &'a [f32],
    /// The new state (SimpleRNN: its output; LSTM: the carry before masking).
    pub h: &'a [f32],
    /// GRU: the previous output (which the update gate blends in); empty otherwise.
    pub h_prev: &'a [f32],
    pub c: &'a [f32],
    pub c_prev: &'a [f32],
    pub da: &'a mut [f32],
    pub deff: &'a mut [f32],
    pub pass: &'a mut [f32],
    /// Scratch of U values.
    pub tmp: &'a mut [f32],
}

impl WithSimd for Backward<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, _simd: S) {
        let Backward {
            cell,
            act,
            ract,
            m,
            g_out,
            rmask,
            dh,
            dc,
            saved,
            h,
            h_prev,
            c,
            c_prev,
            da,
            deff,
            pass,
            tmp,
        } = self;
        let u = dh.len();
        let (g_out, deff, pass, tmp) = (&g_out[..u], &mut deff[..u], &mut pass[..u], &mut tmp[..u]);
        match rmask {
            Some(rm) => {
                for ((((d, &g), &e), &k), &p) in
                    dh.iter_mut().zip(g_out).zip(&*deff).zip(rm).zip(&*pass)
                {
                    *d = g + e * k + p;
                }
            }
            None => {
                for (((d, &g), &e), &p) in dh.iter_mut().zip(g_out).zip(&*deff).zip(&*pass) {
                    *d = g + e + p;
                }
            }
        }
        let dh = &*dh;
        for (p, &d) in pass.iter_mut().zip(dh) {
            *p = (1.0 - m) * d;
        }
        match cell {
            Cell::Simple => {
                for (a, &d) in da.iter_mut().zip(dh) {
                    *a = m * d;
                }
                act.mul_deriv(da, h);
                deff.fill(0.0);
            }
            Cell::Lstm => {
                let (i, rest) = saved.split_at(u);
                let (f, rest) = rest.split_at(u);
                let (g, o) = rest.split_at(u);
                let (i, f, g, o, c, c_prev, dc) = (
                    &i[..u],
                    &f[..u],
                    &g[..u],
                    &o[..u],
                    &c[..u],
                    &c_prev[..u],
                    &mut dc[..u],
                );
                // tmp = act(c)
                tmp.copy_from_slice(c);
                act.apply(tmp);
                let (dai, rest) = da.split_at_mut(u);
                let (daf, rest) = rest.split_at_mut(u);
                let (dag, dao) = rest.split_at_mut(u);
                let dao = &mut dao[..u];
                // dao = dh * act(c); dag (scratch) = dh * o, times act'(c)
                for j in 0..u {
                    let d = m * dh[j];
                    dao[j] = d * tmp[j];
                    dag[j] = d * o[j];
                }
                act.mul_deriv(dag, tmp);
                for j in 0..u {
                    let dct = m * dc[j] + dag[j];
                    dai[j] = dct * g[j];
                    daf[j] = dct * c_prev[j];
                    dag[j] = dct * i[j];
                    dc[j] = dct * f[j] + (1.0 - m) * dc[j];
                }
                ract.mul_deriv(dai, i);
                ract.mul_deriv(daf, f);
                act.mul_deriv(dag, g);
                ract.mul_deriv(dao, o);
                deff.fill(0.0);
            }
            Cell::Gru { reset_after } => {
                let (z, rest) = saved.split_at(u);
                let (r, hr) = rest.split_at(u);
                let (hh, h_prev) = (&hr[..u], &h_prev[..u]);
                let (daz, rest) = da.split_at_mut(u);
                let (dar, rest) = rest.split_at_mut(u);
                // the blend's share goes to the previous output directly (`pass`)
                for j in 0..u {
                    let d = m * dh[j];
                    daz[j] = d * (h_prev[j] - hh[j]);
                    pass[j] += d * z[j];
                    tmp[j] = d * (1.0 - z[j]);
                }
                deff.fill(0.0);
                ract.mul_deriv(daz, z);
                act.mul_deriv(tmp, hh);
                if reset_after {
                    let rec = &hr[u..2 * u];
                    let (dahr, dah) = rest.split_at_mut(u);
                    dah.copy_from_slice(tmp);
                    for j in 0..u {
                        dahr[j] = tmp[j] * r[j];
                        dar[j] = tmp[j] * rec[j];
                    }
                    ract.mul_deriv(dar, r);
                } else {
                    rest[..u].copy_from_slice(tmp);
                }
            }
        }
    }
}

/// Second phase of a GRU backward step without reset_after, once `q = dah @ R_h^T` is
/// known: the r gate's gradient and the candidate's part of `deff`.
pub struct GruReset<'a> {
    pub ract: GateFn,
    pub q: &'a [f32],
    pub r: &'a [f32],
    pub eff: &'a [f32],
    pub dar: &'a mut [f32],
    pub deff: &'a mut [f32],
}

impl WithSimd for GruReset<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, _simd: S) {
        let u = self.q.len();
        let (q, r, eff) = (self.q, &self.r[..u], &self.eff[..u]);
        let (dar, deff) = (&mut self.dar[..u], &mut self.deff[..u]);
        for j in 0..u {
            dar[j] = q[j] * eff[j];
            deff[j] += q[j] * r[j];
        }
        self.ract.mul_deriv(self.dar, self.r);
    }
}
