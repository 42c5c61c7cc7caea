//! Every bad input to the facade is a typed error with its stable code, never a panic.

mod common;

use efficientformer::classify::{BackendChoice, Classifier, ClassifierOptions, PixelBuffer, PixelFormat};
use efficientformer::{Backend, Error, Variant};

fn classifier() -> Classifier {
    let options = ClassifierOptions { backend: BackendChoice::Exact(Backend::Flex), ..ClassifierOptions::default() };
    Classifier::embedded_default(options).unwrap()
}

fn pixels(data: &[u8], width: u32, height: u32, row_stride: u32, orientation: u8) -> PixelBuffer<'_> {
    PixelBuffer { data, width, height, row_stride, format: PixelFormat::Rgba8, orientation, crop: None }
}

#[test]
fn undecodable_images() {
    let c = classifier();
    for bytes in [&b""[..], b"not an image", &[0x89, b'P', b'N', b'G', 0, 0, 0, 0][..]] {
        let err = c.classify_encoded(bytes).unwrap_err();
        assert!(matches!(err, Error::InvalidImage(_)), "{err}");
        assert_eq!(err.code(), 11);
    }
    let png = std::fs::read(common::fixture("classify/chelsea_235.png")).unwrap();
    let err = c.classify_encoded(&png[..png.len() / 3]).unwrap_err();
    assert!(matches!(err, Error::InvalidImage(_)), "truncated PNG: {err}");
}

#[test]
fn buffer_too_small_for_geometry() {
    let data = vec![0u8; 100 * 4 * 50];
    let err = classifier().classify_pixels(&pixels(&data, 100, 51, 400, 1)).unwrap_err();
    match &err {
        Error::BufferTooSmall { len, needed, .. } => assert_eq!((*len, *needed), (20_000, 20_400)),
        other => panic!("{other}"),
    }
    assert_eq!(err.code(), 13);
}

#[test]
fn impossible_geometry() {
    let c = classifier();
    let data = vec![0u8; 4096];
    for (buffer, what) in [
        (pixels(&data, 0, 10, 0, 1), "zero width"),
        (pixels(&data, 10, 10, 39, 1), "stride shorter than a row"),
        (pixels(&data, 10, 10, 40, 9), "orientation 9"),
        (pixels(&data, 300, 1, 1200, 1), "300x1 is too elongated to resize"),
    ] {
        let err = c.classify_pixels(&buffer).unwrap_err();
        assert!(matches!(err, Error::InvalidGeometry(_)), "{what}: {err}");
        assert_eq!(err.code(), 14);
    }
}

#[test]
fn unknown_pixel_format_code() {
    assert_eq!(PixelFormat::from_code(1).unwrap(), PixelFormat::Bgra8);
    let err = PixelFormat::from_code(7).unwrap_err();
    assert!(matches!(err, Error::UnsupportedPixelFormat(_)), "{err}");
    assert_eq!(err.code(), 12);
}

#[test]
fn malformed_tensors() {
    let c = classifier();
    for (values, batch) in [(vec![0.0; 10], 1), (vec![0.0; 3 * 224 * 224], 2), (vec![], 0)] {
        assert!(matches!(c.classify_tensor(&values, batch), Err(Error::InvalidInput(_))));
    }
    let mut nan = vec![0.0; 3 * 224 * 224];
    nan[7] = f32::NAN;
    assert!(matches!(c.classify_tensor(&nan, 1), Err(Error::InvalidInput(_))));
}

#[test]
fn bad_options() {
    let flex = BackendChoice::Exact(Backend::Flex);
    let wrong_variant = ClassifierOptions { backend: flex, expected_variant: Some(Variant::L), ..ClassifierOptions::default() };
    let err = Classifier::embedded_default(wrong_variant).unwrap_err();
    assert!(matches!(err, Error::WrongVariant { .. }), "{err}");
    assert_eq!(err.code(), 8);
    let no_top = ClassifierOptions { backend: flex, top_k: 0, ..ClassifierOptions::default() };
    assert!(matches!(Classifier::embedded_default(no_top), Err(Error::InvalidInput(_))));
    let no_threads = ClassifierOptions { backend: flex, cpu_threads: Some(0), ..ClassifierOptions::default() };
    assert!(matches!(Classifier::embedded_default(no_threads), Err(Error::InvalidInput(_))));
}

#[test]
fn cpu_and_auto_choose_flex_and_say_why_not_the_gpu() {
    let cpu = Classifier::embedded_default(ClassifierOptions { backend: BackendChoice::Cpu, ..ClassifierOptions::default() }).unwrap();
    assert_eq!(cpu.info().backend, Backend::Flex);
    let auto = Classifier::embedded_default(ClassifierOptions::default()).unwrap();
    if !auto.info().backend.is_gpu() {
        assert_eq!(auto.info().backend, Backend::Flex);
        assert!(auto.info().backend_note.as_deref().unwrap_or_default().starts_with("GPU not used: "));
    }
}

#[test]
fn invalid_model_bytes() {
    let err = Classifier::from_bytes(b"\x00\x01garbage", ClassifierOptions::default()).unwrap_err();
    assert!(matches!(err, Error::InvalidModelFile(_)), "{err}");
    assert_eq!(err.code(), 2);
}
