//! Preprocessing against timm's own eval transform on the bundled sample images: the 224x224
//! crop of the resize, and the normalisation.

mod common;

use common::fixture;
use efficientformer::classify::image_input::{self, PixelBuffer, PixelFormat};
use efficientformer::classify::preprocess;
use image::RgbImage;
use safetensors::SafeTensors;

fn timm_crop(stem: &str) -> Vec<u8> {
    let bytes = std::fs::read(fixture(&format!("preprocess/{stem}.safetensors"))).unwrap();
    SafeTensors::deserialize(&bytes).unwrap().tensor("crop").unwrap().data().to_vec()
}

fn sample(name: &str) -> RgbImage {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/images").join(name);
    image_input::decode(&std::fs::read(path).unwrap()).unwrap()
}

/// Mean |ours - PIL| in 8-bit steps over the crop, and the largest single difference.
fn compare(ours: &RgbImage, timm: &[u8]) -> (f64, u8) {
    let diffs: Vec<u8> = ours.as_raw().iter().zip(timm).map(|(a, b)| a.abs_diff(*b)).collect();
    assert_eq!(diffs.len(), 224 * 224 * 3);
    (diffs.iter().map(|&d| f64::from(d)).sum::<f64>() / diffs.len() as f64, *diffs.iter().max().unwrap())
}

#[test]
fn crops_match_pil_bicubic_within_a_fraction_of_a_step() {
    for (file, stem) in [("chelsea.png", "chelsea"), ("rocket.jpg", "rocket")] {
        let ours = preprocess::resize_and_crop(&sample(file)).unwrap();
        let (mean, max) = compare(&ours, &timm_crop(stem));
        println!("{file}: mean |diff| {mean:.4} 8-bit steps, max {max}");
        assert!(mean < 0.3, "{file}: mean |diff| {mean} steps");
        // PNG decodes identically; JPEG decoders (zune-jpeg here, libjpeg-turbo under PIL)
        // differ by a step or two on a few pixels, which the resize carries into the crop.
        assert!(max <= 3, "{file}: max |diff| {max} steps");
    }
}

#[test]
fn normalisation_is_timm_to_the_bit() {
    let crop = RgbImage::from_fn(224, 224, |x, y| image::Rgb([(x % 256) as u8, (y % 256) as u8, ((x + y) % 256) as u8]));
    let planes = preprocess::normalize(&crop);
    let at = |c: usize, x: usize, y: usize| planes[c * 224 * 224 + y * 224 + x];
    // torchvision: x.float().div(255) then (x - mean) / std, all in f32
    assert_eq!(at(0, 10, 0), (10f32 / 255.0 - 0.485) / 0.229);
    assert_eq!(at(2, 3, 4), (7f32 / 255.0 - 0.406) / 0.225);
}

#[test]
fn pixel_formats_strides_and_orientation_agree_with_decoding() {
    let rgb = sample("chelsea.png");
    let (w, h) = rgb.dimensions();
    let stride = w * 4 + 64; // padded rows, as camera frames have
    let mut rgba = vec![0u8; (stride * h) as usize];
    let mut bgra = rgba.clone();
    for (x, y, p) in rgb.enumerate_pixels() {
        let i = (y * stride + x * 4) as usize;
        rgba[i..i + 4].copy_from_slice(&[p[0], p[1], p[2], 255]);
        bgra[i..i + 4].copy_from_slice(&[p[2], p[1], p[0], 255]);
    }
    for (data, format) in [(&rgba, PixelFormat::Rgba8), (&bgra, PixelFormat::Bgra8)] {
        let buffer = PixelBuffer { data, width: w, height: h, row_stride: stride, format, orientation: 1, crop: None };
        assert_eq!(buffer.to_rgb().unwrap(), rgb, "{format:?}");
    }
    let packed = PixelBuffer { data: rgb.as_raw(), width: w, height: h, row_stride: w * 3, format: PixelFormat::Rgb8, orientation: 6, crop: None };
    let rotated = packed.to_rgb().unwrap();
    assert_eq!(rotated.dimensions(), (h, w), "orientation 6 rotates 90 degrees clockwise");
    assert_eq!(rotated.get_pixel(h - 1, 0), rgb.get_pixel(0, 0));
}
