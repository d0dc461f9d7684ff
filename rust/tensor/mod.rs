//! `Tensor`: a cheap handle over shared storage with a strided layout and an optional
//! autograd node. Views (transpose, slice, broadcast, reshape of contiguous data) share
//! storage and copy nothing.
mod shape;
mod storage;

pub use shape::*;
pub use storage::*;

use crate::autograd::Node;
use crate::cpu::strided;
use crate::error::Result;
use crate::{type_err, value_err};
use smallvec::SmallVec;
use std::borrow::Cow;
use std::sync::Arc;

#[derive(Clone)]
pub struct Tensor {
    storage: Arc<Storage>,
    shape: Shape,
    strides: Strides,
    offset: usize,
    node: Option<Arc<Node>>,
}

impl std::fmt::Debug for Tensor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Tensor(shape={:?}, dtype={})",
            self.shape.as_slice(),
            self.dtype().name()
        )
    }
}

impl Tensor {
    fn from_storage(storage: Storage, shape: &[usize]) -> Tensor {
        Tensor {
            storage: Arc::new(storage),
            shape: SmallVec::from_slice(shape),
            strides: contiguous_strides(shape),
            offset: 0,
            node: None,
        }
    }

    /// A float32 tensor owning `data`, which must hold exactly `prod(shape)` values.
    pub fn from_f32(data: Vec<f32>, shape: &[usize]) -> Result<Tensor> {
        if data.len() != numel(shape) {
            return Err(value_err!(
                "tensor: {} values cannot fill shape {:?}",
                data.len(),
                shape
            ));
        }
        Ok(Self::from_storage(
            Storage::Cpu(CpuBuffer::F32(data.into())),
            shape,
        ))
    }

    /// An int64 tensor owning `data`.
    pub fn from_i64(data: Vec<i64>, shape: &[usize]) -> Result<Tensor> {
        if data.len() != numel(shape) {
            return Err(value_err!(
                "tensor: {} values cannot fill shape {:?}",
                data.len(),
                shape
            ));
        }
        Ok(Self::from_storage(
            Storage::Cpu(CpuBuffer::I64(data.into())),
            shape,
        ))
    }

    /// A tensor over an existing host buffer, which must hold exactly `prod(shape)` values.
    pub fn from_buffer(buffer: CpuBuffer, shape: &[usize]) -> Result<Tensor> {
        let storage = Storage::Cpu(buffer);
        if storage.len() != numel(shape) {
            return Err(value_err!(
                "tensor: {} values cannot fill shape {:?}",
                storage.len(),
                shape
            ));
        }
        Ok(Self::from_storage(storage, shape))
    }

    /// Internal constructor for kernels that computed exactly `prod(shape)` values.
    pub(crate) fn new_f32(data: Vec<f32>, shape: &[usize]) -> Tensor {
        debug_assert_eq!(data.len(), numel(shape));
        Self::from_storage(Storage::Cpu(CpuBuffer::F32(data.into())), shape)
    }

    pub(crate) fn new_i64(data: Vec<i64>, shape: &[usize]) -> Tensor {
        debug_assert_eq!(data.len(), numel(shape));
        Self::from_storage(Storage::Cpu(CpuBuffer::I64(data.into())), shape)
    }

    pub fn scalar(v: f32) -> Tensor {
        Self::new_f32(vec![v], &[])
    }

    pub fn full(shape: &[usize], v: f32) -> Tensor {
        Self::new_f32(vec![v; numel(shape)], shape)
    }

    pub fn zeros(shape: &[usize]) -> Tensor {
        Self::full(shape, 0.0)
    }

    pub fn ones(shape: &[usize]) -> Tensor {
        Self::full(shape, 1.0)
    }

    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    pub fn strides(&self) -> &[usize] {
        &self.strides
    }

    pub fn offset(&self) -> usize {
        self.offset
    }

    pub fn ndim(&self) -> usize {
        self.shape.len()
    }

    pub fn numel(&self) -> usize {
        numel(&self.shape)
    }

    pub fn dtype(&self) -> DType {
        self.storage.dtype()
    }

    pub fn device(&self) -> Device {
        self.storage.device()
    }

    pub fn storage(&self) -> &Arc<Storage> {
        &self.storage
    }

    /// True when the elements are laid out row-major without gaps (offset may be non-zero).
    pub fn is_contiguous(&self) -> bool {
        let mut expected = 1;
        for (&d, &s) in self.shape.iter().zip(&self.strides).rev() {
            if d != 1 && s != expected {
                return false;
            }
            expected *= d;
        }
        true
    }

    /// A view of the same storage with another layout; the caller checks bounds.
    pub(crate) fn view(&self, shape: &[usize], strides: &[usize], offset: usize) -> Tensor {
        Tensor {
            storage: self.storage.clone(),
            shape: SmallVec::from_slice(shape),
            strides: SmallVec::from_slice(strides),
            offset,
            node: None,
        }
    }

    /// Fails with a TypeError naming `op` unless this is a float32 tensor.
    pub fn expect_f32(&self, op: &str) -> Result<()> {
        match self.dtype() {
            DType::F32 => Ok(()),
            d => Err(type_err!(
                "{op}: expected a float32 tensor, got {} of shape {:?}",
                d.name(),
                self.shape()
            )),
        }
    }

    /// The float32 values in row-major order: borrowed when contiguous, gathered otherwise.
    pub fn f32_data(&self) -> Result<Cow<'_, [f32]>> {
        match &*self.storage {
            Storage::Cpu(CpuBuffer::F32(v)) => Ok(if self.is_contiguous() {
                Cow::Borrowed(&v[self.offset..self.offset + self.numel()])
            } else {
                Cow::Owned(strided::gather(v, &self.shape, &self.strides, self.offset))
            }),
            _ => Err(type_err!(
                "expected a float32 tensor, got {} of shape {:?}",
                self.dtype().name(),
                self.shape()
            )),
        }
    }

    /// The whole float32 buffer behind this view (index it with `offset` and `strides`).
    pub fn f32_storage(&self) -> Result<&[f32]> {
        match &*self.storage {
            Storage::Cpu(CpuBuffer::F32(v)) => Ok(v),
            _ => Err(type_err!(
                "expected a float32 tensor, got {} of shape {:?}",
                self.dtype().name(),
                self.shape()
            )),
        }
    }

    /// The int64 values in row-major order.
    pub fn i64_data(&self) -> Result<Cow<'_, [i64]>> {
        match &*self.storage {
            Storage::Cpu(CpuBuffer::I64(v)) => Ok(if self.is_contiguous() {
                Cow::Borrowed(&v[self.offset..self.offset + self.numel()])
            } else {
                Cow::Owned(strided::gather(v, &self.shape, &self.strides, self.offset))
            }),
            _ => Err(type_err!(
                "expected an int64 tensor, got {} of shape {:?}",
                self.dtype().name(),
                self.shape()
            )),
        }
    }

    pub fn to_vec_f32(&self) -> Result<Vec<f32>> {
        Ok(self.f32_data()?.into_owned())
    }

    /// The single value of a one-element float tensor.
    pub fn item(&self) -> Result<f32> {
        if self.numel() != 1 {
            return Err(value_err!(
                "item: tensor of shape {:?} has {} elements, not 1",
                self.shape(),
                self.numel()
            ));
        }
        match self.dtype() {
            DType::F32 => Ok(self.f32_data()?[0]),
            DType::I64 => Ok(self.i64_data()?[0] as f32),
        }
    }

    /// A contiguous copy of the data (or this tensor itself when already contiguous and
    /// starting at offset 0), without autograd history.
    pub fn contiguous_data(&self) -> Tensor {
        if self.is_contiguous() && self.offset == 0 && self.storage.len() == self.numel() {
            return self.detach();
        }
        match &*self.storage {
            Storage::Cpu(CpuBuffer::F32(v)) => Tensor::new_f32(
                strided::gather(v, &self.shape, &self.strides, self.offset),
                &self.shape,
            ),
            Storage::Cpu(CpuBuffer::I64(v)) => Tensor::new_i64(
                strided::gather(v, &self.shape, &self.strides, self.offset),
                &self.shape,
            ),
        }
    }

    /// Mutable access to the float32 values, copying first only if the storage is shared
    /// or this tensor is a partial view. Used by in-place optimizer updates.
    pub fn f32_data_mut(&mut self) -> Result<&mut [f32]> {
        self.expect_f32("in-place update")?;
        if !(self.is_contiguous() && self.offset == 0 && self.storage.len() == self.numel()) {
            *self = self.contiguous_data();
        }
        match Arc::make_mut(&mut self.storage) {
            Storage::Cpu(CpuBuffer::F32(v)) => Ok(v.to_mut().as_mut_slice()),
            _ => unreachable!("dtype checked above"),
        }
    }

    /// The same values without autograd history.
    pub fn detach(&self) -> Tensor {
        Tensor {
            node: None,
            ..self.clone()
        }
    }

    pub fn node(&self) -> Option<&Arc<Node>> {
        self.node.as_ref()
    }

    pub(crate) fn with_node(mut self, node: Option<Arc<Node>>) -> Tensor {
        self.node = node;
        self
    }

    /// True when gradients flow back through this tensor.
    pub fn requires_grad(&self) -> bool {
        self.node.is_some()
    }
}
