//! The SDK facade: one Rust API for apps — images in, predictions out. The Swift and Kotlin
//! bindings wrap [`Classifier`] and re-implement nothing of it.

pub mod classifier;
pub mod image_input;
pub mod labels;
pub mod model_file;
pub mod prediction;
pub mod preprocess;
mod self_check;

pub use classifier::{BackendChoice, Classifier, ClassifierOptions, FeatureMaps, ModelInfo};
pub use image_input::{PixelBuffer, PixelFormat};
pub use prediction::{Classification, Prediction};
