//! Define-by-run reverse-mode autograd (DESIGN.md §4).
//!
//! An op whose inputs carry nodes attaches a `Node` to its output: the input nodes plus a
//! `Backward` object that keeps only what the gradient needs. A node never holds its own
//! output, so graphs have no cycles and are freed with the last tensor that uses them.
//! `grad` walks the graph from a root in reverse topological order, accumulating input
//! gradients; broadcasting is undone by the ops themselves through `ops::sum_to_shape`.
mod gradcheck;
mod mode;
mod variable;

pub use gradcheck::check_gradients;
pub use mode::{is_grad_enabled, NoGrad};
pub use variable::Variable;

use crate::error::Result;
use crate::ops;
use crate::tensor::{Shape, Tensor};
use crate::value_err;
use parking_lot::Mutex;
use smallvec::SmallVec;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// The gradient rule of one recorded op.
pub trait Backward: Send + Sync {
    /// Given the gradient of the op's output, the gradients of its inputs (one entry per
    /// input, `None` where no gradient is needed). Each has its input's shape.
    fn backward(&self, grad: &Tensor) -> Result<Vec<Option<Tensor>>>;
}

/// One vertex of the autograd graph.
pub struct Node {
    id: u64,
    op: &'static str,
    shape: Shape,
    inputs: Vec<Option<Arc<Node>>>,
    backward: Option<Box<dyn Backward>>,
    /// PyTorch-style accumulated gradient (`.grad`), filled on leaves by `backward`.
    grad: Mutex<Option<Tensor>>,
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

impl Node {
    /// A leaf: a variable or a watched tensor. Gradients stop here.
    pub fn leaf(shape: &[usize]) -> Arc<Node> {
        Arc::new(Node {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            op: "leaf",
            shape: SmallVec::from_slice(shape),
            inputs: Vec::new(),
            backward: None,
            grad: Mutex::new(None),
        })
    }

    pub fn id(&self) -> u64 {
        self.id
    }

    pub fn op(&self) -> &'static str {
        self.op
    }

    pub fn is_leaf(&self) -> bool {
        self.backward.is_none()
    }

    /// The gradient accumulated on this leaf by `backward`, if any.
    pub fn grad(&self) -> Option<Tensor> {
        self.grad.lock().clone()
    }

    pub fn zero_grad(&self) {
        *self.grad.lock() = None;
    }
}

/// A new leaf over `x`'s values: gradients with respect to it can be asked for.
pub fn watch(x: &Tensor) -> Tensor {
    x.detach().with_node(Some(Node::leaf(x.shape())))
}

/// Attaches a node for `op` to `out` when grad mode is on and any input carries a node.
/// `backward` is only called (and only captures tensors) when the op is recorded.
pub fn record<B: Backward + 'static>(
    op: &'static str,
    inputs: &[&Tensor],
    out: Tensor,
    backward: impl FnOnce() -> B,
) -> Tensor {
    if !is_grad_enabled() || inputs.iter().all(|t| t.node().is_none()) {
        return out;
    }
    let node = Arc::new(Node {
        id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
        op,
        shape: SmallVec::from_slice(out.shape()),
        inputs: inputs.iter().map(|t| t.node().cloned()).collect(),
        backward: Some(Box::new(backward())),
        grad: Mutex::new(None),
    });
    out.with_node(Some(node))
}

/// Nodes reachable from `root`, each after every node that consumes it.
fn topological_order(root: &Arc<Node>) -> Vec<Arc<Node>> {
    let mut order = Vec::new();
    let mut seen = std::collections::HashSet::new();
    // iterative post-order DFS: (node, next input to visit)
    let mut stack: Vec<(Arc<Node>, usize)> = vec![(root.clone(), 0)];
    seen.insert(root.id);
    while let Some((node, i)) = stack.pop() {
        if let Some(next) = node.inputs.iter().skip(i).position(|n| n.is_some()) {
            let child = node.inputs[i + next].clone().unwrap();
            stack.push((node, i + next + 1));
            if seen.insert(child.id) {
                stack.push((child, 0));
            }
        } else {
            order.push(node);
        }
    }
    order.reverse();
    order
}

/// Reverse-mode gradients of `root` (seeded with `seed`, or ones) with respect to every
/// leaf it depends on and to the nodes listed in `keep`, keyed by node id.
pub fn grad(root: &Tensor, seed: Option<&Tensor>, keep: &[u64]) -> Result<HashMap<u64, Tensor>> {
    let _no_grad = NoGrad::new();
    let Some(root_node) = root.node() else {
        return Err(value_err!(
            "gradient: the target of shape {:?} does not depend on any watched tensor or variable",
            root.shape()
        ));
    };
    let seed = match seed {
        Some(s) if s.shape() != root.shape() => {
            return Err(value_err!(
                "gradient: output_gradients of shape {:?} do not match the target's shape {:?}",
                s.shape(),
                root.shape()
            ))
        }
        Some(s) => s.detach(),
        None => Tensor::ones(root.shape()),
    };
    let mut pending: HashMap<u64, Tensor> = HashMap::new();
    pending.insert(root_node.id, seed);
    let mut result = HashMap::new();
    for node in topological_order(root_node) {
        let Some(g) = pending.remove(&node.id) else {
            continue;
        };
        match &node.backward {
            None => {
                result.insert(node.id, g);
            }
            Some(bw) => {
                if keep.contains(&node.id) {
                    result.insert(node.id, g.clone());
                }
                let grads = bw.backward(&g)?;
                for (input, gi) in node.inputs.iter().zip(grads) {
                    if let (Some(input), Some(gi)) = (input, gi) {
                        debug_assert_eq!(
                            gi.shape(),
                            input.shape.as_slice(),
                            "{} backward",
                            node.op
                        );
                        let acc = match pending.remove(&input.id) {
                            Some(prev) => ops::add(&prev, &gi)?,
                            None => gi,
                        };
                        pending.insert(input.id, acc);
                    }
                }
            }
        }
    }
    Ok(result)
}

/// PyTorch face: accumulates d(root)/d(leaf) into every reachable leaf's `.grad`.
pub fn backward(root: &Tensor, seed: Option<&Tensor>) -> Result<()> {
    let grads = grad(root, seed, &[])?;
    let Some(root_node) = root.node() else {
        return Ok(());
    };
    for node in topological_order(root_node) {
        if let Some(g) = grads.get(&node.id) {
            let mut slot = node.grad.lock();
            *slot = Some(match slot.take() {
                Some(prev) => {
                    let _ng = NoGrad::new();
                    ops::add(&prev, g)?
                }
                None => g.clone(),
            });
        }
    }
    Ok(())
}

/// Any `Fn(&grad) -> input grads` closure is a gradient rule.
impl<F> Backward for F
where
    F: Fn(&Tensor) -> Result<Vec<Option<Tensor>>> + Send + Sync,
{
    fn backward(&self, grad: &Tensor) -> Result<Vec<Option<Tensor>>> {
        self(grad)
    }
}
