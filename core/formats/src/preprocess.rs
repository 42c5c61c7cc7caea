//! Preprocessing exactly as timm evaluates these models (`resolve_data_config` of
//! `efficientformerv2_*`: `crop_pct=0.95`, bicubic, ImageNet mean/std), i.e. timm's
//! `transforms_imagenet_eval`: resize the shorter side to `floor(224 / 0.95) = 235` with PIL's
//! antialiased bicubic (Catmull-Rom, `a = -0.5`, support widened when downscaling: what
//! `fast_image_resize`'s convolution resizer computes), centre-crop 224 with torchvision's
//! `round()` offsets, scale to `[0, 1]`, normalise.

use fast_image_resize::images::{TypedImage, TypedImageRef};
use fast_image_resize::pixels::U8x3;
use fast_image_resize::{FilterType, ResizeAlg, ResizeOptions, Resizer};
use image::RgbImage;

use crate::error::{Error, Result};

/// Side of the square network input (timm's `input_size` `(3, 224, 224)`, with
/// `fixed_input_size: True`: the attention biases are built for it).
pub const IMAGE_SIZE: usize = 224;
/// timm `crop_pct` of the EfficientFormerV2 configs.
pub const CROP_PCT: f64 = 0.95;
/// `IMAGENET_DEFAULT_MEAN`.
pub const MEAN: [f32; 3] = [0.485, 0.456, 0.406];
/// `IMAGENET_DEFAULT_STD`.
pub const STD: [f32; 3] = [0.229, 0.224, 0.225];

/// Longest side over shortest side accepted: a 1-pixel-high strip would otherwise be resized
/// to 235 pixels high and hundreds of thousands wide.
pub const MAX_ASPECT_RATIO: u32 = 32;

/// Shorter side after the resize: `math.floor(224 / 0.95)`.
pub fn scale_size() -> u32 {
    (IMAGE_SIZE as f64 / CROP_PCT).floor() as u32
}

/// torchvision's `Resize(int)`: the shorter side becomes `size`, the longer
/// `int(size * long / short)`.
fn resized_dims(width: u32, height: u32, size: u32) -> (u32, u32) {
    let long = |long: u32, short: u32| (u64::from(size) * u64::from(long) / u64::from(short)) as u32;
    if width <= height { (size, long(height, width)) } else { (long(width, height), size) }
}

/// The 224x224 RGB crop timm's eval transform takes of `image`, before normalisation.
pub fn resize_and_crop(image: &RgbImage) -> Result<RgbImage> {
    let (width, height) = image.dimensions();
    if width == 0 || height == 0 {
        return Err(Error::InvalidGeometry(format!("empty image {width}x{height}")));
    }
    if width.max(height) / width.min(height) > MAX_ASPECT_RATIO {
        return Err(Error::InvalidGeometry(format!(
            "{width}x{height} is more elongated than {MAX_ASPECT_RATIO}:1; resizing its shorter side to {} would allocate a huge image",
            scale_size()
        )));
    }
    let (new_width, new_height) = resized_dims(width, height, scale_size());
    let crop = IMAGE_SIZE as u32;
    if new_width < crop || new_height < crop {
        return Err(Error::InvalidGeometry(format!(
            "{width}x{height} is too elongated to centre-crop {crop}x{crop} after resizing"
        )));
    }
    let resized = if (new_width, new_height) == (width, height) {
        image.clone()
    } else {
        // Typed as RGB8: `Resizer::resize` dispatches over all 13 pixel types at run time,
        // which links the resizer's code for each (2.8 MB of the CPU-only library).
        let geometry = |e: fast_image_resize::ImageBufferError| Error::InvalidGeometry(e.to_string());
        let source = TypedImageRef::<U8x3>::from_buffer(width, height, image.as_raw()).map_err(geometry)?;
        let mut pixels = vec![0u8; new_width as usize * new_height as usize * 3];
        let mut target = TypedImage::<U8x3>::from_buffer(new_width, new_height, &mut pixels).map_err(geometry)?;
        let options =
            ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::CatmullRom));
        Resizer::new()
            .resize_typed(&source, &mut target, &options)
            .map_err(|e| Error::InvalidGeometry(e.to_string()))?;
        drop(target);
        RgbImage::from_raw(new_width, new_height, pixels).expect("resizer output holds width * height RGB pixels")
    };
    // torchvision CenterCrop: int(round((size - crop) / 2.0)), Python's round-half-even
    let offset = |size: u32| (f64::from(size - crop) / 2.0).round_ties_even() as u32;
    Ok(image::imageops::crop_imm(&resized, offset(new_width), offset(new_height), crop, crop).to_image())
}

/// `[3, 224, 224]` planes of `(pixel / 255 - mean) / std` from a 224x224 crop.
pub fn normalize(crop: &RgbImage) -> Vec<f32> {
    let plane = (crop.width() * crop.height()) as usize;
    let mut out = vec![0f32; 3 * plane];
    for (i, pixel) in crop.pixels().enumerate() {
        for c in 0..3 {
            out[c * plane + i] = (f32::from(pixel[c]) / 255.0 - MEAN[c]) / STD[c];
        }
    }
    out
}

/// The model input for one image: resize, crop, normalise.
pub fn preprocess(image: &RgbImage) -> Result<Vec<f32>> {
    Ok(normalize(&resize_and_crop(image)?))
}
