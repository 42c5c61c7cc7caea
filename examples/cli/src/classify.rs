//! `efficientformer classify IMAGE... [--model FILE] [--backend B] [--top-k N] [--threshold P]
//! [--labels FILE] [--precision f32|f16] [--json] [--logits] [--embedding]`, or `classify --raw FILE ...` for a raw
//! camera frame ([`crate::raw_frame`]).

use std::path::PathBuf;

use efficientformer::classify::{Classification, Classifier, ClassifierOptions, ImageInput, Labels, ModelInfo};
use efficientformer::{Error, Result};
use serde::Serialize;

use crate::progress::with_spinner;
use crate::raw_frame::RawArgs;
use crate::{BackendArg, ModelArg, PrecisionArg};

/// Arguments of `classify`.
#[derive(clap::Args)]
pub struct Args {
    /// Images to classify (JPEG, PNG, WebP).
    #[arg(required_unless_present = "raw")]
    images: Vec<PathBuf>,
    #[command(flatten)]
    raw: RawArgs,
    #[command(flatten)]
    model: ModelArg,
    /// Where to run.
    #[arg(long, value_enum, default_value = "auto")]
    backend: BackendArg,
    /// Ranked classes to print per image, at most.
    #[arg(long, default_value_t = 5)]
    top_k: usize,
    /// Least probability (0-1) of a printed class.
    #[arg(long, default_value_t = 0.0)]
    threshold: f32,
    /// Class names, one per line (default: the model file's, or ImageNet-1k).
    #[arg(long)]
    labels: Option<PathBuf>,
    /// CPU threads (default: one per core).
    #[arg(long)]
    threads: Option<usize>,
    /// Arithmetic: `f16` runs in half precision on a CPU that has it (aarch64 with FEAT_FP16),
    /// stores `f16` on a GPU that has it (SHADER_F16), and runs `f32` elsewhere; the output says
    /// which ran.
    #[arg(long, value_enum, default_value = "f32")]
    precision: PrecisionArg,
    /// Print JSON (schema in the README).
    #[arg(long)]
    json: bool,
    /// Include the raw logits in the JSON.
    #[arg(long, requires = "json")]
    logits: bool,
    /// Include the embedding (pooled features before the classifier) in the JSON.
    #[arg(long, requires = "json")]
    embedding: bool,
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
    precision: String,
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
            precision: info.precision.name().into(),
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
    #[serde(skip_serializing_if = "Option::is_none")]
    embedding: Option<Vec<f32>>,
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

/// Reads a file the command names.
fn read(path: &std::path::Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|source| Error::Io { path: path.to_path_buf(), source })
}

/// Runs `classify`.
pub fn run(args: Args) -> Result<()> {
    let labels = match &args.labels {
        Some(path) => Some(Labels::parse_lines(&String::from_utf8_lossy(&read(path)?))),
        None => None,
    };
    let options = ClassifierOptions {
        backend: args.backend.choice()?,
        cpu_threads: args.threads,
        top_k: args.top_k,
        score_threshold: args.threshold,
        labels,
        embedding: args.embedding,
        precision: args.precision.into(),
        ..ClassifierOptions::default()
    };
    let classifier = load(&args.model, options)?;
    if classifier.info().backend.is_gpu() {
        with_spinner("warming up the GPU (shader compilation, autotuning)", || classifier.prewarm())?;
    }
    let mut results = Vec::new();
    if let Some(path) = &args.raw.raw {
        let data = read(path)?;
        results.push((path, classifier.classify(args.raw.input(&data)?)?));
    }
    for path in &args.images {
        results.push((path, classifier.classify(ImageInput::Encoded(&read(path)?))?));
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
    println!("EfficientFormerV2-{} on {} ({}), {}", info.variant, info.backend, info.adapter, info.precision.name());
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
        embedding: c.embedding,
    }
}
