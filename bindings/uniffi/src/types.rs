//! Records and enums that cross to Swift, and their conversions from the core's types.

use efficientformer::classify::image_input::geometry;
use efficientformer::classify::{self, BackendChoice, ClassifierOptions};
use efficientformer::{Precision, Variant};

use crate::error::NativeError;

/// Where inference runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ComputeBackend {
    /// The GPU (Metal) when it initialises and passes a self-check, else the CPU.
    Auto,
    /// The CPU.
    Cpu,
    /// The GPU; loading fails when none is usable.
    Gpu,
}

impl From<ComputeBackend> for BackendChoice {
    fn from(backend: ComputeBackend) -> Self {
        match backend {
            ComputeBackend::Auto => BackendChoice::Auto,
            ComputeBackend::Cpu => BackendChoice::Cpu,
            ComputeBackend::Gpu => BackendChoice::Gpu,
        }
    }
}

/// The arithmetic a classifier runs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ComputePrecision {
    /// 32-bit floats: the reference, within 1e-4 of PyTorch.
    F32,
    /// 16-bit floats on a CPU with half-precision arithmetic (Apple A11 and later), about half
    /// the instructions of `f32`, and on a GPU that stores them (every Apple GPU): half the
    /// bytes per launch, `f32` arithmetic; `f32` elsewhere. `ModelInfo.precision` and
    /// `Classification.precision` say which ran.
    F16,
}

impl From<ComputePrecision> for Precision {
    fn from(precision: ComputePrecision) -> Self {
        match precision {
            ComputePrecision::F32 => Precision::F32,
            ComputePrecision::F16 => Precision::F16,
        }
    }
}

impl From<Precision> for ComputePrecision {
    fn from(precision: Precision) -> Self {
        match precision {
            Precision::F32 => ComputePrecision::F32,
            Precision::F16 => ComputePrecision::F16,
        }
    }
}

/// How to load a classifier.
#[derive(Debug, Clone, uniffi::Record)]
pub struct ClassifierConfig {
    /// Device choice.
    pub backend: ComputeBackend,
    /// CPU threads (`nil`: one per core).
    #[uniffi(default = None)]
    pub cpu_threads: Option<u32>,
    /// Ranked classes per result, at most.
    #[uniffi(default = 5)]
    pub top_k: u32,
    /// Least probability (0-1) of a ranked class.
    #[uniffi(default = 0.0)]
    pub score_threshold: f32,
    /// One name per class (`nil`: the model file's, else ImageNet-1k, else `class N`).
    #[uniffi(default = None)]
    pub labels: Option<Vec<String>>,
    /// Also return the pooled features before the classifier.
    #[uniffi(default = false)]
    pub embedding: bool,
    /// Directory for the GPU kernel cache (an app's caches directory).
    #[uniffi(default = None)]
    pub gpu_cache_dir: Option<String>,
    /// Fail unless the model is this variant (`s0`, `s1`, `s2`, `l`).
    #[uniffi(default = None)]
    pub expected_variant: Option<String>,
    /// The arithmetic to run in (`nil`: `f32`).
    #[uniffi(default = None)]
    pub precision: Option<ComputePrecision>,
}

impl TryFrom<ClassifierConfig> for ClassifierOptions {
    type Error = NativeError;

    fn try_from(config: ClassifierConfig) -> Result<Self, Self::Error> {
        let expected_variant = config.expected_variant.as_deref().map(Variant::parse).transpose()?;
        Ok(ClassifierOptions {
            backend: config.backend.into(),
            cpu_threads: config.cpu_threads.map(|n| n as usize),
            top_k: config.top_k as usize,
            score_threshold: config.score_threshold,
            labels: config.labels,
            embedding: config.embedding,
            gpu_cache_dir: config.gpu_cache_dir.map(Into::into),
            expected_variant,
            precision: config.precision.map_or(Precision::F32, Into::into),
        })
    }
}

/// Memory layout of a pixel buffer (8 bits per channel).
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum PixelFormat {
    /// Red, green, blue, alpha.
    Rgba8,
    /// Blue, green, red, alpha (`kCVPixelFormatType_32BGRA`).
    Bgra8,
    /// Red, green, blue.
    Rgb8,
}

impl From<PixelFormat> for classify::PixelFormat {
    fn from(format: PixelFormat) -> Self {
        match format {
            PixelFormat::Rgba8 => classify::PixelFormat::Rgba8,
            PixelFormat::Bgra8 => classify::PixelFormat::Bgra8,
            PixelFormat::Rgb8 => classify::PixelFormat::Rgb8,
        }
    }
}

/// A rectangle in a frame's pixels, origin at its top-left, before its orientation applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct CropRect {
    /// First column.
    pub x: i64,
    /// First row.
    pub y: i64,
    /// Columns.
    pub width: i64,
    /// Rows.
    pub height: i64,
}

impl TryFrom<CropRect> for classify::Rect {
    type Error = efficientformer::Error;

    fn try_from(rect: CropRect) -> Result<Self, Self::Error> {
        classify::Rect::from_signed(rect.x, rect.y, rect.width, rect.height)
    }
}

/// YUV colour matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum YuvMatrix {
    /// ITU-R BT.601 (SD; JPEG; Android cameras).
    Bt601,
    /// ITU-R BT.709 (HD; iOS camera formats at 720p and up).
    Bt709,
}

/// YUV code range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum YuvRange {
    /// 0-255 ('420f').
    Full,
    /// Luma 16-235, chroma 16-240 ('420v').
    Video,
}

/// Where a YUV frame's chroma lies.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum YuvChroma {
    /// One plane of interleaved pairs: Cb, Cr (NV12: iOS '420f'/'420v') or, with `v_first`,
    /// Cr, Cb (NV21).
    Interleaved { data: Vec<u8>, row_stride: i64, v_first: bool },
    /// Separate Cb and Cr planes, each with its row and pixel stride (I420; Android's
    /// `YUV_420_888`).
    Planar { u: Vec<u8>, u_row_stride: i64, u_pixel_stride: i64, v: Vec<u8>, v_row_stride: i64, v_pixel_stride: i64 },
}

/// A YUV 4:2:0 frame: luma `width` x `height`, chroma `ceil(width / 2)` x `ceil(height / 2)`.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct YuvFrame {
    /// Luma samples.
    pub y: Vec<u8>,
    /// Bytes per luma row.
    pub y_row_stride: i64,
    /// Chroma samples.
    pub chroma: YuvChroma,
    /// Width in pixels.
    pub width: i64,
    /// Height in pixels.
    pub height: i64,
    /// Colour matrix.
    pub matrix: YuvMatrix,
    /// Code range.
    pub range: YuvRange,
}

impl YuvFrame {
    /// The core's view of this frame, with `crop` and `orientation`.
    pub fn view(&self, crop: Option<CropRect>, orientation: i64) -> efficientformer::Result<classify::YuvImage<'_>> {
        let (width, height) = (geometry(self.width, "width")?, geometry(self.height, "height")?);
        let plane = classify::YuvPlane::from_signed;
        let (u, v) = match &self.chroma {
            YuvChroma::Interleaved { data, row_stride, v_first } => {
                classify::YuvPlane::interleaved(data, geometry(*row_stride, "row stride")?, *v_first)
            }
            YuvChroma::Planar { u, u_row_stride, u_pixel_stride, v, v_row_stride, v_pixel_stride } => {
                (plane(u, *u_row_stride, *u_pixel_stride)?, plane(v, *v_row_stride, *v_pixel_stride)?)
            }
        };
        Ok(classify::YuvImage {
            y: plane(&self.y, self.y_row_stride, 1)?,
            u,
            v,
            width,
            height,
            matrix: match self.matrix {
                YuvMatrix::Bt601 => classify::YuvMatrix::Bt601,
                YuvMatrix::Bt709 => classify::YuvMatrix::Bt709,
            },
            range: match self.range {
                YuvRange::Full => classify::YuvRange::Full,
                YuvRange::Video => classify::YuvRange::Video,
            },
            crop: crop.map(TryInto::try_into).transpose()?,
            orientation: classify::image_input::exif_code(orientation)?,
        })
    }
}

/// One ranked class.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Prediction {
    /// ImageNet-1k class index.
    pub class_index: u32,
    /// Human-readable label.
    pub label: String,
    /// Softmax probability.
    pub score: f32,
}

/// The result for one image.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Classification {
    /// The top-k classes, best first.
    pub top: Vec<Prediction>,
    /// Softmax over all classes.
    pub probabilities: Vec<f32>,
    /// Raw logits (the distillation-averaged head, as timm's eval forward).
    pub logits: Vec<f32>,
    /// Pooled features before the classifier, when the classifier was built with `embedding`.
    pub embedding: Option<Vec<f32>>,
    /// The precision the network ran in.
    pub precision: ComputePrecision,
}

impl From<classify::Classification> for Classification {
    fn from(result: classify::Classification) -> Self {
        Classification {
            top: result
                .top
                .into_iter()
                .map(|p| Prediction { class_index: p.class_index, label: p.label, score: p.score })
                .collect(),
            probabilities: result.probabilities,
            logits: result.logits,
            embedding: result.embedding,
            precision: result.precision.into(),
        }
    }
}

/// What a loaded classifier runs.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct ModelInfo {
    /// `s0`, `s1`, `s2`, `l` or `custom`.
    pub variant: String,
    /// Backend in use (`flex`, `ndarray`, `wgpu`, ...).
    pub backend: String,
    /// `cpu` or the GPU adapter's name.
    pub adapter: String,
    /// Why `auto` did not choose the GPU.
    pub backend_note: Option<String>,
    /// Parameter count.
    pub parameters: u64,
    /// Multiply-accumulates for one 224x224 image (billions, toolbox rules).
    pub gmacs: f64,
    /// Element type of the weights file.
    pub weight_dtype: String,
    /// Seeded, untrained weights (the embedded default): predictions mean nothing.
    pub untrained: bool,
    /// Classes the head predicts.
    pub num_classes: u32,
    /// The precision that runs (`f32` where `f16` was asked for without hardware support).
    pub precision: ComputePrecision,
}

impl From<&classify::ModelInfo> for ModelInfo {
    fn from(info: &classify::ModelInfo) -> Self {
        ModelInfo {
            variant: info.variant.name().to_string(),
            backend: info.backend.name().to_string(),
            adapter: info.adapter.clone(),
            backend_note: info.backend_note.clone(),
            parameters: info.parameters as u64,
            gmacs: info.gmacs,
            weight_dtype: info.weight_dtype.name().to_string(),
            untrained: info.untrained,
            num_classes: info.config.num_classes as u32,
            precision: info.precision.into(),
        }
    }
}
