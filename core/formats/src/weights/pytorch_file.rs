//! Reads PyTorch checkpoints (`torch.save` zip or legacy files): the official snap-research
//! `eformer_*.pth` (`{'model': state_dict}`), or a bare state dict in either key layout.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use pytorch_reader::{DType, PytorchError, PytorchReader};

use super::state_dict::{HostTensor, StateDict, WeightDtype, is_ignored_buffer};
use crate::error::{Error, Result};

/// Keys under which training scripts nest the state dict; tried in order, then the root.
const NESTING_KEYS: [&str; 2] = ["model", "state_dict"];

/// Reads the checkpoint at `path`.
pub fn read_path(path: &Path) -> Result<StateDict> {
    let reader = open(path)?;
    let mut tensors = BTreeMap::new();
    let mut narrowest = WeightDtype::F32;
    for (key, tensor) in reader.into_tensors() {
        if is_ignored_buffer(&key) {
            continue;
        }
        let dtype = match tensor.dtype() {
            DType::F32 => WeightDtype::F32,
            DType::F16 => WeightDtype::F16,
            DType::BF16 => WeightDtype::BF16,
            other => return Err(Error::UnsupportedDtype { key, dtype: format!("{other:?}") }),
        };
        if dtype != WeightDtype::F32 {
            narrowest = dtype;
        }
        let bytes = tensor
            .read()
            .map_err(|err| Error::InvalidModelFile(format!("PyTorch checkpoint: {err}")))?;
        tensors.insert(key, HostTensor::new(tensor.shape().to_vec(), dtype.decode(&bytes)));
    }
    Ok(StateDict { tensors, dtype: narrowest, metadata: Default::default() })
}

/// Reads a checkpoint held in memory (an app asset). The zip container is read through a
/// private temporary file, since its tensors are addressed by file offset.
pub fn read_bytes(bytes: &[u8]) -> Result<StateDict> {
    let io = |source| Error::Io { path: std::env::temp_dir(), source };
    let mut file = tempfile::NamedTempFile::new().map_err(io)?;
    file.write_all(bytes).map_err(io)?;
    read_path(file.path())
}

fn open(path: &Path) -> Result<PytorchReader> {
    for key in NESTING_KEYS {
        match PytorchReader::with_top_level_key(path, key) {
            Ok(reader) if !reader.is_empty() => return Ok(reader),
            Ok(_) | Err(PytorchError::KeyNotFound(_)) => {}
            Err(err) => return Err(reader_error(path, err)),
        }
    }
    PytorchReader::new(path).map_err(|err| reader_error(path, err))
}

fn reader_error(path: &Path, err: PytorchError) -> Error {
    match err {
        PytorchError::Io(source) if source.kind() == std::io::ErrorKind::NotFound => {
            Error::Io { path: path.to_owned(), source }
        }
        other => Error::InvalidModelFile(format!("PyTorch checkpoint: {other}")),
    }
}
