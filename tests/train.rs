//! The graph driver end to end with test-local building blocks: a linear layer, a squared
//! error loss, and the core's SGD. A tiny regression must be learned exactly.
use ember::autograd::Variable;
use ember::nn::losses::{Loss, Reduction};
use ember::nn::{Context, Layer};
use ember::optim::{self, Config};
use ember::train::{Compiled, Control, Dataset, Graph, GraphNode, Source};
use ember::{ops, Result, Tensor};
use parking_lot::Mutex;
use std::sync::Arc;

struct Linear {
    w: Variable,
    b: Variable,
}

impl Layer for Linear {
    fn name(&self) -> &str {
        "linear"
    }
    fn call(&self, inputs: &[Tensor], _ctx: &mut Context) -> Result<Vec<Tensor>> {
        Ok(vec![ops::add(
            &ops::matmul(&inputs[0], &self.w.value())?,
            &self.b.value(),
        )?])
    }
    fn variables(&self) -> Vec<Variable> {
        vec![self.w.clone(), self.b.clone()]
    }
}

struct SquaredError;

impl Loss for SquaredError {
    fn name(&self) -> &str {
        "squared_error"
    }
    fn call(&self, y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
        let d = ops::subtract(y_pred, y_true)?;
        ops::sum(&ops::multiply(&d, &d)?, Some(&[-1]), false)
    }
    fn reduction(&self) -> Reduction {
        Reduction::SumOverBatchSize
    }
}

fn dataset(n: usize) -> Dataset {
    // y = x . [1, 2, 3] + 2
    let x: Vec<f32> = (0..n * 3)
        .map(|i| ((i * 7919 % 200) as f32 / 100.0) - 1.0)
        .collect();
    let y: Vec<f32> = x
        .chunks(3)
        .map(|r| r[0] + 2.0 * r[1] + 3.0 * r[2] + 2.0)
        .collect();
    Dataset {
        x: vec![Tensor::from_f32(x, &[n, 3]).unwrap()],
        y: vec![Tensor::from_f32(y, &[n, 1]).unwrap()],
        sample_weight: None,
    }
}

fn model() -> (Compiled, Variable, Variable) {
    let w = Variable::new("kernel", Tensor::zeros(&[3, 1]), true);
    let b = Variable::new("bias", Tensor::zeros(&[1]), true);
    let layer: Arc<dyn Layer> = Arc::new(Linear {
        w: w.clone(),
        b: b.clone(),
    });
    let graph = Graph::new(
        vec![GraphNode {
            layer,
            inputs: vec![Source::Input(0)],
        }],
        1,
        vec![Source::Node { node: 0, output: 0 }],
    )
    .unwrap();
    let compiled = Compiled {
        graph: Arc::new(graph),
        losses: vec![Some(Arc::new(SquaredError))],
        loss_weights: vec![1.0],
        optimizer: Some(Arc::new(Mutex::new(
            optim::from_config("sgd", &Config::new().set("learning_rate", 0.1f32)).unwrap(),
        ))),
        metrics: vec![vec![]],
        output_losses: Default::default(),
    };
    (compiled, w, b)
}

#[test]
fn a_linear_model_learns_its_coefficients() {
    let (c, w, b) = model();
    let data = dataset(256);
    let mut losses = Vec::new();
    for _ in 0..60 {
        losses.push(
            c.train_epoch(&data, 32, true, None, &mut |_, _| Ok(Control::Continue))
                .unwrap(),
        );
    }
    assert!(losses[59] < 1e-6 && losses[59] < losses[0], "{losses:?}");
    let w = w.data().to_vec_f32().unwrap();
    for (got, want) in w.iter().zip([1.0, 2.0, 3.0]) {
        assert!((got - want).abs() < 1e-3, "{w:?}");
    }
    assert!((b.data().item().unwrap() - 2.0).abs() < 1e-3);
    let eval = c
        .evaluate(&data, 100, None, &mut |_, _| Ok(Control::Continue))
        .unwrap();
    assert!(eval < 1e-6);
}

#[test]
fn the_batch_hook_can_stop_an_epoch_and_sees_every_step() {
    let (c, _, _) = model();
    let data = dataset(100);
    let mut steps = Vec::new();
    c.train_epoch(&data, 10, false, None, &mut |s, _| {
        steps.push(s);
        Ok(if s == 3 {
            Control::Stop
        } else {
            Control::Continue
        })
    })
    .unwrap();
    assert_eq!(steps, vec![0, 1, 2, 3]);
    assert_eq!(c.optimizer.as_ref().unwrap().lock().iterations(), 4);
}

#[test]
fn predict_concatenates_batches_and_bad_data_is_an_error() {
    let (c, w, _) = model();
    w.assign(&Tensor::from_f32(vec![1.0, 0.0, 0.0], &[3, 1]).unwrap())
        .unwrap();
    let data = dataset(25);
    let out = ember::train::predict(&c.graph, &data.x, 7, &mut |_| Ok(Control::Continue)).unwrap();
    assert_eq!(out[0].shape(), &[25, 1]);
    let x = data.x[0].to_vec_f32().unwrap();
    let got = out[0].to_vec_f32().unwrap();
    for i in 0..25 {
        assert_eq!(got[i], x[i * 3]);
    }
    let bad = Dataset {
        x: data.x.clone(),
        y: vec![Tensor::zeros(&[24, 1])],
        sample_weight: None,
    };
    let e = c
        .train_epoch(&bad, 8, false, None, &mut |_, _| Ok(Control::Continue))
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("25") && e.contains("[24, 1]"), "{e}");
    assert!(Graph::new(vec![], 1, vec![Source::Node { node: 0, output: 0 }]).is_err());
}

#[test]
fn a_training_step_updates_the_weights_in_place() {
    // the tape is freed before the optimizer runs, so no copy-on-write copy of the weights
    let (c, w, _) = model();
    let data = dataset(32); // one step: a copy would live at a new address
    let before = w.data().f32_storage().unwrap().as_ptr();
    c.train_epoch(&data, 32, false, None, &mut |_, _| Ok(Control::Continue))
        .unwrap();
    let after = w.data().f32_storage().unwrap().as_ptr();
    assert_eq!(before, after);
    assert_ne!(w.data().to_vec_f32().unwrap(), vec![0.0; 3]);
}
