//! timm `Downsample`: a 3x3 stride-2 `ConvNorm` between stages, plus `Attention2dDownsample`
//! added to it before the last stage.

use burn::tensor::Tensor;

use super::attention_downsample::Attention2dDownsample;
use super::conv::{Conv, HostConv};
use super::placement::Placement;
use crate::error::Result;
use crate::weights::state_dict::StateDict;

/// The stride-2 entry of stages 1-3.
#[derive(Debug, Clone)]
pub struct Downsample {
    conv: Conv,
    attn: Option<Attention2dDownsample>,
}

impl Downsample {
    /// Loads `{prefix}.conv` (and `{prefix}.attn` when `use_attn`).
    pub fn load(
        state: &mut StateDict,
        device: &Placement,
        prefix: &str,
        in_chs: usize,
        out_chs: usize,
        use_attn: bool,
    ) -> Result<Downsample> {
        let conv = HostConv::load_conv_norm(state, &format!("{prefix}.conv"), [out_chs, in_chs, 3], 2, 1)?;
        let attn = if use_attn {
            let attn_prefix = format!("{prefix}.attn");
            Some(Attention2dDownsample::load(state, device, &attn_prefix, in_chs, out_chs)?)
        } else {
            None
        };
        Ok(Downsample { conv: conv.to_device(device), attn })
    }

    /// Whether this is the last stage's attention downsample.
    pub fn has_attention(&self) -> bool {
        self.attn.is_some()
    }

    /// `conv(x)`, plus `attn(x)` in the last stage.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        match &self.attn {
            Some(attn) => attn.forward_residual(x.clone(), self.conv.forward(x)),
            None => self.conv.forward(x),
        }
    }
}
