//! What a classifier is asked for beyond the ranking: labels (given, or carried by the SDK
//! file), a score threshold, the embedding timm's `forward_head(x, pre_logits=True)` returns,
//! and cancellation between stages.

mod common;

use std::cell::Cell;

use efficientformer::burn::tensor::{Tensor, TensorData};
use common::{assert_close, fixture};
use efficientformer::classify::{BackendChoice, CancelToken, Classifier, ClassifierOptions, ImageInput, model_file};
use efficientformer::model::network::EfficientFormerV2;
use efficientformer::weights::seeded::{self, DEFAULT_SEED};
use efficientformer::weights::state_dict::WeightDtype;
use efficientformer::{Backend, Error, Variant};
use safetensors::SafeTensors;

fn options() -> ClassifierOptions {
    ClassifierOptions { backend: BackendChoice::Exact(Backend::Flex), ..ClassifierOptions::default() }
}

fn timm(name: &str) -> Vec<f32> {
    let bytes = std::fs::read(fixture("classify/logits.safetensors")).unwrap();
    let file = SafeTensors::deserialize(&bytes).unwrap();
    file.tensor(name).unwrap().data().chunks_exact(4).map(|b| f32::from_le_bytes(b.try_into().unwrap())).collect()
}

fn image() -> Vec<u8> {
    std::fs::read(fixture("classify/chelsea_235.png")).unwrap()
}

#[test]
fn embeddings_match_timm_for_every_variant() {
    let image = image();
    for variant in Variant::PUBLISHED {
        let state = seeded::state_dict(&variant.config().unwrap(), DEFAULT_SEED);
        let classifier = Classifier::from_state(state, true, ClassifierOptions { embedding: true, ..options() }).unwrap();
        let result = classifier.classify_encoded(&image).unwrap();
        let embedding = result.embedding.expect("asked for");
        assert_eq!(embedding.len(), variant.config().unwrap().widths[3]);
        assert_close(&format!("{variant} embedding"), &embedding, &timm(&format!("{}_embedding", variant.name())), 1e-4);
        assert_close(&format!("{variant} logits"), &result.logits, &timm(variant.name()), 1e-4);
    }
    let without = Classifier::embedded_default(options()).unwrap().classify_encoded(&image).unwrap();
    assert_eq!(without.embedding, None);
}

#[test]
fn labels_come_from_the_options_or_the_model_file() {
    let names: Vec<String> = (0..1000).map(|i| format!("thing {i}")).collect();
    let given = Classifier::embedded_default(ClassifierOptions { labels: Some(names.clone()), ..options() }).unwrap();
    let result = given.classify_encoded(&image()).unwrap();
    assert_eq!(result.top[0].label, format!("thing {}", result.top[0].class_index));

    let state = seeded::state_dict(&Variant::S0.config().unwrap(), DEFAULT_SEED);
    let file = model_file::write(&state, WeightDtype::F16, "seeded", Some(&names)).unwrap();
    let carried = Classifier::from_bytes(&file, options()).unwrap().classify_encoded(&image()).unwrap();
    assert_eq!(carried.top[0].label, format!("thing {}", carried.top[0].class_index));

    let short = Classifier::embedded_default(ClassifierOptions { labels: Some(names[..999].to_vec()), ..options() });
    assert!(matches!(short, Err(Error::InvalidInput(_))));
    assert!(model_file::write(&state, WeightDtype::F16, "seeded", Some(&names[..3])).is_err());

    // A file whose `labels` do not name every class (written by another tool) is refused as a
    // bad model file.
    let length = u64::from_le_bytes(file[..8].try_into().unwrap()) as usize;
    let mut header: serde_json::Value = serde_json::from_slice(&file[8..8 + length]).unwrap();
    header["__metadata__"]["labels"] = "one\ntwo".into();
    let mut text = serde_json::to_vec(&header).unwrap();
    text.resize(text.len().next_multiple_of(8), b' ');
    let patched = [(text.len() as u64).to_le_bytes().as_slice(), &text, &file[8 + length..]].concat();
    assert!(matches!(Classifier::from_bytes(&patched, options()), Err(Error::InvalidModelFile(_))));
}

#[test]
fn the_threshold_drops_unlikely_classes() {
    let all = Classifier::embedded_default(ClassifierOptions { top_k: 1000, ..options() }).unwrap();
    let every = all.classify_encoded(&image()).unwrap();
    assert_eq!(every.top.len(), 1000);
    let threshold = every.top[2].score;
    let some = Classifier::embedded_default(ClassifierOptions { top_k: 1000, score_threshold: threshold, ..options() }).unwrap();
    let kept = some.classify_encoded(&image()).unwrap();
    assert_eq!(kept.top, every.top[..every.top.iter().filter(|p| p.score >= threshold).count()]);
    assert!(kept.top.len() >= 3 && kept.top.iter().all(|p| p.score >= threshold));
    for bad in [-0.1, 1.5, f32::NAN] {
        let refused = Classifier::embedded_default(ClassifierOptions { score_threshold: bad, ..options() });
        assert!(matches!(refused, Err(Error::InvalidInput(_))), "{bad}");
    }
}

#[test]
fn a_cancelled_call_stops_at_a_stage_boundary() {
    let classifier = Classifier::embedded_default(options()).unwrap();
    let token = CancelToken::new();
    token.cancel();
    let result = classifier.classify_cancellable(ImageInput::Encoded(&image()), &token);
    assert!(matches!(result, Err(Error::Cancelled)));

    let state = seeded::state_dict(&Variant::S0.config().unwrap(), DEFAULT_SEED);
    let device = Backend::Flex.device().unwrap();
    let model = EfficientFormerV2::load(state, &device).unwrap();
    let images = || Tensor::from_data(TensorData::new(seeded::input(1, DEFAULT_SEED), [1, 3, 224, 224]), &device);
    let checks = Cell::new(0);
    let cancel_at_third = || {
        checks.set(checks.get() + 1);
        checks.get() == 3
    };
    assert!(matches!(model.forward_until(images(), false, &cancel_at_third), Err(Error::Cancelled)));
    assert_eq!(checks.get(), 3, "two stages ran, the third was not started");
    checks.set(0);
    assert!(model.forward_until(images(), false, &|| false).is_ok());
}
