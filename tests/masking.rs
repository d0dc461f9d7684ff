//! Embedding's gather/scatter op, the sequence layers and mask propagation through the
//! graph driver into the loss, against hand-computed references.
use ember::autograd::{self, check_gradients, Variable};
use ember::nn::activations::Activation as Act;
use ember::nn::layers::{Dense, Embedding, GlobalPooling, Masking, TimeDistributed};
use ember::nn::losses;
use ember::nn::{Context, Layer};
use ember::ops::{self, PoolMode};
use ember::optim::{self, Config};
use ember::train::{Compiled, Graph, GraphNode, Source};
use ember::Tensor;
use parking_lot::Mutex;
use std::sync::Arc;

fn t(shape: &[usize], seed: usize) -> Tensor {
    let n: usize = shape.iter().product();
    let v = (0..n)
        .map(|i| (((i + seed) * 7919 % 101) as f32 / 101.0 - 0.5) * 2.0)
        .collect();
    Tensor::from_f32(v, shape).unwrap()
}

fn ids(v: &[i64], shape: &[usize]) -> Tensor {
    Tensor::from_i64(v.to_vec(), shape).unwrap()
}

#[test]
fn embedding_lookup_gathers_rows_and_its_gradient_checks() {
    let table = t(&[5, 3], 1);
    let i = ids(&[4, 0, 2, 2, 1, 4], &[2, 3]);
    let y = ops::embedding_lookup("emb", &table, &i).unwrap();
    assert_eq!(y.shape(), &[2, 3, 3]);
    let (tv, yv) = (table.to_vec_f32().unwrap(), y.to_vec_f32().unwrap());
    for (k, &r) in [4usize, 0, 2, 2, 1, 4].iter().enumerate() {
        assert_eq!(&yv[k * 3..k * 3 + 3], &tv[r * 3..r * 3 + 3]);
    }
    let w = t(&[2, 3, 3], 7);
    check_gradients(
        |x| {
            ops::sum(
                &ops::multiply(&ops::embedding_lookup("emb", &x[0], &i)?, &w)?,
                None,
                false,
            )
        },
        &[table],
        1e-2,
        1e-2,
    )
    .unwrap();
}

#[test]
fn the_threaded_scatter_add_sums_repeated_ids_like_the_serial_one() {
    // 700 x 64 gradient values: above the threading threshold
    let (vocab, dim, n) = (37usize, 64usize, 700usize);
    let table = autograd::watch(&t(&[vocab, dim], 3));
    let idv: Vec<i64> = (0..n).map(|k| ((k * 13) % vocab) as i64).collect();
    let w = t(&[n, dim], 5);
    let y = ops::embedding_lookup("emb", &table, &ids(&idv, &[n])).unwrap();
    let loss = ops::sum(&ops::multiply(&y, &w).unwrap(), None, false).unwrap();
    let g = autograd::grad(&loss, None, &[]).unwrap();
    let g = g.values().next().unwrap().to_vec_f32().unwrap();
    let wv = w.to_vec_f32().unwrap();
    let mut want = vec![0.0f32; vocab * dim];
    for (k, &r) in idv.iter().enumerate() {
        for d in 0..dim {
            want[r as usize * dim + d] += wv[k * dim + d];
        }
    }
    for (a, b) in g.iter().zip(&want) {
        assert!((a - b).abs() < 1e-4, "{a} vs {b}");
    }
}

#[test]
fn out_of_range_ids_are_value_errors_naming_the_layer_id_and_input_dim() {
    let table = Variable::new("embeddings", t(&[4, 2], 1), true);
    let layer = Embedding::new("emb", table, true, None, None).unwrap();
    let mut ctx = Context::new(false);
    for bad in [ids(&[1, 4], &[1, 2]), ids(&[-1], &[1, 1])] {
        let e = layer.call(&[bad], &mut ctx).unwrap_err().to_string();
        assert!(e.contains("\"emb\"") && e.contains("input_dim=4"), "{e}");
    }
    let f = Tensor::from_f32(vec![1.5], &[1, 1]).unwrap();
    let e = layer.call(&[f], &mut ctx).unwrap_err().to_string();
    assert!(e.contains("1.5"), "{e}");
    // float ids holding whole numbers work, and the mask is ids != 0
    let f = Tensor::from_f32(vec![0.0, 3.0], &[1, 2]).unwrap();
    assert_eq!(
        layer.call(std::slice::from_ref(&f), &mut ctx).unwrap()[0].shape(),
        &[1, 2, 2]
    );
    let m = layer.compute_mask(&[f], &[]).unwrap()[0].clone().unwrap();
    assert_eq!(m.to_vec_f32().unwrap(), vec![0.0, 1.0]);
}

#[test]
fn masking_zeroes_masked_steps_and_gives_their_mask() {
    let mut v = t(&[2, 3, 2], 1).to_vec_f32().unwrap();
    v[2] = 0.5;
    v[3] = 0.5; // sample 0, step 1 is all mask_value
    let x = Tensor::from_f32(v.clone(), &[2, 3, 2]).unwrap();
    let layer = Masking::new("masking", 0.5);
    let y = layer
        .call(std::slice::from_ref(&x), &mut Context::new(false))
        .unwrap()[0]
        .to_vec_f32()
        .unwrap();
    let m = layer.compute_mask(&[x], &[]).unwrap()[0]
        .clone()
        .unwrap()
        .to_vec_f32()
        .unwrap();
    assert_eq!(m, vec![1.0, 0.0, 1.0, 1.0, 1.0, 1.0]);
    for k in 0..12 {
        assert_eq!(y[k], v[k] * m[k / 2]);
    }
}

/// Embedding(mask_zero) -> TimeDistributed(Dense) -> [GlobalAveragePooling1D]
fn graph(pool: bool) -> (Graph, Variable, Variable, Variable) {
    let table = Variable::new("embeddings", t(&[6, 3], 2), true);
    let kernel = Variable::new("kernel", t(&[3, 2], 4), true);
    let bias = Variable::new("bias", t(&[2], 9), true);
    let emb: Arc<dyn Layer> =
        Arc::new(Embedding::new("emb", table.clone(), true, None, None).unwrap());
    let dense: Arc<dyn Layer> =
        Arc::new(Dense::new("dense", kernel.clone(), Some(bias.clone()), Act::Linear).unwrap());
    let td: Arc<dyn Layer> = Arc::new(TimeDistributed::new("td", dense));
    let mut nodes = vec![
        GraphNode {
            layer: emb,
            inputs: vec![Source::Input(0)],
        },
        GraphNode {
            layer: td,
            inputs: vec![Source::Node { node: 0, output: 0 }],
        },
    ];
    if pool {
        nodes.push(GraphNode {
            layer: Arc::new(GlobalPooling::new(
                "gap",
                PoolMode::Average,
                1,
                false,
                false,
            )),
            inputs: vec![Source::Node { node: 1, output: 0 }],
        });
    }
    let out = Source::Node {
        node: nodes.len() - 1,
        output: 0,
    };
    (
        Graph::new(nodes, 1, vec![out]).unwrap(),
        table,
        kernel,
        bias,
    )
}

const IDS: [i64; 8] = [1, 2, 0, 0, 5, 3, 4, 0];

/// The per-step Dense outputs computed by hand: (batch 2, steps 4, units 2).
fn reference_steps(table: &Variable, kernel: &Variable, bias: &Variable) -> Vec<f32> {
    let (e, k, b) = (
        table.value().to_vec_f32().unwrap(),
        kernel.value().to_vec_f32().unwrap(),
        bias.value().to_vec_f32().unwrap(),
    );
    let mut out = Vec::new();
    for &id in &IDS {
        for u in 0..2 {
            let row = &e[id as usize * 3..id as usize * 3 + 3];
            out.push(b[u] + (0..3).map(|d| row[d] * k[d * 2 + u]).sum::<f32>());
        }
    }
    out
}

#[test]
fn the_graph_carries_masks_to_the_pooling_and_to_its_outputs() {
    let (g, table, kernel, bias) = graph(true);
    let steps = reference_steps(&table, &kernel, &bias);
    let (outs, masks) = g
        .forward_masked(&[ids(&IDS, &[2, 4])], &mut Context::new(false))
        .unwrap();
    assert!(masks[0].is_none(), "GlobalAveragePooling1D gives no mask");
    let y = outs[0].to_vec_f32().unwrap();
    for s in 0..2 {
        let valid: Vec<usize> = (0..4).filter(|&k| IDS[s * 4 + k] != 0).collect();
        for u in 0..2 {
            let want: f32 = valid
                .iter()
                .map(|&k| steps[(s * 4 + k) * 2 + u])
                .sum::<f32>()
                / valid.len() as f32;
            assert!((y[s * 2 + u] - want).abs() < 1e-5);
        }
    }
    let (g, ..) = graph(false);
    let (_, masks) = g
        .forward_masked(&[ids(&IDS, &[2, 4])], &mut Context::new(false))
        .unwrap();
    let m = masks[0]
        .clone()
        .expect("TimeDistributed passes the mask on");
    assert_eq!(
        m.to_vec_f32().unwrap(),
        vec![1., 1., 0., 0., 1., 1., 1., 0.]
    );
}

#[test]
fn a_masked_sequence_loss_averages_over_the_unmasked_steps_only() {
    let (g, table, kernel, bias) = graph(false);
    let steps = reference_steps(&table, &kernel, &bias);
    let y = t(&[2, 4, 2], 11);
    let yv = y.to_vec_f32().unwrap();
    let mse = losses::from_config("mse", &Default::default()).unwrap();
    let compiled = Compiled {
        graph: Arc::new(g),
        losses: vec![Some(Arc::from(mse))],
        loss_weights: vec![1.0],
        optimizer: Some(Arc::new(Mutex::new(
            optim::from_config("sgd", &Config::new().set("learning_rate", 0.1f32)).unwrap(),
        ))),
        metrics: vec![vec![]],
        output_losses: Default::default(),
    };
    let loss = compiled
        .test_batch(&[ids(&IDS, &[2, 4])], std::slice::from_ref(&y), None)
        .unwrap();
    // Keras: per-step mse, weighted by the mask, summed and divided by the valid count
    let (mut total, mut valid) = (0.0f32, 0.0f32);
    for k in 0..8 {
        if IDS[k] != 0 {
            let l = (0..2)
                .map(|u| (steps[k * 2 + u] - yv[k * 2 + u]).powi(2))
                .sum::<f32>()
                / 2.0;
            total += l;
            valid += 1.0;
        }
    }
    assert!(
        (loss - total / valid).abs() < 1e-5,
        "{loss} vs {}",
        total / valid
    );
    // training never moves the embeddings of padding (id 0): masked steps have no gradient
    let before = table.value().to_vec_f32().unwrap();
    compiled
        .train_batch(&[ids(&IDS, &[2, 4])], &[y], None)
        .unwrap();
    let after = table.value().to_vec_f32().unwrap();
    assert_eq!(&before[..3], &after[..3]);
    assert_ne!(&before[3..6], &after[3..6]);
}

#[test]
fn a_mask_that_does_not_match_its_input_is_a_value_error() {
    let td = TimeDistributed::new(
        "td",
        Arc::new(Dense::glorot("dense", 2, 3, Act::Linear).unwrap()),
    );
    let x = t(&[2, 4, 2], 1);
    let e = td
        .call_masked(
            &[x],
            &[Some(Tensor::ones(&[2, 5]))],
            &mut Context::new(false),
        )
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("\"td\"") && e.contains("[2, 5]") && e.contains("[2, 4, 2]"),
        "{e}"
    );
}
