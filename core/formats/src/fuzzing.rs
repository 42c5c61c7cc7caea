//! The bodies of the fuzz targets (`fuzz/fuzz_targets/`), shared with the test that replays the
//! saved corpus and every input that once crashed (`tests/fuzz_corpus.rs`), as OSS-Fuzz
//! projects do: CI cannot afford a sanitizer build, but runs every saved input on each change.
//! Each body takes arbitrary bytes and must come back with a value or a typed error: a panic,
//! abort, hang or out-of-bounds access is a finding.

use crate::image_input::{self, PixelBuffer, PixelFormat};
use crate::region::Rect;
use crate::yuv::{YuvImage, YuvMatrix, YuvPlane, YuvRange};
use crate::preprocess::{self, IMAGE_SIZE};
use crate::weights;

/// Model bytes: a safetensors file or a `torch.save` checkpoint, in either key layout.
pub fn model_bytes(data: &[u8]) {
    if let Ok(state) = weights::read_bytes(data) {
        for (key, tensor) in &state.tensors {
            assert_eq!(tensor.values.len(), tensor.shape.iter().product::<usize>(), "{key}");
        }
    }
}

/// An encoded image (JPEG, PNG, WebP, or anything else), decoded and put through timm's eval
/// transform.
pub fn encoded_image(data: &[u8]) {
    if let Ok(image) = image_input::decode(data) {
        check_preprocess(&image);
    }
}

/// A raw pixel buffer: the first 10 bytes are its width and height (`u16` each), row stride
/// (`u32`), format code (0-2 valid, 3 not) and EXIF orientation (0-9, 1-8 valid); the rest is
/// the buffer, of whatever length the input has.
pub fn pixel_buffer(data: &[u8]) {
    let Some((header, pixels)) = data.split_first_chunk::<10>() else { return };
    let width = u32::from(u16::from_le_bytes([header[0], header[1]]));
    let height = u32::from(u16::from_le_bytes([header[2], header[3]]));
    let row_stride = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
    let Ok(format) = PixelFormat::from_code(u32::from(header[8] % 4)) else { return };
    let buffer = PixelBuffer { data: pixels, width, height, row_stride, format, orientation: header[9] % 10, crop: None };
    if let Ok(image) = buffer.to_rgb() {
        let transposed = (5..=8).contains(&buffer.orientation);
        let expected = if transposed { (height, width) } else { (width, height) };
        assert_eq!(image.dimensions(), expected);
        check_preprocess(&image);
    }
}

/// A YUV 4:2:0 frame: the first 20 bytes are its width and height (`u16` each), the luma and
/// chroma row strides (`u16` each), where the U and V planes start in the rest (`u16` each),
/// the chroma pixel stride (0-3), matrix/range flags, EXIF orientation (0-9), and a crop
/// rectangle (`u8` x, y, width, height; all zero: none); the rest holds the planes.
pub fn yuv_frame(data: &[u8]) {
    let Some((header, rest)) = data.split_first_chunk::<20>() else { return };
    let word = |i: usize| u32::from(u16::from_le_bytes([header[i], header[i + 1]]));
    let (width, height, y_stride, chroma_stride) = (word(0), word(2), word(4), word(6));
    let plane = |start: u32, row_stride, pixel_stride| YuvPlane { data: rest.get(start as usize..).unwrap_or(&[]), row_stride, pixel_stride };
    let pixel_stride = u32::from(header[12] % 4);
    let crop = Rect { x: header[15].into(), y: header[16].into(), width: header[17].into(), height: header[18].into() };
    let frame = YuvImage {
        y: plane(0, y_stride, 1),
        u: plane(word(8), chroma_stride, pixel_stride),
        v: plane(word(10), chroma_stride, pixel_stride),
        width,
        height,
        matrix: if header[13] & 1 == 0 { YuvMatrix::Bt601 } else { YuvMatrix::Bt709 },
        range: if header[13] & 2 == 0 { YuvRange::Full } else { YuvRange::Video },
        crop: (crop != Rect { x: 0, y: 0, width: 0, height: 0 }).then_some(crop),
        orientation: header[14] % 10,
    };
    if let Ok(image) = frame.to_rgb() {
        let (w, h) = frame.crop.map_or((width, height), |c| (c.width, c.height));
        let transposed = (5..=8).contains(&frame.orientation);
        assert_eq!(image.dimensions(), if transposed { (h, w) } else { (w, h) });
        check_preprocess(&image);
    }
}

fn check_preprocess(image: &image::RgbImage) {
    if let Ok(values) = preprocess::preprocess(image) {
        assert_eq!(values.len(), 3 * IMAGE_SIZE * IMAGE_SIZE);
    }
}
