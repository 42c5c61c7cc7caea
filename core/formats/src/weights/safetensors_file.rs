//! Reads safetensors files: timm's published `model.safetensors` and the SDK's converted
//! model files (timm layout plus `__metadata__`).

use std::collections::{BTreeMap, HashMap};

use safetensors::{Dtype, SafeTensors};

use super::state_dict::{HostTensor, StateDict, WeightDtype, is_ignored_buffer};
use crate::error::{Error, Result};

/// Whether a file of `file_len` bytes starting with `head` (at least 9 bytes) is laid out like a
/// safetensors file: a little-endian header length that fits the file, then a JSON object.
/// Checked before the pickle sniff: a header length whose low byte is 0x80 (one file in 256)
/// otherwise reads as a pickle's protocol opcode.
pub fn looks_like_safetensors(head: &[u8], file_len: u64) -> bool {
    let Some(length) = head.get(..8) else { return false };
    let header_len = u64::from_le_bytes(length.try_into().expect("8 bytes"));
    head.get(8) == Some(&b'{') && header_len.checked_add(8).is_some_and(|end| end <= file_len)
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
