//! `efficientformer probe [--variants s0,s1,s2,l] [--backends cpu,gpu] [--runs N] [--warmup N]
//! [--threads N] [--batch N] [--precision f32,f16] [--model FILE] [--profile]
//! [--format markdown|json|tflite]`

use std::path::PathBuf;

use clap::ValueEnum;
use efficientformer::Result;
use efficientformer::probe::{self, ProbeOptions};
use efficientformer::{Precision, Variant};

use crate::{BackendArg, PrecisionArg};
use crate::progress::with_spinner;

/// Arguments of `probe`.
#[derive(clap::Args)]
pub struct Args {
    /// Variants to measure (embedded seeded weights).
    #[arg(long, value_delimiter = ',', default_value = "s0,s1,s2,l", value_parser = parse_variant)]
    variants: Vec<Variant>,
    /// Measure this model file instead.
    #[arg(long)]
    model: Option<PathBuf>,
    /// Backends to measure each variant on (a missing GPU is reported, not an error).
    #[arg(long, value_enum, value_delimiter = ',', default_value = "cpu,gpu")]
    backends: Vec<BackendArg>,
    /// Timed runs (paper protocol: 500).
    #[arg(long, default_value_t = 500)]
    runs: usize,
    /// Warm-up runs (paper protocol: 50).
    #[arg(long, default_value_t = 50)]
    warmup: usize,
    /// CPU threads (default: one per core).
    #[arg(long)]
    threads: Option<usize>,
    /// Images per run.
    #[arg(long, default_value_t = 1)]
    batch: usize,
    /// Precisions to measure in (`f16` runs in half precision on a CPU that has it and stores
    /// `f16` on a GPU that has it, `f32` elsewhere; the precision column says which ran).
    #[arg(long, value_enum, value_delimiter = ',', default_value = "f32")]
    precision: Vec<PrecisionArg>,
    /// Also print where the time goes: each stage's modules by kind (stem, downsample, FFN,
    /// attention, head), from separate synchronised runs.
    #[arg(long)]
    profile: bool,
    /// Output format.
    #[arg(long, value_enum, default_value = "markdown")]
    format: Format,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Markdown,
    Json,
    Tflite,
}

fn parse_variant(name: &str) -> std::result::Result<Variant, String> {
    Variant::parse(name).map_err(|error| error.to_string())
}

/// Runs `probe`.
pub fn run(args: Args) -> Result<()> {
    let options = ProbeOptions {
        variants: args.variants,
        model: args.model,
        backends: args.backends.into_iter().map(BackendArg::choice).collect::<Result<_>>()?,
        warmup: args.warmup,
        runs: args.runs,
        threads: args.threads,
        batch: args.batch,
        profile: args.profile,
        precisions: args.precision.into_iter().map(Precision::from).collect(),
    };
    let report = with_spinner("measuring", || probe::run(&options))?;
    match args.format {
        Format::Markdown => print!("{}", report.to_markdown()),
        Format::Json => println!("{}", report.to_json()),
        Format::Tflite => print!("{}", report.to_tflite_summary()),
    }
    Ok(())
}
