//! The latency probe: the paper's iPhone 12 table (arXiv 2212.08059, Table 1) reproduced on
//! the device in hand. Protocol as the authors measured (paper.md): load once, one
//! preprocessed 224x224 input, batch 1, 50 warm-up runs, then the mean of 500 timed runs; GPU
//! timings include reading the logits back, which waits for the device.
//!
//! Parameter and MAC columns are computed from the built network and equal the paper's; the
//! latency column is ours, beside the paper's Core ML / Neural Engine milliseconds, with the
//! ratios between variants next to the paper's.

pub mod paper;
pub mod report;
pub mod stats;

use std::path::PathBuf;
use std::time::Instant;

use serde::Serialize;

use crate::accounting;
use crate::classify::{BackendChoice, Classifier, ClassifierOptions};
use crate::config::{IMAGE_SIZE, Variant};
use crate::precision::Precision;
use crate::model::profile::LayerTime;
use crate::error::{Error, Result};
use crate::weights::seeded;
use stats::{LatencyStats, peak_rss_bytes};

/// What to measure and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeOptions {
    /// Variants, run on the embedded seeded weights (latency does not depend on weight values).
    pub variants: Vec<Variant>,
    /// A user's model file instead of the seeded variants.
    pub model: Option<PathBuf>,
    /// Backends to measure each variant on.
    pub backends: Vec<BackendChoice>,
    /// Untimed runs first (paper protocol: 50).
    pub warmup: usize,
    /// Timed runs (paper protocol: 500).
    pub runs: usize,
    /// CPU threads (`None`: one per core).
    pub threads: Option<usize>,
    /// Images per run (paper protocol: 1).
    pub batch: usize,
    /// Also time each stage's modules by kind ([`ProbeRow::profile`]), in separate runs after
    /// the timed ones.
    pub profile: bool,
    /// Precisions to measure each variant and backend in (a row says which ran:
    /// [`ProbeRow::precision`]).
    pub precisions: Vec<Precision>,
}

impl Default for ProbeOptions {
    fn default() -> Self {
        ProbeOptions {
            variants: Variant::PUBLISHED.to_vec(),
            model: None,
            backends: vec![BackendChoice::Cpu, BackendChoice::Gpu],
            warmup: 50,
            runs: 500,
            threads: None,
            batch: 1,
            profile: false,
            precisions: vec![Precision::F32],
        }
    }
}

impl ProbeOptions {
    /// Sets variants, backends and precisions from their names, as the bindings pass them
    /// ([`Variant::parse`], [`BackendChoice::from_name`], [`Precision::from_name`]); an empty
    /// list keeps the current one.
    pub fn with_names<S: AsRef<str>>(mut self, variants: &[S], backends: &[S], precisions: &[S]) -> Result<ProbeOptions> {
        if !variants.is_empty() {
            self.variants = variants.iter().map(|name| Variant::parse(name.as_ref())).collect::<Result<_>>()?;
        }
        if !backends.is_empty() {
            self.backends = backends.iter().map(|name| BackendChoice::from_name(name.as_ref())).collect::<Result<_>>()?;
        }
        if !precisions.is_empty() {
            self.precisions = precisions.iter().map(|name| Precision::from_name(name.as_ref())).collect::<Result<_>>()?;
        }
        Ok(self)
    }
}

/// The machine the probe ran on.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HostInfo {
    /// `std::env::consts::OS`.
    pub os: String,
    /// `std::env::consts::ARCH`.
    pub arch: String,
    /// Logical CPUs available to the process.
    pub logical_cpus: usize,
}

/// The protocol actually used.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Protocol {
    /// Warm-up runs.
    pub warmup: usize,
    /// Timed runs.
    pub runs: usize,
    /// Images per run.
    pub batch: usize,
    /// How the paper measured.
    pub paper: &'static str,
}

/// One variant on one backend.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProbeRow {
    /// `s0`, `s1`, `s2`, `l` or `custom`.
    pub variant: String,
    /// Backend name.
    pub backend: String,
    /// The precision that ran (`f32` where `f16` was asked for on a device without it).
    pub precision: &'static str,
    /// The precision asked for.
    pub requested_precision: &'static str,
    /// Adapter (`cpu` or the GPU's name).
    pub adapter: String,
    /// `embedded-seeded` or the model file's path.
    pub weights: String,
    /// CPU threads used (`null` on the GPU).
    pub threads: Option<usize>,
    /// True parameter count.
    pub parameters: usize,
    /// `toolbox.py` parameter count.
    pub toolbox_parameters: usize,
    /// `toolbox.py` MACs, billions.
    pub gmacs: f64,
    /// The paper's parameter column (millions).
    pub paper_params_m: Option<f64>,
    /// The paper's GMACs column.
    pub paper_gmacs: Option<f64>,
    /// The paper's iPhone 12 latency, ms.
    pub paper_iphone12_ms: Option<f64>,
    /// Model load (file read, weight folding, upload), ms.
    pub load_ms: f64,
    /// First inference after loading (includes GPU shader compilation and autotuning), ms.
    pub cold_ms: f64,
    /// Timed runs.
    pub latency: LatencyStats,
    /// Peak resident memory of the process after this row, bytes.
    pub peak_rss_bytes: Option<u64>,
    /// Mean latency over S0's on the same backend in the same precision in this report.
    pub ratio_to_s0: Option<f64>,
    /// The paper's ratio (S1/S0 1.22, S2/S0 1.78, L/S0 3.0).
    pub paper_ratio_to_s0: Option<f64>,
    /// Where the time goes, when asked for ([`ProbeOptions::profile`]).
    pub profile: Option<Vec<ProfileEntry>>,
}

/// Mean time of one kind of module in one stage, over the profiled runs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProfileEntry {
    /// Stage 0-3 (`null` for the stem and the head).
    pub stage: Option<usize>,
    /// `stem`, `downsample`, `attention_downsample`, `ffn`, `attention` or `head`.
    pub kind: &'static str,
    /// Modules of this kind in the stage.
    pub count: usize,
    /// Mean time per forward pass, summed over those modules, ms.
    pub mean_ms: f64,
    /// Share of the profiled forward pass.
    pub share: f64,
}

/// A backend that could not be measured, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Skipped {
    /// Variant.
    pub variant: String,
    /// Backend asked for.
    pub backend: String,
    /// Why.
    pub reason: String,
}

impl std::fmt::Display for Skipped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}: {}", self.variant, self.backend, self.reason)
    }
}

/// Everything the probe measured.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProbeReport {
    /// `efficientformer.probe/1`.
    pub schema: &'static str,
    /// SDK version.
    pub sdk_version: &'static str,
    /// Host.
    pub host: HostInfo,
    /// Protocol.
    pub protocol: Protocol,
    /// Measurements.
    pub rows: Vec<ProbeRow>,
    /// Backends that did not run.
    pub skipped: Vec<Skipped>,
}

/// Runs the probe.
pub fn run(options: &ProbeOptions) -> Result<ProbeReport> {
    if options.runs == 0 || options.batch == 0 {
        return Err(Error::InvalidInput("runs and batch must be at least 1".into()));
    }
    if options.precisions.is_empty() {
        return Err(Error::InvalidInput("no precision to measure".into()));
    }
    let input = seeded::input(options.batch, seeded::DEFAULT_SEED);
    let mut rows: Vec<ProbeRow> = Vec::new();
    let mut skipped = Vec::new();
    let targets: Vec<Option<Variant>> = match &options.model {
        Some(_) => vec![None],
        None => options.variants.iter().copied().map(Some).collect(),
    };
    let runs = targets.iter().flat_map(|&variant| {
        options.backends.iter().flat_map(move |&backend| options.precisions.iter().map(move |&precision| (variant, backend, precision)))
    });
    for (variant, backend, precision) in runs {
        let classifier_options = ClassifierOptions { backend, cpu_threads: options.threads, precision, ..ClassifierOptions::default() };
        let start = Instant::now();
        let loaded = match (&options.model, variant) {
            (Some(path), _) => Classifier::from_path(path, classifier_options),
            (None, Some(variant)) => Classifier::from_state(
                seeded::state_dict(&variant.config().expect("published variant"), seeded::DEFAULT_SEED),
                true,
                classifier_options,
            ),
            (None, None) => unreachable!("targets are variants when there is no model"),
        };
        let classifier = match loaded {
            Ok(c) => c,
            Err(err @ Error::BackendUnavailable { .. }) => {
                let variant = variant.map_or("custom".into(), |v| v.name().to_owned());
                skipped.push(Skipped { variant, backend: format!("{backend:?}").to_lowercase(), reason: err.to_string() });
                continue;
            }
            Err(err) => return Err(err),
        };
        let load_ms = start.elapsed().as_secs_f64() * 1e3;
        rows.push(ProbeRow { requested_precision: precision.name(), ..measure(&classifier, &input, options, load_ms)? });
    }
    fill_ratios(&mut rows);
    Ok(ProbeReport {
        schema: "efficientformer.probe/1",
        sdk_version: env!("CARGO_PKG_VERSION"),
        host: HostInfo {
            os: std::env::consts::OS.into(),
            arch: std::env::consts::ARCH.into(),
            logical_cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
        },
        protocol: Protocol { warmup: options.warmup, runs: options.runs, batch: options.batch, paper: paper::PAPER_PROTOCOL },
        rows,
        skipped,
    })
}

fn measure(classifier: &Classifier, input: &[f32], options: &ProbeOptions, load_ms: f64) -> Result<ProbeRow> {
    let batch = input.len() / (3 * IMAGE_SIZE * IMAGE_SIZE);
    let timed = || -> Result<std::time::Duration> {
        let start = Instant::now();
        classifier.logits_unchecked(input.to_vec(), batch)?;
        Ok(start.elapsed())
    };
    let cold_ms = timed()?.as_secs_f64() * 1e3;
    for _ in 0..options.warmup {
        timed()?;
    }
    let times = (0..options.runs).map(|_| timed()).collect::<Result<Vec<_>>>()?;
    let profile = if options.profile { Some(profile(classifier, input, options.runs.min(PROFILE_RUNS))?) } else { None };
    let info = classifier.info();
    let paper = paper::row(info.variant);
    Ok(ProbeRow {
        variant: info.variant.name().into(),
        backend: info.backend.name().into(),
        precision: info.precision.name(),
        requested_precision: info.precision.name(),
        adapter: info.adapter.clone(),
        weights: options.model.as_ref().map_or("embedded-seeded".into(), |p| p.display().to_string()),
        threads: (!info.backend.is_gpu())
            .then(|| options.threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))),
        parameters: info.parameters,
        toolbox_parameters: accounting::toolbox_parameters(&info.config),
        gmacs: info.gmacs,
        paper_params_m: paper.map(|p| p.params_m),
        paper_gmacs: paper.map(|p| p.gmacs),
        paper_iphone12_ms: paper.map(|p| p.iphone12_ms),
        load_ms,
        cold_ms,
        latency: LatencyStats::from_durations(&times).expect("runs >= 1"),
        peak_rss_bytes: peak_rss_bytes(),
        ratio_to_s0: None,
        paper_ratio_to_s0: None,
        profile,
    })
}

/// Profiled runs at most (each one synchronises the device after every module).
const PROFILE_RUNS: usize = 100;

fn profile(classifier: &Classifier, input: &[f32], runs: usize) -> Result<Vec<ProfileEntry>> {
    let batch = input.len() / (3 * IMAGE_SIZE * IMAGE_SIZE);
    let mut totals: Vec<LayerTime> = Vec::new();
    for _ in 0..runs {
        let layers = classifier.layer_times_unchecked(input.to_vec(), batch)?;
        if totals.is_empty() {
            totals = layers;
        } else {
            totals.iter_mut().zip(layers).for_each(|(total, layer)| total.time += layer.time);
        }
    }
    let whole: f64 = totals.iter().map(|l| l.time.as_secs_f64()).sum();
    Ok(totals
        .into_iter()
        .map(|l| ProfileEntry {
            stage: l.stage,
            kind: l.kind.name(),
            count: l.count,
            mean_ms: l.time.as_secs_f64() * 1e3 / runs as f64,
            share: l.time.as_secs_f64() / whole,
        })
        .collect())
}

fn fill_ratios(rows: &mut [ProbeRow]) {
    let paper_s0 = paper::PAPER_TABLE[0].iphone12_ms;
    let s0_means: Vec<(String, &str, f64)> =
        rows.iter().filter(|r| r.variant == "s0").map(|r| (r.backend.clone(), r.precision, r.latency.mean_ms)).collect();
    for row in rows {
        row.paper_ratio_to_s0 = row.paper_iphone12_ms.map(|ms| (ms / paper_s0 * 100.0).round() / 100.0);
        row.ratio_to_s0 =
            s0_means.iter().find(|(b, p, _)| *b == row.backend && *p == row.precision).map(|(_, _, s0)| row.latency.mean_ms / s0);
    }
}
