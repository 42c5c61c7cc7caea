//! Host-side weights: every tensor of a checkpoint as `f32`, keyed in timm's layout.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use crate::error::{Error, Result};

/// Element type the weights were stored in (all are widened to `f32` on load).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WeightDtype {
    /// IEEE single precision.
    F32,
    /// IEEE half precision.
    F16,
    /// bfloat16.
    BF16,
}

impl WeightDtype {
    /// `f32`, `f16` or `bf16`.
    pub fn name(self) -> &'static str {
        match self {
            WeightDtype::F32 => "f32",
            WeightDtype::F16 => "f16",
            WeightDtype::BF16 => "bf16",
        }
    }

    /// Widens little-endian bytes of this type to `f32`.
    pub fn decode(self, bytes: &[u8]) -> Vec<f32> {
        match self {
            WeightDtype::F32 => bytes
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect(),
            WeightDtype::F16 => bytes
                .chunks_exact(2)
                .map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32())
                .collect(),
            WeightDtype::BF16 => bytes
                .chunks_exact(2)
                .map(|b| half::bf16::from_le_bytes([b[0], b[1]]).to_f32())
                .collect(),
        }
    }

    /// Size of one element in bytes.
    pub fn size(self) -> usize {
        match self {
            WeightDtype::F32 => 4,
            WeightDtype::F16 | WeightDtype::BF16 => 2,
        }
    }
}

impl fmt::Display for WeightDtype {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One weight tensor on the host, row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct HostTensor {
    /// Extents, outermost first.
    pub shape: Vec<usize>,
    /// `shape.iter().product()` values.
    pub values: Vec<f32>,
}

impl HostTensor {
    /// A tensor from its shape and values (`values.len()` must equal the shape's product).
    pub fn new(shape: Vec<usize>, values: Vec<f32>) -> HostTensor {
        debug_assert_eq!(shape.iter().product::<usize>(), values.len());
        HostTensor { shape, values }
    }
}

/// Buffers a checkpoint may carry that the network recomputes or never reads: BatchNorm's
/// step counter, and the official layout's `attention_bias_idxs` (rebuilt from the
/// resolution by the network, `efficientformer::model::bias_index`).
pub fn is_ignored_buffer(key: &str) -> bool {
    key.ends_with("num_batches_tracked") || key.ends_with("attention_bias_idxs")
}

/// All weights of one network in timm's key layout, with the dtype they were stored in.
#[derive(Debug, Clone, PartialEq)]
pub struct StateDict {
    /// Tensors by timm key.
    pub tensors: BTreeMap<String, HostTensor>,
    /// The narrowest float type found in the file.
    pub dtype: WeightDtype,
    /// safetensors `__metadata__` (SDK files carry `format`, `source`, …; empty otherwise).
    pub metadata: HashMap<String, String>,
}

impl StateDict {
    /// Shape of `key`, if present.
    pub fn shape(&self, key: &str) -> Option<&[usize]> {
        self.tensors.get(key).map(|t| t.shape.as_slice())
    }

    /// Takes `key` out, checking its shape and that every value is finite (a NaN or infinity
    /// from a corrupt or badly converted checkpoint is an error naming the tensor).
    pub fn take(&mut self, key: &str, expected: &[usize]) -> Result<HostTensor> {
        let tensor = self.tensors.remove(key).ok_or_else(|| Error::MissingTensor {
            key: key.to_owned(),
            expected: expected.to_vec(),
        })?;
        if tensor.shape != expected {
            return Err(Error::ShapeMismatch {
                key: key.to_owned(),
                expected: expected.to_vec(),
                found: tensor.shape,
            });
        }
        if let Some(index) = tensor.values.iter().position(|v| !v.is_finite()) {
            return Err(Error::InvalidModelFile(format!(
                "tensor {key} holds a non-finite value ({}) at index {index}",
                tensor.values[index]
            )));
        }
        Ok(tensor)
    }

    /// Total number of values (the parameter count once buffers are excluded).
    pub fn num_values(&self, include: impl Fn(&str) -> bool) -> usize {
        self.tensors
            .iter()
            .filter(|(k, _)| include(k))
            .map(|(_, t)| t.values.len())
            .sum()
    }
}
