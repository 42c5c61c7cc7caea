//! Reads safetensors files: timm's published `model.safetensors` and the SDK's converted
//! model files (timm layout plus `__metadata__`).

use std::collections::{BTreeMap, HashMap};

use safetensors::{Dtype, SafeTensors};

use super::state_dict::{HostTensor, StateDict, WeightDtype, is_ignored_buffer};
use crate::error::{Error, Result};

/// Whether `bytes` start like a safetensors file (a little-endian header length followed by a
/// JSON object).
pub fn looks_like_safetensors(bytes: &[u8]) -> bool {
    bytes.len() > 8 && bytes[8] == b'{'
}

/// The `__metadata__` string map of a safetensors file (empty when it has none).
pub fn read_metadata(bytes: &[u8]) -> Result<HashMap<String, String>> {
    let (_, metadata) = SafeTensors::read_metadata(bytes).map_err(invalid)?;
    Ok(metadata.metadata().clone().unwrap_or_default())
}

/// Every float tensor of the file, widened to `f32`; integer buffers the network ignores
/// (`num_batches_tracked`, `attention_bias_idxs`) are dropped.
pub fn read(bytes: &[u8]) -> Result<StateDict> {
    let file = SafeTensors::deserialize(bytes).map_err(invalid)?;
    let mut tensors = BTreeMap::new();
    let mut narrowest = WeightDtype::F32;
    for (key, view) in file.iter() {
        if is_ignored_buffer(key) {
            continue;
        }
        let dtype = match view.dtype() {
            Dtype::F32 => WeightDtype::F32,
            Dtype::F16 => WeightDtype::F16,
            Dtype::BF16 => WeightDtype::BF16,
            other => {
                return Err(Error::UnsupportedDtype { key: key.to_owned(), dtype: format!("{other:?}") });
            }
        };
        if dtype != WeightDtype::F32 {
            narrowest = dtype;
        }
        let values = dtype.decode(view.data());
        tensors.insert(key.to_owned(), HostTensor::new(view.shape().to_vec(), values));
    }
    Ok(StateDict { tensors, dtype: narrowest, metadata: read_metadata(bytes)? })
}

fn invalid(err: safetensors::SafeTensorError) -> Error {
    Error::InvalidModelFile(format!("safetensors: {err}"))
}
