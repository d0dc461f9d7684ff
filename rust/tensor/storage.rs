//! Where a tensor's numbers live. Devices are an enum (DESIGN.md §2.4): ops match on it.
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
    F32(Vec<f32>),
    I64(Vec<i64>),
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
