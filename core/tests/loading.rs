//! Loading real files written by PyTorch (`fixtures/tiny/`, a reduced-width network), in both
//! layouts and all three weight dtypes, and every kind of bad file.

mod common;

use std::collections::HashMap;

use common::{assert_close, fixture, seeded_images, values};
use efficientformer::weights::{self, state_dict::StateDict, state_dict::WeightDtype};
use efficientformer::{Backend, EfficientFormerV2, Error, Variant};
use safetensors::{Dtype, SafeTensors};

const BACKEND: Backend = Backend::Flex;

fn expected(name: &str) -> Vec<f32> {
    let bytes = std::fs::read(fixture("tiny/expected.safetensors")).unwrap();
    let file = SafeTensors::deserialize(&bytes).unwrap();
    let data = file.tensor(name).unwrap().data().to_vec();
    data.chunks_exact(4).map(|b| f32::from_le_bytes(b.try_into().unwrap())).collect()
}

fn logits(state: StateDict) -> Vec<f32> {
    let model = EfficientFormerV2::load(state, &BACKEND.device().unwrap()).unwrap();
    assert_eq!(model.config().variant(), Variant::Custom);
    assert_eq!(model.config().num_classes, 10);
    values(model.forward(seeded_images(BACKEND, 1)).unwrap())
}

fn read(name: &str) -> StateDict {
    weights::read_path(&fixture(&format!("tiny/{name}"))).unwrap()
}

#[test]
fn timm_safetensors_in_each_dtype_match_pytorch() {
    for (file, dtype, reference) in [
        ("timm_f32.safetensors", WeightDtype::F32, "logits_f32"),
        ("timm_f16.safetensors", WeightDtype::F16, "logits_f16"),
        ("timm_bf16.safetensors", WeightDtype::BF16, "logits_bf16"),
    ] {
        let state = read(file);
        assert_eq!(state.dtype, dtype, "{file}");
        assert_close(file, &logits(state), &expected(reference), 1e-4);
    }
}

#[test]
fn official_pth_loads_identically_to_timm_safetensors() {
    let official = read("official.pth");
    let timm = read("timm_f32.safetensors");
    assert_eq!(official, timm, "official layout maps onto timm's bit for bit");
    assert_close("official.pth", &logits(official), &expected("logits_f32"), 1e-4);
}

#[test]
fn bare_half_precision_pth_loads() {
    let state = read("timm_bare_f16.pth");
    assert_eq!(state.dtype, WeightDtype::F16);
    assert_eq!(state, read("timm_f16.safetensors"));
}

#[test]
fn bytes_and_paths_read_the_same() {
    for file in ["official.pth", "timm_f16.safetensors"] {
        let bytes = std::fs::read(fixture(&format!("tiny/{file}"))).unwrap();
        assert_eq!(weights::read_bytes(&bytes).unwrap(), read(file), "{file}");
    }
}

fn load_bytes(bytes: &[u8]) -> Error {
    let state = match weights::read_bytes(bytes) {
        Ok(state) => state,
        Err(err) => return err,
    };
    EfficientFormerV2::load(state, &BACKEND.device().unwrap()).expect_err("bad file accepted")
}

/// Re-serialises the tiny f32 file after `edit` changes its tensors.
fn edited(edit: impl FnOnce(&mut HashMap<String, (Dtype, Vec<usize>, Vec<u8>)>)) -> Vec<u8> {
    let bytes = std::fs::read(fixture("tiny/timm_f32.safetensors")).unwrap();
    let file = SafeTensors::deserialize(&bytes).unwrap();
    let mut tensors: HashMap<_, _> = file
        .iter()
        .map(|(k, v)| (k.to_owned(), (v.dtype(), v.shape().to_vec(), v.data().to_vec())))
        .collect();
    edit(&mut tensors);
    let views: Vec<(String, safetensors::tensor::TensorView)> = tensors
        .iter()
        .map(|(k, (dtype, shape, data))| {
            (k.clone(), safetensors::tensor::TensorView::new(*dtype, shape.clone(), data).unwrap())
        })
        .collect();
    safetensors::serialize(views, None).unwrap()
}

#[test]
fn truncated_and_corrupt_files_are_invalid() {
    for file in ["timm_f32.safetensors", "official.pth"] {
        let bytes = std::fs::read(fixture(&format!("tiny/{file}"))).unwrap();
        let err = load_bytes(&bytes[..bytes.len() / 2]);
        assert!(matches!(err, Error::InvalidModelFile(_)), "{file} truncated: {err}");
    }
    let err = load_bytes(b"GIF89a this is not a model");
    assert!(matches!(err, Error::InvalidModelFile(_)), "{err}");
    let err = load_bytes(&[]);
    assert!(matches!(err, Error::InvalidModelFile(_)), "{err}");
}

#[test]
fn missing_tensor_is_named() {
    let bytes = edited(|t| {
        t.remove("stages.1.blocks.0.mlp.mid.bn.running_var");
    });
    match load_bytes(&bytes) {
        Error::MissingTensor { key, expected } => {
            assert_eq!(key, "stages.1.blocks.0.mlp.mid.bn.running_var");
            assert_eq!(expected, [64]);
        }
        other => panic!("{other}"),
    }
}

#[test]
fn extra_tensor_is_named() {
    let bytes = edited(|t| {
        t.insert("stages.0.blocks.7.extra".into(), (Dtype::F32, vec![1], vec![0; 4]));
    });
    match load_bytes(&bytes) {
        Error::UnexpectedTensor { key, shape } => {
            assert_eq!(key, "stages.0.blocks.7.extra");
            assert_eq!(shape, [1]);
        }
        other => panic!("{other}"),
    }
}

#[test]
fn misshaped_tensor_is_named() {
    let bytes = edited(|t| {
        let entry = t.get_mut("stages.3.blocks.1.token_mixer.attention_biases").unwrap();
        entry.1 = vec![4, 98];
    });
    match load_bytes(&bytes) {
        Error::ShapeMismatch { key, expected, found } => {
            assert_eq!(key, "stages.3.blocks.1.token_mixer.attention_biases");
            assert_eq!(expected, [8, 49]);
            assert_eq!(found, [4, 98]);
        }
        other => panic!("{other}"),
    }
}

#[test]
fn integer_weights_are_rejected() {
    let bytes = edited(|t| {
        let entry = t.get_mut("head.bias").unwrap();
        entry.0 = Dtype::I32;
    });
    match load_bytes(&bytes) {
        Error::UnsupportedDtype { key, .. } => assert_eq!(key, "head.bias"),
        other => panic!("{other}"),
    }
}

#[test]
fn other_networks_are_unrecognised() {
    let bytes = edited(|t| t.retain(|k, _| !k.starts_with("stem.")));
    assert!(matches!(load_bytes(&bytes), Error::UnrecognizedModel(_)));
}

#[test]
fn missing_file_is_an_io_error() {
    let err = weights::read_path("/nonexistent/model.safetensors".as_ref()).unwrap_err();
    assert!(matches!(err, Error::Io { .. }), "{err}");
    assert_eq!(err.code(), 1);
}

#[test]
fn wrong_input_shape_is_an_error_not_a_panic() {
    let config = Variant::S0.config().unwrap();
    let device = BACKEND.device().unwrap();
    let state = weights::seeded::state_dict(&config, weights::seeded::DEFAULT_SEED);
    let model = EfficientFormerV2::load(state, &device).unwrap();
    let images = efficientformer::burn::tensor::Tensor::<4>::zeros([1, 3, 200, 224], &device);
    assert!(matches!(model.forward(images), Err(Error::InvalidInput(_))));
}

/// A safetensors header length whose low byte is 0x80 (one file in 256 by its header size;
/// timm's S2 is one) is read as safetensors, from memory and from a file, and not taken for a
/// pickle; the pickle sniff itself wants 0x80 followed by a protocol number 2-5.
#[test]
fn safetensors_header_length_with_low_byte_0x80_loads() {
    let bytes = std::fs::read(fixture("tiny/timm_f32.safetensors")).unwrap();
    let file = SafeTensors::deserialize(&bytes).unwrap();
    let views: Vec<_> = file.iter().map(|(k, v)| (k.to_owned(), v)).collect();
    let padded = (0..512)
        .find_map(|pad| {
            let metadata = HashMap::from([("padding".to_owned(), "x".repeat(pad))]);
            let written = safetensors::serialize(views.clone(), Some(metadata)).unwrap();
            (written[0] == 0x80).then_some(written)
        })
        .expect("some padding puts 0x80 in the header length's low byte");
    let expected = read("timm_f32.safetensors");
    assert_eq!(weights::read_bytes(&padded).unwrap().tensors, expected.tensors);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("padded.safetensors");
    std::fs::write(&path, &padded).unwrap();
    assert_eq!(weights::read_path(&path).unwrap().tensors, expected.tensors);

    use weights::looks_like_pytorch;
    assert!(looks_like_pytorch(&[0x80, 2, b'}']) && looks_like_pytorch(&[0x80, 5]));
    assert!(!looks_like_pytorch(&[0x80, 0x3A, 1, 0]) && !looks_like_pytorch(&[0x80]));
}

/// A NaN in a weight is a load error naming the tensor, not a model that ranks NaN logits.
#[test]
fn non_finite_weights_are_an_error_naming_the_tensor() {
    for (bad, shown) in [(f32::NAN, "NaN"), (f32::INFINITY, "inf")] {
        let bytes = edited(|tensors| {
            let (_, _, data) = tensors.get_mut("stem.conv1.conv.weight").unwrap();
            data[4..8].copy_from_slice(&bad.to_le_bytes());
        });
        let err = load_bytes(&bytes);
        let message = err.to_string();
        assert!(matches!(err, Error::InvalidModelFile(_)), "{message}");
        assert!(message.contains("stem.conv1.conv.weight") && message.contains(shown) && message.contains("index 1"), "{message}");
    }
}

/// Finite weights on which the network overflows (`tiny/overflow_f32.safetensors`: the final
/// norm at `f32::MAX` over a zero running variance, non-finite in PyTorch too) load, and
/// classifying with them is a typed error, not a ranking of NaN scores.
#[test]
fn overflow_inside_the_network_is_a_non_finite_output_error() {
    use efficientformer::classify::{BackendChoice, Classifier, ClassifierOptions};
    let options = || ClassifierOptions { backend: BackendChoice::Exact(BACKEND), ..ClassifierOptions::default() };
    let image = values(seeded_images(BACKEND, 1));
    let bytes = std::fs::read(fixture("tiny/overflow_f32.safetensors")).unwrap();
    let classifier = Classifier::from_bytes(&bytes, options()).expect("finite weights load");
    let err = classifier.classify_tensor(&image, 1).unwrap_err();
    assert!(matches!(err, Error::NonFiniteOutput { .. }), "{err}");
    assert_eq!(err.code(), 16);
    assert!(err.to_string().contains("the flex backend computed non-finite logits"), "{err}");
    assert!(matches!(classifier.features(&image, 1), Ok(_)), "the stages before the norm stay finite");

    let intact = std::fs::read(fixture("tiny/timm_f32.safetensors")).unwrap();
    assert!(Classifier::from_bytes(&intact, options()).unwrap().classify_tensor(&image, 1).is_ok());
}
