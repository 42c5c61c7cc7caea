//! What apps hand the SDK: encoded files (JPEG, PNG, WebP) and raw camera/bitmap buffers with
//! a row stride, a crop rectangle and an EXIF-style orientation, turned into upright RGB
//! images. YUV camera frames are in [`crate::yuv`].

use std::io::Cursor;

use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageReader, RgbImage};

use crate::error::{Error, Result};
use crate::region::Rect;

/// Byte order of a raw pixel buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PixelFormat {
    /// R, G, B, A (Android `Bitmap.Config.ARGB_8888` memory order, `ImageProxy` RGBA output).
    Rgba8,
    /// B, G, R, A (iOS `kCVPixelFormatType_32BGRA`).
    Bgra8,
    /// R, G, B.
    Rgb8,
}

impl PixelFormat {
    /// The format behind a stable numeric code (0 RGBA8, 1 BGRA8, 2 RGB8), as the Swift and
    /// Kotlin layers pass it.
    pub fn from_code(code: u32) -> Result<PixelFormat> {
        match code {
            0 => Ok(PixelFormat::Rgba8),
            1 => Ok(PixelFormat::Bgra8),
            2 => Ok(PixelFormat::Rgb8),
            other => Err(Error::UnsupportedPixelFormat(format!("code {other} (0 RGBA8, 1 BGRA8, 2 RGB8)"))),
        }
    }

    /// Bytes per pixel.
    pub fn bytes_per_pixel(self) -> usize {
        match self {
            PixelFormat::Rgba8 | PixelFormat::Bgra8 => 4,
            PixelFormat::Rgb8 => 3,
        }
    }

    /// Offsets of R, G, B within one pixel.
    fn rgb_offsets(self) -> [usize; 3] {
        match self {
            PixelFormat::Rgba8 | PixelFormat::Rgb8 => [0, 1, 2],
            PixelFormat::Bgra8 => [2, 1, 0],
        }
    }
}

/// A borrowed raw image: `height` rows of `row_stride` bytes, each starting with `width`
/// pixels (camera frames pad their rows).
#[derive(Debug, Clone, Copy)]
pub struct PixelBuffer<'a> {
    /// The pixels, read in place.
    pub data: &'a [u8],
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Bytes from the start of one row to the next (at least `width * bytes_per_pixel`).
    pub row_stride: u32,
    /// Byte order.
    pub format: PixelFormat,
    /// EXIF orientation 1-8 of the buffer (1 = upright); the SDK rotates it upright after
    /// cropping.
    pub orientation: u8,
    /// The part of the buffer to classify, in buffer coordinates (`None`: all of it).
    pub crop: Option<Rect>,
}

impl<'a> PixelBuffer<'a> {
    /// An uncropped buffer described in the signed integers of Kotlin and Swift: negative or
    /// oversized values are [`Error::InvalidGeometry`] (an orientation outside 0-255 too; 1-8
    /// are checked later), so every binding rejects them alike.
    pub fn from_signed(
        data: &'a [u8],
        width: i64,
        height: i64,
        row_stride: i64,
        format: PixelFormat,
        orientation: i64,
    ) -> Result<PixelBuffer<'a>> {
        Ok(PixelBuffer {
            data,
            width: geometry(width, "width")?,
            height: geometry(height, "height")?,
            row_stride: geometry(row_stride, "row stride")?,
            format,
            orientation: exif_code(orientation)?,
            crop: None,
        })
    }

    /// Checks geometry and size, then copies the crop rectangle into an upright RGB image.
    pub fn to_rgb(&self) -> Result<RgbImage> {
        let bpp = self.format.bytes_per_pixel();
        let (width, height) = (self.width as usize, self.height as usize);
        if width == 0 || height == 0 {
            return Err(Error::InvalidGeometry(format!("empty image {width}x{height}")));
        }
        let row_bytes = width.checked_mul(bpp).ok_or_else(|| Error::InvalidGeometry("width overflows".into()))?;
        let stride = self.row_stride as usize;
        if stride < row_bytes {
            return Err(Error::InvalidGeometry(format!(
                "row stride {stride} is shorter than a row of {width} pixels ({row_bytes} bytes)"
            )));
        }
        let needed = stride
            .checked_mul(height - 1)
            .and_then(|n| n.checked_add(row_bytes))
            .ok_or_else(|| Error::InvalidGeometry("buffer size overflows".into()))?;
        if self.data.len() < needed {
            return Err(Error::BufferTooSmall {
                len: self.data.len(),
                needed,
                width: self.width,
                height: self.height,
                row_stride: self.row_stride,
            });
        }
        let orientation = orientation(self.orientation)?;
        let crop = Rect::within(self.crop, self.width, self.height)?;
        let offsets = self.format.rgb_offsets();
        let columns = crop.x as usize * bpp..(crop.x + crop.width) as usize * bpp;
        let mut rgb = vec![0u8; crop.width as usize * crop.height as usize * 3];
        let rows = self.data.chunks(stride).skip(crop.y as usize);
        for (row, out) in rows.zip(rgb.chunks_exact_mut(crop.width as usize * 3)) {
            for (pixel, out) in row[columns.clone()].chunks_exact(bpp).zip(out.chunks_exact_mut(3)) {
                out.copy_from_slice(&offsets.map(|o| pixel[o]));
            }
        }
        let image = RgbImage::from_raw(crop.width, crop.height, rgb).expect("width * height RGB pixels");
        Ok(upright(image, orientation))
    }
}

/// A width, height, stride or coordinate passed as a signed integer (Kotlin's `Int`, Swift's
/// `Int`), or [`Error::InvalidGeometry`] naming it when negative or too large.
pub fn geometry(value: i64, what: &str) -> Result<u32> {
    u32::try_from(value).map_err(|_| Error::InvalidGeometry(format!("{what} {value} is out of range")))
}

/// An orientation passed as a signed integer, narrowed to a byte (1-8 are checked later).
pub fn exif_code(orientation: i64) -> Result<u8> {
    u8::try_from(orientation)
        .map_err(|_| Error::InvalidGeometry(format!("orientation {orientation} is not an EXIF code (1-8)")))
}

/// EXIF orientation code → `image`'s orientation.
pub fn orientation(code: u8) -> Result<Orientation> {
    Orientation::from_exif(code)
        .ok_or_else(|| Error::InvalidGeometry(format!("EXIF orientation must be 1-8, got {code}")))
}

pub(crate) fn upright(image: RgbImage, orientation: Orientation) -> RgbImage {
    if orientation == Orientation::NoTransforms {
        return image;
    }
    let mut dynamic = DynamicImage::ImageRgb8(image);
    dynamic.apply_orientation(orientation);
    dynamic.into_rgb8()
}

/// Most bytes a decoded image may take (the `image` crate's default allocation limit, which
/// its decoders do not all apply to the pixel buffer): a few header bytes can claim any size,
/// and the fuzzer found a 67 KB PNG claiming 353 x 2,264,924,160 pixels, for which the decoder
/// asked for 2.4 TB; a failed allocation aborts the app.
pub const MAX_DECODED_BYTES: u64 = 512 * 1024 * 1024;

/// Decodes a JPEG, PNG or WebP file and applies its EXIF orientation (builds with the
/// `decoders` feature; without it every format is [`Error::InvalidImage`]).
pub fn decode(bytes: &[u8]) -> Result<RgbImage> {
    let invalid = |e: image::ImageError| Error::InvalidImage(e.to_string());
    let reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| Error::InvalidImage(e.to_string()))?;
    let mut decoder = reader.into_decoder().map_err(|e| match e {
        image::ImageError::Unsupported(_) if !cfg!(feature = "decoders") => Error::InvalidImage(format!(
            "{e}: this build has no image decoders (the `decoders` feature); decode with the platform and pass pixels"
        )),
        other => invalid(other),
    })?;
    if decoder.total_bytes() > MAX_DECODED_BYTES {
        let (width, height) = decoder.dimensions();
        return Err(Error::InvalidImage(format!(
            "{width}x{height} pixels would take {} bytes decoded, more than the {MAX_DECODED_BYTES}-byte limit",
            decoder.total_bytes()
        )));
    }
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let image = DynamicImage::from_decoder(decoder).map_err(invalid)?;
    Ok(upright(image.into_rgb8(), orientation))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fuzzer's PNG header claiming 353 x 2,264,924,160 pixels is refused before any
    /// allocation, as a typed error.
    #[test]
    fn an_image_claiming_terabytes_is_refused() {
        // Embedded rather than read at run time: a test binary cargo reuses from a checkout at
        // another path would look for the file there.
        let bytes = include_bytes!("../fuzz/regressions/encoded_image/png_353x2264924160_allocation");
        let err = decode(bytes).unwrap_err();
        assert!(matches!(err, Error::InvalidImage(_)), "{err}");
        assert!(err.to_string().contains("353x2264924160"), "{err}");
    }
}
