//! `efficientformer classify IMAGE... [--model FILE] [--backend B] [--top-k N] [--json] [--logits]`

use std::path::PathBuf;

use efficientformer::classify::{Classification, Classifier, ClassifierOptions, ModelInfo};
use efficientformer::{Error, Result};
use serde::Serialize;

use crate::progress::with_spinner;
use crate::{BackendArg, ModelArg};

/// Arguments of `classify`.
#[derive(clap::Args)]
pub struct Args {
    /// Images to classify.
    #[arg(required = true)]
    images: Vec<PathBuf>,
    #[command(flatten)]
    model: ModelArg,
    /// Where to run.
    #[arg(long, value_enum, default_value = "auto")]
    backend: BackendArg,
    /// Ranked classes to print per image.
    #[arg(long, default_value_t = 5)]
    top_k: usize,
    /// CPU threads (default: one per core).
    #[arg(long)]
    threads: Option<usize>,
    /// Print JSON (schema in the README).
    #[arg(long)]
    json: bool,
    /// Include the raw logits in the JSON.
    #[arg(long, requires = "json")]
    logits: bool,
}

/// `model` object of the JSON output.
#[derive(Serialize)]
pub struct ModelJson {
    variant: String,
    num_classes: usize,
    backend: String,
    adapter: String,
    backend_note: Option<String>,
    parameters: usize,
    gmacs: f64,
    weight_dtype: String,
    untrained: bool,
}

impl From<&ModelInfo> for ModelJson {
    fn from(info: &ModelInfo) -> Self {
        ModelJson {
            variant: info.variant.name().into(),
            num_classes: info.config.num_classes,
            backend: info.backend.name().into(),
            adapter: info.adapter.clone(),
            backend_note: info.backend_note.clone(),
            parameters: info.parameters,
            gmacs: (info.gmacs * 1e4).round() / 1e4,
            weight_dtype: info.weight_dtype.name().into(),
            untrained: info.untrained,
        }
    }
}

#[derive(Serialize)]
struct PredictionJson {
    class_index: u32,
    label: String,
    score: f32,
}

#[derive(Serialize)]
struct ResultJson {
    image: String,
    top: Vec<PredictionJson>,
    #[serde(skip_serializing_if = "Option::is_none")]
    logits: Option<Vec<f32>>,
}

#[derive(Serialize)]
struct OutputJson {
    schema: &'static str,
    model: ModelJson,
    results: Vec<ResultJson>,
}

/// Loads the model named by `model` (or the embedded default).
pub fn load(model: &ModelArg, options: ClassifierOptions) -> Result<Classifier> {
    with_spinner("loading model", || match &model.model {
        Some(path) => Classifier::from_path(path, options),
        None => Classifier::embedded_default(options),
    })
}

/// Runs `classify`.
pub fn run(args: Args) -> Result<()> {
    let options = ClassifierOptions {
        backend: args.backend.choice(),
        cpu_threads: args.threads,
        top_k: args.top_k,
        ..ClassifierOptions::default()
    };
    let classifier = load(&args.model, options)?;
    if classifier.info().backend.is_gpu() {
        with_spinner("warming up the GPU (shader compilation, autotuning)", || classifier.prewarm())?;
    }
    let mut results = Vec::new();
    for path in &args.images {
        let bytes = std::fs::read(path).map_err(|source| Error::Io { path: path.clone(), source })?;
        results.push((path, classifier.classify_encoded(&bytes)?));
    }
    let info = classifier.info();
    if args.json {
        let output = OutputJson {
            schema: "efficientformer.classify/1",
            model: info.into(),
            results: results.into_iter().map(|(path, c)| result_json(path, c, args.logits)).collect(),
        };
        println!("{}", serde_json::to_string_pretty(&output).expect("serialisable"));
        return Ok(());
    }
    println!("EfficientFormerV2-{} on {} ({})", info.variant, info.backend, info.adapter);
    if let Some(note) = &info.backend_note {
        println!("  {note}");
    }
    if info.untrained {
        println!("  UNTRAINED seeded weights: these predictions are meaningless (pass --model FILE)");
    }
    for (path, classification) in results {
        println!("{}", path.display());
        for (rank, p) in classification.top.iter().enumerate() {
            println!("  {}. {:>6.2}%  [{:>3}] {}", rank + 1, p.score * 100.0, p.class_index, p.label);
        }
    }
    Ok(())
}

fn result_json(path: &std::path::Path, c: Classification, with_logits: bool) -> ResultJson {
    ResultJson {
        image: path.display().to_string(),
        top: c.top.into_iter().map(|p| PredictionJson { class_index: p.class_index, label: p.label, score: p.score }).collect(),
        logits: with_logits.then_some(c.logits),
    }
}
