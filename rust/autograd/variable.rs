//! `Variable`: a named, mutable weight owned by the core (DESIGN.md §2.3). Layers and
//! optimizers share it through cheap clones; Python holds a handle.
use super::Node;
use crate::error::Result;
use crate::tensor::Tensor;
use crate::value_err;
use parking_lot::RwLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

#[derive(Clone)]
pub struct Variable {
    inner: Arc<Inner>,
}

struct Inner {
    name: String,
    value: RwLock<Tensor>,
    leaf: Arc<Node>,
    trainable: AtomicBool,
}

impl Variable {
    pub fn new(name: &str, value: Tensor, trainable: bool) -> Variable {
        let leaf = Node::leaf(value.shape());
        Variable {
            inner: Arc::new(Inner {
                name: name.to_string(),
                value: RwLock::new(value.contiguous_data()),
                leaf,
                trainable: AtomicBool::new(trainable),
            }),
        }
    }

    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The id of this variable's leaf node: the key of its gradient in `autograd::grad`.
    pub fn id(&self) -> u64 {
        self.inner.leaf.id()
    }

    pub fn leaf(&self) -> &Arc<Node> {
        &self.inner.leaf
    }

    pub fn shape(&self) -> Vec<usize> {
        self.inner.value.read().shape().to_vec()
    }

    pub fn trainable(&self) -> bool {
        self.inner.trainable.load(Ordering::Relaxed)
    }

    pub fn set_trainable(&self, t: bool) {
        self.inner.trainable.store(t, Ordering::Relaxed)
    }

    /// The current value for use in computation: gradients flow to this variable when it
    /// is trainable.
    pub fn value(&self) -> Tensor {
        let v = self.inner.value.read().clone();
        if self.trainable() {
            v.with_node(Some(self.inner.leaf.clone()))
        } else {
            v
        }
    }

    /// The current value without autograd history.
    pub fn data(&self) -> Tensor {
        self.inner.value.read().clone()
    }

    /// Replaces the value; the shape must not change.
    pub fn assign(&self, value: &Tensor) -> Result<()> {
        let mut slot = self.inner.value.write();
        if value.shape() != slot.shape() || value.dtype() != slot.dtype() {
            return Err(value_err!(
                "variable '{}': cannot assign a {} value of shape {:?} to a {} variable of shape {:?}",
                self.inner.name,
                value.dtype().name(),
                value.shape(),
                slot.dtype().name(),
                slot.shape()
            ));
        }
        *slot = value.contiguous_data();
        Ok(())
    }

    /// Updates the float32 values in place (copy-on-write if a tape still shares them).
    pub fn update<R>(&self, f: impl FnOnce(&mut [f32]) -> R) -> Result<R> {
        let mut slot = self.inner.value.write();
        Ok(f(slot.f32_data_mut()?))
    }

    pub fn same(&self, other: &Variable) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
}
