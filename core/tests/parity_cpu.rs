//! Every variant on both CPU backends against timm (`core/reference/generate.py`): logits
//! within 1e-4 relative, identical top-5, and each stage's activations within the same bound.

mod common;

use common::{Reference, assert_close, assert_same_top5, seeded_images, values};
use efficientformer::weights::seeded::{self, DEFAULT_SEED};
use efficientformer::{Backend, EfficientFormerV2, Variant};

const TOLERANCE: f32 = 1e-4;

fn check(variant: Variant, backend: Backend) {
    let reference = Reference::load(variant);
    let config = variant.config().unwrap();
    let device = backend.device().unwrap();
    let model = EfficientFormerV2::load(seeded::state_dict(&config, DEFAULT_SEED), &device).unwrap();
    let output = model.forward_stages(seeded_images(backend, reference.batch())).unwrap();
    let what = format!("{variant} on {backend}");
    let logits = values(output.logits);
    assert_close(&format!("{what} logits"), &logits, &reference.logits, TOLERANCE);
    assert_same_top5(&what, &logits, &reference.logits, config.num_classes);
    for (stage, tensor) in output.stages.into_iter().enumerate() {
        let stride = reference.stage_stride(stage);
        let expected = &reference.stage_samples[stage];
        let sampled: Vec<f32> = values(tensor).into_iter().step_by(stride).take(expected.len()).collect();
        assert_close(&format!("{what} stage {stage}"), &sampled, expected, TOLERANCE);
    }
}

#[test]
fn s0_ndarray() {
    check(Variant::S0, Backend::NdArray);
}

#[test]
fn s1_ndarray() {
    check(Variant::S1, Backend::NdArray);
}

#[test]
fn s2_ndarray() {
    check(Variant::S2, Backend::NdArray);
}

#[test]
fn l_ndarray() {
    check(Variant::L, Backend::NdArray);
}

#[test]
fn s0_flex() {
    check(Variant::S0, Backend::Flex);
}

#[test]
fn s1_flex() {
    check(Variant::S1, Backend::Flex);
}

#[test]
fn s2_flex() {
    check(Variant::S2, Backend::Flex);
}

#[test]
fn l_flex() {
    check(Variant::L, Backend::Flex);
}
