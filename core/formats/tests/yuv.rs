//! YUV 4:2:0 conversion against numpy's float64 conversion with the recommendations'
//! coefficients (`core/reference/yuv_fixtures.py`, itself checked against PIL), in every
//! layout a camera hands over: I420, NV12, NV21 and CameraX's three planes with interleaved
//! chroma, with padded rows, odd sizes, crops and orientations.

use efficientformer_formats::Error;
use efficientformer_formats::image_input::{PixelBuffer, PixelFormat};
use efficientformer_formats::region::Rect;
use efficientformer_formats::yuv::{YuvImage, YuvLayout, YuvMatrix, YuvPlane, YuvRange};
use safetensors::SafeTensors;

struct Planes {
    width: usize,
    height: usize,
    y: Vec<u8>,
    u: Vec<u8>,
    v: Vec<u8>,
    file: Vec<u8>,
}

impl Planes {
    fn load() -> Planes {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/yuv/planes.safetensors");
        let file = std::fs::read(path).unwrap();
        let tensors = SafeTensors::deserialize(&file).unwrap();
        let read = |name: &str| tensors.tensor(name).unwrap().data().to_vec();
        let shape = tensors.tensor("y").unwrap().shape().to_vec();
        let (y, u, v) = (read("y"), read("u"), read("v"));
        Planes { width: shape[1], height: shape[0], y, u, v, file }
    }

    fn expected(&self, matrix: &str, range: &str) -> Vec<u8> {
        let tensors = SafeTensors::deserialize(&self.file).unwrap();
        tensors.tensor(&format!("rgb_{matrix}_{range}")).unwrap().data().to_vec()
    }

    fn chroma_dims(&self) -> (usize, usize) {
        (self.width.div_ceil(2), self.height.div_ceil(2))
    }

    /// `rows` of `row_bytes` each padded to `stride` with 0xEE (which a reader must skip).
    fn padded(rows: &[u8], row_bytes: usize, stride: usize) -> Vec<u8> {
        rows.chunks(row_bytes).flat_map(|row| row.iter().copied().chain(std::iter::repeat_n(0xEE, stride - row_bytes))).collect()
    }

    /// Interleaved chroma rows (`first`, `second` alternating), padded to `stride`.
    fn interleaved(&self, first: &[u8], second: &[u8], stride: usize) -> Vec<u8> {
        let (columns, _) = self.chroma_dims();
        let pairs: Vec<u8> = first.iter().zip(second).flat_map(|(&a, &b)| [a, b]).collect();
        Planes::padded(&pairs, 2 * columns, stride)
    }

    /// One buffer in `layout` with luma rows `stride` bytes apart.
    fn packed(&self, layout: YuvLayout, stride: usize) -> Vec<u8> {
        let mut data = Planes::padded(&self.y, self.width, stride);
        let (columns, _) = self.chroma_dims();
        match layout {
            YuvLayout::Nv12 => data.extend(self.interleaved(&self.u, &self.v, stride)),
            YuvLayout::Nv21 => data.extend(self.interleaved(&self.v, &self.u, stride)),
            YuvLayout::I420 => {
                data.extend(Planes::padded(&self.u, columns, stride.div_ceil(2)));
                data.extend(Planes::padded(&self.v, columns, stride.div_ceil(2)));
            }
        }
        data
    }
}

fn assert_within_one_step(what: &str, ours: &[u8], expected: &[u8]) {
    assert_eq!(ours.len(), expected.len(), "{what}: size");
    let worst = ours.iter().zip(expected).map(|(a, b)| a.abs_diff(*b)).max().unwrap();
    assert!(worst <= 1, "{what}: max |diff| {worst} steps");
}

const COLOURS: [(YuvMatrix, &str, YuvRange, &str); 4] = [
    (YuvMatrix::Bt601, "bt601", YuvRange::Full, "full"),
    (YuvMatrix::Bt601, "bt601", YuvRange::Video, "video"),
    (YuvMatrix::Bt709, "bt709", YuvRange::Full, "full"),
    (YuvMatrix::Bt709, "bt709", YuvRange::Video, "video"),
];

#[test]
fn packed_layouts_match_numpy_in_every_colour_space() {
    let planes = Planes::load();
    for layout in [YuvLayout::I420, YuvLayout::Nv12, YuvLayout::Nv21] {
        // An interleaved chroma row of an odd width is one byte longer than its luma row.
        let narrowest = if layout == YuvLayout::I420 { planes.width } else { 2 * planes.chroma_dims().0 };
        for stride in [narrowest, narrowest + 1, 64] {
            let data = planes.packed(layout, stride);
            for (matrix, matrix_name, range, range_name) in COLOURS {
                let mut frame = YuvImage::packed(&data, layout, planes.width as u32, planes.height as u32, stride as u32).unwrap();
                (frame.matrix, frame.range) = (matrix, range);
                let what = format!("{layout:?} stride {stride} {matrix_name} {range_name}");
                assert_within_one_step(&what, frame.to_rgb().unwrap().as_raw(), &planes.expected(matrix_name, range_name));
            }
        }
    }
}

/// CameraX `YUV_420_888` on most devices: three `ByteBuffer`s, chroma with `pixelStride` 2
/// viewing one interleaved plane (U at its first byte, V at its second), each buffer ending at
/// its last sample, and rows padded; and the planar form with `pixelStride` 1.
#[test]
fn three_planes_with_both_pixel_strides_match_numpy() {
    let planes = Planes::load();
    let (columns, rows) = planes.chroma_dims();
    let expected = planes.expected("bt601", "full");
    let y_stride = 48;
    let y = Planes::padded(&planes.y, planes.width, y_stride);
    for chroma_stride in [2 * columns, 2 * columns + 6] {
        let interleaved = planes.interleaved(&planes.u, &planes.v, chroma_stride);
        let end = (rows - 1) * chroma_stride + 2 * (columns - 1) + 1;
        let (u, v) = (&interleaved[..end], &interleaved[1..end + 1]);
        let frame = YuvImage {
            y: YuvPlane { data: &y, row_stride: y_stride as u32, pixel_stride: 1 },
            u: YuvPlane { data: u, row_stride: chroma_stride as u32, pixel_stride: 2 },
            v: YuvPlane { data: v, row_stride: chroma_stride as u32, pixel_stride: 2 },
            ..YuvImage::packed(&y, YuvLayout::I420, planes.width as u32, planes.height as u32, y_stride as u32).unwrap()
        };
        assert_within_one_step(&format!("pixel stride 2, row stride {chroma_stride}"), frame.to_rgb().unwrap().as_raw(), &expected);
    }
    let (u, v) = (Planes::padded(&planes.u, columns, 24), Planes::padded(&planes.v, columns, 24));
    let frame = YuvImage {
        y: YuvPlane { data: &y, row_stride: y_stride as u32, pixel_stride: 1 },
        u: YuvPlane { data: &u[..(rows - 1) * 24 + columns], row_stride: 24, pixel_stride: 1 },
        v: YuvPlane { data: &v, row_stride: 24, pixel_stride: 1 },
        ..YuvImage::packed(&y, YuvLayout::I420, planes.width as u32, planes.height as u32, y_stride as u32).unwrap()
    };
    assert_within_one_step("pixel stride 1", frame.to_rgb().unwrap().as_raw(), &expected);
}

/// Crops (odd corners split chroma pairs) and orientations give what the RGB path gives on
/// numpy's RGB image with the same crop and orientation.
#[test]
fn crops_and_orientations_agree_with_the_rgb_path() {
    let planes = Planes::load();
    let expected = planes.expected("bt709", "video");
    let data = planes.packed(YuvLayout::Nv12, planes.width + 3);
    let (width, height) = (planes.width as u32, planes.height as u32);
    let crops = [None, Some(Rect { x: 3, y: 5, width: 17, height: 11 }), Some(Rect { x: 36, y: 22, width: 1, height: 1 })];
    for crop in crops {
        for orientation in 1..=8 {
            let mut frame = YuvImage::packed(&data, YuvLayout::Nv12, width, height, width + 3).unwrap();
            (frame.matrix, frame.range, frame.crop, frame.orientation) = (YuvMatrix::Bt709, YuvRange::Video, crop, orientation);
            let ours = frame.to_rgb().unwrap();
            let rgb = PixelBuffer { data: &expected, width, height, row_stride: width * 3, format: PixelFormat::Rgb8, orientation, crop };
            let reference = rgb.to_rgb().unwrap();
            let what = format!("crop {crop:?} orientation {orientation}");
            assert_eq!(ours.dimensions(), reference.dimensions(), "{what}");
            assert_within_one_step(&what, ours.as_raw(), reference.as_raw());
        }
    }
}

#[test]
fn malformed_frames_are_typed_errors() {
    let planes = Planes::load();
    let (width, height) = (planes.width as u32, planes.height as u32);
    let stride = width + 1;
    let data = planes.packed(YuvLayout::Nv21, stride as usize);
    let frame = |data| YuvImage::packed(data, YuvLayout::Nv21, width, height, stride);

    // NV21 rows end with a U sample: cutting the last byte shortens the U plane.
    let short = frame(&data[..data.len() - 1]).unwrap().to_rgb().unwrap_err();
    assert!(matches!(short, Error::PlaneTooSmall { plane: "U", .. }), "{short}");
    let no_chroma = frame(&data[..(stride * height) as usize]).unwrap().to_rgb().unwrap_err();
    assert!(matches!(no_chroma, Error::PlaneTooSmall { .. }), "{no_chroma}");
    assert!(matches!(frame(&data[..10]).unwrap_err(), Error::PlaneTooSmall { plane: "Y", .. }));

    let mut zero_stride = frame(&data).unwrap();
    zero_stride.u.pixel_stride = 0;
    assert!(matches!(zero_stride.to_rgb().unwrap_err(), Error::InvalidGeometry(_)));
    let mut narrow = frame(&data).unwrap();
    narrow.y.row_stride = width - 1;
    assert!(matches!(YuvImage::packed(&data, YuvLayout::Nv12, width, height, width).unwrap_err(), Error::InvalidGeometry(_)));
    assert!(matches!(narrow.to_rgb().unwrap_err(), Error::InvalidGeometry(_)));
    let mut outside = frame(&data).unwrap();
    outside.crop = Some(Rect { x: 30, y: 0, width: 8, height: 4 });
    assert!(matches!(outside.to_rgb().unwrap_err(), Error::InvalidGeometry(_)));
    let mut turned = frame(&data).unwrap();
    turned.orientation = 9;
    assert!(matches!(turned.to_rgb().unwrap_err(), Error::InvalidGeometry(_)));
    let empty = YuvImage::packed(&data, YuvLayout::Nv12, 0, height, width).unwrap().to_rgb().unwrap_err();
    assert!(matches!(empty, Error::InvalidGeometry(_)));
    assert!(YuvPlane::from_signed(&data, -1, 1).is_err());
}
