//! [`Classifier`]: one loaded network on one device, images in, predictions out. The Swift and
//! Kotlin bindings wrap exactly this type.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use burn::tensor::{Tensor, TensorData};

use super::cancel::CancelToken;
use super::cpu_threads::CpuThreads;
use super::image_input::{self, PixelBuffer};
use super::labels::Labels;
use super::model_file::{LABELS_KEY, SEEDED_SOURCE};
use super::prediction::{Classification, Ranking};
use super::preprocess;
use super::yuv::YuvImage;
use crate::accounting;
use crate::backend::{Backend, BackendDevice};
use crate::model::placement::Placement;
use crate::precision::Precision;
use crate::config::{Config, IMAGE_SIZE, NUM_STAGES, Variant};
use crate::error::{Error, Result};
use crate::model::network::EfficientFormerV2;
use crate::model::profile::LayerTime;
use crate::weights::{self, seeded, state_dict::StateDict, state_dict::WeightDtype};

/// Which device to run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum BackendChoice {
    /// The GPU when a hardware adapter initialises and passes a self-check, else the CPU;
    /// [`ModelInfo::backend_note`] says why the CPU was chosen.
    #[default]
    Auto,
    /// The fastest CPU backend (burn-flex).
    Cpu,
    /// The GPU (wgpu on Metal/Vulkan); an error if none initialises.
    Gpu,
    /// Exactly this backend.
    Exact(Backend),
}

impl BackendChoice {
    /// Parses `auto`, `cpu`, `gpu` or a backend name ([`Backend::from_name`]); the bindings
    /// pass choices across the FFI boundary by these names.
    pub fn from_name(name: &str) -> Result<BackendChoice> {
        match name {
            "auto" => Ok(BackendChoice::Auto),
            "cpu" => Ok(BackendChoice::Cpu),
            "gpu" => Ok(BackendChoice::Gpu),
            other => Backend::from_name(other).map(BackendChoice::Exact).ok_or_else(|| {
                let names: Vec<&str> = Backend::all().into_iter().map(Backend::name).collect();
                Error::InvalidInput(format!("unknown backend `{other}` (auto, cpu, gpu, {})", names.join(", ")))
            }),
        }
    }
}

/// How to build a [`Classifier`].
#[derive(Debug, Clone, PartialEq)]
pub struct ClassifierOptions {
    /// Device choice.
    pub backend: BackendChoice,
    /// Threads for CPU inference (`None`: one per core).
    pub cpu_threads: Option<usize>,
    /// How many ranked classes [`Classification::top`] holds at most.
    pub top_k: usize,
    /// Least softmax probability a class in [`Classification::top`] has (0: none).
    pub score_threshold: f32,
    /// One name per class (`None`: the `labels` the SDK model file carries, else ImageNet-1k
    /// for a 1000-class model, else `class <index>`); [`Labels::parse_lines`] reads a labels
    /// file.
    pub labels: Option<Vec<String>>,
    /// Also return the pooled features before the classifier
    /// ([`Classification::embedding`]), for retrieval and few-shot apps.
    pub embedding: bool,
    /// Where the GPU runtime keeps its autotune and kernel cache (mobile apps pass their cache
    /// directory). Process-wide: the last classifier created with one sets it. Results persist
    /// across runs only in builds with the `persistent-gpu-cache` feature (Linux, Android,
    /// macOS, Windows); elsewhere they live in memory for the process.
    pub gpu_cache_dir: Option<PathBuf>,
    /// Fail with [`Error::WrongVariant`] unless the file holds this variant.
    pub expected_variant: Option<Variant>,
    /// The arithmetic to run in: [`Precision::F16`] runs in half precision on a CPU that has
    /// it (aarch64 with FEAT_FP16, on the `flex` backend), stores `f16` on a GPU that has it
    /// (`SHADER_F16`), and runs `f32` elsewhere;
    /// [`ModelInfo::precision`] and [`Classification::precision`] say which ran.
    pub precision: Precision,
}

impl Default for ClassifierOptions {
    fn default() -> Self {
        ClassifierOptions {
            backend: BackendChoice::Auto,
            cpu_threads: None,
            top_k: 5,
            score_threshold: 0.0,
            labels: None,
            embedding: false,
            gpu_cache_dir: None,
            expected_variant: None,
            precision: Precision::F32,
        }
    }
}

/// What a classifier actually runs.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelInfo {
    /// Published variant, or custom.
    pub variant: Variant,
    /// Architecture.
    pub config: Config,
    /// Backend in use.
    pub backend: Backend,
    /// Adapter name (`cpu`, or the GPU's).
    pub adapter: String,
    /// Why [`BackendChoice::Auto`] did not pick the GPU (`None` when it did, or was not asked).
    pub backend_note: Option<String>,
    /// True parameter count.
    pub parameters: usize,
    /// `toolbox.py` MACs for one 224x224 image, in billions.
    pub gmacs: f64,
    /// Element type of the weights file.
    pub weight_dtype: WeightDtype,
    /// Whether these are the seeded, untrained weights (their predictions mean nothing).
    pub untrained: bool,
    /// CPU threads (`None`: one per core, or a GPU backend).
    pub cpu_threads: Option<usize>,
    /// The precision that runs ([`ClassifierOptions::precision`] resolved for the device).
    pub precision: Precision,
}

/// The four stage outputs of one batch (`[B, C, H, W]` each, row-major).
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureMaps {
    /// Shapes, strides 4, 8, 16, 32.
    pub shapes: [[usize; 4]; NUM_STAGES],
    /// Values.
    pub values: [Vec<f32>; NUM_STAGES],
}

/// An image in any form the SDK reads.
#[derive(Debug, Clone, Copy)]
pub enum ImageInput<'a> {
    /// JPEG, PNG or WebP bytes (EXIF orientation applied).
    Encoded(&'a [u8]),
    /// Interleaved 8-bit pixels (bitmaps, BGRA/RGBA camera frames), read in place.
    Pixels(PixelBuffer<'a>),
    /// A YUV 4:2:0 camera frame, read in place.
    Yuv(YuvImage<'a>),
}

impl ImageInput<'_> {
    /// The normalised `[3, 224, 224]` network input.
    fn preprocess(&self) -> Result<Vec<f32>> {
        let rgb = match self {
            ImageInput::Encoded(bytes) => image_input::decode(bytes)?,
            ImageInput::Pixels(pixels) => pixels.to_rgb()?,
            ImageInput::Yuv(frame) => frame.to_rgb()?,
        };
        preprocess::preprocess(&rgb)
    }
}

/// A loaded EfficientFormerV2 ready to classify. `Send + Sync`: share one across threads.
#[derive(Debug)]
pub struct Classifier {
    model: EfficientFormerV2,
    threads: CpuThreads,
    ranking: Ranking,
    embedding: bool,
    info: ModelInfo,
}

impl Classifier {
    /// Loads a model file: timm safetensors, official `.pth`, or an SDK file.
    pub fn from_path(path: &Path, options: ClassifierOptions) -> Result<Classifier> {
        let state = weights::read_path(path)?;
        let untrained = is_seeded(&state);
        Classifier::from_state(state, untrained, options)
    }

    /// Loads a model held in memory (an app asset), in any format [`Classifier::from_path`] reads.
    pub fn from_bytes(bytes: &[u8], options: ClassifierOptions) -> Result<Classifier> {
        let state = weights::read_bytes(bytes)?;
        let untrained = is_seeded(&state);
        Classifier::from_state(state, untrained, options)
    }

    /// The embedded default: EfficientFormerV2-S0 with the seeded weights the tests compare
    /// against PyTorch. Untrained: it runs, and its latency is real, but its predictions mean
    /// nothing.
    pub fn embedded_default(options: ClassifierOptions) -> Result<Classifier> {
        Classifier::from_state(seeded::state_dict(&Config::s0(), seeded::DEFAULT_SEED), true, options)
    }

    /// Builds a classifier from weights already read (`untrained` marks seeded weights).
    pub fn from_state(state: StateDict, untrained: bool, options: ClassifierOptions) -> Result<Classifier> {
        if options.top_k == 0 {
            return Err(Error::InvalidInput("top_k must be at least 1".into()));
        }
        if options.cpu_threads == Some(0) {
            return Err(Error::InvalidInput("cpu_threads must be at least 1".into()));
        }
        if !(0.0..=1.0).contains(&options.score_threshold) {
            return Err(Error::InvalidInput(format!("score_threshold must be within 0-1, got {}", options.score_threshold)));
        }
        let weight_dtype = state.dtype;
        let config = weights::spec::infer_config(&state)?;
        if let Some(expected) = options.expected_variant {
            if config.variant() != expected {
                return Err(Error::WrongVariant { expected: expected.name().into(), found: config.variant().name().into() });
            }
        }
        #[cfg(all(feature = "gpu", any(target_os = "linux", target_os = "android", target_os = "macos", target_os = "windows")))]
        if let Some(dir) = &options.gpu_cache_dir {
            crate::backend::set_gpu_cache_dir(dir.clone());
        }
        let labels = match (options.labels, state.metadata.get(LABELS_KEY)) {
            (None, Some(text)) => Labels::new(Some(Labels::parse_lines(text)), config.num_classes)
                .map_err(|e| Error::InvalidModelFile(format!("its `{LABELS_KEY}` metadata: {e}")))?,
            (given, _) => Labels::new(given, config.num_classes)?,
        };
        let (backend, opened, backend_note) = select_backend(options.backend)?;
        let precision = options.precision.resolve(backend, &opened.device);
        let model = EfficientFormerV2::load(state, Placement { device: opened.device, precision })?;
        let threads = CpuThreads::new(backend, options.cpu_threads)?;
        let info = ModelInfo {
            variant: config.variant(),
            parameters: accounting::parameter_count(&config),
            gmacs: accounting::toolbox_macs(&config) as f64 / 1e9,
            config,
            backend,
            adapter: opened.adapter,
            backend_note,
            weight_dtype,
            untrained,
            cpu_threads: threads.count(),
            precision,
        };
        let ranking = Ranking { top_k: options.top_k, score_threshold: options.score_threshold, labels };
        Ok(Classifier { model, threads, ranking, embedding: options.embedding, info })
    }

    /// What runs.
    pub fn info(&self) -> &ModelInfo {
        &self.info
    }

    /// Runs one inference on a blank image so that GPU shader compilation and autotuning
    /// happen here rather than in the first real call; returns how long it took.
    pub fn prewarm(&self) -> Result<Duration> {
        let start = Instant::now();
        self.logits_unchecked(vec![0.0; 3 * IMAGE_SIZE * IMAGE_SIZE], 1)?;
        Ok(start.elapsed())
    }

    /// Classifies an image in any form the SDK reads.
    pub fn classify(&self, input: ImageInput<'_>) -> Result<Classification> {
        self.classify_cancellable(input, &CancelToken::new())
    }

    /// [`Classifier::classify`], ending with [`Error::Cancelled`] at the next check after
    /// `cancel` is cancelled (before decoding, before the network, and before each stage).
    pub fn classify_cancellable(&self, input: ImageInput<'_>, cancel: &CancelToken) -> Result<Classification> {
        cancel.check()?;
        let values = input.preprocess()?;
        let mut results = self.classify_values(values, 1, cancel)?;
        Ok(results.pop().expect("one image in, one result out"))
    }

    /// Classifies an encoded image (JPEG, PNG, WebP; EXIF orientation applied).
    pub fn classify_encoded(&self, bytes: &[u8]) -> Result<Classification> {
        self.classify(ImageInput::Encoded(bytes))
    }

    /// Classifies a raw pixel buffer (camera frame, bitmap), read in place.
    pub fn classify_pixels(&self, pixels: &PixelBuffer<'_>) -> Result<Classification> {
        self.classify(ImageInput::Pixels(*pixels))
    }

    /// Classifies a YUV 4:2:0 camera frame, read in place.
    pub fn classify_yuv(&self, frame: &YuvImage<'_>) -> Result<Classification> {
        self.classify(ImageInput::Yuv(*frame))
    }

    /// Classifies several encoded images in one batch.
    pub fn classify_encoded_batch(&self, images: &[&[u8]]) -> Result<Vec<Classification>> {
        let mut values = Vec::with_capacity(images.len() * 3 * IMAGE_SIZE * IMAGE_SIZE);
        for bytes in images {
            values.extend(ImageInput::Encoded(bytes).preprocess()?);
        }
        self.classify_values(checked_tensor(&values, images.len())?, images.len(), &CancelToken::new())
    }

    /// Classifies already-normalised images `[batch, 3, 224, 224]` (row-major `f32`).
    pub fn classify_tensor(&self, values: &[f32], batch: usize) -> Result<Vec<Classification>> {
        self.classify_values(checked_tensor(values, batch)?, batch, &CancelToken::new())
    }

    /// One forward pass over checked values, ranked per image.
    fn classify_values(&self, values: Vec<f32>, batch: usize, cancel: &CancelToken) -> Result<Vec<Classification>> {
        cancel.check()?;
        let images = self.images(values, batch);
        let (logits, embedding) = self.run(|| {
            let output = self.model.forward_until(images, self.embedding, &|| cancel.is_cancelled())?;
            Ok::<_, Error>((read_back(output.logits)?, output.embedding.map(read_back).transpose()?))
        })?;
        let logits = self.finite(logits, "logits")?;
        let embedding = embedding.map(|values| self.finite(values, "embedding")).transpose()?;
        let (classes, channels) = (self.info.config.num_classes, self.info.config.widths[NUM_STAGES - 1]);
        Ok((0..batch)
            .map(|i| {
                let row = logits[i * classes..(i + 1) * classes].to_vec();
                let features = embedding.as_ref().map(|e| e[i * channels..(i + 1) * channels].to_vec());
                Classification::from_logits(row, features, &self.ranking, self.info.precision)
            })
            .collect())
    }

    /// The four stage feature maps (backbone mode) of normalised images.
    pub fn features(&self, values: &[f32], batch: usize) -> Result<FeatureMaps> {
        let images = self.images(checked_tensor(values, batch)?, batch);
        let output = self.run(|| self.model.forward_stages(images))?;
        let shapes = std::array::from_fn(|i| output.stages[i].dims());
        let values: Vec<Vec<f32>> = (output.stages.into_iter().enumerate())
            .map(|(i, stage)| self.finite(read_back(stage)?, &format!("stage {i} feature map")))
            .collect::<Result<_>>()?;
        let values = values.try_into().expect("four stages in, four maps out");
        Ok(FeatureMaps { shapes, values })
    }

    /// Raw logits `[batch, classes]` of normalised images `[batch, 3, 224, 224]`.
    pub fn logits(&self, values: &[f32], batch: usize) -> Result<Vec<f32>> {
        self.logits_unchecked(checked_tensor(values, batch)?, batch)
    }

    /// [`Classifier::logits`] without the copy and check, for the probe's timed loop.
    pub(crate) fn logits_unchecked(&self, values: Vec<f32>, batch: usize) -> Result<Vec<f32>> {
        let images = self.images(values, batch);
        let logits = self.run(|| self.model.forward(images).and_then(read_back))?;
        self.finite(logits, "logits")
    }

    /// `values`, or [`Error::NonFiniteOutput`] at their first NaN or infinity: the load check
    /// and the input check rule out non-finite weights and pixels, so one here is an overflow
    /// inside the network or a faulty driver, and the caller gets an error, not a ranking.
    fn finite(&self, values: Vec<f32>, what: &str) -> Result<Vec<f32>> {
        match values.iter().position(|v| !v.is_finite()) {
            None => Ok(values),
            Some(index) => Err(Error::NonFiniteOutput {
                backend: self.info.backend.name().into(),
                what: what.into(),
                index,
                value: values[index],
            }),
        }
    }

    /// One forward pass with per-layer times, for the probe's `--profile`.
    pub(crate) fn layer_times_unchecked(&self, values: Vec<f32>, batch: usize) -> Result<Vec<LayerTime>> {
        let images = self.images(values, batch);
        self.run(|| {
            let (logits, layers) = self.model.forward_profiled(images)?;
            read_back(logits)?;
            Ok(layers)
        })
    }

    fn images(&self, values: Vec<f32>, batch: usize) -> Tensor<4> {
        Tensor::from_data(TensorData::new(values, [batch, 3, IMAGE_SIZE, IMAGE_SIZE]), self.model.device())
    }

    fn run<T: Send>(&self, work: impl FnOnce() -> T + Send) -> T {
        self.threads.run(work)
    }
}

fn read_back<const D: usize>(tensor: Tensor<D>) -> Result<Vec<f32>> {
    let read_error = |e: String| Error::BackendUnavailable { backend: "device".into(), reason: format!("reading results back: {e}") };
    tensor
        .try_into_data()
        .map_err(|e| read_error(format!("{e:?}")))?
        .try_to_vec::<f32>()
        .map_err(|e| read_error(format!("{e:?}")))
}

fn checked_tensor(values: &[f32], batch: usize) -> Result<Vec<f32>> {
    let expected = batch * 3 * IMAGE_SIZE * IMAGE_SIZE;
    if batch == 0 || values.len() != expected {
        return Err(Error::InvalidInput(format!(
            "expected {batch} x 3 x {IMAGE_SIZE} x {IMAGE_SIZE} = {expected} values (batch >= 1), got {}",
            values.len()
        )));
    }
    if let Some(i) = values.iter().position(|v| !v.is_finite()) {
        return Err(Error::InvalidInput(format!("value {i} is {}", values[i])));
    }
    Ok(values.to_vec())
}

/// Whether an SDK file says it holds the seeded, untrained weights.
fn is_seeded(state: &StateDict) -> bool {
    state.metadata.get("source").map(String::as_str) == Some(SEEDED_SOURCE)
}

/// Resolves a [`BackendChoice`] to a backend and its device, with the reason when `Auto` fell
/// back to the CPU.
fn select_backend(choice: BackendChoice) -> Result<(Backend, BackendDevice, Option<String>)> {
    let cpu = || -> Result<Backend> {
        Backend::fastest_cpu()
            .ok_or_else(|| Error::BackendUnavailable { backend: "cpu".into(), reason: "no CPU backend compiled in".into() })
    };
    let exact = |backend: Backend| -> Result<(Backend, BackendDevice, Option<String>)> {
        let opened = backend.open()?;
        if backend.is_gpu() {
            super::self_check::run(&opened.device).map_err(|reason| Error::BackendUnavailable { backend: backend.name().into(), reason })?;
        }
        Ok((backend, opened, None))
    };
    match choice {
        BackendChoice::Exact(backend) => exact(backend),
        BackendChoice::Cpu => exact(cpu()?),
        BackendChoice::Gpu => {
            let backend = gpu()?;
            let opened = backend.open()?;
            if opened.software {
                return Err(Error::BackendUnavailable {
                    backend: backend.name().into(),
                    reason: format!("only a software renderer is available ({})", opened.adapter),
                });
            }
            exact(backend)
        }
        BackendChoice::Auto => {
            let reason = match gpu().and_then(|b| Ok((b, b.open()?))) {
                Ok((_, opened)) if opened.software => format!("only a software renderer is available ({})", opened.adapter),
                Ok((backend, _)) => match exact(backend) {
                    Ok(selected) => return Ok(selected),
                    Err(err) => err.to_string(),
                },
                Err(err) => err.to_string(),
            };
            let (backend, opened, _) = exact(cpu()?)?;
            Ok((backend, opened, Some(format!("GPU not used: {reason}"))))
        }
    }
}

fn gpu() -> Result<Backend> {
    Backend::all()
        .into_iter()
        .find(|b| b.is_gpu())
        .ok_or_else(|| Error::BackendUnavailable { backend: "gpu".into(), reason: "built without the `gpu` feature".into() })
}
