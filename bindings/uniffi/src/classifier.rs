//! The Swift-visible classifier: an `Arc`-held wrapper of [`efficientformer::classify::Classifier`]
//! (`Send + Sync`, so one instance serves many Swift tasks at once).

use std::path::Path;
use std::sync::Arc;

use efficientformer::classify::{self, CancelToken, ClassifierOptions, ImageInput, PixelBuffer};

use crate::error::NativeError;
use crate::types::{Classification, ClassifierConfig, CropRect, ModelInfo, PixelFormat, YuvFrame};

/// A flag the Swift layer cancels when the `Task` awaiting a call is cancelled; the call then
/// ends with `NativeError::Cancelled` at its next check (before each network stage).
#[derive(Debug, Default, uniffi::Object)]
pub struct CancellationToken(CancelToken);

#[uniffi::export]
impl CancellationToken {
    /// A token not yet cancelled.
    #[uniffi::constructor]
    pub fn new() -> Arc<Self> {
        Arc::default()
    }

    /// Asks the calls holding this token to stop.
    pub fn cancel(&self) {
        self.0.cancel();
    }

    /// Whether [`CancellationToken::cancel`] was called.
    pub fn is_cancelled(&self) -> bool {
        self.0.is_cancelled()
    }
}

/// One loaded EfficientFormerV2 network on one device, wrapped in Swift by the hand-written
/// `EfficientFormer.Classifier`.
#[derive(Debug, uniffi::Object)]
pub struct NativeClassifier {
    inner: classify::Classifier,
}

type Result<T> = std::result::Result<T, NativeError>;

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
    pub fn classify_encoded(&self, bytes: &[u8], cancel: Option<Arc<CancellationToken>>) -> Result<Classification> {
        self.classify(ImageInput::Encoded(bytes), cancel)
    }

    /// Classifies 8-bit pixels: `row_stride` bytes per row, `crop` in buffer pixels,
    /// `orientation` an EXIF code (1 = upright) applied after the crop.
    #[allow(clippy::too_many_arguments)]
    pub fn classify_pixels(
        &self,
        pixels: &[u8],
        width: i64,
        height: i64,
        row_stride: i64,
        format: PixelFormat,
        crop: Option<CropRect>,
        orientation: i64,
        cancel: Option<Arc<CancellationToken>>,
    ) -> Result<Classification> {
        let mut buffer = PixelBuffer::from_signed(pixels, width, height, row_stride, format.into(), orientation)?;
        buffer.crop = crop.map(TryInto::try_into).transpose()?;
        self.classify(ImageInput::Pixels(buffer), cancel)
    }

    /// Classifies a YUV 4:2:0 camera frame: `crop` in frame pixels, `orientation` an EXIF code
    /// applied after the crop.
    pub fn classify_yuv(
        &self,
        frame: YuvFrame,
        crop: Option<CropRect>,
        orientation: i64,
        cancel: Option<Arc<CancellationToken>>,
    ) -> Result<Classification> {
        self.classify(ImageInput::Yuv(frame.view(crop, orientation)?), cancel)
    }

    /// Classifies `batch` preprocessed images: `[batch, 3, 224, 224]` normalised floats,
    /// row-major.
    pub fn classify_tensor(&self, values: Vec<f32>, batch: u32) -> Result<Vec<Classification>> {
        let results = self.inner.classify_tensor(&values, batch as usize)?;
        Ok(results.into_iter().map(Into::into).collect())
    }
}

impl NativeClassifier {
    fn classify(&self, input: ImageInput<'_>, cancel: Option<Arc<CancellationToken>>) -> Result<Classification> {
        let token = cancel.map_or_else(CancelToken::new, |token| token.0.clone());
        Ok(self.inner.classify_cancellable(input, &token)?.into())
    }
}
