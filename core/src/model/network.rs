//! timm `EfficientFormerV2`: `Stem4`, four `EfficientFormerV2Stage`s, and the folded classifier
//! head. [`EfficientFormerV2::forward_stages`] is the backbone mode (timm `features_only`,
//! the official repo's `fork_feat`) for detection and segmentation users.

use burn::tensor::{Device, FloatDType, Tensor};

use super::head::{ClassifierHead, HeadOutput};
use super::placement::Placement;
use super::profile::{LayerKind, LayerTime, LayerTimer};
use super::stage::EfficientFormerV2Stage;
use super::stem::Stem4;
use crate::config::{Config, IMAGE_SIZE, NUM_STAGES};
use crate::error::{Error, Result};
use crate::fused;
use crate::weights::spec;
use crate::weights::state_dict::StateDict;

/// A loaded network on one device, inference only (BatchNorm, layer scales and the two heads
/// are folded into the convolutions and one linear layer at load time).
#[derive(Debug, Clone)]
pub struct EfficientFormerV2 {
    config: Config,
    placement: Placement,
    stem: Stem4,
    stages: Vec<EfficientFormerV2Stage>,
    head: ClassifierHead,
}

/// Logits and the four stage outputs of one forward pass.
#[derive(Debug, Clone)]
pub struct ForwardOutput {
    /// `[B, classes]`.
    pub logits: Tensor<2>,
    /// Stage outputs, strides 4, 8, 16, 32: `[B, widths[i], 56 >> i, 56 >> i]`.
    pub stages: [Tensor<4>; NUM_STAGES],
}

impl EfficientFormerV2 {
    /// Builds the network `state` describes on `placement`'s device (a plain `&Device`: `f32`),
    /// its weights in the placement's precision, already resolved for the device ([`crate::Precision::resolve`]):
    /// the config is inferred from the tensors' shapes, then every tensor is checked against
    /// it.
    pub fn load(mut state: StateDict, placement: impl Into<Placement>) -> Result<EfficientFormerV2> {
        let placement = placement.into();
        let device = &placement;
        let config = spec::infer_config(&state)?;
        spec::check_tensors(&state, &config)?;
        let stem = Stem4::load(&mut state, device, config.widths[0])?;
        let stages = (0..NUM_STAGES)
            .map(|stage| EfficientFormerV2Stage::load(&mut state, device, &config, stage))
            .collect::<Result<_>>()?;
        let head = ClassifierHead::load(&mut state, device, config.widths[3], config.num_classes)?;
        Ok(EfficientFormerV2 { config, placement, stem, stages, head })
    }

    /// The architecture that was loaded.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The device the weights live on.
    pub fn device(&self) -> &Device {
        &self.placement.device
    }

    /// The precision the weights are stored and the CPU kernels compute in.
    pub fn precision(&self) -> crate::Precision {
        self.placement.precision
    }

    /// Logits `[B, classes]` for normalised images `[B, 3, 224, 224]`.
    pub fn forward(&self, images: Tensor<4>) -> Result<Tensor<2>> {
        Ok(self.forward_until(images, false, &|| false)?.logits)
    }

    /// Logits, and the pooled embedding `[B, channels]` when `embed` is set; checks
    /// `cancelled` before each stage and stops with [`Error::Cancelled`] once it is true (on a
    /// GPU, work already queued still runs).
    pub fn forward_until(&self, images: Tensor<4>, embed: bool, cancelled: &dyn Fn() -> bool) -> Result<HeadOutput> {
        check_input(&images)?;
        let mut x = self.stem.forward(self.placement.cast(images));
        for stage in &self.stages {
            if cancelled() {
                return Err(Error::Cancelled);
            }
            x = stage.forward(x);
        }
        Ok(self.head.forward_with(x, embed))
    }

    /// Logits and the four stage feature maps (in `f32`, whatever the precision).
    pub fn forward_stages(&self, images: Tensor<4>) -> Result<ForwardOutput> {
        check_input(&images)?;
        let mut x = self.stem.forward(self.placement.cast(images));
        let stages: [Tensor<4>; NUM_STAGES] = std::array::from_fn(|i| {
            x = self.stages[i].forward(x.clone());
            fused::convert(x.clone(), FloatDType::F32)
        });
        Ok(ForwardOutput { logits: self.head.forward(x), stages })
    }

    /// Logits and the time each stage spent in each kind of module ([`super::profile`]).
    pub fn forward_profiled(&self, images: Tensor<4>) -> Result<(Tensor<2>, Vec<LayerTime>)> {
        check_input(&images)?;
        let mut timer = LayerTimer::start(&self.placement.device);
        let mut x = timer.lap(None, LayerKind::Stem, self.stem.forward(self.placement.cast(images)));
        for (index, stage) in self.stages.iter().enumerate() {
            x = stage.forward_profiled(x, index, &mut timer);
        }
        let logits = timer.lap(None, LayerKind::Head, self.head.forward(x));
        Ok((logits, timer.finish()))
    }
}

fn check_input(images: &Tensor<4>) -> Result<()> {
    let [batch, channels, height, width] = images.dims();
    if batch == 0 || channels != 3 || height != IMAGE_SIZE || width != IMAGE_SIZE {
        return Err(Error::InvalidInput(format!(
            "expected images of shape [B>=1, 3, {IMAGE_SIZE}, {IMAGE_SIZE}], got {:?}",
            images.dims()
        )));
    }
    Ok(())
}
