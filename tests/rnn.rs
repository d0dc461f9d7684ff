//! The fused recurrent op and layers: forward against a naive step-by-step reference
//! (each cell, masks, go_backwards, recurrent dropout masks), backward by finite
//! differences through the whole sequence, the batch split between threads, token-id
//! inputs (an Embedding fused in), and the layers' shape errors.
use ember::autograd::{check_gradients, grad, watch};
use ember::cpu::rnn::{Cell, GateFn};
use ember::nn::layers::{Bidirectional, MergeMode, Recurrent, RecurrentOptions};
use ember::nn::{Context, Layer};
use ember::ops::{self, RnnInput, RnnSpec};
use ember::{Tensor, Variable};
use std::sync::Arc;

fn data(shape: &[usize], seed: usize, scale: f32) -> Tensor {
    let n: usize = shape.iter().product();
    let v = (0..n)
        .map(|i| scale * ((((i + seed) * 7919 % 101) as f32 + 0.25) / 50.5 - 1.0))
        .collect();
    Tensor::from_f32(v, shape).unwrap()
}

fn sig(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// One step of the cell in f64, straight from the Keras formulas: `h` is the previous
/// output after recurrent dropout (what the recurrent kernel multiplies), `h_prev` as it
/// is (what GRU's update gate blends in).
#[allow(clippy::too_many_arguments)]
fn naive_step(
    cell: Cell,
    x: &[f64],
    h: &[f64],
    h_prev: &[f64],
    c: &[f64],
    w: &[f32],
    r: &[f32],
    bias: &[f32],
    u: usize,
) -> (Vec<f64>, Vec<f64>) {
    let g = cell.gates();
    let gu = g * u;
    let d = x.len();
    let xw = |j: usize| -> f64 {
        (0..d).map(|k| x[k] * w[k * gu + j] as f64).sum::<f64>() + bias[j] as f64
    };
    let hr = |hv: &[f64], j: usize| -> f64 { (0..u).map(|k| hv[k] * r[k * gu + j] as f64).sum() };
    match cell {
        Cell::Simple => ((0..u).map(|j| (xw(j) + hr(h, j)).tanh()).collect(), vec![]),
        Cell::Lstm => {
            let mut hn = vec![0.0; u];
            let mut cn = vec![0.0; u];
            for j in 0..u {
                let a = |q: usize| xw(q * u + j) + hr(h, q * u + j);
                let (i, f, gg, o) = (sig(a(0)), sig(a(1)), a(2).tanh(), sig(a(3)));
                cn[j] = f * c[j] + i * gg;
                hn[j] = o * cn[j].tanh();
            }
            (hn, cn)
        }
        Cell::Gru { reset_after } => {
            let mut hn = vec![0.0; u];
            let rb = |j: usize| -> f64 {
                if reset_after {
                    bias[gu + j] as f64
                } else {
                    0.0
                }
            };
            let z: Vec<f64> = (0..u).map(|j| sig(xw(j) + hr(h, j) + rb(j))).collect();
            let rr: Vec<f64> = (0..u)
                .map(|j| sig(xw(u + j) + hr(h, u + j) + rb(u + j)))
                .collect();
            let rh: Vec<f64> = (0..u).map(|k| rr[k] * h[k]).collect();
            for j in 0..u {
                let cand = if reset_after {
                    (xw(2 * u + j) + rr[j] * (hr(h, 2 * u + j) + rb(2 * u + j))).tanh()
                } else {
                    (xw(2 * u + j) + hr(&rh, 2 * u + j)).tanh()
                };
                hn[j] = z[j] * h_prev[j] + (1.0 - z[j]) * cand;
            }
            (hn, vec![])
        }
    }
}

struct Case {
    cell: Cell,
    back: bool,
    masked: bool,
    rdrop: bool,
}

fn weights(cell: Cell, d: usize, u: usize) -> (Tensor, Tensor, Tensor) {
    let gu = cell.gates() * u;
    let bshape: Vec<usize> = if cell == (Cell::Gru { reset_after: true }) {
        vec![2, gu]
    } else {
        vec![gu]
    };
    (
        data(&[d, gu], 3, 0.6),
        data(&[u, gu], 11, 0.6),
        data(&bshape, 5, 0.3),
    )
}

/// The initial states of `cell` for a batch of `b` (the output, and the carry for LSTM).
fn initial(cell: Cell, b: usize, u: usize) -> Vec<Tensor> {
    let ns = if cell == Cell::Lstm { 2 } else { 1 };
    (0..ns).map(|i| data(&[b, u], 20 + i, 0.5)).collect()
}

/// The step mask (`MASK`, batch 2 by 4 steps) and recurrent-dropout mask `case` asks for.
fn case_masks(case: &Case, b: usize, t: usize, u: usize) -> (Option<Tensor>, Option<Tensor>) {
    let mask = case
        .masked
        .then(|| Tensor::from_f32(MASK.to_vec(), &[b, t]).unwrap());
    (mask, case.rdrop.then(|| data(&[b, u], 40, 1.0)))
}

fn spec(cell: Cell, back: bool) -> RnnSpec {
    RnnSpec {
        cell,
        activation: GateFn::Tanh,
        recurrent_activation: GateFn::Sigmoid,
        go_backwards: back,
    }
}

const CELLS: [Cell; 4] = [
    Cell::Simple,
    Cell::Lstm,
    Cell::Gru { reset_after: true },
    Cell::Gru { reset_after: false },
];

fn cases() -> Vec<Case> {
    let mut v = Vec::new();
    for cell in CELLS {
        for (back, masked, rdrop) in [
            (false, false, false),
            (true, false, false),
            (false, true, false),
            (true, true, true),
        ] {
            v.push(Case {
                cell,
                back,
                masked,
                rdrop,
            });
        }
    }
    v
}

const MASK: [f32; 8] = [1.0, 1.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0];

#[test]
fn forward_matches_naive_steps() {
    let (b, t, d, u) = (2, 4, 3, 5);
    for case in cases() {
        let cell = case.cell;
        let x = data(&[b, t, d], 1, 1.0);
        let (w, r, bias) = weights(cell, d, u);
        let init = initial(cell, b, u);
        let ns = init.len();
        let (mask, rm) = case_masks(&case, b, t, u);
        let out = ops::rnn(
            &x,
            &w,
            &r,
            Some(&bias),
            &init,
            mask.as_ref(),
            rm.as_ref(),
            &spec(cell, case.back),
        )
        .unwrap();
        let got = out.to_vec_f32().unwrap();
        let rows = t + ns - 1;
        let (xv, wv, rv, bv) = (
            x.to_vec_f32().unwrap(),
            w.to_vec_f32().unwrap(),
            r.to_vec_f32().unwrap(),
            bias.to_vec_f32().unwrap(),
        );
        let rmv = rm.as_ref().map(|m| m.to_vec_f32().unwrap());
        for bi in 0..b {
            let mut h: Vec<f64> = init[0].to_vec_f32().unwrap()[bi * u..(bi + 1) * u]
                .iter()
                .map(|&v| v as f64)
                .collect();
            let mut c: Vec<f64> = if ns == 2 {
                init[1].to_vec_f32().unwrap()[bi * u..(bi + 1) * u]
                    .iter()
                    .map(|&v| v as f64)
                    .collect()
            } else {
                vec![]
            };
            for s in 0..t {
                let ti = if case.back { t - 1 - s } else { s };
                let xs: Vec<f64> = xv[(bi * t + ti) * d..(bi * t + ti + 1) * d]
                    .iter()
                    .map(|&v| v as f64)
                    .collect();
                let he: Vec<f64> = match &rmv {
                    Some(m) => h
                        .iter()
                        .enumerate()
                        .map(|(j, &v)| v * m[bi * u + j] as f64)
                        .collect(),
                    None => h.clone(),
                };
                let (hn, cn) = naive_step(cell, &xs, &he, &h, &c, &wv, &rv, &bv, u);
                let keep = case.masked && MASK[bi * t + ti] == 0.0;
                if !keep {
                    h = hn;
                    c = cn;
                }
                for j in 0..u {
                    let g = got[(bi * rows + s) * u + j] as f64;
                    assert!(
                        (g - h[j]).abs() < 1e-4,
                        "{cell:?} back={} masked={} b={bi} s={s}: {g} vs {}",
                        case.back,
                        case.masked,
                        h[j]
                    );
                }
            }
            if ns == 2 {
                for j in 0..u {
                    let g = got[(bi * rows + t) * u + j] as f64;
                    assert!((g - c[j]).abs() < 1e-4, "final carry {g} vs {}", c[j]);
                }
            }
        }
    }
}

#[test]
fn gradients_match_finite_differences() {
    let (b, t, d, u) = (2, 4, 3, 3);
    for case in cases() {
        let cell = case.cell;
        let (w, r, bias) = weights(cell, d, u);
        let mut inputs = vec![data(&[b, t, d], 1, 1.0), w, r, bias];
        inputs.extend(initial(cell, b, u));
        let (mask, rm) = case_masks(&case, b, t, u);
        let sp = spec(cell, case.back);
        check_gradients(
            |xs| {
                ops::rnn(
                    &xs[0],
                    &xs[1],
                    &xs[2],
                    Some(&xs[3]),
                    &xs[4..],
                    mask.as_ref(),
                    rm.as_ref(),
                    &sp,
                )
            },
            &inputs,
            1e-2,
            2e-2,
        )
        .unwrap_or_else(|e| panic!("{cell:?} back={} masked={}: {e}", case.back, case.masked));
    }
}

#[test]
fn other_activations_have_gradients() {
    let (b, t, d, u) = (2, 3, 2, 3);
    for (act, ract) in [
        (GateFn::Relu, GateFn::HardSigmoid),
        (GateFn::Linear, GateFn::Tanh),
    ] {
        for cell in CELLS {
            let (w, r, bias) = weights(cell, d, u);
            let mut inputs = vec![data(&[b, t, d], 1, 1.0), w, r, bias];
            inputs.extend(initial(cell, b, u));
            let sp = RnnSpec {
                cell,
                activation: act,
                recurrent_activation: ract,
                go_backwards: false,
            };
            check_gradients(
                |xs| {
                    ops::rnn(
                        &xs[0],
                        &xs[1],
                        &xs[2],
                        Some(&xs[3]),
                        &xs[4..],
                        None,
                        None,
                        &sp,
                    )
                },
                &inputs,
                1e-3,
                3e-2,
            )
            .unwrap_or_else(|e| panic!("{cell:?} {act:?}/{ract:?}: {e}"));
        }
    }
}

fn layer(cell: Cell, back: bool, opts: RecurrentOptions) -> Recurrent {
    let (d, u) = (3, 4);
    let (w, r, bias) = weights(cell, d, u);
    Recurrent::new(
        "rnn",
        spec(cell, back),
        Variable::new("kernel", w, true),
        Variable::new("recurrent_kernel", r, true),
        Some(Variable::new("bias", bias, true)),
        opts,
    )
    .unwrap()
}

#[test]
fn layer_outputs_states_and_errors() {
    let opts = RecurrentOptions {
        return_sequences: true,
        return_state: true,
        ..Default::default()
    };
    let l = layer(Cell::Lstm, false, opts.clone());
    let x = data(&[2, 5, 3], 1, 1.0);
    let mut ctx = Context::new(false);
    let outs = l.call(std::slice::from_ref(&x), &mut ctx).unwrap();
    assert_eq!(outs.len(), 3);
    assert_eq!(outs[0].shape(), [2, 5, 4]);
    assert_eq!(outs[1].shape(), [2, 4]);
    let seq = outs[0].to_vec_f32().unwrap();
    let h = outs[1].to_vec_f32().unwrap();
    for bi in 0..2 {
        assert_eq!(
            &seq[(bi * 5 + 4) * 4..(bi * 5 + 5) * 4],
            &h[bi * 4..(bi + 1) * 4]
        );
    }
    // bad rank, bad initial state, bad mask: ValueErrors naming the layer
    let e = l.call(&[data(&[2, 3], 1, 1.0)], &mut ctx).unwrap_err();
    assert!(e.to_string().contains("\"rnn\""), "{e}");
    let e = l
        .call(
            &[x.clone(), data(&[2, 3], 1, 1.0), data(&[2, 4], 1, 1.0)],
            &mut ctx,
        )
        .unwrap_err();
    assert!(e.to_string().contains("initial state"), "{e}");
    let e = l
        .call_masked(
            std::slice::from_ref(&x),
            &[Some(Tensor::ones(&[2, 4]))],
            &mut ctx,
        )
        .unwrap_err();
    assert!(e.to_string().contains("mask"), "{e}");
    // the output mask is the input mask with return_sequences only
    let m = Some(Tensor::ones(&[2, 5]));
    assert!(l
        .compute_mask(std::slice::from_ref(&x), std::slice::from_ref(&m))
        .unwrap()[0]
        .is_some());
    let l2 = layer(
        Cell::Gru { reset_after: true },
        false,
        RecurrentOptions::default(),
    );
    assert!(l2.compute_mask(&[x], &[m]).unwrap()[0].is_none());
}

#[test]
fn bidirectional_concat_matches_two_layers() {
    let opts = RecurrentOptions {
        return_sequences: true,
        ..Default::default()
    };
    let f = Arc::new(layer(Cell::Gru { reset_after: false }, false, opts.clone()));
    let b = Arc::new(layer(Cell::Gru { reset_after: false }, true, opts));
    let bi = Bidirectional::new("bi", f.clone(), b.clone(), MergeMode::Concat).unwrap();
    let x = data(&[2, 5, 3], 1, 1.0);
    let mut ctx = Context::new(false);
    let y = bi
        .call(std::slice::from_ref(&x), &mut ctx)
        .unwrap()
        .remove(0);
    assert_eq!(y.shape(), [2, 5, 8]);
    let yf = f
        .call(std::slice::from_ref(&x), &mut ctx)
        .unwrap()
        .remove(0);
    let yb = ops::flip(&b.call(&[x], &mut ctx).unwrap().remove(0), Some(&[1])).unwrap();
    let want = ops::concatenate(&[yf, yb], -1).unwrap();
    assert_eq!(y.to_vec_f32().unwrap(), want.to_vec_f32().unwrap());
}

/// `f`'s value and the gradients of `sum(f * w)` in each input, for fixed pseudo-random
/// `w` that repeat for each batch row (so one row run alone gets the same weights).
fn value_and_grads(
    f: impl Fn(&[Tensor]) -> Tensor,
    inputs: &[Tensor],
) -> (Vec<f32>, Vec<Vec<f32>>) {
    let leaves: Vec<Tensor> = inputs.iter().map(watch).collect();
    let out = f(&leaves);
    let row = out.numel() / out.shape()[0];
    let w: Vec<f32> = (0..out.numel())
        .map(|i| 0.5 + ((i % row * 7919) % 13) as f32 / 13.0)
        .collect();
    let w = Tensor::from_f32(w, out.shape()).unwrap();
    let loss = ops::sum(&ops::multiply(&out, &w).unwrap(), None, false).unwrap();
    let ids: Vec<u64> = leaves.iter().map(|t| t.node().unwrap().id()).collect();
    let grads = grad(&loss, None, &ids).unwrap();
    let g = ids
        .iter()
        .zip(&leaves)
        .map(|(id, l)| match grads.get(id) {
            Some(g) => g.to_vec_f32().unwrap(),
            None => vec![0.0; l.numel()],
        })
        .collect();
    (out.to_vec_f32().unwrap(), g)
}

fn assert_close(what: &str, got: &[f32], want: &[f32], tol: f32) {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= tol * (1.0 + w.abs()),
            "{what}[{i}]: {g} vs {w}"
        );
    }
}

/// A large batch is split between threads, each running the whole sequence for its rows:
/// every row's outputs and gradients must be those of the row run alone, and the weights'
/// gradients their sum over the rows.
#[test]
fn batch_parts_match_rows_run_alone() {
    ember::cpu::pool::set_num_threads(3).unwrap();
    let (b, t, d, u) = (50, 5, 3, 4);
    let mask: Vec<f32> = (0..b * t)
        .map(|i| ((i * 7 + i / t) % 5 != 0) as u8 as f32)
        .collect();
    for case in cases() {
        let cell = case.cell;
        let (w, r, bias) = weights(cell, d, u);
        let sp = spec(cell, case.back);
        let run = |xs: &[Tensor], rows: std::ops::Range<usize>| {
            let nb = rows.len();
            let pick = |v: &[f32], per: usize| v[rows.start * per..rows.end * per].to_vec();
            let m = case
                .masked
                .then(|| Tensor::from_f32(pick(&mask, t), &[nb, t]).unwrap());
            let rm = case
                .rdrop
                .then(|| data(&[b, u], 40, 1.0).to_vec_f32().unwrap());
            let rm = rm.map(|v| Tensor::from_f32(pick(&v, u), &[nb, u]).unwrap());
            ops::rnn(
                &xs[0],
                &xs[1],
                &xs[2],
                Some(&xs[3]),
                &xs[4..],
                m.as_ref(),
                rm.as_ref(),
                &sp,
            )
            .unwrap()
        };
        let rows_of = |x: &Tensor, rows: std::ops::Range<usize>| {
            let per: usize = x.shape()[1..].iter().product();
            let mut shape = x.shape().to_vec();
            shape[0] = rows.len();
            let v = x.to_vec_f32().unwrap()[rows.start * per..rows.end * per].to_vec();
            Tensor::from_f32(v, &shape).unwrap()
        };
        let mut inputs = vec![data(&[b, t, d], 1, 1.0), w, r, bias];
        inputs.extend(initial(cell, b, u));
        let (all, all_g) = value_and_grads(|xs| run(xs, 0..b), &inputs);
        let mut weight_g: Vec<Vec<f32>> = all_g[1..4].iter().map(|g| vec![0.0; g.len()]).collect();
        let what = format!("{cell:?} back={} masked={}", case.back, case.masked);
        for bi in 0..b {
            let mut one = inputs.clone();
            for k in [0, 4, 5].into_iter().filter(|&k| k < inputs.len()) {
                one[k] = rows_of(&inputs[k], bi..bi + 1);
            }
            let (v, g) = value_and_grads(|xs| run(xs, bi..bi + 1), &one);
            let per_row = v.len();
            let row = &all[bi * per_row..(bi + 1) * per_row];
            assert_close(&format!("{what} row {bi}"), row, &v, 1e-5);
            let gx = &all_g[0][bi * t * d..(bi + 1) * t * d];
            assert_close(&format!("{what} dx row {bi}"), gx, &g[0], 1e-4);
            let gh = &all_g[4][bi * u..(bi + 1) * u];
            assert_close(&format!("{what} dh0 row {bi}"), gh, &g[4], 1e-4);
            for (acc, gk) in weight_g.iter_mut().zip(&g[1..4]) {
                acc.iter_mut().zip(gk).for_each(|(a, v)| *a += v);
            }
        }
        for (k, (got, want)) in all_g[1..4].iter().zip(&weight_g).enumerate() {
            assert_close(&format!("{what} weight {k}"), got, want, 1e-4);
        }
    }
}

/// Token ids with a table (an Embedding fused into the layer) give the numbers of the
/// looked-up sequence, in values and in every gradient, the table's included.
#[test]
fn token_input_matches_looked_up_sequence() {
    let (b, t, vocab, d, u) = (2, 4, 6, 3, 3);
    let ids = Tensor::from_i64(vec![0, 3, 3, 1, 5, 0, 3, 2], &[b, t]).unwrap();
    for case in cases() {
        let cell = case.cell;
        let (w, r, bias) = weights(cell, d, u);
        let mut inputs = vec![data(&[vocab, d], 1, 1.0), w, r, bias];
        inputs.extend(initial(cell, b, u));
        let (mask, rm) = case_masks(&case, b, t, u);
        let sp = spec(cell, case.back);
        let fused = |xs: &[Tensor]| {
            let input = RnnInput::Tokens {
                ids: &ids,
                table: &xs[0],
                op: "Embedding layer \"emb\"",
            };
            ops::rnn(
                input,
                &xs[1],
                &xs[2],
                Some(&xs[3]),
                &xs[4..],
                mask.as_ref(),
                rm.as_ref(),
                &sp,
            )
        };
        let looked_up = |xs: &[Tensor]| {
            let x = ops::embedding_lookup("emb", &xs[0], &ids).unwrap();
            ops::rnn(
                &x,
                &xs[1],
                &xs[2],
                Some(&xs[3]),
                &xs[4..],
                mask.as_ref(),
                rm.as_ref(),
                &sp,
            )
            .unwrap()
        };
        let what = format!("{cell:?} back={} masked={}", case.back, case.masked);
        let (v, g) = value_and_grads(|xs| fused(xs).unwrap(), &inputs);
        let (v_ref, g_ref) = value_and_grads(looked_up, &inputs);
        assert_close(&what, &v, &v_ref, 1e-5);
        for (k, (got, want)) in g.iter().zip(&g_ref).enumerate() {
            assert_close(&format!("{what} grad {k}"), got, want, 1e-5);
        }
        check_gradients(fused, &inputs, 1e-2, 2e-2).unwrap_or_else(|e| panic!("{what}: {e}"));
    }
    // an id outside the table is an error naming the Embedding layer
    let (w, r, bias) = weights(Cell::Lstm, d, u);
    let bad = Tensor::from_i64(vec![0, 1, 2, 6, 0, 1, 2, 3], &[b, t]).unwrap();
    let table = data(&[vocab, d], 1, 1.0);
    let init = vec![Tensor::zeros(&[b, u]); 2];
    let input = RnnInput::Tokens {
        ids: &bad,
        table: &table,
        op: "Embedding layer \"emb\"",
    };
    let e = ops::rnn(
        input,
        &w,
        &r,
        Some(&bias),
        &init,
        None,
        None,
        &spec(Cell::Lstm, false),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("\"emb\"") && e.contains("6"), "{e}");
}
