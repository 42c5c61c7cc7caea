//! [`Precision`]: the arithmetic a classifier asks for, and the one that runs.
//!
//! The paper's iPhone 12 latencies are Core ML running the network in 16-bit floats. On a CPU
//! with FEAT_FP16 (ARMv8.2-A: Apple A11 and later, almost every Android phone sold since 2018)
//! NEON multiplies and adds eight `f16` lanes per instruction where `f32` has four, as
//! XNNPACK's and ExecuTorch's fp16 inference do. `F16` stores the weights and activations in
//! `f16` and runs the CPU kernels in half precision there ([`crate::kernels::lanes`]). On a
//! GPU whose adapter has `SHADER_F16` (every Apple GPU through Metal, most Android ones through
//! Vulkan) the maps and weights are `f16` in memory and the kernels compute in `f32`
//! ([`crate::cube_kernels`]): half the bytes every launch reads and writes, which is what a
//! phone GPU's time goes to. Every other device runs `f32`, and says so ([`Precision::resolve`]).

use burn::tensor::{DType, Device};

use crate::backend::Backend;
use crate::error::{Error, Result};

/// The floating-point type a network is stored and computed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Precision {
    /// 32-bit floats everywhere: the reference, within 1e-4 of PyTorch.
    #[default]
    F32,
    /// 16-bit floats for the weights, the activations and the products (the attention's
    /// softmax and the head's mean in `f32`): about half the instructions of `F32` on a phone's
    /// CPU, logits within 1e-2 of PyTorch's `f32` ones on the tests' photos.
    F16,
}

impl Precision {
    /// `f32` or `f16`.
    pub fn name(self) -> &'static str {
        match self {
            Precision::F32 => "f32",
            Precision::F16 => "f16",
        }
    }

    /// Parses [`Precision::name`]'s names.
    pub fn from_name(name: &str) -> Result<Precision> {
        match name {
            "f32" => Ok(Precision::F32),
            "f16" => Ok(Precision::F16),
            other => Err(Error::InvalidInput(format!("unknown precision `{other}` (f32, f16)"))),
        }
    }

    /// The precision that runs when `self` is asked for on `backend`'s `device`: `F16` on
    /// burn-flex on a CPU with half-precision arithmetic (aarch64 with FEAT_FP16, detected at
    /// run time) and on a GPU whose adapter stores `f16` (wgpu's `SHADER_F16`), `F32`
    /// everywhere else (ARMv8.0, x86, the reference backend, OpenGL ES).
    pub fn resolve(self, backend: Backend, device: &Device) -> Precision {
        let half = match backend {
            #[cfg(feature = "cpu")]
            Backend::Flex => crate::kernels::lanes::half_arithmetic(),
            backend => backend.is_gpu() && device.supports_dtype(DType::F16),
        };
        if self == Precision::F16 && half { Precision::F16 } else { Precision::F32 }
    }
}
