//! The wgpu path against timm: S0 within 1e-3 relative, identical top-5. CI runs it on wgpu's
//! OpenGL ES backend over Mesa llvmpipe (no GPU there); `EFFICIENTFORMER_GPU_BACKEND=wgpu`
//! runs it on the platform's native API (Vulkan/Metal) instead.

mod common;

use common::{Reference, assert_close, assert_same_top5, seeded_images, values};
use efficientformer::weights::seeded::{self, DEFAULT_SEED};
use efficientformer::{Backend, EfficientFormerV2, Variant};

fn gpu_backend() -> Backend {
    let name = std::env::var("EFFICIENTFORMER_GPU_BACKEND").unwrap_or_else(|_| "wgpu-gl".into());
    Backend::from_name(&name).filter(|b| b.is_gpu()).expect("EFFICIENTFORMER_GPU_BACKEND: wgpu or wgpu-gl")
}

#[test]
fn s0_on_the_gpu_matches_pytorch() {
    let backend = gpu_backend();
    let reference = Reference::load(Variant::S0);
    let config = Variant::S0.config().unwrap();
    let device = backend.device().unwrap();
    let model = EfficientFormerV2::load(seeded::state_dict(&config, DEFAULT_SEED), &device).unwrap();
    let logits = values(model.forward(seeded_images(backend, reference.batch())).unwrap());
    assert_close(&format!("S0 on {backend}"), &logits, &reference.logits, 1e-3);
    assert_same_top5(&format!("S0 on {backend}"), &logits, &reference.logits, config.num_classes);
}
