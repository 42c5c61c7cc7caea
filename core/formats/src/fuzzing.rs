//! The bodies of the fuzz targets (`fuzz/fuzz_targets/`), shared with the test that replays the
//! saved corpus and every input that once crashed (`tests/fuzz_corpus.rs`), as OSS-Fuzz
//! projects do: CI cannot afford a sanitizer build, but runs every saved input on each change.
//! Each body takes arbitrary bytes and must come back with a value or a typed error: a panic,
//! abort, hang or out-of-bounds access is a finding.

use crate::image_input::{self, PixelBuffer, PixelFormat};
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
    let buffer = PixelBuffer { data: pixels, width, height, row_stride, format, orientation: header[9] % 10 };
    if let Ok(image) = buffer.to_rgb() {
        let transposed = (5..=8).contains(&buffer.orientation);
        let expected = if transposed { (height, width) } else { (width, height) };
        assert_eq!(image.dimensions(), expected);
        check_preprocess(&image);
    }
}

fn check_preprocess(image: &image::RgbImage) {
    if let Ok(values) = preprocess::preprocess(image) {
        assert_eq!(values.len(), 3 * IMAGE_SIZE * IMAGE_SIZE);
    }
}
