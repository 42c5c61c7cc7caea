//! YUV 4:2:0 camera frames (what iOS and Android cameras deliver), read in place and turned
//! into upright RGB: the crop rectangle is converted, nothing else.
//!
//! One general form covers every layout: three planes, each with its own row stride and pixel
//! stride. NV12 (iOS '420f'/'420v'), NV21 (Android's default preview format) and I420 are
//! special cases ([`YuvImage::packed`]); Android's `YUV_420_888` is the general form as it is
//! (`pixelStride` 1 for planar chroma, 2 for the interleaved chroma of most devices).
//!
//! Colour: ITU-R BT.601 or BT.709 (`Kr`, `Kb` from the recommendations), full range (JPEG,
//! '420f') or video range (Y 16-235, chroma 16-240, '420v'), computed in 16-bit fixed point and
//! rounded to the nearest 8-bit value, so each channel is within one step of the exact
//! conversion.
//! Chroma is sampled at the nearest site (each 2x2 block of luma shares one chroma pair), as
//! libyuv and Android's `YuvImage` do.
//!
//! Written here rather than taken from a crate: yuvutils-rs (the maintained SIMD converter)
//! reads planar chroma with a pixel stride of 1 or bi-planar chroma from one buffer, not
//! CameraX's separate U and V buffers with a pixel stride of 2, so the general form needed its
//! own converter anyway, and the special cases are that converter with other strides. Its
//! inner loop runs in integers over contiguous rows and vectorises.

use image::RgbImage;

use crate::error::{Error, Result};
use crate::image_input::{geometry, orientation, upright};
use crate::region::Rect;

/// Luma/chroma matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum YuvMatrix {
    /// ITU-R BT.601 (`Kr` 0.299, `Kb` 0.114): SD video, JPEG, Android camera frames.
    #[default]
    Bt601,
    /// ITU-R BT.709 (`Kr` 0.2126, `Kb` 0.0722): HD video, iOS camera formats at 720p and up.
    Bt709,
}

impl YuvMatrix {
    /// `(Kr, Kb)`.
    fn weights(self) -> (f64, f64) {
        match self {
            YuvMatrix::Bt601 => (0.299, 0.114),
            YuvMatrix::Bt709 => (0.2126, 0.0722),
        }
    }
}

/// Which code values span black to white.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum YuvRange {
    /// 0-255 for luma and chroma (JPEG/JFIF; iOS '420f'; Android `YUV_420_888`).
    #[default]
    Full,
    /// Luma 16-235, chroma 16-240 (broadcast "limited" range; iOS '420v').
    Video,
}

/// One plane: `row_stride` bytes from one row to the next, `pixel_stride` bytes from one
/// sample to the next within a row.
#[derive(Debug, Clone, Copy)]
pub struct YuvPlane<'a> {
    /// The samples, read in place.
    pub data: &'a [u8],
    /// Bytes per row.
    pub row_stride: u32,
    /// Bytes per sample (1 planar, 2 interleaved).
    pub pixel_stride: u32,
}

impl<'a> YuvPlane<'a> {
    /// A plane described in Kotlin's and Swift's signed integers.
    pub fn from_signed(data: &'a [u8], row_stride: i64, pixel_stride: i64) -> Result<YuvPlane<'a>> {
        Ok(YuvPlane { data, row_stride: geometry(row_stride, "row stride")?, pixel_stride: geometry(pixel_stride, "pixel stride")? })
    }

    /// The U and V planes of one plane of interleaved chroma pairs, U first (NV12) or, with
    /// `v_first`, V first (NV21).
    pub fn interleaved(data: &'a [u8], row_stride: u32, v_first: bool) -> (YuvPlane<'a>, YuvPlane<'a>) {
        let first = YuvPlane { data, row_stride, pixel_stride: 2 };
        let second = YuvPlane { data: data.get(1..).unwrap_or(&[]), ..first };
        if v_first { (second, first) } else { (first, second) }
    }

    /// Checks that `columns` x `rows` samples fit, naming the plane in the error.
    fn check(&self, name: &'static str, columns: usize, rows: usize) -> Result<()> {
        let (row_stride, pixel_stride) = (self.row_stride as usize, self.pixel_stride as usize);
        if pixel_stride == 0 {
            return Err(Error::InvalidGeometry(format!("the {name} plane's pixel stride is 0")));
        }
        let row_bytes = (columns - 1)
            .checked_mul(pixel_stride)
            .map(|n| n + 1)
            .ok_or_else(|| Error::InvalidGeometry(format!("the {name} plane's row size overflows")))?;
        if row_stride < row_bytes {
            return Err(Error::InvalidGeometry(format!(
                "the {name} plane's row stride {row_stride} is shorter than a row of {columns} samples {pixel_stride} bytes apart ({row_bytes} bytes)"
            )));
        }
        let needed = (rows - 1)
            .checked_mul(row_stride)
            .and_then(|n| n.checked_add(row_bytes))
            .ok_or_else(|| Error::InvalidGeometry(format!("the {name} plane's size overflows")))?;
        if self.data.len() < needed {
            return Err(Error::PlaneTooSmall { plane: name, len: self.data.len(), needed });
        }
        Ok(())
    }

    /// Row `row` from sample `column` on.
    fn row_from(&self, row: usize, column: usize) -> &'a [u8] {
        &self.data[row * self.row_stride as usize + column * self.pixel_stride as usize..]
    }
}

/// The layouts that pack all three planes into one buffer, one after another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum YuvLayout {
    /// Y plane, then one plane of interleaved U, V pairs (iOS '420f'/'420v', Android `NV12`).
    Nv12,
    /// Y plane, then interleaved V, U pairs (Android's `ImageFormat.NV21`).
    Nv21,
    /// Y plane, then the U plane, then the V plane, each chroma row `ceil(row_stride / 2)`
    /// bytes (`YUV420P`).
    I420,
}

/// A borrowed YUV 4:2:0 frame: luma `width` x `height`, chroma `ceil(width / 2)` x
/// `ceil(height / 2)`.
#[derive(Debug, Clone, Copy)]
pub struct YuvImage<'a> {
    /// Luma.
    pub y: YuvPlane<'a>,
    /// Blue-difference chroma (Cb).
    pub u: YuvPlane<'a>,
    /// Red-difference chroma (Cr).
    pub v: YuvPlane<'a>,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Colour matrix.
    pub matrix: YuvMatrix,
    /// Code range.
    pub range: YuvRange,
    /// The part of the frame to classify, in frame coordinates (`None`: all of it).
    pub crop: Option<Rect>,
    /// EXIF orientation 1-8 of the frame (1 = upright), applied after the crop.
    pub orientation: u8,
}

impl<'a> YuvImage<'a> {
    /// A frame whose planes lie one after another in `data`, luma rows `row_stride` bytes
    /// apart ([`YuvLayout`] says where the chroma is); BT.601 full range, upright, uncropped
    /// until the caller sets those fields.
    pub fn packed(data: &'a [u8], layout: YuvLayout, width: u32, height: u32, row_stride: u32) -> Result<YuvImage<'a>> {
        let luma_bytes = (row_stride as usize)
            .checked_mul(height as usize)
            .ok_or_else(|| Error::InvalidGeometry("buffer size overflows".into()))?;
        if data.len() < luma_bytes {
            return Err(Error::PlaneTooSmall { plane: "Y", len: data.len(), needed: luma_bytes });
        }
        let interleaved = matches!(layout, YuvLayout::Nv12 | YuvLayout::Nv21);
        if interleaved && (row_stride as usize) < 2 * width.div_ceil(2) as usize {
            return Err(Error::InvalidGeometry(format!(
                "row stride {row_stride} is shorter than a row of {} interleaved chroma pairs",
                width.div_ceil(2)
            )));
        }
        let (luma, chroma) = data.split_at(luma_bytes);
        let plane = |data, row_stride, pixel_stride| YuvPlane { data, row_stride, pixel_stride };
        let (u, v) = match layout {
            YuvLayout::Nv12 => YuvPlane::interleaved(chroma, row_stride, false),
            YuvLayout::Nv21 => YuvPlane::interleaved(chroma, row_stride, true),
            YuvLayout::I420 => {
                let chroma_stride = row_stride.div_ceil(2);
                let chroma_bytes = (chroma_stride as usize).saturating_mul(height.div_ceil(2) as usize).min(chroma.len());
                let (u, v) = chroma.split_at(chroma_bytes);
                (plane(u, chroma_stride, 1), plane(v, chroma_stride, 1))
            }
        };
        Ok(YuvImage {
            y: plane(luma, row_stride, 1),
            u,
            v,
            width,
            height,
            matrix: YuvMatrix::default(),
            range: YuvRange::default(),
            crop: None,
            orientation: 1,
        })
    }

    /// Checks the geometry and every plane's size, then converts the crop rectangle into an
    /// upright RGB image.
    pub fn to_rgb(&self) -> Result<RgbImage> {
        let (width, height) = (self.width as usize, self.height as usize);
        if width == 0 || height == 0 {
            return Err(Error::InvalidGeometry(format!("empty image {width}x{height}")));
        }
        self.y.check("Y", width, height)?;
        let (chroma_columns, chroma_rows) = (width.div_ceil(2), height.div_ceil(2));
        self.u.check("U", chroma_columns, chroma_rows)?;
        self.v.check("V", chroma_columns, chroma_rows)?;
        let orientation = orientation(self.orientation)?;
        let crop = Rect::within(self.crop, self.width, self.height)?;
        let (x0, columns) = (crop.x as usize, crop.width as usize);
        let coefficients = Coefficients::new(self.matrix, self.range);
        let mut rgb = vec![0u8; columns * crop.height as usize * 3];
        // Chroma sites the crop touches; a crop starting at an odd column starts at the
        // second pixel of its site.
        let (first, odd) = (x0 / 2, x0 % 2);
        let sites = (odd + columns).div_ceil(2);
        let mut luma = vec![0u8; columns];
        let (mut cb, mut cr) = (vec![0i32; 2 * sites], vec![0i32; 2 * sites]);
        let mut planes = [vec![0u8; columns], vec![0u8; columns], vec![0u8; columns]];
        for (row, out) in (crop.y as usize..).zip(rgb.chunks_exact_mut(columns * 3)) {
            // The row's samples, one per output pixel (chroma from the nearest site), gathered
            // into contiguous arrays whatever the pixel strides, so the arithmetic vectorises.
            let u_sites = self.u.row_from(row / 2, first).iter().step_by(self.u.pixel_stride as usize);
            let v_sites = self.v.row_from(row / 2, first).iter().step_by(self.v.pixel_stride as usize);
            let pairs = cb.chunks_exact_mut(2).zip(cr.chunks_exact_mut(2));
            for ((cb, cr), (&u, &v)) in pairs.zip(u_sites.zip(v_sites)) {
                cb.fill(i32::from(u) - 128);
                cr.fill(i32::from(v) - 128);
            }
            let y_row = self.y.row_from(row, x0);
            match self.y.pixel_stride {
                1 => luma.copy_from_slice(&y_row[..columns]),
                step => luma.iter_mut().enumerate().for_each(|(i, l)| *l = y_row[i * step as usize]),
            }
            coefficients.convert_row(&luma, &cb[odd..], &cr[odd..], &mut planes, out);
        }
        let image = RgbImage::from_raw(crop.width, crop.height, rgb).expect("width * height RGB pixels");
        Ok(upright(image, orientation))
    }
}

/// Fractional bits of the fixed-point coefficients: each is within 2^-17 of the exact value,
/// so a result is off the exact conversion by less than 0.004 of a step before rounding.
const FRACTION_BITS: u32 = 16;

/// The conversion folded into fixed-point weights (BT.601 §2.5.4 / BT.709 §3: E'R = E'Y +
/// 2(1-Kr) E'Cr, E'G = E'Y - 2Kb(1-Kb)/Kg E'Cb - 2Kr(1-Kr)/Kg E'Cr, E'B = E'Y + 2(1-Kb) E'Cb),
/// the range's scaling folded into each weight.
struct Coefficients {
    luma: i32,
    luma_offset: i32,
    red_cr: i32,
    green_cb: i32,
    green_cr: i32,
    blue_cb: i32,
}

impl Coefficients {
    fn new(matrix: YuvMatrix, range: YuvRange) -> Coefficients {
        let (kr, kb) = matrix.weights();
        let kg = 1.0 - kr - kb;
        let (luma_scale, luma_offset, chroma_scale) = match range {
            YuvRange::Full => (1.0, 0, 1.0),
            YuvRange::Video => (255.0 / 219.0, 16, 255.0 / 224.0),
        };
        let fixed = |weight: f64| (weight * f64::from(1u32 << FRACTION_BITS)).round() as i32;
        Coefficients {
            luma: fixed(luma_scale),
            luma_offset,
            red_cr: fixed(chroma_scale * 2.0 * (1.0 - kr)),
            green_cb: fixed(chroma_scale * 2.0 * kb * (1.0 - kb) / kg),
            green_cr: fixed(chroma_scale * 2.0 * kr * (1.0 - kr) / kg),
            blue_cb: fixed(chroma_scale * 2.0 * (1.0 - kb)),
        }
    }

    /// One row: `luma` samples and centred chroma (`cb`, `cr` minus 128) per pixel into
    /// interleaved RGB, rounded to nearest and clamped to 8 bits. Each channel is computed
    /// into its own array (a loop the compiler vectorises), then interleaved.
    fn convert_row(&self, luma: &[u8], cb: &[i32], cr: &[i32], planes: &mut [Vec<u8>; 3], out: &mut [u8]) {
        let half = 1 << (FRACTION_BITS - 1);
        let quantise = |value: i32| (value >> FRACTION_BITS).clamp(0, 255) as u8;
        let [red, green, blue] = planes;
        let n = luma.len();
        let (cb, cr, red, green, blue) = (&cb[..n], &cr[..n], &mut red[..n], &mut green[..n], &mut blue[..n]);
        for i in 0..n {
            let y = (i32::from(luma[i]) - self.luma_offset) * self.luma + half;
            red[i] = quantise(y + self.red_cr * cr[i]);
            green[i] = quantise(y - self.green_cb * cb[i] - self.green_cr * cr[i]);
            blue[i] = quantise(y + self.blue_cb * cb[i]);
        }
        for (pixel, ((&r, &g), &b)) in out.chunks_exact_mut(3).zip(red.iter().zip(green.iter()).zip(blue.iter())) {
            pixel.copy_from_slice(&[r, g, b]);
        }
    }
}
