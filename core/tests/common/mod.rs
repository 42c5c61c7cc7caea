//! Shared helpers of the integration tests: the committed PyTorch reference outputs and the
//! tolerance the issue sets for them.

#![allow(dead_code)] // each test binary uses its own subset

use std::collections::HashMap;
use std::path::PathBuf;

use efficientformer::burn::tensor::{Tensor, TensorData};
use efficientformer::{Backend, Variant};
use safetensors::SafeTensors;

/// `core/tests/fixtures/<rel>`, or under `EFFICIENTFORMER_FIXTURES` when a prebuilt test
/// binary runs from another checkout (`core/scripts/gpu-check.sh`).
pub fn fixture(rel: &str) -> PathBuf {
    let root = std::env::var_os("EFFICIENTFORMER_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures"));
    root.join(rel)
}

/// One variant's reference: logits, sampled stage activations and metadata from timm.
pub struct Reference {
    pub logits: Vec<f32>,
    pub stage_samples: Vec<Vec<f32>>,
    pub metadata: HashMap<String, String>,
}

impl Reference {
    pub fn load(variant: Variant) -> Reference {
        let bytes = std::fs::read(fixture(&format!("reference/{}.safetensors", variant.name()))).unwrap();
        let file = SafeTensors::deserialize(&bytes).unwrap();
        let read = |name: &str| -> Vec<f32> {
            let view = file.tensor(name).unwrap();
            view.data().chunks_exact(4).map(|b| f32::from_le_bytes(b.try_into().unwrap())).collect()
        };
        let (_, header) = SafeTensors::read_metadata(&bytes).unwrap();
        let metadata = serde_json::from_str(&header.metadata().as_ref().unwrap()["reference"]).unwrap();
        Reference {
            logits: read("logits"),
            stage_samples: (0..4).map(|i| read(&format!("stage{i}"))).collect(),
            metadata,
        }
    }

    pub fn meta(&self, key: &str) -> &str {
        &self.metadata[key]
    }

    pub fn batch(&self) -> usize {
        self.meta("batch").parse().unwrap()
    }

    pub fn stage_stride(&self, stage: usize) -> usize {
        self.meta(&format!("stage{stage}_stride")).parse().unwrap()
    }
}

/// `max|a - b|`.
pub fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len(), "length");
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

/// Asserts `max|ours - reference| <= rel * max(1, max|reference|)`.
pub fn assert_close(what: &str, ours: &[f32], reference: &[f32], rel: f32) {
    let scale = reference.iter().fold(1.0f32, |m, v| m.max(v.abs()));
    let diff = max_abs_diff(ours, reference);
    assert!(
        diff <= rel * scale,
        "{what}: max |diff| {diff:e} exceeds {rel:e} * {scale} (= {:e})",
        rel * scale
    );
}

/// Indices of the `k` largest values, best first.
pub fn top_k(values: &[f32], k: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[b].total_cmp(&values[a]));
    order.truncate(k);
    order
}

/// Asserts the top-5 of every row agree.
pub fn assert_same_top5(what: &str, ours: &[f32], reference: &[f32], classes: usize) {
    for (row, (a, b)) in ours.chunks(classes).zip(reference.chunks(classes)).enumerate() {
        assert_eq!(top_k(a, 5), top_k(b, 5), "{what}: top-5 of row {row}");
    }
}

/// The GPU backend the GPU tests run on: `EFFICIENTFORMER_GPU_BACKEND` (`wgpu` or `wgpu-gl`,
/// the default), on the adapter `EFFICIENTFORMER_EXPECT_ADAPTER` names (a part of its
/// description, e.g. `Vulkan`) when set, so that a silent fallback fails.
pub fn gpu_backend() -> Backend {
    let name = std::env::var("EFFICIENTFORMER_GPU_BACKEND").unwrap_or_else(|_| "wgpu-gl".into());
    let backend = Backend::from_name(&name).filter(|b| b.is_gpu()).expect("EFFICIENTFORMER_GPU_BACKEND: wgpu or wgpu-gl");
    if let Ok(expected) = std::env::var("EFFICIENTFORMER_EXPECT_ADAPTER") {
        let adapter = backend.open().unwrap().adapter;
        assert!(adapter.contains(&expected), "{backend} runs on {adapter}, not on {expected} (EFFICIENTFORMER_EXPECT_ADAPTER)");
    }
    backend
}

/// The seeded input batch on `backend`'s device.
pub fn seeded_images(backend: Backend, batch: usize) -> Tensor<4> {
    let values = efficientformer::weights::seeded::input(batch, efficientformer::weights::seeded::DEFAULT_SEED);
    Tensor::from_data(TensorData::new(values, [batch, 3, 224, 224]), &backend.device().unwrap())
}

/// A tensor's values as `f32`.
pub fn values<const D: usize>(tensor: Tensor<D>) -> Vec<f32> {
    tensor.into_data().try_to_vec::<f32>().unwrap()
}
