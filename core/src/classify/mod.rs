//! The SDK facade: one Rust API for apps — images in, predictions out. The Swift and Kotlin
//! bindings wrap [`Classifier`] and re-implement nothing of it.

pub mod cancel;
pub mod classifier;
mod cpu_threads;
pub mod labels;
pub mod model_file;
pub mod prediction;
mod self_check;

pub use efficientformer_formats::{image_input, preprocess, region, yuv};

pub use cancel::CancelToken;
pub use classifier::{BackendChoice, Classifier, ClassifierOptions, FeatureMaps, ImageInput, ModelInfo};
pub use image_input::{PixelBuffer, PixelFormat};
pub use labels::Labels;
pub use prediction::{Classification, Prediction, Ranking};
pub use region::Rect;
pub use yuv::{YuvImage, YuvLayout, YuvMatrix, YuvPlane, YuvRange};
