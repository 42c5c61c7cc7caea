//! UniFFI bindings of the [`efficientformer`] facade: what the Swift package (`ios/`) calls.
//!
//! A thin layer: each exported item converts plain FFI values to the core's types and calls
//! one core function. The core knows nothing of FFI. Swift sources are generated from this
//! crate's compiled library by the workspace's `uniffi-bindgen` (library mode), so their
//! version always equals this crate's `uniffi`.

mod classifier;
mod error;
mod probe;
mod types;

pub use classifier::{CancellationToken, NativeClassifier};
pub use error::NativeError;
pub use probe::{ProbeConfig, ProbeReport, ProbeRow, run_probe};
pub use types::{
    Classification, ClassifierConfig, ComputeBackend, CropRect, ModelInfo, PixelFormat, Prediction, YuvChroma, YuvFrame, YuvMatrix,
    YuvRange,
};

uniffi::setup_scaffolding!();

/// The SDK's version (the Rust crates').
#[uniffi::export]
pub fn sdk_version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}
