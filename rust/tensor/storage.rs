//! Where a tensor's numbers live. Devices are an enum (DESIGN.md §2.4): ops match on it.
use std::any::Any;
use std::sync::Arc;

/// Element type of a tensor: float32 for values, int64 for labels and indices.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DType {
    F32,
    I64,
}

impl DType {
    pub fn name(self) -> &'static str {
        match self {
            DType::F32 => "float32",
            DType::I64 => "int64",
        }
    }
}

/// The device a tensor lives on. The GPU variant arrives with the wgpu backend.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Device {
    Cpu,
}

/// Host memory of one dtype.
#[derive(Clone, Debug)]
pub enum CpuBuffer {
    F32(HostVec<f32>),
    I64(HostVec<i64>),
}

/// Host memory that is either ember's own or borrowed, read-only, from another owner
/// (a numpy array that `fit` reads without copying it). Reads see a slice either way;
/// the first write to borrowed memory copies it (`to_mut`).
pub enum HostVec<T> {
    Owned(Vec<T>),
    Borrowed(Borrowed<T>),
}

/// `len` values at `ptr`, kept alive by `owner`.
pub struct Borrowed<T> {
    ptr: *const T,
    len: usize,
    owner: Arc<dyn Any + Send + Sync>,
}

// SAFETY: a `Borrowed` is a shared, read-only slice whose memory `owner` keeps alive.
unsafe impl<T: Sync> Send for Borrowed<T> {}
unsafe impl<T: Sync> Sync for Borrowed<T> {}

impl<T> HostVec<T> {
    /// Borrows `len` values at `ptr` for as long as `owner` lives.
    ///
    /// # Safety
    /// `ptr` must be aligned and point to `len` initialised values that stay valid, and
    /// are not written, while `owner` is alive.
    pub unsafe fn borrowed(ptr: *const T, len: usize, owner: Arc<dyn Any + Send + Sync>) -> Self {
        HostVec::Borrowed(Borrowed { ptr, len, owner })
    }
}

impl<T: Clone> HostVec<T> {
    /// The values as an owned, writable vector (a copy the first time, if borrowed).
    pub fn to_mut(&mut self) -> &mut Vec<T> {
        if let HostVec::Borrowed(b) = self {
            *self = HostVec::Owned(b.as_slice().to_vec());
        }
        match self {
            HostVec::Owned(v) => v,
            HostVec::Borrowed(_) => unreachable!("converted above"),
        }
    }
}

impl<T> Borrowed<T> {
    fn as_slice(&self) -> &[T] {
        // SAFETY: guaranteed by the contract of `HostVec::borrowed`.
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }
}

impl<T> std::ops::Deref for HostVec<T> {
    type Target = [T];

    fn deref(&self) -> &[T] {
        match self {
            HostVec::Owned(v) => v,
            HostVec::Borrowed(b) => b.as_slice(),
        }
    }
}

impl<T> From<Vec<T>> for HostVec<T> {
    fn from(v: Vec<T>) -> Self {
        HostVec::Owned(v)
    }
}

impl<T: Clone> Clone for HostVec<T> {
    /// Owned memory is copied; borrowed memory is shared (it is never written).
    fn clone(&self) -> Self {
        match self {
            HostVec::Owned(v) => HostVec::Owned(v.clone()),
            HostVec::Borrowed(b) => HostVec::Borrowed(Borrowed {
                ptr: b.ptr,
                len: b.len,
                owner: Arc::clone(&b.owner),
            }),
        }
    }
}

impl<T> std::fmt::Debug for HostVec<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HostVec::Owned(v) => write!(f, "Owned({} values)", v.len()),
            HostVec::Borrowed(b) => write!(f, "Borrowed({} values)", b.len),
        }
    }
}

/// A tensor's backing memory, shared between views.
#[derive(Clone, Debug)]
pub enum Storage {
    Cpu(CpuBuffer),
}

impl Storage {
    pub fn dtype(&self) -> DType {
        match self {
            Storage::Cpu(CpuBuffer::F32(_)) => DType::F32,
            Storage::Cpu(CpuBuffer::I64(_)) => DType::I64,
        }
    }

    pub fn device(&self) -> Device {
        match self {
            Storage::Cpu(_) => Device::Cpu,
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Storage::Cpu(CpuBuffer::F32(v)) => v.len(),
            Storage::Cpu(CpuBuffer::I64(v)) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
