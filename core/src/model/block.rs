//! timm `EfficientFormerV2Block`: `x + ls1 * token_mixer(x)` (attention blocks only), then
//! `x + ls2 * mlp(x)`. Layer scales are folded into the last convolution of each branch.

use burn::tensor::Tensor;

use super::attention::Attention2d;
use super::mlp::ConvMlpWithNorm;
use super::profile::{LayerKind, LayerTimer};
use super::placement::Placement;
use crate::error::Result;
use crate::weights::state_dict::StateDict;

/// One block of a stage.
#[derive(Debug, Clone)]
pub struct EfficientFormerV2Block {
    token_mixer: Option<Attention2d>,
    mlp: ConvMlpWithNorm,
}

/// Where a block sits, as far as its structure depends on it.
#[derive(Debug, Clone, Copy)]
pub enum TokenMixer {
    /// FFN only (stages 0 and 1, and the early blocks of stages 2 and 3).
    None,
    /// `Attention2d` on the block's own 7x7 grid (stage 3).
    Attention,
    /// `Attention2d` with `stride=2`: attends on the 14x14 map subsampled to 7x7 (stage 2).
    StridedAttention,
}

impl EfficientFormerV2Block {
    /// Loads `{prefix}.token_mixer`, `.ls1`, `.mlp`, `.ls2`.
    pub fn load(
        state: &mut StateDict,
        device: &Placement,
        prefix: &str,
        dim: usize,
        mlp_ratio: usize,
        mixer: TokenMixer,
    ) -> Result<EfficientFormerV2Block> {
        let token_mixer = match mixer {
            TokenMixer::None => None,
            TokenMixer::Attention | TokenMixer::StridedAttention => {
                let layer_scale = state.take(&format!("{prefix}.ls1.gamma"), &[dim])?.values;
                let strided = matches!(mixer, TokenMixer::StridedAttention);
                let mixer_prefix = format!("{prefix}.token_mixer");
                Some(Attention2d::load(state, device, &mixer_prefix, dim, strided, &layer_scale)?)
            }
        };
        let layer_scale = state.take(&format!("{prefix}.ls2.gamma"), &[dim])?.values;
        let mlp_prefix = format!("{prefix}.mlp");
        let mlp = ConvMlpWithNorm::load(state, device, &mlp_prefix, dim, dim * mlp_ratio, &layer_scale)?;
        Ok(EfficientFormerV2Block { token_mixer, mlp })
    }

    /// The block's residual updates.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let x = match &self.token_mixer {
            Some(mixer) => mixer.forward_residual(x),
            None => x,
        };
        self.mlp.forward_residual(x)
    }

    /// [`EfficientFormerV2Block::forward`], booking the token mixer and the FFN separately.
    pub fn forward_profiled(&self, x: Tensor<4>, stage: usize, timer: &mut LayerTimer) -> Tensor<4> {
        let x = match &self.token_mixer {
            Some(mixer) => timer.lap(Some(stage), LayerKind::Attention, mixer.forward_residual(x)),
            None => x,
        };
        timer.lap(Some(stage), LayerKind::Ffn, self.mlp.forward_residual(x))
    }
}
