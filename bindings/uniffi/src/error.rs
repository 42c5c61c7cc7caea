//! The error the generated bindings throw: one case per kind of core [`efficientformer::Error`],
//! each carrying the core's stable code and its message. The Swift layer maps it onto its own
//! `EfficientFormerError` (Swift-convention case names, `LocalizedError`) and `CancellationError`.

/// A failure in the SDK. `code` is [`efficientformer::Error::code`]: stable across releases
/// and equal in Rust, Swift and Kotlin.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum NativeError {
    /// A file could not be read.
    #[error("{message}")]
    Io { code: u32, message: String },
    /// Not a readable safetensors or PyTorch file.
    #[error("{message}")]
    InvalidModelFile { code: u32, message: String },
    /// A readable file that is not an EfficientFormerV2 network (missing, unexpected or
    /// misshapen tensors, or an unsupported element type).
    #[error("{message}")]
    UnrecognizedModel { code: u32, message: String },
    /// The file holds another variant than the one asked for.
    #[error("{message}")]
    WrongVariant { code: u32, message: String },
    /// An argument or input tensor is malformed.
    #[error("{message}")]
    InvalidInput { code: u32, message: String },
    /// The requested compute backend cannot run on this device.
    #[error("{message}")]
    BackendUnavailable { code: u32, message: String },
    /// Encoded image bytes could not be decoded.
    #[error("{message}")]
    InvalidImage { code: u32, message: String },
    /// A pixel buffer is too small, or its width, height, stride, format or orientation are
    /// impossible.
    #[error("{message}")]
    InvalidPixelBuffer { code: u32, message: String },
    /// A file could not be written.
    #[error("{message}")]
    Write { code: u32, message: String },
    /// The network computed a NaN or an infinity (an overflow inside the model, or a faulty
    /// GPU driver); no scores are returned.
    #[error("{message}")]
    NonFiniteOutput { code: u32, message: String },
    /// The call's cancellation token was cancelled.
    #[error("{message}")]
    Cancelled { code: u32, message: String },
    /// A failure inside the SDK itself (a panic, code 0): a bug, please report it. The Swift
    /// layer raises it for UniFFI's internal errors; Rust never returns it.
    #[error("{message}")]
    Internal { code: u32, message: String },
}

impl From<efficientformer::Error> for NativeError {
    fn from(error: efficientformer::Error) -> Self {
        use efficientformer::Error as E;
        let code = error.code();
        let message = error.to_string();
        match error {
            E::Io { .. } => Self::Io { code, message },
            E::InvalidModelFile(_) => Self::InvalidModelFile { code, message },
            E::UnrecognizedModel(_)
            | E::MissingTensor { .. }
            | E::UnexpectedTensor { .. }
            | E::ShapeMismatch { .. }
            | E::UnsupportedDtype { .. } => Self::UnrecognizedModel { code, message },
            E::WrongVariant { .. } => Self::WrongVariant { code, message },
            E::BackendUnavailable { .. } => Self::BackendUnavailable { code, message },
            E::InvalidImage(_) => Self::InvalidImage { code, message },
            E::UnsupportedPixelFormat(_) | E::BufferTooSmall { .. } | E::PlaneTooSmall { .. } | E::InvalidGeometry(_) => {
                Self::InvalidPixelBuffer { code, message }
            }
            E::Write { .. } => Self::Write { code, message },
            E::NonFiniteOutput { .. } => Self::NonFiniteOutput { code, message },
            E::Cancelled => Self::Cancelled { code, message },
            _ => Self::InvalidInput { code, message },
        }
    }
}
