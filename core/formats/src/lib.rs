//! Everything the EfficientFormerV2 SDK reads from outside the process, kept free of burn so
//! it builds in seconds and can be fuzzed on its own (`fuzz/`): checkpoints
//! ([`weights`]: safetensors and `torch.save` files, in timm's or the official key layout),
//! encoded images and raw pixel buffers ([`image_input`]), YUV camera frames ([`yuv`]) and
//! crop rectangles ([`region`]), timm's eval transform
//! ([`preprocess`]), and the SDK's one error type ([`error`]). The `efficientformer` crate
//! re-exports each module where it always was (`efficientformer::weights`, `::error`,
//! `::classify::{image_input, preprocess}`).

pub mod error;
#[doc(hidden)]
pub mod fuzzing;
pub mod image_input;
pub mod preprocess;
pub mod region;
pub mod weights;
pub mod yuv;

pub use error::{Error, Result};
