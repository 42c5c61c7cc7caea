//! The one error type of the SDK. Every failure a caller can cause is a variant here with a
//! stable numeric [`Error::code`], which the Swift and Kotlin layers carry across unchanged.

use std::path::PathBuf;

/// Everything that can go wrong loading a model or running it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be read at all.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file asked for.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
    /// The bytes are not a readable safetensors or PyTorch file (corrupt, truncated, other
    /// format).
    #[error("not a readable model file: {0}")]
    InvalidModelFile(String),
    /// The file reads, but its tensors are not an EfficientFormerV2 network.
    #[error("not an EfficientFormerV2 checkpoint: {0}")]
    UnrecognizedModel(String),
    /// A tensor the network needs is absent.
    #[error("missing tensor `{key}` (expected shape {expected:?})")]
    MissingTensor {
        /// timm-layout key.
        key: String,
        /// Shape the network needs.
        expected: Vec<usize>,
    },
    /// The file holds a tensor this network has no place for.
    #[error("unexpected tensor `{key}` with shape {shape:?}")]
    UnexpectedTensor {
        /// Key as written in the file (timm layout after mapping).
        key: String,
        /// Its shape.
        shape: Vec<usize>,
    },
    /// A tensor has the wrong shape.
    #[error("tensor `{key}` has shape {found:?}, expected {expected:?}")]
    ShapeMismatch {
        /// timm-layout key.
        key: String,
        /// Shape the network needs.
        expected: Vec<usize>,
        /// Shape in the file.
        found: Vec<usize>,
    },
    /// A weight is stored in an element type the SDK does not read.
    #[error("tensor `{key}` is {dtype}; weights must be f32, f16 or bf16")]
    UnsupportedDtype {
        /// Key as written in the file.
        key: String,
        /// Element type found.
        dtype: String,
    },
    /// The model is a different network from the one asked for.
    #[error("the file holds EfficientFormerV2-{found}, not {expected}")]
    WrongVariant {
        /// Variant asked for.
        expected: String,
        /// Variant found.
        found: String,
    },
    /// An input tensor or argument is malformed.
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// The requested compute backend cannot run here.
    #[error("backend {backend} unavailable: {reason}")]
    BackendUnavailable {
        /// Backend asked for.
        backend: String,
        /// Why it cannot run.
        reason: String,
    },
    /// Encoded image bytes could not be decoded (corrupt, truncated, unsupported format).
    #[error("cannot decode image: {0}")]
    InvalidImage(String),
    /// A pixel format code the SDK does not know.
    #[error("unsupported pixel format {0}")]
    UnsupportedPixelFormat(String),
    /// A pixel buffer holds fewer bytes than its width, height and row stride need.
    #[error("pixel buffer of {len} bytes is too small: {width}x{height} with a row stride of {row_stride} needs {needed}")]
    BufferTooSmall {
        /// Bytes given.
        len: usize,
        /// Bytes needed.
        needed: usize,
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
        /// Bytes per row.
        row_stride: u32,
    },
    /// One plane of a YUV frame holds fewer bytes than the frame's geometry needs.
    #[error("the {plane} plane holds {len} bytes; the frame's width, height and strides need {needed}")]
    PlaneTooSmall {
        /// `Y`, `U` or `V`.
        plane: &'static str,
        /// Bytes given.
        len: usize,
        /// Bytes needed.
        needed: usize,
    },
    /// The caller cancelled the call (a cancelled Swift `Task` or Kotlin coroutine); the
    /// network stopped at the next stage boundary.
    #[error("cancelled")]
    Cancelled,
    /// Width, height, row stride, crop or orientation are impossible.
    #[error("invalid image geometry: {0}")]
    InvalidGeometry(String),
    /// The network produced a NaN or an infinity from finite weights and inputs: an overflow
    /// inside the model (weights far outside any trained range) or a faulty GPU driver. Never
    /// a ranking of meaningless scores.
    #[error("the {backend} backend computed non-finite {what}: {value} at index {index}")]
    NonFiniteOutput {
        /// Backend that ran the network.
        backend: String,
        /// Which output (`logits`, `stage 2 features`, ...).
        what: String,
        /// First non-finite position in the row-major output.
        index: usize,
        /// Its value (`NaN`, `inf`, `-inf`).
        value: f32,
    },
    /// A file could not be written.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file asked for.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    /// Stable numeric code of this error kind; codes are never reused or renumbered.
    pub fn code(&self) -> u32 {
        match self {
            Error::Io { .. } => 1,
            Error::InvalidModelFile(_) => 2,
            Error::UnrecognizedModel(_) => 3,
            Error::MissingTensor { .. } => 4,
            Error::UnexpectedTensor { .. } => 5,
            Error::ShapeMismatch { .. } => 6,
            Error::UnsupportedDtype { .. } => 7,
            Error::WrongVariant { .. } => 8,
            Error::InvalidInput(_) => 9,
            Error::BackendUnavailable { .. } => 10,
            Error::InvalidImage(_) => 11,
            Error::UnsupportedPixelFormat(_) => 12,
            Error::BufferTooSmall { .. } => 13,
            Error::InvalidGeometry(_) => 14,
            Error::Write { .. } => 15,
            Error::NonFiniteOutput { .. } => 16,
            Error::Cancelled => 17,
            Error::PlaneTooSmall { .. } => 18,
        }
    }
}

/// `Result` with the SDK's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;
