//! The smallest app build (`--no-default-features`: no `decoders`, no `pth`) refuses encoded
//! images and PyTorch checkpoints with typed errors that say what to do instead. `.ci/run`
//! runs this file with `cargo test -p efficientformer-formats --no-default-features`; in the
//! default build these tests compile out.
#![cfg(not(any(feature = "decoders", feature = "pth")))]

use efficientformer_formats::{Error, image_input, weights};

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures").join(name)).unwrap()
}

#[test]
fn encoded_images_are_refused_with_a_hint() {
    let err = image_input::decode(&fixture("classify/chelsea_235.png")).unwrap_err();
    assert!(matches!(err, Error::InvalidImage(_)), "{err}");
    assert!(err.to_string().contains("decode with the platform and pass pixels"), "{err}");
}

#[test]
fn pytorch_checkpoints_are_refused_with_a_hint() {
    let err = weights::read_bytes(&fixture("tiny/official.pth")).unwrap_err();
    assert!(matches!(err, Error::InvalidModelFile(_)), "{err}");
    assert!(err.to_string().contains("efficientformer convert"), "{err}");
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/tiny/official.pth");
    assert!(matches!(weights::read_path(&path), Err(Error::InvalidModelFile(_))));
    assert!(weights::read_bytes(&fixture("tiny/timm_f32.safetensors")).is_ok(), "safetensors still read");
}
