//! The wgpu path against timm: every variant within 1e-3 relative, identical top-5. CI runs S0
//! on wgpu's OpenGL ES backend over Mesa llvmpipe (no GPU there; the other variants take
//! minutes on it, so they are `#[ignore]`d); `EFFICIENTFORMER_GPU_BACKEND=wgpu` runs on the
//! platform's native API (Vulkan/Metal) instead, and `core/scripts/gpu-check.sh` runs all four
//! there (`--include-ignored`).

mod common;

use common::{Reference, assert_close, assert_same_top5, seeded_images, values};
use efficientformer::weights::seeded::{self, DEFAULT_SEED};
use efficientformer::{Backend, EfficientFormerV2, Variant};

const TOLERANCE: f32 = 1e-3;

fn gpu_backend() -> Backend {
    let name = std::env::var("EFFICIENTFORMER_GPU_BACKEND").unwrap_or_else(|_| "wgpu-gl".into());
    Backend::from_name(&name).filter(|b| b.is_gpu()).expect("EFFICIENTFORMER_GPU_BACKEND: wgpu or wgpu-gl")
}

fn check(variant: Variant) {
    let backend = gpu_backend();
    let reference = Reference::load(variant);
    let config = variant.config().unwrap();
    let device = backend.device().unwrap();
    let model = EfficientFormerV2::load(seeded::state_dict(&config, DEFAULT_SEED), &device).unwrap();
    let logits = values(model.forward(seeded_images(backend, reference.batch())).unwrap());
    let what = format!("{variant} on {backend}");
    assert_close(&what, &logits, &reference.logits, TOLERANCE);
    assert_same_top5(&what, &logits, &reference.logits, config.num_classes);
}

#[test]
fn s0_on_the_gpu_matches_pytorch() {
    check(Variant::S0);
}

#[test]
#[ignore = "minutes on llvmpipe; run on a GPU by core/scripts/gpu-check.sh"]
fn s1_on_the_gpu_matches_pytorch() {
    check(Variant::S1);
}

#[test]
#[ignore = "minutes on llvmpipe; run on a GPU by core/scripts/gpu-check.sh"]
fn s2_on_the_gpu_matches_pytorch() {
    check(Variant::S2);
}

#[test]
#[ignore = "minutes on llvmpipe; run on a GPU by core/scripts/gpu-check.sh"]
fn l_on_the_gpu_matches_pytorch() {
    check(Variant::L);
}
