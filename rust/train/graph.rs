//! A model compiled into a graph of built-in layers: a topologically ordered list of layer
//! calls. Sequential models are chains; functional models are any DAG (shared layers are
//! one `Layer` object called from several nodes).
use crate::autograd::Variable;
use crate::error::Result;
use crate::nn::layers::{check_mask_batches, EmbeddedRecurrent, Embedding, Recurrent};
use crate::nn::{Context, Layer};
use crate::ops;
use crate::tensor::Tensor;
use crate::value_err;
use std::any::Any;
use std::sync::Arc;

/// Where a node's input comes from.
#[derive(Clone, Copy, Debug)]
pub enum Source {
    /// The i-th model input.
    Input(usize),
    /// Output `output` of the earlier node `node`.
    Node { node: usize, output: usize },
}

pub struct GraphNode {
    pub layer: Arc<dyn Layer>,
    pub inputs: Vec<Source>,
}

pub struct Graph {
    nodes: Vec<GraphNode>,
    num_inputs: usize,
    outputs: Vec<Source>,
    /// Each distinct layer once, in first-use order.
    layers: Vec<Arc<dyn Layer>>,
    /// Nodes whose work a later node does (see `fuse_embeddings`); they compute nothing.
    fused: Vec<bool>,
}

impl Graph {
    /// Checks that every source refers to a model input or an earlier node.
    pub fn new(
        mut nodes: Vec<GraphNode>,
        num_inputs: usize,
        outputs: Vec<Source>,
    ) -> Result<Graph> {
        let check = |s: &Source, before: usize| match *s {
            Source::Input(i) if i < num_inputs => Ok(()),
            Source::Node { node, .. } if node < before => Ok(()),
            _ => Err(value_err!(
                "graph: source {s:?} does not refer to an input or an earlier layer call"
            )),
        };
        for (i, n) in nodes.iter().enumerate() {
            for s in &n.inputs {
                check(s, i)?;
            }
        }
        for s in &outputs {
            check(s, nodes.len())?;
        }
        let mut layers: Vec<Arc<dyn Layer>> = Vec::new();
        for n in &nodes {
            if !layers.iter().any(|l| Arc::ptr_eq(l, &n.layer)) {
                layers.push(n.layer.clone());
            }
        }
        let fused = fuse_embeddings(&mut nodes, &outputs);
        Ok(Graph {
            nodes,
            num_inputs,
            outputs,
            layers,
            fused,
        })
    }

    pub fn num_inputs(&self) -> usize {
        self.num_inputs
    }

    pub fn num_outputs(&self) -> usize {
        self.outputs.len()
    }

    pub fn layers(&self) -> &[Arc<dyn Layer>] {
        &self.layers
    }

    /// Runs the graph. Intermediate results are dropped once no later node needs them.
    pub fn forward(&self, inputs: &[Tensor], ctx: &mut Context) -> Result<Vec<Tensor>> {
        Ok(self.forward_masked(inputs, ctx)?.0)
    }

    /// Runs the graph with Keras masks: a node whose inputs carry masks is called with
    /// `call_masked`, and a layer that `supports_masking` gives its outputs the masks of
    /// `compute_mask` (the others drop them). Returns the outputs and their masks. Until
    /// some layer makes a mask, no mask is stored and every call is a plain `call`.
    pub fn forward_masked(
        &self,
        inputs: &[Tensor],
        ctx: &mut Context,
    ) -> Result<(Vec<Tensor>, Vec<Option<Tensor>>)> {
        if inputs.len() != self.num_inputs {
            return Err(value_err!(
                "model expects {} input(s), got {}",
                self.num_inputs,
                inputs.len()
            ));
        }
        let mut results: Vec<Vec<Tensor>> = Vec::with_capacity(self.nodes.len());
        // one entry per node from the first node that makes a mask on (empty before)
        let mut masks: Option<Vec<Vec<Option<Tensor>>>> = None;
        let fetch = |results: &Vec<Vec<Tensor>>, s: &Source| -> Result<Tensor> {
            match *s {
                Source::Input(i) => Ok(inputs[i].clone()),
                Source::Node { node, output } => {
                    results[node].get(output).cloned().ok_or_else(|| {
                        value_err!(
                            "layer '{}' has no output {output}",
                            self.nodes[node].layer.name()
                        )
                    })
                }
            }
        };
        let mask_of = |masks: &[Vec<Option<Tensor>>], s: &Source| match *s {
            Source::Node { node, output } => masks
                .get(node)
                .and_then(|m| m.get(output).cloned().flatten()),
            Source::Input(_) => None,
        };
        for (k, node) in self.nodes.iter().enumerate() {
            if self.fused[k] {
                results.push(Vec::new());
                if let Some(ms) = &mut masks {
                    ms.push(Vec::new());
                }
                continue;
            }
            let xs = node
                .inputs
                .iter()
                .map(|s| fetch(&results, s))
                .collect::<Result<Vec<_>>>()?;
            let in_masks: Vec<Option<Tensor>> = match &masks {
                None => Vec::new(),
                Some(ms) => node.inputs.iter().map(|s| mask_of(ms, s)).collect(),
            };
            let layer = &node.layer;
            let outs = if in_masks.iter().any(|m| m.is_some()) {
                check_mask_batches(layer.name(), &xs, &in_masks)?;
                layer.call_masked(&xs, &in_masks, ctx)?
            } else {
                layer.call(&xs, ctx)?
            };
            let out_masks = if layer.supports_masking() {
                layer.compute_mask(&xs, &in_masks)?
            } else {
                Vec::new()
            };
            match &mut masks {
                Some(ms) => ms.push(out_masks),
                None if out_masks.iter().any(|m| m.is_some()) => {
                    let mut ms = vec![Vec::new(); k];
                    ms.push(out_masks);
                    masks = Some(ms);
                }
                None => {}
            }
            results.push(outs);
        }
        let outs = self
            .outputs
            .iter()
            .map(|s| fetch(&results, s))
            .collect::<Result<Vec<_>>>()?;
        let out_masks = match &masks {
            Some(ms) => self.outputs.iter().map(|s| mask_of(ms, s)).collect(),
            None => vec![None; self.outputs.len()],
        };
        Ok((outs, out_masks))
    }

    /// Every variable of every layer, each once.
    pub fn variables(&self) -> Vec<Variable> {
        let mut out: Vec<Variable> = Vec::new();
        for l in &self.layers {
            for v in l.variables() {
                if !out.iter().any(|o| o.same(&v)) {
                    out.push(v);
                }
            }
        }
        out
    }

    pub fn trainable_variables(&self) -> Vec<Variable> {
        self.variables()
            .into_iter()
            .filter(|v| v.trainable())
            .collect()
    }

    /// The sum of all layers' weight penalties, if any layer has one.
    pub fn regularization(&self) -> Result<Option<Tensor>> {
        let mut total: Option<Tensor> = None;
        for l in &self.layers {
            if let Some(r) = l.regularization()? {
                total = Some(match total {
                    Some(t) => ops::add(&t, &r)?,
                    None => r,
                });
            }
        }
        Ok(total)
    }

    pub fn apply_constraints(&self) -> Result<()> {
        self.layers.iter().try_for_each(|l| l.apply_constraints())
    }
}

/// The layer behind `layer` as a `T`, if it is one.
fn layer_as<T: Layer>(layer: &Arc<dyn Layer>) -> Option<Arc<T>> {
    let any: Arc<dyn Any + Send + Sync> = layer.clone();
    any.downcast::<T>().ok()
}

/// Runs each Embedding whose output feeds only the sequence input of a fused recurrent
/// layer as part of that layer's call (`EmbeddedRecurrent`, which takes the ids in its
/// place). Returns which nodes are left with nothing to compute.
fn fuse_embeddings(nodes: &mut [GraphNode], outputs: &[Source]) -> Vec<bool> {
    let mut fused = vec![false; nodes.len()];
    let uses = |nodes: &[GraphNode], k: usize| {
        let reads = |s: &Source| matches!(*s, Source::Node { node, .. } if node == k);
        nodes
            .iter()
            .flat_map(|n| &n.inputs)
            .filter(|s| reads(s))
            .count()
            + outputs.iter().filter(|s| reads(s)).count()
    };
    for j in 0..nodes.len() {
        let Some(&Source::Node { node: k, output: 0 }) = nodes[j].inputs.first() else {
            continue;
        };
        let (Some(rnn), Some(embedding)) = (
            layer_as::<Recurrent>(&nodes[j].layer),
            layer_as::<Embedding>(&nodes[k].layer),
        ) else {
            continue;
        };
        if nodes[k].inputs.len() != 1 || uses(nodes, k) != 1 {
            continue;
        }
        nodes[j].inputs[0] = nodes[k].inputs[0];
        nodes[j].layer = Arc::new(EmbeddedRecurrent::new(embedding, rnn));
        fused[k] = true;
    }
    fused
}
