//! The Swift-visible classifier: an `Arc`-held wrapper of [`efficientformer::classify::Classifier`]
//! (`Send + Sync`, so one instance serves many Swift tasks at once).

use std::path::Path;
use std::sync::Arc;

use efficientformer::classify::{self, ClassifierOptions, PixelBuffer};

use crate::error::EfficientFormerError;
use crate::types::{Classification, ClassifierConfig, ModelInfo, PixelFormat};

/// One loaded EfficientFormerV2 network on one device, wrapped in Swift by the hand-written
/// `EfficientFormer.Classifier`.
#[derive(Debug, uniffi::Object)]
pub struct NativeClassifier {
    inner: classify::Classifier,
}

type Result<T> = std::result::Result<T, EfficientFormerError>;

fn wrap(inner: efficientformer::Result<classify::Classifier>) -> Result<Arc<NativeClassifier>> {
    Ok(Arc::new(NativeClassifier { inner: inner? }))
}

#[uniffi::export]
impl NativeClassifier {
    /// Loads a model file: SDK or timm safetensors, or an official `.pth` checkpoint.
    #[uniffi::constructor]
    pub fn from_path(path: String, config: ClassifierConfig) -> Result<Arc<Self>> {
        wrap(classify::Classifier::from_path(Path::new(&path), ClassifierOptions::try_from(config)?))
    }

    /// Loads a model held in memory (an app asset), in any format `from_path` reads.
    #[uniffi::constructor]
    pub fn from_bytes(bytes: &[u8], config: ClassifierConfig) -> Result<Arc<Self>> {
        wrap(classify::Classifier::from_bytes(bytes, ClassifierOptions::try_from(config)?))
    }

    /// The embedded EfficientFormerV2-S0 with seeded, untrained weights: real latency,
    /// meaningless predictions.
    #[uniffi::constructor]
    pub fn embedded_default(config: ClassifierConfig) -> Result<Arc<Self>> {
        wrap(classify::Classifier::embedded_default(ClassifierOptions::try_from(config)?))
    }

    /// What this classifier runs.
    pub fn info(&self) -> ModelInfo {
        self.inner.info().into()
    }

    /// Runs one untimed inference so the first real call is not the slow one; returns its
    /// milliseconds.
    pub fn prewarm(&self) -> Result<f64> {
        Ok(self.inner.prewarm()?.as_secs_f64() * 1e3)
    }

    /// Classifies encoded image bytes (JPEG, PNG, WebP; EXIF orientation applied).
    pub fn classify_encoded(&self, bytes: &[u8]) -> Result<Classification> {
        Ok(self.inner.classify_encoded(bytes)?.into())
    }

    /// Classifies a pixel buffer read in place: `row_stride` bytes per row, `orientation` an
    /// EXIF code (1 = upright).
    pub fn classify_pixels(
        &self,
        pixels: &[u8],
        width: i64,
        height: i64,
        row_stride: i64,
        format: PixelFormat,
        orientation: i64,
    ) -> Result<Classification> {
        let buffer = PixelBuffer::from_signed(pixels, width, height, row_stride, format.into(), orientation)?;
        Ok(self.inner.classify_pixels(&buffer)?.into())
    }

    /// Classifies `batch` preprocessed images: `[batch, 3, 224, 224]` normalised floats,
    /// row-major.
    pub fn classify_tensor(&self, values: Vec<f32>, batch: u32) -> Result<Vec<Classification>> {
        let results = self.inner.classify_tensor(&values, batch as usize)?;
        Ok(results.into_iter().map(Into::into).collect())
    }
}
