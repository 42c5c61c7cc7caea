//! The facade end to end: a model file on disk, an encoded image in, the same logits and top-5
//! as timm on the same image with the same weights, for every variant.

mod common;

use common::{assert_close, assert_same_top5, fixture};
use efficientformer::classify::{BackendChoice, Classifier, ClassifierOptions, Labels, model_file};
use efficientformer::weights::seeded::{self, DEFAULT_SEED};
use efficientformer::weights::state_dict::WeightDtype;
use efficientformer::{Backend, Variant};
use safetensors::SafeTensors;

fn cpu() -> ClassifierOptions {
    ClassifierOptions { backend: BackendChoice::Exact(Backend::Flex), ..ClassifierOptions::default() }
}

fn timm_logits(variant: Variant) -> Vec<f32> {
    let bytes = std::fs::read(fixture("classify/logits.safetensors")).unwrap();
    let file = SafeTensors::deserialize(&bytes).unwrap();
    let view = file.tensor(variant.name()).unwrap();
    view.data().chunks_exact(4).map(|b| f32::from_le_bytes(b.try_into().unwrap())).collect()
}

#[test]
fn model_file_and_image_give_timm_logits_for_every_variant() {
    let image = std::fs::read(fixture("classify/chelsea_235.png")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    for variant in Variant::PUBLISHED {
        let state = seeded::state_dict(&variant.config().unwrap(), DEFAULT_SEED);
        let path = dir.path().join(format!("{variant}.safetensors"));
        std::fs::write(&path, model_file::write(&state, WeightDtype::F32, model_file::SEEDED_SOURCE, None).unwrap()).unwrap();
        let classifier = Classifier::from_path(&path, cpu()).unwrap();
        assert_eq!(classifier.info().variant, variant);
        assert!(classifier.info().untrained);
        let result = classifier.classify_encoded(&image).unwrap();
        let expected = timm_logits(variant);
        assert_close(&format!("{variant} on chelsea_235.png"), &result.logits, &expected, 1e-4);
        assert_same_top5(&variant.to_string(), &result.logits, &expected, 1000);
        let top: Vec<usize> = result.top.iter().map(|p| p.class_index as usize).collect();
        assert_eq!(top, common::top_k(&expected, 5));
    }
}

#[test]
fn embedded_default_is_the_seeded_s0() {
    let classifier = Classifier::embedded_default(cpu()).unwrap();
    let info = classifier.info();
    assert_eq!((info.variant, info.parameters, info.untrained), (Variant::S0, 3_600_256, true));
    let image = std::fs::read(fixture("classify/chelsea_235.png")).unwrap();
    let result = classifier.classify_encoded(&image).unwrap();
    assert_close("embedded default", &result.logits, &timm_logits(Variant::S0), 1e-4);
    let total: f32 = result.probabilities.iter().sum();
    assert!((total - 1.0).abs() < 1e-4, "probabilities sum to {total}");
    assert_eq!(result.top.len(), 5);
    assert_eq!(result.top[0].label, Labels::new(None, 1000).unwrap().get(result.top[0].class_index as usize));
}

#[test]
fn official_checkpoint_converts_to_f32_and_f16() {
    let dir = tempfile::tempdir().unwrap();
    let official = efficientformer::weights::read_path(&fixture("tiny/official.pth")).unwrap();
    let image = std::fs::read(fixture("classify/chelsea_235.png")).unwrap();
    let logits = |dtype| {
        let bytes = model_file::write(&official, dtype, "official.pth", None).unwrap();
        let info = model_file::describe(&bytes).unwrap();
        assert_eq!(info.metadata["format"], model_file::FORMAT);
        assert_eq!(info.metadata["dtype"], dtype.name());
        assert_eq!(info.dtype, dtype);
        let path = dir.path().join(format!("tiny_{dtype}.safetensors"));
        std::fs::write(&path, &bytes).unwrap();
        let (header, _) = SafeTensors::read_metadata(&bytes).unwrap();
        let tensor_bytes = bytes.len() - 8 - header;
        (tensor_bytes, Classifier::from_path(&path, cpu()).unwrap().classify_encoded(&image).unwrap().logits)
    };
    let (f32_size, f32_logits) = logits(WeightDtype::F32);
    let (f16_size, f16_logits) = logits(WeightDtype::F16);
    assert_eq!(f16_size * 2, f32_size, "f16 halves the weights");
    assert_close("f16 against f32", &f16_logits, &f32_logits, 1e-2);
    let timm = efficientformer::weights::read_path(&fixture("tiny/timm_f32.safetensors")).unwrap();
    let from_timm = model_file::write(&timm, WeightDtype::F32, "official.pth", None).unwrap();
    let from_official = model_file::write(&official, WeightDtype::F32, "official.pth", None).unwrap();
    assert!(
        efficientformer::weights::read_bytes(&from_timm).unwrap() == efficientformer::weights::read_bytes(&from_official).unwrap(),
        "both layouts convert to the same weights"
    );
    assert_eq!(model_file::describe(&from_timm).unwrap(), model_file::describe(&from_official).unwrap());
}
