//! `efficientformer`: classify images, convert checkpoints, describe model files, and probe
//! latency against the paper's table.
//! The JSON printed by `--json` is documented in this crate's README.

mod classify;
mod convert;
mod info;
mod probe;
mod progress;
mod raw_frame;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use efficientformer::classify::BackendChoice;

/// EfficientFormerV2 on the CPU and GPU (burn).
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Classify images (JPEG, PNG, WebP) or a raw camera frame with a model file or the
    /// embedded default.
    Classify(classify::Args),
    /// Convert a checkpoint (official .pth, timm .safetensors) to the SDK's model file.
    Convert(convert::Args),
    /// Describe a model file: variant, tensors, parameters, GMACs, dtype.
    Info(info::Args),
    /// Measure latency per variant and backend beside the paper's iPhone 12 table.
    Probe(probe::Args),
}

/// `--backend` values.
#[derive(Clone, Copy, ValueEnum)]
pub enum BackendArg {
    /// GPU if a hardware adapter works, else CPU.
    Auto,
    /// Fastest CPU backend (flex).
    Cpu,
    /// GPU (wgpu on Metal/Vulkan).
    Gpu,
    /// burn-ndarray.
    Ndarray,
    /// burn-flex.
    Flex,
    /// wgpu on the platform's API.
    Wgpu,
    /// wgpu on OpenGL ES.
    WgpuGl,
}

impl BackendArg {
    /// The facade's choice: each value's name is the one [`BackendChoice::from_name`] reads,
    /// which refuses a backend this build leaves out (`wgpu` in a CPU-only build).
    pub fn choice(self) -> efficientformer::Result<BackendChoice> {
        let value = self.to_possible_value().expect("no value is skipped");
        BackendChoice::from_name(value.get_name())
    }
}

/// `--precision` values.
#[derive(Clone, Copy, ValueEnum)]
pub enum PrecisionArg {
    /// 32-bit floats.
    F32,
    /// 16-bit floats where the CPU computes in them (aarch64 with FEAT_FP16) or the GPU stores
    /// them (SHADER_F16), else 32-bit.
    F16,
}

impl From<PrecisionArg> for efficientformer::Precision {
    fn from(precision: PrecisionArg) -> Self {
        match precision {
            PrecisionArg::F32 => efficientformer::Precision::F32,
            PrecisionArg::F16 => efficientformer::Precision::F16,
        }
    }
}

/// A model file, or the embedded default when absent.
#[derive(clap::Args)]
pub struct ModelArg {
    /// Model file (SDK file, timm .safetensors, official .pth); default: the embedded,
    /// untrained S0.
    #[arg(long)]
    model: Option<PathBuf>,
}

fn main() -> ExitCode {
    let result = match Cli::parse().command {
        Command::Classify(args) => classify::run(args),
        Command::Convert(args) => convert::run(args),
        Command::Info(args) => info::run(args),
        Command::Probe(args) => probe::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err} (code {})", err.code());
            ExitCode::from(2)
        }
    }
}
