//! timm `EfficientFormerV2Stage`: an optional `Downsample`, then the stage's blocks.

use burn::tensor::Tensor;

use super::block::{EfficientFormerV2Block, TokenMixer};
use super::downsample::Downsample;
use super::profile::{LayerKind, LayerTimer};
use super::placement::Placement;
use crate::config::Config;
use crate::error::Result;
use crate::weights::state_dict::StateDict;

/// One of the four stages.
#[derive(Debug, Clone)]
pub struct EfficientFormerV2Stage {
    downsample: Option<Downsample>,
    blocks: Vec<EfficientFormerV2Block>,
}

impl EfficientFormerV2Stage {
    /// Loads `stages.{stage}` of `config`.
    pub fn load(
        state: &mut StateDict,
        device: &Placement,
        config: &Config,
        stage: usize,
    ) -> Result<EfficientFormerV2Stage> {
        let dim = config.widths[stage];
        let downsample = if stage > 0 {
            let prefix = format!("stages.{stage}.downsample");
            let in_chs = config.widths[stage - 1];
            Some(Downsample::load(state, device, &prefix, in_chs, dim, stage == 3)?)
        } else {
            None
        };
        let blocks = config.mlp_ratios[stage]
            .iter()
            .enumerate()
            .map(|(block, &ratio)| {
                let mixer = match (config.block_uses_attention(stage, block), stage) {
                    (false, _) => TokenMixer::None,
                    (true, 2) => TokenMixer::StridedAttention,
                    (true, _) => TokenMixer::Attention,
                };
                let prefix = format!("stages.{stage}.blocks.{block}");
                EfficientFormerV2Block::load(state, device, &prefix, dim, ratio, mixer)
            })
            .collect::<Result<_>>()?;
        Ok(EfficientFormerV2Stage { downsample, blocks })
    }

    /// Runs the stage.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let x = match &self.downsample {
            Some(downsample) => downsample.forward(x),
            None => x,
        };
        self.blocks.iter().fold(x, |x, block| block.forward(x))
    }

    /// [`EfficientFormerV2Stage::forward`], booking each module's time to stage `index`.
    pub fn forward_profiled(&self, x: Tensor<4>, index: usize, timer: &mut LayerTimer) -> Tensor<4> {
        let x = match &self.downsample {
            Some(downsample) => {
                let kind = if downsample.has_attention() { LayerKind::AttentionDownsample } else { LayerKind::Downsample };
                timer.lap(Some(index), kind, downsample.forward(x))
            }
            None => x,
        };
        self.blocks.iter().fold(x, |x, block| block.forward_profiled(x, index, timer))
    }
}
