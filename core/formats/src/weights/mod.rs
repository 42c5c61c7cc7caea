//! Weights: reading checkpoints in either key layout and element type into a [`StateDict`]
//! of `f32` host tensors keyed in timm's layout.

pub mod official_layout;
#[cfg(feature = "pth")]
pub mod pytorch_file;
pub mod safetensors_file;
pub mod state_dict;

use std::path::Path;

use crate::error::{Error, Result};
use state_dict::StateDict;

/// Reads a checkpoint from memory: safetensors (timm or SDK file) or a `torch.save` file
/// (official or timm layout). Keys come back in timm's layout.
pub fn read_bytes(bytes: &[u8]) -> Result<StateDict> {
    let state = if safetensors_file::looks_like_safetensors(bytes, bytes.len() as u64) {
        safetensors_file::read(bytes)?
    } else if looks_like_pytorch(bytes) {
        read_pytorch_bytes(bytes)?
    } else {
        return Err(Error::InvalidModelFile(
            "neither a safetensors file nor a PyTorch checkpoint".into(),
        ));
    };
    Ok(to_timm_layout(state))
}

/// Reads a checkpoint from a file (see [`read_bytes`]).
pub fn read_path(path: &Path) -> Result<StateDict> {
    let io = |source| Error::Io { path: path.to_owned(), source };
    let mut head = [0u8; 9];
    let mut file = std::fs::File::open(path).map_err(io)?;
    let read = std::io::Read::read(&mut file, &mut head).map_err(io)?;
    let file_len = file.metadata().map_err(io)?.len();
    let safetensors = safetensors_file::looks_like_safetensors(&head[..read], file_len);
    if !safetensors && looks_like_pytorch(&head[..read]) {
        return Ok(to_timm_layout(read_pytorch_path(path)?));
    }
    read_bytes(&std::fs::read(path).map_err(io)?)
}

/// Whether `bytes` start like a `torch.save` file: a zip archive (PyTorch >= 1.6) or a
/// pickle stream (older releases: the PROTO opcode 0x80, then a protocol number 2-5).
pub fn looks_like_pytorch(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04") || matches!(bytes, [0x80, 2..=5, ..])
}

#[cfg(feature = "pth")]
fn read_pytorch_bytes(bytes: &[u8]) -> Result<StateDict> {
    pytorch_file::read_bytes(bytes)
}

#[cfg(feature = "pth")]
fn read_pytorch_path(path: &Path) -> Result<StateDict> {
    pytorch_file::read_path(path)
}

#[cfg(not(feature = "pth"))]
fn read_pytorch_bytes(_bytes: &[u8]) -> Result<StateDict> {
    Err(without_pth())
}

#[cfg(not(feature = "pth"))]
fn read_pytorch_path(_path: &Path) -> Result<StateDict> {
    Err(without_pth())
}

/// What a build without the `pth` feature says of a PyTorch checkpoint.
#[cfg(not(feature = "pth"))]
fn without_pth() -> Error {
    Error::InvalidModelFile(
        "a PyTorch checkpoint, and this build reads safetensors only (built without the `pth` feature): \
         convert it with `efficientformer convert CHECKPOINT --out FILE`"
            .into(),
    )
}

fn to_timm_layout(state: StateDict) -> StateDict {
    if official_layout::is_official(state.tensors.keys()) {
        official_layout::to_timm(state)
    } else {
        state
    }
}
