//! Camera frames through the facade: a YUV 4:2:0 frame made from the test photo
//! (`core/reference/yuv_fixtures.py`) classifies as the RGB image the published conversion
//! makes of it, in every layout a camera hands over; a crop classifies as the cropped image.

mod common;

use common::{assert_close, assert_same_top5, max_abs_diff};
use efficientformer::classify::image_input::{PixelBuffer, PixelFormat};
use efficientformer::classify::{BackendChoice, Classifier, ClassifierOptions, ImageInput, Rect, YuvImage, YuvLayout, YuvPlane};
use efficientformer::Backend;
use safetensors::SafeTensors;

fn classifier() -> Classifier {
    Classifier::embedded_default(ClassifierOptions { backend: BackendChoice::Exact(Backend::Flex), ..ClassifierOptions::default() })
        .unwrap()
}

struct Photo {
    width: usize,
    height: usize,
    y: Vec<u8>,
    u: Vec<u8>,
    v: Vec<u8>,
    rgb: Vec<u8>,
}

fn photo() -> Photo {
    let bytes = std::fs::read(common::fixture("yuv/photo.safetensors")).unwrap();
    let file = SafeTensors::deserialize(&bytes).unwrap();
    let read = |name: &str| file.tensor(name).unwrap().data().to_vec();
    let shape = file.tensor("y").unwrap().shape().to_vec();
    Photo { width: shape[1], height: shape[0], y: read("y"), u: read("u"), v: read("v"), rgb: read("rgb") }
}

#[test]
fn a_yuv_frame_classifies_as_its_rgb_conversion() {
    let photo = photo();
    let classifier = classifier();
    let (width, height) = (photo.width as u32, photo.height as u32);
    let rgb = PixelBuffer { data: &photo.rgb, width, height, row_stride: width * 3, format: PixelFormat::Rgb8, orientation: 1, crop: None };
    let expected = classifier.classify_pixels(&rgb).unwrap().logits;

    // NV21 in one buffer, as Android's `ImageFormat.NV21` preview frames.
    let mut nv21 = photo.y.clone();
    nv21.extend(photo.v.iter().zip(&photo.u).flat_map(|(&v, &u)| [v, u]));
    let stride = 2 * width.div_ceil(2);
    let mut packed = Vec::new();
    for row in nv21.chunks(photo.width).take(photo.height) {
        packed.extend_from_slice(row);
        packed.resize(packed.len() + (stride - width) as usize, 0);
    }
    packed.extend_from_slice(&nv21[photo.width * photo.height..]);
    let frame = YuvImage::packed(&packed, YuvLayout::Nv21, width, height, stride).unwrap();
    let from_nv21 = classifier.classify_yuv(&frame).unwrap().logits;

    // CameraX `YUV_420_888`: separate Y, U, V buffers, chroma planar (pixel stride 1).
    let columns = photo.width.div_ceil(2) as u32;
    let planar = YuvImage {
        y: YuvPlane { data: &photo.y, row_stride: width, pixel_stride: 1 },
        u: YuvPlane { data: &photo.u, row_stride: columns, pixel_stride: 1 },
        v: YuvPlane { data: &photo.v, row_stride: columns, pixel_stride: 1 },
        ..frame
    };
    let from_planes = classifier.classify(ImageInput::Yuv(planar)).unwrap().logits;

    for (what, logits) in [("NV21", &from_nv21), ("three planes", &from_planes)] {
        println!("{what}: max |logit diff| vs the RGB conversion {:e}", max_abs_diff(logits, &expected));
        // The conversions agree within one 8-bit step per channel.
        assert_close(what, logits, &expected, 1e-3);
        assert_same_top5(what, logits, &expected, 1000);
    }
}

#[test]
fn a_crop_classifies_as_the_cropped_image() {
    let photo = photo();
    let classifier = classifier();
    let (width, height) = (photo.width as u32, photo.height as u32);
    let crop = Rect { x: 101, y: 33, width: 250, height: 241 };
    let whole = PixelBuffer { data: &photo.rgb, width, height, row_stride: width * 3, format: PixelFormat::Rgb8, orientation: 6, crop: Some(crop) };
    let cut: Vec<u8> = photo
        .rgb
        .chunks(photo.width * 3)
        .skip(crop.y as usize)
        .take(crop.height as usize)
        .flat_map(|row| row[crop.x as usize * 3..(crop.x + crop.width) as usize * 3].to_vec())
        .collect();
    let cropped = PixelBuffer { data: &cut, width: crop.width, height: crop.height, row_stride: crop.width * 3, crop: None, ..whole };
    assert_eq!(classifier.classify_pixels(&whole).unwrap().logits, classifier.classify_pixels(&cropped).unwrap().logits);
}
