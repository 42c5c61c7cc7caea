//! Records and enums that cross to Swift, and their conversions from the core's types.

use efficientformer::classify::{self, BackendChoice, ClassifierOptions};
use efficientformer::Variant;

use crate::error::EfficientFormerError;

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

/// How to load a classifier.
#[derive(Debug, Clone, uniffi::Record)]
pub struct ClassifierConfig {
    /// Device choice.
    pub backend: ComputeBackend,
    /// CPU threads (`nil`: one per core).
    #[uniffi(default = None)]
    pub cpu_threads: Option<u32>,
    /// Ranked classes per result.
    #[uniffi(default = 5)]
    pub top_k: u32,
    /// Directory for the GPU kernel cache (an app's caches directory).
    #[uniffi(default = None)]
    pub gpu_cache_dir: Option<String>,
    /// Fail unless the model is this variant (`s0`, `s1`, `s2`, `l`).
    #[uniffi(default = None)]
    pub expected_variant: Option<String>,
}

impl TryFrom<ClassifierConfig> for ClassifierOptions {
    type Error = EfficientFormerError;

    fn try_from(config: ClassifierConfig) -> Result<Self, Self::Error> {
        let expected_variant = config.expected_variant.as_deref().map(Variant::parse).transpose()?;
        Ok(ClassifierOptions {
            backend: config.backend.into(),
            cpu_threads: config.cpu_threads.map(|n| n as usize),
            top_k: config.top_k as usize,
            gpu_cache_dir: config.gpu_cache_dir.map(Into::into),
            expected_variant,
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
        }
    }
}
