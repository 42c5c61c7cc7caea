//! The latency probe for Swift: [`efficientformer::probe::run`] with FFI-plain options, and
//! its report as records plus the core's JSON, Markdown and TFLite-style renderings.

use efficientformer::probe::{self, ProbeOptions};

use crate::error::NativeError;

/// What the probe measures. Defaults are the paper's protocol.
#[derive(Debug, Clone, uniffi::Record)]
pub struct ProbeConfig {
    /// Variants (`s0`, `s1`, `s2`, `l`) on the embedded seeded weights; empty: all four.
    #[uniffi(default = [])]
    pub variants: Vec<String>,
    /// A model file to measure instead of the variants.
    #[uniffi(default = None)]
    pub model_path: Option<String>,
    /// Backends (`cpu`, `gpu`, `auto`, or a backend name such as `flex`); empty: `cpu` and
    /// `gpu`.
    #[uniffi(default = [])]
    pub backends: Vec<String>,
    /// Untimed runs first.
    #[uniffi(default = 50)]
    pub warmup: u32,
    /// Timed runs.
    #[uniffi(default = 500)]
    pub runs: u32,
    /// CPU threads (`nil`: one per core).
    #[uniffi(default = None)]
    pub threads: Option<u32>,
    /// Images per run.
    #[uniffi(default = 1)]
    pub batch: u32,
    /// Precisions (`f32`, `f16`); empty: `f32`.
    #[uniffi(default = [])]
    pub precisions: Vec<String>,
}

/// One variant on one backend in one precision.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct ProbeRow {
    /// Variant name.
    pub variant: String,
    /// Backend name.
    pub backend: String,
    /// The precision that ran (`f32` where `f16` was asked for without hardware support).
    pub precision: String,
    /// The precision asked for.
    pub requested_precision: String,
    /// `cpu` or the GPU adapter.
    pub adapter: String,
    /// CPU threads (`nil`: one per core, or a GPU backend).
    pub threads: Option<u32>,
    /// Parameter count.
    pub parameters: u64,
    /// GMACs (toolbox rules).
    pub gmacs: f64,
    /// The paper's iPhone 12 milliseconds (Core ML on the Neural Engine).
    pub paper_ms: Option<f64>,
    /// Model load, milliseconds.
    pub load_ms: f64,
    /// First inference, milliseconds.
    pub cold_ms: f64,
    /// Mean latency (the paper's statistic).
    pub mean_ms: f64,
    /// Median latency.
    pub median_ms: f64,
    /// 90th percentile.
    pub p90_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// Fastest run.
    pub min_ms: f64,
    /// Standard deviation.
    pub std_ms: f64,
    /// Runs per second.
    pub runs_per_s: f64,
    /// Peak resident memory of the process after the runs.
    pub peak_rss_bytes: Option<u64>,
}

/// The probe's result.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct ProbeReport {
    /// Measured rows.
    pub rows: Vec<ProbeRow>,
    /// `variant/backend: reason` for each combination that could not run.
    pub skipped: Vec<String>,
    /// The report as JSON (schema `core/src/probe/schema.json`).
    pub json: String,
    /// The table beside the paper's, for people.
    pub markdown: String,
    /// TFLite `benchmark_model`-style summary lines.
    pub tflite_summary: String,
}

/// Runs the probe; blocks for as long as the protocol takes.
#[uniffi::export]
pub fn run_probe(config: ProbeConfig) -> Result<ProbeReport, NativeError> {
    let options = ProbeOptions {
        model: config.model_path.map(Into::into),
        warmup: config.warmup as usize,
        runs: config.runs as usize,
        threads: config.threads.map(|n| n as usize),
        batch: config.batch as usize,
        ..ProbeOptions::default()
    }
    .with_names(&config.variants, &config.backends, &config.precisions)?;
    let report = probe::run(&options)?;
    Ok(ProbeReport {
        rows: report.rows.iter().map(row).collect(),
        skipped: report.skipped.iter().map(ToString::to_string).collect(),
        json: report.to_json(),
        markdown: report.to_markdown(),
        tflite_summary: report.to_tflite_summary(),
    })
}

fn row(row: &probe::ProbeRow) -> ProbeRow {
    ProbeRow {
        variant: row.variant.clone(),
        backend: row.backend.clone(),
        precision: row.precision.into(),
        requested_precision: row.requested_precision.into(),
        adapter: row.adapter.clone(),
        parameters: row.parameters as u64,
        gmacs: row.gmacs,
        paper_ms: row.paper_iphone12_ms,
        threads: row.threads.map(|n| n as u32),
        load_ms: row.load_ms,
        cold_ms: row.cold_ms,
        mean_ms: row.latency.mean_ms,
        median_ms: row.latency.median_ms,
        p90_ms: row.latency.p90_ms,
        p99_ms: row.latency.p99_ms,
        min_ms: row.latency.min_ms,
        std_ms: row.latency.std_ms,
        runs_per_s: row.latency.runs_per_s,
        peak_rss_bytes: row.peak_rss_bytes,
    }
}
