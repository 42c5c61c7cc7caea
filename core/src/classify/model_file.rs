//! The SDK's own model file: timm-layout safetensors (so timm and safetensors tooling read it
//! too) in f32 or f16, in `state_dict()` order, with `__metadata__` saying what it holds:
//!
//! | key | value |
//! |---|---|
//! | `format` | `efficientformer-sdk` |
//! | `format_version` | `1` |
//! | `variant` | `s0`, `s1`, `s2`, `l` or `custom` |
//! | `num_classes` | classifier outputs |
//! | `dtype` | `f32` or `f16` |
//! | `source` | file name it was converted from, or `seeded` for the untrained default |
//! | `labels` | optional: one class name per line, in class order |

use std::collections::HashMap;

use safetensors::tensor::TensorView;
use safetensors::Dtype;

use crate::accounting;
use crate::config::{Config, Variant};
use crate::error::{Error, Result};
use crate::weights::spec::{self, expected_tensors};
use crate::weights::state_dict::{StateDict, WeightDtype};

/// `format` metadata value of SDK files.
pub const FORMAT: &str = "efficientformer-sdk";
/// `format_version` metadata value written by this release.
pub const FORMAT_VERSION: &str = "1";
/// Metadata key of the class names (one per line).
pub const LABELS_KEY: &str = "labels";
/// `source` of the seeded, untrained weights.
pub const SEEDED_SOURCE: &str = "seeded";

/// Serialises `state` (any readable checkpoint) as an SDK model file, with the class names
/// when given (one per class).
pub fn write(state: &StateDict, dtype: WeightDtype, source: &str, labels: Option<&[String]>) -> Result<Vec<u8>> {
    let config = spec::infer_config(state)?;
    if let Some(names) = labels {
        if names.len() != config.num_classes || names.iter().any(|n| n.contains(['\n', '\r'])) {
            return Err(Error::InvalidInput(format!(
                "labels must be {} single-line names, got {}",
                config.num_classes,
                names.len()
            )));
        }
    }
    spec::check_tensors(state, &config)?;
    let (safetensors_dtype, encode): (Dtype, fn(&[f32]) -> Vec<u8>) = match dtype {
        WeightDtype::F32 => (Dtype::F32, |v| v.iter().flat_map(|x| x.to_le_bytes()).collect()),
        WeightDtype::F16 => {
            (Dtype::F16, |v| v.iter().flat_map(|&x| half::f16::from_f32(x).to_le_bytes()).collect())
        }
        WeightDtype::BF16 => {
            (Dtype::BF16, |v| v.iter().flat_map(|&x| half::bf16::from_f32(x).to_le_bytes()).collect())
        }
    };
    let encoded: Vec<(String, Vec<usize>, Vec<u8>)> = expected_tensors(&config)
        .into_iter()
        .map(|t| {
            let bytes = encode(&state.tensors[&t.key].values);
            (t.key, t.shape, bytes)
        })
        .collect();
    let views = encoded.iter().map(|(key, shape, bytes)| {
        let view = TensorView::new(safetensors_dtype, shape.clone(), bytes).expect("shape matches bytes");
        (key.clone(), view)
    });
    let mut metadata = HashMap::from([
        ("format".to_owned(), FORMAT.to_owned()),
        ("format_version".to_owned(), FORMAT_VERSION.to_owned()),
        ("variant".to_owned(), config.variant().name().to_owned()),
        ("num_classes".to_owned(), config.num_classes.to_string()),
        ("dtype".to_owned(), dtype.name().to_owned()),
        ("source".to_owned(), source.to_owned()),
    ]);
    if let Some(names) = labels {
        metadata.insert(LABELS_KEY.to_owned(), names.join("\n"));
    }
    safetensors::serialize(views, Some(metadata))
        .map_err(|e| Error::InvalidModelFile(format!("cannot serialise: {e}")))
}

/// What a model file holds, as the `info` command prints it.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelFileInfo {
    /// Architecture, inferred from the tensors.
    pub config: Config,
    /// Published variant or custom.
    pub variant: Variant,
    /// Narrowest float type stored.
    pub dtype: WeightDtype,
    /// Number of weight tensors (buffers the network ignores not counted).
    pub tensors: usize,
    /// True parameter count.
    pub parameters: usize,
    /// `toolbox.py` MACs at 224x224.
    pub toolbox_macs: u64,
    /// safetensors `__metadata__` (SDK files carry `format`, `source`, …; empty for `.pth`).
    pub metadata: HashMap<String, String>,
}

/// Reads and checks a model file without building the network.
pub fn describe(bytes: &[u8]) -> Result<ModelFileInfo> {
    let state = crate::weights::read_bytes(bytes)?;
    let config = spec::infer_config(&state)?;
    spec::check_tensors(&state, &config)?;
    Ok(ModelFileInfo {
        variant: config.variant(),
        dtype: state.dtype,
        tensors: state.tensors.len(),
        parameters: accounting::parameter_count(&config),
        toolbox_macs: accounting::toolbox_macs(&config),
        config,
        metadata: state.metadata,
    })
}
