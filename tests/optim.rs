//! Optimizer steps against naive f64 references written from Keras's formulas, Keras's
//! own golden numbers, clipping, weight decay, schedules, and state save/restore.
use ember::optim::{self, Config, LearningRate, Optimizer, Schedule, Value};
use ember::{Tensor, Variable};
use std::collections::HashMap;

fn variable(name: &str, data: &[f32]) -> Variable {
    Variable::new(
        name,
        Tensor::from_f32(data.to_vec(), &[data.len()]).unwrap(),
        true,
    )
}

fn tensor(data: &[f32]) -> Tensor {
    Tensor::from_f32(data.to_vec(), &[data.len()]).unwrap()
}

fn values(v: &Variable) -> Vec<f32> {
    v.data().to_vec_f32().unwrap()
}

fn build(name: &str, cfg: &[(&str, Value)]) -> Box<dyn Optimizer> {
    let mut c = Config::new();
    for (k, v) in cfg {
        c.insert(k, v.clone());
    }
    optim::from_config(name, &c).unwrap()
}

fn f(x: f64) -> Value {
    Value::Float(x)
}

fn b(x: bool) -> Value {
    Value::Bool(x)
}

/// Deterministic pseudo-random values in [-1, 1].
fn wave(n: usize, seed: f64) -> Vec<f32> {
    (0..n)
        .map(|i| ((i as f64 + 1.0) * 12.9898 + seed * 78.233).sin() as f32)
        .collect()
}

fn assert_close(got: &[f32], want: &[f64], tol: f64, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        let err = (g as f64 - w).abs();
        assert!(
            err <= tol * (1.0 + w.abs()),
            "{what}: element {i}: got {g}, want {w} (error {err})"
        );
    }
}

// ---------------------------------------------------------------------------------------
// f64 references, transcribed from keras/src/optimizers/*.py `update_step`.

type Slots = HashMap<&'static str, Vec<f64>>;

fn slot<'a>(s: &'a mut Slots, name: &'static str, n: usize, init: f64) -> &'a mut Vec<f64> {
    s.entry(name).or_insert_with(|| vec![init; n])
}

/// One reference step of `opt` with hyperparameters `h` at 1-based step `t`.
fn reference_step(
    opt: &str,
    h: &HashMap<&str, f64>,
    t: usize,
    lr: f64,
    w: &mut [f64],
    g: &[f64],
    s: &mut Slots,
) {
    let n = w.len();
    let p = |k: &str, d: f64| *h.get(k).unwrap_or(&d);
    let t = t as f64;
    match opt {
        "sgd" => {
            let mu = p("momentum", 0.0);
            if mu == 0.0 {
                for i in 0..n {
                    w[i] -= g[i] * lr;
                }
            } else {
                let m = slot(s, "m", n, 0.0);
                for i in 0..n {
                    m[i] = m[i] * mu - g[i] * lr;
                    w[i] += if p("nesterov", 0.0) == 1.0 {
                        m[i] * mu - g[i] * lr
                    } else {
                        m[i]
                    };
                }
            }
        }
        "rmsprop" => {
            let (rho, mu, eps) = (p("rho", 0.9), p("momentum", 0.0), p("epsilon", 1e-7));
            let centered = p("centered", 0.0) == 1.0;
            for i in 0..n {
                let v = &mut slot(s, "v", n, 0.0)[i];
                *v = rho * *v + (1.0 - rho) * g[i] * g[i];
                let v = *v;
                let denom = if centered {
                    let a = &mut slot(s, "a", n, 0.0)[i];
                    *a = rho * *a + (1.0 - rho) * g[i];
                    v - *a * *a + eps
                } else {
                    v + eps
                };
                let inc = lr * g[i] / denom.sqrt();
                if mu > 0.0 {
                    let m = &mut slot(s, "m", n, 0.0)[i];
                    *m = mu * *m + inc;
                    w[i] -= *m;
                } else {
                    w[i] -= inc;
                }
            }
        }
        "adam" | "adamw" => {
            let (b1, b2, eps) = (p("beta_1", 0.9), p("beta_2", 0.999), p("epsilon", 1e-7));
            let alpha = lr * (1.0 - b2.powf(t)).sqrt() / (1.0 - b1.powf(t));
            let ams = p("amsgrad", 0.0) == 1.0;
            for i in 0..n {
                let m = &mut slot(s, "m", n, 0.0)[i];
                *m += (g[i] - *m) * (1.0 - b1);
                let m = *m;
                let v = &mut slot(s, "v", n, 0.0)[i];
                *v += (g[i] * g[i] - *v) * (1.0 - b2);
                let mut v = *v;
                if ams {
                    let vh = &mut slot(s, "vh", n, 0.0)[i];
                    *vh = vh.max(v);
                    v = *vh;
                }
                w[i] -= m * alpha / (v.sqrt() + eps);
            }
        }
        "adagrad" => {
            let eps = p("epsilon", 1e-7);
            let init = p("initial_accumulator_value", 0.1);
            let acc = slot(s, "acc", n, init);
            for i in 0..n {
                acc[i] += g[i] * g[i];
                w[i] -= lr * g[i] / (acc[i] + eps).sqrt();
            }
        }
        "adadelta" => {
            let (rho, eps) = (p("rho", 0.95), p("epsilon", 1e-7));
            for i in 0..n {
                let a = &mut slot(s, "ag", n, 0.0)[i];
                *a = rho * *a + (1.0 - rho) * g[i] * g[i];
                let a = *a;
                let d = &mut slot(s, "ad", n, 0.0)[i];
                let delta = -((*d + eps).sqrt() * g[i]) / (a + eps).sqrt();
                *d = rho * *d + (1.0 - rho) * delta * delta;
                w[i] += lr * delta;
            }
        }
        "adamax" => {
            let (b1, b2, eps) = (p("beta_1", 0.9), p("beta_2", 0.999), p("epsilon", 1e-7));
            for i in 0..n {
                let m = &mut slot(s, "m", n, 0.0)[i];
                *m += (g[i] - *m) * (1.0 - b1);
                let m = *m;
                let u = &mut slot(s, "u", n, 0.0)[i];
                *u = (b2 * *u).max(g[i].abs());
                w[i] -= lr * m / ((1.0 - b1.powf(t)) * (*u + eps));
            }
        }
        "nadam" => {
            let (b1, b2, eps) = (p("beta_1", 0.9), p("beta_2", 0.999), p("epsilon", 1e-7));
            let u_t = b1 * (1.0 - 0.5 * 0.96f64.powf(t));
            let u_t1 = b1 * (1.0 - 0.5 * 0.96f64.powf(t + 1.0));
            let u_product = &mut slot(s, "u_product", 1, 1.0)[0];
            *u_product *= u_t;
            let (up, up1) = (*u_product, *u_product * u_t1);
            for i in 0..n {
                let m = &mut slot(s, "m", n, 0.0)[i];
                *m += (g[i] - *m) * (1.0 - b1);
                let m = *m;
                let v = &mut slot(s, "v", n, 0.0)[i];
                *v += (g[i] * g[i] - *v) * (1.0 - b2);
                let m_hat = u_t1 * m / (1.0 - up1) + (1.0 - u_t) * g[i] / (1.0 - up);
                let v_hat = *v / (1.0 - b2.powf(t));
                w[i] -= m_hat * lr / (v_hat.sqrt() + eps);
            }
        }
        "ftrl" => {
            let power = p("learning_rate_power", -0.5);
            let l1 = p("l1_regularization_strength", 0.0);
            let l2 = p("l2_regularization_strength", 0.0) + p("beta", 0.0) / (2.0 * lr);
            let shrink = p("l2_shrinkage_regularization_strength", 0.0);
            let init = p("initial_accumulator_value", 0.1);
            for i in 0..n {
                let acc = slot(s, "acc", n, init)[i];
                let gs = g[i] + 2.0 * shrink * w[i];
                let new_acc = acc + g[i] * g[i];
                let z = &mut slot(s, "z", n, 0.0)[i];
                *z += gs - (new_acc.powf(-power) - acc.powf(-power)) / lr * w[i];
                let quad = new_acc.powf(-power) / lr + 2.0 * l2;
                w[i] = (z.clamp(-l1, l1) - *z) / quad;
                slot(s, "acc", n, init)[i] = new_acc;
            }
        }
        "lion" => {
            let (b1, b2) = (p("beta_1", 0.9), p("beta_2", 0.99));
            let m = slot(s, "m", n, 0.0);
            for i in 0..n {
                let c = m[i] * b1 + g[i] * (1.0 - b1);
                let sign = if c > 0.0 {
                    1.0
                } else if c < 0.0 {
                    -1.0
                } else {
                    0.0
                };
                w[i] -= lr * sign;
                m[i] = m[i] * b2 + g[i] * (1.0 - b2);
            }
        }
        other => panic!("no reference for {other}"),
    }
}

/// Runs `steps` steps of the optimizer and of its reference (weight decay applied first,
/// as Keras's base optimizer does) and compares after each step.
fn check_against_reference(
    opt: &str,
    hyper: &[(&str, f64)],
    n: usize,
    steps: usize,
    wd: Option<f64>,
) {
    let lr = 0.05;
    let mut cfg: Vec<(&str, Value)> = hyper.iter().map(|&(k, v)| (k, f(v))).collect();
    for (k, v) in cfg.iter_mut() {
        if ["nesterov", "amsgrad", "centered"].contains(k) {
            *v = b(matches!(v, Value::Float(x) if *x == 1.0));
        }
    }
    cfg.push(("learning_rate", f(lr)));
    if let Some(wd) = wd {
        cfg.push(("weight_decay", f(wd)));
    }
    let mut o = build(opt, &cfg);
    let w0 = wave(n, 1.0);
    let v = variable("w", &w0);
    let h: HashMap<&str, f64> = hyper.iter().copied().collect();
    let wd = wd.or(if opt == "adamw" { Some(0.004) } else { None });
    let mut w: Vec<f64> = w0.iter().map(|&x| x as f64).collect();
    let mut slots = Slots::new();
    for t in 1..=steps {
        let g = wave(n, t as f64 + 1.5);
        o.apply(&[tensor(&g)], std::slice::from_ref(&v)).unwrap();
        if let Some(wd) = wd {
            w.iter_mut().for_each(|x| *x -= *x * wd * lr);
        }
        let g64: Vec<f64> = g.iter().map(|&x| x as f64).collect();
        reference_step(opt, &h, t, lr, &mut w, &g64, &mut slots);
        assert_close(&values(&v), &w, 2e-5, &format!("{opt} {hyper:?} step {t}"));
    }
    assert_eq!(o.iterations(), steps as u64);
}

#[test]
fn every_optimizer_matches_its_reference_for_three_steps() {
    let cases: Vec<(&str, Vec<(&str, f64)>)> = vec![
        ("sgd", vec![]),
        ("sgd", vec![("momentum", 0.9)]),
        ("sgd", vec![("momentum", 0.8), ("nesterov", 1.0)]),
        ("rmsprop", vec![]),
        ("rmsprop", vec![("momentum", 0.5)]),
        ("rmsprop", vec![("centered", 1.0)]),
        (
            "rmsprop",
            vec![("centered", 1.0), ("momentum", 0.3), ("rho", 0.8)],
        ),
        ("adam", vec![]),
        (
            "adam",
            vec![("amsgrad", 1.0), ("beta_1", 0.8), ("epsilon", 1e-3)],
        ),
        ("adamw", vec![]),
        ("adagrad", vec![]),
        (
            "adagrad",
            vec![("initial_accumulator_value", 0.5), ("epsilon", 1e-4)],
        ),
        ("adadelta", vec![]),
        ("adadelta", vec![("rho", 0.7), ("epsilon", 1e-5)]),
        ("adamax", vec![]),
        ("nadam", vec![]),
        ("nadam", vec![("beta_1", 0.5), ("beta_2", 0.67)]),
        ("ftrl", vec![]),
        (
            "ftrl",
            vec![
                ("learning_rate_power", -0.2),
                ("l1_regularization_strength", 0.05),
                ("l2_regularization_strength", 0.15),
                ("l2_shrinkage_regularization_strength", 0.01),
                ("beta", 0.3),
            ],
        ),
        ("lion", vec![]),
        ("lion", vec![("beta_1", 0.5), ("beta_2", 0.7)]),
    ];
    for (opt, hyper) in &cases {
        check_against_reference(opt, hyper, 37, 3, None);
    }
}

#[test]
fn weight_decay_is_applied_before_every_update() {
    for opt in [
        "sgd", "rmsprop", "adam", "adagrad", "adadelta", "adamax", "nadam", "ftrl", "lion",
    ] {
        check_against_reference(opt, &[], 19, 3, Some(0.1));
    }
}

#[test]
fn large_parameters_take_the_parallel_path_with_the_same_result() {
    // Above PAR_MIN_ELEMS and not a multiple of the chunk size.
    for opt in ["adam", "rmsprop", "sgd"] {
        let hyper: Vec<(&str, f64)> = if opt == "sgd" {
            vec![("momentum", 0.9)]
        } else {
            vec![]
        };
        check_against_reference(opt, &hyper, 100_003, 3, Some(0.01));
    }
}

// ---------------------------------------------------------------------------------------
// Keras's own expected numbers (keras/src/optimizers/*_test.py).

fn keras_single_step(opt: &str, want: [f64; 4]) {
    let mut o = build(opt, &[("learning_rate", f(0.5))]);
    let v = variable("v", &[1.0, 2.0, 3.0, 4.0]);
    o.apply(&[tensor(&[1.0, 6.0, 7.0, 2.0])], std::slice::from_ref(&v))
        .unwrap();
    assert_close(&values(&v), &want, 1e-4, &format!("{opt} single step"));
}

#[test]
fn keras_single_step_values() {
    keras_single_step("sgd", [0.5, -1.0, -0.5, 3.0]);
    keras_single_step("adam", [0.5, 1.5, 2.5, 3.5]);
    keras_single_step("adamw", [0.4980, 1.4960, 2.494, 3.492]);
    keras_single_step("rmsprop", [-0.5811, 0.4189, 1.4189, 2.4189]);
    keras_single_step("adagrad", [0.5233, 1.5007, 2.5005, 3.5061]);
    keras_single_step("adadelta", [0.9993, 1.9993, 2.9993, 3.9993]);
    keras_single_step("adamax", [0.5, 1.5, 2.5, 3.5]);
    keras_single_step("nadam", [0.4686, 1.4686, 2.4686, 3.4686]);
    keras_single_step("ftrl", [0.2218, 1.3954, 2.3651, 2.8814]);
    keras_single_step("lion", [0.5, 1.5, 2.5, 3.5]);
}

/// Keras's `test_correctness_with_golden`: one step with 0.01 gradients, then five with
/// `arange(0.1, 1.1, 0.1)`, the weights checked before each of the five.
fn keras_golden(opt: &str, cfg: &[(&str, Value)], golden: &[[f64; 10]]) {
    let mut o = build(opt, cfg);
    let x = variable("x", &[1.0; 10]);
    let grads: Vec<f32> = (1..=10).map(|i| i as f32 * 0.1).collect();
    o.apply(&[tensor(&[0.01; 10])], std::slice::from_ref(&x))
        .unwrap();
    for (i, want) in golden.iter().enumerate() {
        assert_close(&values(&x), want, 5e-4, &format!("{opt} golden row {i}"));
        o.apply(&[tensor(&grads)], std::slice::from_ref(&x))
            .unwrap();
    }
}

fn tile(rows: &[f64]) -> Vec<[f64; 10]> {
    rows.iter().map(|&r| [r; 10]).collect()
}

#[test]
fn keras_golden_values() {
    keras_golden(
        "sgd",
        &[("nesterov", b(true))],
        &[
            [0.9999; 10],
            [
                0.9989, 0.9979, 0.9969, 0.9959, 0.9949, 0.9939, 0.9929, 0.9919, 0.9909, 0.9899,
            ],
            [
                0.9979, 0.9959, 0.9939, 0.9919, 0.9899, 0.9879, 0.9859, 0.9839, 0.9819, 0.9799,
            ],
            [
                0.9969, 0.9939, 0.9909, 0.9879, 0.9849, 0.9819, 0.9789, 0.9759, 0.9729, 0.9699,
            ],
            [
                0.9959, 0.9919, 0.9879, 0.9839, 0.9799, 0.9759, 0.9719, 0.9679, 0.9639, 0.9599,
            ],
        ],
    );
    keras_golden(
        "adam",
        &[("amsgrad", b(true))],
        &tile(&[0.999, 0.9982, 0.9974, 0.9965, 0.9955]),
    );
    keras_golden(
        "rmsprop",
        &[("centered", b(true))],
        &tile(&[0.9967, 0.9933, 0.9908, 0.9885, 0.9864]),
    );
    keras_golden(
        "adagrad",
        &[
            ("learning_rate", f(0.2)),
            ("initial_accumulator_value", f(0.3)),
            ("epsilon", f(1e-6)),
        ],
        &[
            [0.9963; 10],
            [
                0.9604, 0.9278, 0.9003, 0.8784, 0.8615, 0.8487, 0.8388, 0.8313, 0.8255, 0.8209,
            ],
            [
                0.9251, 0.8629, 0.8137, 0.7768, 0.7497, 0.7298, 0.7151, 0.704, 0.6956, 0.6891,
            ],
            [
                0.8903, 0.8012, 0.7342, 0.6862, 0.6521, 0.6277, 0.6099, 0.5967, 0.5867, 0.579,
            ],
            [
                0.856, 0.7422, 0.6604, 0.6037, 0.5644, 0.5367, 0.5168, 0.5021, 0.491, 0.4825,
            ],
        ],
    );
    keras_golden(
        "adadelta",
        &[
            ("learning_rate", f(1.0)),
            ("rho", f(0.8)),
            ("epsilon", f(1e-6)),
        ],
        &tile(&[0.9978, 0.9947, 0.9915, 0.9882, 0.9849]),
    );
    keras_golden(
        "adamax",
        &[
            ("learning_rate", f(0.2)),
            ("beta_1", f(0.85)),
            ("beta_2", f(0.95)),
            ("epsilon", f(1e-6)),
        ],
        &[
            [0.8; 10],
            [
                0.6827, 0.6873, 0.6888, 0.6896, 0.6901, 0.6904, 0.6906, 0.6908, 0.6909, 0.691,
            ],
            [
                0.5333, 0.5407, 0.5431, 0.5444, 0.5451, 0.5456, 0.546, 0.5462, 0.5464, 0.5466,
            ],
            [
                0.368, 0.3773, 0.3804, 0.382, 0.3829, 0.3835, 0.384, 0.3843, 0.3846, 0.3848,
            ],
            [
                0.1933, 0.204, 0.2076, 0.2094, 0.2105, 0.2112, 0.2117, 0.2121, 0.2124, 0.2126,
            ],
        ],
    );
    keras_golden(
        "nadam",
        &[
            ("learning_rate", f(0.5)),
            ("beta_1", f(0.5)),
            ("beta_2", f(0.67)),
            ("epsilon", f(1e-5)),
        ],
        &[
            [0.4281; 10],
            [
                -0.1738, -0.1731, -0.1726, -0.1723, -0.1721, -0.172, -0.1719, -0.1718, -0.1718,
                -0.1717,
            ],
            [
                -0.7115, -0.7103, -0.7096, -0.7092, -0.709, -0.7088, -0.7086, -0.7085, -0.7085,
                -0.7084,
            ],
            [
                -1.2335, -1.2322, -1.2313, -1.2309, -1.2306, -1.2304, -1.2302, -1.2301, -1.23,
                -1.2299,
            ],
            [
                -1.7492, -1.7478, -1.7469, -1.7464, -1.7461, -1.7459, -1.7457, -1.7456, -1.7455,
                -1.7454,
            ],
        ],
    );
    keras_golden(
        "ftrl",
        &[
            ("learning_rate", f(0.05)),
            ("learning_rate_power", f(-0.2)),
            ("initial_accumulator_value", f(0.4)),
            ("l1_regularization_strength", f(0.05)),
            ("l2_regularization_strength", f(0.15)),
            ("l2_shrinkage_regularization_strength", f(0.01)),
            ("beta", f(0.3)),
        ],
        &[
            [0.0; 10],
            [
                -0.0034, -0.0077, -0.0118, -0.0157, -0.0194, -0.023, -0.0263, -0.0294, -0.0325,
                -0.0354,
            ],
            [
                -0.0078, -0.0162, -0.0242, -0.0317, -0.0387, -0.0454, -0.0516, -0.0575, -0.0631,
                -0.0685,
            ],
            [
                -0.0121, -0.0246, -0.0363, -0.0472, -0.0573, -0.0668, -0.0757, -0.0842, -0.0922,
                -0.0999,
            ],
            [
                -0.0164, -0.0328, -0.0481, -0.0623, -0.0753, -0.0875, -0.099, -0.1098, -0.1201,
                -0.1299,
            ],
        ],
    );
    keras_golden("lion", &[], &tile(&[0.999, 0.998, 0.997, 0.996, 0.995]));
    keras_golden(
        "adamw",
        &[
            ("learning_rate", f(1.0)),
            ("weight_decay", f(0.5)),
            ("epsilon", f(2.0)),
        ],
        &[
            [0.4998; 10],
            [
                0.2486, 0.2475, 0.2463, 0.2451, 0.244, 0.2428, 0.2417, 0.2405, 0.2394, 0.2382,
            ],
            [
                0.1223, 0.1198, 0.1174, 0.1149, 0.1124, 0.11, 0.1075, 0.1051, 0.1027, 0.1003,
            ],
            [
                0.0586, 0.0549, 0.0512, 0.0475, 0.0439, 0.0402, 0.0366, 0.033, 0.0294, 0.0258,
            ],
            [
                0.0263, 0.0215, 0.0167, 0.012, 0.0073, 0.0026, -0.0021, -0.0067, -0.0113, -0.0159,
            ],
        ],
    );
}

#[test]
fn keras_weight_decay_and_exclusions() {
    // keras `test_weight_decay`: zero gradients, lr 1, weight_decay 0.004; var1 is
    // updated by three optimizers, the excluded variables by none.
    for opt in [
        "sgd", "adam", "adamw", "rmsprop", "adagrad", "adadelta", "adamax", "nadam", "lion",
    ] {
        let cfg = [("learning_rate", f(1.0)), ("weight_decay", f(0.004))];
        let zero = || Tensor::scalar(0.0);
        let mk = |name: &str| Variable::new(name, Tensor::scalar(2.0), true);
        let (var1, var2, var3) = (mk("var1"), mk("exclude"), mk("var3"));
        let mut o1 = build(opt, &cfg);
        o1.apply(&[zero()], std::slice::from_ref(&var1)).unwrap();
        let mut o2 = build(opt, &cfg);
        o2.exclude_from_weight_decay(&[], &["exclude".to_string()]);
        o2.apply(&[zero(), zero()], &[var1.clone(), var2.clone()])
            .unwrap();
        let mut o3 = build(opt, &cfg);
        o3.exclude_from_weight_decay(std::slice::from_ref(&var3), &[]);
        o3.apply(&[zero(), zero()], &[var1.clone(), var3.clone()])
            .unwrap();
        assert!(
            (values(&var1)[0] - 1.9760959).abs() < 1e-6,
            "{opt}: {:?}",
            values(&var1)
        );
        assert_eq!(values(&var2)[0], 2.0, "{opt}");
        assert_eq!(values(&var3)[0], 2.0, "{opt}");
    }
}

// ---------------------------------------------------------------------------------------
// Clipping.

#[test]
fn clipnorm_clips_each_gradient_by_its_own_norm() {
    // SGD with lr 1 moves the weights by exactly minus the clipped gradient.
    let mut o = build("sgd", &[("learning_rate", f(1.0)), ("clipnorm", f(1.0))]);
    let (a, bvar) = (variable("a", &[0.0, 0.0]), variable("b", &[0.0, 0.0]));
    o.apply(
        &[tensor(&[100.0, 100.0]), tensor(&[0.3, 0.4])],
        &[a.clone(), bvar.clone()],
    )
    .unwrap();
    let h = 0.5f64.sqrt();
    assert_close(&values(&a), &[-h, -h], 1e-6, "clipped");
    assert_close(
        &values(&bvar),
        &[-0.3, -0.4],
        1e-6,
        "norm 0.5 below clipnorm: unchanged",
    );
    // a zero gradient stays zero
    let mut o = build("sgd", &[("learning_rate", f(1.0)), ("clipnorm", f(1.0))]);
    let z = variable("z", &[1.0]);
    o.apply(&[tensor(&[0.0])], std::slice::from_ref(&z))
        .unwrap();
    assert_eq!(values(&z), vec![1.0]);
}

#[test]
fn global_clipnorm_scales_all_gradients_together() {
    let mut o = build(
        "sgd",
        &[("learning_rate", f(1.0)), ("global_clipnorm", f(1.0))],
    );
    let (a, bvar) = (variable("a", &[0.0]), variable("b", &[0.0, 0.0]));
    // global norm = sqrt(3^2 + 4^2 + 12^2) = 13
    o.apply(
        &[tensor(&[3.0]), tensor(&[4.0, 12.0])],
        &[a.clone(), bvar.clone()],
    )
    .unwrap();
    assert_close(&values(&a), &[-3.0 / 13.0], 1e-6, "global a");
    assert_close(
        &values(&bvar),
        &[-4.0 / 13.0, -12.0 / 13.0],
        1e-6,
        "global b",
    );
    // below the threshold: unchanged
    let mut o = build(
        "sgd",
        &[("learning_rate", f(1.0)), ("global_clipnorm", f(100.0))],
    );
    let c = variable("c", &[0.0, 0.0]);
    o.apply(&[tensor(&[3.0, 4.0])], std::slice::from_ref(&c))
        .unwrap();
    assert_close(&values(&c), &[-3.0, -4.0], 1e-6, "global below");
}

#[test]
fn clipvalue_clips_elementwise_inside_the_adaptive_update() {
    let mut o = build("sgd", &[("learning_rate", f(1.0)), ("clipvalue", f(1.0))]);
    let a = variable("a", &[0.0, 0.0, 0.0]);
    o.apply(&[tensor(&[100.0, -100.0, 0.25])], std::slice::from_ref(&a))
        .unwrap();
    assert_close(&values(&a), &[-1.0, 1.0, -0.25], 1e-7, "clipvalue");
    // Adam sees the clipped gradient: first step of Adam moves by lr * g / (|g| + eps')
    let mut o = build("adam", &[("learning_rate", f(0.1)), ("clipvalue", f(0.5))]);
    let mut plain = build("adam", &[("learning_rate", f(0.1))]);
    let (x, y) = (variable("x", &[1.0, 1.0]), variable("y", &[1.0, 1.0]));
    o.apply(&[tensor(&[3.0, -0.2])], std::slice::from_ref(&x))
        .unwrap();
    plain
        .apply(&[tensor(&[0.5, -0.2])], std::slice::from_ref(&y))
        .unwrap();
    assert_eq!(values(&x), values(&y));
}

#[test]
fn clipping_arguments_are_exclusive_and_nan_is_kept() {
    let err = optim::from_config(
        "adam",
        &Config::new().set("clipnorm", 1.0).set("clipvalue", 1.0),
    )
    .err()
    .unwrap();
    assert!(
        err.to_string().contains("Only one of `clipnorm`")
            || err.to_string().contains("only one of")
    );
    // clipvalue keeps NaN gradients visible instead of clamping them to a number
    let mut o = build("sgd", &[("clipvalue", f(1.0))]);
    let a = variable("a", &[0.0]);
    o.apply(&[tensor(&[f32::NAN])], std::slice::from_ref(&a))
        .unwrap();
    assert!(values(&a)[0].is_nan());
}

#[test]
fn loss_scale_factor_unscales_gradients() {
    let mut o = build(
        "sgd",
        &[("learning_rate", f(1.0)), ("loss_scale_factor", f(4.0))],
    );
    let a = variable("a", &[0.0]);
    o.apply(&[tensor(&[2.0])], std::slice::from_ref(&a))
        .unwrap();
    assert_eq!(values(&a), vec![-0.5]);
}

// ---------------------------------------------------------------------------------------
// Gradient accumulation and EMA (Keras base-optimizer options).

#[test]
fn gradient_accumulation_updates_every_n_steps_with_the_mean_gradient() {
    let mut o = build(
        "sgd",
        &[
            ("learning_rate", f(1.0)),
            ("gradient_accumulation_steps", Value::Int(2)),
        ],
    );
    let a = variable("a", &[0.0]);
    o.apply(&[tensor(&[1.0])], std::slice::from_ref(&a))
        .unwrap();
    assert_eq!(values(&a), vec![0.0]);
    assert_eq!(o.iterations(), 0);
    o.apply(&[tensor(&[3.0])], std::slice::from_ref(&a))
        .unwrap();
    assert_eq!(values(&a), vec![-2.0]);
    assert_eq!(o.iterations(), 1);
    let names: Vec<String> = o.variables().into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        names,
        ["iteration", "learning_rate", "a_gradient_accumulator"]
    );
}

#[test]
fn ema_tracks_the_moving_average_and_finalize_writes_it() {
    let mut o = build(
        "sgd",
        &[
            ("learning_rate", f(1.0)),
            ("use_ema", b(true)),
            ("ema_momentum", f(0.5)),
        ],
    );
    let a = variable("a", &[0.0]);
    o.apply(&[tensor(&[1.0])], std::slice::from_ref(&a))
        .unwrap(); // w=-1, avg=-1 (first step copies)
    o.apply(&[tensor(&[1.0])], std::slice::from_ref(&a))
        .unwrap(); // w=-2, avg=-1.5
    assert_eq!(values(&a), vec![-2.0]);
    let vars = o.variables();
    assert_eq!(vars[2].0, "a_average");
    assert_eq!(vars[2].1.to_vec_f32().unwrap(), vec![-1.5]);
    o.finalize_variable_values(std::slice::from_ref(&a))
        .unwrap();
    assert_eq!(values(&a), vec![-1.5]);
}

// ---------------------------------------------------------------------------------------
// Schedules.

fn schedule(name: &str, cfg: &[(&str, Value)]) -> Schedule {
    let mut c = Config::new();
    for (k, v) in cfg {
        c.insert(k, v.clone());
    }
    Schedule::from_config(name, &c).unwrap()
}

fn assert_schedule(s: &Schedule, cases: &[(f64, f64)]) {
    for &(step, want) in cases {
        let got = s.value(step);
        assert!(
            (got - want).abs() < 1e-12 * (1.0 + want.abs()),
            "{s:?} at step {step}: got {got}, want {want}"
        );
    }
}

#[test]
fn exponential_and_inverse_time_decay() {
    let e = schedule(
        "ExponentialDecay",
        &[
            ("initial_learning_rate", f(0.1)),
            ("decay_steps", f(10.0)),
            ("decay_rate", f(0.5)),
        ],
    );
    assert_schedule(
        &e,
        &[
            (0.0, 0.1),
            (5.0, 0.1 * 0.5f64.sqrt()),
            (10.0, 0.05),
            (25.0, 0.1 * 0.5f64.powf(2.5)),
        ],
    );
    let es = schedule(
        "ExponentialDecay",
        &[
            ("initial_learning_rate", f(0.1)),
            ("decay_steps", f(10.0)),
            ("decay_rate", f(0.5)),
            ("staircase", b(true)),
        ],
    );
    assert_schedule(&es, &[(9.0, 0.1), (10.0, 0.05), (25.0, 0.025)]);
    let i = schedule(
        "InverseTimeDecay",
        &[
            ("initial_learning_rate", f(0.1)),
            ("decay_steps", f(1.0)),
            ("decay_rate", f(0.5)),
        ],
    );
    assert_schedule(&i, &[(0.0, 0.1), (1.0, 0.1 / 1.5), (4.0, 0.1 / 3.0)]);
    let is = schedule(
        "InverseTimeDecay",
        &[
            ("initial_learning_rate", f(0.1)),
            ("decay_steps", f(4.0)),
            ("decay_rate", f(1.0)),
            ("staircase", b(true)),
        ],
    );
    assert_schedule(&is, &[(3.0, 0.1), (4.0, 0.05), (9.0, 0.1 / 3.0)]);
}

#[test]
fn piecewise_constant_decay() {
    let p = schedule(
        "PiecewiseConstantDecay",
        &[
            (
                "boundaries",
                Value::List(vec![Value::Int(100000), Value::Int(110000)]),
            ),
            ("values", vec![1.0, 0.5, 0.1].into()),
        ],
    );
    assert_schedule(
        &p,
        &[
            (0.0, 1.0),
            (100000.0, 1.0),
            (100001.0, 0.5),
            (110000.0, 0.5),
            (110001.0, 0.1),
        ],
    );
    let err = Schedule::from_config(
        "PiecewiseConstantDecay",
        &Config::new()
            .set("boundaries", vec![1.0, 2.0])
            .set("values", vec![1.0, 0.5]),
    )
    .unwrap_err();
    assert!(err.to_string().contains("1 less than"));
}

#[test]
fn polynomial_decay_with_and_without_cycle() {
    let p = schedule(
        "PolynomialDecay",
        &[
            ("initial_learning_rate", f(0.1)),
            ("decay_steps", f(10.0)),
            ("end_learning_rate", f(0.01)),
            ("power", f(0.5)),
        ],
    );
    assert_schedule(
        &p,
        &[
            (0.0, 0.1),
            (5.0, 0.09 * 0.5f64.sqrt() + 0.01),
            (10.0, 0.01),
            (20.0, 0.01),
        ],
    );
    let lin = schedule(
        "PolynomialDecay",
        &[("initial_learning_rate", f(1.0)), ("decay_steps", f(4.0))],
    );
    // default end 1e-4, power 1
    assert_schedule(&lin, &[(1.0, (1.0 - 1e-4) * 0.75 + 1e-4), (8.0, 1e-4)]);
    let c = schedule(
        "PolynomialDecay",
        &[
            ("initial_learning_rate", f(1.0)),
            ("decay_steps", f(4.0)),
            ("end_learning_rate", f(0.0)),
            ("cycle", b(true)),
        ],
    );
    // step 6: decay_steps becomes 8 -> 1 - 6/8
    assert_schedule(
        &c,
        &[(0.0, 1.0), (2.0, 0.5), (4.0, 0.0), (6.0, 0.25), (8.0, 0.0)],
    );
}

#[test]
fn cosine_decay_with_and_without_warmup() {
    let c = schedule(
        "CosineDecay",
        &[
            ("initial_learning_rate", f(0.1)),
            ("decay_steps", f(10.0)),
            ("alpha", f(0.1)),
        ],
    );
    let at = |s: f64| 0.1 * (0.9 * 0.5 * (1.0 + (std::f64::consts::PI * s / 10.0).cos()) + 0.1);
    assert_schedule(
        &c,
        &[(0.0, 0.1), (5.0, at(5.0)), (10.0, 0.01), (50.0, 0.01)],
    );
    let w = schedule(
        "CosineDecay",
        &[
            ("initial_learning_rate", f(0.0)),
            ("decay_steps", f(10.0)),
            ("warmup_target", f(0.1)),
            ("warmup_steps", f(5.0)),
        ],
    );
    assert_schedule(
        &w,
        &[
            (0.0, 0.0),
            (2.0, 0.04),
            (5.0, 0.1),
            (10.0, 0.05),
            (15.0, 0.0),
            (100.0, 0.0),
        ],
    );
}

#[test]
fn cosine_decay_restarts() {
    let r = schedule(
        "CosineDecayRestarts",
        &[
            ("initial_learning_rate", f(1.0)),
            ("first_decay_steps", f(10.0)),
        ],
    );
    // t_mul 2: periods of 10, 20, 40 steps starting at 0, 10, 30
    let cos = |x: f64| 0.5 * (1.0 + (std::f64::consts::PI * x).cos());
    assert_schedule(
        &r,
        &[
            (0.0, 1.0),
            (5.0, 0.5),
            (10.0, 1.0),
            (20.0, cos(0.5)),
            (30.0, 1.0),
            (40.0, cos(0.25)),
        ],
    );
    let m = schedule(
        "CosineDecayRestarts",
        &[
            ("initial_learning_rate", f(2.0)),
            ("first_decay_steps", f(4.0)),
            ("t_mul", f(1.0)),
            ("m_mul", f(0.5)),
            ("alpha", f(0.1)),
        ],
    );
    let at = |frac: f64, i: i32| 2.0 * (0.9 * 0.5f64.powi(i) * cos(frac) + 0.1);
    assert_schedule(
        &m,
        &[
            (0.0, at(0.0, 0)),
            (2.0, at(0.5, 0)),
            (4.0, at(0.0, 1)),
            (9.0, at(0.25, 2)),
        ],
    );
}

#[test]
fn schedule_configs_round_trip_and_drive_the_optimizer() {
    let s = schedule(
        "ExponentialDecay",
        &[
            ("initial_learning_rate", f(0.1)),
            ("decay_steps", f(1.0)),
            ("decay_rate", f(0.5)),
        ],
    );
    assert_eq!(
        Schedule::from_config(s.class_name(), &s.config()).unwrap(),
        s
    );
    let sched = Config::new()
        .set("class_name", "ExponentialDecay")
        .set("config", s.config());
    let mut o = optim::from_config("SGD", &Config::new().set("learning_rate", sched)).unwrap();
    let a = variable("a", &[0.0]);
    let mut want = 0.0;
    for step in 0..4 {
        assert!((o.learning_rate() as f64 - 0.1 * 0.5f64.powi(step)).abs() < 1e-8);
        o.apply(&[tensor(&[1.0])], std::slice::from_ref(&a))
            .unwrap();
        want -= 0.1 * 0.5f64.powi(step);
    }
    assert_close(&values(&a), &[want], 1e-6, "sgd with schedule");
    // the schedule is not state; a constant learning rate is
    assert_eq!(o.variables().len(), 1);
    o.set_learning_rate(0.5);
    assert_eq!(*o.learning_rate_schedule(), LearningRate::Constant(0.5));
    assert_eq!(o.variables().len(), 2);
    // a rebuilt optimizer has the same config
    let cfg = o.config();
    let o2 = optim::from_config(o.class_name(), &cfg).unwrap();
    assert_eq!(o2.config(), cfg);
}

// ---------------------------------------------------------------------------------------
// State.

#[test]
fn variables_follow_keras_order_and_names() {
    let names = |opt: &str, cfg: &[(&str, Value)]| -> Vec<String> {
        let mut o = build(opt, cfg);
        let (a, bv) = (
            variable("dense/kernel", &[1.0, 2.0]),
            variable("bias", &[0.5]),
        );
        o.apply(&[tensor(&[0.1, 0.2]), tensor(&[0.3])], &[a, bv])
            .unwrap();
        o.variables().into_iter().map(|(n, _)| n).collect()
    };
    assert_eq!(names("sgd", &[]), ["iteration", "learning_rate"]);
    assert_eq!(
        names("sgd", &[("momentum", f(0.9))]),
        [
            "iteration",
            "learning_rate",
            "dense_kernel_momentum",
            "bias_momentum"
        ]
    );
    assert_eq!(
        names("adam", &[("amsgrad", b(true))]),
        [
            "iteration",
            "learning_rate",
            "dense_kernel_momentum",
            "bias_momentum",
            "dense_kernel_velocity",
            "bias_velocity",
            "dense_kernel_velocity_hat",
            "bias_velocity_hat"
        ]
    );
    assert_eq!(
        names("adamax", &[]),
        [
            "iteration",
            "learning_rate",
            "dense_kernel_momentum",
            "dense_kernel_norm",
            "bias_momentum",
            "bias_norm"
        ]
    );
    assert_eq!(
        names("ftrl", &[]),
        [
            "iteration",
            "learning_rate",
            "accumulator",
            "dense_kernel_linear",
            "accumulator",
            "bias_linear"
        ]
    );
    assert_eq!(
        names("nadam", &[]),
        [
            "iteration",
            "learning_rate",
            "dense_kernel_momentum",
            "bias_momentum",
            "dense_kernel_velocity",
            "bias_velocity",
            "u_product"
        ]
    );
    assert_eq!(
        names("rmsprop", &[("momentum", f(0.1)), ("centered", b(true))]),
        [
            "iteration",
            "learning_rate",
            "dense_kernel_velocity",
            "bias_velocity",
            "dense_kernel_momentum",
            "bias_momentum",
            "dense_kernel_average_gradient",
            "bias_average_gradient"
        ]
    );
    // before build: iteration and learning rate only (Keras's SGD test)
    let o = optim::get("sgd").unwrap();
    assert_eq!(o.variables().len(), 2);
}

#[test]
fn saved_state_restored_into_a_fresh_optimizer_gives_identical_updates() {
    let cases: Vec<(&str, Vec<(&str, Value)>)> = vec![
        ("sgd", vec![("momentum", f(0.9)), ("nesterov", b(true))]),
        ("rmsprop", vec![("momentum", f(0.5)), ("centered", b(true))]),
        (
            "adam",
            vec![("amsgrad", b(true)), ("weight_decay", f(0.01))],
        ),
        ("adamw", vec![]),
        ("adagrad", vec![]),
        ("adadelta", vec![]),
        ("adamax", vec![]),
        ("nadam", vec![]),
        ("ftrl", vec![("l1_regularization_strength", f(0.01))]),
        ("lion", vec![]),
        (
            "adam",
            vec![(
                "learning_rate",
                Value::Dict(
                    Config::new().set("class_name", "CosineDecay").set(
                        "config",
                        Config::new()
                            .set("initial_learning_rate", 0.01)
                            .set("decay_steps", 10.0),
                    ),
                ),
            )],
        ),
        (
            "sgd",
            vec![
                ("use_ema", b(true)),
                ("gradient_accumulation_steps", Value::Int(2)),
            ],
        ),
    ];
    for (opt, cfg) in cases {
        let n = 40_000; // above PAR_MIN_ELEMS for the parallel path
        let (a0, b0) = (wave(n, 0.3), wave(3, 0.7));
        let (a, bv) = (variable("a", &a0), variable("b", &b0));
        let mut o = build(opt, &cfg);
        let grads = |t: usize| vec![tensor(&wave(n, t as f64)), tensor(&wave(3, t as f64 + 0.5))];
        for t in 0..3 {
            o.apply(&grads(t), &[a.clone(), bv.clone()]).unwrap();
        }
        // save: weights and optimizer state; restore into fresh variables and optimizer
        let state: Vec<Tensor> = o.variables().into_iter().map(|(_, t)| t).collect();
        let (a2, b2) = (variable("a", &values(&a)), variable("b", &values(&bv)));
        let mut o2 = optim::from_config(o.class_name(), &o.config()).unwrap();
        o2.build(&[a2.clone(), b2.clone()]).unwrap();
        o2.set_variables(&state).unwrap();
        assert_eq!(o2.iterations(), o.iterations());
        for t in 3..6 {
            o.apply(&grads(t), &[a.clone(), bv.clone()]).unwrap();
            o2.apply(&grads(t), &[a2.clone(), b2.clone()]).unwrap();
        }
        assert_eq!(values(&a), values(&a2), "{opt}: resumed weights differ");
        assert_eq!(values(&bv), values(&b2), "{opt}: resumed weights differ");
        let s1: Vec<Vec<f32>> = o
            .variables()
            .iter()
            .skip(1)
            .map(|(_, t)| t.to_vec_f32().unwrap())
            .collect();
        let s2: Vec<Vec<f32>> = o2
            .variables()
            .iter()
            .skip(1)
            .map(|(_, t)| t.to_vec_f32().unwrap())
            .collect();
        assert_eq!(s1, s2, "{opt}: resumed state differs");
    }
}

#[test]
fn set_variables_checks_count_and_shapes() {
    let mut o = optim::get("adam").unwrap();
    let a = variable("a", &[1.0, 2.0]);
    let err = o
        .set_variables(&[
            Tensor::scalar(1.0),
            Tensor::scalar(0.1),
            tensor(&[0.0, 0.0]),
        ])
        .unwrap_err();
    assert!(err.to_string().contains("build"), "{err}");
    o.build(std::slice::from_ref(&a)).unwrap();
    let err = o
        .set_variables(&[
            Tensor::scalar(1.0),
            Tensor::scalar(0.1),
            tensor(&[0.0, 0.0, 0.0]),
            tensor(&[0.0, 0.0]),
        ])
        .unwrap_err();
    assert!(err.to_string().contains("a_momentum"), "{err}");
}

// ---------------------------------------------------------------------------------------
// Bad input.

#[test]
fn bad_input_is_an_error_not_a_panic() {
    let mut o = optim::get("adam").unwrap();
    let a = variable("a", &[1.0, 2.0]);
    // wrong gradient shape
    let e = o
        .apply(&[tensor(&[1.0, 2.0, 3.0])], std::slice::from_ref(&a))
        .unwrap_err();
    assert!(
        e.to_string().contains("[3]") && e.to_string().contains("[2]"),
        "{e}"
    );
    // count mismatch
    assert!(o.apply(&[tensor(&[1.0, 2.0])], &[]).is_err());
    // int gradient
    let gi = Tensor::from_i64(vec![1, 2], &[2]).unwrap();
    assert!(o.apply(&[gi], std::slice::from_ref(&a)).is_err());
    // unknown variable after build
    o.apply(&[tensor(&[1.0, 2.0])], std::slice::from_ref(&a))
        .unwrap();
    let other = variable("other", &[1.0]);
    let e = o
        .apply(&[tensor(&[1.0])], std::slice::from_ref(&other))
        .unwrap_err();
    assert!(e.to_string().contains("other"), "{e}");
    // an empty list is a no-op
    o.apply(&[], &[]).unwrap();
    assert_eq!(o.iterations(), 1);
    // unknown names and arguments
    let e = optim::get("adamm").err().unwrap();
    assert!(
        e.to_string().contains("SGD") && e.to_string().contains("Adam"),
        "{e}"
    );
    let e = optim::from_config("sgd", &Config::new().set("momentun", 0.9))
        .err()
        .unwrap();
    assert!(e.to_string().contains("momentun"), "{e}");
    // Keras's argument checks
    assert!(optim::from_config("sgd", &Config::new().set("momentum", 1.5)).is_err());
    assert!(optim::from_config("lion", &Config::new().set("beta_1", 0.0)).is_err());
    assert!(optim::from_config("rmsprop", &Config::new().set("rho", 1.1)).is_err());
    assert!(optim::from_config("ftrl", &Config::new().set("learning_rate_power", 0.5)).is_err());
    assert!(optim::from_config("adamw", &Config::new().set("weight_decay", Value::None)).is_err());
    assert!(optim::from_config(
        "adam",
        &Config::new().set("gradient_accumulation_steps", 1i64)
    )
    .is_err());
    assert!(Schedule::from_config(
        "ExponentialDecay",
        &Config::new()
            .set("initial_learning_rate", 0.1)
            .set("decay_steps", 0.0)
            .set("decay_rate", 0.5)
    )
    .is_err());
}
