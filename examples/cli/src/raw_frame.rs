//! `classify --raw FILE`: a frame dumped from a camera or a bitmap, described on the command
//! line. Planes lie one after another in the file:
//!
//! | `--pixel-format` | layout | default `--row-stride` |
//! |---|---|---|
//! | `rgba8`, `bgra8`, `rgb8` | `height` rows of `row-stride` bytes | `width * 4` (`* 3`) |
//! | `nv12`, `nv21` | Y rows, then `ceil(height / 2)` rows of interleaved chroma pairs (U,V / V,U), all `row-stride` bytes | width rounded up to even |
//! | `i420` | Y rows, then the U and V planes, each `ceil(height / 2)` rows of `ceil(row-stride / 2)` bytes | `width` |

use std::path::PathBuf;

use clap::ValueEnum;
use efficientformer::classify::image_input::{PixelBuffer, PixelFormat};
use efficientformer::classify::{ImageInput, Rect, YuvImage, YuvLayout, YuvMatrix, YuvRange};
use efficientformer::{Error, Result};

/// How a `--raw` frame is laid out.
#[derive(clap::Args)]
pub struct RawArgs {
    /// A raw frame to classify instead of encoded images (layout: see --pixel-format).
    #[arg(long, requires_all = ["pixel_format", "width", "height"])]
    pub raw: Option<PathBuf>,
    /// Memory layout of the --raw frame.
    #[arg(long, value_enum)]
    pixel_format: Option<RawFormat>,
    /// Width of the --raw frame in pixels.
    #[arg(long)]
    width: Option<u32>,
    /// Height of the --raw frame in pixels.
    #[arg(long)]
    height: Option<u32>,
    /// Bytes from one row to the next (of the Y plane for YUV); default: rows packed.
    #[arg(long)]
    row_stride: Option<u32>,
    /// YUV colour matrix.
    #[arg(long, value_enum, default_value = "bt601")]
    matrix: MatrixArg,
    /// YUV code range (full: JPEG, Android, iOS '420f'; video: 16-235, iOS '420v').
    #[arg(long, value_enum, default_value = "full")]
    range: RangeArg,
    /// Part of the frame to classify, in frame pixels: X,Y,WIDTH,HEIGHT.
    #[arg(long, value_parser = parse_crop)]
    crop: Option<Rect>,
    /// EXIF orientation of the frame (1 upright, 6 a portrait phone's back camera, ...).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u8).range(1..=8))]
    orientation: u8,
}

#[derive(Clone, Copy, ValueEnum)]
enum RawFormat {
    Nv12,
    Nv21,
    I420,
    Rgba8,
    Bgra8,
    Rgb8,
}

#[derive(Clone, Copy, ValueEnum)]
enum MatrixArg {
    Bt601,
    Bt709,
}

#[derive(Clone, Copy, ValueEnum)]
enum RangeArg {
    Full,
    Video,
}

fn parse_crop(text: &str) -> std::result::Result<Rect, String> {
    let fields: Vec<u32> = text.split(',').map(|f| f.trim().parse::<u32>()).collect::<std::result::Result<_, _>>()
        .map_err(|e| format!("{e}: expected X,Y,WIDTH,HEIGHT"))?;
    match fields[..] {
        [x, y, width, height] => Ok(Rect { x, y, width, height }),
        _ => Err("expected four numbers: X,Y,WIDTH,HEIGHT".into()),
    }
}

impl RawArgs {
    /// The frame `data` holds, as these arguments describe it.
    pub fn input<'a>(&self, data: &'a [u8]) -> Result<ImageInput<'a>> {
        let missing = || Error::InvalidInput("--raw needs --pixel-format, --width and --height".into());
        let (format, width, height) = (self.pixel_format.ok_or_else(missing)?, self.width.ok_or_else(missing)?, self.height.ok_or_else(missing)?);
        let pixels = |format: PixelFormat| {
            let row_stride = self.row_stride.unwrap_or(width.saturating_mul(format.bytes_per_pixel() as u32));
            ImageInput::Pixels(PixelBuffer { data, width, height, row_stride, format, orientation: self.orientation, crop: self.crop })
        };
        let yuv = |layout: YuvLayout| -> Result<ImageInput<'a>> {
            let packed = if layout == YuvLayout::I420 { width } else { width.div_ceil(2) * 2 };
            let mut frame = YuvImage::packed(data, layout, width, height, self.row_stride.unwrap_or(packed))?;
            frame.matrix = match self.matrix {
                MatrixArg::Bt601 => YuvMatrix::Bt601,
                MatrixArg::Bt709 => YuvMatrix::Bt709,
            };
            frame.range = match self.range {
                RangeArg::Full => YuvRange::Full,
                RangeArg::Video => YuvRange::Video,
            };
            (frame.crop, frame.orientation) = (self.crop, self.orientation);
            Ok(ImageInput::Yuv(frame))
        };
        match format {
            RawFormat::Rgba8 => Ok(pixels(PixelFormat::Rgba8)),
            RawFormat::Bgra8 => Ok(pixels(PixelFormat::Bgra8)),
            RawFormat::Rgb8 => Ok(pixels(PixelFormat::Rgb8)),
            RawFormat::Nv12 => yuv(YuvLayout::Nv12),
            RawFormat::Nv21 => yuv(YuvLayout::Nv21),
            RawFormat::I420 => yuv(YuvLayout::I420),
        }
    }
}
