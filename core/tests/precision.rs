//! `Precision::F16`: every variant against PyTorch's `f32` logits (timm, `core/reference/`) on
//! the test photo and on the seeded batch, within 1e-2 relative with the same top-1; where the
//! CPU has no half-precision arithmetic (x86, ARMv8.0) the request runs `f32` and says so.
//!
//! `EFFICIENTFORMER_EXPECT_HALF=1` or `0` (set by `core/scripts/aarch64.sh` for `-cpu max` and
//! `-cpu cortex-a53`) also checks the run-time detection against the CPU the emulator models.

mod common;

use common::{Reference, fixture, top_k};
use efficientformer::classify::{BackendChoice, Classifier, ClassifierOptions, model_file};
use efficientformer::kernels::lanes::half_arithmetic;
use efficientformer::model::placement::Placement;
use efficientformer::weights::seeded::{self, DEFAULT_SEED};
use efficientformer::weights::state_dict::WeightDtype;
use efficientformer::{Backend, EfficientFormerV2, Precision, Variant};
use safetensors::SafeTensors;

/// `max|ours - reference| / max(1, max|reference|)` over a row, the agreement of the rows'
/// top-5 (classes in common), and whether their top-1 agree.
fn compare(ours: &[f32], reference: &[f32]) -> (f32, usize, bool) {
    let scale = reference.iter().fold(1f32, |m, v| m.max(v.abs()));
    let error = common::max_abs_diff(ours, reference) / scale;
    let (a, b) = (top_k(ours, 5), top_k(reference, 5));
    (error, a.iter().filter(|class| b.contains(class)).count(), a[0] == b[0])
}

/// The precision `F16` resolves to on this CPU, checked against the emulated CPU when the
/// environment names it.
fn expected_precision() -> Precision {
    if let Ok(expected) = std::env::var("EFFICIENTFORMER_EXPECT_HALF") {
        assert_eq!(half_arithmetic(), expected == "1", "FEAT_FP16 detection (EFFICIENTFORMER_EXPECT_HALF={expected})");
    }
    if half_arithmetic() { Precision::F16 } else { Precision::F32 }
}

fn check(ours: &[f32], reference: &[f32], classes: usize, what: &str) {
    for (row, (a, b)) in ours.chunks(classes).zip(reference.chunks(classes)).enumerate() {
        let (error, top5, top1) = compare(a, b);
        println!("{what} row {row}: max relative logit error {error:.2e}, top-5 agreement {top5}/5, top-1 {}", if top1 { "same" } else { "differs" });
        assert!(error <= 1e-2, "{what} row {row}: logits {error:e} from PyTorch's");
        assert!(top1, "{what} row {row}: top-1 differs from PyTorch's");
    }
}

#[test]
fn f16_classifier_matches_pytorch_f32_on_the_photo() {
    let image = std::fs::read(fixture("classify/chelsea_235.png")).unwrap();
    let logits = std::fs::read(fixture("classify/logits.safetensors")).unwrap();
    let logits = SafeTensors::deserialize(&logits).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let options = ClassifierOptions { backend: BackendChoice::Exact(Backend::Flex), precision: Precision::F16, ..ClassifierOptions::default() };
    for variant in Variant::PUBLISHED {
        let state = seeded::state_dict(&variant.config().unwrap(), DEFAULT_SEED);
        let path = dir.path().join(format!("{variant}.safetensors"));
        std::fs::write(&path, model_file::write(&state, WeightDtype::F32, model_file::SEEDED_SOURCE, None).unwrap()).unwrap();
        let classifier = Classifier::from_path(&path, options.clone()).unwrap();
        assert_eq!(classifier.info().precision, expected_precision());
        let result = classifier.classify_encoded(&image).unwrap();
        assert_eq!(result.precision, classifier.info().precision);
        let expected: Vec<f32> =
            logits.tensor(variant.name()).unwrap().data().chunks_exact(4).map(|b| f32::from_le_bytes(b.try_into().unwrap())).collect();
        check(&result.logits, &expected, 1000, &format!("{variant} {} on chelsea_235.png", result.precision.name()));
    }
}

#[test]
fn f16_network_matches_pytorch_f32_on_the_seeded_batch() {
    let precision = Precision::F16.resolve(Backend::Flex, &Backend::Flex.device().unwrap());
    assert_eq!(precision, expected_precision());
    for variant in Variant::PUBLISHED {
        let reference = Reference::load(variant);
        let config = variant.config().unwrap();
        let placement = Placement { device: Backend::Flex.device().unwrap(), precision };
        let model = EfficientFormerV2::load(seeded::state_dict(&config, DEFAULT_SEED), placement).unwrap();
        assert_eq!(model.precision(), precision);
        let logits = common::values(model.forward(common::seeded_images(Backend::Flex, reference.batch())).unwrap());
        check(&logits, &reference.logits, config.num_classes, &format!("{variant} {} on the seeded batch", precision.name()));
    }
}
