//! The wgpu path against timm: every variant within 1e-3 relative with identical top-5 in
//! `f32`, and within 1e-2 with the same top-1 in `f16` (`Precision::F16`: `f16` maps and weights,
//! `f32` arithmetic) where the adapter stores `f16`. CI runs S0 on wgpu's OpenGL ES backend
//! and on Vulkan, both over Mesa's llvmpipe (no GPU there; the other variants take minutes on
//! it, so they are `#[ignore]`d); `EFFICIENTFORMER_GPU_BACKEND=wgpu` runs on the platform's
//! native API (Vulkan/Metal) instead of OpenGL ES, and `core/scripts/gpu-check.sh` runs all four
//! there (`--include-ignored`).
//!
//! `EFFICIENTFORMER_EXPECT_ADAPTER` (a part of the adapter's description, e.g. `Vulkan`) and
//! `EFFICIENTFORMER_EXPECT_GPU_F16` (`1` or `0`) make a silent fallback fail: CI sets them for
//! lavapipe, whose Vulkan has `f16` storage where OpenGL ES has none.

mod common;

use common::{Reference, assert_close, assert_same_top5, gpu_backend, max_abs_diff, seeded_images, top_k, values};
use efficientformer::model::placement::Placement;
use efficientformer::weights::seeded::{self, DEFAULT_SEED};
use efficientformer::{EfficientFormerV2, Precision, Variant};

const TOLERANCE: f32 = 1e-3;
const F16_TOLERANCE: f32 = 1e-2;

fn check(variant: Variant) {
    check_in(variant, Precision::F32);
}

/// `variant` in what `precision` resolves to on the GPU backend, against timm's `f32` logits.
fn check_in(variant: Variant, precision: Precision) {
    let backend = gpu_backend();
    let device = backend.device().unwrap();
    let precision = precision.resolve(backend, &device);
    if let Ok(expected) = std::env::var("EFFICIENTFORMER_EXPECT_GPU_F16") {
        assert_eq!(device.supports_dtype(efficientformer::burn::tensor::DType::F16), expected == "1", "f16 storage (EFFICIENTFORMER_EXPECT_GPU_F16)");
    }
    let reference = Reference::load(variant);
    let config = variant.config().unwrap();
    let model = EfficientFormerV2::load(seeded::state_dict(&config, DEFAULT_SEED), Placement { device, precision }).unwrap();
    assert_eq!(model.precision(), precision);
    let logits = values(model.forward(seeded_images(backend, reference.batch())).unwrap());
    let what = format!("{variant} on {backend} in {}", precision.name());
    match precision {
        Precision::F32 => {
            assert_close(&what, &logits, &reference.logits, TOLERANCE);
            assert_same_top5(&what, &logits, &reference.logits, config.num_classes);
        }
        Precision::F16 => {
            assert_close(&what, &logits, &reference.logits, F16_TOLERANCE);
            for (row, (ours, theirs)) in logits.chunks(config.num_classes).zip(reference.logits.chunks(config.num_classes)).enumerate() {
                let error = max_abs_diff(ours, theirs) / theirs.iter().fold(1f32, |m, v| m.max(v.abs()));
                let (ours, theirs) = (top_k(ours, 5), top_k(theirs, 5));
                let agree = ours.iter().filter(|class| theirs.contains(class)).count();
                println!("{what} row {row}: max relative logit error {error:.2e}, top-5 agreement {agree}/5");
                assert_eq!(ours[0], theirs[0], "{what}: top-1 of row {row}");
            }
        }
    }
}

#[test]
fn s0_in_f16_on_the_gpu_matches_pytorch() {
    check_in(Variant::S0, Precision::F16);
}

#[test]
#[ignore = "minutes on llvmpipe; run on a GPU by core/scripts/gpu-check.sh"]
fn s1_s2_l_in_f16_on_the_gpu_match_pytorch() {
    for variant in [Variant::S1, Variant::S2, Variant::L] {
        check_in(variant, Precision::F16);
    }
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
