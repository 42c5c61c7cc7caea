//! EfficientFormerV2 (Li et al., "Rethinking Vision Transformers for MobileNet Size and
//! Speed", ICCV 2023, arXiv 2212.08059) for inference with burn, on the CPU (burn-ndarray,
//! burn-flex) and the GPU (burn-wgpu).
//!
//! A port of timm's `timm/models/efficientformer_v2.py` (itself a refactor of the official
//! github.com/snap-research/EfficientFormer, Apache-2.0), numerically checked against it.
//! Modules mirror timm's classes one to one and use its key names, so timm's
//! `model.safetensors` loads as is; the official `.pth` checkpoints load through one
//! documented key map ([`weights::official_layout`]).
//!
//! ```no_run
//! use efficientformer::{Backend, EfficientFormerV2, weights};
//!
//! let device = Backend::Flex.device()?;
//! let state = weights::read_path("efficientformerv2_s0.safetensors".as_ref())?;
//! let model = EfficientFormerV2::load(state, &device)?;
//! println!("{} with {} parameters", model.config().variant(), efficientformer::accounting::parameter_count(model.config()));
//! # Ok::<(), efficientformer::Error>(())
//! ```
//!
//! This crate knows nothing of FFI; `bindings/` wraps it for Swift and Kotlin.

pub mod accounting;
pub mod backend;
pub mod classify;
pub mod config;
#[cfg(feature = "gpu")]
pub mod cube_kernels;
pub mod fused;
#[cfg(feature = "cpu")]
pub mod kernels;
pub mod model;
pub mod precision;
pub mod probe;
pub mod weights;

pub use efficientformer_formats::error;

pub use backend::Backend;
pub use config::{Config, Variant};
pub use error::{Error, Result};
pub use precision::Precision;
pub use model::network::{EfficientFormerV2, ForwardOutput};
pub use burn;
