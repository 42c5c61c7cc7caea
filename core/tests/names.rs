//! The name and signed-integer parsers the Swift and Kotlin bindings rely on: one place
//! decides what every language accepts and which error code it gets otherwise.

use efficientformer::classify::{BackendChoice, PixelBuffer, PixelFormat};
use efficientformer::probe::ProbeOptions;
use efficientformer::{Backend, Precision, Variant};

#[test]
fn backend_names() {
    assert_eq!(BackendChoice::from_name("auto").unwrap(), BackendChoice::Auto);
    assert_eq!(BackendChoice::from_name("cpu").unwrap(), BackendChoice::Cpu);
    assert_eq!(BackendChoice::from_name("gpu").unwrap(), BackendChoice::Gpu);
    assert_eq!(BackendChoice::from_name("flex").unwrap(), BackendChoice::Exact(Backend::Flex));
    let error = BackendChoice::from_name("tpu").unwrap_err();
    assert_eq!(error.code(), 9);
    let listed: Vec<&str> = Backend::all().into_iter().map(Backend::name).collect();
    assert!(listed.iter().all(|name| error.to_string().contains(name)), "{error}");
}

#[test]
fn variant_names() {
    assert_eq!(Variant::parse("S2").unwrap(), Variant::S2);
    assert_eq!(Variant::parse("efficientformerv2_l").unwrap(), Variant::L);
    assert_eq!(Variant::parse("custom").unwrap_err().code(), 9);
}

#[test]
fn signed_geometry() {
    let data = [0u8; 16];
    let buffer = PixelBuffer::from_signed(&data, 2, 2, 8, PixelFormat::Rgba8, 6).unwrap();
    assert_eq!((buffer.width, buffer.height, buffer.row_stride, buffer.orientation), (2, 2, 8, 6));
    for (width, height, stride, orientation) in [(-1, 2, 8, 1), (2, -2, 8, 1), (2, 2, 1 << 33, 1), (2, 2, 8, 300), (2, 2, 8, -1)] {
        let error = PixelBuffer::from_signed(&data, width, height, stride, PixelFormat::Rgba8, orientation).unwrap_err();
        assert_eq!(error.code(), 14, "{width}x{height} stride {stride} orientation {orientation}: {error}");
    }
}

#[test]
fn probe_names_replace_defaults_unless_empty() {
    let kept = ProbeOptions::default().with_names::<&str>(&[], &[], &[]).unwrap();
    assert_eq!(kept, ProbeOptions::default());
    let chosen = ProbeOptions::default().with_names(&["s1"], &["cpu", "flex"], &["f16", "f32"]).unwrap();
    assert_eq!(chosen.variants, vec![Variant::S1]);
    assert_eq!(chosen.backends, vec![BackendChoice::Cpu, BackendChoice::Exact(Backend::Flex)]);
    assert_eq!(chosen.precisions, vec![Precision::F16, Precision::F32]);
    assert_eq!(ProbeOptions::default().with_names(&[], &[], &["f64"]).unwrap_err().code(), ProbeOptions::default().with_names(&["xl"], &[], &[]).unwrap_err().code());
    assert_eq!(ProbeOptions::default().with_names(&["xl"], &[], &[]).unwrap_err().code(), 9);
}
